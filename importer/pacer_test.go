package importer

import (
	"container/heap"
	"context"
	"math"
	"math/rand/v2"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// simServer models a rate-limited API in virtual time: a fixed window aligned to multiples of the window
// (as the sandbox does), or a token bucket; with an optional offset between its clock and the client's.
type simServer struct {
	limit  int
	window time.Duration
	bucket bool
	skew   time.Duration // server clock minus client clock
	// foreign is the share of each window another client of the same key spends at its start.
	foreign float64

	winStart time.Time
	count    int
	tokens   float64
	last     time.Time

	perWindow map[int64]int // window index → requests allowed
	limited   int
	limitedAt []time.Time
}

func (s *simServer) handle(clientNow time.Time) (ok bool, o Observation, reset time.Time) {
	now := clientNow.Add(s.skew)
	defer func() { o.ServerDate = now.Truncate(time.Second) }()
	if s.bucket {
		if s.last.IsZero() {
			s.tokens, s.last = float64(s.limit), now
		}
		s.tokens = math.Min(float64(s.limit), s.tokens+now.Sub(s.last).Seconds()*float64(s.limit)/s.window.Seconds())
		s.last = now
		ok = s.tokens >= 1
		if ok {
			s.tokens--
		}
		full := now.Add(time.Duration((float64(s.limit) - s.tokens) / float64(s.limit) * float64(s.window)))
		reset = time.Unix(int64(math.Ceil(float64(full.UnixNano())/1e9)), 0)
		o = Observation{Limit: s.limit, Remaining: int(s.tokens), Reset: reset}
	} else {
		idx := now.UnixNano() / int64(s.window)
		start := time.Unix(0, idx*int64(s.window))
		if !start.Equal(s.winStart) {
			s.winStart, s.count = start, int(s.foreign*float64(s.limit))
		}
		ok = s.count < s.limit
		if ok {
			s.count++
		}
		reset = start.Add(s.window)
		o = Observation{Limit: s.limit, Remaining: s.limit - s.count, Reset: time.Unix(int64(math.Ceil(float64(reset.UnixNano())/1e9)), 0)}
	}
	idx := now.UnixNano() / int64(s.window)
	if ok {
		s.perWindow[idx]++
	} else {
		s.limited++
		s.limitedAt = append(s.limitedAt, clientNow)
	}
	return ok, o, reset.Add(-s.skew)
}

type simEvent struct {
	at                   time.Time
	worker               int
	kind                 int // 0: wants to send, 1: sends, 3: reaches the server, 2: answer arrives
	latency, sentLatency time.Duration
	sent                 time.Time
	ok                   bool
	obs                  Observation
	reset                time.Time
}

type simQueue []simEvent

func (q simQueue) Len() int           { return len(q) }
func (q simQueue) Less(i, j int) bool { return q[i].at.Before(q[j].at) }
func (q simQueue) Swap(i, j int)      { q[i], q[j] = q[j], q[i] }
func (q *simQueue) Push(x any)        { *q = append(*q, x.(simEvent)) }
func (q *simQueue) Pop() any          { old := *q; e := old[len(old)-1]; *q = old[:len(old)-1]; return e }
func (q *simQueue) push(e simEvent)   { heap.Push(q, e) }
func (q *simQueue) pop() simEvent     { return heap.Pop(q).(simEvent) }
func (q *simQueue) empty() bool       { return len(*q) == 0 }

// simulate drives a pacer with workers that send back to back for the given virtual duration and returns
// the server's books.
func simulate(t *testing.T, p *Pacer, srv *simServer, start time.Time, workers int, latency, jitter time.Duration, d time.Duration) {
	simulateDated(t, p, srv, start, workers, latency, jitter, d, false)
}

// simulateDated is simulate, with answers that carry no Date header when noDate is set.
func simulateDated(t *testing.T, p *Pacer, srv *simServer, start time.Time, workers int, latency, jitter time.Duration, d time.Duration, noDate bool) {
	t.Helper()
	rng := rand.New(rand.NewPCG(1, 2))
	var q simQueue
	for w := 0; w < workers; w++ {
		q.push(simEvent{at: start, worker: w})
	}
	end := start.Add(d)
	for !q.empty() {
		e := q.pop()
		switch e.kind {
		case 0:
			if e.at.After(end) {
				continue
			}
			delay, granted := p.acquire(e.at)
			if granted {
				q.push(simEvent{at: e.at.Add(delay), worker: e.worker, kind: 1})
			} else {
				require.Positive(t, delay, "a refused request must say how long to wait")
				q.push(simEvent{at: e.at.Add(delay), worker: e.worker})
			}
		case 1:
			lat := latency
			if jitter > 0 {
				lat += time.Duration(rng.Int64N(int64(jitter)))
			}
			q.push(simEvent{at: e.at.Add(lat / 2), worker: e.worker, kind: 3, latency: lat - lat/2, sentLatency: lat / 2, sent: e.at})
		case 3:
			ok, obs, reset := srv.handle(e.at)
			q.push(simEvent{at: e.at.Add(e.latency), worker: e.worker, kind: 2, ok: ok, obs: obs, reset: reset, latency: e.latency, sentLatency: e.sentLatency, sent: e.sent})
		case 2:
			e.obs.Received, e.obs.Sent = e.at, e.sent
			if noDate {
				e.obs.ServerDate = time.Time{}
			}
			p.Observe(e.obs)
			p.Done(e.latency+e.sentLatency, !e.ok)
			if !e.ok {
				p.RateLimited(e.at, e.obs.Reset, 60*time.Second)
			}
			q.push(simEvent{at: e.at, worker: e.worker})
		}
	}
}

// utilisation returns the share of the limit used in each window that lies wholly inside [from, to).
func (s *simServer) utilisation(from, to time.Time) []float64 {
	var out []float64
	first := from.Add(s.skew).UnixNano()/int64(s.window) + 1
	last := to.Add(s.skew).UnixNano()/int64(s.window) - 1
	for i := first; i < last; i++ {
		out = append(out, float64(s.perWindow[i])/float64(s.limit))
	}
	return out
}

func TestPacerFollowsFixedWindows(t *testing.T) {
	// Start mid-window, not on a second boundary.
	start := time.Unix(1_800_000_000, 0).Add(1300 * time.Millisecond)
	cases := []struct {
		name    string
		limit   int
		window  time.Duration
		noDate  bool
		ceiling Rate
		plan    Rate
		workers int
		latency time.Duration
		jitter  time.Duration
		length  time.Duration
		skew    time.Duration
		foreign float64
	}{
		{name: "sandbox plan 100/min, 8 workers", limit: 100, window: time.Minute, workers: 8, latency: 80 * time.Millisecond, jitter: 40 * time.Millisecond, length: 6 * time.Minute},
		{name: "starter 1000/min, slow API", limit: 1000, window: time.Minute, workers: 16, latency: 400 * time.Millisecond, jitter: 300 * time.Millisecond, length: 10 * time.Minute, plan: Rate{N: LivePlanPerMinute, Per: time.Minute}},
		{name: "scale 10000/min, 32 workers", limit: 10000, window: time.Minute, workers: 32, latency: 60 * time.Millisecond, jitter: 30 * time.Millisecond, length: 4 * time.Minute, plan: Rate{N: LivePlanPerMinute, Per: time.Minute}},
		{name: "60 per 2s window", limit: 60, window: 2 * time.Second, workers: 8, latency: 5 * time.Millisecond, jitter: 5 * time.Millisecond, length: 40 * time.Second},
		{name: "600 per 10s window, one worker", limit: 600, window: 10 * time.Second, workers: 1, latency: 2 * time.Millisecond, length: 2 * time.Minute},
		{name: "server clock 300ms behind", limit: 100, window: time.Minute, workers: 8, latency: 50 * time.Millisecond, length: 5 * time.Minute, skew: -300 * time.Millisecond},
		{name: "server clock 300ms ahead", limit: 100, window: time.Minute, workers: 8, latency: 50 * time.Millisecond, length: 5 * time.Minute, skew: 300 * time.Millisecond},
		{name: "server clock 2.4s behind", limit: 100, window: time.Minute, workers: 8, latency: 50 * time.Millisecond, length: 5 * time.Minute, skew: -2400 * time.Millisecond},
		{name: "server clock 30s ahead", limit: 1000, window: time.Minute, workers: 8, latency: 50 * time.Millisecond, length: 5 * time.Minute, skew: 30 * time.Second},
		{name: "server clock 30s behind, 60 per 2s", limit: 60, window: 2 * time.Second, workers: 8, latency: 5 * time.Millisecond, length: 30 * time.Second, skew: -30 * time.Second},
		{name: "no Date header, server clock 300ms behind", limit: 100, window: time.Minute, workers: 8, latency: 50 * time.Millisecond, length: 5 * time.Minute, skew: -300 * time.Millisecond, noDate: true},
		{name: "another client spends 30% of each window", limit: 1000, window: time.Minute, workers: 8, latency: 50 * time.Millisecond, length: 5 * time.Minute, foreign: 0.3},
		{name: "user ceiling below the plan", limit: 1000, window: time.Minute, ceiling: Rate{N: 10, Per: time.Second}, workers: 8, latency: 50 * time.Millisecond, length: 5 * time.Minute},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			p := NewPacer(PacerConfig{Ceiling: tc.ceiling, Plan: tc.plan})
			srv := &simServer{limit: tc.limit, window: tc.window, skew: tc.skew, foreign: tc.foreign, perWindow: map[int64]int{}}
			simulateDated(t, p, srv, start, tc.workers, tc.latency, tc.jitter, tc.length, tc.noDate)
			assert.Zero(t, srv.limited, "requests refused with 429")
			use := srv.utilisation(start, start.Add(tc.length))
			require.NotEmpty(t, use)
			want := 0.97 * (1 - tc.foreign)
			if !tc.ceiling.Auto() {
				want = tc.ceiling.PerSecond() * tc.window.Seconds() / float64(tc.limit) * 0.97
			}
			for i, u := range use {
				assert.GreaterOrEqual(t, u, want, "window %d used %.1f%% of the limit", i, 100*u)
				assert.LessOrEqual(t, u, 1-tc.foreign)
			}
			assert.Equal(t, tc.window, p.Stats().Window, "window length learned from the headers")
		})
	}
}

