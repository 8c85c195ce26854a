package checkpoint

import (
	"errors"
	"fmt"
)

// ErrClosed is returned by a journal's methods after Close.
var ErrClosed = errors.New("checkpoint journal is closed")

// CorruptError says that a journal cannot be used as it is: it is not a journal, it was written by a newer
// version, its header is damaged, or damage appeared in a file that was sound when opened.
type CorruptError struct {
	Path   string
	Offset int64 // where the problem is, or -1
	Reason string

	foreign   bool // the file is not a journal at all: --restart leaves it alone too
	startLost bool // the journal's start (prelude and header) is destroyed: --restart keeps it aside
}

func (e *CorruptError) Error() string {
	if e.Offset >= 0 {
		return fmt.Sprintf("checkpoint %s: %s (at byte %d)", e.Path, e.Reason, e.Offset)
	}
	return fmt.Sprintf("checkpoint %s: %s", e.Path, e.Reason)
}

// Hint says how a user gets out.
func (e *CorruptError) Hint() string {
	if e.foreign {
		return "this file is not the job's: move it away, or give --out a new or empty directory"
	}
	if e.startLost {
		return "run the same command with --restart to start the job over: it keeps the damaged journal as " +
			DamagedFile + ", and rows sent before come back from the API with their ids or as existing " +
			"(the same Idempotency-Key), so nothing is created twice. The outcomes recorded after the damage " +
			"cannot be used: their checksums start from the salt that was in the lost prelude, and nothing " +
			"left says which input, mapping and API they belong to"
	}
	return "move the job directory aside and run again with another --out, or add --restart to start the job " +
		"over (rows already sent are recognised by the API through their Idempotency-Key)"
}

// GoneError says that the journal is no longer where the job keeps it: the job directory was removed or
// replaced, or the journal removed or renamed over, while the job ran. The outcomes recorded since went
// to a file that is not the job's journal any more.
type GoneError struct {
	Dir, Path string
	DirGone   bool // the directory itself is gone, or another one is at its path
}

func (e *GoneError) Error() string {
	if e.DirGone {
		return fmt.Sprintf("the job directory %s was removed or replaced while the job ran: its journal went with it, "+
			"and what the job knew of the rows it had sent is lost", e.Dir)
	}
	return fmt.Sprintf("the journal %s was removed or replaced while the job ran: the outcomes recorded since are not in it", e.Path)
}

// Hint says how a user gets out.
func (e *GoneError) Hint() string {
	const answers = " with the same Idempotency-Key, and an API that honours idempotency keys or unique references " +
		"answers with the customer it already created (or 409, existing, with the id when it gives one) instead of " +
		"creating another"
	if e.DirGone {
		return "the customers created before are in Zentra. Run the same command again, with the same --out, to make " +
			"the job anew: every row is sent again" + answers + "; results.csv then lists every row"
	}
	return "run the same command again to resume from the journal now at that path if it is this job's (or add " +
		"--restart to start over): the rows it has no outcome for are sent again" + answers
}
