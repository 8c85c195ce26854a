package ledger

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"time"
)

// Kind says why a ledger cannot be used, and so what to do about it.
type Kind uint8

const (
	// KindUnreadable: the file cannot be opened or read (permissions, not a regular file, an I/O error).
	KindUnreadable Kind = iota + 1
	// KindUnwritable: the file cannot be written (a full disk, a read-only file system or file).
	KindUnwritable
	// KindNotLedger: the file is not an SQLite database, or is the database of something else.
	KindNotLedger
	// KindCorrupt: the file is a ledger, damaged.
	KindCorrupt
	// KindLocked: another process held the ledger's lock longer than Options.BusyTimeout.
	KindLocked
	// KindVersion: the ledger has another schema version than SchemaVersion.
	KindVersion
	// KindMissing: Options.ReadOnly and there is no ledger at the path (nothing is known yet).
	KindMissing
)

func (k Kind) String() string {
	switch k {
	case KindUnreadable:
		return "unreadable"
	case KindUnwritable:
		return "unwritable"
	case KindNotLedger:
		return "not a ledger"
	case KindCorrupt:
		return "corrupt"
	case KindLocked:
		return "locked"
	case KindVersion:
		return "another version"
	case KindMissing:
		return "missing"
	}
	return fmt.Sprintf("Kind(%d)", uint8(k))
}

// Error is a ledger that cannot be used. Every failure of the ledger's storage is one, whatever the call
// it happened in: the caller stops (a run before it sends anything: exit 2) rather than going on without
// memory. Hint says what to do. A KindMissing error matches fs.ErrNotExist with errors.Is.
type Error struct {
	Path    string
	Kind    Kind
	Reason  string        // what is wrong, in words, when Err does not say it
	Version int           // KindVersion: the file's schema version
	Waited  time.Duration // KindLocked: the bound that was waited
	Err     error         // the cause, or nil
}

func (e *Error) Error() string {
	var s string
	switch e.Kind {
	case KindUnreadable:
		s = fmt.Sprintf("ledger %s cannot be read", e.Path)
	case KindUnwritable:
		s = fmt.Sprintf("ledger %s cannot be written", e.Path)
	case KindNotLedger:
		s = fmt.Sprintf("%s is not a zentra-import ledger", e.Path)
	case KindCorrupt:
		s = fmt.Sprintf("ledger %s is damaged", e.Path)
	case KindLocked:
		return fmt.Sprintf("ledger %s is locked: another process held it for more than %s", e.Path, e.Waited)
	case KindVersion:
		if e.Version > SchemaVersion {
			return fmt.Sprintf("ledger %s has schema version %d, written by a newer zentra-import; this one reads version %d", e.Path, e.Version, SchemaVersion)
		}
		return fmt.Sprintf("ledger %s has schema version %d; this zentra-import reads version %d", e.Path, e.Version, SchemaVersion)
	case KindMissing:
		return fmt.Sprintf("no ledger at %s", e.Path)
	default:
		s = fmt.Sprintf("ledger %s cannot be used", e.Path)
	}
	if e.Reason != "" {
		s += ": " + e.Reason
	}
	if e.Err != nil {
		s += ": " + e.Err.Error()
	}
	return s
}

func (e *Error) Unwrap() error { return e.Err }

// Is makes a KindMissing error match fs.ErrNotExist.
func (e *Error) Is(target error) bool { return e.Kind == KindMissing && target == fs.ErrNotExist }

// Hint says how a user gets out. Every way out names --no-ledger, the explicit choice to go on without
// memory, last.
func (e *Error) Hint() string {
	const without = "; or run with --no-ledger to import without the ledger's memory, knowingly"
	switch e.Kind {
	case KindUnreadable:
		return "the ledger must be a regular file of yours, mode 0600, in a directory of yours: check its owner and permissions (ls -l " + e.Path + ") and the disk" + without
	case KindUnwritable:
		return "free space on the ledger's disk, or make the file and its directory writable by you" + without
	case KindNotLedger:
		return "point --ledger (or ZENTRA_LEDGER) at another path; this file is left untouched" + without
	case KindCorrupt:
		return "move it aside (mv " + e.Path + " " + e.Path + ".damaged, with its -wal and -shm files) and let the next run make a new one; " +
			"`zentra-import ledger import` seeds it again from the jobs' results.csv, and `sqlite3 " + e.Path + ".damaged .recover` may save more" + without
	case KindLocked:
		return "another process is writing the ledger and does not let go (a sqlite3 shell with an open transaction, or a stuck zentra-import: fuser " +
			e.Path + "): end it, or wait and run again" + without
	case KindVersion:
		if e.Version > SchemaVersion {
			return "use the zentra-import that wrote it (or a newer one), or point --ledger at another path" + without
		}
		return "point --ledger at another path" + without
	case KindMissing:
		return "a run makes the ledger the first time it imports; until then nothing is known"
	}
	return ""
}

// IsUnusable reports whether err is an *Error: the ledger cannot be used, as opposed to a caller's
// mistake or a cancelled context.
func IsUnusable(err error) bool {
	var e *Error
	return errors.As(err, &e)
}

// sqliteCode is the primary result code of an error from the driver, or 0.
func sqliteCode(err error) int {
	var c interface{ Code() int }
	if errors.As(err, &c) {
		return c.Code() & 0xff
	}
	return 0
}

// SQLite's primary result codes (sqlite3.h) that say what kind of trouble a ledger is in.
const (
	sqlitePerm     = 3
	sqliteBusy     = 5
	sqliteLocked   = 6
	sqliteReadOnly = 8
	sqliteIOErr    = 10
	sqliteCorrupt  = 11
	sqliteFull     = 13
	sqliteCantOpen = 14
	sqliteNotADB   = 26
)

// wrap classifies a storage error of the ledger. A cancelled context stays what it is; everything else
// is an *Error, so that no failure of the ledger passes for a caller's mistake.
func (l *Ledger) wrap(err error) error {
	if err == nil {
		return nil
	}
	var e *Error
	if errors.As(err, &e) {
		return err
	}
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return err
	}
	return classify(l.path, l.opts.busyTimeout(), err)
}

func classify(path string, waited time.Duration, err error) *Error {
	switch sqliteCode(err) {
	case sqliteBusy, sqliteLocked:
		return &Error{Path: path, Kind: KindLocked, Waited: waited, Err: err}
	case sqliteCorrupt, sqliteNotADB:
		return &Error{Path: path, Kind: KindCorrupt, Err: err}
	case sqliteFull, sqliteReadOnly:
		return &Error{Path: path, Kind: KindUnwritable, Err: err}
	case sqlitePerm, sqliteCantOpen, sqliteIOErr:
		return &Error{Path: path, Kind: KindUnreadable, Err: err}
	}
	// Anything else from a ledger whose schema was checked at open (a table gone, a column missing) is
	// damage done to it from outside.
	return &Error{Path: path, Kind: KindCorrupt, Err: err}
}
