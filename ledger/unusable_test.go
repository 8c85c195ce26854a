package ledger

import (
	"bytes"
	"context"
	"database/sql"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// filledLedger makes a closed ledger of n entries at path, with digests.
func filledLedger(t testing.TB, path string, n int) {
	t.Helper()
	l, err := Open(path, Options{})
	require.NoError(t, err)
	for start := 0; start < n; start += 1000 {
		b := Batch{API: testAPI, Job: "/jobs/night-1.import", At: t0}
		for i := start; i < min(start+1000, n); i++ {
			ref := fmt.Sprintf("CRM-%07d", i)
			b.Outcomes = append(b.Outcomes, Confirmed{Ref: ref, CustomerID: "cus_" + strconv.Itoa(i), Outcome: Created,
				Digest: digestT(t, l, "m1", body(ref, fmt.Sprintf("p%d@example.com", i)))})
		}
		recordT(t, l, b)
	}
	require.NoError(t, l.Close())
	_, err = os.Stat(path + "-wal")
	require.True(t, os.IsNotExist(err), "the last close folds the log into the file")
}

// useAll opens the ledger and reads every entry, as a run's lookups would: the first error, and
// whether Open gave it.
func useAll(path string, opts Options, n int) (atOpen bool, err error) {
	l, err := Open(path, opts)
	if err != nil {
		return true, err
	}
	defer l.Close()
	refs := make([]string, n)
	for i := range refs {
		refs[i] = fmt.Sprintf("CRM-%07d", i)
	}
	if _, err := l.Lookup(context.Background(), testAPI, refs); err != nil {
		return false, err
	}
	_, err = l.Stats(context.Background())
	return false, err
}

// damagedMiddle is a ledger file with three pages in its middle (entries) overwritten with noise.
func damagedMiddle(good []byte) []byte {
	b := bytes.Clone(good)
	rand.NewChaCha8([32]byte{2}).Read(b[len(b)/2/4096*4096:][:3*4096])
	return b
}

func TestUnusableLedgers(t *testing.T) {
	const n = 5000
	good := filepath.Join(t.TempDir(), "good.db")
	filledLedger(t, good, n)
	goodBytes, err := os.ReadFile(good)
	require.NoError(t, err)

	otherDB := func(path string, pragmas string) {
		db := rawDB(t, path)
		_, err := db.Exec("CREATE TABLE invoices (id INTEGER PRIMARY KEY, total INTEGER); INSERT INTO invoices VALUES (1, 100);" + pragmas)
		require.NoError(t, err)
		require.NoError(t, db.Close())
	}
	onLedger := func(path, stmt string) {
		require.NoError(t, os.WriteFile(path, goodBytes, 0o600))
		db := rawDB(t, path)
		_, err := db.Exec(stmt)
		require.NoError(t, err)
		require.NoError(t, db.Close())
	}
	for _, tc := range []struct {
		name    string
		make    func(path string)
		opts    Options
		kind    Kind
		message string
		kept    bool // the file is left exactly as it was, and nothing is made beside it
		later   bool // found by the lookups, not by Open
	}{
		{name: "random bytes", kind: KindNotLedger, message: "not a zentra-import ledger: not an SQLite database", kept: true,
			make: func(p string) {
				b := make([]byte, 8192)
				rand.NewChaCha8([32]byte{1}).Read(b)
				require.NoError(t, os.WriteFile(p, b, 0o600))
			}},
		{name: "a CSV file", kind: KindNotLedger, message: "not an SQLite database", kept: true,
			make: func(p string) {
				require.NoError(t, os.WriteFile(p, []byte("external_reference,customer_id\nCRM-1,cus_1\n"), 0o600))
			}},
		{name: "another program's database", kind: KindNotLedger, message: "an SQLite database with 1 tables of its own", kept: true,
			make: func(p string) { otherDB(p, "") }},
		{name: "another application_id", kind: KindNotLedger, message: "another program (application_id 0x1234)", kept: true,
			make: func(p string) { otherDB(p, "PRAGMA application_id = 4660") }},
		{name: "a newer schema", kind: KindVersion, message: "schema version 2, written by a newer zentra-import; this one reads version 1", kept: true,
			make: func(p string) { onLedger(p, "PRAGMA user_version = 2") }},
		{name: "no schema version", kind: KindVersion, message: "schema version 0; this zentra-import reads version 1", kept: true,
			make: func(p string) { onLedger(p, "PRAGMA user_version = 0") }},
		{name: "the hash key gone", kind: KindCorrupt, message: "its hash key is missing",
			make: func(p string) { onLedger(p, "DELETE FROM meta WHERE name = 'hash_key'") }},
		{name: "a table dropped", kind: KindCorrupt, message: "no such table", later: true,
			make: func(p string) { onLedger(p, "DROP TABLE entries") }},
		{name: "cut inside the header", kind: KindCorrupt, message: "the file ends after 10 bytes", kept: true,
			make: func(p string) { require.NoError(t, os.WriteFile(p, goodBytes[:10], 0o600)) }},
		{name: "cut to one page", kind: KindCorrupt, opts: Options{Check: true},
			make: func(p string) { require.NoError(t, os.WriteFile(p, goodBytes[:4096], 0o600)) }},
		{name: "truncated to half, checked", kind: KindCorrupt, opts: Options{Check: true},
			make: func(p string) { require.NoError(t, os.WriteFile(p, goodBytes[:len(goodBytes)/2], 0o600)) }},
		{name: "truncated to half, unchecked", kind: KindCorrupt,
			make: func(p string) { require.NoError(t, os.WriteFile(p, goodBytes[:len(goodBytes)/2], 0o600)) }},
		{name: "pages overwritten in the middle, checked", kind: KindCorrupt, opts: Options{Check: true},
			make: func(p string) { require.NoError(t, os.WriteFile(p, damagedMiddle(goodBytes), 0o600)) }},
		{name: "pages overwritten in the middle, found by the lookups", kind: KindCorrupt, later: true,
			make: func(p string) { require.NoError(t, os.WriteFile(p, damagedMiddle(goodBytes), 0o600)) }},
		{name: "a directory", kind: KindUnreadable, message: "not a regular file",
			make: func(p string) { require.NoError(t, os.Mkdir(p, 0o700)) }},
		{name: "a fifo", kind: KindUnreadable, message: "not a regular file",
			make: func(p string) { require.NoError(t, syscall.Mkfifo(p, 0o600)) }},
		{name: "under a file", kind: KindUnreadable, message: "not a directory",
			make: func(p string) { require.NoError(t, os.WriteFile(filepath.Dir(p), nil, 0o600)) }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			path := filepath.Join(dir, "ledger.db")
			if tc.name == "under a file" {
				path = filepath.Join(dir, "file", "ledger.db")
			}
			tc.make(path)
			var before []byte
			if tc.kept {
				before, _ = os.ReadFile(path)
			}
			atOpen, err := useAll(path, tc.opts, n)
			e := requireKind(t, err, tc.kind)
			assert.Equal(t, !tc.later, atOpen, "refused by Open")
			assert.Contains(t, e.Error(), path)
			assert.Contains(t, e.Error(), tc.message)
			assert.Contains(t, e.Hint(), "--no-ledger")
			if tc.kept {
				after, err := os.ReadFile(path)
				require.NoError(t, err)
				assert.Equal(t, before, after, "the file is untouched")
				for _, side := range []string{"-wal", "-shm", "-journal"} {
					_, err := os.Stat(path + side)
					assert.True(t, os.IsNotExist(err), "no %s file made beside it", side)
				}
			}
		})
	}
}

