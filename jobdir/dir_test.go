package jobdir

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/zentra/zentra-import/atomicfile"
	"github.com/zentra/zentra-import/checkpoint"
)

// entry is something to put in a directory for a test: a file with content, a directory or a symlink.
type entry struct {
	name, content string
	dir           bool
	link          string // a symlink to this target
}

func makeEntries(t *testing.T, dir string, entries []entry) {
	t.Helper()
	require.NoError(t, os.MkdirAll(dir, 0o700))
	for _, e := range entries {
		p := filepath.Join(dir, e.name)
		switch {
		case e.dir:
			require.NoError(t, os.MkdirAll(p, 0o700))
		case e.link != "":
			require.NoError(t, os.Symlink(e.link, p))
		default:
			require.NoError(t, os.WriteFile(p, []byte(e.content), 0o600))
		}
	}
}

// outsideFile is a file outside any job directory, for links to point at.
func outsideFile(t *testing.T, content string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "outside.txt")
	require.NoError(t, os.WriteFile(p, []byte(content), 0o600))
	return p
}

func assertContent(t *testing.T, path, want string) {
	t.Helper()
	b, err := os.ReadFile(path)
	require.NoError(t, err)
	assert.Equal(t, want, string(b), path)
}

var resultsHead = "row,external_reference,status,customer_id,http_status,attempts,error"

// ourSummary is the start of a summary.json this tool writes.
func ourSummary(command string) string {
	return `{"command": "` + command + `", "input": "in.csv", "input_sha256": "` + strings.Repeat("ab", 32) + `", "rows": 3}`
}

// allJobFiles is a directory holding every kind of job file, as runs leave them.
func allJobFiles() []entry {
	return []entry{
		{name: LockFile, content: "4242\n"}, {name: checkpoint.JournalFile, content: journalMagic + "\x00\x01rest"},
		{name: checkpoint.DamagedFile, content: journalMagic}, {name: checkpoint.PreviousFile, content: journalMagic + "\x00\x01"},
		{name: ResultsFile, content: resultsHead + "\n"}, {name: RejectsFile, content: "a,error\n"}, {name: SummaryFile, content: ourSummary("run")},
		{name: InferredMappingFile, content: "columns:\n"}, {name: ".results.csv" + atomicfile.TempMark + "12345", content: "half"},
		{name: ".checkpoint-index" + atomicfile.TempMark + "9"},
	}
}

