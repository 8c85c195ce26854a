package importer

import (
	"fmt"
	"io"
	"path/filepath"
	"strings"
	"time"

	"github.com/zentra/zentra-import/checkpoint"
	"github.com/zentra/zentra-import/jobdir"
)

// SummaryFile is the name of the summary in a job directory.
const SummaryFile = jobdir.SummaryFile

func newCounts() map[string]int {
	m := map[string]int{"pending": 0}
	for _, s := range checkpoint.Statuses() {
		m[s.String()] = 0
	}
	return m
}

// PrintSummary writes the human summary that ends every run, quiet or not. A run's summary names its
// figures: "the job:" is every row's latest outcome over all the runs of the job, as results.csv lists it,
// and "this run:" is what this run alone did and sent.
func PrintSummary(w io.Writer, s *jobdir.Summary) {
	var b strings.Builder
	took := time.Duration(s.Seconds * float64(time.Second)).Round(100 * time.Millisecond)
	switch {
	case s.Command == "validate":
		fmt.Fprintf(&b, "validated %s: %s in %s\n", s.Input, plural(s.Rows, "row"), took)
	case s.AlreadyComplete && s.Complete:
		on := ""
		if !s.Completed.IsZero() {
			on = " on " + s.Completed.Local().Format("2006-01-02 15:04")
		}
		fmt.Fprintf(&b, "already complete: nothing sent; %s was imported%s: %s\n", s.Input, on, plural(s.Rows, "row"))
	case s.Complete:
		fmt.Fprintf(&b, "imported %s: %s\n", s.Input, plural(s.Rows, "row"))
	case s.MaxRows > 0 && s.Stopped == "":
		fmt.Fprintf(&b, "trial of %s: the first %d rows\n", s.Input, s.Rows)
	default:
		why := s.Stopped
		if why == "" {
			why = "not finished"
		}
		if len(why) > 60 {
			why = "aborted"
		}
		done := "done"
		if s.NoFiles {
			done = "were done when the job directory was lost"
		}
		fmt.Fprintf(&b, "%s: %s after %s; %d of %d rows %s\n", s.Input, why, took, s.Rows-s.Counts["pending"], s.Rows, done)
	}
	if s.Command == "validate" {
		fmt.Fprintf(&b, "  %s\n", countList(s.Counts, []string{"valid", "rejected"}, false))
	} else {
		fmt.Fprintf(&b, "  the job: %s\n", countList(s.Counts, statusOrder, false))
		fmt.Fprintf(&b, "  this run: %s", plural(s.Processed, "row"))
		if s.Resumed && s.Processed > 0 {
			fmt.Fprintf(&b, " (%s)", countList(s.RunCounts, statusOrder, true))
		}
		fmt.Fprintf(&b, " in %s", took)
		if s.Processed > 0 {
			fmt.Fprintf(&b, ", %.1f rows/s", s.RowsPerSecond)
		}
		fmt.Fprintf(&b, " · requests %d · retries %d · 429s %d\n", s.Requests, s.Retries, s.RateLimited)
		if o := s.Outage; o != nil {
			fmt.Fprintf(&b, "  the API gave no answer %s, for %s in all: %s unanswered, not counted against --max-attempts\n",
				times(o.Count), time.Duration(o.Seconds*float64(time.Second)).Round(100*time.Millisecond), plural(o.Requests, "request"))
		}
		if s.Resumed && !s.AlreadyComplete {
			fmt.Fprintf(&b, "  resumed: %s already done before this run", plural(s.AlreadyDone, "row"))
			if s.Resent > 0 {
				fmt.Fprintf(&b, "; %s in flight when the last run stopped (started, perhaps sent) sent again with the same keys", plural(s.Resent, "row"))
			}
			b.WriteString("\n")
		}
	}
	if n := s.Counts["rejected"]; n > 0 {
		fmt.Fprintf(&b, "  %s rejected: they are in %s; fix a copy of it and import that\n", plural(n, "row"), filepath.Join(s.JobDir, RejectsFile))
	}
	if n := s.ExistingWithoutID; n > 0 {
		fmt.Fprintf(&b, "  %s without a customer id: the API said they exist but not their id; where it has a lookup, run again with --restart --lookup (nothing is created twice)\n", plural(n, "existing row"))
	}
	if n := s.Counts["failed"]; n > 0 && s.Command == "run" {
		fmt.Fprintf(&b, "  %s failed on the API's side: run the same command with --retry-failed to send them again\n", plural(n, "row"))
	}
	if n := s.Counts["conflict"]; n > 0 && s.Command == "run" {
		fmt.Fprintf(&b, "  %s in conflict: their references were sent before with other values, and whether that created the customers is unknown; "+
			"run the same command with --retry-failed and --lookup (where your tenant has a lookup), or with --retry-failed --idempotency-header '' "+
			"(where the API refuses a second customer with the same external_reference), or look them up in Zentra\n", plural(n, "row"))
	}
	if s.NoFiles {
		fmt.Fprintf(&b, "  no job files: the job directory %s was removed or replaced while the job ran\n", s.JobDir)
	} else {
		fmt.Fprintf(&b, "  job files in %s\n", s.JobDir)
	}
	_, _ = io.WriteString(w, b.String())
}

// statusOrder is the order in which a run's summary lists the statuses.
var statusOrder = []string{"created", "existing", "failed", "rejected", "conflict", "pending"}

// countList is "created 3 · existing 0 · …" in order: the statuses in counts, except a pending or conflict
// count of 0 (nonzero: every status of 0).
func countList(counts map[string]int, order []string, nonzero bool) string {
	var parts []string
	for _, k := range order {
		n, ok := counts[k]
		if ok && (n > 0 || !nonzero && k != "pending" && k != "conflict") {
			parts = append(parts, fmt.Sprintf("%s %d", k, n))
		}
	}
	return strings.Join(parts, " · ")
}

func times(n int) string {
	if n == 1 {
		return "once"
	}
	return fmt.Sprintf("%d times", n)
}

func plural(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return fmt.Sprintf("%d %ss", n, noun)
}
