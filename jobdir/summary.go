package jobdir

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/zentra/zentra-import/atomicfile"
)

// Summary is summary.json: what a run did, for the person reading the terminal and the monitor reading the
// file. Its figures are in two parts, each named: "run" ([RunFigures]) is this run alone, so that a monitor
// can add them up across runs (nights) without counting any twice, and "job" ([JobTotals]) is the whole
// job, every run of it, as results.csv lists it. A finished job run again sends nothing: its run says
// already_complete, with requests 0, and its job totals are the ones the job finished with. The importer
// fills it in and prints it (importer.PrintSummary); this package owns the file's schema.
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

// WriteSummary replaces dir/summary.json atomically.
func WriteSummary(dir string, s *Summary) error {
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

// isSummary reports whether path holds a summary.json this tool wrote: a JSON object naming the command
// ("run" or "validate") and the input's SHA-256 (Summary's Command and InputSHA), and not larger than a
// summary can be.
func isSummary(path string, size int64) bool {
	if size > 1<<20 {
		return false
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return false
	}
	var s struct {
		Command  string `json:"command"`
		InputSHA string `json:"input_sha256"`
	}
	return json.Unmarshal(b, &s) == nil && (s.Command == "run" || s.Command == "validate") && len(s.InputSHA) == 64
}