func TestPacerFollowsATokenBucket(t *testing.T) {
	start := time.Unix(1_800_000_000, 0).Add(700 * time.Millisecond)
	cases := []struct {
		name   string
		limit  int
		window time.Duration
	}{
		{name: "100/min bucket", limit: 100, window: time.Minute},
		{name: "1000/min bucket", limit: 1000, window: time.Minute},
		{name: "60 per 2s bucket", limit: 60, window: 2 * time.Second},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			p := NewPacer(PacerConfig{})
			srv := &simServer{limit: tc.limit, window: tc.window, bucket: true, perWindow: map[int64]int{}}
			length := 9 * tc.window
			simulate(t, p, srv, start, 8, 40*time.Millisecond, 20*time.Millisecond, length)
			assert.True(t, p.Stats().Bucket, "recognised as a token bucket")
			// A bucket allows its burst once, then the refill rate: the steady windows must be near it.
			use := srv.utilisation(start.Add(3*tc.window), start.Add(length))
			require.NotEmpty(t, use)
			for i, u := range use {
				assert.GreaterOrEqual(t, u, 0.80, "window %d used %.1f%% of the refill rate", i, 100*u)
			}
			assert.LessOrEqual(t, srv.limited, 2, "429s against a bucket")
			t.Logf("share of the refill rate used, each steady window: %.1f%% (429s: %d)", percents(use), srv.limited) // BENCHMARKS.md
		})
	}
}

