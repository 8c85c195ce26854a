package monitor

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// parseFile reads a metrics file as a Prometheus server would: every family, by name.
func parseFile(t testing.TB, path string) map[string]*dto.MetricFamily {
	t.Helper()
	b, err := os.ReadFile(path)
	require.NoError(t, err)
	families, err := parseText(b)
	require.NoError(t, err, "%s", b)
	return families
}

func parseText(b []byte) (map[string]*dto.MetricFamily, error) {
	p := expfmt.NewTextParser(model.LegacyValidation)
	return p.TextToMetricFamilies(bytes.NewReader(b))
}

// sample is the value of the one metric of family name whose labels include want (label, value pairs),
// and whether there is one.
func sample(families map[string]*dto.MetricFamily, name string, want ...string) (float64, bool) {
	mf := families[Prefix+name]
	if mf == nil {
		return 0, false
	}
	for _, m := range mf.GetMetric() {
		labels := map[string]string{}
		for _, l := range m.GetLabel() {
			labels[l.GetName()] = l.GetValue()
		}
		match := true
		for i := 0; i < len(want); i += 2 {
			match = match && labels[want[i]] == want[i+1]
		}
		if !match {
			continue
		}
		switch mf.GetType() {
		case dto.MetricType_COUNTER:
			return m.GetCounter().GetValue(), true
		default:
			return m.GetGauge().GetValue(), true
		}
	}
	return 0, false
}

// requireFigures checks that families say f, every figure, for feed.
func requireFigures(t *testing.T, families map[string]*dto.MetricFamily, feed string, f Figures) {
	t.Helper()
	for i, n := range f.Rows.byStatus() {
		v, ok := sample(families, "rows", "feed", feed, "status", statuses[i])
		require.True(t, ok, statuses[i])
		assert.Equal(t, float64(n), v, statuses[i])
	}
	for i, n := range f.Requests.byClass() {
		v, ok := sample(families, "requests_total", "feed", feed, "class", classes[i])
		require.True(t, ok, classes[i])
		assert.Equal(t, float64(n), v, classes[i])
	}
	for name, want := range map[string]float64{
		"rate_limit_paused_seconds_total": f.PausedSeconds,
		"run_duration_seconds":            f.Seconds,
		"run_start_timestamp_seconds":     float64(f.Started.Unix()),
		"plan_limit_requests":             float64(f.PlanLimit),
		"plan_window_seconds":             f.PlanWindowSeconds,
	} {
		v, ok := sample(families, name, "feed", feed)
		require.True(t, ok, name)
		assert.Equal(t, want, v, name)
	}
	assert.Equal(t, dto.MetricType_COUNTER, families[Prefix+"requests_total"].GetType())
	assert.Equal(t, dto.MetricType_COUNTER, families[Prefix+"rate_limit_paused_seconds_total"].GetType())
	assert.Equal(t, dto.MetricType_GAUGE, families[Prefix+"rows"].GetType())
}

func openTestMetrics(t *testing.T, path, feed string, clock Clock) *Metrics {
	t.Helper()
	m, err := OpenMetrics(path, MetricsOptions{Feed: feed, Job: "2026-12-01-3fa2c1", Clock: clock})
	require.NoError(t, err)
	return m
}

// TestMetricsRoundTrip: the file parses with expfmt, and its figures are the snapshot's, during the run
// and at its end.
func TestMetricsRoundTrip(t *testing.T) {
	path := filepath.Join(t.TempDir(), "zentra-import-nightly.prom")
	clock := newFakeClock()
	m := openTestMetrics(t, path, "nightly", clock)
	_, err := os.Stat(path)
	require.ErrorIs(t, err, os.ErrNotExist, "OpenMetrics writes nothing")

	during := sampleFigures
	during.Rows = Rows{Created: 4000, Rejected: 3, Pending: 5997}
	require.NoError(t, m.Publish(during))
	families := parseFile(t, path)
	requireFigures(t, families, "nightly", during)
	running, _ := sample(families, "running", "feed", "nightly")
	assert.Equal(t, 1.0, running)
	_, ok := sample(families, "exit_code")
	assert.False(t, ok, "no exit code before any run has ended")
	_, ok = sample(families, "last_success_timestamp_seconds")
	assert.False(t, ok, "no success yet")
	info, ok := sample(families, "job_info", "feed", "nightly", "import_job", "2026-12-01-3fa2c1")
	assert.True(t, ok)
	assert.Equal(t, 1.0, info)

	clock.advance(812 * time.Second)
	require.NoError(t, m.Finish(0, sampleFigures))
	families = parseFile(t, path)
	requireFigures(t, families, "nightly", sampleFigures)
	for name, want := range map[string]float64{
		"running":                        0,
		"exit_code":                      0,
		"last_success_timestamp_seconds": float64(clock.Now().Unix()),
	} {
		v, ok := sample(families, name, "feed", "nightly")
		require.True(t, ok, name)
		assert.Equal(t, want, v, name)
	}
	var names []string
	for name := range families {
		names = append(names, name)
	}
	sort.Strings(names)
	assert.Equal(t, []string{"zentra_import_exit_code", "zentra_import_job_info", "zentra_import_last_success_timestamp_seconds",
		"zentra_import_plan_limit_requests", "zentra_import_plan_window_seconds", "zentra_import_rate_limit_paused_seconds_total",
		"zentra_import_requests_total", "zentra_import_rows", "zentra_import_run_duration_seconds",
		"zentra_import_run_start_timestamp_seconds", "zentra_import_running"}, names)
	for _, mf := range families {
		assert.NotEmpty(t, mf.GetHelp(), mf.GetName())
	}
}

