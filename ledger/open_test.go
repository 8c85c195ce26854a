package ledger

import (
	"context"
	"encoding/hex"
	"os"
	"path/filepath"
	"syscall"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestDefaultPath(t *testing.T) {
	for _, tc := range []struct {
		name string
		env  map[string]string
		want string
		err  bool
	}{
		{"XDG_STATE_HOME", map[string]string{"XDG_STATE_HOME": "/var/state", "HOME": "/home/ann"}, "/var/state/zentra-import/ledger.db", false},
		{"HOME when XDG_STATE_HOME is unset", map[string]string{"HOME": "/home/ann"}, "/home/ann/.local/state/zentra-import/ledger.db", false},
		{"HOME when XDG_STATE_HOME is empty", map[string]string{"XDG_STATE_HOME": "", "HOME": "/home/ann"}, "/home/ann/.local/state/zentra-import/ledger.db", false},
		{"a relative XDG_STATE_HOME is ignored", map[string]string{"XDG_STATE_HOME": "state", "HOME": "/home/ann"}, "/home/ann/.local/state/zentra-import/ledger.db", false},
		{"neither", map[string]string{}, "", true},
		{"a relative HOME", map[string]string{"HOME": "ann"}, "", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := DefaultPath(func(k string) string { return tc.env[k] })
			if tc.err {
				require.Error(t, err)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tc.want, got)
		})
	}
}

// TestOpenMakesOwnerOnlyFiles: the directories it makes are 0700, the database and its -wal and -shm
// files 0600, even under a umask that would leave them open to everyone.
func TestOpenMakesOwnerOnlyFiles(t *testing.T) {
	old := syscall.Umask(0)
	defer syscall.Umask(old)
	root := t.TempDir()
	path := filepath.Join(root, "state", "zentra-import", "ledger.db")
	l := openT(t, path, Options{})
	recordT(t, l, Batch{API: testAPI, Job: "/jobs/1", At: t0, Outcomes: []Confirmed{{Ref: "a", CustomerID: "cus_a", Outcome: Created}}})
	for _, dir := range []string{filepath.Join(root, "state"), filepath.Dir(path)} {
		fi, err := os.Stat(dir)
		require.NoError(t, err)
		assert.Equal(t, os.FileMode(0o700), fi.Mode().Perm(), dir)
	}
	for _, f := range []string{path, path + "-wal", path + "-shm"} {
		fi, err := os.Stat(f)
		require.NoError(t, err, "while open, the ledger has its %s", filepath.Base(f))
		assert.Equal(t, os.FileMode(0o600), fi.Mode().Perm(), f)
	}
}

// TestOpenNarrowsWideFiles: a ledger file (and -wal, -shm) readable by others is made owner-only; an
// existing directory is left as it is.
func TestOpenNarrowsWideFiles(t *testing.T) {
	dir := t.TempDir()
	require.NoError(t, os.Chmod(dir, 0o755))
	path := filepath.Join(dir, "ledger.db")
	l := openT(t, path, Options{})
	recordT(t, l, Batch{API: testAPI, Job: "/jobs/1", At: t0, Outcomes: []Confirmed{{Ref: "a", CustomerID: "cus_a", Outcome: Created}}})
	require.NoError(t, l.Close())
	require.NoError(t, os.Chmod(path, 0o644))
	require.NoError(t, os.WriteFile(path+"-shm", nil, 0o666))
	require.NoError(t, os.Chmod(path+"-shm", 0o666))
	l = openT(t, path, Options{ReadOnly: true})
	for _, f := range []string{path, path + "-shm"} {
		fi, err := os.Stat(f)
		require.NoError(t, err)
		assert.Equal(t, os.FileMode(0o600), fi.Mode().Perm(), f)
	}
	fi, err := os.Stat(dir)
	require.NoError(t, err)
	assert.Equal(t, os.FileMode(0o755), fi.Mode().Perm())
	assert.True(t, lookupOne(t, l, testAPI, "a").Found)
}

// TestOpenKeepsTheKey: a ledger opened again hashes with the key it was made with; another ledger has
// another key.
func TestOpenKeepsTheKey(t *testing.T) {
	path := filepath.Join(t.TempDir(), "ledger.db")
	b := body("r1", "ada@example.com")
	l := openT(t, path, Options{})
	first := digestT(t, l, "m", b)
	require.NoError(t, l.Close())
	again := digestT(t, openT(t, path, Options{}), "m", b)
	other := digestT(t, newLedger(t), "m", b)
	assert.Equal(t, first.body, again.body)
	assert.Equal(t, first.hashes, again.hashes)
	assert.NotEqual(t, first.body, other.body)
	assert.NotEqual(t, first.hashes, other.hashes)
}

