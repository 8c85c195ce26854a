package importer

import (
	"errors"
	"fmt"
	"strings"

	"github.com/zentra/zentra-import/checkpoint"
	"github.com/zentra/zentra-import/csvfile"
	"github.com/zentra/zentra-import/mapping"
)

// changeHint is what a run that saw its input change tells the user.
const changeHint = "nothing is marked complete and the rows already sent keep their outcomes; wait until the file is written whole " +
	"(an upload or export still running?), then run the same command again: it finishes the job once the input is back to the bytes " +
	"the job is bound to, and continues it with the new rows if the input extends them; to import another file, give it another --out (or --restart)"

// runChangeError makes a change of the input, seen by a run, the run's error: aborted (exit 3), since
// rows may have been sent, and resumable.
func runChangeError(err error) error {
	var c *changedError
	if !errors.As(err, &c) {
		return err
	}
	return &Error{Kind: KindAborted, Err: c, Hint: changeHint}
}

// noLineBreak is the warning for a last row that the file ends inside of, without a line break.
func noLineBreak(row, line int) string {
	return fmt.Sprintf("row %d (line %d) has no line break at the end of the file: if the export was cut short, its last values may be incomplete", row, line)
}

// inputChanged ends the run's reading: the job is not complete. A file that only grew still holds the
// bound bytes, so the rows already read from them are sent; otherwise (it shrank, was replaced or
// rewritten) the intake stops at once, as for a signal, and the rows read ahead wait for the next run.
func (r *runner) inputChanged(c *changedError) {
	r.changed = c
	if !c.keepsBound() {
		r.stop()
	}
}

// heldBack looks at the input before the producer uses rec, and stops the run when the input changed in
// a way that rec or the rest cannot be trusted after: it shrank, was replaced or was rewritten (a block
// read differed), or, at the record that ends the bound bytes, it grew or was written to at all. That
// last record is not a row of a file that changed: it may be a row cut by a file still being written,
// and the next run, on the whole file, reads it as it is then. A growth seen before it lets the run go on
// with the bound bytes, which are intact.
func (r *runner) heldBack(rec *csvfile.Record) bool {
	last := rec.End == r.src.size
	c := r.src.watch(last)
	if c == nil || (c.keepsBound() && !last) {
		return false
	}
	if last && c.kind == changeRewritten && !c.bytesSeen {
		// Only the file's times moved: its bytes decide (one pass, at most once a run).
		err := r.src.verify()
		if err == nil {
			return false
		}
		if !errors.As(err, &c) {
			return false // an I/O error: the reads of the rows report it
		}
	}
	r.inputChanged(c.at(rec.Row))
	return true
}

// openJournal opens the job's journal under binding b. A journal bound to fewer bytes of the same job, when
// the input starts with exactly those bytes (same SHA-256), is an input that grew: the job continues, with
// the journal rebound to the longer input, unless the grown bytes change a row already sent.
func (r *runner) openJournal(b checkpoint.Binding, opts checkpoint.Options) (*checkpoint.Journal, *checkpoint.State, error) {
	old, ok := checkpoint.JournalBinding(r.dir)
	if !ok || !old.GrowsInto(b) {
		j, st, err := checkpoint.Open(r.dir, b, opts)
		if err != nil {
			return nil, nil, shorterInputHint(wrapInput(err, spaceHint(err)), ok, old, b)
		}
		return j, st, nil
	}
	prefix, err := r.src.prefixSum(old.InputSize)
	if err != nil {
		return nil, nil, runChangeError(err)
	}
	if !strings.EqualFold(prefix, old.InputSHA256) {
		_, _, err := checkpoint.Open(r.dir, b, opts) // refused: another input, named
		return nil, nil, wrapInput(err, "")
	}
	bound := b
	bound.InputSize, bound.InputSHA256 = old.InputSize, old.InputSHA256
	j, st, err := checkpoint.Open(r.dir, bound, opts)
	if err != nil {
		return nil, nil, wrapInput(err, spaceHint(err))
	}
	if err := r.lastRowKept(j, st, old.InputSize); err != nil {
		_ = j.Close()
		return nil, nil, err
	}
	if err := j.Rebind(b); err != nil {
		_ = j.Close()
		return nil, nil, journalError(err)
	}
	r.log.Info(fmt.Sprintf("the input grew from %d to %d bytes with the same first %d bytes: continuing the job with the new rows", old.InputSize, b.InputSize, old.InputSize),
		"job", r.dir, "bytes_before", old.InputSize, "bytes_now", b.InputSize)
	return j, st, nil
}

// lastRowKept checks, for an input that grew from size bytes, that the journal's last row still ends where
// it ended: a row the old bytes ended inside of (no line break at their end, or an open quote) and that
// was sent, or may have been, is changed by the new bytes, and the job cannot simply go on.
func (r *runner) lastRowKept(j *checkpoint.Journal, st *checkpoint.State, size int64) error {
	if st.LastRow == 0 || st.LastEnd < size {
		return nil // the last bound record was never used: the new bytes only complete it
	}
	rd, err := r.src.reader()
	if err != nil {
		return wrapInput(err, "")
	}
	if err := rd.SeekRecord(st.LastOffset, st.LastRow); err != nil {
		return wrapInput(err, "")
	}
	rec, err := rd.Next()
	if err != nil {
		return runChangeError(wrapInput(err, ""))
	}
	if rec.End == st.LastEnd {
		return nil
	}
	ref := ""
	_ = j.Outcomes(func(o checkpoint.Outcome) error {
		if o.Row == st.LastRow {
			ref = o.Ref
		}
		return nil
	})
	if ref == "" {
		ref = checkRow(r.src.mapper, mapping.NewSeen(), rec).Ref
	}
	return inputError("row "+fmt.Sprint(st.LastRow)+" was imported with the values it had when the file ended inside it: check that customer in Zentra "+
		"(the API has no update route); to import the rows the file has now, run again with --restart (every row is read from the whole file; "+
		"rows already imported are answered as existing, with their ids), or import it with another --out",
		"the input grew from %d to %d bytes with the same first %d bytes, but those ended inside row %d (line %d, external_reference %q), which was sent as it was then: the new bytes change that row, so the job cannot go on with them",
		size, r.src.size, size, st.LastRow, rec.Line, ref)
}

// shorterInputHint adds to the refusal of an input shorter than the job's what the user can do: the job
// goes on once the file is back (a re-upload still being written, a truncated copy).
func shorterInputHint(err error, known bool, old, b checkpoint.Binding) error {
	var be *checkpoint.BindingError
	var e *Error
	if !known || b.InputSize >= old.InputSize || !errors.As(err, &be) || !errors.As(err, &e) || len(be.Changes) != 1 {
		return err
	}
	e.Hint = fmt.Sprintf("the input is shorter than the %d bytes this job is bound to (a re-upload still being written?): once the file the job started with is back, or one that extends it, the same command goes on with the job; ", old.InputSize) + be.Hint()
	return e
}
