package importer

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/zentra/zentra-import/checkpoint"
	"github.com/zentra/zentra-import/jobdir"
)

// The job files beside the journal.
const (
	ResultsFile = jobdir.ResultsFile
	RejectsFile = jobdir.RejectsFile
)

// jobFiles are results.csv and rejects.csv, rebuilt from the journal (jobdir.Rebuild), and the job's
// counts that they list.
type jobFiles struct {
	dir     string
	src     *source
	carry   carried
	bom     bool // results.csv begins with a UTF-8 byte-order mark (--excel)
	counts  map[string]int
	outcome int // rows with an outcome
	noID    int // existing rows without a customer id
}

func (f *jobFiles) write(j *checkpoint.Journal) error {
	f.counts = newCounts()
	rd, err := f.src.reader()
	if err != nil {
		return err
	}
	t, err := jobdir.Rebuild(f.dir, j, jobdir.Input{Reader: rd, Name: f.src.path, IsData: f.src.mapper.ReadsColumn,
		Carry: f.carry.names, From: f.carry.idx, BOM: f.bom})
	f.set(t)
	return err
}

// tally counts the journal's outcomes as write does, without reading the input or writing a file.
func (f *jobFiles) tally(j *checkpoint.Journal) error {
	t, err := jobdir.Count(j)
	f.set(t)
	return err
}

// set takes the counts of the rebuild's tally.
func (f *jobFiles) set(t jobdir.Tally) {
	f.counts = newCounts()
	for st, n := range t.Counts {
		f.counts[st.String()] = n
	}
	f.outcome, f.noID = t.Outcomes, t.ExistingWithoutID
}

// newJobFiles is the job files of this run's job, as its options write them.
func (r *runner) newJobFiles() *jobFiles {
	return &jobFiles{dir: r.dir, src: r.src, carry: r.carry, bom: r.o.ExcelBOM}
}

// finish writes the job files and the summary, and marks the journal finished when every row is done. It
// returns the summary and the run's error: runErr, explained, or else its own.
func (r *runner) finish(binding checkpoint.Binding, runErr error) (*jobdir.Summary, error) {
	o := r.o
	files := r.newJobFiles()
	var filesErr error
	if filesErr = r.j.Err(); filesErr == nil { // the files are rebuilt from the journal: not from a failed one
		filesErr = files.write(r.j)
	}
	if filesErr != nil {
		// What the journal holds durably is what counts, and what a resumed run finds: not the rows that
		// the files had reached.
		d := r.j.Durable()
		files.counts, files.outcome = newCounts(), d.Rows
		for st, n := range d.Counts {
			files.counts[st.String()] = n
		}
		if jerr := r.j.Err(); jerr != nil {
			filesErr = journalError(jerr)
		} else {
			filesErr = &Error{Kind: KindAborted, Err: filesErr, Hint: "the journal is intact: run the same command again to rebuild the job files"}
		}
	}

	if r.counted != nil {
		<-r.counted // the total, for the rows still pending; and no goroutine reads the input after Run
	}
	// The input must still be the bytes the job is bound to, now that everything was read: a change at any
	// moment of the run leaves the job incomplete, whatever was sent.
	changed := r.changed
	if changed == nil {
		changed = r.src.settle()
	}
	var ce *changedError
	if errors.As(filesErr, &ce) {
		// The bound bytes can no longer be read: results.csv and rejects.csv stay as they were (their rows
		// come from the input); the summary counts from the journal alone.
		if changed == nil {
			changed = ce
		}
		r.log.Warn("results.csv and rejects.csv were left as they were: the input no longer holds the bytes the job read; the same command rebuilds them once it does", "job", r.dir)
		files = r.newJobFiles()
		filesErr = files.tally(r.j)
	}
	if changed != nil {
		if runErr == nil {
			runErr = runChangeError(changed) // the change is what stopped the run, for the exit code
		} else if !errors.As(runErr, &ce) {
			r.log.Warn(changed.Error())
		}
	}
	rows := int(r.rep.total.Load())
	if r.eof {
		rows = max(r.lastRow, r.st.ResumeRow-1)
	}
	if o.MaxRows > 0 && !r.eof {
		rows = min(max(rows, r.lastRow), o.MaxRows)
	}
	rows = max(rows, files.outcome)
	files.counts["pending"] = rows - files.outcome

	s := r.summary(binding, files, rows)
	s.Complete = r.eof && runErr == nil && filesErr == nil && files.counts["pending"] == 0
	if s.Complete {
		s.Completed = r.completedAt(s.Finished)
	}

	runErr, filesErr = r.diskFull(runErr, s), r.diskFull(filesErr, s)
	switch KindOf(runErr) {
	case KindInterrupted:
		s.ExitCode, s.Stopped = 130, "interrupted"
	case KindAborted:
		s.ExitCode, s.Stopped = 3, runErr.Error()
	}
	if runErr == nil {
		if files.counts["failed"]+files.counts["rejected"]+files.counts["conflict"] > 0 {
			s.ExitCode = 1
		}
	}
	if filesErr != nil {
		if s.ExitCode == 0 || s.ExitCode == 1 {
			s.ExitCode = 3
		}
		if s.Stopped == "" {
			s.Stopped = filesErr.Error()
		}
		var gone *checkpoint.GoneError
		if errors.As(filesErr, &gone) {
			s.NoFiles = true // the directory is gone, or not the job's: write nothing there
		} else {
			_ = jobdir.WriteSummary(r.dir, s) // the durable counts, where there is room for them
		}
		return s, firstErr(runErr, filesErr)
	}
	// The summary first: a crash before the finish record leaves a job that the next run finishes again
	// (sending nothing), never a finished job whose summary is an older run's.
	if err := jobdir.WriteSummary(r.dir, s); err != nil {
		return s, firstErr(runErr, r.diskFull(&Error{Kind: KindAborted, Err: fmt.Errorf("write summary: %w", err), Hint: "the journal is intact: run the same command again to rebuild the job files"}, s))
	}
	if s.Complete {
		if err := r.j.Finish(rows, s.ExitCode); err != nil {
			return s, r.diskFull(journalError(err), s)
		}
	}
	return s, runErr
}

