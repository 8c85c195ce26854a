package importer

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/zentra/zentra-import/jobdir"
	"github.com/zentra/zentra-import/sandbox"
	"github.com/zentra/zentra-import/zentra"
)

// TestOutageRule drives the watch with sequences of results: a number is a request of that row that got
// no answer, "ok" a success, "answer" an answer that is not one (a 500, a 422, a 429).
func TestOutageRule(t *testing.T) {
	cases := []struct {
		name    string
		workers int
		results []any
		want    []int // the positions (0-based) of the results that begin an outage
	}{
		{name: "before any success the fail-fast check decides", workers: 4,
			results: []any{1, 2, 3, 4, 5, 6, 7, 8}},
		{name: "as many rows in a row as workers", workers: 4,
			results: []any{"ok", 1, 2, 3, 4, 5, 6}, want: []int{4}},
		{name: "one row never answered is that row's trouble", workers: 4,
			results: []any{"ok", 7, 7, 7, 7, 7, 7, 7, 7, 7, 7}},
		{name: "three rows never answered, among four workers", workers: 4,
			results: []any{"ok", 7, 8, 9, 7, 8, 9, 7, 8, 9, 7, 8, 9}},
		{name: "any answer in between starts the count again", workers: 4,
			results: []any{"ok", 1, 2, 3, "answer", 4, 5, 6, "answer", 7, 8, 9, 10}, want: []int{12}},
		{name: "a row's retries in the run count once", workers: 4,
			results: []any{"ok", 1, 1, 2, 2, 3, 3, 4}, want: []int{7}},
		{name: "one worker: two rows", workers: 1,
			results: []any{"ok", 1, 1, 1, 2}, want: []int{4}},
		{name: "many workers: eight rows", workers: 64,
			results: []any{"ok", 1, 2, 3, 4, 5, 6, 7, 8, 9}, want: []int{8}},
		{name: "an answer ends it; the next one needs as many rows again", workers: 2,
			results: []any{"ok", 1, 2, 3, 4, "answer", 5, 6}, want: []int{2, 7}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			o := newOutage(tc.workers, 0)
			now := time.Unix(1_800_000_000, 0)
			var began []int
			for i, r := range tc.results {
				now = now.Add(10 * time.Millisecond)
				switch r := r.(type) {
				case int:
					if v := o.unanswered(now, r, "connection_refused", false); v.began {
						began = append(began, i)
					}
				case string:
					o.answered(now, r == "ok")
				}
			}
			assert.Equal(t, tc.want, began)
		})
	}
}

