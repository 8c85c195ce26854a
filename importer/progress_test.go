package importer

import (
	"bytes"
	"encoding/json"
	"fmt"
	"log/slog"
	"regexp"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/zentra/zentra-import/checkpoint"
)

// TestProgressRecordIsTyped: a JSON progress record carries numbers a monitor can compare, not a duration
// in nanoseconds or a rate as text (QA found "eta":15000000000 and "rows_per_second":"19.6").
func TestProgressRecordIsTyped(t *testing.T) {
	clock := &fakeClock{now: time.Unix(1_800_000_000, 0)}
	r := &reporter{c: &counters{}, clock: clock, started: clock.Now(), base: 10}
	r.total.Store(110)
	for range 20 {
		r.c.durable[checkpoint.StatusCreated].Add(1)
	}
	clock.now = clock.now.Add(4 * time.Second)

	var b bytes.Buffer
	slog.New(slog.NewJSONHandler(&b, nil)).Info("progress", r.progressAttrs()...)
	var rec map[string]any
	require.NoError(t, json.Unmarshal(b.Bytes(), &rec))
	assert.Equal(t, 110.0, rec["total"])
	assert.Equal(t, 5.0, rec["rows_per_second"], "20 rows in 4 s")
	assert.Equal(t, 16.0, rec["eta_seconds"], "80 rows left at 5 a second")
}

// resumedReporter is a reporter for a job of 10,000 rows resumed with 9,000 done (8,900 created, 100
// rejected), whose run has made 300 more durable (created) in 10 s of virtual time, with three 429s.
func resumedReporter(t *testing.T) (*reporter, *fakeClock) {
	t.Helper()
	clock := &fakeClock{now: time.Unix(1_800_000_000, 0)}
	r := &reporter{c: &counters{}, clock: clock, started: clock.Now()}
	r.resume(map[checkpoint.Status]int{checkpoint.StatusCreated: 8900, checkpoint.StatusRejected: 100})
	r.total.Store(10000)
	r.c.durable[checkpoint.StatusCreated].Add(300)
	r.c.requests.Add(303)
	r.c.rateLimited.Add(3)
	clock.now = clock.now.Add(10 * time.Second)
	return r, clock
}

// TestProgressOfAResumedJob: after a resume, the counts are the whole job's, and the rate and the time
// left are this run's (QA: created and rejected covered the run while done covered the job, and the rate
// and ETA were 20× off, the rows done before the run counted as done in it).
func TestProgressOfAResumedJob(t *testing.T) {
	r, _ := resumedReporter(t)
	var b bytes.Buffer
	slog.New(slog.NewJSONHandler(&b, nil)).Info("progress", r.progressAttrs()...)
	var rec map[string]any
	require.NoError(t, json.Unmarshal(b.Bytes(), &rec))
	for k, want := range map[string]float64{
		"done": 9300, "total": 10000, "created": 9200, "rejected": 100, "existing": 0, "failed": 0, "conflict": 0, // the job
		"run_rows": 300, "run_requests": 303, "run_rate_limited": 3, // this run
		"rows_per_second": 30, // 300 rows in 10 s, not 9,300
		"eta_seconds":     23, // 700 rows left at 30 a second
	} {
		assert.Equal(t, want, rec[k], k)
	}

	line := r.snapshot().line(200)
	assert.Contains(t, line, "9300/10000 rows")
	assert.Contains(t, line, "· 30 rows/s · ETA 23s · created 9200 · existing 0 · failed 0 · rejected 100 · 429s 3")
}

