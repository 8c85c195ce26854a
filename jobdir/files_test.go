package jobdir

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/zentra/zentra-import/atomicfile"
	"github.com/zentra/zentra-import/checkpoint"
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
	writeJournal(t, dir, true, 1)
	for _, name := range []string{ResultsFile, RejectsFile, SummaryFile, ".results.csv" + atomicfile.TempMark + "1", "input.csv"} {
		require.NoError(t, os.WriteFile(filepath.Join(dir, name), []byte(ownContent(name)), 0o600))
	}
	require.NoError(t, os.WriteFile(filepath.Join(dir, checkpoint.DamagedFile), []byte(journalMagic+"damaged"), 0o600))
	require.NoError(t, Reset(dir))
	assert.ElementsMatch(t, []string{LockFile, checkpoint.PreviousFile, "input.csv"}, listDir(t, dir), "the customer id is kept")
	require.NoError(t, Reset(dir), "Reset of a reset job")

	j, st, err := checkpoint.Open(dir, testBinding, checkpoint.Options{})
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
		{name: "link", link: "input.csv"}, {name: ".dir" + atomicfile.TempMark + "1", dir: true},
	}
	makeEntries(t, dir, foreign)
	before := snapshot(t, dir)

	l, err := LockDir(dir)
	require.NoError(t, err)
	writeJournal(t, dir, true, 1)
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
	delete(after, checkpoint.PreviousFile)
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
		{"a checkpoint that is not a journal", entry{name: checkpoint.JournalFile, content: "a,b\n1,2\n"}, "checkpoint (not a zentra-import journal)"},
		{"results.csv as a directory", entry{name: ResultsFile, dir: true}, "results.csv (not a regular file)"},
		{"summary.json as a symlink", entry{name: SummaryFile, link: outside}, "summary.json (not a regular file)"},
		{"a damaged copy that is not a journal", entry{name: checkpoint.DamagedFile, content: "x"}, "checkpoint.damaged (not a zentra-import journal)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			if tt.entry.name != checkpoint.JournalFile {
				writeJournal(t, dir, false, 1)
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
