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
// refuses it as damaged at its start, Recognize says so, and Forget keeps it aside as checkpoint.damaged
// so that the job can start over (jobdir's TestResetKeepsAJournalDamagedAtItsStart: CheckDir takes it
// for the job's where the lock file proves the directory, and Reset keeps it aside).
func TestJournalDamagedAtItsStart(t *testing.T) {
	dir := t.TempDir()
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

	journal, damaged, err := Recognize(path, int64(len(b)))
	require.NoError(t, err)
	assert.False(t, journal)
	assert.True(t, damaged)
	require.NoError(t, Forget(dir))
	assert.NoFileExists(t, path)
	kept, err := os.ReadFile(filepath.Join(dir, DamagedFile))
	require.NoError(t, err)
	assert.Equal(t, b, kept, "kept byte for byte")
	j, st, err := open(dir, testBinding, Options{}, noCompaction)
	require.NoError(t, err, "started over")
	assert.True(t, st.Fresh)
	require.NoError(t, j.Close())
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

// TestRecognize: what Recognize takes for a journal, for one damaged at its start, and for neither.
func TestRecognize(t *testing.T) {
	tests := []struct {
		name             string
		content          string
		journal, damaged bool
	}{
		{"a journal", magic + "\x00\x01saltsalt" + string(marker[:]), true, false},
		{"empty: one being created", "", true, false},
		{"the magic's first bytes", magic[:3], true, false},
		{"zeros where the prelude was", string(make([]byte, 64)), false, true},
		{"a text file", "my notes about the import\n", false, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), JournalFile)
			require.NoError(t, os.WriteFile(path, []byte(tt.content), 0o600))
			journal, damaged, err := Recognize(path, int64(len(tt.content)))
			require.NoError(t, err)
			assert.Equal(t, tt.journal, journal)
			assert.Equal(t, tt.damaged, damaged)
		})
	}
	_, _, err := Recognize(filepath.Join(t.TempDir(), JournalFile), 0)
	assert.ErrorIs(t, err, os.ErrNotExist)
}
