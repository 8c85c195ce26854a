package monitor

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
)

// Prefix begins the name of every metric of the metrics file.
const Prefix = "zentra_import_"

// A FileError is a metrics file this package will not write: it names the path, why, and how to fix it.
// OpenMetrics returns it before anything is written, so that the caller can refuse the flag (exit 2)
// before the run sends anything.
type FileError struct {
	Path   string
	Reason string
	Hint   string
}

func (e *FileError) Error() string { return "metrics file " + e.Path + ": " + e.Reason }

// MetricsOptions say whose figures a metrics file holds and how often it is rewritten during a run.
type MetricsOptions struct {
	// Feed is the value of the feed label on every metric ("" for a job run without a feed). One file
	// holds one feed: OpenMetrics refuses a file that holds another's.
	Feed string
	// Job names the job on zentra_import_job_info (its directory's base name); "" leaves that out.
	Job string
	// Every is the least time between two writes by Publish (default 30 s); Finish always writes.
	Every time.Duration
	Clock Clock // nil: the wall clock
}

// Metrics is the metrics file of one feed: Prometheus text format for node_exporter's textfile
// collector, rewritten whole at each write. Its methods are safe for concurrent use.
type Metrics struct {
	path  string
	every time.Duration
	clock Clock
	descs descs

	mu       sync.Mutex
	st       state
	written  time.Time // of the last write by Publish
	finished bool
	gather   prometheus.Gatherer // the registry; a test may put a failing one here
}

// state is what a write publishes.
type state struct {
	job      string
	f        Figures
	running  bool
	exitCode int
	hasExit  bool    // exitCode is known: this run's, once finished; the last run's before
	success  float64 // the last exit-0 run's end, Unix seconds
	hasLast  bool
}

// tempMark is in the name of every temporary file a write creates ("." + name + tempMark + random),
// which node_exporter never reads (it reads *.prom) and OpenMetrics removes once stale.
const tempMark = ".zi-tmp-"

// staleTemp is the age after which a temporary file is taken for one a killed process left.
const staleTemp = 10 * time.Minute

// maxMetricsFile bounds what OpenMetrics reads back: the file this package writes is a few KiB.
const maxMetricsFile = 1 << 20

// OpenMetrics prepares path to receive a feed's metrics. path must end in .prom (the textfile collector
// reads nothing else) and be in a directory where a file can be created. If a file is there, it must be
// this package's, of the same feed: a file that is not in Prometheus text format, holds a metric without
// the zentra_import_ prefix or another feed's metrics is refused with a *FileError and left untouched, so
// that a mistyped path never replaces another exporter's file or the user's. From that file,
// zentra_import_last_success_timestamp_seconds and zentra_import_exit_code are carried over: a run
// that fails keeps the last success, and the last run's exit code stands until this one ends.
// Temporary files that a killed write left beside it (older than 10 minutes) are removed.
//
// OpenMetrics writes nothing: the first Publish does.
func OpenMetrics(path string, opts MetricsOptions) (*Metrics, error) {
	refuse := func(reason, hint string) (*Metrics, error) {
		return nil, &FileError{Path: path, Reason: reason, Hint: hint}
	}
	if filepath.Ext(path) != ".prom" {
		return refuse("its name does not end in .prom", "node_exporter's textfile collector reads only *.prom files: name it like zentra-import-FEED.prom")
	}
	if !utf8.ValidString(opts.Feed) || !utf8.ValidString(opts.Job) {
		return refuse("the feed or job name is not valid UTF-8", "name feeds with letters, digits, - and _")
	}
	m := &Metrics{path: path, every: opts.Every, clock: clockOr(opts.Clock), descs: newDescs(opts.Feed)}
	if m.every <= 0 {
		m.every = 30 * time.Second
	}
	reg := prometheus.NewPedanticRegistry()
	if err := reg.Register(collector{m}); err != nil {
		return nil, fmt.Errorf("metrics file %s: %w", path, err)
	}
	m.gather = reg
	m.st.job = opts.Job
	dir := filepath.Dir(path)
	if fi, err := os.Stat(dir); err != nil || !fi.IsDir() {
		return refuse("its directory "+dir+" does not exist", "create it, or give a path in node_exporter's --collector.textfile.directory")
	}
	if err := m.readBack(opts.Feed); err != nil {
		return nil, err
	}
	probe, err := os.CreateTemp(dir, "."+filepath.Base(path)+tempMark+"*")
	if err != nil {
		return refuse("cannot create a file in "+dir+": "+pathless(err).Error(), "give a directory this user may write to")
	}
	_ = probe.Close()
	_ = os.Remove(probe.Name())
	removeStaleTemps(path, m.clock.Now())
	return m, nil
}

