package importer

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"math"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"unicode/utf8"

	"github.com/schollz/progressbar/v3"
	"golang.org/x/term"

	"github.com/zentra/zentra-import/checkpoint"
)

// counters are bumped by workers and read by the progress reporter and the summary. Workers never print.
type counters struct {
	durable     [6]atomic.Int64 // outcomes made durable in this run, by checkpoint.Status (1 to 5)
	requests    atomic.Int64
	retries     atomic.Int64
	rateLimited atomic.Int64
	outage      atomic.Bool // the API is not answering: the pool is paused, probing
}

func (c *counters) onDurable(batch []checkpoint.Outcome) {
	for _, o := range batch {
		if int(o.Status) < len(c.durable) {
			c.durable[o.Status].Add(1)
		}
	}
}

func (c *counters) done() int64 {
	var n int64
	for i := range c.durable {
		n += c.durable[i].Load()
	}
	return n
}

// counts is this run's outcomes by status name, every status present.
func (c *counters) counts() map[string]int {
	m := map[string]int{}
	for _, s := range checkpoint.Statuses() {
		if int(s) < len(c.durable) {
			m[s.String()] = int(c.durable[s].Load())
		}
	}
	return m
}

// reporter draws progress: a bar on a terminal, a log line every interval elsewhere, nothing when quiet.
// Log lines pass through it so that they never tear the bar.
//
// What it shows is the whole job's, as results.csv will list it: rows done of the total, and the rows by
// status (those the job had when the run started, plus this run's outcomes). The rate, and the time left
// at that rate, are this run's alone: a resumed run that starts with most rows done is not fast for it.
type reporter struct {
	mu       sync.Mutex
	out      io.Writer
	tty      bool
	quiet    bool
	interval time.Duration
	log      *slog.Logger
	width    func() int // the terminal's width in columns, read at every redraw (a window may be resized)
	drawing  bool       // the bar is on: log lines clear it and draw it again
	drawn    bool       // a bar line is on the terminal now

	c *counters
	// base is the rows done when the run started, and baseCounts the same by status: rows whose outcome
	// this run does not send again. A row the run sends again (in flight when the last run stopped, or
	// failed under --retry-failed) is in neither, so its new outcome counts once.
	base       int64
	baseCounts [len(counters{}.durable)]int64
	total      atomic.Int64 // data rows in the input; 0 until counted
	limit      int64        // --max-rows
	started    time.Time
	clock      Clock
}

// resume sets the rows done before this run, by status, from the journal's state at open.
func (r *reporter) resume(counts map[checkpoint.Status]int) {
	r.base = 0
	for st, n := range counts {
		if int(st) < len(r.baseCounts) {
			r.baseCounts[st] = int64(n)
			r.base += int64(n)
		}
	}
}

// terminalWidth reads the width of w, a terminal, at each call: 80 columns when it cannot tell.
func terminalWidth(w io.Writer) func() int {
	fd := -1
	if f, ok := w.(*os.File); ok {
		fd = int(f.Fd())
	}
	return func() int {
		if fd >= 0 {
			if cols, _, err := term.GetSize(fd); err == nil && cols > 0 {
				return cols
			}
		}
		return 80
	}
}

// Write passes a log line to the terminal, clearing the bar first and drawing it again after.
func (r *reporter) Write(b []byte) (int, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.clearLocked()
	n, err := r.out.Write(b)
	if r.drawing {
		r.drawLocked()
	}
	return n, err
}

func (r *reporter) setTotal(n int) {
	if r.limit > 0 && int64(n) > r.limit {
		n = int(r.limit)
	}
	r.total.Store(int64(n))
}

// run draws until ctx is done.
func (r *reporter) run(ctx context.Context) {
	if r.quiet {
		return
	}
	tick := 200 * time.Millisecond
	if !r.tty {
		tick = r.interval
	}
	if r.tty {
		r.mu.Lock()
		r.drawing = true
		r.drawLocked()
		r.mu.Unlock()
	}
	t := time.NewTicker(tick)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			r.mu.Lock()
			r.drawing = false
			r.clearLocked()
			r.mu.Unlock()
			return
		case <-t.C:
			if r.tty {
				r.mu.Lock()
				r.drawLocked()
				r.mu.Unlock()
			} else {
				r.log.Info("progress", r.progressAttrs()...)
			}
		}
	}
}

