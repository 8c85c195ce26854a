package importer

import (
	"errors"
	"fmt"
	"syscall"

	"github.com/zentra/zentra-import/checkpoint"
	"github.com/zentra/zentra-import/jobdir"
)

// diskFull explains a run that stopped on a full disk (or a used-up quota) in its job directory: which
// directory, how many rows the journal holds durably, roughly how much space the job still needs, and that
// the same command resumes. Any other error is returned as it is.
func (r *runner) diskFull(err error, s *jobdir.Summary) error {
	var errno syscall.Errno
	if err == nil || !errors.As(err, &errno) || (errno != syscall.ENOSPC && errno != syscall.EDQUOT) {
		return err
	}
	var explained *diskFullError
	if errors.As(err, &explained) {
		return err
	}
	d := r.j.Durable()
	full := "the disk holding the job directory %s is full"
	if errno == syscall.EDQUOT {
		full = "the disk quota of the job directory %s is used up"
	}
	rows := max(s.Rows, d.Rows)
	return &Error{Kind: KindAborted, Err: &diskFullError{
		msg: fmt.Sprintf(full+" (%v): %d of %d rows have a durable outcome in its journal", r.dir, errno, d.Rows, rows),
		err: err,
	}, Hint: fmt.Sprintf("free about %s there (what the job still has to write: the rest of its journal, results.csv, "+
		"rejects.csv and the journal rewritten once at the end), then run the same command again to resume: the rows "+
		"done are not sent again", sizeText(spaceNeeded(d, rows, r.src.size)))}
}

// diskFullError is a full disk, explained; Unwrap keeps the error it explains (errors.Is finds ENOSPC).
type diskFullError struct {
	msg string
	err error
}

func (e *diskFullError) Error() string { return e.msg }
func (e *diskFullError) Unwrap() error { return e.err }

// spaceNeeded estimates the bytes a job of rows rows still writes in its directory, from what its journal
// holds so far (d) and the input's size: the rest of the journal, at the bytes a row took so far;
// results.csv, whose lines are about the size of outcome records; the row index that rebuilding the files
// uses (8 bytes a row, removed after); rejects.csv, the input's share of the rows failed or rejected so far;
// the journal rewritten once, compacted (it is, when it holds many superseded records); and slack for the
// summary and the file system's blocks. It is an estimate, meant to say how much to free.
func spaceNeeded(d checkpoint.Durable, rows int, inputSize int64) int64 {
	perRow := int64(256) // before any outcome: a generous record
	if d.Rows > 0 {
		perRow = max(d.Bytes/int64(d.Rows), 64)
	}
	left := int64(max(rows-d.Rows, 0))
	bad := int64(d.Counts[checkpoint.StatusFailed] + d.Counts[checkpoint.StatusRejected])
	rejects := inputSize
	if d.Rows > 0 {
		rejects = inputSize * bad / int64(d.Rows)
	}
	n := int64(rows)
	return left*perRow + n*perRow + 8*n + rejects + n*perRow + 64<<10
}

// sizeText is a size for people: "640 KiB", "4.2 MiB", "12 MiB", "3.4 GiB".
func sizeText(n int64) string {
	switch {
	case n < 1<<20:
		return fmt.Sprintf("%d KiB", max((n+1023)>>10, 1))
	case n < 10<<20:
		return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
	case n < 1<<30:
		return fmt.Sprintf("%d MiB", (n+(1<<20)-1)>>20)
	}
	return fmt.Sprintf("%.1f GiB", float64(n)/(1<<30))
}

// spaceHint is the hint for a job directory that could not be set up: when the disk is full, what to do;
// otherwise "" (the error's own hint, if any, stands).
func spaceHint(err error) string {
	if !errors.Is(err, syscall.ENOSPC) && !errors.Is(err, syscall.EDQUOT) {
		return ""
	}
	return "the disk of the job directory is full: free some space there (or give --out a directory on another disk), " +
		"then run the same command again; nothing was sent"
}
