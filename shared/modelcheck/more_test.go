package modelcheck

import (
	"archive/tar"
	"archive/zip"
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"google.golang.org/protobuf/encoding/protowire"

	"synthos.dev/synthos/shared/profile"
)

func TestONNXReadsGraph(t *testing.T) {
	t.Parallel()
	b, err := os.ReadFile(filepath.Join("testdata", "benign", "tiny.onnx"))
	if err != nil {
		t.Fatal(err)
	}
	r := Check(b, "tiny.onnx", DefaultLimits)
	if !r.OK() || r.Format != FormatONNX {
		t.Fatalf("%s: %s", r.Format, r.Reason())
	}
	// gen_corpus.py: inputs age and bmi (float), opset 13, nodes Add and Mul.
	if len(r.Inputs) != 2 || r.Inputs[0] != (Input{"age", "float32"}) || r.Inputs[1].Name != "bmi" {
		t.Errorf("inputs %v", r.Inputs)
	}
	if r.Details["opsets"].(map[string]int64)["ai.onnx"] != 13 {
		t.Errorf("opsets %v", r.Details["opsets"])
	}
	if ops := r.Details["operators"].(map[string]int); ops["Add"] != 1 || ops["Mul"] != 1 {
		t.Errorf("operators %v", ops)
	}
	// A custom-domain operator is rejected: append a node to the graph.
	node := protowire.AppendTag(nil, 4, protowire.BytesType)
	node = protowire.AppendString(node, "Evil")
	node = protowire.AppendTag(node, 7, protowire.BytesType)
	node = protowire.AppendString(node, "com.example")
	bad := withGraphNode(t, b, node)
	if r := Check(bad, "x.onnx", DefaultLimits); r.OK() || !strings.Contains(r.Reason(), "custom domain") {
		t.Errorf("custom op: %s", r.Reason())
	}
}

// withGraphNode re-encodes a ModelProto with one more node in its graph.
func withGraphNode(t *testing.T, model, node []byte) []byte {
	var out []byte
	b := model
	for len(b) > 0 {
		num, typ, n := protowire.ConsumeTag(b)
		m := protowire.ConsumeFieldValue(num, typ, b[n:])
		if num == 7 {
			g, _ := protowire.ConsumeBytes(b[n:])
			g = protowire.AppendTag(append([]byte(nil), g...), 1, protowire.BytesType)
			g = protowire.AppendBytes(g, node)
			out = protowire.AppendTag(out, 7, protowire.BytesType)
			out = protowire.AppendBytes(out, g)
		} else {
			out = append(out, b[:n+m]...)
		}
		b = b[n+m:]
	}
	return out
}

// savedModelPB writes a SavedModel with one meta graph: tags, a signature,
// and nodes with the given ops (one in the graph, the rest in a library
// function, where TF2 puts them).
func savedModelPB(tags []string, sig string, ops ...string) []byte {
	msg := func(num protowire.Number, body []byte, to []byte) []byte {
		to = protowire.AppendTag(to, num, protowire.BytesType)
		return protowire.AppendBytes(to, body)
	}
	str := func(num protowire.Number, s string, to []byte) []byte {
		to = protowire.AppendTag(to, num, protowire.BytesType)
		return protowire.AppendString(to, s)
	}
	var info []byte
	for _, tg := range tags {
		info = str(4, tg, info)
	}
	var graph, fn []byte
	for i, op := range ops {
		nd := str(2, op, str(1, "n", nil))
		if i == 0 {
			graph = msg(1, nd, graph)
		} else {
			fn = msg(3, nd, fn)
		}
	}
	graph = msg(2, msg(1, fn, nil), graph)
	mg := msg(1, info, nil)
	mg = msg(2, graph, mg)
	if sig != "" {
		mg = msg(5, str(1, sig, nil), mg)
	}
	sm := protowire.AppendTag(nil, 1, protowire.VarintType)
	sm = protowire.AppendVarint(sm, 1)
	return msg(2, mg, sm)
}

