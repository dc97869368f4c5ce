// Package model holds the built-in lifecycle models, a declarative builder
// for custom ones, a registry by name, side-by-side comparison of models
// and diagrams of their stage graphs.
//
// Built-in models, each a [lifecycle.Model] whose thresholds are options
// with documented defaults (a few fixed ones aside, such as the six-stage
// model's 2 net purchases for experience, stated in each constructor's
// doc). Each constructor takes its own option type ([SterneCutlerOption],
// [SixStageOption], [FiveStageOption]), so an option it does not read is a
// compile error; [LapseAfter], read by all three, works with each:
//   - [SterneCutler] ("sterne-cutler"): reach → acquisition → conversion →
//     retention → loyalty;
//   - [SixStage] ("six-stage"): awareness → engagement → evaluation →
//     purchase → support/experience → loyalty/bonding;
//   - [FiveStage] ("five-stage"): awareness → conversion → nurturing →
//     retention → advocacy.
//
// Stage ID constants: Sterne–Cutler's are unprefixed ([Reach] …
// [Loyalty]); the others carry their model's name ([SixStageAwareness],
// [FiveStageAdvocacy]). Stage ID values are unique within a model only:
// several models have an "awareness" stage.
//
// Every built-in classifies a customer in one pass over their facts,
// without allocating, and answers the cases the literature glosses over
// (a lapsed buyer, a refunded only order, a one-time buyer, a cancelled
// subscription, a loyal customer with a support ticket, an advocate who
// stops buying) as its doc comment states.
//
// Every built-in, and every [Custom] model, is also a
// [lifecycle.Scheduler]: NextChange tells when time alone would next
// change a customer's stage (a buyer lapsing, a window ending), so that a
// sweep visits only the customers who are due.
//
// Custom models are declared with a [Builder] over [Rule] values; the
// registry ([Register], [Lookup], [Names]) lets a shop name its model in
// configuration; [Classify] and [Correspond] put several models side by
// side on the same stored customers; [Mermaid] and [DOT] draw a model's
// graph. The model/modeltest package checks that a model obeys the rules of
// [lifecycle.Model].
package model
