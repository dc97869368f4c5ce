// Package feed delivers a store's stage changes at least once: the way
// to send what must not be lost, such as the webhook behind a
// post-purchase e-mail or a win-back offer (package
// lifecycle/feed/webhook sends them over HTTP).
//
// A [Dispatcher] reads a store's change feed ([lifecycle.ChangeLister])
// from a cursor the store keeps under a name ([lifecycle.CursorKeeper]),
// gives each change to a [Handler], and moves the cursor past a change
// only once the handler has accepted it:
//
//	d, err := feed.New(st, st, "webhooks", handler, feed.WithLogger(log))
//	if err != nil { … }
//	go d.Run(ctx) // until ctx is done
//
// # Guarantees
//
//   - At least once. Every change the feed lists is given to the handler
//     until the handler accepts it; a change the handler fails is tried
//     again, and nothing after it is delivered meanwhile, with a back-off
//     that grows (jittered, see [WithBackoff]) and that a handler may
//     lengthen with [RetryAfter]. A process that dies (or whose last write
//     of the cursor fails) after the handler accepted a change but before
//     the cursor moved past it delivers that change again when it, or
//     another instance, goes on: a receiver may see a change twice, and
//     deduplicates by [lifecycle.Change.ID]. (A Run that stops stores the
//     cursor past the last change accepted.)
//   - Identity. [lifecycle.Change.ID] is the same each time a change is
//     delivered, and two different changes never share it (it is derived
//     from the customer ID and the change's position in the customer's
//     history); a webhook sends it as webhook-id.
//   - Order. Changes are delivered one at a time in feed order, which lists
//     each customer's changes in the order of the customer's history
//     ([lifecycle.Change.Seq]). Redelivery after a crash may repeat the
//     change in flight; a receiver that needs the current stage should
//     keep, per customer, the change with the highest Seq it has seen.
//   - One deliverer at a time. Dispatchers in several processes that share
//     a store and a name take turns: the one that holds the name's lease
//     delivers, the others look again every poll interval ([WithPoll]).
//     The holder renews its lease as it goes (see [WithLease]); when it
//     stops, Run gives the lease up and another instance takes over at its
//     next look (within a poll interval); when it dies, its lease runs out
//     and another takes over at its first look after that.
//     The changes delivered twice are then the one the dead instance had
//     in flight. Lease times come from each instance's clock, which must
//     agree to well within a lease.
//   - A stop. A handler that returns an error made by [Stop] (for a
//     receiver that answered 410 Gone) stops Run, which returns that error
//     and leaves the cursor before the refused change: nothing is lost,
//     and a later Run starts with that change.
//
// How much of this survives a crash is the store's: the feed and the
// cursors last as long as the store keeps them. store.Memory keeps both
// in the process, so they end with it (and so do its customers); the SQL
// store (store/sqlstore) keeps them in the database, so a restarted
// process, or another instance, goes on where the last one stopped.
//
// # Hooks or a feed
//
// A [lifecycle.Hook] ([lifecycle.WithHook]) is called in process, on the
// goroutine that recorded the event, after the write has committed: fine
// for best-effort work such as updating a cache, a metric or a live view,
// but a crash between the commit and the call loses the change, and a
// slow hook slows recording. Use a Dispatcher for what must be delivered:
// it reads what the store committed, apart from recording, and it
// retries.
//
// # Monitoring
//
// [Dispatcher.Stats] tells whether this instance holds the lease, how
// far its cursor is, how many changes were delivered and how many
// attempts failed, the last error, and how long the change being
// delivered has waited at least ([Stats.Lag]): what a dashboard shows as
// delivery lag and failures.
package feed
