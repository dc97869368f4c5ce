// Package lifecycle records a shop's events into customers' facts and
// lifecycle stages.
//
// An [Event] is one thing a customer did (a visit, an order, a refund, a
// ticket, a survey answer, a referral…), named by a standard [EventType] or a
// vendor-prefixed custom one. The [Tracker] folds each event into the
// customer's [Facts] — commutative aggregates, so the result does not depend
// on the order events arrive in — asks its [Model] for the customer's stage,
// and stores the [Customer], with a history of every stage change, in a
// [Store]. Recording is idempotent by event ID, safe for concurrent use,
// and atomic (through the store's [Applier], which applies the write under
// its own lock or transaction, or else a compare-and-swap [Store.Put] on
// the customer's version; a lost race is retried).
//
// Models live in package model (and flywheel), stores in package store (and
// the store/sqlstore module); both interfaces are small so that plugin
// authors can write their own and check them with model/modeltest and
// store/storetest.
package lifecycle