// readBack checks the file at m.path, if any, and carries its last success and exit code over.
func (m *Metrics) readBack(feed string) error {
	refuse := func(reason, hint string) error { return &FileError{Path: m.path, Reason: reason, Hint: hint} }
	notOurs := "give a file of its own to zentra-import (a new name in the same directory); this one is left as it is"
	fi, err := os.Lstat(m.path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return nil
	case err != nil:
		return refuse("cannot read it: "+pathless(err).Error(), "check the permissions of the file and its directory")
	case !fi.Mode().IsRegular():
		return refuse("it is not a regular file ("+fi.Mode().Type().String()+")", "give the path of a file, not of a link or a directory")
	case fi.Size() > maxMetricsFile:
		return refuse("it is larger than a metrics file of zentra-import can be", notOurs)
	}
	b, err := os.ReadFile(m.path)
	if err != nil {
		return refuse("cannot read it: "+pathless(err).Error(), "check the permissions of the file")
	}
	if len(bytes.TrimSpace(b)) == 0 {
		return nil // nothing there to lose
	}
	parser := expfmt.NewTextParser(model.LegacyValidation)
	families, err := parser.TextToMetricFamilies(bytes.NewReader(b))
	if err != nil {
		var pe expfmt.ParseError
		where := ""
		if errors.As(err, &pe) {
			where = fmt.Sprintf(" (line %d)", pe.Line) // not the parser's words: they may quote the file
		}
		return refuse("it is not in Prometheus text format"+where, notOurs)
	}
	if len(families) == 0 {
		return refuse("it holds no metrics of zentra-import", notOurs)
	}
	for name, mf := range families {
		if !strings.HasPrefix(name, Prefix) {
			return refuse("it holds metrics of another program ("+name+")", notOurs)
		}
		for _, metric := range mf.GetMetric() {
			other := ""
			for _, l := range metric.GetLabel() {
				if l.GetName() == "feed" {
					other = l.GetValue()
				}
			}
			if other != feed {
				whose := fmt.Sprintf("feed %q", other)
				if other == "" {
					whose = "a job run without a feed"
				}
				return refuse("it holds the metrics of "+whose, "give each feed its own metrics file: each run rewrites it whole")
			}
			if mf.GetType() != dto.MetricType_GAUGE {
				continue
			}
			v := metric.GetGauge().GetValue()
			switch name {
			case Prefix + "last_success_timestamp_seconds":
				m.st.success, m.st.hasLast = v, true
			case Prefix + "exit_code":
				if v == math.Trunc(v) && v >= 0 && v <= 255 {
					m.st.exitCode, m.st.hasExit = int(v), true
				}
			}
		}
	}
	return nil
}

// Publish writes f as the figures of a run under way (zentra_import_running 1). It writes at most once
// every MetricsOptions.Every (30 s): called more often, as from a progress loop, it returns nil without
// writing until that time has passed since its last write. The first call always writes. After Finish
// it does nothing.
func (m *Metrics) Publish(f Figures) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	now := m.clock.Now()
	if m.finished || !m.written.IsZero() && now.Sub(m.written) < m.every {
		return nil
	}
	m.st.f, m.st.running = f, true
	if err := m.write(); err != nil {
		return err
	}
	m.written = now
	return nil
}

// Finish writes the figures of a run that has ended with exitCode: zentra_import_running 0, the exit
// code, and on exit 0 zentra_import_last_success_timestamp_seconds set to now. Later calls of Publish do
// nothing; Finish may be called again (the last call's figures stand).
func (m *Metrics) Finish(exitCode int, f Figures) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.finished = true
	m.st.f, m.st.running = f, false
	m.st.exitCode, m.st.hasExit = exitCode, true
	if exitCode == 0 {
		m.st.success, m.st.hasLast = unixSeconds(m.clock.Now()), true
	}
	return m.write()
}

// write replaces the file atomically and durably: prometheus.WriteToTextfile writes the registry to a
// temporary file in the same directory (a name of its own that it renames into place, mode 0644); that
// file is then synced, renamed over the metrics file and the directory synced. A reader sees the old file
// or the new one, whole, and after a crash the name never points at bytes that were not on disk.
// WriteToTextfile alone renames without syncing, which after a power loss can leave an empty file.
func (m *Metrics) write() error {
	dir := filepath.Dir(m.path)
	fail := func(err error) error { return fmt.Errorf("write metrics file %s: %w", m.path, pathless(err)) }
	stage, err := os.CreateTemp(dir, "."+filepath.Base(m.path)+tempMark+"*")
	if err != nil {
		return fail(err)
	}
	_ = stage.Close()
	defer func() { _ = os.Remove(stage.Name()) }() // gone once renamed; on failure, the leftover
	if err := prometheus.WriteToTextfile(stage.Name(), m.gather); err != nil {
		return fail(err)
	}
	f, err := os.OpenFile(stage.Name(), os.O_WRONLY, 0)
	if err != nil {
		return fail(err)
	}
	err = f.Sync()
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(stage.Name(), m.path)
	}
	if err == nil {
		err = syncDir(dir)
	}
	if err != nil {
		return fail(err)
	}
	return nil
}