// drawLocked draws the bar over the line it is on. The line is cut to the terminal's width, less one
// column: a line that filled the last column would wrap on some terminals, and a wrapped bar scrolls the
// terminal at every redraw.
func (r *reporter) drawLocked() {
	width := 80
	if r.width != nil {
		width = r.width()
	}
	_, _ = io.WriteString(r.out, "\r"+r.snapshot().line(width)+"\x1b[K")
	r.drawn = true
}

func (r *reporter) clearLocked() {
	if r.drawn {
		_, _ = io.WriteString(r.out, "\r\x1b[K")
		r.drawn = false
	}
}

// progress is one moment of the run, as the bar and the progress lines tell it.
type progress struct {
	done, total int64                          // the job's rows with an outcome, of its rows (0: not counted yet)
	counts      [len(counters{}.durable)]int64 // the job's rows by status
	runRows     int64                          // the outcomes this run made durable
	rate        float64                        // this run's rows per second; 0 before its first outcome
	eta         time.Duration                  // the job's rows left at this run's rate; -1 when unknown
	requests    int64                          // this run's
	rateLimited int64                          // this run's 429s
	outage      bool
}

func (r *reporter) snapshot() progress {
	c := r.c
	p := progress{total: r.total.Load(), requests: c.requests.Load(), rateLimited: c.rateLimited.Load(),
		outage: c.outage.Load(), eta: -1}
	for i := range p.counts {
		n := c.durable[i].Load()
		p.runRows += n
		p.counts[i] = r.baseCounts[i] + n
	}
	p.done = r.base + p.runRows
	if elapsed := r.clock.Now().Sub(r.started).Seconds(); elapsed > 0 && p.runRows > 0 {
		p.rate = float64(p.runRows) / elapsed
		if left := p.total - p.done; p.total > 0 && left >= 0 {
			p.eta = time.Duration(float64(left) / p.rate * float64(time.Second))
		}
	}
	return p
}

// progressAttrs is one progress line for logs that nobody watches live (cron, CI). done, total and the
// counts by status are the whole job's; the run_ figures, rows_per_second and eta_seconds (the job's rows
// left at this run's rate) are this run's.
func (r *reporter) progressAttrs() []any {
	p := r.snapshot()
	attrs := []any{slog.Int64("done", p.done)}
	if p.total > 0 {
		attrs = append(attrs, slog.Int64("total", p.total))
	}
	for _, st := range checkpoint.Statuses() {
		if int(st) < len(p.counts) {
			attrs = append(attrs, slog.Int64(st.String(), p.counts[st]))
		}
	}
	if p.eta >= 0 {
		attrs = append(attrs, slog.Int64("eta_seconds", int64(math.Round(p.eta.Seconds()))))
	}
	attrs = append(attrs, slog.Int64("run_rows", p.runRows), slog.Float64("rows_per_second", math.Round(p.rate*10)/10),
		slog.Int64("run_requests", p.requests), slog.Int64("run_rate_limited", p.rateLimited))
	if p.outage {
		attrs = append(attrs, slog.Bool("api_not_answering", true))
	}
	return attrs
}

// Bar widths, in columns between its brackets: the bar shrinks to barMin before anything else is
// dropped, and never grows past barMax.
const (
	barMin = 10
	barMax = 40
)

// linePart is a piece of the bar's line: its forms, longest first, each with a rank. When the line is too
// wide, the part whose form ranks lowest takes its next form, or goes.
type linePart struct {
	forms []lineForm
	bar   bool // the bar itself: its form is a placeholder of barMin columns, widened at the end
}

type lineForm struct {
	text string
	keep int
}

