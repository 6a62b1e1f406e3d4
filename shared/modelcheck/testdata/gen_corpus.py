#!/usr/bin/python3
"""Generate the model-validation corpus: malicious pickles the scanner must
reject and benign model files it must accept.

    apt-get install -y python3-sklearn python3-xgboost python3-onnx python3-torch
    cd shared/modelcheck/testdata && /usr/bin/python3 gen_corpus.py

Nothing malicious is ever executed: pickling an object whose __reduce__
returns (os.system, ("id",)) only records the reference, and the rest are
opcode streams written byte by byte. Files go to malicious/ and benign/;
an optional framework that is not installed (torch, onnx) is skipped with a
message, and the Go tests say which fixtures they expect.
"""
import io
import os
import pickle
import struct
import subprocess
import sys
import zipfile

HERE = os.path.dirname(os.path.abspath(__file__))
MAL = os.path.join(HERE, "malicious")
BEN = os.path.join(HERE, "benign")
os.makedirs(MAL, exist_ok=True)
os.makedirs(BEN, exist_ok=True)


def put(d, name, data):
    with open(os.path.join(d, name), "wb") as f:
        f.write(data)


class Reduce:
    """Pickles as a call of fn(*args) without ever calling it."""

    def __init__(self, fn, *args):
        self.fn, self.args = fn, args

    def __reduce__(self):
        return self.fn, self.args


def sbu(s):  # SHORT_BINUNICODE
    b = s.encode()
    return b"\x8c" + bytes([len(b)]) + b


def malicious():
    for proto in (0, 2, 4):
        put(MAL, f"os_system_p{proto}.pkl", pickle.dumps(Reduce(os.system, "id"), protocol=proto))
    put(MAL, "subprocess_popen.pkl", pickle.dumps(Reduce(subprocess.Popen, ["id"]), protocol=4))
    put(MAL, "subprocess_check_output.pkl", pickle.dumps(Reduce(subprocess.check_output, ["id"]), protocol=2))
    put(MAL, "builtins_eval.pkl", pickle.dumps(Reduce(eval, "__import__('os').system('id')"), protocol=4))
    put(MAL, "builtins_exec.pkl", pickle.dumps(Reduce(exec, "import os"), protocol=3))
    put(MAL, "os_popen.pkl", pickle.dumps(Reduce(os.popen, "id"), protocol=4))
    # Protocol 0 by hand, the classic payloads.
    put(MAL, "builtin_eval_p0.pkl", b"c__builtin__\neval\n(S'1+1'\ntR.")
    put(MAL, "inst_os_system.pkl", b"(S'id'\nios\nsystem\n.")
    put(MAL, "obj_os_system.pkl", b"(cos\nsystem\nS'id'\no.")
    # getattr(__import__("os"), "system")("id"): every piece a REDUCE.
    put(MAL, "getattr_import.pkl",
        b"cbuiltins\ngetattr\n(cbuiltins\n__import__\n(S'os'\ntRS'system'\ntR(S'id'\ntR.")
    # The same with getattr reached through STACK_GLOBAL and memoized names.
    put(MAL, "stack_global_memo.pkl",
        b"\x80\x04" + sbu("builtins") + b"\x94" + sbu("getattr") + b"\x94\x93\x94"
        + b"h\x00" + sbu("__import__") + b"\x93" + sbu("os") + b"\x85R" + sbu("system") + b"\x86R"
        + sbu("id") + b"\x85R.")
    # An allowed import whose *result* is called: OrderedDict()("id").
    put(MAL, "call_of_call.pkl", b"\x80\x04" + sbu("collections") + sbu("OrderedDict") + b"\x93)R" + sbu("id") + b"\x85R.")
    # A dotted name reaching through an allowed class to its globals.
    put(MAL, "dotted_name.pkl", b"\x80\x04" + sbu("sklearn.utils") + sbu("Bunch.__init__.__globals__") + b"\x93.")
    # A function (not a class) in an allowed package that runs a process.
    put(MAL, "sklearn_testing.pkl", b"\x80\x04" + sbu("sklearn.utils._testing")
        + sbu("assert_run_python_script") + b"\x93" + sbu("import os") + b"\x85R.")
    put(MAL, "numpy_runstring.pkl", b"cnumpy.testing._private.utils\nrunstring\n(S'import os'\n}tR.")
    put(MAL, "runpy.pkl", pickle.dumps(Reduce(__import__("runpy")._run_code, "print(1)", {}), protocol=4))
    # STACK_GLOBAL fed by a computed value, and the extension registry.
    put(MAL, "stack_global_computed.pkl", b"\x80\x04" + sbu("builtins") + sbu("str") + b"\x93)R" + sbu("system") + b"\x93.")
    put(MAL, "ext1.pkl", b"\x80\x02\x82\x01)R.")
    # Truncated: a scanner that gives up early must not pass it.
    put(MAL, "truncated.pkl", pickle.dumps(Reduce(os.system, "id"), protocol=4)[:-6])

    # PyTorch zips: a payload in data.pkl, a second pickle beside it, a pickle
    # inside a nested zip, and torch.storage._load_from_bytes (a nested
    # pickle run by torch.load).
    evil = pickle.dumps(Reduce(os.system, "id"), protocol=2)
    benign_data = benign_torch_pickle()
    for name, members in {
        "torch_data_pkl.pt": {"archive/data.pkl": evil, "archive/version": b"3\n"},
        "torch_nested_pkl.pt": {"archive/data.pkl": benign_data, "archive/version": b"3\n",
                                "archive/extra/payload.pkl": evil},
        "torch_nested_zip.pt": {"archive/data.pkl": benign_data, "archive/version": b"3\n",
                                "archive/extra/inner.zip": zipped({"inner/data.pkl": evil})},
        "torch_load_from_bytes.pt": {"archive/data.pkl": b"\x80\x02ctorch.storage\n_load_from_bytes\nC"
                                     + bytes([len(evil)]) + evil + b"\x85R.", "archive/version": b"3\n"},
    }.items():
        put(MAL, name, zipped(members))
    # joblib: an object array is written as a nested pickle.
    try:
        import joblib
        import numpy as np
        arr = np.empty(2, dtype=object)
        arr[0], arr[1] = 1, Reduce(os.system, "id")
        buf = io.BytesIO()
        joblib.dump({"weights": np.arange(5.0), "objs": arr}, buf)
        put(MAL, "joblib_object_array.joblib", buf.getvalue())
    except ImportError:
        print("joblib not installed: joblib_object_array.joblib skipped")