// TestMetricsWithoutPlanOrJob: a plan never announced and a job without a name leave their metrics out
// rather than publish a 0 that reads as a limit.
func TestMetricsWithoutPlanOrJob(t *testing.T) {
	path := filepath.Join(t.TempDir(), "m.prom")
	m, err := OpenMetrics(path, MetricsOptions{Clock: newFakeClock()})
	require.NoError(t, err)
	require.NoError(t, m.Finish(2, Figures{}))
	families := parseFile(t, path)
	for _, name := range []string{"plan_limit_requests", "plan_window_seconds", "job_info", "run_start_timestamp_seconds", "last_success_timestamp_seconds"} {
		_, ok := sample(families, name)
		assert.False(t, ok, name)
	}
	code, ok := sample(families, "exit_code", "feed", "")
	require.True(t, ok)
	assert.Equal(t, 2.0, code)
}

// TestMetricsKeepLastSuccess: a run that fails keeps the last success of the run before it, read back
// from the file; the last exit code stands during a run until the run ends.
func TestMetricsKeepLastSuccess(t *testing.T) {
	path := filepath.Join(t.TempDir(), "nightly.prom")
	clock := newFakeClock()
	// Night 1 succeeds.
	m := openTestMetrics(t, path, "nightly", clock)
	require.NoError(t, m.Publish(Figures{}))
	clock.advance(time.Hour)
	require.NoError(t, m.Finish(0, sampleFigures))
	success := float64(clock.Now().Unix())

	// Night 2 fails: the success of night 1 stays, and night 1's exit code stands while night 2 runs.
	clock.advance(23 * time.Hour)
	m = openTestMetrics(t, path, "nightly", clock)
	require.NoError(t, m.Publish(Figures{Started: clock.Now()}))
	families := parseFile(t, path)
	v, ok := sample(families, "last_success_timestamp_seconds", "feed", "nightly")
	require.True(t, ok)
	assert.Equal(t, success, v)
	v, ok = sample(families, "exit_code", "feed", "nightly")
	require.True(t, ok)
	assert.Equal(t, 0.0, v)
	require.NoError(t, m.Finish(3, Figures{}))
	families = parseFile(t, path)
	v, _ = sample(families, "last_success_timestamp_seconds", "feed", "nightly")
	assert.Equal(t, success, v, "a failed run keeps the last success")
	v, _ = sample(families, "exit_code", "feed", "nightly")
	assert.Equal(t, 3.0, v)

	// Night 3 is interrupted at once, before it publishes anything: still the same success.
	clock.advance(24 * time.Hour)
	m = openTestMetrics(t, path, "nightly", clock)
	v, _ = sample(parseFile(t, path), "exit_code", "feed", "nightly")
	assert.Equal(t, 3.0, v, "during the run, the last run's code")
	require.NoError(t, m.Finish(130, Figures{}))
	v, _ = sample(parseFile(t, path), "last_success_timestamp_seconds", "feed", "nightly")
	assert.Equal(t, success, v)

	// Night 4 succeeds: a new success.
	clock.advance(24 * time.Hour)
	m = openTestMetrics(t, path, "nightly", clock)
	require.NoError(t, m.Finish(0, Figures{}))
	v, _ = sample(parseFile(t, path), "last_success_timestamp_seconds", "feed", "nightly")
	assert.Equal(t, float64(clock.Now().Unix()), v)
}