func TestCheckDir(t *testing.T) {
	tests := []struct {
		name    string
		entries []entry
		missing bool
		foreign []string // the entries named, in order
		more    int
	}{
		{name: "missing directory", missing: true},
		{name: "empty directory"},
		{name: "only job files", entries: allJobFiles()},
		{name: "a released lock and an empty journal", entries: []entry{{name: LockFile, content: lockMarker}, {name: checkpoint.JournalFile}}},
		// Lock files of earlier versions (empty, or a bare pid) prove nothing: anyone can write one. Beside a
		// journal they are the job's; alone, or beside files of the user's, they are refused (QA: a folder
		// with an empty lock had the user's rejects.csv and mapping.inferred.yaml written over).
		{name: "an old empty lock and an empty journal", entries: []entry{{name: LockFile}, {name: checkpoint.JournalFile}},
			foreign: []string{LockFile + " (" + needsProofLock + ")"}},
		{name: "an old lock beside a journal", entries: []entry{{name: LockFile, content: "4242\n"}, {name: checkpoint.JournalFile, content: journalMagic + "\x00\x01"},
			{name: RejectsFile, content: "a,error\n"}}},
		{name: "an old empty lock beside the user's files", entries: []entry{{name: LockFile}, {name: RejectsFile, content: "mine\n"},
			{name: InferredMappingFile, content: "my: mapping\n"}},
			foreign: []string{LockFile + " (" + needsProofLock + ")", InferredMappingFile + " (" + needsProof + ")", RejectsFile + " (" + needsProof + ")"}},
		{name: "an old pid lock beside the user's files", entries: []entry{{name: LockFile, content: "31337\n"}, {name: RejectsFile, content: "mine\n"}},
			foreign: []string{LockFile + " (" + needsProofLock + ")", RejectsFile + " (" + needsProof + ")"}},
		{name: "a lock file with the marker and text", entries: []entry{{name: LockFile, content: lockMarker + "my notes\n"}},
			foreign: []string{LockFile + " (not a lock file)"}},
		{name: "a held lock, its pid rewritten", entries: []entry{{name: LockFile, content: lockMarker + "pid 12\n345\n"}, {name: RejectsFile, content: "a,error\n"}}},
		// A journal whose start was zeroed (a lost block) is the job's where the lock proves the directory.
		{name: "a journal zeroed at its start beside the lock", entries: []entry{{name: LockFile, content: lockMarker},
			{name: checkpoint.JournalFile, content: string(make([]byte, 4096)) + recordMarker + "rest"}}},
		{name: "a journal zeroed at its start alone", entries: []entry{{name: checkpoint.JournalFile, content: string(make([]byte, 4096))}},
			foreign: []string{checkpoint.JournalFile + " (" + needsProofStart + ")"}},
		{name: "a journal zeroed at its start beside an old lock", entries: []entry{{name: LockFile, content: "7\n"}, {name: checkpoint.JournalFile, content: string(make([]byte, 64))}},
			foreign: []string{checkpoint.JournalFile + " (" + needsProofStart + ")", LockFile + " (" + needsProofLock + ")"}},
		{name: "a damaged copy zeroed at its start beside the lock", entries: []entry{{name: LockFile, content: lockMarker + "pid 9\n"},
			{name: checkpoint.DamagedFile, content: "\x00\x00\x00 garbled " + recordMarker}}},
		{name: "a journal cut inside the magic", entries: []entry{{name: checkpoint.JournalFile, content: journalMagic[:3]}}},
		{name: "the input beside the job files", entries: append(allJobFiles(), entry{name: "customers.csv", content: "a\n"}),
			foreign: []string{"customers.csv"}},
		{name: "many foreign entries", entries: []entry{{name: "a.csv"}, {name: "b.txt"}, {name: ".env"}, {name: "d"}, {name: "e", dir: true}},
			foreign: []string{".env", "a.csv", "b.txt"}, more: 2},
		{name: "a subdirectory", entries: []entry{{name: "old", dir: true}}, foreign: []string{"old"}},
		{name: "a job name that is a directory", entries: []entry{{name: ResultsFile, dir: true}},
			foreign: []string{ResultsFile + " (not a regular file)"}},
		{name: "a job name that is a symlink", entries: []entry{{name: SummaryFile, link: "/etc/hostname"}},
			foreign: []string{SummaryFile + " (not a regular file)"}},
		{name: "a lock file that holds text", entries: []entry{{name: LockFile, content: "do not delete\n"}},
			foreign: []string{LockFile + " (not a lock file)"}},
		{name: "a large lock file", entries: []entry{{name: LockFile, content: string(make([]byte, 100))}},
			foreign: []string{LockFile + " (not a lock file)"}},
		{name: "a checkpoint that is not a journal", entries: []entry{{name: checkpoint.JournalFile, content: "my notes"}},
			foreign: []string{checkpoint.JournalFile + " (not a zentra-import journal)"}},
		{name: "a previous file that is not a journal", entries: []entry{{name: checkpoint.PreviousFile, content: "ZIJ!"}},
			foreign: []string{checkpoint.PreviousFile + " (not a zentra-import journal)"}},
		{name: "a name that does not print", entries: []entry{{name: "a\nb"}}, foreign: []string{`"a\nb"`}},
		// Files of the user's that happen to have the job files' names (QA: results.csv written over).
		{name: "the user's own results, rejects and summary", entries: []entry{{name: ResultsFile, content: "my data\n"},
			{name: RejectsFile, content: "keep\n"}, {name: SummaryFile, content: `{"my": 1}`}},
			foreign: []string{ResultsFile + " (not a results file of zentra-import)", SummaryFile + " (not a summary of zentra-import)",
				RejectsFile + " (not beside a lock or checkpoint of zentra-import)"}},
		{name: "a summary of another tool", entries: []entry{{name: SummaryFile, content: `{"command": "export", "input_sha256": "x"}`}},
			foreign: []string{SummaryFile + " (not a summary of zentra-import)"}},
		{name: "rejects without a lock, checkpoint or summary", entries: []entry{{name: RejectsFile, content: "a,error\n"}},
			foreign: []string{RejectsFile + " (not beside a lock or checkpoint of zentra-import)"}},
		{name: "an empty checkpoint proves nothing", entries: []entry{{name: RejectsFile, content: "a,error\n"}, {name: checkpoint.JournalFile}},
			foreign: []string{RejectsFile + " (not beside a lock or checkpoint of zentra-import)"}},
		// Crashes before the proof: a run without --mapping saves the inferred mapping before it creates
		// the journal; validate commits rejects.csv before summary.json. The lock is there from the start.
		{name: "a run killed before its journal", entries: []entry{{name: LockFile, content: lockMarker + "pid 4242\n"}, {name: InferredMappingFile, content: "fields:\n"}}},
		{name: "a validate killed before its summary", entries: []entry{{name: LockFile, content: lockMarker + "pid 4242\n"}, {name: RejectsFile, content: "a,error\n"}}},
		{name: "what validate leaves", entries: []entry{{name: LockFile, content: lockMarker}, {name: RejectsFile, content: "a,error\n"}, {name: SummaryFile, content: ourSummary("validate")}}},
		{name: "what validate of an earlier version leaves", entries: []entry{{name: LockFile}, {name: RejectsFile, content: "a,error\n"}, {name: SummaryFile, content: ourSummary("validate")}},
			foreign: []string{LockFile + " (" + needsProofLock + ")", RejectsFile + " (" + needsProof + ")", SummaryFile + " (" + needsProof + ")"}},
		{name: "a summary copied beside the user's rejects", entries: []entry{{name: RejectsFile, content: "my fixes\n"}, {name: SummaryFile, content: ourSummary("run")}},
			foreign: []string{RejectsFile + " (not beside a lock or checkpoint of zentra-import)", SummaryFile + " (not beside a lock or checkpoint of zentra-import)"}},
		{name: "what an interrupted first run leaves", entries: []entry{{name: LockFile, content: "1\n"}, {name: checkpoint.JournalFile, content: journalMagic},
			{name: ResultsFile, content: resultsHead + ",Branch\n1,a,created,cus_1,201,1,,IKJ\n"}, {name: InferredMappingFile, content: "fields:\n"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "job")
			if !tt.missing {
				makeEntries(t, dir, tt.entries)
			}
			before := snapshot(t, filepath.Dir(dir))
			err := CheckDir(dir, filepath.Join(t.TempDir(), "input.csv"))
			assert.Equal(t, before, snapshot(t, filepath.Dir(dir)), "CheckDir changes nothing")
			if tt.foreign == nil {
				require.NoError(t, err)
				return
			}
			var de *DirError
			require.ErrorAs(t, err, &de)
			assert.Equal(t, tt.foreign, de.Foreign)
			assert.Equal(t, tt.more, de.More)
			assert.Contains(t, err.Error(), "job directory "+dir+" holds files that are not the job's: "+tt.foreign[0])
			if tt.more > 0 {
				assert.Contains(t, err.Error(), " and 2 more")
			}
			assert.Contains(t, de.Hint(), "new or empty directory")
		})
	}
}

