package checkpoint

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func listDir(t *testing.T, dir string) []string {
	t.Helper()
	entries, err := os.ReadDir(dir)
	require.NoError(t, err)
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	return names
}

func TestAtomicFileCommit(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, ResultsFile)
	require.NoError(t, os.WriteFile(path, []byte("old\n"), 0o600))

	a, err := CreateAtomic(path)
	require.NoError(t, err)
	_, err = a.Write([]byte("new\n"))
	require.NoError(t, err)
	got, err := os.ReadFile(path)
	require.NoError(t, err)
	assert.Equal(t, "old\n", string(got), "the old file stays until Commit")
	assert.Len(t, listDir(t, dir), 2, "a temporary file beside it")

	require.NoError(t, a.Commit())
	got, err = os.ReadFile(path)
	require.NoError(t, err)
	assert.Equal(t, "new\n", string(got))
	assert.Equal(t, os.FileMode(0o600), fileMode(t, path))
	assert.Equal(t, []string{ResultsFile}, listDir(t, dir))
	require.NoError(t, a.Abort(), "Abort after Commit does nothing")
	assert.FileExists(t, path)
	_, err = a.Write([]byte("more"))
	assert.Error(t, err, "write after Commit")
	assert.Error(t, a.Commit(), "Commit twice")
}

func TestAtomicFileAbortLeavesNothing(t *testing.T) {
	dir := t.TempDir()
	a, err := CreateAtomic(filepath.Join(dir, SummaryFile))
	require.NoError(t, err)
	_, err = a.Write([]byte("{"))
	require.NoError(t, err)
	require.NoError(t, a.Abort())
	require.NoError(t, a.Abort(), "Abort twice")
	assert.Empty(t, listDir(t, dir))
}

func TestAtomicFileFailures(t *testing.T) {
	t.Run("directory missing", func(t *testing.T) {
		_, err := CreateAtomic(filepath.Join(t.TempDir(), "gone", ResultsFile))
		require.Error(t, err)
		assert.Contains(t, err.Error(), ResultsFile)
	})
	t.Run("rename fails", func(t *testing.T) {
		dir := t.TempDir()
		path := filepath.Join(dir, ResultsFile)
		require.NoError(t, os.MkdirAll(filepath.Join(path, "x"), 0o700)) // a non-empty directory in the way
		a, err := CreateAtomic(path)
		require.NoError(t, err)
		_, err = a.Write([]byte("data"))
		require.NoError(t, err)
		require.Error(t, a.Commit())
		assert.Equal(t, []string{ResultsFile}, listDir(t, dir), "the temporary file is removed")
		assert.DirExists(t, path, "what was there is untouched")
	})
}

func TestResetForgetsTheJob(t *testing.T) {
	dir := t.TempDir()
	l, err := LockDir(dir)
	require.NoError(t, err)
	defer l.Unlock()
	writeJournal(t, dir, []op{startOp(1), outcomeOp(testOutcome(1, StatusCreated, 0))})
	for _, name := range []string{ResultsFile, RejectsFile, SummaryFile, DamagedFile, ".results.csv" + tempMark + "1", "input.csv"} {
		require.NoError(t, os.WriteFile(filepath.Join(dir, name), []byte("x"), 0o600))
	}
	require.NoError(t, Reset(dir))
	assert.ElementsMatch(t, []string{LockFile, "input.csv"}, listDir(t, dir))
	require.NoError(t, Reset(dir), "Reset of a reset job")

	j, st, err := Open(dir, testBinding, Options{})
	require.NoError(t, err)
	defer j.Close()
	assert.True(t, st.Fresh)
}
