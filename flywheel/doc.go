// Package flywheel is the customer flywheel: a lifecycle model with
// referral feedback, measurements of the flywheel's three rules from
// recorded customers, and a growth simulator.
//
// The model ([Model], registered as "flywheel" in the model registry when
// this package is imported) has the stages engage → acquire → nurture →
// retain → advocate and a loop edge advocate → engage: advocates bring
// referred prospects, who enter engage with [lifecycle.Facts.ReferredBy]
// set, and the [lifecycle.Tracker] credits the referrer exactly once with
// a referral_converted event when a referred customer first orders.
//
// [Measure] reads a store and reports, rotation by rotation (a period the
// caller chooses), whether the flywheel is connected (the share handed on
// from each stage to the next), easier (the referred share of new
// prospects, rising) and more efficient (the blended acquisition cost,
// paid spend ÷ all new customers, falling).
//
// The simulator takes [Params] and runs in three modes: [Expected] (the
// deterministic recurrence), [MonteCarlo] (seeded, parallel, identical
// results for the same seed whatever the number of workers, with mean,
// standard error and percentile bands) and [Agent] (per-customer event
// streams through a real Tracker with any model); the paid prospects are
// Poisson, constant or any distribution ([PaidInflow]). Results are Go
// values ([Result], with rotations by number from [Result.Rotation]), CSV
// ([Result.WriteCSV]) and SVG charts ([Result.WriteSVG]). [Sweep] varies
// one or two parameters over a grid and reads several outcomes at once,
// with standard errors over Monte Carlo runs, as CSV, heatmaps
// ([Table.WriteHeatmapSVG]) and line charts ([Table.WriteLinesSVG]);
// [Bass] and [FitBass]
// give the Bass diffusion model as an alternative growth law.
// [LiteratureExample] reproduces the literature's example of 100 engaged
// shoppers a rotation and about 47 more by the fifth rotation.
package flywheel