// TestOutageProbes: one probe at a time, the first once the requests in flight are back, then 1 s
// apart doubling to 30 s; the run stops once the API has given no answer for the maximum; the failures
// that revealed the outage are not charged to their rows; the first answer ends it.
func TestOutageProbes(t *testing.T) {
	lastAnswer := time.Unix(1_800_000_000, 0)
	o := newOutage(4, 2*time.Minute)
	o.answered(lastAnswer, true)
	now := lastAnswer.Add(5 * time.Second) // four requests time out together
	var streak uint64
	for row := 1; row <= 4; row++ {
		v := o.unanswered(now, row, "timeout", false)
		streak = v.streak
		assert.Equal(t, row == 4, v.outage, "row %d", row)
	}
	assert.True(t, o.became(streak), "the rows that revealed the outage are not charged for it")

	_, wake, err := o.gate(now, false)
	require.NoError(t, err)
	require.NotNil(t, wake, "the first probe waits for the requests still in flight")
	v := o.unanswered(now.Add(time.Second), 5, "timeout", true) // the last of them is back
	assert.True(t, v.outage, "a request that gets no answer during an outage is not its row's failure")
	select {
	case <-wake:
	default:
		t.Fatal("the waiters are woken when a request in flight comes back")
	}

	var gaps []time.Duration
	var lastProbe time.Time
	probeAt := now.Add(time.Second)
	for {
		d, wake, err := o.gate(probeAt, true)
		if err != nil {
			assert.Equal(t, KindAborted, KindOf(err))
			assert.Contains(t, err.Error(), "the API gave no answer for 2m0s (--max-outage)")
			assert.Contains(t, err.Error(), "timeout ×")
			assert.Contains(t, HintOf(err), "resumable")
			assert.False(t, probeAt.Before(lastAnswer.Add(2*time.Minute)), "not before --max-outage")
			break
		}
		require.Nil(t, wake)
		if d > 0 {
			probeAt = probeAt.Add(d)
			continue
		}
		o.probe()
		_, wake, _ = o.gate(probeAt, false)
		require.NotNil(t, wake, "one probe at a time")
		if !lastProbe.IsZero() {
			gaps = append(gaps, probeAt.Sub(lastProbe))
		}
		lastProbe = probeAt
		probeAt = probeAt.Add(200 * time.Millisecond) // refused quickly
		o.unanswered(probeAt, 6, "timeout", true)
	}
	want := []time.Duration{1200 * time.Millisecond, 2200 * time.Millisecond, 4200 * time.Millisecond,
		8200 * time.Millisecond, 16200 * time.Millisecond, 30200 * time.Millisecond, 30200 * time.Millisecond}
	require.GreaterOrEqual(t, len(gaps), len(want))
	assert.Equal(t, want, gaps[:len(want)], "from one probe to the next: 1 s doubling to 30 s (plus the probe's own 200 ms)")

	st := o.snapshot(probeAt)
	assert.Equal(t, 1, st.Count)
	assert.True(t, st.Ongoing)
	assert.Equal(t, len(gaps)+1, st.Probes)

	ended, lasted := o.answered(probeAt.Add(time.Second), false)
	assert.True(t, ended, "any answer ends the outage")
	assert.Equal(t, probeAt.Add(time.Second).Sub(lastAnswer), lasted)
	d, wake, err := o.gate(probeAt, true)
	assert.Zero(t, d)
	assert.Nil(t, wake)
	assert.NoError(t, err, "back to full pace")
	assert.False(t, o.snapshot(probeAt).Ongoing)
}

// TestPacerPausesThePoolInAnOutage: with the watch tripped, Wait lets one worker through and holds the
// others until the probe comes back; a probe given back before it was sent lets the next one through;
// a success lets everyone go; a streak broken by an answer is charged, one that revealed an outage is not.
func TestPacerPausesThePoolInAnOutage(t *testing.T) {
	clock := &fakeClock{now: time.Unix(1_800_000_000, 0)}
	p := NewPacer(PacerConfig{Ceiling: Rate{N: 1000, Per: time.Second}, Clock: clock, Workers: 3})
	ctx := context.Background()
	p.answered(true)
	broken := p.unanswered(1, "timeout")
	p.answered(false) // a 500: the API answers
	var streaks []uint64
	for row := 2; row <= 4; row++ {
		require.NoError(t, p.Wait(ctx))
		p.Done(0, false)
		streaks = append(streaks, p.unanswered(row, "connection_refused").streak)
	}
	streaks = append(streaks, broken.streak)
	assert.Equal(t, 3, p.refund(&streaks), "the failures that revealed the outage")
	assert.Equal(t, []uint64{broken.streak}, streaks, "a failure followed by an answer stays the row's")

	require.NoError(t, p.Wait(ctx), "the first probe goes at once")
	second := make(chan error, 1)
	go func() { second <- p.Wait(ctx) }()
	select {
	case <-second:
		t.Fatal("a second request went out while the probe was in flight")
	case <-time.After(50 * time.Millisecond):
	}
	p.Done(0, false)
	p.unanswered(5, "connection_refused")
	require.NoError(t, <-second, "the next probe, a second later")
	p.giveBack() // cancelled before it was sent
	require.NoError(t, p.Wait(ctx), "a probe given back lets the next go")
	p.Done(10*time.Millisecond, false)
	ended, _ := p.answered(true)
	assert.True(t, ended)
	for range 5 {
		require.NoError(t, p.Wait(ctx), "full pace")
	}
	assert.Equal(t, 1, p.Stats().Outage.Count)
	assert.Equal(t, 3, p.Stats().Outage.Probes)
}

