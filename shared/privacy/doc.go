// Package privacy measures how much a synthetic table discloses about the
// real records a model was fitted on.
//
// Every metric compares the synthetic table with two real tables: train, the
// rows the model saw, and holdout, rows from the same distribution that were
// set aside before fitting. A synthetic table that merely generalises is as
// close to holdout records as to training records; one that memorised is
// closer to the training records. The holdout therefore turns each raw
// number into a comparison with what generalisation alone gives.
//
// Distances are Gower-style: the mean over the modelled columns (numeric,
// datetime, categorical and boolean; id, PII and free-text columns are left
// out) of a per-column distance in [0, 1] — the absolute difference scaled by
// the training range and capped at 1 for numbers and datetimes, 0/1 mismatch
// for categories, 1 between a missing and a present cell and 0 between two
// missing cells. This is a metric, so nearest neighbours are found with a
// vantage-point tree (vptree.go) over each table encoded once into float32
// features and int32 category codes (encode.go), with identical rows
// collapsed into one tree point and found by hash.
package privacy
