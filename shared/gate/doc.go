// Package gate decides whether a synthetic table may be released: it holds
// the fidelity and privacy scores of an evaluation against thresholds and
// returns pass or fail with one reason per metric, so a pipeline can
// quarantine an output and a person can see why.
//
// Every metric the gate knows is checked on every call and reported, passed
// or not. A metric can be absent from the evaluation (no holdout was given,
// so there is no privacy report; no target column, so there is no ML
// efficacy). Absence is never a silent pass: the metric is reported with
// status "missing", and whether that fails the gate is decided per metric:
//
//   - Required (missing fails): column_shapes, discriminator_auc, dcr_share,
//     identical_share, membership_auc, pii_leaked_cells. These are the
//     evidence a release rests on; each is always computable from a real
//     table, a synthetic table and a holdout, so its absence means the
//     evaluation was incomplete (most often: no holdout).
//   - Optional (missing is reported and passes): column_pair_trends, which
//     has no value for a table with fewer than two scorable columns;
//     ml_efficacy_ratio, which needs a target column; and
//     attribute_inference_risk, which needs sensitive columns. Their
//     absence follows from what the data or the job is, not from a skipped
//     step.
//
// A job changes this with Thresholds.AllowMissing (accept the absence of a
// required metric) and Thresholds.Skip (do not check a metric at all; it is
// still listed, with status "skipped").
package gate
