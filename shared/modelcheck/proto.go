package modelcheck

import (
	"fmt"
	"sort"
	"strings"

	"google.golang.org/protobuf/encoding/protowire"
)

// The few fields of onnx.proto and TensorFlow's saved_model.proto the
// checks read, decoded with protowire rather than generated types: the
// models' full schemas are large and only these numbers matter.

// fields decodes one message into field number -> raw values (bytes for
// length-delimited fields, varints as uint64), checking the wire format.
type fields map[protowire.Number][]any

func parseMsg(b []byte) (fields, error) {
	f := fields{}
	for len(b) > 0 {
		num, typ, n := protowire.ConsumeTag(b)
		if n < 0 {
			return nil, protowire.ParseError(n)
		}
		b = b[n:]
		var v any
		switch typ {
		case protowire.VarintType:
			x, m := protowire.ConsumeVarint(b)
			n, v = m, x
		case protowire.BytesType:
			x, m := protowire.ConsumeBytes(b)
			n, v = m, x
		default:
			n = protowire.ConsumeFieldValue(num, typ, b)
		}
		if n < 0 {
			return nil, protowire.ParseError(n)
		}
		b = b[n:]
		if v != nil {
			f[num] = append(f[num], v)
		}
	}
	return f, nil
}

func (f fields) str(n protowire.Number) string {
	if v := f[n]; len(v) > 0 {
		if b, ok := v[len(v)-1].([]byte); ok {
			return string(b)
		}
	}
	return ""
}

func (f fields) int(n protowire.Number) int64 {
	if v := f[n]; len(v) > 0 {
		if x, ok := v[len(v)-1].(uint64); ok {
			return int64(x)
		}
	}
	return 0
}

func (f fields) msgs(n protowire.Number) []fields {
	var out []fields
	for _, v := range f[n] {
		if b, ok := v.([]byte); ok {
			if m, err := parseMsg(b); err == nil {
				out = append(out, m)
			}
		}
	}
	return out
}

func (f fields) strs(n protowire.Number) []string {
	var out []string
	for _, v := range f[n] {
		if b, ok := v.([]byte); ok {
			out = append(out, string(b))
		}
	}
	return out
}

// looksONNX: a ModelProto starts with ir_version (field 1, varint) and
// parses as a message with a graph (field 7).
func looksONNX(b []byte) bool {
	if len(b) < 2 || b[0] != 0x08 {
		return false
	}
	f, err := parseMsg(b)
	return err == nil && len(f[7]) > 0
}

// onnxElemTypes names TensorProto.DataType values.
var onnxElemTypes = map[int64]string{1: "float32", 2: "uint8", 3: "int8", 4: "uint16", 5: "int16", 6: "int32",
	7: "int64", 8: "string", 9: "bool", 10: "float16", 11: "float64", 12: "uint32", 13: "uint64", 16: "bfloat16"}

// checkONNX reads ModelProto: ir_version (1), producer_name (2),
// opset_import (8: domain 1, version 2), graph (7: node 1 {op_type 4,
// domain 7}, initializer 5 {name 8, data_location 14, external_data 13},
// input 11 / output 12 {name 1, type 2 {tensor_type 1 {elem_type 1}}}).
// Graphs whose tensors live in external files, and operators outside the
// standard domains (custom ops need a custom runtime), are rejected.
func checkONNX(r *Report, data []byte) {
	r.Format, r.Framework = FormatONNX, FrameworkONNX
	m, err := parseMsg(data)
	if err != nil || len(m[7]) == 0 {
		r.reject("", fmt.Sprintf("not an ONNX model (ModelProto with a graph): %v", err))
		return
	}
	r.detail("ir_version", m.int(1))
	r.detail("producer", m.str(2))
	opsets := map[string]int64{}
	for _, o := range m.msgs(8) {
		d := o.str(1)
		if d == "" {
			d = "ai.onnx"
		}
		opsets[d] = o.int(2)
	}
	if len(opsets) == 0 {
		r.reject("", "ONNX model declares no opset")
	}
	r.detail("opsets", opsets)
	g := m.msgs(7)
	if len(g) == 0 {
		r.reject("", "ONNX graph does not parse")
		return
	}
	graph := g[0]
	ops := map[string]int{}
	for _, n := range graph.msgs(1) {
		d := n.str(7)
		switch d {
		case "", "ai.onnx", "ai.onnx.ml":
		default:
			r.reject("", fmt.Sprintf("operator %s of custom domain %q needs a custom runtime", n.str(4), d))
		}
		ops[n.str(4)]++
	}
	if len(ops) == 0 {
		r.reject("", "ONNX graph has no nodes")
	}
	r.detail("operators", ops)
	inits := map[string]bool{}
	for _, t := range graph.msgs(5) {
		inits[t.str(8)] = true
		if t.int(14) == 1 || len(t[13]) > 0 {
			r.reject("", fmt.Sprintf("initializer %q keeps its data in an external file", t.str(8)))
		}
	}
	for _, in := range graph.msgs(11) {
		name := in.str(1)
		if inits[name] {
			continue // a weight listed as an input (older exporters)
		}
		kind := ""
		if tp := in.msgs(2); len(tp) > 0 {
			if tt := tp[0].msgs(1); len(tt) > 0 {
				kind = onnxElemTypes[tt[0].int(1)]
			}
		}
		r.Inputs = append(r.Inputs, Input{Name: name, Kind: kind})
	}
	r.Outputs = len(graph.msgs(12))
}