// TestMetricsLastSuccessExact: the carried timestamp is the float that was written, to the last bit.
func TestMetricsLastSuccessExact(t *testing.T) {
	path := filepath.Join(t.TempDir(), "nightly.prom")
	clock := newFakeClock()
	clock.advance(123456789 * time.Nanosecond)
	m := openTestMetrics(t, path, "nightly", clock)
	require.NoError(t, m.Finish(0, Figures{}))
	first, _ := sample(parseFile(t, path), "last_success_timestamp_seconds")
	m = openTestMetrics(t, path, "nightly", clock)
	require.NoError(t, m.Finish(1, Figures{}))
	again, _ := sample(parseFile(t, path), "last_success_timestamp_seconds")
	assert.Equal(t, first, again)
	assert.Equal(t, unixSeconds(clock.Now()), again)
}

// TestMetricsPublishEvery: Publish writes at once, then not again until 30 s have passed, whatever
// the calls in between; Finish always writes, and Publish after it nothing.
func TestMetricsPublishEvery(t *testing.T) {
	path := filepath.Join(t.TempDir(), "nightly.prom")
	clock := newFakeClock()
	m := openTestMetrics(t, path, "nightly", clock)
	created := func() float64 {
		v, ok := sample(parseFile(t, path), "rows", "status", "created")
		require.True(t, ok)
		return v
	}
	require.NoError(t, m.Publish(Figures{Rows: Rows{Created: 1}}))
	assert.Equal(t, 1.0, created())
	for s := 1; s < 30; s++ { // a progress loop calling every second
		clock.advance(time.Second)
		require.NoError(t, m.Publish(Figures{Rows: Rows{Created: 100 + s}}))
		assert.Equal(t, 1.0, created(), "%d s after the first write", s)
	}
	clock.advance(time.Second)
	require.NoError(t, m.Publish(Figures{Rows: Rows{Created: 30}}))
	assert.Equal(t, 30.0, created(), "30 s after the first write")
	require.NoError(t, m.Finish(0, Figures{Rows: Rows{Created: 31}}))
	assert.Equal(t, 31.0, created(), "Finish writes at once")
	clock.advance(time.Hour)
	require.NoError(t, m.Publish(Figures{Rows: Rows{Created: 32}}))
	assert.Equal(t, 31.0, created(), "Publish after Finish does nothing")
	v, _ := sample(parseFile(t, path), "running")
	assert.Equal(t, 0.0, v)
}

// TestMetricsReplacedAtomically: readers that read the file while it is rewritten, again and again,
// always find a whole file of one snapshot: every family there, every figure from the same write.
// No temporary file is left behind.
func TestMetricsReplacedAtomically(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "nightly.prom")
	m, err := OpenMetrics(path, MetricsOptions{Feed: "nightly", Job: "j", Every: time.Nanosecond})
	require.NoError(t, err)
	figures := func(i int) Figures {
		return Figures{Started: time.Unix(1796090400, 0), Seconds: float64(i), Rows: Rows{Created: i, Pending: 1000 - i},
			Requests: Requests{Success: int64(i), RateLimited: int64(i / 10)}, PausedSeconds: float64(i) / 2, PlanLimit: 600, PlanWindowSeconds: 60}
	}
	require.NoError(t, m.Publish(figures(0)))
	var stop atomic.Bool
	var reads atomic.Int64
	var wg sync.WaitGroup
	errs := make(chan error, 4)
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for !stop.Load() {
				b, err := os.ReadFile(path)
				if err != nil {
					errs <- err
					return
				}
				families, err := parseText(b)
				if err != nil {
					errs <- errors.New("a reader saw a file that does not parse: " + string(b))
					return
				}
				running, _ := sample(families, "running")
				if want := map[float64]int{1: 9, 0: 11}[running]; len(families) != want {
					errs <- errors.New("a reader saw a file without all its families: " + string(b))
					return
				}
				i, _ := sample(families, "run_duration_seconds")
				c, _ := sample(families, "rows", "status", "created")
				p, _ := sample(families, "rows", "status", "pending")
				r, _ := sample(families, "requests_total", "class", "2xx")
				paused, _ := sample(families, "rate_limit_paused_seconds_total")
				if c != i || p != 1000-i || r != i || paused != i/2 {
					errs <- errors.New("a reader saw figures of two writes: " + string(b))
					return
				}
				reads.Add(1)
			}
		}()
	}
	for i := 1; i <= 150; i++ {
		require.NoError(t, m.Publish(figures(i)))
	}
	require.NoError(t, m.Finish(0, figures(1000)))
	stop.Store(true)
	wg.Wait()
	close(errs)
	for err := range errs {
		require.NoError(t, err)
	}
	assert.Positive(t, reads.Load())
	t.Logf("%d reads during 151 writes", reads.Load())
	requireFigures(t, parseFile(t, path), "nightly", figures(1000))
	entries, err := os.ReadDir(dir)
	require.NoError(t, err)
	require.Len(t, entries, 1, "only the metrics file: no temporary file left")
	fi, err := os.Stat(path)
	require.NoError(t, err)
	assert.Equal(t, os.FileMode(0o644), fi.Mode().Perm(), "readable by node_exporter's own user")
}

