package sandbox

import (
	"math"
	"sync"
	"time"
)

// Window is what the rate limiter saw in one Window-long interval aligned to the Unix epoch: the
// requests it let through and the ones it answered 429. In token-bucket mode the intervals are the same
// (the bucket itself has no windows), so that tests can read both modes alike.
type Window struct {
	Start   time.Time `json:"start"`
	Allowed int       `json:"allowed"`
	Limited int       `json:"limited"`
}

// maxWindows bounds the windows kept in Stats; older ones are forgotten (a day of one-minute windows
// is 1,440).
const maxWindows = 10000

// decision is the limiter's answer for one request: the X-RateLimit-* values and whether it may proceed.
type decision struct {
	allowed   bool
	limit     int
	remaining int
	reset     int64 // Unix seconds
	wait      int   // seconds until a request would be allowed again (at least 1)
}

// limiter plays one of the two readings of the documented limit: fixed windows aligned to the Unix epoch
// (so a whole-second window ends exactly at X-RateLimit-Reset), or a token bucket refilled continuously.
// One mutex guards it; the work under it is a few arithmetic operations.
type limiter struct {
	mu     sync.Mutex
	limit  int
	window int64 // nanoseconds
	bucket bool

	// fixed window
	winStart int64 // Unix nanoseconds; the window [winStart, winStart+window)
	used     int

	// token bucket
	capacity float64
	rate     float64 // tokens per nanosecond
	tokens   float64
	last     int64 // Unix nanoseconds of the last refill
	started  bool

	windows []Window
}

func newLimiter(c Config) *limiter {
	l := &limiter{limit: c.Limit, window: int64(c.Window), bucket: c.Bucket, winStart: math.MinInt64}
	if c.Bucket {
		l.capacity = float64(c.Burst)
		l.rate = float64(c.Limit) / float64(c.Window)
	}
	return l
}

// take counts one request at now and says whether it is allowed.
func (l *limiter) take(now time.Time) decision {
	t := now.UnixNano()
	l.mu.Lock()
	defer l.mu.Unlock()
	var d decision
	if l.bucket {
		d = l.bucketDecide(t, true)
	} else {
		d = l.fixedDecide(t, true)
	}
	l.record(t, d.allowed)
	return d
}

// peek reports the headers at now without counting a request (for answers given before the limiter:
// 401, 403, unknown routes).
func (l *limiter) peek(now time.Time) decision {
	t := now.UnixNano()
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.bucket {
		return l.bucketDecide(t, false)
	}
	return l.fixedDecide(t, false)
}

func (l *limiter) fixedDecide(t int64, consume bool) decision {
	start := floorDiv(t, l.window) * l.window
	used := l.used
	if start != l.winStart {
		used = 0
		if consume {
			l.winStart, l.used = start, 0
		}
	}
	d := decision{limit: l.limit, reset: ceilDiv(start+l.window, int64(time.Second))}
	if consume && used < l.limit {
		used++
		l.used = used
		d.allowed = true
	}
	d.remaining = l.limit - used
	d.wait = secondsCeil(start + l.window - t)
	return d
}

func (l *limiter) bucketDecide(t int64, consume bool) decision {
	if !l.started {
		l.tokens, l.last, l.started = l.capacity, t, true
	}
	if t > l.last {
		l.tokens = math.Min(l.capacity, l.tokens+float64(t-l.last)*l.rate)
		l.last = t
	}
	d := decision{limit: l.limit}
	if consume && l.tokens >= 1 {
		l.tokens--
		d.allowed = true
	}
	d.remaining = int(math.Floor(l.tokens))
	full := t + int64(math.Ceil((l.capacity-l.tokens)/l.rate))
	d.reset = ceilDiv(full, int64(time.Second))
	d.wait = secondsCeil(int64(math.Ceil((1 - l.tokens) / l.rate)))
	return d
}

// record adds one request to the statistics of its Window-aligned interval.
func (l *limiter) record(t int64, allowed bool) {
	start := floorDiv(t, l.window) * l.window
	i := len(l.windows) - 1
	for i >= 0 && l.windows[i].Start.UnixNano() > start {
		i-- // the clock went back: find the interval, or where it belongs
	}
	if i < 0 || l.windows[i].Start.UnixNano() != start {
		if len(l.windows) >= maxWindows {
			n := copy(l.windows, l.windows[maxWindows/2:])
			l.windows = l.windows[:n]
			i -= maxWindows / 2
			if i < -1 {
				return // older than anything kept
			}
		}
		i++
		l.windows = append(l.windows, Window{})
		copy(l.windows[i+1:], l.windows[i:])
		l.windows[i] = Window{Start: time.Unix(0, start).UTC()}
	}
	if allowed {
		l.windows[i].Allowed++
	} else {
		l.windows[i].Limited++
	}
}

func (l *limiter) snapshot() []Window {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]Window(nil), l.windows...)
}

func floorDiv(a, b int64) int64 {
	q := a / b
	if a%b != 0 && (a < 0) != (b < 0) {
		q--
	}
	return q
}

func ceilDiv(a, b int64) int64 { return -floorDiv(-a, b) }

// secondsCeil turns a wait in nanoseconds into whole seconds, at least 1.
func secondsCeil(ns int64) int {
	s := ceilDiv(ns, int64(time.Second))
	if s < 1 {
		return 1
	}
	return int(s)
}
