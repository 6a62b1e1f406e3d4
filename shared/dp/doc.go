// Package dp is Synthos's differentially private synthesizer: an MST model
// (McKenna, Miklau and Sheldon 2021, "Winning the NIST Contest: A scalable
// and general approach to differentially private synthetic data"), its
// privacy accounting, and the noise it needs. Package ledger keeps each
// tenant's budget per dataset.
//
// Fit measures every 1-way marginal with discrete Gaussian noise, merges rare
// bins, chooses a maximum spanning tree of 2-way marginals with the
// exponential mechanism, measures those, estimates a consistent tree model
// from the noisy marginals and samples along the tree. The steps and their
// budget split are private-pgm's mechanisms/mst.py; the estimation is a
// clique-by-clique least-squares projection that is exact for trees (see
// estimate.go) in place of Private-PGM's mirror descent. Everything is
// accounted in rho-zCDP and converted to (epsilon, delta) with the tight
// bound of Canonne, Kamath and Steinke 2020; Model.Report states the
// guarantee, its neighbouring relation (add or remove one row), and what it
// treats as public (the schema: column names, kinds, formats; the bounds
// only with Options.SchemaBounds; category lists only with Options.Levels;
// otherwise bounds and categories are found privately and charged).
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
