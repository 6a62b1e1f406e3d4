// Package dp is Synthos's differentially private synthesizer: an MST model
// (McKenna, Miklau and Sheldon 2021, "Winning the NIST Contest: A scalable
// and general approach to differentially private synthetic data"), its
// privacy accounting, and the noise it needs. Package ledger keeps each
// tenant's budget per dataset.
//
// Fit measures every 1-way marginal with discrete Gaussian noise, merges rare
// bins, chooses a maximum spanning tree of 2-way marginals with the
// exponential mechanism, measures those (stopping, on a table too small
// for a pair to show through its noise, at a forest and measuring the 1-way
// marginals again instead), estimates a consistent tree model from the
// noisy marginals and samples along the tree. The steps and their
// budget split are private-pgm's mechanisms/mst.py; the estimation is a
// clique-by-clique least-squares projection that is exact for trees (see
// estimate.go) in place of Private-PGM's mirror descent.
//
// # Privacy argument
//
// Neighbouring tables differ by adding or removing one row. Every access to
// the rows is one of the measurements below, each charged in rho-zCDP to the
// fit's Report.Steps (Bun and Steinke 2016: a (discrete) Gaussian of variance
// sigma² on a query of L2 sensitivity 1 is 1/(2 sigma²)-zCDP; an eps-DP
// exponential mechanism is eps²/8-zCDP; rho adds up under adaptive
// composition). What a step decides from earlier noisy outputs (bins, the
// budget split, the tree) is post-processing of those outputs and of public
// input.
//
//  1. Row count: one count, sensitivity 1, countShare of rho. Its noisy
//     value sizes the bins and calibrates the domain share; the true count
//     is not public and is never read for either.
//  2. Gaps: for each order relation of the profile (a <= b) between two
//     numeric or two datetime columns, a histogram of b - a over the rows
//     where it is not negative, on a public grid (zero, then buckets of
//     2^(1/4) from 2^-20 to 2^62): a row adds 1 to one bucket at most, so
//     each histogram has L2 sensitivity 1 and the costs add. Its range and
//     quantiles are post-processing of the noisy counts; package model's
//     relations repair sets b to a plus a gap drawn from them, so a
//     private model keeps real durations without reading the rows again.
//     (The relation statements themselves are schema, public input like
//     the kinds; the profile's own gap summary is not read.)
//  3. Domain, only for columns without a public domain: per column, a
//     histogram (each row adds 1 to one count of each histogram, so each has
//     L2 sensitivity 1 and the costs add). Numeric columns use a public grid
//     of signed powers of two, datetimes one of calendar years; the range
//     grows from the largest noisy bucket (post-processing). A range whose
//     core (buckets at 4 sigma) is one or two buckets away from zero is
//     then refined, up to refineLevels times, by a histogram of 32 equal
//     sub-buckets of it (each row adds 1 to one count, rows outside it to
//     an end one: sensitivity 1 again); every column is charged
//     refineLevels such measurements (rhoRefine, on top of the bounds'
//     share) whether it refines or not, and whether a level is kept reads
//     only noisy counts, the noisy row count and the column's declared
//     kind and decimals. Categories are
//     released by Gaussian thresholding of the counts of the values present:
//     a value held by one row only is released with probability at most
//     DeltaDomain/nCat (thresholdFor), which is the approximate part of the
//     guarantee, added to delta as DeltaDomain (0.3 of delta when the
//     caller states epsilon, 0.1 when it gives rho: domainDeltaShareEps).
//     Seen as one Gaussian release over the whole (column, value)
//     histogram, the step is the same mechanism: a row adds 1 to one key
//     of each of the nCat columns, so the joint histogram's L2 sensitivity
//     is sqrt(nCat) and its cost nCat/(2 sigma²), the sum the separate
//     releases are charged; and the keys a row can add that the other
//     table lacks are at most one per column, each released with
//     probability at most DeltaDomain/nCat, so the union bound gives the
//     same DeltaDomain. A joint release would not lower the threshold. The released values' noisy
//     counts also serve as their 1-way measurement (combined with the 1-way
//     step's): adding a row either adds a value absent from the other table
//     (its histogram is otherwise unchanged, and the value is released with
//     probability at most DeltaDomain/nCat) or adds 1 to a present value's count
//     (a Gaussian measurement of sensitivity 1, whose threshold decision is
//     post-processing of the noisy count), so releasing the counts above the
//     threshold costs nothing beyond the charged rho and delta (the
//     thresholded Gaussian histogram). A column with a missing-value
//     spelling has one more coordinate in that histogram, the count of its
//     missing cells, released whatever its size (its key is public, so it
//     needs no threshold): a row adds 1 to a value's count or to this one,
//     never to both, so the histogram's L2 sensitivity stays 1. These
//     released counts, with the noisy row count, are the column's 1-way
//     marginal (Other is the row count less the released counts), so the
//     1-way step of 4 does not measure such a column again.
//     With two or more such columns, and when the first round's threshold
//     is at most half the noisy row count (twoRounds: public inputs and
//     the noisy count only), the categories are released in two rounds
//     (release.go): the release above with 1 - secondShare of the
//     categories' rho and 1 - secondDelta of DeltaDomain, then a second
//     thresholded Gaussian histogram in which each row adds
//     floor(S/sqrt(k)) (S = weightScale) to each of its k values the
//     first round did not release. Given the first round's output (public),
//     a row's weights depend on that row alone, so the weighted histogram
//     has L2 sensitivity S and costs S²/(2 sigma²); a row adds at most k
//     keys the other table lacks, each of weight floor(S/sqrt(k)), and the
//     threshold makes k of them pass with probability at most the round's
//     delta for every k up to the column count (secondThreshold), so the
//     rounds' deltas add to DeltaDomain. A value released in the second
//     round gets its first-round noisy count: the argument counts the first
//     round as publishing the noisy counts of every value present (its
//     charge is that whole histogram's), so showing some of them later,
//     as the second round's independent noise decides, is
//     post-processing. On the keys both tables hold the two rounds are
//     then Gaussian measurements within the rounds' rho (a mixture of
//     such, over whether the added row's own keys passed the first round,
//     which sets its k); the keys one table holds are the delta events,
//     whose probability is at most DeltaDomain given everything else
//     (their first-round noise is independent of the rest, and the second
//     round's bound holds for every first-round output), so delta adds in
//     both directions (TestTwoRoundsNeighbours). When no column has rows
//     enough left unreleased for a value to pass the second round at full
//     weight (the noisy row count less the column's released and missing
//     noisy counts: post-processing), the second round's rho instead
//     measures the released values' and the missing cells' counts again
//     (one histogram per column on public keys, L2 sensitivity 1 each),
//     combined with the first round's by inverse variance. The domain's
//     share of rho is calibrated from the noisy row count and the public
//     schema (how many columns of each kind need a domain: calibrateShare,
//     catMaxShare), never from the data.
//  4. MST: the 1-way marginals on the bins of the d1 columns not covered by
//     step 3 (d1 histograms, sensitivity sqrt(d1) jointly); then up to d-1
//     rounds, each one exponential mechanism over the pairs that join two
//     components, scored by an L1 distance of sensitivity 1, and the chosen
//     pair's 2-way marginal (sensitivity 1), each round a fixed part of
//     rho. Whether to run another round is decided from the noisy outputs
//     only (the last measured pair's noisy distance from the noisy 1-way
//     product against the noise's expected size), and the budget of the
//     rounds not run measures 1-way marginals again; budgets chosen
//     adaptively from earlier noisy outputs compose to their sum as long
//     as that sum is capped in advance (a zCDP privacy filter: Feldman and
//     Zrnic 2021, Whitehouse et al. 2023 — the same argument as the domain
//     share chosen from the noisy row count), and the cap here is rho.
//     Rare-bin merging, trimming the empty ends of a private numeric range
//     and the merged bins' layout are functions of the noisy 1-way counts
//     (or step 3's) and of the public schema only (the levels of a
//     functional dependency's columns are never merged: ownLevels).
//
// The sum of the steps' rho is checked against the budget (report), and
// converted to (epsilon, delta) with the tight bound of Canonne, Kamath and
// Steinke 2020; Report.Delta is that conversion's delta plus DeltaDomain.
//
// Public input, not protected: the profile as a schema (column names,
// kinds, formats, precision, missing-value spellings — a column without one
// gets no missing bin, so the model never writes a blank into it), and a
// public domain the user declares in the schema: a categorical column's
// Categories (then no "(other)" bin either) and a numeric or datetime
// column's Min and Max when PublicBounds is set (profile.Schema: "min" and
// "max" given together). Options.Levels and Options.SchemaBounds declare the
// same for callers without a schema. A declared domain costs no budget and
// its values are the only ones written; a discovered one costs the domain
// step above, and writes only released categories and values inside the
// private range. A row the model assigns to Other (categories not
// released) gets a released category drawn from the column's model
// marginal (post-processing of the model); only a column none of whose
// categories was released writes the other label.
//
// Deviation from the architecture: it names
// github.com/google/differential-privacy/go/v3 for the noise, but that
// module is not served by this build's module proxy. The noise is therefore
// implemented here, to the same standard: the discrete Gaussian is sampled
// exactly (Canonne–Kamath–Steinke Algorithms 1–3, integer arithmetic, every
// coin a comparison of a crypto/rand integer with an exact rational), which
// avoids the floating-point attacks on textbook Laplace and Gaussian
// samplers (Mironov 2012) by construction; the exponential mechanism is
// sampled exactly by rejection with the same Bernoulli(exp(-x)) sampler.
// Noise never uses math/rand. Sampling rows from a fitted model is
// post-processing and uses a seeded PCG stream so that it is reproducible
// and shardable like the other models.
package dp
