package lifecycle

import (
	"fmt"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// EventType names what happened. The standard vocabulary below covers the
// activities the customer-lifecycle literature names; standard names are
// snake_case. Any other activity is a custom type, which must carry a vendor
// prefix separated by a dot ("acme.wishlist_added") so it can never collide
// with a standard name added later: two or more parts separated by dots,
// each one or more lower-case ASCII letters, digits or underscores, at most
// [MaxTypeLen] bytes in all ("acme.wishlist_added", "acme.v2.cart_saved";
// not "Acme.wishlist", "acme.wish-list" or "acme..x"). An unprefixed name
// that is not standard is refused, which catches typos such as
// "order_complete".
type EventType string

// The standard event vocabulary.
const (
	AdImpression          EventType = "ad_impression"          // an ad was shown to the person
	SiteVisited           EventType = "site_visited"           // a visit to the shop's site or app
	ContentViewed         EventType = "content_viewed"         // an article, video or guide was viewed
	ContentDownloaded     EventType = "content_downloaded"     // a guide, e-book or app was downloaded
	SignedUp              EventType = "signed_up"              // an account was created
	NewsletterSubscribed  EventType = "newsletter_subscribed"  // the person subscribed to e-mails
	InquirySent           EventType = "inquiry_sent"           // a question via form or e-mail
	ChatStarted           EventType = "chat_started"           // a live chat was started
	ProductViewed         EventType = "product_viewed"         // a product page was viewed
	CartAdded             EventType = "cart_added"             // a product was added to the cart
	CheckoutStarted       EventType = "checkout_started"       // checkout was started
	OrderCompleted        EventType = "order_completed"        // an order was placed; Amount is its value
	OrderRefunded         EventType = "order_refunded"         // an order was refunded; Amount is the refund
	SubscriptionStarted   EventType = "subscription_started"   // a subscription was started; Amount is its first payment
	SubscriptionRenewed   EventType = "subscription_renewed"   // a subscription was renewed; Amount is its value
	SubscriptionCancelled EventType = "subscription_cancelled" // a subscription was cancelled
	TicketOpened          EventType = "ticket_opened"          // a support ticket was opened
	TicketResolved        EventType = "ticket_resolved"        // a support ticket was resolved
	SurveyAnswered        EventType = "survey_answered"        // a survey or NPS answer; Attrs["score"] is 0..10
	ReviewPosted          EventType = "review_posted"          // a product or shop review was posted
	SocialShared          EventType = "social_shared"          // the customer shared the shop or a product
	ReferralMade          EventType = "referral_made"          // the customer invited someone (a referral link or code)
	LoyaltyJoined         EventType = "loyalty_joined"         // the customer joined the loyalty programme
	// ReferralConverted is a referral credit, recorded by the Tracker itself
	// on a referrer when a customer they referred has converted (an order
	// or a subscription start, by default: see [Tracker]); [Event.Validate] refuses it, so that no caller can
	// record (or forge) a credit: record the referred customer's events,
	// with a ReferrerID, instead. Its ID is [ReferralEventID] of the referred customer,
	// Attrs[ReferredIDAttr] names that customer and its time is their
	// first conversion's. Credits are folded into [Facts.Referrals], one entry
	// per referred customer holding the earliest credit time, so a credit
	// derived again (a retry, an earlier order arriving late) counts once.
	// Credits are not remembered in [Customer.Seen] and do not move
	// [Customer.AsOf] or [Facts.First] and [Facts.Last].
	ReferralConverted EventType = "referral_converted"
)

// vocabulary is the one table of the standard event types: each type and
// its kind, in the order of [StandardTypes]. Adding a standard type is a
// constant above and its row here; everything else that knows the
// vocabulary (validation, [EventType.Kind], [Facts.Revenue], the
// built-in models of package model) reads this table.
var vocabulary = [...]StandardType{
	{AdImpression, KindExposure},
	{SiteVisited, KindVisit},
	{ContentViewed, KindExposure},
	{ContentDownloaded, KindEngagement},
	{SignedUp, KindEngagement},
	{NewsletterSubscribed, KindEngagement},
	{InquirySent, KindEngagement},
	{ChatStarted, KindEngagement},
	{ProductViewed, KindConsideration},
	{CartAdded, KindConsideration},
	{CheckoutStarted, KindConsideration},
	{OrderCompleted, KindOrder},
	{OrderRefunded, KindRefund},
	{SubscriptionStarted, KindSubscription},
	{SubscriptionRenewed, KindSubscription},
	{SubscriptionCancelled, KindCancellation},
	{TicketOpened, KindTicketOpened},
	{TicketResolved, KindTicketResolved},
	{SurveyAnswered, KindAdvocacy},
	{ReviewPosted, KindAdvocacy},
	{SocialShared, KindAdvocacy},
	{ReferralMade, KindAdvocacy},
	{LoyaltyJoined, KindEngagement},
	{ReferralConverted, KindReferralCredit},
}

// ScoreAttr is the attribute that carries a survey answer's score on a
// [SurveyAnswered] event: an integer from 0 to 10 written in plain decimal,
// "0" to "10" (no sign, space or leading zero: "+5", " 5" and "05" are
// refused).
const ScoreAttr = "score"

// ReferredIDAttr is the attribute that names the referred customer on a
// [ReferralConverted] credit.
const ReferredIDAttr = "referred_id"

// Event is one thing a customer did, as reported by the shop. Its JSON form
// is stable: id, customer_id, type, time (RFC 3339), amount, currency,
// referrer_id and attrs, the last four omitted when empty (see
// [Event.MarshalJSON] and [Event.UnmarshalJSON]).
type Event struct {
	// ID is the idempotency key: recording the same ID twice for a customer
	// has the effect of recording it once.
	ID string `json:"id"`
	// CustomerID identifies the customer (or anonymous visitor).
	CustomerID string `json:"customer_id"`
	// Type is what happened.
	Type EventType `json:"type"`
	// Time is when it happened.
	Time time.Time `json:"time"`
	// Amount is a sum of money in minor units (cents), never negative: a
	// refund is an [OrderRefunded] event with a positive amount.
	Amount int64 `json:"amount,omitempty"`
	// Currency is the ISO 4217 code of Amount, such as "EUR"; required
	// when Amount is not zero. Validate checks its form, three upper-case
	// ASCII letters, not that the code is on ISO's list.
	Currency string `json:"currency,omitempty"`
	// ReferrerID is the customer who referred this one, if any.
	ReferrerID string `json:"referrer_id,omitempty"`
	// Attrs holds any further detail (product category, channel, score).
	Attrs map[string]string `json:"attrs,omitempty"`
}

// Limits on event fields; longer values are refused by [Event.Validate].
const (
	MaxIDLen        = 256  // bytes in ID, CustomerID and ReferrerID (see [ValidateID])
	MaxTypeLen      = 64   // bytes in Type
	MaxAttrs        = 64   // entries in Attrs
	MaxAttrKeyLen   = 64   // bytes in an attribute key
	MaxAttrValueLen = 1024 // bytes in an attribute value
)

// Limits on one customer's facts, which the Tracker keeps: an event that
// would give its customer a tally of a new type past MaxTallies, or a sum
// of a new type and currency past MaxSums, is refused (with a
// *[ValidationError] on "type" or "currency" wrapping [ErrInvalidEvent],
// and nothing stored for that customer's write), so that the work and
// memory of each event stay bounded whatever a customer's events name.
// A referral credit ([ReferralConverted]) is never refused: it adds at
// most one tally more. Facts a caller builds with [Facts.Add] have no
// such limit.
const (
	MaxTallies = 250 // distinct event types in one customer's Facts.Tallies
	MaxSums    = 250 // distinct (type, currency) pairs in one customer's Facts.Sums
)

// MaxCauseLen is the longest [Transition.Cause] the Tracker writes, in
// bytes: a cause is an event ID (at most [MaxIDLen] bytes), empty (a
// sweep), or the ID of a referral credit, [ReferralEventID] of a customer
// ID, which is "clm.referral:" and up to MaxIDLen bytes. Every store must
// hold causes this long (store/storetest checks it), so that no valid
// event makes one store refuse a write another accepts.
const MaxCauseLen = len(referralPrefix) + MaxIDLen

// Validate checks the event on its own, without a clock: every required
// field present (id, customer_id, type, time), IDs by the rule of
// [ValidateID] (referrer_id may be empty), attributes within limits and
// valid UTF-8 without NUL bytes, a known or vendor-prefixed type other
// than [ReferralConverted] (which only the Tracker records), a time in the
// years 1900 to 9999 (UTC), a non-negative amount with a well-formed
// currency, no self-referral, and a score on survey answers.
// It returns a *[ValidationError] wrapping [ErrInvalidEvent] for the
// first problem found, the fields checked in the order id, customer_id,
// type, time, amount, currency, referrer_id, attrs (of several bad
// attributes, the one whose key sorts first) and the score; for a nil e,
// one whose Field is "event".
// ([Tracker.Record] also refuses times too far in the future.)
func (e *Event) Validate() error {
	if e == nil {
		return invalid("event", "", "is nil")
	}
	if err := checkID("id", e.ID, true); err != nil {
		return err
	}
	if err := checkID("customer_id", e.CustomerID, true); err != nil {
		return err
	}
	if err := checkType(e.Type); err != nil {
		return err
	}
	if e.Type == ReferralConverted {
		return invalid("type", string(e.Type), "is a referral credit, which only the Tracker records (when a referred customer orders); record the referred customer's events with referrer_id instead")
	}
	if e.Time.IsZero() {
		return invalid("time", "", "is missing")
	}
	if e.Time.Before(minTime) || !e.Time.Before(maxTime) {
		return invalid("time", e.Time.Format(time.RFC3339Nano), "is out of range (years 1900 to 9999)")
	}
	if e.Amount < 0 {
		return invalid("amount", strconv.FormatInt(e.Amount, 10), "must not be negative (record refunds as order_refunded with a positive amount)")
	}
	if e.Currency != "" && !validCurrency(e.Currency) {
		return invalid("currency", e.Currency, "must be an ISO 4217 code of three upper-case letters")
	}
	if e.Amount != 0 && e.Currency == "" {
		return invalid("currency", "", "is required when amount is set")
	}
	if err := checkID("referrer_id", e.ReferrerID, false); err != nil {
		return err
	}
	if e.ReferrerID != "" && e.ReferrerID == e.CustomerID {
		return invalid("referrer_id", e.ReferrerID, "a customer cannot refer themselves")
	}
	if len(e.Attrs) > MaxAttrs {
		return invalid("attrs", strconv.Itoa(len(e.Attrs))+" entries", "has more than "+strconv.Itoa(MaxAttrs)+" entries")
	}
	// Of several bad attributes, the one with the least key is reported,
	// whatever the map's order.
	var bad error
	badKey := ""
	for k, v := range e.Attrs {
		var err error
		switch {
		case k == "" || len(k) > MaxAttrKeyLen || !cleanText(k):
			err = invalid("attrs", k, "keys must be 1 to "+strconv.Itoa(MaxAttrKeyLen)+" bytes of UTF-8 without NUL")
		case len(v) > MaxAttrValueLen || !cleanText(v):
			err = invalid("attrs."+k, v, "must be at most "+strconv.Itoa(MaxAttrValueLen)+" bytes of UTF-8 without NUL")
		}
		if err != nil && (bad == nil || k < badKey) {
			bad, badKey = err, k
		}
	}
	if bad != nil {
		return bad
	}
	if e.Type == SurveyAnswered {
		s, ok := e.Attrs[ScoreAttr]
		if !ok {
			return invalid("attrs.score", "", "is required on survey_answered")
		}
		if _, err := parseScore(s); err != nil {
			return invalid("attrs.score", s, "must be an integer from 0 to 10")
		}
	}
	return nil
}

// Score returns the survey score carried by a [SurveyAnswered] event (its
// [ScoreAttr] attribute); ok is false for an event of another type (whose
// attribute of that name is no survey score: Facts ignores it), without
// a score Validate would accept, or nil.
func (e *Event) Score() (int, bool) {
	if e == nil || e.Type != SurveyAnswered {
		return 0, false
	}
	s, ok := e.Attrs[ScoreAttr]
	if !ok {
		return 0, false
	}
	n, err := parseScore(s)
	return n, err == nil
}

// The range of event times Validate accepts: years 1900 to 9999, UTC.
var (
	minTime = time.Date(1900, 1, 1, 0, 0, 0, 0, time.UTC)
	maxTime = time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC)
)