// The run-level tests below run in a synctest bubble: the importer's clock is the wall clock, which in a
// bubble is virtual and moves only when every goroutine is blocked, so a 20-second outage, 10-second
// timeouts and minutes of probing pass in no real time, and in the order they would really happen. The
// sandbox serves in memory (no connection, no goroutine of its own).

// memoryTransport serves requests with a handler in memory.
type memoryTransport struct{ h http.Handler }

func (m memoryTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	rec := httptest.NewRecorder()
	m.h.ServeHTTP(rec, req)
	resp := rec.Result()
	resp.Request = req
	return resp, nil
}

// darkAPI is the sandbox until it goes dark: after the first `after` requests, for `lasts`, or for
// good when lasts is 0. A request in the dark gets no answer: its connection is refused, or, with hang,
// it hangs until the client gives up on it.
type darkAPI struct {
	next  http.RoundTripper
	after int
	lasts time.Duration
	hang  bool
	// onDark, if set, is called with each request met in the dark, numbered from 1.
	onDark func(n int)

	mu          sync.Mutex
	passed      int
	from, until time.Time
	dark        int
	healed      bool
}

func (d *darkAPI) RoundTrip(req *http.Request) (*http.Response, error) {
	d.mu.Lock()
	now := time.Now()
	if d.from.IsZero() && d.passed >= d.after {
		d.from, d.until = now, now.Add(d.lasts)
	}
	if d.healed || d.from.IsZero() || d.lasts > 0 && !now.Before(d.until) {
		d.passed++
		d.mu.Unlock()
		return d.next.RoundTrip(req)
	}
	d.dark++
	n := d.dark
	d.mu.Unlock()
	_ = req.Body.Close()
	if d.onDark != nil {
		d.onDark(n)
	}
	if d.hang {
		<-req.Context().Done()
		return nil, req.Context().Err()
	}
	return nil, &net.OpError{Op: "dial", Net: "tcp", Err: syscall.ECONNREFUSED}
}

// darkRequests counts the requests that met the dark.
func (d *darkAPI) darkRequests() int {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.dark
}

func (d *darkAPI) heal() {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.healed = true
}

// outageJob is a job of n rows against an in-memory sandbox that goes dark after `after` requests, with
// the default retry policy (without its jitter) and its log in the returned buffer (to read once Run has
// returned).
func outageJob(t *testing.T, n, after int, lasts time.Duration) (RunOptions, *darkAPI, *sandbox.Server, *bytes.Buffer) {
	t.Helper()
	key := "sk_sandbox_importer_test"
	sb, err := sandbox.New(sandbox.Config{Key: key})
	require.NoError(t, err)
	dir, input, m := testInput(t, n, nil)
	api := &darkAPI{next: memoryTransport{sb}, after: after, lasts: lasts}
	logs := &bytes.Buffer{} // the logger's handler serialises its writes
	o := RunOptions{
		Input: input, Mapping: m, Out: filepath.Join(dir, "job"), Key: zentra.Secret(key),
		APIURL: "http://127.0.0.1:1", Transport: api, Workers: 4, Rate: Rate{N: 100, Per: time.Second},
		IdempotencyHeader: zentra.IdempotencyKeyHeader, Quiet: true, Logger: NewLogger(logs, "text", false),
		Retry: DefaultRetryPolicy,
	}
	o.Retry.Jitter = func() float64 { return 0.5 }
	return o, api, sb, logs
}

// requireEachOnce checks that every row of the job was created, once, with the sandbox's id.
func requireEachOnce(t *testing.T, sb *sandbox.Server, out string, n int) {
	t.Helper()
	lines := readResults(t, out)
	require.Len(t, lines, n)
	ids := map[string]string{}
	for _, c := range sb.Customers() {
		_, seen := ids[c.ExternalReference]
		require.False(t, seen, "%s created twice", c.ExternalReference)
		ids[c.ExternalReference] = c.ID
	}
	for _, l := range lines {
		require.Equal(t, "created", l.Status, "row %d: %s", l.Row, l.Error)
		require.Equal(t, ids[l.ExternalReference], l.CustomerID, "row %d", l.Row)
	}
}

