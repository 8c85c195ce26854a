package importer

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/zentra/zentra-import/checkpoint"
)

// Summary is summary.json: what a run did, for the person reading the terminal and the monitor reading the
// file. Counts are over the whole job (every run of it), except the request counters, which are this run's.
type Summary struct {
	Command  string `json:"command"` // "run" or "validate"
	Input    string `json:"input"`
	InputSHA string `json:"input_sha256"`
	InputLen int64  `json:"input_bytes"`
	Mapping  string `json:"mapping_sha256"`
	APIURL   string `json:"api_url,omitempty"`
	JobDir   string `json:"job_dir"`

	Started  time.Time `json:"started"`
	Finished time.Time `json:"finished"`
	Seconds  float64   `json:"seconds"`

	Rows     int            `json:"rows"`     // data rows in the input (or in the trial, with --max-rows)
	Counts   map[string]int `json:"counts"`   // created, existing, failed, rejected, conflict, pending
	Complete bool           `json:"complete"` // every row has an outcome
	// Existing rows whose customer id the API did not give (a 409 without it, and no --lookup).
	ExistingWithoutID int `json:"existing_without_id"`

	// This run.
	Resumed       bool    `json:"resumed"`         // an earlier run of this job had done some rows
	AlreadyDone   int     `json:"already_done"`    // rows done before this run started
	Resent        int     `json:"resent"`          // rows in flight when the last run stopped, sent again
	Processed     int     `json:"processed"`       // outcomes this run made durable (validate: rows checked)
	Requests      int64   `json:"requests"`        // HTTP requests sent
	Retries       int64   `json:"retries"`         // requests beyond the first of a row
	RateLimited   int64   `json:"rate_limited"`    // 429 answers
	PausedSeconds float64 `json:"paused_seconds"`  // time all workers waited on 429s
	RowsPerSecond float64 `json:"rows_per_second"` // outcomes this run made durable / seconds
	RateCeiling   string  `json:"rate_ceiling,omitempty"`
	PlanLimit     int     `json:"plan_limit,omitempty"` // the X-RateLimit-Limit the API announced
	PlanWindow    string  `json:"plan_window,omitempty"`
	MaxRows       int     `json:"max_rows,omitempty"`
	Repaired      string  `json:"journal_repaired,omitempty"`
	Stopped       string  `json:"stopped,omitempty"` // why the run stopped early, if it did
	// Outage, when the API stopped answering at all during the run: the pool paused and probed.
	Outage *OutageSummary `json:"outage,omitempty"`

	ExitCode int `json:"exit_code"`

	// Unchanged is set, not saved, when this run found the job finished and sent nothing: the summary is
	// the last run's, and says so.
	Unchanged bool `json:"-"`
	// NoFiles is set, not saved, when the job directory was removed or replaced while the job ran: there
	// are no job files to point at.
	NoFiles bool `json:"-"`
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
const SummaryFile = checkpoint.SummaryFile

func newCounts() map[string]int {
	m := map[string]int{"pending": 0}
	for _, s := range checkpoint.Statuses() {
		m[s.String()] = 0
	}
	return m
}

// writeSummary replaces dir/summary.json atomically.
func writeSummary(dir string, s *Summary) error {
	f, err := checkpoint.CreateAtomic(filepath.Join(dir, SummaryFile))
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

// Print writes the human summary that ends every run, quiet or not.
func (s *Summary) Print(w io.Writer) {
	var b strings.Builder
	took := time.Duration(s.Seconds * float64(time.Second)).Round(100 * time.Millisecond)
	if s.Unchanged {
		fmt.Fprintf(&b, "already finished on %s: nothing sent now, the job files are unchanged; the run that finished it:\n", s.Finished.Local().Format("2006-01-02 15:04"))
	}
	switch {
	case s.Command == "validate":
		fmt.Fprintf(&b, "validated %s: %s in %s\n", s.Input, plural(s.Rows, "row"), took)
	case s.Complete:
		fmt.Fprintf(&b, "imported %s: %s in %s\n", s.Input, plural(s.Rows, "row"), took)
	case s.MaxRows > 0 && s.Stopped == "":
		fmt.Fprintf(&b, "trial of %s: the first %d rows in %s\n", s.Input, s.Rows, took)
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
	order := []string{"created", "existing", "failed", "rejected", "conflict", "pending"}
	if s.Command == "validate" {
		order = []string{"valid", "rejected"}
	}
	var parts []string
	for _, k := range order {
		if n, ok := s.Counts[k]; ok && (n > 0 || k != "pending" && k != "conflict") {
			parts = append(parts, fmt.Sprintf("%s %d", k, n))
		}
	}
	fmt.Fprintf(&b, "  %s\n", strings.Join(parts, " · "))
	if s.Command == "run" {
		fmt.Fprintf(&b, "  requests %d · retries %d · 429s %d", s.Requests, s.Retries, s.RateLimited)
		if s.Processed > 0 {
			fmt.Fprintf(&b, " · %.1f rows/s", s.RowsPerSecond)
		}
		b.WriteString("\n")
		if o := s.Outage; o != nil {
			fmt.Fprintf(&b, "  the API gave no answer %s, for %s in all: %s unanswered, not counted against --max-attempts\n",
				times(o.Count), time.Duration(o.Seconds*float64(time.Second)).Round(100*time.Millisecond), plural(o.Requests, "request"))
		}
		if s.Resumed {
			fmt.Fprintf(&b, "  resumed: %s already done", plural(s.AlreadyDone, "row"))
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
