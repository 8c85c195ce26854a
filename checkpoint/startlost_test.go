package checkpoint

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// A journal whose first 4 KiB were zeroed (a lost block) is told from a file that is not a journal: Open
// refuses it as damaged at its start, CheckDir takes it for the job's where the lock file proves the
// directory, and Reset keeps it aside as checkpoint.damaged so that the job can start over.
func TestJournalDamagedAtItsStart(t *testing.T) {
	dir := t.TempDir()
	l, err := LockDir(dir)
	require.NoError(t, err)
	defer l.Unlock()
	j, _, err := open(dir, testBinding, Options{}, noCompaction)
	require.NoError(t, err)
	for r := 1; r <= 100; r++ {
		require.NoError(t, j.Record(testOutcome(r, StatusCreated, 0)))
	}
	require.NoError(t, j.Close())
	path := journalPath(dir)
	b, err := os.ReadFile(path)
	require.NoError(t, err)
	require.Greater(t, len(b), 4096)
	copy(b, make([]byte, 4096))
	require.NoError(t, os.WriteFile(path, b, 0o600))

	_, _, err = open(dir, testBinding, Options{}, noCompaction)
	var ce *CorruptError
	require.ErrorAs(t, err, &ce)
	assert.Equal(t, "checkpoint "+path+": the journal is damaged at its start (its first 4096 bytes are zeros): its header, which ties the job to its input, mapping and API, is lost", err.Error())
	assert.Contains(t, ce.Hint(), "--restart")
	assert.Contains(t, ce.Hint(), DamagedFile)
	assert.Contains(t, ce.Hint(), "cannot be used")
	after, err := os.ReadFile(path)
	require.NoError(t, err)
	assert.Equal(t, b, after, "Open changes nothing")

	require.NoError(t, CheckDir(dir, ""), "the lock file proves the directory the job's")
	require.NoError(t, Reset(dir))
	assert.NoFileExists(t, path)
	assertContent(t, filepath.Join(dir, DamagedFile), string(b))
	j, st, err := open(dir, testBinding, Options{}, noCompaction)
	require.NoError(t, err, "started over")
	assert.True(t, st.Fresh)
	require.NoError(t, j.Close())
	require.NoError(t, CheckDir(dir, ""), "the damaged copy beside the journal is the job's")
}

func TestStartDamage(t *testing.T) {
	zeros := func(n int) string { return string(make([]byte, n)) }
	tests := []struct {
		name    string
		content string
		lost    bool
		zeros   int
	}{
		{"zeros, then records", zeros(4096) + string(marker[:]) + "rest", true, 4096},
		{"zeros only", zeros(64), true, 64},
		{"a damaged magic before the header record", "ZIJRNM\x00\x01saltsalt" + string(marker[:]) + "hdr", true, 0},
		{"a marker far into the file", strings.Repeat("x", startLookAhead-4) + string(marker[:]), true, 0},
		{"a marker beyond the look-ahead", strings.Repeat("x", startLookAhead+1) + string(marker[:]), false, 0},
		{"a text file", "my notes about the import\n", false, 0},
		{"a few zeros", "\x00\x00\x00 text", false, 3},
		{"empty", "", false, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			lost, z, err := startDamage(bytes.NewReader([]byte(tt.content)), int64(len(tt.content)))
			require.NoError(t, err)
			assert.Equal(t, tt.lost, lost)
			assert.Equal(t, tt.zeros, z)
		})
	}
	t.Run("a read error", func(t *testing.T) {
		_, _, err := startDamage(failingReader{}, 100)
		assert.Error(t, err)
	})
}

type failingReader struct{}

func (failingReader) ReadAt([]byte, int64) (int, error) { return 0, errors.New("i/o error") }