// summary is this run's summary: its own figures, from the counters and the pacer, and the job's totals,
// from files (the journal's outcomes, counted) and rows.
func (r *runner) summary(binding checkpoint.Binding, files *jobFiles, rows int) *jobdir.Summary {
	o := r.o
	now := o.Clock.Now()
	s := &jobdir.Summary{
		Command: "run", Input: o.Input, InputSHA: binding.InputSHA256, InputLen: binding.InputSize,
		Mapping: binding.MappingHash, APIURL: binding.APIURL, JobDir: r.dir,
		RunFigures: jobdir.RunFigures{
			Started: r.started, Finished: now, Seconds: now.Sub(r.started).Seconds(), MaxRows: o.MaxRows,
			AlreadyComplete: r.st.Complete, Resumed: !r.st.Fresh, AlreadyDone: int(r.rep.base), Resent: r.st.InFlight,
			Processed: int(r.c.done()), RunCounts: r.c.counts(), Requests: r.c.requests.Load(), Retries: r.c.retries.Load(),
			RateLimited: r.c.rateLimited.Load(), Repaired: r.st.Repaired,
		},
		JobTotals: jobdir.JobTotals{Rows: rows, Counts: files.counts, ExistingWithoutID: files.noID},
	}
	if s.Seconds > 0 {
		s.RowsPerSecond = float64(s.Processed) / s.Seconds
	}
	ps := r.pacer.Stats()
	s.PausedSeconds = ps.Paused.Seconds()
	s.RateCeiling = o.Rate.String()
	s.PlanLimit = ps.AnnouncedMax
	if out := ps.Outage; out.Count > 0 {
		s.Outage = &jobdir.OutageSummary{Count: out.Count, Seconds: out.Silent.Seconds(), Requests: out.Requests,
			Probes: out.Probes, StoppedRun: out.Ongoing}
	}
	if ps.AnnouncedMax > 0 {
		s.PlanWindow = ps.Window.String()
	}
	return s
}

// completedAt is when the job was finished, for a run that leaves it finished at now: now, unless the job
// was finished before this run (which only rebuilt its files), as its last summary says.
func (r *runner) completedAt(now time.Time) time.Time {
	if r.st.Complete {
		if prev, err := jobdir.ReadSummary(r.dir); err == nil && !prev.Completed.IsZero() {
			return prev.Completed
		}
	}
	return now
}

// alreadyComplete is a run of a job that was finished before it started. It sends nothing and leaves
// results.csv, rejects.csv and the journal as they are; summary.json records this run (nothing done,
// requests 0, already_complete) beside the job's totals, counted from the journal, and the exit code is
// the one the job finished with.
func (r *runner) alreadyComplete(binding checkpoint.Binding) (*jobdir.Summary, error) {
	files := r.newJobFiles()
	if err := files.tally(r.j); err != nil {
		return nil, journalError(err)
	}
	rows := max(r.st.TotalRows, files.outcome)
	files.counts["pending"] = rows - files.outcome
	if strings.EqualFold(r.o.LogFormat, "json") { // the text summary's first line says it
		r.log.Info("already complete: nothing sent", "job", r.dir)
	}
	s := r.summary(binding, files, rows)
	s.Complete, s.ExitCode = true, r.st.ExitCode
	s.Completed = r.completedAt(s.Finished)
	if err := jobdir.WriteSummary(r.dir, s); err != nil {
		s.ExitCode, s.Stopped = 3, "write summary: "+err.Error()
		return s, &Error{Kind: KindAborted, Err: fmt.Errorf("write summary: %w", err),
			Hint: "nothing was sent and the job is finished, but summary.json still describes an earlier run: free space in the job directory (or make it writable) and run the same command again to record this one"}
	}
	return s, nil
}

func firstErr(errs ...error) error {
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}
