package importer

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"math"
	"sync"
	"sync/atomic"
	"time"

	"github.com/schollz/progressbar/v3"

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
type reporter struct {
	mu       sync.Mutex
	out      io.Writer
	tty      bool
	quiet    bool
	interval time.Duration
	bar      *progressbar.ProgressBar
	log      *slog.Logger

	c       *counters
	base    int64        // rows already done when the run started
	total   atomic.Int64 // data rows in the input; 0 until counted
	limit   int64        // --max-rows
	started time.Time
	clock   Clock
}

// Write passes a log line to the terminal, clearing the bar first and drawing it again after.
func (r *reporter) Write(b []byte) (int, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.bar != nil {
		_ = r.bar.Clear()
	}
	n, err := r.out.Write(b)
	if r.bar != nil {
		_ = r.bar.RenderBlank()
		r.renderLocked()
	}
	return n, err
}

func (r *reporter) setTotal(n int) {
	if r.limit > 0 && int64(n) > r.limit {
		n = int(r.limit)
	}
	r.total.Store(int64(n))
	r.mu.Lock()
	if r.bar != nil {
		r.bar.ChangeMax64(int64(n))
	}
	r.mu.Unlock()
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
		total := r.total.Load()
		if total == 0 {
			total = -1
		}
		r.bar = progressbar.NewOptions64(total,
			progressbar.OptionSetWriter(r.out),
			progressbar.OptionSetDescription("importing"),
			progressbar.OptionShowCount(),
			progressbar.OptionShowIts(),
			progressbar.OptionSetItsString("rows"),
			progressbar.OptionSetPredictTime(true),
			progressbar.OptionSetWidth(24),
			progressbar.OptionThrottle(100*time.Millisecond),
			progressbar.OptionShowDescriptionAtLineEnd(),
			progressbar.OptionSetRenderBlankState(true),
		)
		r.mu.Unlock()
	}
	t := time.NewTicker(tick)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			r.mu.Lock()
			if r.bar != nil {
				r.renderLocked()
				_ = r.bar.Clear()
				r.bar = nil
			}
			r.mu.Unlock()
			return
		case <-t.C:
			if r.tty {
				r.mu.Lock()
				r.renderLocked()
				r.mu.Unlock()
			} else {
				r.log.Info("progress", r.progressAttrs()...)
			}
		}
	}
}

func (r *reporter) renderLocked() {
	c := r.c
	_ = r.bar.Set64(r.base + c.done())
	desc := fmt.Sprintf("created %d · existing %d · failed %d · rejected %d · 429s %d",
		c.durable[checkpoint.StatusCreated].Load(), c.durable[checkpoint.StatusExisting].Load(),
		c.durable[checkpoint.StatusFailed].Load(), c.durable[checkpoint.StatusRejected].Load(),
		c.rateLimited.Load())
	if n := c.durable[checkpoint.StatusConflict].Load(); n > 0 {
		desc += fmt.Sprintf(" · conflict %d", n)
	}
	if c.outage.Load() {
		desc += " · the API is not answering: paused, probing"
	}
	r.bar.Describe(desc)
}

// progressAttrs is one progress line for logs that nobody watches live (cron, CI).
func (r *reporter) progressAttrs() []any {
	c := r.c
	elapsed := r.clock.Now().Sub(r.started).Seconds()
	done := c.done()
	attrs := []any{
		slog.Int64("done", r.base+done),
		slog.Int64("created", c.durable[checkpoint.StatusCreated].Load()),
		slog.Int64("existing", c.durable[checkpoint.StatusExisting].Load()),
		slog.Int64("failed", c.durable[checkpoint.StatusFailed].Load()),
		slog.Int64("rejected", c.durable[checkpoint.StatusRejected].Load()),
		slog.Int64("conflict", c.durable[checkpoint.StatusConflict].Load()),
		slog.Int64("requests", c.requests.Load()),
		slog.Int64("rate_limited", c.rateLimited.Load()),
	}
	if c.outage.Load() {
		attrs = append(attrs, slog.Bool("api_not_answering", true))
	}
	if total := r.total.Load(); total > 0 {
		attrs = append(attrs, slog.Int64("total", total))
		if left := float64(total - r.base - done); elapsed > 0 && done > 0 && left > 0 {
			perSec := float64(done) / elapsed
			attrs = append(attrs, slog.Int64("eta_seconds", int64(math.Round(left/perSec))))
		}
	}
	if elapsed > 0 {
		attrs = append(attrs, slog.Float64("rows_per_second", math.Round(float64(done)/elapsed*10)/10))
	}
	return attrs
}