func TestPacerWithoutHeadersKeepsThePlanRate(t *testing.T) {
	start := time.Unix(1_800_000_000, 0)
	p := NewPacer(PacerConfig{Plan: Rate{N: 120, Per: time.Minute}})
	now := start
	sent := 0
	for now.Before(start.Add(time.Minute)) {
		d, ok := p.acquire(now)
		now = now.Add(d)
		if ok {
			sent++
			p.Done(0, false)
		}
	}
	assert.InDelta(t, 120, sent, 2)
}

func TestPacerPausesEveryoneOn429(t *testing.T) {
	start := time.Unix(1_800_000_000, 0)
	guard := NewPacer(PacerConfig{}).guard()
	cases := []struct {
		name       string
		reset      time.Time
		retryAfter time.Duration
		want       time.Time
	}{
		{name: "reset named", reset: start.Add(7 * time.Second), retryAfter: 60 * time.Second, want: start.Add(7 * time.Second).Add(guard)},
		{name: "only Retry-After", retryAfter: 60 * time.Second, want: start.Add(60 * time.Second)},
		{name: "reset already past by our clock", reset: start.Add(-5 * time.Second), retryAfter: 30 * time.Second, want: start.Add(minPause)},
		{name: "nothing named", want: start.Add(time.Second)},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			p := NewPacer(PacerConfig{Ceiling: Rate{N: 1000, Per: time.Second}})
			until := p.RateLimited(start, tc.reset, tc.retryAfter)
			assert.Equal(t, tc.want, until)
			d, ok := p.acquire(start.Add(100 * time.Millisecond))
			assert.False(t, ok)
			assert.Equal(t, tc.want.Sub(start.Add(100*time.Millisecond)), d)
			_, ok = p.acquire(tc.want)
			assert.True(t, ok)
		})
	}
	t.Run("429s answered together are one pause", func(t *testing.T) {
		p := NewPacer(PacerConfig{})
		reset := start.Add(1500 * time.Millisecond)
		want := reset.Add(guard)
		for i := 0; i < 8; i++ {
			assert.Equal(t, want, p.RateLimited(start.Add(time.Duration(i)*time.Millisecond), reset, 60*time.Second))
		}
		assert.Equal(t, 1, p.Stats().Pauses)
	})
	t.Run("the third refusal in a row without a success waits Retry-After", func(t *testing.T) {
		p := NewPacer(PacerConfig{})
		now := start
		for i := 1; i <= 3; i++ {
			until := p.RateLimited(now, now.Add(time.Second), 60*time.Second)
			if i < 3 {
				assert.Equal(t, now.Add(time.Second).Add(guard), until, "refusal %d", i)
			} else {
				assert.Equal(t, now.Add(60*time.Second), until, "refusal %d", i)
			}
			now = until
		}
		p.Done(10*time.Millisecond, false) // a success clears the count
		until := p.RateLimited(now, now.Add(time.Second), 60*time.Second)
		assert.Equal(t, now.Add(time.Second).Add(guard), until)
	})
	t.Run("a late 429 about the last window leaves the next one alone", func(t *testing.T) {
		p := NewPacer(PacerConfig{})
		w0 := time.Unix(1_800_000_060, 0)
		p.Observe(Observation{Limit: 100, Remaining: 0, Reset: w0, Received: w0.Add(-time.Second)})
		p.Observe(Observation{Limit: 100, Remaining: 50, Reset: w0.Add(time.Minute), Received: w0.Add(time.Second)})
		p.Observe(Observation{Limit: 100, Remaining: 49, Reset: w0.Add(time.Minute), Received: w0.Add(2 * time.Second)})
		// A request the server counted in the last window comes back refused after we moved on.
		p.RateLimited(w0.Add(3*time.Second), w0, 60*time.Second)
		p.mu.Lock()
		assert.Equal(t, 49, p.remaining, "the current window keeps its budget")
		assert.Equal(t, w0.Add(time.Minute), p.reset)
		p.mu.Unlock()
	})
}

