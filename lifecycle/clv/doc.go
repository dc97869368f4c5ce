// Package clv estimates customer value in non-contractual settings ("buy till
// you die" models): who is still active, how many purchases each customer will
// make, how much they will spend, and what they are worth.
//
// The workflow is:
//
//  1. Summarise a transaction log into one RFM row per customer with
//     [Summarize]: Frequency (repeat purchase periods), Recency (age at the
//     last purchase), T (age at the end of calibration), MonetaryValue (mean
//     value of repeat purchases) and, optionally, purchases in a holdout
//     period. [ReadCDNOW] loads the classic CDNOW transaction files.
//     [SummarizeStore] approximates the same rows from the aggregate facts
//     a lifecycle.Store keeps when the single orders are not kept.
//  2. Fit a purchase model — [FitBGNBD] for the BG/NBD model of Fader, Hardie
//     & Lee (2005), [FitMBGNBD] for the MBG/NBD model of Batislam, Denizel &
//     Filiztekin (2007), or [FitParetoNBD] for the Pareto/NBD model of
//     Schmittlein, Morrison & Colombo (1987) — and a spend model,
//     [FitGammaGamma] (Fader & Hardie 2013, "The Gamma-Gamma Model of
//     Monetary Value"; [ExcludeZeroSpend] removes repeat buyers with a zero
//     mean spend, which it rejects). For discrete transaction opportunities
//     use [FitBGBB] (Fader, Hardie & Shang 2010) on [DiscreteCustomer]
//     histories; for contractual retention, [FitSBG] (Fader & Hardie 2007)
//     on a cohort's survivor counts, with [SBG.Survival],
//     [SBG.RetentionRate] and [SBG.DERL].
//  3. Predict: [BGNBD.ProbabilityAlive], [BGNBD.ConditionalExpectedPurchases],
//     [GammaGamma.ConditionalExpectedSpend], and combine them into a
//     discounted [LifetimeValue] and an [AffordableAcquisitionCost] per lead.
//  4. Plot, as SVG: the calibration/holdout check ([CalibrationHoldout],
//     [WriteCalibrationHoldoutSVG]), the frequency/recency matrices of
//     expected purchases and probability alive ([ExpectedPurchasesMatrix],
//     [ProbabilityAliveMatrix], [Matrix.WriteSVG]) and the sBG survival
//     curve ([SBG.WriteSurvivalSVG]).
//
// Time is measured in the [TimeUnit] chosen when summarising (days or weeks);
// fitted rate parameters (such as BG/NBD's Alpha) and prediction horizons are
// in that same unit.
//
// Parameters are estimated by maximum likelihood on the logarithms of the
// parameters: with BFGS and analytic gradients (BG/NBD, MBG/NBD,
// Pareto/NBD) or numerical ones (BG/BB, sBG), and with Newton's method and
// the analytic Hessian for Gamma-Gamma. Every fit reports standard errors,
// a covariance matrix and 95 % intervals from the inverse Hessian of the
// negative log-likelihood (delta method from the log scale, see
// [Estimate]); [FitInfo.Summary] renders them with the log-likelihood,
// AIC, BIC and n as text or CSV. Customers with identical rows are
// collapsed into weighted rows before fitting, so a million customers with
// day-resolution times fit in well under a second on one core (Pareto/NBD
// in about one); BENCHMARKS.md compares every fit with SciPy.
//
// Errors: invalid input (NaN, negative values, inconsistent RFM rows, empty
// data, parameters out of range) yields an error wrapping [ErrInvalidInput]
// whose message names the offending field and value; a fit that does not
// converge, and a prediction or likelihood whose arithmetic loses its
// precision (at parameters near the float limits, 1e300 or subnormal, it
// would give NaN, an infinity or a value outside what the quantity can
// be, such as a negative expectation), yields an error wrapping
// [ErrNoConvergence] instead of a wrong number. Use errors.Is to test
// for them. (A function reads only the inputs its doc names: the fields of
// a Customer it does not use are not checked. The SVG writers return a
// failure of their io.Writer as it is.) The package does not panic on
// user input.
package clv