func TestCheckDirRefusesTheInputAsAJobFile(t *testing.T) {
	// The QA case: `run --out . rejects.csv` in the directory that holds the input rejects.csv.
	t.Run("run --out . rejects.csv", func(t *testing.T) {
		dir := t.TempDir()
		makeEntries(t, dir, []entry{{name: RejectsFile, content: "email,error\nx,bad\n"}})
		t.Chdir(dir)
		err := CheckDir(".", RejectsFile)
		var de *DirError
		require.ErrorAs(t, err, &de)
		assert.Equal(t, RejectsFile, de.InputAs)
		assert.Equal(t, "input rejects.csv is the job directory's rejects.csv: the job would overwrite it (job directory .)", err.Error())
		assert.Contains(t, de.Hint(), "directory of its own")
	})
	tests := []struct {
		name  string
		setup func(t *testing.T, dir, elsewhere string) (out, input string)
	}{
		{"the same path", func(t *testing.T, dir, _ string) (string, string) {
			makeEntries(t, dir, []entry{{name: ResultsFile, content: "a\n"}})
			return dir, filepath.Join(dir, ResultsFile)
		}},
		{"another spelling of the path", func(t *testing.T, dir, _ string) (string, string) {
			makeEntries(t, dir, []entry{{name: SummaryFile, content: "a\n"}, {name: "sub", dir: true}})
			return dir + "/sub/..", filepath.Join(dir, "sub", "..", ".", SummaryFile)
		}},
		{"a symlink to a job file", func(t *testing.T, dir, elsewhere string) (string, string) {
			makeEntries(t, dir, []entry{{name: RejectsFile, content: "a\n"}})
			link := filepath.Join(elsewhere, "in.csv")
			require.NoError(t, os.Symlink(filepath.Join(dir, RejectsFile), link))
			return dir, link
		}},
		{"a hard link to a job file", func(t *testing.T, dir, elsewhere string) (string, string) {
			makeEntries(t, dir, []entry{{name: ResultsFile, content: "a\n"}})
			link := filepath.Join(elsewhere, "in.csv")
			require.NoError(t, os.Link(filepath.Join(dir, ResultsFile), link))
			return dir, link
		}},
		{"the job directory reached through a symlink", func(t *testing.T, dir, elsewhere string) (string, string) {
			makeEntries(t, dir, []entry{{name: RejectsFile, content: "a\n"}})
			link := filepath.Join(elsewhere, "out")
			require.NoError(t, os.Symlink(dir, link))
			return link, filepath.Join(dir, RejectsFile)
		}},
		{"an input that does not exist yet", func(t *testing.T, dir, _ string) (string, string) {
			return dir, filepath.Join(dir, ResultsFile)
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, input := tt.setup(t, filepath.Join(t.TempDir(), "job"), t.TempDir())
			var de *DirError
			require.ErrorAs(t, CheckDir(out, input), &de)
			assert.Equal(t, input, de.Input)
		})
	}
	t.Run("an input elsewhere", func(t *testing.T) {
		dir := t.TempDir()
		makeEntries(t, dir, allJobFiles())
		input := filepath.Join(t.TempDir(), RejectsFile)
		makeEntries(t, filepath.Dir(input), []entry{{name: RejectsFile, content: "a\n"}})
		require.NoError(t, CheckDir(dir, input))
		require.NoError(t, CheckDir(dir, ""), "no input to check")
	})
}

