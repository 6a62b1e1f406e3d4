#!/usr/bin/python3
"""Generate the XGBoost fixtures the Go evaluator is tested against.

Run from this directory with Debian's python3-xgboost (1.7.4) and numpy:

    apt-get install -y python3-xgboost
    python3 gen_xgboost.py ../../../../shared/datasets

It trains small models on the shared datasets (binary on adult, regression and
4-class on insurance), with missing values (adult's "?" cells plus 5% of the
numeric cells blanked at random) and categorical features the way XGBoost
handles them (feature_types "c", integer category codes, enable_categorical;
two-category features split one-hot, larger ones by partition). For each
model it writes the model file(s), the input rows it predicted on (empty cell
= missing) and XGBoost's own predictions (float32 printed with 9 significant
digits, so they round-trip exactly).
"""
import csv
import json
import os
import sys

import numpy as np
import xgboost as xgb

DATA = sys.argv[1] if len(sys.argv) > 1 else "../../../../shared/datasets"
# A second argument names the one fixture to (re)generate, e.g. xgb_adult_500.
ONLY = sys.argv[2] if len(sys.argv) > 2 else None
RNG = np.random.default_rng(17)


def load(name, features, cats, target):
    with open(os.path.join(DATA, name + ".csv"), newline="") as f:
        rows = list(csv.DictReader(f))
    codes = {c: sorted({r[c].strip() for r in rows if r[c].strip() not in ("?", "")}) for c in cats}
    x = np.full((len(rows), len(features)), np.nan, dtype=np.float64)
    for i, r in enumerate(rows):
        for j, c in enumerate(features):
            v = r[c].strip()
            if v in ("?", ""):
                continue
            x[i, j] = codes[c].index(v) if c in cats else float(v)
    # Blank 5% of the numeric cells so default directions are exercised.
    for j, c in enumerate(features):
        if c not in cats:
            x[RNG.random(len(rows)) < 0.05, j] = np.nan
    return x, [r[target].strip() for r in rows], codes


def write_rows(path, header, rows):
    with open(path, "w", newline="") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(header)
        for r in rows:
            w.writerow(["" if np.isnan(v) else repr(float(v)) for v in r])


def fixture(name, x, y, features, cats, params, rounds, formats=("json",)):
    ftypes = ["c" if f in cats else "q" for f in features]
    n = len(y)
    train, test = slice(0, n - 200), slice(n - 200, n)
    dtrain = xgb.DMatrix(x[train], label=y[train], feature_names=features,
                         feature_types=ftypes, enable_categorical=True)
    booster = xgb.train(params, dtrain, num_boost_round=rounds)
    for fmt in formats:
        booster.save_model(f"{name}.{fmt}")
    dtest = xgb.DMatrix(x[test], feature_names=features, feature_types=ftypes,
                        enable_categorical=True)
    pred = np.asarray(booster.predict(dtest), dtype=np.float32)
    margin = np.asarray(booster.predict(dtest, output_margin=True), dtype=np.float32)
    write_rows(f"{name}.input.csv", features, x[test])
    with open(f"{name}.expected.csv", "w") as f:
        for p, m in zip(pred.reshape(200, -1), margin.reshape(200, -1)):
            f.write(",".join("%.9g" % v for v in p) + ";" + ",".join("%.9g" % v for v in m) + "\n")


def adult_500(base):
    """The performance fixture: 500 depth-6 trees on Adult (UBJSON only, the
    smaller format), for the single-row latency and batch throughput
    benchmarks of ../bench_test.go and their check against XGBoost."""
    feats = ["age", "workclass", "education-num", "marital-status", "occupation", "relationship",
             "race", "sex", "capital-gain", "capital-loss", "hours-per-week", "native-country"]
    cats = {"workclass", "marital-status", "occupation", "relationship", "race", "sex", "native-country"}
    x, label, _ = load("adult", feats, cats, "income")
    y = np.array([1.0 if v.startswith(">50K") else 0.0 for v in label])
    fixture("xgb_adult_500", x[:20000], y[:20000], feats, cats,
            dict(base, objective="binary:logistic", max_depth=6, eta=0.05), 500, formats=("ubj",))


def main():
    print("xgboost", xgb.__version__)
    base = {"max_depth": 4, "eta": 0.3, "seed": 17, "tree_method": "hist", "max_cat_to_onehot": 2}
    if ONLY == "xgb_adult_500":
        adult_500(base)
        return

    feats = ["age", "workclass", "education-num", "marital-status", "occupation", "relationship",
             "race", "sex", "capital-gain", "capital-loss", "hours-per-week", "native-country"]
    cats = {"workclass", "marital-status", "occupation", "relationship", "race", "sex", "native-country"}
    x, label, codes = load("adult", feats, cats, "income")
    x, label = x[:3000], label[:3000]
    y = np.array([1.0 if v.startswith(">50K") else 0.0 for v in label])
    fixture("xgb_adult_binary", x, y, feats, cats, dict(base, objective="binary:logistic"), 30,
            formats=("json", "ubj"))
    json.dump(codes, open("xgb_adult_binary.categories.json", "w"), indent=1, sort_keys=True)

    feats = ["age", "sex", "bmi", "children", "smoker", "region"]
    cats = {"sex", "smoker", "region"}
    x, label, codes = load("insurance", feats, cats, "charges")
    fixture("xgb_insurance_regression", x, np.array([float(v) for v in label]), feats, cats,
            dict(base, objective="reg:squarederror"), 40, formats=("json", "ubj"))

    feats = ["age", "sex", "bmi", "children", "smoker", "charges"]
    cats = {"sex", "smoker"}
    x, label, codes = load("insurance", feats, cats, "region")
    regions = sorted(set(label))
    y = np.array([float(regions.index(v)) for v in label])
    fixture("xgb_insurance_multiclass", x, y, feats, cats,
            dict(base, objective="multi:softprob", num_class=len(regions)), 15)

    # DART: trees carry weights the evaluator must apply.
    fixture("xgb_insurance_dart", x[:, [0, 2, 3, 5]], (y == 0).astype(float),
            ["age", "bmi", "children", "charges"], set(),
            dict(base, objective="binary:logistic", booster="dart", rate_drop=0.2, skip_drop=0.0), 10)


if __name__ == "__main__":
    main()