// hostOps are TensorFlow ops that run Python or touch the host's files; a
// SavedModel that uses them is rejected. (SaveV2/RestoreV2 read and write
// the model's own variables and are allowed.)
var hostOps = setOf("PyFunc", "PyFuncStateless", "EagerPyFunc", "WriteFile", "ReadFile", "MatchingFiles",
	"DeleteFile", "ImmutableConst", "LoadAndRemapMatrix")

// checkSavedModel reads saved_model.pb: SavedModel {schema version 1,
// meta_graphs 2 {meta_info_def 1 {tags 4}, graph_def 2 {node 1 {op 2},
// library 2 {function 1 {node_def 3 {op 2}}}}, signature_def 5 (map: key 1)}}
// and checks the variables the graph restores are present.
func checkSavedModel(r *Report, files []member) {
	r.Format, r.Framework = FormatSavedModel, FrameworkTensorFlow
	var pb []byte
	var root string
	for _, f := range files {
		if path := "/" + f.name; strings.HasSuffix(path, "/saved_model.pb") {
			pb, root = f.data, strings.TrimSuffix(f.name, "saved_model.pb")
		}
	}
	if pb == nil {
		r.reject("", "text SavedModels (saved_model.pbtxt) are not accepted; upload saved_model.pb")
		return
	}
	m, err := parseMsg(pb)
	if err != nil {
		r.reject("saved_model.pb", "does not parse: "+err.Error())
		return
	}
	mgs := m.msgs(2)
	if len(mgs) == 0 {
		r.reject("saved_model.pb", "has no meta graph")
		return
	}
	var tags, sigs []string
	ops := map[string]bool{}
	for _, mg := range mgs {
		for _, mi := range mg.msgs(1) {
			tags = append(tags, mi.strs(4)...)
		}
		for _, e := range mg.msgs(5) {
			sigs = append(sigs, e.str(1))
		}
		for _, gd := range mg.msgs(2) {
			for _, n := range gd.msgs(1) {
				ops[n.str(2)] = true
			}
			for _, lib := range gd.msgs(2) {
				for _, fn := range lib.msgs(1) {
					for _, n := range fn.msgs(3) {
						ops[n.str(2)] = true
					}
				}
			}
		}
	}
	if !contains(tags, "serve") {
		r.reject("saved_model.pb", fmt.Sprintf("no meta graph tagged \"serve\" (tags %v)", tags))
	}
	if len(sigs) == 0 {
		r.reject("saved_model.pb", "no serving signature")
	}
	var bad []string
	for op := range ops {
		if hostOps[op] {
			bad = append(bad, op)
		}
	}
	sort.Strings(bad)
	for _, op := range bad {
		r.reject("saved_model.pb", fmt.Sprintf("uses op %s, which runs Python or touches the host's files", op))
	}
	if ops["RestoreV2"] || ops["VarHandleOp"] || ops["VariableV2"] {
		idx := false
		for _, f := range files {
			if f.name == root+"variables/variables.index" {
				idx = true
			}
		}
		if !idx {
			r.reject("", "the graph restores variables but variables/variables.index is missing")
		}
	}
	sort.Strings(sigs)
	r.detail("tags", tags)
	r.detail("signatures", sigs)
	r.detail("ops", len(ops))
}

func contains(s []string, v string) bool {
	for _, x := range s {
		if x == v {
			return true
		}
	}
	return false
}
