package atomicfile

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// names lists the entries of dir, hidden ones included, in order.
func names(t *testing.T, dir string) []string {
	t.Helper()
	paths, err := filepath.Glob(filepath.Join(dir, "*"))
	require.NoError(t, err)
	for i, p := range paths {
		paths[i] = filepath.Base(p)
	}
	return paths
}

func TestAtomicFileCommit(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "results.csv")
	require.NoError(t, os.WriteFile(path, []byte("old\n"), 0o600))

	a, err := Create(path)
	require.NoError(t, err)
	_, err = a.Write([]byte("new\n"))
	require.NoError(t, err)
	got, err := os.ReadFile(path)
	require.NoError(t, err)
	assert.Equal(t, "old\n", string(got), "the old file stays until Commit")
	assert.Len(t, names(t, dir), 2, "a temporary file beside it")

	require.NoError(t, a.Commit())
	got, err = os.ReadFile(path)
	require.NoError(t, err)
	assert.Equal(t, "new\n", string(got))
	fi, err := os.Stat(path)
	require.NoError(t, err)
	assert.Equal(t, os.FileMode(0o600), fi.Mode().Perm())
	assert.Equal(t, []string{"results.csv"}, names(t, dir))
	require.NoError(t, a.Abort(), "Abort after Commit does nothing")
	assert.FileExists(t, path)
	_, err = a.Write([]byte("more"))
	assert.Error(t, err, "write after Commit")
	assert.Error(t, a.Commit(), "Commit twice")
}

func TestAtomicFileAbortLeavesNothing(t *testing.T) {
	dir := t.TempDir()
	a, err := Create(filepath.Join(dir, "summary.json"))
	require.NoError(t, err)
	_, err = a.Write([]byte("{"))
	require.NoError(t, err)
	require.NoError(t, a.Abort())
	require.NoError(t, a.Abort(), "Abort twice")
	assert.Empty(t, names(t, dir))
}

func TestAtomicFileFailures(t *testing.T) {
	t.Run("directory missing", func(t *testing.T) {
		_, err := Create(filepath.Join(t.TempDir(), "gone", "results.csv"))
		require.Error(t, err)
		assert.Contains(t, err.Error(), "results.csv")
	})
	t.Run("rename fails", func(t *testing.T) {
		dir := t.TempDir()
		path := filepath.Join(dir, "results.csv")
		require.NoError(t, os.MkdirAll(filepath.Join(path, "x"), 0o700)) // a non-empty directory in the way
		a, err := Create(path)
		require.NoError(t, err)
		_, err = a.Write([]byte("data"))
		require.NoError(t, err)
		require.Error(t, a.Commit())
		assert.Equal(t, []string{"results.csv"}, names(t, dir), "the temporary file is removed")
		assert.DirExists(t, path, "what was there is untouched")
	})
}

func TestRemoveTempsAndIsTemp(t *testing.T) {
	dir := t.TempDir()
	f, err := CreateTemp(filepath.Join(dir, "results.csv"))
	require.NoError(t, err)
	require.NoError(t, f.Close())
	assert.True(t, IsTemp(filepath.Base(f.Name())), f.Name())
	for _, name := range []string{"results.csv", ".results.csv", "x" + TempMark + "1"} {
		assert.False(t, IsTemp(name), name)
	}
	require.NoError(t, os.Mkdir(filepath.Join(dir, ".dir"+TempMark+"1"), 0o700))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "notes"+TempMark+"2"), nil, 0o600))
	require.NoError(t, RemoveTemps(dir))
	assert.ElementsMatch(t, []string{".dir" + TempMark + "1", "notes" + TempMark + "2"}, names(t, dir), "only temporary files are removed")
}

func TestEnsureDir(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "a", "job")
	require.NoError(t, EnsureDir(dir))
	fi, err := os.Stat(dir)
	require.NoError(t, err)
	assert.Equal(t, os.FileMode(0o700), fi.Mode().Perm())
	require.NoError(t, EnsureDir(dir), "an existing directory")
	file := filepath.Join(dir, "file")
	require.NoError(t, os.WriteFile(file, nil, 0o600))
	assert.EqualError(t, EnsureDir(file), "job directory "+file+": not a directory")
}

func TestAbortOnError(t *testing.T) {
	dir := t.TempDir()
	write := func(fail bool) (err error) {
		a, err := Create(filepath.Join(dir, "summary.json"))
		require.NoError(t, err)
		defer a.AbortOnError(&err)
		if _, err := a.Write([]byte("{}")); err != nil {
			return err
		}
		if fail {
			return assert.AnError
		}
		return a.Commit()
	}
	require.ErrorIs(t, write(true), assert.AnError)
	assert.Empty(t, names(t, dir), "a failed write leaves nothing")
	require.NoError(t, write(false))
	assert.Equal(t, []string{"summary.json"}, names(t, dir), "a committed one is kept")
}
