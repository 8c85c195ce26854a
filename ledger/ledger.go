package ledger

import (
	"bytes"
	"context"
	"crypto/rand"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	_ "modernc.org/sqlite" // registers the "sqlite" driver
)

// DefaultBusyTimeout is how long a call waits for another process's lock on the ledger before it gives
// up with a KindLocked error. Writers hold the lock for one batch (milliseconds); only a process that
// keeps a transaction open (a sqlite3 shell, a stuck program) holds it longer.
const DefaultBusyTimeout = 10 * time.Second

// Options are the choices of one Open.
type Options struct {
	// BusyTimeout bounds every wait for another process's lock; 0 means DefaultBusyTimeout.
	BusyTimeout time.Duration
	// ReadOnly opens an existing ledger and records nothing: no file or directory is made, no statement
	// writes (plan, ledger show, export, stats); SQLite may still fold its log into the file when the
	// last process closes it, which changes no data. A missing ledger is a KindMissing error.
	ReadOnly bool
	// Check reads every page of the ledger at open (PRAGMA quick_check), so that damage deep inside it
	// stops a run before anything is sent rather than at the row that reaches it. It reads the whole
	// file: about 0.4 s for a million entries (130 MiB).
	Check bool
	// Now is the clock for the ledger's own stamps (BeginJob, the creation time); nil is time.Now.
	Now func() time.Time
}

func (o Options) busyTimeout() time.Duration {
	if o.BusyTimeout > 0 {
		return o.BusyTimeout
	}
	return DefaultBusyTimeout
}

func (o Options) now() time.Time {
	if o.Now != nil {
		return o.Now()
	}
	return time.Now()
}

// Ledger is an open ledger. It is safe for concurrent use, and several processes may have the same file
// open at once.
type Ledger struct {
	path   string
	opts   Options
	db     *sql.DB
	hasher *Hasher

	mu        sync.Mutex // guards the caches below
	apis      map[string]int64
	jobIDs    map[string]int64
	jobNames  map[int64]string
	mapIDs    map[string]int64
	mapHashes map[int64]string
	setIDs    map[*fieldSet]int64
	sets      map[int64]*fieldSet
	chunkStmt *sql.Stmt // Lookup's statement for a full chunk
}

// DefaultPath is where the ledger lives unless told otherwise: $XDG_STATE_HOME/zentra-import/ledger.db,
// or ~/.local/state/zentra-import/ledger.db when XDG_STATE_HOME is unset, empty or not absolute (the XDG
// base directory specification says to ignore a relative one). getenv is os.Getenv in the program.
func DefaultPath(getenv func(string) string) (string, error) {
	if d := getenv("XDG_STATE_HOME"); d != "" && filepath.IsAbs(d) {
		return filepath.Join(d, "zentra-import", "ledger.db"), nil
	}
	home := getenv("HOME")
	if home == "" || !filepath.IsAbs(home) {
		return "", errors.New("no place for the ledger: neither XDG_STATE_HOME nor HOME is set to an absolute path")
	}
	return filepath.Join(home, ".local", "state", "zentra-import", "ledger.db"), nil
}

// Open opens the ledger at path, creating it (and its directory, mode 0700) when it does not exist and
// opts.ReadOnly is not set. Any reason it cannot be used is an *Error: unreadable, not a ledger,
// damaged, locked past opts.BusyTimeout, or of another schema version.
func Open(path string, opts Options) (*Ledger, error) {
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, &Error{Path: path, Kind: KindUnreadable, Err: err}
	}
	l := &Ledger{path: abs, opts: opts,
		apis: map[string]int64{}, jobIDs: map[string]int64{}, jobNames: map[int64]string{},
		mapIDs: map[string]int64{}, mapHashes: map[int64]string{}, setIDs: map[*fieldSet]int64{}, sets: map[int64]*fieldSet{}}
	if err := l.prepareFile(); err != nil {
		return nil, err
	}
	db, err := sql.Open("sqlite", l.dsn())
	if err != nil {
		return nil, &Error{Path: abs, Kind: KindUnreadable, Err: err}
	}
	db.SetMaxOpenConns(4)
	db.SetMaxIdleConns(4)
	db.SetConnMaxLifetime(0)
	l.db = db
	if err := l.openSchema(); err != nil {
		db.Close()
		return nil, err
	}
	if err := tighten(abs + "-wal"); err != nil {
		db.Close()
		return nil, &Error{Path: abs, Kind: KindUnreadable, Err: err}
	}
	if err := tighten(abs + "-shm"); err != nil {
		db.Close()
		return nil, &Error{Path: abs, Kind: KindUnreadable, Err: err}
	}
	return l, nil
}

