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