// fakeClock advances only when someone sleeps; it lets Wait run through minutes of pacing instantly.
type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *fakeClock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.now }

func (c *fakeClock) Sleep(ctx context.Context, d time.Duration) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
	return nil
}

func TestPacerWaitHonoursTheCeilingAndContext(t *testing.T) {
	clock := &fakeClock{now: time.Unix(1_800_000_000, 0)}
	p := NewPacer(PacerConfig{Ceiling: Rate{N: 10, Per: time.Second}, Clock: clock})
	start := clock.Now()
	for i := 0; i < 50; i++ {
		require.NoError(t, p.Wait(context.Background()))
		p.Done(0, false)
	}
	assert.InDelta(t, 4.9, clock.Now().Sub(start).Seconds(), 0.01, "50 requests at 10/s")

	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	assert.ErrorIs(t, p.Wait(ctx), context.Canceled)
	p.mu.Lock()
	assert.Zero(t, p.outstanding, "a cancelled wait holds no slot")
	p.mu.Unlock()
}

func TestParseRate(t *testing.T) {
	cases := []struct {
		in      string
		want    Rate
		wantErr string
	}{
		{in: "auto", want: Rate{}},
		{in: "", want: Rate{}},
		{in: "100/min", want: Rate{N: 100, Per: time.Minute}},
		{in: "1,000/min", want: Rate{N: 1000, Per: time.Minute}},
		{in: "20/s", want: Rate{N: 20, Per: time.Second}},
		{in: "5000/h", want: Rate{N: 5000, Per: time.Hour}},
		{in: "60/2s", want: Rate{N: 60, Per: 2 * time.Second}},
		{in: " 7/SEC ", want: Rate{N: 7, Per: time.Second}},
		{in: "100", wantErr: "want N/s, N/min, N/h or auto"},
		{in: "0/min", wantErr: "not a positive whole number"},
		{in: "-3/s", wantErr: "not a positive whole number"},
		{in: "ten/s", wantErr: "not a positive whole number"},
		{in: "10/fortnight", wantErr: `unknown unit "fortnight"`},
		{in: "10/-1s", wantErr: "unknown unit"},
	}
	for _, tc := range cases {
		t.Run(tc.in, func(t *testing.T) {
			got, err := ParseRate(tc.in)
			if tc.wantErr != "" {
				require.ErrorContains(t, err, tc.wantErr)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tc.want, got)
		})
	}
	assert.Equal(t, "100/min", Rate{N: 100, Per: time.Minute}.String())
	assert.Equal(t, "auto", Rate{}.String())
}

func TestPacerAdoptsAPlanChange(t *testing.T) {
	// The tenant's plan is upgraded from 100/min to 1,000/min while the import runs.
	start := time.Unix(1_800_000_000, 0).Add(500 * time.Millisecond)
	p := NewPacer(PacerConfig{})
	srv := &simServer{limit: 100, window: time.Minute, perWindow: map[int64]int{}}
	simulate(t, p, srv, start, 8, 50*time.Millisecond, 20*time.Millisecond, 3*time.Minute)
	srv.limit = 1000
	later := start.Add(3 * time.Minute)
	simulate(t, p, srv, later, 8, 50*time.Millisecond, 20*time.Millisecond, 4*time.Minute)
	assert.Zero(t, srv.limited)
	use := srv.utilisation(later, later.Add(4*time.Minute))
	require.NotEmpty(t, use)
	for i, u := range use {
		assert.GreaterOrEqual(t, u, 0.97, "window %d after the upgrade", i)
	}
	assert.Equal(t, 1000, p.Stats().AnnouncedMax)
}

// percents turns shares into percentages, for a log line.
func percents(use []float64) []float64 {
	out := make([]float64, len(use))
	for i, u := range use {
		out[i] = 100 * u
	}
	return out
}
