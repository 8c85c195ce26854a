package importer

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/zentra/zentra-import/atomicfile"
	"github.com/zentra/zentra-import/checkpoint"
	"github.com/zentra/zentra-import/jobdir"
)

// Summary is summary.json: what a run did, for the person reading the terminal and the monitor reading the
// file. Its figures are in two parts, each named: "run" ([RunFigures]) is this run alone, so that a monitor
// can add them up across runs (nights) without counting any twice, and "job" ([JobTotals]) is the whole
// job, every run of it, as results.csv lists it. A finished job run again sends nothing: its run says
// already_complete, with requests 0, and its job totals are the ones the job finished with.
type Summary struct {
	Command  string `json:"command"` // "run" or "validate"
	Input    string `json:"input"`
	InputSHA string `json:"input_sha256"`
	InputLen int64  `json:"input_bytes"`
	Mapping  string `json:"mapping_sha256"`
	APIURL   string `json:"api_url,omitempty"`
	JobDir   string `json:"job_dir"`

	RunFigures `json:"run"`
	JobTotals  `json:"job"`

	// ExitCode is this run's exit code: a finished job run again exits with the code it finished with.
	ExitCode int `json:"exit_code"`

	// NoFiles is set, not saved, when the job directory was removed or replaced while the job ran: there
	// are no job files to point at.
	NoFiles bool `json:"-"`
}

// RunFigures is what this run alone did. Summed over runs, each figure counts every request and every
// outcome once.
type RunFigures struct {
	Started  time.Time `json:"started"`
	Finished time.Time `json:"finished"`
	Seconds  float64   `json:"seconds"`

	// AlreadyComplete says that the job was finished before this run started: nothing was sent, and
	// results.csv and rejects.csv are as the run that finished it left them (only summary.json records this
	// run), or were rebuilt from the journal when one was missing or --carry changed.
	AlreadyComplete bool `json:"already_complete"`
	Resumed         bool `json:"resumed"`      // an earlier run of this job had done some rows
	AlreadyDone     int  `json:"already_done"` // rows done before this run started
	Resent          int  `json:"resent"`       // rows in flight when the last run stopped, sent again
	// Processed is the outcomes this run made durable (validate: the rows checked), and RunCounts the same
	// by status: a row failed before and created now counts once, as created.
	Processed     int            `json:"processed"`
	RunCounts     map[string]int `json:"counts"`
	Requests      int64          `json:"requests"`        // HTTP requests sent
	Retries       int64          `json:"retries"`         // requests beyond the first of a row
	RateLimited   int64          `json:"rate_limited"`    // 429 answers
	PausedSeconds float64        `json:"paused_seconds"`  // time all workers waited on 429s
	RowsPerSecond float64        `json:"rows_per_second"` // Processed / Seconds
	RateCeiling   string         `json:"rate_ceiling,omitempty"`
	PlanLimit     int            `json:"plan_limit,omitempty"` // the X-RateLimit-Limit the API announced
	PlanWindow    string         `json:"plan_window,omitempty"`
	MaxRows       int            `json:"max_rows,omitempty"`
	Repaired      string         `json:"journal_repaired,omitempty"`
	Stopped       string         `json:"stopped,omitempty"` // why the run stopped early, if it did
	// Outage, when the API stopped answering at all during the run: the pool paused and probed.
	Outage *OutageSummary `json:"outage,omitempty"`
}

// JobTotals is the whole job: every row's latest outcome, over all the runs of the job.
type JobTotals struct {
	Rows     int            `json:"rows"`     // data rows in the input (or in the trial, with --max-rows)
	Counts   map[string]int `json:"counts"`   // created, existing, failed, rejected, conflict, pending
	Complete bool           `json:"complete"` // every row has an outcome
	// Existing rows whose customer id the API did not give (a 409 without it, and no --lookup).
	ExistingWithoutID int `json:"existing_without_id"`
	// Completed is when the run that finished the job ended (absent while it is not finished).
	Completed time.Time `json:"completed,omitzero"`
}

// OutageSummary is what the outages of one run were: stretches when the API gave no answer to anyone,
// which the workers waited out, probing, instead of charging the rows.
type OutageSummary struct {
	Count    int     `json:"count"`    // outages, each ended by the API's first answer
	Seconds  float64 `json:"seconds"`  // time without any answer from the API, over them all
	Requests int     `json:"requests"` // requests that got no answer during them, probes included
	Probes   int     `json:"probes"`   // requests sent one at a time to find their end
	// StoppedRun says the run ended during one: it outlasted --max-outage (the run stopped, resumable),
	// or the run was interrupted then.
	StoppedRun bool `json:"stopped_run"`
}

// SummaryFile is the name of the summary in a job directory.
const SummaryFile = jobdir.SummaryFile

func newCounts() map[string]int {
	m := map[string]int{"pending": 0}
	for _, s := range checkpoint.Statuses() {
		m[s.String()] = 0
	}
	return m
}

// writeSummary replaces dir/summary.json atomically.
func writeSummary(dir string, s *Summary) error {
	f, err := atomicfile.Create(filepath.Join(dir, SummaryFile))
	if err != nil {
		return err
	}
	enc := json.NewEncoder(f)
	enc.SetIndent("", "  ")
	if err := enc.Encode(s); err != nil {
		_ = f.Abort()
		return err
	}
	return f.Commit()
}

// ReadSummary reads a job directory's summary.json.
func ReadSummary(dir string) (*Summary, error) {
	b, err := os.ReadFile(filepath.Join(dir, SummaryFile))
	if err != nil {
		return nil, err
	}
	var s Summary
	if err := json.Unmarshal(b, &s); err != nil {
		return nil, fmt.Errorf("read %s: %w", filepath.Join(dir, SummaryFile), err)
	}
	return &s, nil
}

// Print writes the human summary that ends every run, quiet or not. A run's summary names its figures:
// "the job:" is every row's latest outcome over all the runs of the job, as results.csv lists it, and
// "this run:" is what this run alone did and sent.
func (s *Summary) Print(w io.Writer) {
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