// Path is the ledger's file, absolute.
func (l *Ledger) Path() string { return l.path }

// Close closes the ledger. The last process to close it folds its write-ahead log into the file.
func (l *Ledger) Close() error {
	if l.chunkStmt != nil {
		l.chunkStmt.Close()
	}
	if !l.opts.ReadOnly {
		// Keeps the planner's statistics current (a tenth of a second once for a million entries, then
		// nothing until the ledger grows tenfold), so that the sqlite3 shell finds a reference across
		// APIs by key (skip-scan) rather than reading every entry. Only an optimisation: its failure
		// (another process holding the lock) is no failure of Close.
		_, _ = l.db.Exec("PRAGMA optimize")
	}
	return l.wrap(l.db.Close())
}

// dsn is the driver's name for the file: a URI (SQLite decodes %XX in it), with the pragmas every
// connection starts with. mode=rw: SQLite never creates the file (prepareFile did, owner-only).
func (l *Ledger) dsn() string {
	var b strings.Builder
	b.WriteString("file:")
	for _, c := range []byte(l.path) {
		if c == '%' || c == '?' || c == '#' || c < 0x20 || c >= 0x7f {
			fmt.Fprintf(&b, "%%%02X", c)
		} else {
			b.WriteByte(c)
		}
	}
	fmt.Fprintf(&b, "?_pragma=busy_timeout(%d)", l.opts.busyTimeout().Milliseconds())
	// NORMAL: see the package documentation, "Durability".
	b.WriteString("&_pragma=synchronous(NORMAL)&_pragma=cache_size(-8192)&_pragma=temp_store(MEMORY)&_txlock=immediate&mode=rw")
	if l.opts.ReadOnly {
		b.WriteString("&_pragma=query_only(1)")
	}
	return b.String()
}

// sqliteMagic starts every SQLite database file.
var sqliteMagic = []byte("SQLite format 3\x00")

// prepareFile makes the directory and the file, owner-only, when they are missing, and checks an
// existing file before SQLite touches it: a regular file, readable and writable, that starts like an
// SQLite database, or is empty (SQLite would otherwise make -wal and -shm files beside anything).
func (l *Ledger) prepareFile() error {
	fail := func(kind Kind, err error) error { return &Error{Path: l.path, Kind: kind, Err: err} }
	fi, err := os.Stat(l.path)
	switch {
	case errors.Is(err, fs.ErrNotExist) && l.opts.ReadOnly:
		return &Error{Path: l.path, Kind: KindMissing}
	case errors.Is(err, fs.ErrNotExist):
		if err := mkdirOwner(filepath.Dir(l.path)); err != nil {
			return fail(KindUnwritable, err)
		}
		f, err := os.OpenFile(l.path, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o600)
		if err != nil && !errors.Is(err, fs.ErrExist) { // another process may have made it meanwhile
			return fail(KindUnwritable, err)
		}
		if err == nil {
			// 0600 whatever the umask (it can only take bits away; SQLite gives the -wal and -shm files
			// the database's mode).
			err = f.Chmod(0o600)
			if cerr := f.Close(); err == nil {
				err = cerr
			}
			if err != nil {
				return fail(KindUnwritable, err)
			}
		}
		fi, err = os.Stat(l.path)
		if err != nil {
			return fail(KindUnreadable, err)
		}
	case err != nil:
		return fail(KindUnreadable, err)
	}
	if !fi.Mode().IsRegular() {
		return &Error{Path: l.path, Kind: KindUnreadable, Reason: "not a regular file (" + fi.Mode().Type().String() + ")"}
	}
	if err := tighten(l.path); err != nil {
		return fail(KindUnreadable, err)
	}
	flag := os.O_RDWR
	if l.opts.ReadOnly {
		flag = os.O_RDONLY
	}
	f, err := os.OpenFile(l.path, flag, 0)
	if err != nil {
		return fail(KindUnreadable, err)
	}
	defer f.Close()
	head := make([]byte, len(sqliteMagic))
	n, err := io.ReadFull(f, head)
	switch {
	case n == 0 && err == io.EOF:
		if l.opts.ReadOnly {
			return &Error{Path: l.path, Kind: KindMissing, Reason: "the file is empty"}
		}
		return nil // a new ledger
	case err != nil && err != io.ErrUnexpectedEOF:
		return fail(KindUnreadable, err)
	case !bytes.Equal(head[:n], sqliteMagic[:n]):
		return &Error{Path: l.path, Kind: KindNotLedger, Reason: "not an SQLite database"}
	case n < len(sqliteMagic):
		return &Error{Path: l.path, Kind: KindCorrupt, Reason: fmt.Sprintf("the file ends after %d bytes", n)}
	}
	return nil
}

