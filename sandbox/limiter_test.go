package sandbox

import (
	"fmt"
	"net/http"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// step is one request of a rate-limit scenario and what its answer must say.
type step struct {
	advance   time.Duration // clock moves before the request
	status    int
	remaining int
	reset     int64 // Unix seconds
	retry     int   // Retry-After on a 429
}

func runSteps(t *testing.T, cfg Config, clk *clock, steps []step) *Server {
	t.Helper()
	cfg.Now = clk.Now
	s := newServer(t, cfg)
	for i, st := range steps {
		clk.Advance(st.advance)
		a := serve(t, s, post(body(fmt.Sprintf("ref-%d", i)), ""))
		require.Equal(t, st.status, a.Status, "step %d: %s", i, a.Raw)
		assert.Equal(t, strconv.Itoa(cfg.Limit), a.Header.Get(HeaderLimit), "step %d", i)
		assert.Equal(t, strconv.Itoa(st.remaining), a.Header.Get(HeaderRemaining), "step %d", i)
		assert.Equal(t, strconv.FormatInt(st.reset, 10), a.Header.Get(HeaderReset), "step %d", i)
		if st.status == http.StatusTooManyRequests {
			assert.Equal(t, CodeRateLimitExceeded, a.errCode())
			assert.Equal(t, strconv.Itoa(st.retry), a.Header.Get("Retry-After"), "step %d", i)
			assert.Equal(t, float64(st.retry), a.path("error.details.retry_after"), "step %d", i)
		} else {
			assert.Empty(t, a.Header.Get("Retry-After"))
		}
	}
	return s
}

// t0 is a Unix time in seconds: even, 2 s past a multiple of 3, 20 s past a whole minute.
const t0 = 1_700_000_000

func TestFixedWindow(t *testing.T) {
	t.Run("documented minute", func(t *testing.T) {
		clk := newClock(time.Unix(t0+13, 250e6)) // 13.25 s into the minute starting at t0-20
		start := int64(t0 - 20)                  // t0 is 1,700,000,000 = 28,333,333 minutes and 20 s
		s := runSteps(t, Config{Limit: 3}, clk, []step{
			{0, 201, 2, start + 60, 0},
			{time.Second, 201, 1, start + 60, 0},
			{0, 201, 0, start + 60, 0},
			{0, 429, 0, start + 60, 60},
			{20 * time.Second, 429, 0, start + 60, 60},
			{5*time.Second + 750*time.Millisecond, 201, 2, start + 120, 0}, // exactly the next window
			{59 * time.Second, 201, 1, start + 120, 0},
		})
		st := s.Stats()
		assert.Equal(t, []Window{
			{Start: time.Unix(start, 0).UTC(), Allowed: 3, Limited: 2},
			{Start: time.Unix(start+60, 0).UTC(), Allowed: 2},
		}, st.Windows)
		assert.Equal(t, 2, st.RateLimited)
		assert.Equal(t, 3, st.Limit)
		assert.Equal(t, 60.0, st.WindowSeconds)
	})
	t.Run("two-second window, retry after the window", func(t *testing.T) {
		clk := newClock(time.Unix(t0, 100e6))
		runSteps(t, Config{Limit: 2, Window: 2 * time.Second, RetryAfter: -1}, clk, []step{
			{0, 201, 1, t0 + 2, 0},
			{0, 201, 0, t0 + 2, 0},
			{0, 429, 0, t0 + 2, 2}, // 1.9 s left, rounded up
			{1800 * time.Millisecond, 429, 0, t0 + 2, 1},
			{100 * time.Millisecond, 201, 1, t0 + 4, 0},
		})
	})
	t.Run("sub-second window rounds reset up", func(t *testing.T) {
		clk := newClock(time.Unix(t0, 100e6))
		runSteps(t, Config{Limit: 1, Window: 300 * time.Millisecond, RetryAfter: 5}, clk, []step{
			{0, 201, 0, t0 + 1, 0}, // windows are aligned to the epoch: this one is [t0+0.1, t0+0.4)
			{0, 429, 0, t0 + 1, 5},
			{300 * time.Millisecond, 201, 0, t0 + 1, 0}, // [t0+0.4, t0+0.7)
		})
	})
	t.Run("answers before the limiter carry its headers and cost nothing", func(t *testing.T) {
		clk := newClock(time.Unix(t0, 0))
		s := newServer(t, Config{Limit: 2, Now: clk.Now})
		require.Equal(t, 201, serve(t, s, post(body("a"), "")).Status)
		noAuth := post(body("b"), "")
		noAuth.auth = ""
		for range 5 {
			a := serve(t, s, noAuth)
			require.Equal(t, 401, a.Status)
			assert.Equal(t, "1", a.Header.Get(HeaderRemaining))
		}
		assert.Equal(t, "1", serve(t, s, request{method: "GET", path: "/nope"}).Header.Get(HeaderRemaining))
		clk.Advance(time.Minute)
		a := serve(t, s, noAuth)
		assert.Equal(t, "2", a.Header.Get(HeaderRemaining), "a new window, seen without being counted")
		assert.Equal(t, strconv.Itoa(t0-20+120), a.Header.Get(HeaderReset))
		assert.Equal(t, 201, serve(t, s, post(body("b"), "")).Status)
		assert.Equal(t, []Window{{Start: time.Unix(t0-20, 0).UTC(), Allowed: 1}, {Start: time.Unix(t0+40, 0).UTC(), Allowed: 1}}, s.Stats().Windows)
	})
	t.Run("every kind of request counts once admitted", func(t *testing.T) {
		clk := newClock(time.Unix(t0, 0))
		s := newServer(t, Config{Limit: 3, Now: clk.Now, Lookup: true})
		assert.Equal(t, 422, serve(t, s, post(`{}`, "")).Status)
		assert.Equal(t, 404, serve(t, s, request{method: "GET", path: CustomersPath + "?external_reference=x", auth: "Bearer " + testKey}).Status)
		assert.Equal(t, 201, serve(t, s, post(body("x"), "")).Status)
		assert.Equal(t, 429, serve(t, s, post(body("y"), "")).Status)
	})
}

func TestTokenBucket(t *testing.T) {
	t.Run("refills continuously", func(t *testing.T) {
		clk := newClock(time.Unix(t0, 0))
		steps := []step{{0, 201, 2, t0 + 1, 0}} // 3 per 3 s: a token a second
		steps = append(steps,
			step{0, 201, 1, t0 + 2, 0},
			step{0, 201, 0, t0 + 3, 0},
			step{0, 429, 0, t0 + 3, 60},
			step{500 * time.Millisecond, 429, 0, t0 + 3, 60},  // half a token
			step{500 * time.Millisecond, 201, 0, t0 + 4, 0},   // one token, spent
			step{10 * time.Second, 201, 2, t0 + 11 + 1, 0},    // full again, one spent
			step{1500 * time.Millisecond, 201, 2, t0 + 14, 0}, // 2 + 1.5 capped at 3, one spent: full at 13.5 s
		)
		s := runSteps(t, Config{Limit: 3, Window: 3 * time.Second, Bucket: true}, clk, steps)
		st := s.Stats()
		assert.Equal(t, []Window{
			{Start: time.Unix(t0-2, 0).UTC(), Allowed: 3, Limited: 2}, // t0 is 2 s into a 3 s interval
			{Start: time.Unix(t0+1, 0).UTC(), Allowed: 1},
			{Start: time.Unix(t0+10, 0).UTC(), Allowed: 2},
		}, st.Windows)
	})
	t.Run("burst above the limit", func(t *testing.T) {
		clk := newClock(time.Unix(t0, 0))
		s := newServer(t, Config{Limit: 100, Bucket: true, Burst: 150, Now: clk.Now, RetryAfter: -1})
		for i := range 150 {
			a := serve(t, s, post(body(fmt.Sprint("b", i)), ""))
			require.Equal(t, 201, a.Status, i)
			assert.Equal(t, "100", a.Header.Get(HeaderLimit))
			assert.Equal(t, strconv.Itoa(149-i), a.Header.Get(HeaderRemaining))
		}
		a := serve(t, s, post(body("over"), ""))
		require.Equal(t, 429, a.Status)
		assert.Equal(t, "1", a.Header.Get("Retry-After"), "a token comes every 0.6 s")
		assert.Equal(t, strconv.Itoa(t0+90), a.Header.Get(HeaderReset), "150 tokens at 100/min: full after 90 s")
	})
}

func TestWindowsAreBounded(t *testing.T) {
	clk := newClock(time.Unix(t0, 0))
	s := newServer(t, Config{Limit: 1, Window: time.Second, Now: clk.Now})
	for i := range maxWindows + 10 {
		serve(t, s, post(body(fmt.Sprint(i)), ""))
		clk.Advance(time.Second)
	}
	ws := s.Stats().Windows
	assert.LessOrEqual(t, len(ws), maxWindows)
	assert.Equal(t, time.Unix(t0+maxWindows+9, 0).UTC(), ws[len(ws)-1].Start)

	// A clock that steps back finds its interval, or makes one in its place.
	clk.Advance(-3 * time.Second)
	serve(t, s, post(body("back"), ""))
	clk.Advance(-time.Hour)
	serve(t, s, post(body("far back"), ""))
	ws = s.Stats().Windows
	for i := 1; i < len(ws); i++ {
		require.True(t, ws[i-1].Start.Before(ws[i].Start), "ordered at %d", i)
	}
}

func TestParseLimit(t *testing.T) {
	tests := []struct {
		in     string
		n      int
		window time.Duration
		err    bool
	}{
		{"100/min", 100, time.Minute, false},
		{"10/s", 10, time.Second, false},
		{"5000/h", 5000, time.Hour, false},
		{"60/2s", 60, 2 * time.Second, false},
		{"60/2min", 60, 2 * time.Minute, false},
		{"90/1m30s", 90, 90 * time.Second, false},
		{"3/500ms", 3, 500 * time.Millisecond, false},
		{" 7 / minute ", 7, time.Minute, false},
		{"1/HOUR", 1, time.Hour, false},
		{"0", 0, 0, false},
		{"off", 0, 0, false},
		{"0/min", 0, 0, false},
		{"100", 0, 0, true},
		{"", 0, 0, true},
		{"-1/min", 0, 0, true},
		{"1.5/s", 0, 0, true},
		{"1,000/min", 0, 0, true},
		{"100/fortnight", 0, 0, true},
		{"100/0s", 0, 0, true},
		{"100/-1s", 0, 0, true},
		{"100/1us", 0, 0, true},
		{"100/25h", 0, 0, true},
		{"100/99999999999999999999min", 0, 0, true},
		{"100/min/s", 0, 0, true},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			n, w, err := ParseLimit(tt.in)
			if tt.err {
				require.Error(t, err)
				assert.Contains(t, err.Error(), "rate limit")
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tt.n, n)
			assert.Equal(t, tt.window, w)
		})
	}
}