// removeStaleTemps removes the temporary files that writes of path left, older than staleTemp (a
// younger one may be another process's write under way). Failures are ignored: such a file is hidden
// and never read.
func removeStaleTemps(path string, now time.Time) {
	temps, _ := filepath.Glob(filepath.Join(filepath.Dir(path), "."+globEscape(filepath.Base(path))+tempMark+"*"))
	for _, t := range temps {
		if fi, err := os.Lstat(t); err == nil && fi.Mode().IsRegular() && now.Sub(fi.ModTime()) > staleTemp {
			_ = os.Remove(t)
		}
	}
}

// globEscape quotes the characters filepath.Match treats specially.
func globEscape(s string) string {
	var b strings.Builder
	for _, r := range s {
		if strings.ContainsRune(`*?[\`, r) {
			b.WriteByte('\\')
		}
		b.WriteRune(r)
	}
	return b.String()
}

// syncDir makes a directory's entries (a renamed file) durable.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer func() { _ = d.Close() }()
	return d.Sync()
}

// pathless drops the *PathError or *LinkError around err: messages name the metrics file, not the
// temporary one.
func pathless(err error) error {
	var pe *fs.PathError
	var le *os.LinkError
	switch {
	case errors.As(err, &pe):
		return pe.Err
	case errors.As(err, &le):
		return le.Err
	}
	return err
}

func unixSeconds(t time.Time) float64 { return float64(t.UnixNano()) / 1e9 }

// descs are the metrics' descriptions, each with the feed as a constant label.
type descs struct {
	rows, requests, paused, duration, started, running, exitCode, lastSuccess, planLimit, planWindow, info *prometheus.Desc
}

func newDescs(feed string) descs {
	feedLabel := prometheus.Labels{"feed": feed}
	d := func(name, help string, labels ...string) *prometheus.Desc {
		return prometheus.NewDesc(Prefix+name, help, labels, feedLabel)
	}
	return descs{
		rows:        d("rows", "The job's rows by the status of their latest outcome (pending: none yet).", "status"),
		requests:    d("requests_total", "HTTP requests this run sent, by the class of their answer (2xx, 4xx but 429, 429, 5xx, no_answer, other).", "class"),
		paused:      d("rate_limit_paused_seconds_total", "Seconds this run's workers waited on 429 answers."),
		duration:    d("run_duration_seconds", "How long this run has run, or ran."),
		started:     d("run_start_timestamp_seconds", "When this run started, Unix seconds."),
		running:     d("running", "1 while a run is under way, 0 once it has ended."),
		exitCode:    d("exit_code", "The exit code of the last run that ended."),
		lastSuccess: d("last_success_timestamp_seconds", "When the last run that exited 0 ended, Unix seconds; kept across runs."),
		planLimit:   d("plan_limit_requests", "The requests per window the API announced (X-RateLimit-Limit)."),
		planWindow:  d("plan_window_seconds", "The window of the announced limit, in seconds."),
		info:        d("job_info", "The job this file's figures are of (its directory's name); always 1.", "import_job"),
	}
}

// collector gives the registry m's state as constant metrics. The registry calls it during a write,
// while m.mu is held.
type collector struct{ m *Metrics }

func (c collector) Describe(ch chan<- *prometheus.Desc) {
	d := c.m.descs
	for _, desc := range []*prometheus.Desc{d.rows, d.requests, d.paused, d.duration, d.started, d.running,
		d.exitCode, d.lastSuccess, d.planLimit, d.planWindow, d.info} {
		ch <- desc
	}
}

func (c collector) Collect(ch chan<- prometheus.Metric) {
	d, st := c.m.descs, c.m.st
	send := func(desc *prometheus.Desc, t prometheus.ValueType, v float64, labels ...string) {
		m, err := prometheus.NewConstMetric(desc, t, v, labels...)
		if err != nil {
			m = prometheus.NewInvalidMetric(desc, err)
		}
		ch <- m
	}
	gauge := func(desc *prometheus.Desc, v float64, labels ...string) {
		send(desc, prometheus.GaugeValue, v, labels...)
	}
	for i, n := range st.f.Rows.byStatus() {
		gauge(d.rows, float64(n), statuses[i])
	}
	for i, n := range st.f.Requests.byClass() {
		send(d.requests, prometheus.CounterValue, float64(n), classes[i])
	}
	send(d.paused, prometheus.CounterValue, st.f.PausedSeconds)
	gauge(d.duration, st.f.Seconds)
	if !st.f.Started.IsZero() {
		gauge(d.started, unixSeconds(st.f.Started))
	}
	gauge(d.running, map[bool]float64{true: 1}[st.running])
	if st.hasExit {
		gauge(d.exitCode, float64(st.exitCode))
	}
	if st.hasLast {
		gauge(d.lastSuccess, st.success)
	}
	if st.f.PlanLimit > 0 {
		gauge(d.planLimit, float64(st.f.PlanLimit))
	}
	if st.f.PlanWindowSeconds > 0 {
		gauge(d.planWindow, st.f.PlanWindowSeconds)
	}
	if st.job != "" {
		gauge(d.info, 1, st.job)
	}
}
