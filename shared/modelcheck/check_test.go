package modelcheck

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func readDir(t *testing.T, dir string) map[string][]byte {
	t.Helper()
	ents, err := os.ReadDir(filepath.Join("testdata", dir))
	if err != nil || len(ents) == 0 {
		t.Fatalf("corpus missing (run testdata/gen_corpus.py): %v", err)
	}
	out := map[string][]byte{}
	for _, e := range ents {
		b, err := os.ReadFile(filepath.Join("testdata", dir, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		out[e.Name()] = b
	}
	return out
}

// TestMaliciousCorpus: every payload of testdata/malicious is rejected,
// and for the ones that name a dangerous callable, the finding names it.
func TestMaliciousCorpus(t *testing.T) {
	t.Parallel()
	names := map[string]string{ // file -> substring the findings must mention
		"os_system_p0.pkl": "system", "os_system_p2.pkl": "system", "os_system_p4.pkl": "system",
		"subprocess_popen.pkl": "subprocess.Popen", "subprocess_check_output.pkl": "check_output",
		"builtins_eval.pkl": "builtins.eval", "builtins_exec.pkl": "builtins.exec", "os_popen.pkl": "popen",
		"builtin_eval_p0.pkl": "__builtin__.eval", "inst_os_system.pkl": "os.system", "obj_os_system.pkl": "os.system",
		"getattr_import.pkl": "builtins.getattr", "stack_global_memo.pkl": "builtins.getattr",
		"call_of_call.pkl": "computed callable", "dotted_name.pkl": "Bunch.__init__.__globals__",
		"sklearn_testing.pkl": "assert_run_python_script", "numpy_runstring.pkl": "runstring",
		"runpy.pkl": "runpy._run_code", "stack_global_computed.pkl": "not a plain string",
		"ext1.pkl": "extension registry", "truncated.pkl": "unparseable",
		"torch_data_pkl.pt": "system", "torch_nested_pkl.pt": "payload.pkl", "torch_nested_zip.pt": "inner.zip!/inner/data.pkl",
		"torch_load_from_bytes.pt": "torch.storage._load_from_bytes", "joblib_object_array.joblib": "system",
	}
	corpus := readDir(t, "malicious")
	for name, data := range corpus {
		r := Check(data, name, DefaultLimits)
		if r.OK() {
			t.Errorf("%s: accepted (format %s, globals %v)", name, r.Format, r.Globals)
			continue
		}
		var all []string
		for _, f := range r.Findings {
			all = append(all, f.String())
		}
		want, ok := names[name]
		if !ok {
			t.Errorf("%s: no expectation in the test (findings %v)", name, all)
		} else if !strings.Contains(strings.Join(all, "; "), want) {
			t.Errorf("%s: findings %v do not mention %q", name, all, want)
		}
	}
	for name := range names {
		if _, ok := corpus[name]; !ok {
			t.Errorf("%s: missing from the corpus", name)
		}
	}
}

// TestBenignCorpus: real scikit-learn (1.2.1), XGBoost-sklearn (1.7.4),
// joblib (plain and compressed), PyTorch (1.13) state dicts, modules and
// TorchScript, and ONNX models pass.
func TestBenignCorpus(t *testing.T) {
	t.Parallel()
	for name, data := range readDir(t, "benign") {
		r := Check(data, name, DefaultLimits)
		if !r.OK() {
			t.Errorf("%s (%s): rejected: %s", name, r.Format, r.Reason())
			continue
		}
		want := map[string]string{".pkl": FrameworkSklearn, ".joblib": FrameworkSklearn, ".pt": FrameworkPyTorch, ".onnx": FrameworkONNX}[filepath.Ext(name)]
		if r.Framework != want {
			t.Errorf("%s: framework %s, want %s", name, r.Framework, want)
		}
		if strings.HasPrefix(name, "xgb_") && r.Details["estimator_framework"] != "xgboost" {
			t.Errorf("%s: XGBoost estimator not noticed", name)
		}
	}
}