func zipOf(t *testing.T, files map[string][]byte) []byte {
	var buf bytes.Buffer
	z := zip.NewWriter(&buf)
	for n, b := range files {
		w, err := z.Create(n)
		if err != nil {
			t.Fatal(err)
		}
		w.Write(b)
	}
	if err := z.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func tarOf(t *testing.T, files map[string][]byte) []byte {
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for n, b := range files {
		tw.WriteHeader(&tar.Header{Name: n, Mode: 0o644, Size: int64(len(b)), Typeflag: tar.TypeReg})
		tw.Write(b)
	}
	tw.Close()
	return buf.Bytes()
}

// TestSavedModel: crafted SavedModels (no TensorFlow package in Debian):
// a good one passes as zip and as tar; structural faults and host ops are
// named.
func TestSavedModel(t *testing.T) {
	t.Parallel()
	vars := map[string][]byte{"m/variables/variables.index": {1}, "m/variables/variables.data-00000-of-00001": {2}}
	with := func(pb []byte, extra map[string][]byte) map[string][]byte {
		f := map[string][]byte{"m/saved_model.pb": pb}
		for k, v := range extra {
			f[k] = v
		}
		return f
	}
	good := savedModelPB([]string{"serve"}, "serving_default", "Placeholder", "MatMul", "RestoreV2")
	cases := []struct {
		name  string
		files map[string][]byte
		want  string // "" = accepted
	}{
		{"good", with(good, vars), ""},
		{"no serve tag", with(savedModelPB([]string{"train"}, "serving_default", "MatMul"), vars), `tagged "serve"`},
		{"no signature", with(savedModelPB([]string{"serve"}, "", "MatMul"), vars), "no serving signature"},
		{"pyfunc", with(savedModelPB([]string{"serve"}, "s", "MatMul", "EagerPyFunc"), vars), "EagerPyFunc"},
		{"writefile", with(savedModelPB([]string{"serve"}, "s", "WriteFile"), vars), "WriteFile"},
		{"no variables", with(good, nil), "variables.index is missing"},
		{"garbage pb", with([]byte{0xff, 0xff, 0xff}, vars), "does not parse"},
	}
	for _, c := range cases {
		for kind, data := range map[string][]byte{"zip": zipOf(t, c.files), "tar": tarOf(t, c.files)} {
			r := Check(data, "model."+kind, DefaultLimits)
			if r.Format != FormatSavedModel {
				t.Errorf("%s/%s: format %s", c.name, kind, r.Format)
			}
			if c.want == "" && !r.OK() || c.want != "" && !strings.Contains(r.Reason(), c.want) {
				t.Errorf("%s/%s: reason %q, want %q", c.name, kind, r.Reason(), c.want)
			}
		}
	}
}

func TestArchiveAndLimits(t *testing.T) {
	t.Parallel()
	lim := DefaultLimits
	cases := []struct {
		name string
		data []byte
		lim  Limits
		want string
	}{
		{"zip slip", zipOf(t, map[string][]byte{"../../etc/cron.d/x": []byte("x"), "a/data.pkl": []byte("\x80\x02N.")}), lim, "escapes the archive"},
		{"too big", bytes.Repeat([]byte("x"), 100), Limits{MaxBytes: 10}, "over the limit"},
		{"unpacked too big", zipOf(t, map[string][]byte{"a/data.pkl": bytes.Repeat([]byte{0}, 5000)}), Limits{MaxBytes: 1 << 20, MaxUnpacked: 1000, MaxEntries: 10}, "more than 1000 bytes"},
		{"unknown", []byte("hello, world"), lim, "not a model format"},
		{"empty", nil, lim, "empty"},
		{"zip without model", zipOf(t, map[string][]byte{"readme.txt": []byte("hi")}), lim, "not a PyTorch"},
		{"torch without version", zipOf(t, map[string][]byte{"a/data.pkl": []byte("\x80\x02N.")}), lim, "without a version"},
		{"broken xgboost", []byte(`{"learner":{"gradient_booster":{"name":"gbtree","model":{"trees":[],"tree_info":[]}},"learner_model_param":{"num_feature":"0"}}}`), lim, "num_feature"},
	}
	for _, c := range cases {
		if r := Check(c.data, "upload", c.lim); r.OK() || !strings.Contains(r.Reason(), c.want) {
			t.Errorf("%s: reason %q, want %q", c.name, r.Reason(), c.want)
		}
	}
}

func TestEnsembleInputs(t *testing.T) {
	t.Parallel()
	b, err := os.ReadFile(filepath.Join("..", "ensemble", "testdata", "xgb_insurance_regression.json"))
	if err != nil {
		t.Fatal(err)
	}
	r := Check(b, "m.json", DefaultLimits)
	if !r.OK() || !r.Servable || r.Framework != "xgboost" || r.Task != "regression" || len(r.Inputs) != 6 {
		t.Fatalf("%+v", r)
	}
	p := &profile.Profile{Columns: []profile.Column{
		{Name: "age", Kind: profile.Numeric, Integer: true}, {Name: "sex", Kind: profile.Categorical},
		{Name: "bmi", Kind: profile.Text}, {Name: "smoker", Kind: profile.Boolean},
		{Name: "charges", Kind: profile.Numeric}, {Name: "notes", Kind: profile.Text},
	}}
	m := MatchInputs(r.Inputs, p, "charges")
	// children and region are absent; bmi is text where the model wants numbers.
	if strings.Join(m.Missing, ",") != "children,region" || len(m.Mismatched) != 1 ||
		!strings.HasPrefix(m.Mismatched[0], "bmi: model numeric, dataset text") || strings.Join(m.Extra, ",") != "notes" || m.OK() {
		t.Errorf("%+v", m)
	}
}

func FuzzScanPickle(f *testing.F) {
	for _, n := range []string{"benign/sk_gbm_p4.pkl", "malicious/stack_global_memo.pkl", "benign/sk_logreg.joblib"} {
		b, err := os.ReadFile(filepath.Join("testdata", n))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		ScanPickle(b, "", AllowSklearn)
	})
}
