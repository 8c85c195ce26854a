package checkpoint

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// A journal notices, at the first commit after it, that its job directory was removed or replaced, or
// that the journal was removed or renamed over: the error is sticky, and nothing after it counts as durable.
func TestJournalNoticesItIsGone(t *testing.T) {
	tests := []struct {
		name    string
		do      func(t *testing.T, dir string)
		dirGone bool
	}{
		{"the directory removed", func(t *testing.T, dir string) { require.NoError(t, os.RemoveAll(dir)) }, true},
		{"the directory renamed away", func(t *testing.T, dir string) { require.NoError(t, os.Rename(dir, dir+".old")) }, true},
		{"the directory replaced by a copy", func(t *testing.T, dir string) {
			b, err := os.ReadFile(journalPath(dir))
			require.NoError(t, err)
			require.NoError(t, os.Rename(dir, dir+".old"))
			require.NoError(t, os.Mkdir(dir, 0o700))
			require.NoError(t, os.WriteFile(journalPath(dir), b, 0o600))
		}, true},
		{"the journal removed", func(t *testing.T, dir string) { require.NoError(t, os.Remove(journalPath(dir))) }, false},
		{"the journal renamed over", func(t *testing.T, dir string) {
			other := filepath.Join(dir, "other")
			require.NoError(t, os.WriteFile(other, []byte(magic), 0o600))
			require.NoError(t, os.Rename(other, journalPath(dir)))
		}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "job")
			var durable []Outcome
			j, _ := openT(t, dir, Options{CommitEvery: time.Millisecond, OnDurable: func(o []Outcome) { durable = append(durable, o...) }}, defaultTuning)
			require.NoError(t, j.Record(testOutcome(1, StatusCreated, 0)))
			require.NoError(t, j.Sync())
			tt.do(t, dir)

			require.NoError(t, j.Record(testOutcome(2, StatusCreated, 0)), "queued before the commit that notices")
			err := j.Sync()
			var ge *GoneError
			require.ErrorAs(t, err, &ge)
			assert.Equal(t, tt.dirGone, ge.DirGone)
			assert.Equal(t, dir, ge.Dir)
			assert.NotContains(t, err.Error(), "intact")
			if tt.dirGone {
				assert.Equal(t, "the job directory "+dir+" was removed or replaced while the job ran: its journal went with it, and what the job knew of the rows it had sent is lost", err.Error())
				assert.Contains(t, ge.Hint(), "with the same --out, to make the job anew")
			} else {
				assert.Contains(t, err.Error(), "the journal "+journalPath(dir)+" was removed or replaced while the job ran")
			}
			assert.Contains(t, ge.Hint(), "Idempotency-Key")
			assert.Equal(t, err, j.Err())
			assert.Equal(t, err, j.Record(testOutcome(3, StatusCreated, 0)))
			assert.Len(t, durable, 1, "the outcome written after the removal is not reported durable")
			assert.Equal(t, 1, j.Durable().Rows)
		})
	}
}

// The journal's own renames (compaction at Finish, repair at Open) are not taken for a replacement.
func TestJournalFollowsItsOwnRenames(t *testing.T) {
	dir := t.TempDir()
	j, _ := openT(t, dir, Options{CommitEvery: time.Millisecond, RetryFailed: true}, defaultTuning)
	for r := 1; r <= 200; r++ {
		require.NoError(t, j.Start(r, rowOffset(r), rowOffset(r+1)))
		require.NoError(t, j.Record(testOutcome(r, StatusFailed, 0)))
	}
	before, err := os.Stat(journalPath(dir))
	require.NoError(t, err)
	require.NoError(t, j.Finish(200, 1))
	after, err := os.Stat(journalPath(dir))
	require.NoError(t, err)
	require.False(t, os.SameFile(before, after), "compacted: another file renamed into place")
	require.NoError(t, j.Record(testOutcome(7, StatusCreated, 1)))
	require.NoError(t, j.Sync(), "the compacted journal is the journal")
	require.NoError(t, j.Close())

	// Damage in the middle: Open repairs it by renaming a rewritten journal into place.
	b, err := os.ReadFile(journalPath(dir))
	require.NoError(t, err)
	b[len(b)/2] ^= 0xFF
	require.NoError(t, os.WriteFile(journalPath(dir), b, 0o600))
	j, st := openT(t, dir, Options{CommitEvery: time.Millisecond}, defaultTuning)
	require.NotEmpty(t, st.Repaired)
	require.NoError(t, j.Record(testOutcome(201, StatusCreated, 0)))
	require.NoError(t, j.Sync(), "the repaired journal is the journal")
}

// Durable counts every row by its latest durable outcome, across runs, and still says what was durable
// after a write failure (injected: writes to a read-only descriptor fail like a full disk's).
func TestDurableCountsSurviveAWriteFailure(t *testing.T) {
	dir := t.TempDir()
	writeJournal(t, dir, []op{
		outcomeOp(testOutcome(1, StatusCreated, 0)), outcomeOp(testOutcome(2, StatusFailed, 0)),
		outcomeOp(testOutcome(3, StatusRejected, 0)), startOp(4), outcomeOp(testOutcome(5, StatusFailed, 0)),
	})
	j, _ := openT(t, dir, Options{CommitEvery: time.Millisecond, RetryFailed: true}, defaultTuning)
	assert.Equal(t, map[Status]int{StatusCreated: 1, StatusFailed: 2, StatusRejected: 1}, j.Durable().Counts, "what earlier runs left")

	require.NoError(t, j.Start(2, rowOffset(2), rowOffset(3)))
	require.NoError(t, j.Record(testOutcome(2, StatusCreated, 1))) // a failed row retried
	require.NoError(t, j.Record(testOutcome(4, StatusExisting, 0)))
	require.NoError(t, j.Record(testOutcome(6, StatusCreated, 0)))
	require.NoError(t, j.Record(testOutcome(6, StatusExisting, 1))) // a row's second outcome replaces its first
	require.NoError(t, j.Sync())
	d := j.Durable()
	assert.Equal(t, map[Status]int{StatusCreated: 2, StatusExisting: 2, StatusFailed: 1, StatusRejected: 1}, d.Counts)
	assert.Equal(t, 6, d.Rows)
	fi, err := os.Stat(journalPath(dir))
	require.NoError(t, err)
	assert.Equal(t, fi.Size(), d.Bytes)

	ro, err := os.Open(journalPath(dir))
	require.NoError(t, err)
	j.mu.Lock()
	rw := j.f
	j.f = ro
	j.mu.Unlock()
	defer rw.Close()
	require.NoError(t, j.Record(testOutcome(5, StatusCreated, 2)))
	require.NoError(t, j.Record(testOutcome(7, StatusCreated, 0)))
	require.Error(t, j.Sync())
	assert.Equal(t, d, j.Durable(), "the failed batch counts for nothing")

	// What the next run finds is what Durable said.
	require.Error(t, j.Close())
	_, st := openT(t, dir, Options{}, defaultTuning)
	assert.Equal(t, d.Counts, st.Counts)
}
