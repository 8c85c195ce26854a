package importer

import (
	"fmt"
	"io"
	"log/slog"
	"sort"
	"strings"
	"sync"

	"github.com/zentra/zentra-import/checkpoint"
	"github.com/zentra/zentra-import/zentra"
)

// NewLogger returns the logger of a command: text or JSON on w, info and up, or warnings and up when quiet.
// Logs name rows by number and external_reference, never by any other value of the row.
func NewLogger(w io.Writer, format string, quiet bool) *slog.Logger {
	level := slog.LevelInfo
	if quiet {
		level = slog.LevelWarn
	}
	opts := &slog.HandlerOptions{Level: level}
	if strings.EqualFold(format, "json") {
		return slog.New(slog.NewJSONHandler(w, opts))
	}
	return slog.New(slog.NewTextHandler(w, opts))
}

// problemLog logs the first problem rows one by one, then only says that more are in the job files, so
// that a file with a hundred thousand bad rows does not drown the log.
type problemLog struct {
	mu   sync.Mutex
	log  *slog.Logger
	max  int
	n    int
	told bool
}

func (p *problemLog) next() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.n++
	if p.n <= p.max {
		return true
	}
	if !p.told {
		p.told = true
		p.log.Warn(fmt.Sprintf("more rows have problems; they are not logged one by one: see results.csv and rejects.csv (after the first %d)", p.max))
	}
	return false
}

func (p *problemLog) rejected(row int, ref, reason string) {
	if p.next() {
		p.log.Warn("row rejected", "row", row, "external_reference", ref, "reason", reason)
	}
}

// apiRejected logs the API's code and field but not its message, which may repeat the row's values.
func (p *problemLog) apiRejected(row int, ref string, e *zentra.RowError) {
	if p.next() {
		p.log.Warn("row rejected by the API", "row", row, "external_reference", ref, "status", e.HTTPStatus, "code", e.Code, "field", e.Field)
	}
}

func (p *problemLog) failed(row int, ref string, status, attempts int) {
	if p.next() {
		p.log.Warn("row failed (its error is in results.csv; --retry-failed sends it again)", "row", row, "external_reference", ref, "last_status", status, "attempts", attempts)
	}
}

// failFast aborts a run whose first requests all fail: a wrong URL, a mapping the tenant refuses, an API
// that is down. One success settles it; after that no number of bad rows stops the run.
//
// Until it is settled, the outcomes of rows that failed for want of an answer (network, 5xx) are held
// rather than recorded: if the run is then aborted, those rows stay in flight and the same command sends
// them again once the API is back, instead of leaving them failed. The API's own judgements of rows (400,
// 422) are recorded at once, aborted or not: they are final answers, they reach rejects.csv where the user
// can see what the tenant requires, and a file that starts with 20 bad rows does not stop every run at
// the same place.
type failFast struct {
	mu        sync.Mutex
	limit     int
	seen      int
	succeeded bool
	tripped   bool
	reasons   map[string]int
	held      []checkpoint.Outcome
}

// observe counts one answer (ok: a success) and returns the abort error when the first limit answers
// have all failed.
func (f *failFast) observe(ok bool, reason string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.succeeded || f.seen >= f.limit {
		return nil
	}
	f.seen++
	if ok {
		f.succeeded = true
		return nil
	}
	if f.reasons == nil {
		f.reasons = map[string]int{}
	}
	f.reasons[reason]++
	if f.seen < f.limit {
		return nil
	}
	f.tripped = true
	return f.abort(fmt.Sprintf("the first %d requests all failed", f.limit))
}

// abort is the error that stops a run none of whose requests succeeded.
func (f *failFast) abort(what string) error {
	apiRefused, noID, timedOut := true, true, false
	for k := range f.reasons {
		apiRefused = apiRefused && strings.HasPrefix(k, "4")
		noID = noID && strings.HasPrefix(k, "2")
		timedOut = timedOut || k == zentra.CodeTimeout
	}
	again := "; the rows are not marked failed: the same command sends them again, with the same keys"
	var hint string
	switch {
	case apiRefused:
		hint = "the API refuses the rows as mapped: compare the mapping with the fields your tenant's identity program requires (the API's code and field are in the log above and in rejects.csv), then run again with --restart"
	case noID:
		hint = "the API answers success without a customer id where it is looked for: the customers may exist; give the id's path with --id-path" + again
	case timedOut:
		hint = "requests timed out: check --api-url and the network, or give a slow API more time with --timeout" + again
	default:
		hint = "the API is unreachable or failing: check --api-url and the network" + again
	}
	return &Error{Kind: KindAborted, Err: fmt.Errorf("%s (%s)", what, tally(f.reasons)), Hint: hint}
}

// tally lists the reasons counted, the most common first: "503 service_unavailable ×3, no answer ×2".
func tally(counts map[string]int) string {
	keys := make([]string, 0, len(counts))
	for k := range counts {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool {
		a, b := keys[i], keys[j]
		return counts[a] > counts[b] || counts[a] == counts[b] && a < b
	})
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = fmt.Sprintf("%s ×%d", k, counts[k])
	}
	return strings.Join(parts, ", ")
}

// settle records o, or holds it while nothing has succeeded yet and o failed for want of an answer. ok
// says the row itself succeeded.
func (f *failFast) settle(o checkpoint.Outcome, ok bool, record func(checkpoint.Outcome) error) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if ok {
		f.succeeded = true
	}
	switch {
	case f.succeeded:
		for len(f.held) > 0 {
			if err := record(f.held[0]); err != nil {
				return err
			}
			f.held = f.held[1:]
		}
	case o.Status != checkpoint.StatusFailed:
		// The API judged the row: recorded whatever comes next.
	case f.tripped:
		return nil // the run is aborting: the row stays in flight
	default:
		f.held = append(f.held, o)
		return nil
	}
	return record(o)
}

// finish ends a run that had no success: if rows failed for want of an answer (network, 5xx), every
// request failed, and the run is aborted with those rows left to be sent again.
func (f *failFast) finish() error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.succeeded || f.tripped || len(f.held) == 0 {
		return nil
	}
	f.tripped = true
	return f.abort("every request failed")
}