// TestRunWaitsOutAnOutage: the API stops answering for 20 s in the middle of a run. The pool pauses and
// probes: no row fails, even with one attempt a row (the rows whose requests revealed the outage are
// not charged for it), a few dozen requests at most meet the dark, every row is created once, and the
// log says when the API stopped and started answering, once each.
func TestRunWaitsOutAnOutage(t *testing.T) {
	for _, attempts := range []int{DefaultRetryPolicy.MaxAttempts, 1} {
		t.Run(fmt.Sprintf("max attempts %d", attempts), func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				o, api, sb, logs := outageJob(t, 200, 40, 20*time.Second)
				o.Retry.MaxAttempts = attempts
				start := time.Now()
				sum, err := Run(context.Background(), o)
				require.NoError(t, err, logs.String())
				assert.Equal(t, 0, sum.ExitCode)
				assert.Zero(t, sum.Counts["failed"])
				requireEachOnce(t, sb, o.Out, 200)

				dark := api.darkRequests()
				assert.LessOrEqual(t, dark, 24, "requests sent into the outage")
				require.NotNil(t, sum.Outage)
				assert.Equal(t, 1, sum.Outage.Count)
				assert.Equal(t, dark, sum.Outage.Requests)
				// From the last answer before to the first after: the 20 s, and the wait for the probe
				// that finds the API back (probes at 0, 1, 3, 7, 15, 31 s).
				assert.GreaterOrEqual(t, sum.Outage.Seconds, 20.0)
				assert.LessOrEqual(t, sum.Outage.Seconds, 36.0)
				assert.False(t, sum.Outage.StoppedRun)
				// 200 rows at 100/s, a 20 s outage, and the probe that finds the API back (at most 16 s late).
				assert.Less(t, time.Since(start), 2*time.Second+20*time.Second+16*time.Second)
				out := logs.String()
				assert.Equal(t, 1, strings.Count(out, "the API is not answering: pausing all workers, probing every 1s"), out)
				assert.Equal(t, 1, strings.Count(out, "the API answers again after"), out)
				assert.NotContains(t, out, "row failed")
				var text bytes.Buffer
				PrintSummary(&text, sum)
				assert.Contains(t, text.String(), "the API gave no answer once")
			})
		})
	}
}

// TestRunStopsAfterMaxOutage: the API goes dark for good, each request hanging until its timeout. After
// --max-outage without an answer the run stops, exit 3, saying so: resumable, the rows not done pending,
// none failed. With the API back, the same command finishes the job, every row created once.
func TestRunStopsAfterMaxOutage(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		o, api, sb, logs := outageJob(t, 100, 20, 0)
		o.Timeout, o.MaxOutage = 10*time.Second, 2*time.Minute
		api.hang = true
		start := time.Now()
		sum, err := Run(context.Background(), o)
		require.Error(t, err)
		assert.Equal(t, KindAborted, KindOf(err))
		assert.Contains(t, err.Error(), "the API gave no answer for 2m0s (--max-outage)")
		assert.Contains(t, err.Error(), "timeout ×")
		assert.Contains(t, HintOf(err), "resumable")
		assert.Contains(t, HintOf(err), "run the same command again")
		assert.Equal(t, 3, sum.ExitCode)
		assert.Zero(t, sum.Counts["failed"], "no row is failed for the outage")
		assert.Equal(t, 80, sum.Counts["pending"])
		assert.Contains(t, sum.Stopped, "the API gave no answer")
		require.NotNil(t, sum.Outage)
		assert.True(t, sum.Outage.StoppedRun)
		assert.InDelta(t, 120, sum.Outage.Seconds, 10)
		assert.Less(t, time.Since(start), 2*time.Minute+2*o.Timeout, "about --max-outage after the last answer")
		assert.LessOrEqual(t, api.darkRequests(), 12, "the requests in flight, then one probe at a time")
		for _, l := range readResults(t, o.Out) {
			assert.Equal(t, "created", l.Status, "row %d", l.Row)
		}
		saved, err := jobdir.ReadSummary(o.Out)
		require.NoError(t, err)
		require.NotNil(t, saved.Outage, "summary.json says the run stopped for an outage")
		assert.True(t, saved.Outage.StoppedRun)
		assert.Equal(t, 1, strings.Count(logs.String(), "the API is not answering"), logs.String())

		api.heal()
		sum, err = Run(context.Background(), o)
		require.NoError(t, err)
		assert.Equal(t, 0, sum.ExitCode)
		requireEachOnce(t, sb, o.Out, 100)
	})
}