// parseScore reads a score as ScoreAttr's doc describes it.
func parseScore(s string) (int, error) {
	switch {
	case len(s) == 1 && s[0] >= '0' && s[0] <= '9':
		return int(s[0] - '0'), nil
	case s == "10":
		return 10, nil
	}
	return 0, ErrInvalidEvent
}

// ValidateID checks an identifier (a customer, event or referrer ID) by
// the one rule every ID the library accepts follows, on every path (the
// fields of [Event], the JSON form, [FromSegment]):
//
//   - 1 to [MaxIDLen] bytes of valid UTF-8;
//   - no white space at either end (as [unicode.IsSpace] has it: " ",
//     U+00A0, U+3000 …; spaces inside are allowed);
//   - no control characters (Unicode category Cc: NUL, "\t", "\n",
//     ESC, DEL, U+0080–U+009F …), no format characters (Cf: the
//     invisible U+200B zero width space, U+200C/U+200D joiners, U+2060
//     word joiner, U+FEFF byte order mark, U+00AD soft hyphen, the
//     bidirectional marks and overrides U+200E/U+200F, U+202A–U+202E
//     and U+2066–U+2069 …) and no line or paragraph separators (Zl
//     U+2028, Zp U+2029), anywhere: such characters make two IDs that
//     look the same differ, or make an ID display as another.
//
// IDs are not normalised: they are compared byte by byte, so "é" as one
// code point (NFC) and as "e" and a combining accent (NFD) are two
// different IDs. Normalise them before recording if your sources mix
// forms.
//
// It returns nil or a *[ValidationError] naming field, wrapping
// [ErrInvalidEvent].
func ValidateID(field, id string) error { return checkID(field, id, true) }