// TestLockedPastTheBound: a process that holds the ledger's write lock (a sqlite3 shell with an open
// transaction) makes a writer give up after the bound with KindLocked, while readers go on, seeing what
// was committed and not the open transaction. Once it lets go, writing works again.
func TestLockedPastTheBound(t *testing.T) {
	path := filepath.Join(t.TempDir(), "ledger.db")
	l := openT(t, path, Options{BusyTimeout: 300 * time.Millisecond})
	recordT(t, l, Batch{API: testAPI, Job: "/jobs/1", At: t0, Outcomes: []Confirmed{{Ref: "committed", CustomerID: "cus_1", Outcome: Created}}})

	holder := startChild(t, "locker", "ZI_LEDGER_PATH="+path, "ZI_LEDGER_LOCK=write")
	holder.expect(t, "locked")

	start := time.Now()
	err := l.BeginJob(context.Background(), "/jobs/2", testAPI)
	waited := time.Since(start)
	e := requireKind(t, err, KindLocked)
	assert.GreaterOrEqual(t, waited, 280*time.Millisecond, "it waited for the bound")
	assert.Equal(t, "ledger "+path+" is locked: another process held it for more than 300ms", e.Error())
	_, err = l.Record(context.Background(), Batch{API: testAPI, Job: "/jobs/2", At: t0, Outcomes: []Confirmed{{Ref: "new", CustomerID: "cus_2", Outcome: Created}}})
	requireKind(t, err, KindLocked)

	// Readers are not blocked, and see only what was committed.
	r := openT(t, path, Options{ReadOnly: true, BusyTimeout: 300 * time.Millisecond})
	ks, err := r.Lookup(context.Background(), testAPI, []string{"committed", "uncommitted"})
	require.NoError(t, err)
	assert.True(t, ks[0].Found)
	assert.False(t, ks[1].Found, "the holder's transaction is not committed")
	shown, err := r.Show(context.Background(), "", []string{"committed"})
	require.NoError(t, err)
	require.Len(t, shown[0].Entries, 1)
	_, err = r.Stats(context.Background())
	require.NoError(t, err)

	holder.wait(t) // rolls back and exits
	require.NoError(t, l.BeginJob(context.Background(), "/jobs/2", testAPI))
	recordT(t, l, Batch{API: testAPI, Job: "/jobs/2", At: t0, Outcomes: []Confirmed{{Ref: "new", CustomerID: "cus_2", Outcome: Created}}})
	assert.False(t, lookupOne(t, l, testAPI, "uncommitted").Found)
}