// TestRunDownFromTheStartStillFailsFast: an API that never answered in this run is not waited for as an
// outage: the first 20 requests fail and the run stops, as before there were outages.
func TestRunDownFromTheStartStillFailsFast(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		o, api, _, logs := outageJob(t, 100, 0, 0)
		sum, err := Run(context.Background(), o)
		require.Error(t, err)
		assert.Equal(t, KindAborted, KindOf(err))
		assert.Contains(t, err.Error(), "the first 20 requests all failed (connection_refused ×20)")
		assert.Nil(t, sum.Outage, "not taken for an outage")
		assert.NotContains(t, logs.String(), "not answering")
		assert.LessOrEqual(t, api.darkRequests(), 20+o.Workers)
		assert.Equal(t, 100, sum.Counts["pending"])
	})
}

// TestRunInterruptedDuringAnOutage: a signal during an outage pause stops the run at once: no request
// is sent after it, and the pause is not waited out.
func TestRunInterruptedDuringAnOutage(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		o, api, _, _ := outageJob(t, 100, 20, 0)
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		var signalled atomic.Bool
		var after atomic.Int32
		api.onDark = func(int) {
			if signalled.Load() {
				after.Add(1)
			}
		}
		time.AfterFunc(10*time.Second, func() { signalled.Store(true); cancel() }) // well into the pause
		start := time.Now()
		sum, err := Run(ctx, o)
		assert.Equal(t, KindInterrupted, KindOf(err))
		assert.Less(t, time.Since(start), 11*time.Second, "the pause ends with the signal")
		assert.Zero(t, after.Load(), "no request after the signal")
		require.NotNil(t, sum.Outage)
		assert.True(t, sum.Outage.StoppedRun)
	})
}

// TestRunRowNeverAnsweredIsNoOutage: one row whose requests never get an answer (a gateway fails on that
// body) is failed after its attempts, as before: it does not pass for an outage that would hold the job.
func TestRunRowNeverAnsweredIsNoOutage(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		o, api, _, _ := outageJob(t, 30, 0, 0)
		api.healed = true
		o.Transport = &faultTransport{next: api, fault: func(_ *http.Request, body []byte) *http.Response {
			if bytes.Contains(body, []byte(`"crm-30"`)) {
				return answer(502, http.Header{"Content-Type": {"text/html"}}, "<html>502 Bad Gateway</html>")
			}
			return nil
		}}
		sum, err := Run(context.Background(), o)
		require.NoError(t, err)
		assert.Equal(t, 1, sum.ExitCode)
		assert.Equal(t, 1, sum.Counts["failed"])
		assert.Equal(t, 29, sum.Counts["created"])
		assert.Nil(t, sum.Outage)
		assert.Equal(t, 5, readResults(t, o.Out)[29].Attempts, "--max-attempts")
	})
}

// TestProgressSaysTheAPIIsNotAnswering: while the pool waits out an outage, the progress lines of a log
// nobody watches say why nothing moves.
func TestProgressSaysTheAPIIsNotAnswering(t *testing.T) {
	clock := &fakeClock{now: time.Unix(1_800_000_000, 0)}
	r := &reporter{c: &counters{}, clock: clock, started: clock.Now()}
	says := func() bool {
		for _, a := range r.progressAttrs() {
			if a.(slog.Attr).Key == "api_not_answering" {
				return true
			}
		}
		return false
	}
	assert.False(t, says())
	r.c.outage.Store(true)
	assert.True(t, says())
}
