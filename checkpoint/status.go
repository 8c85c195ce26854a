package checkpoint

import "fmt"

// Status is the outcome of one input row, as results.csv spells it.
type Status uint8

// The four outcomes of a row. The zero Status is not an outcome.
const (
	StatusCreated  Status = 1 + iota // the API created the customer
	StatusExisting                   // the API already had it (409 for the reference, or an idempotent replay)
	StatusFailed                     // given up after transient trouble; --retry-failed sends it again
	StatusRejected                   // bad data, never sent (or refused by the API as invalid)
)

var statusNames = [...]string{
	StatusCreated:  "created",
	StatusExisting: "existing",
	StatusFailed:   "failed",
	StatusRejected: "rejected",
}

// String returns the word results.csv uses: created, existing, failed or rejected.
func (s Status) String() string {
	if s.valid() {
		return statusNames[s]
	}
	return fmt.Sprintf("status(%d)", uint8(s))
}

func (s Status) valid() bool { return s >= StatusCreated && s <= StatusRejected }

// ParseStatus is the inverse of [Status.String].
func ParseStatus(s string) (Status, error) {
	for st := StatusCreated; st <= StatusRejected; st++ {
		if statusNames[st] == s {
			return st, nil
		}
	}
	return 0, fmt.Errorf("unknown status %q (want created, existing, failed or rejected)", s)
}
