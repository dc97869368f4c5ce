// Package stream records events read from a partitioned log — a Kafka
// topic, a NATS JetStream stream — into a [lifecycle.Store], with an
// exactly-once effect: the log delivers at least once, and the
// library's identity (an event ID has effect once per customer) makes a
// delivery seen twice harmless.
//
// This package is the part both engines share; packages
// lifecycle/stream/kafka (franz-go, consumer groups) and
// lifecycle/stream/jetstream (nats.go, durable pull consumers) read the
// log, and give each partition's messages, in order, to a [Processor]:
//
//	p := stream.NewProcessor(tracker, deadLetters, stream.Options{})
//	res, err := p.Process(ctx, msgs) // msgs: one partition's, in order
//	if err == nil {
//		// every message is in the store or dead-lettered: commit or ack them
//	}
//
// # What a Processor does with a batch
//
//   - Decode. Each message holds the library's JSON event form (one event
//     object or an array, [lifecycle.DecodeEvents]) or Segment calls (a
//     track call, an array, or a batch object, [lifecycle.FromSegment]);
//     [Options.Format] or the message's [HeaderFormat] says which, and
//     [FormatAuto] looks at the message's keys (a header that names no
//     format is refused, not guessed at: see [Message.SetFormat]; an empty
//     header counts as none, so Options.Format applies, and of several
//     the first counts). Each
//     event is then checked as [lifecycle.Tracker.Validate] checks it.
//   - Dead letters. A message that does not decode, or holds an event
//     that is invalid, is a dead letter as a whole (none of its events is
//     recorded): it goes to the [DeadLetterer] with its error, whose text
//     the engines put in the [HeaderError] header, beside the message's
//     own headers ([Message.Headers]). It never blocks the partition (one
//     too large to publish with its headers goes without its value, and
//     if still too large without the message's own headers and key: see
//     [HeaderDropped]), and it is counted ([Stats.DeadLetters]).
//   - Record. The other messages' events are recorded with one
//     [lifecycle.Tracker.RecordBatch]. A store failure is retried, with a
//     growing back-off, until it succeeds or ctx ends; retrying is safe,
//     as applied events come back as duplicates. Two failures are not
//     retried, as no retry can end them: an event the Tracker refuses
//     ([lifecycle.ErrInvalidEvent]) and one whose customer the store
//     cannot write or read back ([lifecycle.ErrInvalidCustomer]: a
//     stored row that does not decode, a history over the store's
//     limit). The message holding such an event becomes a dead letter,
//     whole, and the rest of the batch goes on; its other events that
//     failed are not retried (those the store applied stay applied, so
//     a replay of the dead letter is safe: they come back as
//     duplicates). A referral credit the store cannot write (the
//     referrer's stored row does not decode: [lifecycle.ErrInvalidCustomer]
//     from the credit) makes the messages whose events owe it dead
//     letters the same way (found by recording the rest of the batch one
//     message at a time; their events stay applied): the message that
//     earned the credit and, since an event recorded again owes its
//     customer's credit too (the Tracker settles a credit that may have
//     failed on any retry: ARCHITECTURE.md, "Referral credits"), every
//     other message of the batch with an event of that referred customer.
//     A model that fails
//     ([lifecycle.ErrInvalidModel], in validating or in recording), or a
//     Processor without a Tracker ([lifecycle.ErrNoTracker]), fails every
//     customer alike, so it is retried like a store failure: the
//     partition waits for a fixed model instead of sending the whole log
//     to the dead letters.
//   - Commit. Process returns nil only once every message of the batch is
//     in the store or published as a dead letter: the engine then commits
//     the offset (Kafka) or acknowledges the messages (JetStream). A
//     consumer that dies before that leaves the batch to the next owner,
//     which records it again; its events come back as duplicates.
//
// # Partitioning
//
// A customer's events should all go to one partition, so that one
// consumer at a time writes that customer and batches them together.
// [Partition] is the hash both engines' producers use: the one Kafka's
// clients use by default for a keyed record (murmur2), so that events
// keyed by customer ID by another Kafka producer land on the same
// partition. Correctness does not depend on it: events of one customer
// read by two consumers at once are still applied once each, as the
// store settles concurrent writers of a customer.
package stream
