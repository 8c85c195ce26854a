package importer

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/zentra/zentra-import/atomicfile"
	"github.com/zentra/zentra-import/checkpoint"
	"github.com/zentra/zentra-import/csvfile"
	"github.com/zentra/zentra-import/jobdir"
	"github.com/zentra/zentra-import/mapping"
)

// ValidateOptions is everything `validate` needs.
type ValidateOptions struct {
	Input   string
	Mapping string // "" infers one, as run does
	Out     string // the job directory; "" as run's default
	Show    int    // how many problem rows to print; 0: none, the counts only
	Stderr  io.Writer
	Clock   Clock
}

// validateChangeError is a change of the input seen by validate: an input error (exit 2), since no verdict
// holds for bytes that were not read consistently.
func validateChangeError(c *changedError) error {
	return &Error{Kind: KindInput, Err: c,
		Hint: "the counts would not describe any one version of the file: validate it again once it is written whole (an upload or export still running?)"}
}

// Validate reads the whole input with the same mapping and rules as run, writes rejects.csv and
// summary.json to the job directory, prints the first problems, and sends nothing.
func Validate(ctx context.Context, o ValidateOptions) (*jobdir.Summary, error) {
	if o.Clock == nil {
		o.Clock = SystemClock{}
	}
	if o.Stderr == nil {
		o.Stderr = io.Discard
	}
	started := o.Clock.Now()
	src, err := openSource(o.Input, o.Mapping)
	var changed *changedError
	if errors.As(err, &changed) {
		return nil, validateChangeError(changed)
	}
	if err != nil {
		return nil, err
	}
	defer src.Close()
	printTargetWarnings(o.Stderr, src.m)
	printReaderNotes(o.Stderr, src.rd)
	dir, lock, err := openJobDir(o.Input, o.Out)
	if err != nil {
		return nil, err
	}
	defer lock.Unlock()
	if _, err := os.Stat(filepath.Join(dir, checkpoint.JournalFile)); err == nil {
		return nil, inputError("pass validate another --out: it writes its rejects.csv and summary.json there",
			"%s holds an import's checkpoint; validating into it would replace that import's rejects.csv and summary.json", dir)
	}
	if src.inferred != nil {
		fmt.Fprintf(o.Stderr, "no --mapping given: validating with this mapping inferred from %s\n%s\n", o.Input, src.inferred)
	}
	fmt.Fprintf(o.Stderr, "reading %s: %s\n", o.Input, describeDialect(src.rd.Dialect(), src.m.CSV()))

	rejects, err := atomicfile.Create(filepath.Join(dir, RejectsFile))
	if err != nil {
		return nil, wrapInput(err, "")
	}
	defer rejects.AbortOnError(&err)
	jw, err := csvfile.NewRejectsWriter(rejects, src.rd.Dialect(), src.rd.Header(), csvfile.WithData(src.mapper.ReadsColumn), csvfile.WithInput(src.rd))
	if err != nil {
		return nil, err
	}
	seen := mapping.NewSeen()
	rows, bad := 0, 0
	var cut *csvfile.Record // the last row, when the file ends inside it
	var lossy lossyNames
	for {
		if ctx.Err() != nil {
			err = &Error{Kind: KindInterrupted, Err: ErrInterrupted, Hint: "validation sends nothing; run it again"}
			return nil, err
		}
		rec, rerr := src.rd.Next()
		if errors.Is(rerr, io.EOF) {
			break
		}
		if errors.As(rerr, &changed) {
			err = validateChangeError(changed.at(rows + 1))
			return nil, err
		}
		if rerr != nil {
			err = wrapInput(fmt.Errorf("read %s: %w", o.Input, rerr), "")
			return nil, err
		}
		rows = rec.Row
		if rec.End == src.size && !src.endsInLineBreak(src.rd.Dialect()) {
			cut = rec
		}
		c := checkRow(src.mapper, seen, rec)
		ref, problem := c.Ref, c.problem
		if problem == "" {
			lossy.add(rec.Row, c.Lossy)
			continue
		}
		bad++
		if bad <= o.Show {
			if ref != "" {
				fmt.Fprintf(o.Stderr, "row %d (%s): %s\n", rec.Row, ref, problem)
			} else {
				fmt.Fprintf(o.Stderr, "row %d: %s\n", rec.Row, problem)
			}
		}
		if err = jw.Write(rec, jobdir.SafeCell(problem)); err != nil {
			return nil, err
		}
	}
	// What was read must be the bytes the file still holds: a file that changed meanwhile gets no verdict.
	if changed := src.settle(); changed != nil {
		err = validateChangeError(changed)
		return nil, err
	}
	if cut != nil {
		ref := checkRow(src.mapper, mapping.NewSeen(), cut).Ref
		fmt.Fprintf(o.Stderr, "warning: %s (external_reference %q)\n", noLineBreak(cut.Row, cut.Line), ref)
	}
	if bad > o.Show && o.Show > 0 {
		fmt.Fprintf(o.Stderr, "… and %d more rows with problems (all in %s)\n", bad-o.Show, filepath.Join(dir, RejectsFile))
	}
	lossy.print(o.Stderr, src.rd.Dialect())
	if note, suspect := footerNote(src.rd); suspect {
		fmt.Fprintf(o.Stderr, "warning: %s\n", note)
	} else if note != "" {
		fmt.Fprintln(o.Stderr, note)
	}
	if err = jw.Close(); err != nil {
		return nil, err
	}
	if err = rejects.Commit(); err != nil {
		return nil, err
	}
	now := o.Clock.Now()
	counts := map[string]int{"valid": rows - bad, "rejected": bad}
	s := &jobdir.Summary{
		Command: "validate", Input: o.Input, InputSHA: src.sum, InputLen: src.size, Mapping: src.m.Hash(), JobDir: dir,
		RunFigures: jobdir.RunFigures{Started: started, Finished: now, Seconds: now.Sub(started).Seconds(), Processed: rows, RunCounts: counts},
		JobTotals:  jobdir.JobTotals{Rows: rows, Counts: counts, Complete: true, Completed: now},
	}
	if bad > 0 {
		s.ExitCode = 1
	}
	if s.Seconds > 0 {
		s.RowsPerSecond = float64(rows) / s.Seconds
	}
	err = jobdir.WriteSummary(dir, s)
	return s, err
}
