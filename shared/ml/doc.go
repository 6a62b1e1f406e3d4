// Package ml is a small, fast machine-learning kit for judging synthetic
// data: an encoder that turns profiled table columns into histogram bins, a
// gradient-boosted tree ensemble trained on those bins (squared error,
// binary logistic and softmax objectives), cross-validation folds, and the
// metrics the evaluations report (ROC AUC, macro-F1, R²).
//
// It is not a general ML library. Everything is chosen for speed on tables
// of tens of thousands of rows on a small machine: features are at most 64
// bins (uint8 codes), trees grow depth-wise on gradient histograms with the
// subtraction trick, and categorical features split by sorting their
// categories by gradient ratio (as LightGBM does).
package ml