func checkID(field, v string, required bool) error {
	if len(v) <= MaxIDLen && plainID(v) {
		return nil // the common case, in one pass
	}
	switch {
	case v == "":
		if required {
			return invalid(field, "", "is missing")
		}
		return nil
	case len(v) > MaxIDLen:
		return invalid(field, v, "is longer than "+strconv.Itoa(MaxIDLen)+" bytes")
	case !cleanText(v):
		return invalid(field, v, "must be valid UTF-8 without NUL bytes")
	case strings.TrimSpace(v) != v:
		return invalid(field, v, "must not start or end with white space")
	}
	if i, r := invisible(v); i >= 0 {
		return invalid(field, v, fmt.Sprintf("must not contain control, format or separator characters (Unicode Cc, Cf, Zl, Zp): U+%04X at byte %d", r, i))
	}
	return nil
}

// plainID reports whether s is a non-empty ID of printable ASCII (0x20 to
// 0x7e) that neither starts nor ends with a space, which [ValidateID]
// accepts: checkID's fast path.
func plainID(s string) bool {
	if len(s) == 0 || s[0] == ' ' || s[len(s)-1] == ' ' {
		return false
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c >= 0x7f {
			return false
		}
	}
	return true
}

// invisible returns the byte offset and value of the first character of s
// (valid UTF-8) that an ID must not contain (see [ValidateID]), or -1.
func invisible(s string) (int, rune) {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < 0x20 || c == 0x7f {
			return i, rune(c)
		}
		if c >= utf8.RuneSelf {
			for j, r := range s[i:] {
				if r < 0x20 || r == 0x7f || (r >= utf8.RuneSelf && unicode.In(r, unicode.Cc, unicode.Cf, unicode.Zl, unicode.Zp)) {
					return i + j, r
				}
			}
			return -1, 0
		}
	}
	return -1, 0
}