// tighten makes an existing file of the ledger owner-only (0600): a ledger that another user could read
// leaks the references and ids it holds. A missing file is left missing.
func tighten(path string) error {
	fi, err := os.Stat(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	if fi.Mode().IsRegular() && fi.Mode().Perm() != 0o600 {
		return os.Chmod(path, 0o600)
	}
	return nil
}

// mkdirOwner makes dir and its missing parents, each 0700 whatever the umask. Directories that exist
// are left as they are: they may be shared ones (a --ledger in a team's directory).
func mkdirOwner(dir string) error {
	fi, err := os.Stat(dir)
	if err == nil {
		if !fi.IsDir() {
			return &fs.PathError{Op: "mkdir", Path: dir, Err: errors.New("not a directory")}
		}
		return nil
	}
	if !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	if parent := filepath.Dir(dir); parent != dir {
		if err := mkdirOwner(parent); err != nil {
			return err
		}
	}
	if err := os.Mkdir(dir, 0o700); err != nil {
		if errors.Is(err, fs.ErrExist) {
			return nil
		}
		return err
	}
	return os.Chmod(dir, 0o700)
}

// openSchema checks that the database is a ledger of this version, or makes it one when it is new,
// and reads its hash key.
func (l *Ledger) openSchema() error {
	ctx := context.Background()
	app, ver, tables, err := l.identify(ctx)
	if err != nil {
		return err
	}
	if app == 0 && tables == 0 {
		// A new ledger: an empty file, or an empty database (sqlite3 run on a path that did not exist).
		if l.opts.ReadOnly {
			return &Error{Path: l.path, Kind: KindMissing, Reason: "the database is empty"}
		}
		if err := l.create(ctx); err != nil {
			return err
		}
		if app, ver, _, err = l.identify(ctx); err != nil {
			return err
		}
	}
	switch {
	case app != applicationID && app == 0:
		return &Error{Path: l.path, Kind: KindNotLedger, Reason: fmt.Sprintf("an SQLite database with %d tables of its own", tables)}
	case app != applicationID:
		return &Error{Path: l.path, Kind: KindNotLedger, Reason: fmt.Sprintf("an SQLite database of another program (application_id %#x)", uint32(app))}
	case ver != SchemaVersion:
		return &Error{Path: l.path, Kind: KindVersion, Version: ver}
	}
	if !l.opts.ReadOnly {
		// WAL lets readers go on while one process writes. It is the file's own setting, made at
		// creation; set it again in case a sqlite3 shell changed it.
		var mode string
		if err := l.db.QueryRowContext(ctx, "PRAGMA journal_mode").Scan(&mode); err != nil {
			return l.wrap(err)
		}
		if !strings.EqualFold(mode, "wal") {
			if err := l.db.QueryRowContext(ctx, "PRAGMA journal_mode=WAL").Scan(&mode); err != nil {
				return l.wrap(err)
			}
		}
	}
	var key []byte
	err = l.db.QueryRowContext(ctx, "SELECT value FROM meta WHERE name = 'hash_key'").Scan(&key)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return l.wrap(err)
	}
	if len(key) != hashKeyLen {
		return &Error{Path: l.path, Kind: KindCorrupt, Reason: "its hash key is missing or has the wrong length"}
	}
	l.hasher = newHasher(key)
	if l.opts.Check {
		if err := l.check(ctx); err != nil {
			return err
		}
	}
	return nil
}