// failingGatherer stands for a write that fails half-way (a full disk, a bad metric).
type failingGatherer struct{}

func (failingGatherer) Gather() ([]*dto.MetricFamily, error) { return nil, errors.New("disk full") }

// TestMetricsFailedWriteKeepsTheFile: a write that fails leaves the previous file as it was and no
// temporary file; its error names the metrics file, not a temporary one.
func TestMetricsFailedWriteKeepsTheFile(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "nightly.prom")
	m := openTestMetrics(t, path, "nightly", newFakeClock())
	require.NoError(t, m.Finish(0, sampleFigures))
	before, err := os.ReadFile(path)
	require.NoError(t, err)
	m.gather = failingGatherer{}
	err = m.Finish(3, Figures{})
	require.Error(t, err)
	assert.Equal(t, "write metrics file "+path+": disk full", err.Error())
	after, err := os.ReadFile(path)
	require.NoError(t, err)
	assert.Equal(t, before, after)
	entries, err := os.ReadDir(dir)
	require.NoError(t, err)
	assert.Len(t, entries, 1)
}

// TestMetricsRegistryIsConsistent: the collector's Describe and Collect agree, as a pedantic registry
// checks, with every optional metric present and with none.
func TestMetricsRegistryIsConsistent(t *testing.T) {
	for _, st := range []state{{}, {job: "j", f: sampleFigures, running: true, hasExit: true, exitCode: 1, hasLast: true, success: 1}} {
		m := &Metrics{descs: newDescs(`a "feed" with \ and
a newline`), st: st}
		reg := prometheus.NewPedanticRegistry()
		require.NoError(t, reg.Register(collector{m}))
		_, err := reg.Gather()
		require.NoError(t, err)
	}
}

// TestMetricsOddFeedName: a feed name with quotes, a backslash and a newline is escaped in the file and
// reads back the same.
func TestMetricsOddFeedName(t *testing.T) {
	path := filepath.Join(t.TempDir(), "odd.prom")
	feed := "partner \"A\" \\ drops\nnightly"
	m := openTestMetrics(t, path, feed, newFakeClock())
	require.NoError(t, m.Finish(0, sampleFigures))
	requireFigures(t, parseFile(t, path), feed, sampleFigures)
	m = openTestMetrics(t, path, feed, newFakeClock())
	require.NoError(t, m.Finish(1, sampleFigures))
}