func checkType(t EventType) error {
	if t == "" {
		return invalid("type", "", "is missing")
	}
	if t.Standard() {
		return nil
	}
	s := string(t)
	if len(s) > MaxTypeLen {
		return invalid("type", s, "is longer than "+strconv.Itoa(MaxTypeLen)+" bytes")
	}
	dot := strings.IndexByte(s, '.')
	if dot <= 0 || dot == len(s)-1 || !typeChars(s) {
		return invalid("type", s, `is not a standard type; custom types are lower-case snake_case with a vendor prefix, like "acme.wishlist_added"`)
	}
	return nil
}

func typeChars(s string) bool {
	prevDot := true
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= 'a' && c <= 'z', c >= '0' && c <= '9', c == '_':
			prevDot = false
		case c == '.':
			if prevDot {
				return false
			}
			prevDot = true
		default:
			return false
		}
	}
	return !prevDot
}

func validCurrency(c string) bool {
	if len(c) != 3 {
		return false
	}
	for i := 0; i < 3; i++ {
		if c[i] < 'A' || c[i] > 'Z' {
			return false
		}
	}
	return true
}

func cleanText(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c == 0 {
			return false
		}
		if c >= utf8.RuneSelf {
			return utf8.ValidString(s[i:]) && strings.IndexByte(s[i:], 0) < 0
		}
	}
	return true
}