func TestCheckDirOnAFile(t *testing.T) {
	f := filepath.Join(t.TempDir(), "file")
	require.NoError(t, os.WriteFile(f, nil, 0o600))
	var de *DirError
	require.ErrorAs(t, CheckDir(f, ""), &de)
	assert.Equal(t, "job directory "+f+": not a directory", de.Error())
}

// snapshot records every entry under dir with its content (or link target), to show that nothing changed.
func snapshot(t *testing.T, dir string) map[string]string {
	t.Helper()
	m := map[string]string{}
	require.NoError(t, filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		switch {
		case d.Type()&os.ModeSymlink != 0:
			target, err := os.Readlink(p)
			m[rel] = "link:" + target
			return err
		case d.IsDir():
			m[rel] = "dir"
		default:
			b, err := os.ReadFile(p)
			m[rel] = string(b)
			return err
		}
		return nil
	}))
	return m
}

// A journal whose first 4 KiB were zeroed (a lost block) is told from a file that is not a journal:
// CheckDir takes it for the job's where the lock file proves the directory, and Reset keeps it aside as
// checkpoint.damaged so that the job can start over (checkpoint's TestJournalDamagedAtItsStart: Open
// refuses it, and Forget keeps it).
func TestResetKeepsAJournalDamagedAtItsStart(t *testing.T) {
	dir := t.TempDir()
	l, err := LockDir(dir)
	require.NoError(t, err)
	defer l.Unlock()
	rows := make([]int, 150)
	for i := range rows {
		rows[i] = i + 1
	}
	writeJournal(t, dir, false, rows...)
	path := filepath.Join(dir, checkpoint.JournalFile)
	b, err := os.ReadFile(path)
	require.NoError(t, err)
	require.Greater(t, len(b), 4096)
	copy(b, make([]byte, 4096))
	require.NoError(t, os.WriteFile(path, b, 0o600))

	require.NoError(t, CheckDir(dir, ""), "the lock file proves the directory the job's")
	require.NoError(t, Reset(dir))
	assert.NoFileExists(t, path)
	assertContent(t, filepath.Join(dir, checkpoint.DamagedFile), string(b))
	j, st, err := checkpoint.Open(dir, testBinding, checkpoint.Options{})
	require.NoError(t, err, "started over")
	assert.True(t, st.Fresh)
	require.NoError(t, j.Close())
	require.NoError(t, CheckDir(dir, ""), "the damaged copy beside the journal is the job's")
}