// TestOpenMetricsRefuses: a path the collector would never read, a missing directory, something that
// is not a file, and a file that is not this package's or is another feed's are refused, named, with a
// hint, and left as they were.
func TestOpenMetricsRefuses(t *testing.T) {
	ours := func(feed string) string {
		path := filepath.Join(t.TempDir(), "ours.prom")
		m := openTestMetrics(t, path, feed, newFakeClock())
		require.NoError(t, m.Finish(0, Figures{}))
		b, err := os.ReadFile(path)
		require.NoError(t, err)
		return string(b)
	}
	for _, tc := range []struct {
		name    string
		file    string // the name in the directory
		content string // "" with dir: a directory there
		dir     bool
		link    bool
		err     string
	}{
		{name: "not .prom", file: "metrics.txt", err: "its name does not end in .prom"},
		{name: "not .prom, exists", file: "results.csv", content: "row,external_reference\n1,A-1\n", err: "its name does not end in .prom"},
		{name: "a directory", file: "d.prom", dir: true, err: "it is not a regular file"},
		{name: "a link", file: "l.prom", link: true, err: "it is not a regular file"},
		{name: "a CSV named .prom", file: "c.prom", content: "row,email\n1,jane@example.com\n", err: "it is not in Prometheus text format (line 1)"},
		{name: "another exporter's", file: "apt.prom", content: "# TYPE apt_upgrades_pending gauge\napt_upgrades_pending 3\n", err: "it holds metrics of another program (apt_upgrades_pending)"},
		{name: "ours and another's", file: "mixed.prom", content: ours("nightly") + "apt_upgrades_pending 3\n", err: "another program (apt_upgrades_pending)"},
		{name: "another feed's", file: "other.prom", content: ours("weekly"), err: `it holds the metrics of feed "weekly"`},
		{name: "a run without a feed's", file: "nofeed.prom", content: ours(""), err: "it holds the metrics of a job run without a feed"},
		{name: "comments only", file: "notes.prom", content: "# my notes\n", err: "it holds no metrics of zentra-import"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			path := filepath.Join(dir, tc.file)
			switch {
			case tc.dir:
				require.NoError(t, os.Mkdir(path, 0o755))
			case tc.link:
				require.NoError(t, os.WriteFile(filepath.Join(dir, "target.prom"), []byte(ours("nightly")), 0o644))
				require.NoError(t, os.Symlink("target.prom", path))
			case tc.content != "":
				require.NoError(t, os.WriteFile(path, []byte(tc.content), 0o644))
			}
			_, err := OpenMetrics(path, MetricsOptions{Feed: "nightly", Clock: newFakeClock()})
			require.Error(t, err)
			var fe *FileError
			require.True(t, errors.As(err, &fe), "%T %v", err, err)
			assert.Equal(t, "metrics file "+path+": "+fe.Reason, err.Error())
			assert.Contains(t, err.Error(), tc.err)
			assert.NotEmpty(t, fe.Hint)
			assert.NotContains(t, err.Error()+fe.Hint, "jane@example.com")
			if tc.content != "" {
				b, err := os.ReadFile(path)
				require.NoError(t, err)
				assert.Equal(t, tc.content, string(b), "left as it was")
			}
		})
	}
	_, err := OpenMetrics(filepath.Join(t.TempDir(), "missing", "m.prom"), MetricsOptions{})
	require.ErrorContains(t, err, "missing does not exist")
}

// TestOpenMetricsTakesAnEmptyFile: an empty file (touch'ed by an installer) has nothing to lose.
func TestOpenMetricsTakesAnEmptyFile(t *testing.T) {
	for _, content := range []string{"", "\n \n"} {
		path := filepath.Join(t.TempDir(), "nightly.prom")
		require.NoError(t, os.WriteFile(path, []byte(content), 0o644))
		m := openTestMetrics(t, path, "nightly", newFakeClock())
		require.NoError(t, m.Finish(0, Figures{}))
	}
}

// TestOpenMetricsRemovesStaleTemps: a temporary file a killed write left, older than 10 minutes, is
// removed; a younger one (another process's write under way) and other files are not.
func TestOpenMetricsRemovesStaleTemps(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "nightly.prom")
	clock := newFakeClock()
	stale := filepath.Join(dir, ".nightly.prom"+tempMark+"123")
	staleInner := filepath.Join(dir, ".nightly.prom"+tempMark+"123456789") // WriteToTextfile's own
	young := filepath.Join(dir, ".nightly.prom"+tempMark+"456")
	other := filepath.Join(dir, ".other.prom"+tempMark+"789")
	for _, p := range []string{stale, staleInner, young, other} {
		require.NoError(t, os.WriteFile(p, []byte("x"), 0o600))
	}
	old := clock.Now().Add(-11 * time.Minute)
	for _, p := range []string{stale, staleInner, other} {
		require.NoError(t, os.Chtimes(p, old, old))
	}
	require.NoError(t, os.Chtimes(young, clock.Now().Add(-time.Minute), clock.Now().Add(-time.Minute)))
	openTestMetrics(t, path, "nightly", clock)
	var left []string
	entries, err := os.ReadDir(dir)
	require.NoError(t, err)
	for _, e := range entries {
		left = append(left, e.Name())
	}
	assert.ElementsMatch(t, []string{filepath.Base(young), filepath.Base(other)}, left)
}

// TestClassOf: every status has one class, 429 apart from the other 4xx.
func TestClassOf(t *testing.T) {
	var r Requests
	for status, class := range map[int]string{0: "no_answer", 100: "other", 200: "2xx", 201: "2xx", 299: "2xx",
		301: "other", 400: "4xx", 409: "4xx", 429: "429", 499: "4xx", 500: "5xx", 503: "5xx", 599: "5xx", 600: "other", -1: "other"} {
		assert.Equal(t, class, ClassOf(status), status)
		r.Count(status)
	}
	assert.Equal(t, Requests{Success: 3, ClientError: 3, RateLimited: 1, ServerError: 3, NoAnswer: 1, Other: 4}, r)
	assert.Equal(t, int64(15), r.Total())
	assert.True(t, strings.HasPrefix(Prefix, "zentra_import_"))
}
