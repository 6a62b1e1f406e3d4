// Package quality measures how faithfully a synthetic table reproduces a real
// one, with metrics chosen to be comparable with the field:
//
//   - SDMetrics' quality report: KSComplement and TVComplement per column
//     (Column Shapes), CorrelationSimilarity and ContingencySimilarity per
//     pair of columns (Column Pair Trends), and their mean (Overall).
//   - MOSTLY AI-style accuracy: 1 − total variation distance between binned
//     uni-, bi- and trivariate marginals.
//   - A discriminator: the cross-validated AUC of a classifier told to tell
//     real rows from synthetic ones (0.5 is ideal).
//   - ML efficacy: a model trained on synthetic rows and tested on a real
//     holdout, against the same model trained on real rows.
//
// The profile says how each column is compared: numeric and datetime columns
// as numbers, categorical and boolean columns as discrete labels; id, text and
// pii columns carry no distribution worth scoring and are excluded with a
// note.
//
// Missing values. A cell is missing when it is empty or one of the column's
// MissingTokens. KSComplement and CorrelationSimilarity drop missing values,
// as SDMetrics drops NaN. Every discrete view (TVComplement, contingency
// tables, accuracy bins) keeps missing as a category of its own, so a
// generator that gets the missing rate wrong is penalised there; each column
// also reports its missing rates in the real and synthetic tables.
package quality