// TestOpenEmptyDatabaseIsNew: an empty file, or an SQLite database with nothing in it (a sqlite3 shell
// run on the path), becomes a ledger.
func TestOpenEmptyDatabaseIsNew(t *testing.T) {
	dir := t.TempDir()
	empty := filepath.Join(dir, "empty.db")
	require.NoError(t, os.WriteFile(empty, nil, 0o600))
	openT(t, empty, Options{})

	blank := filepath.Join(dir, "blank.db")
	db := rawDB(t, blank)
	_, err := db.Exec("PRAGMA user_version = 0; VACUUM")
	require.NoError(t, err)
	require.NoError(t, db.Close())
	fi, err := os.Stat(blank)
	require.NoError(t, err)
	require.Positive(t, fi.Size(), "an SQLite header was written")
	l := openT(t, blank, Options{})
	recordT(t, l, Batch{API: testAPI, Job: "/j", At: t0, Outcomes: []Confirmed{{Ref: "a", CustomerID: "cus_a", Outcome: Created}}})
}

// TestOpenConcurrentCreate: processes that make the same new ledger at once end up with one ledger and
// one key.
func TestOpenConcurrentCreate(t *testing.T) {
	path := filepath.Join(t.TempDir(), "new", "ledger.db")
	const n = 4
	procs := make([]*childProc, n)
	for i := range procs {
		procs[i] = startChild(t, "digester", "ZI_LEDGER_PATH="+path)
	}
	var sums []string
	for _, p := range procs {
		line, ok := <-p.lines
		require.True(t, ok, p.stderr)
		sums = append(sums, line)
		p.wait(t)
	}
	for _, s := range sums[1:] {
		assert.Equal(t, sums[0], s, "every process hashes with the same key")
	}
	l := openT(t, path, Options{})
	assert.Equal(t, sums[0], digestHex(digestT(t, l, "m", body("r", "e"))))
}

func init() {
	children["digester"] = func() error {
		l, err := Open(os.Getenv("ZI_LEDGER_PATH"), Options{})
		if err != nil {
			return err
		}
		defer l.Close()
		d, err := l.Hasher().Digest("m", body("r", "e"))
		if err != nil {
			return err
		}
		os.Stdout.WriteString(digestHex(d) + "\n")
		_, err = os.Stdin.Read(make([]byte, 1))
		_ = err // EOF: the parent closed stdin
		return nil
	}
}

func digestHex(d *Digest) string {
	return hex.EncodeToString(d.body[:]) + hex.EncodeToString(d.hashes)
}

// TestOpenReadOnly: a read-only open never makes the file, nor writes one.
func TestOpenReadOnly(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "sub", "ledger.db")
	_, err := Open(path, Options{ReadOnly: true})
	requireKind(t, err, KindMissing)
	assert.ErrorIs(t, err, os.ErrNotExist)
	_, statErr := os.Stat(filepath.Dir(path))
	assert.True(t, os.IsNotExist(statErr), "no directory made")

	empty := filepath.Join(dir, "empty.db")
	require.NoError(t, os.WriteFile(empty, nil, 0o600))
	_, err = Open(empty, Options{ReadOnly: true})
	requireKind(t, err, KindMissing)

	full := filepath.Join(dir, "ledger.db")
	w := openT(t, full, Options{})
	recordT(t, w, Batch{API: testAPI, Job: "/j", At: t0, Outcomes: []Confirmed{{Ref: "a", CustomerID: "cus_a", Outcome: Created}}})
	r := openT(t, full, Options{ReadOnly: true})
	assert.True(t, lookupOne(t, r, testAPI, "a").Found)
	_, err = r.Record(context.Background(), Batch{API: testAPI, Job: "/j", At: t0, Outcomes: []Confirmed{{Ref: "b", CustomerID: "cus_b", Outcome: Created}}})
	require.Error(t, err)
	require.Error(t, r.BeginJob(context.Background(), "/j", testAPI))
	assert.False(t, lookupOne(t, w, testAPI, "b").Found)
}

// TestOpenPathOfAnyName: a path with the characters a URI gives meaning to (%, ?, #), spaces and
// non-ASCII letters is the file opened, at that very path.
func TestOpenPathOfAnyName(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "état 100%20 ?x=1#frag")
	path := filepath.Join(dir, "my ledger?.db")
	l := openT(t, path, Options{})
	recordT(t, l, Batch{API: testAPI, Job: "/j", At: t0, Outcomes: []Confirmed{{Ref: "a", CustomerID: "cus_a", Outcome: Created}}})
	require.NoError(t, l.Close())
	entries, err := os.ReadDir(dir)
	require.NoError(t, err)
	require.Len(t, entries, 1, "the ledger and nothing else (its log folded in at close)")
	assert.Equal(t, "my ledger?.db", entries[0].Name())
	assert.True(t, lookupOne(t, openT(t, path, Options{ReadOnly: true}), testAPI, "a").Found)
}