// TestProgressLineFitsTheTerminal: the bar's line is never wider than the terminal less a column (a wrapped
// line scrolls the terminal at every redraw), keeps its bar at barMin columns or more while it is drawn,
// and gives up the least useful parts first (QA: at 80 columns the bar had no width and the line wrapped).
func TestProgressLineFitsTheTerminal(t *testing.T) {
	r, _ := resumedReporter(t)
	for _, tt := range []struct {
		width int
		want  string
	}{
		{8, "93%"},
		{40, "93% [========> ] 9300/10000 · 30 rows/s"},
		{80, "93% [========> ] 9300/10000 · 30 rows/s · ETA 23s · created 9200 · rejected 100"},
		{200, "importing 93% [====================================>   ] 9300/10000 rows · 30 rows/s · ETA 23s · created 9200 · existing 0 · failed 0 · rejected 100 · 429s 3"},
	} {
		t.Run(fmt.Sprint(tt.width), func(t *testing.T) {
			assert.Equal(t, tt.want, r.snapshot().line(tt.width))
		})
	}

	r.c.outage.Store(true)
	assert.Equal(t, "93% [==========================>   ] 9300/10000 · 30 rows/s · API not answering", r.snapshot().line(80),
		"the outage said in fewer words before the rate goes")
	assert.Contains(t, r.snapshot().line(200), "· the API is not answering: paused, probing ·")

	bar := regexp.MustCompile(`\[([=> ]*)\]`)
	for _, outage := range []bool{false, true} {
		r.c.outage.Store(outage)
		for _, total := range []int64{10000, 0} { // 0: the rows are still being counted
			r.total.Store(total)
			for width := 0; width <= 240; width++ {
				line := r.snapshot().line(width)
				require.LessOrEqual(t, utf8.RuneCountInString(line), max(width-1, 0), "width %d: %q", width, line)
				if m := bar.FindStringSubmatch(line); m != nil {
					require.GreaterOrEqual(t, len(m[1]), barMin, "width %d: %q", width, line)
					require.LessOrEqual(t, len(m[1]), barMax, "width %d: %q", width, line)
				} else if total > 0 && (width >= 40 && !outage || width >= 50) {
					t.Fatalf("width %d: no bar in %q", width, line)
				}
			}
		}
	}
}

// TestProgressCountsARowSentAgainOnce: under --retry-failed the rows failed before are not done when the
// run starts (they are sent again), so a row failed before and created now counts once, as created.
func TestProgressCountsARowSentAgainOnce(t *testing.T) {
	dir := t.TempDir()
	b := checkpoint.Binding{InputSize: 100, InputSHA256: strings.Repeat("ab", 32), MappingHash: "m", APIURL: "http://127.0.0.1:1"}
	j, _, err := checkpoint.Open(dir, b, checkpoint.Options{CommitEvery: time.Millisecond})
	require.NoError(t, err)
	for row := 1; row <= 10; row++ {
		st := checkpoint.StatusCreated
		if row == 4 || row == 7 {
			st = checkpoint.StatusFailed
		}
		require.NoError(t, j.Record(checkpoint.Outcome{Row: row, Offset: int64(row * 10), End: int64(row*10 + 10), Ref: fmt.Sprint(row), Status: st}))
	}
	require.NoError(t, j.Close())

	for _, retry := range []bool{false, true} {
		j, st, err := checkpoint.Open(dir, b, checkpoint.Options{CommitEvery: time.Millisecond, RetryFailed: retry})
		require.NoError(t, err)
		require.NoError(t, j.Close())
		clock := &fakeClock{now: time.Unix(1_800_000_000, 0)}
		r := &reporter{c: &counters{}, clock: clock, started: clock.Now()}
		r.resume(st.Counts)
		r.total.Store(10)
		if retry {
			r.c.onDurable([]checkpoint.Outcome{{Row: 4, Status: checkpoint.StatusCreated}, {Row: 7, Status: checkpoint.StatusCreated}})
		}
		p := r.snapshot()
		assert.Equal(t, int64(10), p.done, "retry %v", retry)
		if retry {
			assert.Equal(t, int64(10), p.counts[checkpoint.StatusCreated])
			assert.Zero(t, p.counts[checkpoint.StatusFailed], "no longer failed")
		} else {
			assert.Equal(t, int64(8), p.counts[checkpoint.StatusCreated])
			assert.Equal(t, int64(2), p.counts[checkpoint.StatusFailed])
		}
	}
}

// TestReporterClearsTheBarForLogLines: a log line passing through the reporter clears the bar's line first
// and draws it again after, each draw within the terminal's width as it is at that moment.
func TestReporterClearsTheBarForLogLines(t *testing.T) {
	r, _ := resumedReporter(t)
	var out bytes.Buffer
	width := 80
	r.out, r.tty, r.width = &out, true, func() int { return width }
	r.mu.Lock()
	r.drawing = true
	r.drawLocked()
	r.mu.Unlock()
	_, err := r.Write([]byte("time=… level=WARN msg=\"row rejected\" row=17\n"))
	require.NoError(t, err)
	width = 40 // the window was made narrower
	r.mu.Lock()
	r.drawLocked()
	r.drawing = false
	r.clearLocked()
	r.mu.Unlock()
	assert.Equal(t, "\r93% [========> ] 9300/10000 · 30 rows/s · ETA 23s · created 9200 · rejected 100\x1b[K"+
		"\r\x1b[Ktime=… level=WARN msg=\"row rejected\" row=17\n"+
		"\r93% [========> ] 9300/10000 · 30 rows/s · ETA 23s · created 9200 · rejected 100\x1b[K"+
		"\r93% [========> ] 9300/10000 · 30 rows/s\x1b[K\r\x1b[K", out.String())
}
