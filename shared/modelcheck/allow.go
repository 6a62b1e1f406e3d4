package modelcheck

import (
	"sort"
	"strings"
)

// The allow-lists name what benign model pickles import. They are exact
// names, except two module prefixes whose classes (CamelCase names) are
// allowed: sklearn's estimators, and xgboost's sklearn wrappers. Functions
// in those packages are not allowed by prefix: some run processes
// (sklearn.utils._testing.assert_run_python_script).

var safeGlobals = setOf(
	// Python containers and scalars, and pickle's own helpers.
	"builtins.set", "builtins.frozenset", "builtins.dict", "builtins.list", "builtins.tuple",
	"builtins.bytearray", "builtins.bytes", "builtins.slice", "builtins.complex", "builtins.float",
	"builtins.int", "builtins.bool", "builtins.str", "builtins.object", "builtins.range",
	"__builtin__.set", "__builtin__.frozenset", "__builtin__.dict", "__builtin__.list",
	"__builtin__.tuple", "__builtin__.bytearray", "__builtin__.slice", "__builtin__.complex",
	"__builtin__.float", "__builtin__.int", "__builtin__.bool", "__builtin__.object",
	"copyreg._reconstructor", "copy_reg._reconstructor", "_codecs.encode",
	"collections.OrderedDict", "collections.defaultdict", "collections.Counter",
	"datetime.datetime", "datetime.date", "datetime.timedelta", "decimal.Decimal",
	// numpy arrays, dtypes, scalars and random states.
	"numpy.ndarray", "numpy.dtype", "numpy.core.multiarray._reconstruct", "numpy.core.multiarray.scalar",
	"numpy._core.multiarray._reconstruct", "numpy._core.multiarray.scalar",
	"numpy.core.numeric._frombuffer", "numpy._core.numeric._frombuffer",
	"numpy.random._pickle.__randomstate_ctor", "numpy.random._pickle.__bit_generator_ctor",
	"numpy.random._pickle.__generator_ctor", "numpy.random.mtrand.RandomState",
	"numpy.random._mt19937.MT19937", "numpy.random._pcg64.PCG64",
	"numpy.random.__RandomState_ctor",
	// numpy scalar types (estimators keep dtype=np.float64 parameters).
	"numpy.float64", "numpy.float32", "numpy.float16", "numpy.int64", "numpy.int32", "numpy.int16",
	"numpy.int8", "numpy.uint64", "numpy.uint32", "numpy.uint16", "numpy.uint8", "numpy.bool_",
	"numpy.object_", "numpy.str_", "numpy.bytes_", "numpy.complex128", "numpy.complex64",
	// scipy sparse matrices (sklearn keeps some).
	"scipy.sparse._csr.csr_matrix", "scipy.sparse._csc.csc_matrix", "scipy.sparse.csr.csr_matrix",
	"scipy.sparse.csc.csc_matrix",
	// joblib's array wrapper (its bytes follow in the file; see pickle.go).
	"joblib.numpy_pickle.NumpyArrayWrapper",
	// XGBoost's Booster pickles its model as a bytearray.
	"xgboost.core.Booster",
)

// torchGlobals are what torch.save's data.pkl imports for tensors,
// parameters and state dicts.
var torchGlobals = setOf(
	"torch._utils._rebuild_tensor", "torch._utils._rebuild_tensor_v2", "torch._utils._rebuild_parameter",
	"torch._utils._rebuild_parameter_with_state", "torch._utils._rebuild_qtensor",
	"torch._utils._rebuild_sparse_tensor", "torch._tensor._rebuild_from_type_v2",
	"torch.FloatStorage", "torch.DoubleStorage", "torch.HalfStorage", "torch.BFloat16Storage",
	"torch.LongStorage", "torch.IntStorage", "torch.ShortStorage", "torch.CharStorage",
	"torch.ByteStorage", "torch.BoolStorage", "torch.storage.UntypedStorage", "torch.storage.TypedStorage",
	"torch.float32", "torch.float64", "torch.float16", "torch.bfloat16", "torch.int64", "torch.int32",
	"torch.int16", "torch.int8", "torch.uint8", "torch.bool", "torch.device", "torch.Size",
	"torch.nn.modules.container.Sequential", "torch.nn.modules.linear.Linear",
	"torch.nn.modules.activation.ReLU", "torch.nn.modules.activation.Sigmoid",
	"torch.nn.modules.activation.Softmax", "torch.nn.modules.dropout.Dropout",
	"torch.nn.modules.batchnorm.BatchNorm1d", "torch.nn.modules.conv.Conv1d",
	"torch.nn.modules.conv.Conv2d", "torch.nn.modules.sparse.Embedding",
	"torch.nn.parameter.Parameter",
	// TorchScript's constants.pkl and data.pkl.
	"torch.jit._pickle.build_intlist", "torch.jit._pickle.build_tensorlist",
	"torch.jit._pickle.build_doublelist", "torch.jit._pickle.build_boollist",
	"torch.jit._pickle.restore_type_tag",
)

func setOf(names ...string) map[string]bool {
	m := make(map[string]bool, len(names))
	for _, n := range names {
		m[n] = true
	}
	return m
}

func isClassName(name string) bool {
	return name != "" && name[0] >= 'A' && name[0] <= 'Z' && !strings.Contains(name, ".")
}

// AllowSklearn allows what scikit-learn, joblib and XGBoost-sklearn
// pickles import.
func AllowSklearn(module, name string) bool {
	if safeGlobals[module+"."+name] {
		return true
	}
	if (module == "sklearn" || strings.HasPrefix(module, "sklearn.")) && isClassName(name) &&
		!strings.Contains(module, "_testing") && !strings.Contains(module, "externals") {
		return true
	}
	return module == "xgboost.sklearn" && isClassName(name)
}

// AllowTorch allows what PyTorch checkpoints import (plus the sklearn
// list: numpy arrays appear in checkpoints too). TorchScript's "__torch__"
// classes are the model's own compiled classes, which TorchScript (not
// Python) runs.
func AllowTorch(module, name string) bool {
	g := module + "." + name
	return torchGlobals[g] || safeGlobals[g] || module == "__torch__" || strings.HasPrefix(module, "__torch__.")
}

func sortStrings(s []string) { sort.Strings(s) }