// line is the bar's line, at most width-1 columns wide:
//
//	importing 93% [====================================>   ] 9300/10000 rows · 30 rows/s · ETA 23s · created 9200 · existing 0 · failed 0 · rejected 100 · 429s 3
//
// What does not fit goes, least useful first: counts of 0, the label, "rows", 429s, the counts by status,
// the time left, the rate; the bar shrinks to barMin columns before any of that, and goes before the rows
// done and the percentage. While the API is not answering, that is said, in fewer words when it must be.
func (p progress) line(width int) string {
	var parts []linePart
	add := func(text string, keep int) { parts = append(parts, linePart{forms: []lineForm{{text, keep}}}) }
	count := func(name string, n int64, keep int) {
		if n == 0 {
			keep = 1
		}
		add(fmt.Sprintf("· %s %d", name, n), keep)
	}
	add("importing", 2)
	if p.total > 0 {
		pct := int64(100)
		if p.done < p.total {
			pct = p.done * 100 / p.total
		}
		add(fmt.Sprintf("%d%%", pct), 16)
		parts = append(parts, linePart{forms: []lineForm{{strings.Repeat(" ", barMin+2), 13}}, bar: true})
		add(fmt.Sprintf("%d/%d", p.done, p.total), 14)
	} else {
		add(fmt.Sprint(p.done), 14)
	}
	add("rows", 3)
	if p.rate > 0 {
		add("· "+rateText(p.rate), 12)
	}
	if p.eta >= 0 {
		add("· ETA "+durationText(p.eta), 10)
	}
	if p.outage {
		parts = append(parts, linePart{forms: []lineForm{{"· the API is not answering: paused, probing", 11}, {"· API not answering", 15}}})
	}
	count("created", p.counts[checkpoint.StatusCreated], 6)
	count("existing", p.counts[checkpoint.StatusExisting], 5)
	count("failed", p.counts[checkpoint.StatusFailed], 9)
	count("rejected", p.counts[checkpoint.StatusRejected], 7)
	if n := p.counts[checkpoint.StatusConflict]; n > 0 {
		count("conflict", n, 8)
	}
	count("429s", p.rateLimited, 4)

	avail := max(width-1, 0)
	for {
		w := -1
		lowest := -1
		for i, part := range parts {
			if len(part.forms) == 0 {
				continue
			}
			w += 1 + utf8.RuneCountInString(part.forms[0].text)
			if lowest < 0 || part.forms[0].keep < parts[lowest].forms[0].keep {
				lowest = i
			}
		}
		if w <= avail || lowest < 0 {
			return p.join(parts, avail-max(w, 0)) // nothing at all fits in fewer than 4 columns
		}
		parts[lowest].forms = parts[lowest].forms[1:]
	}
}

// join writes the parts that are left, the bar widened by slack columns (up to barMax).
func (p progress) join(parts []linePart, slack int) string {
	var b strings.Builder
	for _, part := range parts {
		if len(part.forms) == 0 {
			continue
		}
		if b.Len() > 0 {
			b.WriteByte(' ')
		}
		if part.bar {
			b.WriteString(barText(barMin+min(max(slack, 0), barMax-barMin), p.done, p.total))
			continue
		}
		b.WriteString(part.forms[0].text)
	}
	return b.String()
}

// barTheme is how the bar looks: [=====>    ].
var barTheme = progressbar.Theme{Saucer: "=", SaucerHead: ">", SaucerPadding: " ", BarStart: "[", BarEnd: "]"}

// barText is the bar, [=====>    ] with width columns between the brackets, as progressbar draws it. The
// line around it is the reporter's own: progressbar's rate and time left would count the rows a resumed
// run starts with as this run's speed, and its fitting to the terminal leaves the bar no room beside the
// counts (at 80 columns it had none).
func barText(width int, done, total int64) string {
	bar := progressbar.NewOptions64(max(total, 1),
		progressbar.OptionSetWriter(io.Discard),
		progressbar.OptionSetWidth(width),
		progressbar.OptionSetTheme(barTheme),
		progressbar.OptionSetPredictTime(false),
		progressbar.OptionSetElapsedTime(false),
	)
	_ = bar.Set64(min(max(done, 0), max(total, 1))) // renders, to io.Discard, what String returns
	s := bar.String()
	i, j := strings.IndexByte(s, '['), strings.LastIndexByte(s, ']')
	if i < 0 || j < i {
		return "[" + strings.Repeat(" ", width) + "]" // not drawn: the library rendered nothing
	}
	return s[i : j+1]
}

func rateText(perSec float64) string {
	if perSec < 10 {
		return fmt.Sprintf("%.1f rows/s", perSec)
	}
	return fmt.Sprintf("%.0f rows/s", perSec)
}

// durationText is a time left for people: 47s, 3m05s, 2h07m.
func durationText(d time.Duration) string {
	s := int64(math.Round(d.Seconds()))
	switch {
	case s < 60:
		return fmt.Sprintf("%ds", s)
	case s < 3600:
		return fmt.Sprintf("%dm%02ds", s/60, s%60)
	}
	return fmt.Sprintf("%dh%02dm", s/3600, s%3600/60)
}