// TestLockedExclusively: a process holding the ledger in exclusive locking mode keeps even readers
// out: Open gives up after the bound with KindLocked.
func TestLockedExclusively(t *testing.T) {
	path := filepath.Join(t.TempDir(), "ledger.db")
	filledLedger(t, path, 10)
	holder := startChild(t, "locker", "ZI_LEDGER_PATH="+path, "ZI_LEDGER_LOCK=exclusive")
	holder.expect(t, "locked")
	_, err := Open(path, Options{BusyTimeout: 200 * time.Millisecond, ReadOnly: true})
	requireKind(t, err, KindLocked)
	holder.wait(t)
	openT(t, path, Options{ReadOnly: true})
}

func init() {
	// locker holds the ledger's lock (ZI_LEDGER_LOCK: write, an open write transaction; exclusive, the
	// exclusive locking mode) until its stdin closes.
	children["locker"] = func() error {
		db, err := sql.Open("sqlite", "file:"+os.Getenv("ZI_LEDGER_PATH")+"?_pragma=busy_timeout(5000)")
		if err != nil {
			return err
		}
		defer db.Close()
		c, err := db.Conn(context.Background())
		if err != nil {
			return err
		}
		defer c.Close()
		stmts := []string{"BEGIN IMMEDIATE",
			"INSERT INTO entries(api, ref, customer_id, outcome, job, confirmed_at) VALUES (1, 'uncommitted', 'cus_x', 1, 1, 0)"}
		if os.Getenv("ZI_LEDGER_LOCK") == "exclusive" {
			stmts = []string{"PRAGMA locking_mode = EXCLUSIVE", "BEGIN EXCLUSIVE", "UPDATE meta SET value = value WHERE name = 'created'", "COMMIT"}
		}
		for _, s := range stmts {
			if _, err := c.ExecContext(context.Background(), s); err != nil {
				return fmt.Errorf("%s: %w", s, err)
			}
		}
		os.Stdout.WriteString("locked\n")
		os.Stdin.Read(make([]byte, 1)) // until the parent closes it
		return nil
	}
}
