package zentra

import (
	"math"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// RateLimit is what one response said about the rate limit in its X-RateLimit-* headers (or the IETF
// draft's RateLimit-* names when the X- ones are absent). A header that is absent or unreadable leaves
// its field at Limit 0, Remaining -1 or a zero Reset.
type RateLimit struct {
	Limit     int       // requests allowed per window
	Remaining int       // requests left in the window
	Reset     time.Time // when the window resets: the server's instant, read on the client's clock as is
	Received  time.Time // when the response's headers arrived, on the client's clock
	// Sent is when the request was handed to the transport, on the client's clock: the server answered
	// between Sent and Received.
	Sent time.Time
	// ServerDate is the response's Date header (one-second resolution), the server's clock when it
	// answered; zero when absent or unreadable. With Sent and Received it bounds the offset between the
	// server's clock and the client's, which Reset needs to be read right.
	ServerDate time.Time
}

// Bounds on what a server's timing headers may say before they are taken for garbage.
const (
	maxResetAhead  = 48 * time.Hour // a Reset or Retry-After further away than this is ignored
	maxResetBehind = 48 * time.Hour // an absolute Reset further in the past than this is ignored
	// epochFloor separates the two readings of X-RateLimit-Reset: below it (2001-09-09) the number is
	// seconds from now, as the IETF draft and some gateways send; above, Unix seconds as documented.
	epochFloor = 1e9
	// millisFloor: above it (2001-09-09 in milliseconds) the number is taken for Unix milliseconds.
	millisFloor = 1e12
)

// parseRateLimit reads the rate-limit headers of a response received at now. ok is false when none of
// them is present and readable.
func parseRateLimit(h http.Header, now time.Time) (rl RateLimit, ok bool) {
	rl = RateLimit{Remaining: -1, Received: now}
	get := func(name string) string {
		if v := h.Get("X-Ratelimit-" + name); v != "" {
			return v
		}
		return h.Get("Ratelimit-" + name)
	}
	if n, good := parseCount(get("Limit")); good && n > 0 {
		rl.Limit, ok = n, true
	}
	if n, good := parseCount(get("Remaining")); good {
		rl.Remaining, ok = n, true
	}
	if t, good := parseReset(get("Reset"), now); good {
		rl.Reset, ok = t, true
	}
	if ok {
		if d, err := http.ParseTime(h.Get("Date")); err == nil {
			rl.ServerDate = d
		}
	}
	return rl, ok
}

// parseCount reads a non-negative count; an IETF-style list ("100, 100;w=60") gives its first number.
func parseCount(v string) (int, bool) {
	if i := strings.IndexAny(v, ",;"); i >= 0 {
		v = v[:i]
	}
	n, err := strconv.Atoi(strings.TrimSpace(v))
	if err != nil || n < 0 {
		return 0, false
	}
	return n, true
}

// parseReset reads X-RateLimit-Reset. Zentra documents Unix seconds; a small number is read as seconds
// from now and a very large one as Unix milliseconds. Fractions are kept. A value that is not a finite
// non-negative number, or that lands more than two days away, is garbage and ignored.
func parseReset(v string, now time.Time) (time.Time, bool) {
	f, ok := parseSeconds(v)
	if !ok {
		return time.Time{}, false
	}
	var t time.Time
	switch {
	case f < epochFloor:
		t = now.Add(time.Duration(f * float64(time.Second)))
	case f < millisFloor:
		t = fromUnix(f)
	default:
		t = fromUnix(f / 1000)
	}
	if t.After(now.Add(maxResetAhead)) || t.Before(now.Add(-maxResetBehind)) {
		return time.Time{}, false
	}
	return t, true
}

func fromUnix(sec float64) time.Time {
	whole, frac := math.Modf(sec)
	return time.Unix(int64(whole), int64(frac*1e9))
}

// parseSeconds reads a finite, non-negative decimal number of seconds.
func parseSeconds(v string) (float64, bool) {
	v = strings.TrimSpace(v)
	if v == "" || len(v) > 32 {
		return 0, false
	}
	f, err := strconv.ParseFloat(v, 64)
	if err != nil || f < 0 || math.IsInf(f, 0) || math.IsNaN(f) || f > 1e15 {
		return 0, false
	}
	return f, true
}

// parseRetryAfter reads Retry-After as delay-seconds or an HTTP-date (RFC 9110), relative to now.
// A negative, unreadable or implausibly distant value is ignored; a date in the past means no wait.
func parseRetryAfter(v string, now time.Time) (time.Duration, bool) {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0, false
	}
	if f, ok := parseSeconds(v); ok {
		return secondsDuration(f)
	}
	t, err := http.ParseTime(v)
	if err != nil {
		return 0, false
	}
	d := max(t.Sub(now), 0)
	if d > maxResetAhead {
		return 0, false
	}
	return d, true
}

// secondsDuration turns a plausible number of seconds into a Duration.
func secondsDuration(f float64) (time.Duration, bool) {
	if f > maxResetAhead.Seconds() {
		return 0, false
	}
	return time.Duration(f * float64(time.Second)), true
}