def zipped(members):
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_STORED) as z:
        for n, b in members.items():
            z.writestr(n, b)
    return buf.getvalue()


def benign_torch_pickle():
    """A torch.save-style data.pkl of an OrderedDict of one tensor, written
    opcode by opcode (as torch 1.13 writes it) for when torch is absent."""
    return (b"\x80\x02ccollections\nOrderedDict\nq\x00)Rq\x01X\x06\x00\x00\x00weightq\x02"
            b"ctorch._utils\n_rebuild_tensor_v2\nq\x03((X\x07\x00\x00\x00storageq\x04"
            b"ctorch\nFloatStorage\nq\x05X\x01\x00\x00\x000q\x06X\x03\x00\x00\x00cpuq\x07K\x06tq\x08"
            b"QK\x00K\x02K\x03\x86q\tK\x03K\x01\x86q\n\x89ccollections\nOrderedDict\nq\x0b)Rq\x0ctq\rRq\x0es.")


def benign():
    import numpy as np
    from sklearn.datasets import make_classification
    from sklearn.ensemble import GradientBoostingClassifier, RandomForestClassifier
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import OneHotEncoder, StandardScaler
    from sklearn.tree import DecisionTreeRegressor
    import joblib
    import xgboost as xgb

    x, y = make_classification(n_samples=200, n_features=6, random_state=17)
    models = {
        "sk_logreg": LogisticRegression().fit(x, y),
        "sk_tree_regressor": DecisionTreeRegressor(max_depth=4).fit(x, x[:, 0]),
        "sk_random_forest": RandomForestClassifier(n_estimators=3, max_depth=3, random_state=0).fit(x, y),
        "sk_gbm": GradientBoostingClassifier(n_estimators=5, max_depth=2).fit(x, y),
        "sk_pipeline": make_pipeline(StandardScaler(), LogisticRegression()).fit(x, y),
        "sk_onehot": OneHotEncoder().fit(np.array([["a"], ["b"], ["c"]])),
        "xgb_sklearn_classifier": xgb.XGBClassifier(n_estimators=5, max_depth=2).fit(x, y),
        "xgb_sklearn_regressor": xgb.XGBRegressor(n_estimators=5, max_depth=2).fit(x, x[:, 0]),
    }
    for name, m in models.items():
        for proto in (2, 4, 5):
            put(BEN, f"{name}_p{proto}.pkl", pickle.dumps(m, protocol=proto))
        buf = io.BytesIO()
        joblib.dump(m, buf)
        put(BEN, f"{name}.joblib", buf.getvalue())
    buf = io.BytesIO()
    joblib.dump(models["sk_random_forest"], buf, compress=3)
    put(BEN, "sk_random_forest_compressed.joblib", buf.getvalue())
    put(BEN, "torch_state_dict_crafted.pt", zipped({"archive/data.pkl": benign_torch_pickle(),
                                                    "archive/version": b"3\n",
                                                    "archive/data/0": struct.pack("<6f", *range(6))}))
    try:
        import torch
        net = torch.nn.Sequential(torch.nn.Linear(6, 4), torch.nn.ReLU(), torch.nn.Linear(4, 1))
        torch.save(net.state_dict(), os.path.join(BEN, "torch_state_dict.pt"))
        torch.save(net, os.path.join(BEN, "torch_module.pt"))
        torch.jit.save(torch.jit.script(net), os.path.join(BEN, "torchscript.pt"))
        print("torch", torch.__version__)
    except ImportError:
        print("torch not installed: real torch fixtures skipped")
    try:
        import onnx
        from onnx import TensorProto, helper
        inp = [helper.make_tensor_value_info(n, TensorProto.FLOAT, [None, 1]) for n in ("age", "bmi")]
        out = helper.make_tensor_value_info("y", TensorProto.FLOAT, [None, 1])
        w = helper.make_tensor("w", TensorProto.FLOAT, [1], [0.5])
        g = helper.make_graph([helper.make_node("Add", ["age", "bmi"], ["s"]),
                               helper.make_node("Mul", ["s", "w"], ["y"])], "tiny", inp, [out], [w])
        m = helper.make_model(g, opset_imports=[helper.make_opsetid("", 13)], producer_name="gen_corpus")
        onnx.checker.check_model(m)
        put(BEN, "tiny.onnx", m.SerializeToString())
        print("onnx", onnx.__version__)
    except ImportError:
        print("onnx not installed: tiny.onnx skipped")


if __name__ == "__main__":
    malicious()
    benign()
