package checkpoint

import "fmt"

// Status is the outcome of one input row, as results.csv spells it.
type Status uint8

// The outcomes of a row. The zero Status is not an outcome.
const (
	StatusCreated  Status = 1 + iota // the API created the customer
	StatusExisting                   // the API already had it (409 for the reference, or an answer replayed to another job's request)
	StatusFailed                     // given up after transient trouble; --retry-failed sends it again
	StatusRejected                   // bad data, never sent (or refused by the API as invalid)
	// StatusConflict: the API refused the row's idempotency key, sent before with other values, and no id
	// says whether that earlier request created the customer. --retry-failed sends it again, with what
	// settles it (--lookup, or no idempotency header where references are unique).
	StatusConflict

	lastStatus = StatusConflict
)

var statusNames = [...]string{
	StatusCreated:  "created",
	StatusExisting: "existing",
	StatusFailed:   "failed",
	StatusRejected: "rejected",
	StatusConflict: "conflict",
}

// Statuses lists every outcome, in the order of the summary.
func Statuses() []Status {
	return []Status{StatusCreated, StatusExisting, StatusFailed, StatusRejected, StatusConflict}
}

// String returns the word results.csv uses: created, existing, failed, rejected or conflict.
func (s Status) String() string {
	if s.valid() {
		return statusNames[s]
	}
	return fmt.Sprintf("status(%d)", uint8(s))
}

func (s Status) valid() bool { return s >= StatusCreated && s <= lastStatus }

// Retried reports whether --retry-failed sends a row with this outcome again: failed, and conflict.
func (s Status) Retried() bool { return s == StatusFailed || s == StatusConflict }

// NeedsAttention reports whether a row with this outcome goes to rejects.csv: failed, rejected, conflict.
func (s Status) NeedsAttention() bool {
	return s == StatusFailed || s == StatusRejected || s == StatusConflict
}

// ParseStatus is the inverse of [Status.String].
func ParseStatus(s string) (Status, error) {
	for _, st := range Statuses() {
		if statusNames[st] == s {
			return st, nil
		}
	}
	return 0, fmt.Errorf("unknown status %q (want created, existing, failed, rejected or conflict)", s)
}