// identify reads the database's application_id, user_version and number of schema objects. Reading
// them is also the first read of the file: a damaged one fails here.
func (l *Ledger) identify(ctx context.Context) (app, ver, tables int, err error) {
	err = l.db.QueryRowContext(ctx, "SELECT (SELECT application_id FROM pragma_application_id), "+
		"(SELECT user_version FROM pragma_user_version), (SELECT count(*) FROM sqlite_schema)").Scan(&app, &ver, &tables)
	if err != nil {
		return 0, 0, 0, l.wrap(err)
	}
	return app, ver, tables, nil
}

// create makes a new ledger's tables and hash key in one transaction. Two processes creating the same
// ledger at once are serialised by the write lock; the second finds the first's ledger and leaves it.
func (l *Ledger) create(ctx context.Context) error {
	var mode string
	if err := l.db.QueryRowContext(ctx, "PRAGMA journal_mode=WAL").Scan(&mode); err != nil {
		return l.wrap(err)
	}
	key := make([]byte, hashKeyLen)
	if _, err := rand.Read(key); err != nil {
		return err
	}
	return l.write(ctx, func(tx *sql.Tx) error {
		var app, tables int
		if err := tx.QueryRowContext(ctx, "SELECT (SELECT application_id FROM pragma_application_id), (SELECT count(*) FROM sqlite_schema)").Scan(&app, &tables); err != nil {
			return err
		}
		if app != 0 || tables != 0 {
			return nil // made by another process meanwhile (or not ours: identify says which)
		}
		if _, err := tx.ExecContext(ctx, schemaSQL); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, "INSERT INTO meta(name, value) VALUES ('hash_key', ?), ('created', ?)", key, l.opts.now().Unix()); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, fmt.Sprintf("PRAGMA user_version = %d; PRAGMA application_id = %d", SchemaVersion, applicationID))
		return err
	})
}

// check reads every page (PRAGMA quick_check) and refuses a ledger with any problem.
func (l *Ledger) check(ctx context.Context) error {
	var problems []string
	err := l.read(ctx, func(tx *sql.Tx) error {
		return eachRow(ctx, tx, func(r *sql.Rows) error {
			var s string
			err := r.Scan(&s)
			if s != "ok" {
				problems = append(problems, s)
			}
			return err
		}, "PRAGMA quick_check(5)")
	})
	if err != nil {
		return err
	}
	if len(problems) > 0 {
		return &Error{Path: l.path, Kind: KindCorrupt, Reason: strings.Join(problems, "; ")}
	}
	return nil
}

// errReadOnly is what writing a ledger opened with Options.ReadOnly returns.
var errReadOnly = errors.New("ledger: opened read-only")

// write runs fn in one write transaction (BEGIN IMMEDIATE: the lock is taken first, waiting at most the
// busy timeout, so that no transaction fails half-way for a lock).
func (l *Ledger) write(ctx context.Context, fn func(*sql.Tx) error) error {
	if l.opts.ReadOnly {
		return errReadOnly
	}
	tx, err := l.db.BeginTx(ctx, nil)
	if err != nil {
		return l.wrap(err)
	}
	return l.commit(tx, fn)
}

// writeSynced is write with synchronous=FULL for this one transaction: when it returns, it and every
// transaction committed before it survive a power loss.
func (l *Ledger) writeSynced(ctx context.Context, fn func(*sql.Tx) error) error {
	if l.opts.ReadOnly {
		return errReadOnly
	}
	c, err := l.db.Conn(ctx)
	if err != nil {
		return l.wrap(err)
	}
	defer c.Close()
	if _, err := c.ExecContext(ctx, "PRAGMA synchronous=FULL"); err != nil {
		return l.wrap(err)
	}
	defer c.ExecContext(context.Background(), "PRAGMA synchronous=NORMAL")
	tx, err := c.BeginTx(ctx, nil)
	if err != nil {
		return l.wrap(err)
	}
	return l.commit(tx, fn)
}

// commit runs fn in tx and commits, or rolls back if fn fails.
func (l *Ledger) commit(tx *sql.Tx, fn func(*sql.Tx) error) error {
	if err := fn(tx); err != nil {
		tx.Rollback()
		return l.wrap(err)
	}
	return l.wrap(tx.Commit())
}
