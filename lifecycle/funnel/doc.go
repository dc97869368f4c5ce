// Package funnel answers "where do customers sit, and where do they stop"
// from recorded lifecycle data: customers per stage now or at any past
// date, stage-to-stage conversion and drop-off, time from stage to stage
// and time in stage, all per cohort and per segment; cohort retention
// tables; and segments that stream matching customer IDs for a campaign,
// written in the model builder's rule language ([Where] takes any
// model.Rule, and a segment and a stage rule that say the same thing mean
// the same thing).
//
// Everything reads customers one at a time from a sequence — usually a
// [lifecycle.Store] read through [lifecycle.Browse] (its View when it has
// one, else Scan), so it runs on any store — and keeps only
// counts and durations, never the customers:
//
//	rep, err := funnel.AnalyzeStore(ctx, m.Stages(), st,
//		funnel.CohortBy(funnel.FirstSeen(funnel.Month)))
//	fmt.Print(rep.Table())
//
// Definitions, used throughout. The funnel is the graph's path stages
// ([stage.Path]; every stage of a plain funnel such as the built-in
// models), in graph order; stages off the path ([stage.Decline],
// [stage.Exit], [stage.WinBack], wherever they sit in the list) are
// counted beside it. A customer "enters" a stage with a transition into it
// in their History. A customer "reaches" path stage i when they are first
// in stage i or any later path stage, so skipped stages are reached in
// passing, and regressions and falls into a decline do not undo reaching;
// being in an off-path stage never reaches a path stage. Conversion from
// path stage i is Reached(next path stage) ÷ Reached(i), never above 1;
// the customers who stop at stage i are those whose furthest path stage
// is i. For an off-path stage, Reached counts who was ever in it and
// Conversion the share of them who came back to the path after it.
// Durations are summarised exactly ([Dist], nearest-rank percentiles);
// stays still open are censored out of time-in-stage and reported apart.
//
// The cohort retention table ([Retention]) is computed exactly from a
// transaction list. Stored customers keep only aggregates of their orders,
// so [StoredRetention] fills only the cells they determine exactly. See
// each type for the precise meaning of every number.
package funnel
