package importer

import (
	"math/rand/v2"
	"time"
)

// RetryPolicy decides how often and how long to wait before a row's request is tried again after a
// transient failure (a 5xx, a timeout, a connection lost before the answer). It is a value so that
// tests can make it instant. A 429 is not a failure of the row: the pacer pauses everyone, and the
// attempt does not count against MaxAttempts.
type RetryPolicy struct {
	MaxAttempts int           // requests per row, the first included
	Base        time.Duration // the first backoff's upper bound
	Cap         time.Duration // no backoff is longer
	// Jitter returns a number in [0, 1); nil means math/rand.
	Jitter func() float64
}

// DefaultRetryPolicy is what `run` uses unless told otherwise.
var DefaultRetryPolicy = RetryPolicy{MaxAttempts: 5, Base: 500 * time.Millisecond, Cap: 30 * time.Second}

// Backoff is the wait before attempt number next (2 for the first retry): "full jitter", a uniform draw
// in [0, min(Cap, Base·2^(next-2))), which spreads the retries of many workers apart. A server's own
// Retry-After, when it names one, is waited instead if it is longer, up to serverWaitFactor×Cap (five
// minutes by default): a 503 that asks for hours must not hold a worker, silent, for hours; the row fails
// after its attempts and --retry-failed takes it later.
func (p RetryPolicy) Backoff(next int, serverSays time.Duration) time.Duration {
	ceiling := p.Cap
	if n := max(next-2, 0); n < 30 {
		if d := p.Base << n; d > 0 && d < ceiling {
			ceiling = d
		}
	}
	jitter := p.Jitter
	if jitter == nil {
		jitter = rand.Float64
	}
	d := time.Duration(jitter() * float64(ceiling))
	return max(d, min(serverSays, serverWaitFactor*p.Cap))
}

// serverWaitFactor bounds a server's Retry-After on a failed request, in multiples of Cap.
const serverWaitFactor = 10

// Retry reports whether a row that has used attempts requests may try again.
func (p RetryPolicy) Retry(attempts int) bool {
	return attempts < max(p.MaxAttempts, 1)
}
