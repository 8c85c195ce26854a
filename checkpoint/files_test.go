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

// ownContent is what the job itself would have written in a file of this name.
func ownContent(name string) string {
	switch name {
	case ResultsFile:
		return resultsHead + "\n"
	case SummaryFile:
		return ourSummary("run")
	}
	return "x"
}

func TestResetForgetsTheJob(t *testing.T) {
	dir := t.TempDir()
	l, err := LockDir(dir)
	require.NoError(t, err)
	defer l.Unlock()
	writeJournal(t, dir, []op{startOp(1), outcomeOp(testOutcome(1, StatusCreated, 0))})
	for _, name := range []string{ResultsFile, RejectsFile, SummaryFile, ".results.csv" + tempMark + "1", "input.csv"} {
		require.NoError(t, os.WriteFile(filepath.Join(dir, name), []byte(ownContent(name)), 0o600))
	}
	require.NoError(t, os.WriteFile(filepath.Join(dir, DamagedFile), []byte(magic+"damaged"), 0o600))
	require.NoError(t, Reset(dir))
	assert.ElementsMatch(t, []string{LockFile, PreviousFile, "input.csv"}, listDir(t, dir), "the customer id is kept")
	require.NoError(t, Reset(dir), "Reset of a reset job")

	j, st, err := Open(dir, testBinding, Options{})
	require.NoError(t, err)
	defer j.Close()
	assert.True(t, st.Fresh)
}

// A job directory may hold other files (an old layout, a user's notes, the input when --out is shared):
// LockDir, Reset and Unlock never delete, truncate or rewrite them.
func TestJobFilesLeaveForeignFilesAlone(t *testing.T) {
	dir := t.TempDir()
	foreign := []entry{
		{name: "input.csv", content: "email\nx@example.com\n"}, {name: "results.csv.bak", content: "old results"},
		{name: ".hidden", content: "h"}, {name: "notes", dir: true}, {name: "notes/a.txt", content: "a"},
		{name: "link", link: "input.csv"}, {name: ".dir" + tempMark + "1", dir: true},
	}
	makeEntries(t, dir, foreign)
	before := snapshot(t, dir)

	l, err := LockDir(dir)
	require.NoError(t, err)
	writeJournal(t, dir, []op{startOp(1), outcomeOp(testOutcome(1, StatusCreated, 0))})
	for _, name := range []string{ResultsFile, RejectsFile, SummaryFile} {
		require.NoError(t, os.WriteFile(filepath.Join(dir, name), []byte(ownContent(name)), 0o600))
	}
	require.NoError(t, Reset(dir))
	require.NoError(t, l.Unlock())
	l, err = LockDir(dir)
	require.NoError(t, err)
	require.NoError(t, l.Unlock())

	after := snapshot(t, dir)
	for name, content := range before {
		assert.Equal(t, content, after[name], name)
	}
	delete(after, LockFile)
	delete(after, PreviousFile)
	assert.Equal(t, before, after, "only the lock file and the kept ids are added")
}

// Reset removes files by the job's names only when they are the job's own; otherwise it refuses and
// changes nothing.
func TestResetRefusesFilesThatAreNotTheJobs(t *testing.T) {
	outside := outsideFile(t, "keep me")
	tests := []struct {
		name  string
		entry entry
		want  string
	}{
		{"a checkpoint that is not a journal", entry{name: JournalFile, content: "a,b\n1,2\n"}, "checkpoint (not a zentra-import journal)"},
		{"results.csv as a directory", entry{name: ResultsFile, dir: true}, "results.csv (not a regular file)"},
		{"summary.json as a symlink", entry{name: SummaryFile, link: outside}, "summary.json (not a regular file)"},
		{"a damaged copy that is not a journal", entry{name: DamagedFile, content: "x"}, "checkpoint.damaged (not a zentra-import journal)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			if tt.entry.name != JournalFile {
				writeJournal(t, dir, []op{outcomeOp(testOutcome(1, StatusCreated, 0))})
			}
			makeEntries(t, dir, []entry{tt.entry, {name: RejectsFile, content: "r"}})
			before := snapshot(t, dir)
			err := Reset(dir)
			var de *DirError
			require.ErrorAs(t, err, &de)
			assert.Contains(t, err.Error(), tt.want)
			assert.Equal(t, before, snapshot(t, dir), "nothing removed")
			assertContent(t, outside, "keep me")
		})
	}
}
