package checkpoint

import (
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestOpenCreatesPrivateFiles(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "new", "job")
	j, st, err := Open(dir, testBinding, Options{})
	require.NoError(t, err)
	defer j.Close()
	assert.True(t, st.Fresh)
	assert.Equal(t, 1, st.ResumeRow)
	assert.Equal(t, int64(-1), st.ResumeOffset)
	assert.Equal(t, os.FileMode(0o700), fileMode(t, dir))
	assert.Equal(t, os.FileMode(0o600), fileMode(t, journalPath(dir)))
}

func TestOpenEmptyJournalIsFresh(t *testing.T) {
	dir := t.TempDir()
	require.NoError(t, os.WriteFile(journalPath(dir), nil, 0o600))
	_, st := openT(t, dir, Options{}, defaultTuning)
	assert.True(t, st.Fresh)
	assert.Empty(t, st.Repaired)
}

// TestStateAfterReopen checks the recovered state of hand-written histories.
func TestStateAfterReopen(t *testing.T) {
	created := func(r int) op { return outcomeOp(testOutcome(r, StatusCreated, 0)) }
	failed := func(r int) op { return outcomeOp(testOutcome(r, StatusFailed, 0)) }
	rows := func(from, to int, mk func(int) op) []op {
		var ops []op
		for r := from; r <= to; r++ {
			ops = append(ops, startOp(r), mk(r))
		}
		return ops
	}
	cat := func(parts ...[]op) []op {
		var all []op
		for _, p := range parts {
			all = append(all, p...)
		}
		return all
	}
	tests := []struct {
		name        string
		ops         []op
		retryFailed bool
		resume      int
		complete    bool
	}{
		{name: "nothing recorded", ops: nil, resume: 1},
		{name: "all created", ops: rows(1, 10, created), resume: 11},
		{name: "row in flight", ops: cat(rows(1, 4, created), []op{startOp(5)}, rows(6, 10, created)), resume: 5},
		{name: "row never started", ops: cat(rows(1, 4, created), rows(6, 10, created)), resume: 5},
		{name: "first row in flight", ops: cat([]op{startOp(1)}, rows(2, 3, created)), resume: 1},
		{name: "failed is done", ops: cat(rows(1, 2, created), rows(3, 3, failed), rows(4, 5, created)), resume: 6},
		{name: "failed is not done with retry", ops: cat(rows(1, 2, created), rows(3, 3, failed), rows(4, 5, created)), retryFailed: true, resume: 3},
		{name: "in flight after failed is not done", ops: cat(rows(1, 3, failed), []op{startOp(2)}), resume: 2},
		{name: "retried and created", ops: cat(rows(1, 3, failed), rows(2, 2, created)), retryFailed: true, resume: 1},
		{name: "rejected never sent", ops: []op{outcomeOp(testOutcome(1, StatusRejected, 1)), startOp(2), created(2)}, resume: 3},
		{name: "out of order", ops: []op{startOp(1), startOp(2), startOp(3), created(3), created(1), created(2)}, resume: 4},
		{name: "finished", ops: cat(rows(1, 5, created), []op{finishOp(5, 0)}), resume: 6, complete: true},
		{name: "finished empty input", ops: []op{finishOp(0, 0)}, resume: 1, complete: true},
		{name: "finished with failures", ops: cat(rows(1, 2, created), rows(3, 3, failed), []op{finishOp(3, 1)}), resume: 4, complete: true},
		{name: "finished, retry reopens", ops: cat(rows(1, 2, created), rows(3, 3, failed), []op{finishOp(3, 1)}), retryFailed: true, resume: 3},
		{name: "outcome after finish", ops: cat(rows(1, 3, failed), []op{finishOp(3, 1)}, rows(3, 3, created)), resume: 4},
		{name: "in flight after finish", ops: cat(rows(1, 3, failed), []op{finishOp(3, 1), startOp(2)}), resume: 2},
		{name: "finish of a shorter run", ops: cat(rows(1, 3, created), []op{finishOp(5, 0)}), resume: 4},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			writeJournal(t, dir, tt.ops)
			_, st := openT(t, dir, Options{RetryFailed: tt.retryFailed}, defaultTuning)
			assert.Equal(t, tt.resume, st.ResumeRow)
			assert.Equal(t, tt.complete, st.Complete)
			assert.Empty(t, st.Repaired)
			newModel(tt.ops).check(t, st, tt.retryFailed)
		})
	}
}

// TestStateMatchesModel replays random multi-run histories and compares everything Open and Outcomes say
// with the model, with every memory bound forced — as written, and after compaction (which must change
// nothing a resume or results.csv depends on).
func TestStateMatchesModel(t *testing.T) {
	for seed := range 8 {
		for _, compact := range []bool{false, true} {
			t.Run(fmt.Sprintf("%d/compacted=%v", seed, compact), func(t *testing.T) {
				rng := rand.New(rand.NewPCG(uint64(seed), 7))
				ops := randomOps(rng, 40+rng.IntN(200), 1+rng.IntN(4))
				dir := t.TempDir()
				writeJournal(t, dir, ops)
				m := newModel(ops)
				if compact {
					compactNow(t, dir, m.records)
				}
				for _, retry := range []bool{false, true} {
					j, st := openT(t, dir, Options{RetryFailed: retry}, tinyTuning)
					assert.Empty(t, st.Repaired)
					m.check(t, st, retry)
					m.checkOutcomes(t, j)
					require.NoError(t, j.Close())
				}
			})
		}
	}
}

// compactNow rewrites the journal in dir and checks the rewrite's own account of it.
func compactNow(t *testing.T, dir string, records int) {
	t.Helper()
	j, _ := openT(t, dir, Options{}, tinyTuning)
	j.mu.Lock()
	f, size, kept, err := rewrite(j.path, j.f, j.size, j.salt, rewriteHow{}, tinyTuning)
	j.mu.Unlock()
	require.NoError(t, err)
	require.NoError(t, f.Close())
	require.NoError(t, j.Close())
	assert.LessOrEqual(t, kept, records)
	fi, err := os.Stat(journalPath(dir))
	require.NoError(t, err)
	assert.Equal(t, size, fi.Size())
}

func TestSeedRefSeesEveryDurableReference(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 3))
	ops := randomOps(rng, 100, 3)
	dir := t.TempDir()
	writeJournal(t, dir, ops)
	var got []string
	_, _ = openT(t, dir, Options{SeedRef: func(ref string, row int, _ Status) { got = append(got, fmt.Sprintf("%s@%d", ref, row)) }}, defaultTuning)
	assert.Equal(t, newModel(ops).refs, got)
}

// TestOnDurableReportsEachOutcomeOnce runs concurrent writers and checks that OnDurable reports every
// outcome exactly once, after it is in the file, and that Sync returns only after the report.
func TestOnDurableReportsEachOutcomeOnce(t *testing.T) {
	dir := t.TempDir()
	var mu sync.Mutex
	seen := map[int]int{}
	batches := 0
	j, _ := openT(t, dir, Options{CommitEvery: time.Millisecond, OnDurable: func(b []Outcome) {
		mu.Lock()
		defer mu.Unlock()
		batches++
		for _, o := range b {
			seen[o.Row]++
		}
	}}, defaultTuning)
	const workers, per = 8, 250
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			for i := range per {
				r := w*per + i + 1
				assert.NoError(t, j.Start(r, rowOffset(r), rowOffset(r+1)))
				assert.NoError(t, j.Record(testOutcome(r, StatusCreated, 0)))
			}
		})
	}
	wg.Wait()
	require.NoError(t, j.Sync())
	mu.Lock()
	assert.Len(t, seen, workers*per)
	for r, n := range seen {
		require.Equal(t, 1, n, "row %d reported %d times", r, n)
	}
	assert.Less(t, batches, workers*per, "group commit made one batch per record")
	mu.Unlock()
	assert.Len(t, collect(t, j), workers*per)
}

func TestGroupCommitWaitsCommitEvery(t *testing.T) {
	var batches [][]Outcome
	var mu sync.Mutex
	j, _ := openT(t, t.TempDir(), Options{CommitEvery: time.Hour, OnDurable: func(b []Outcome) {
		mu.Lock()
		batches = append(batches, b)
		mu.Unlock()
	}}, defaultTuning)
	for r := 1; r <= 100; r++ {
		require.NoError(t, j.Record(testOutcome(r, StatusCreated, 0)))
	}
	require.NoError(t, j.Sync())
	mu.Lock()
	defer mu.Unlock()
	require.Len(t, batches, 1, "all records queued within CommitEvery go in one fsync")
	assert.Len(t, batches[0], 100)
	for i, o := range batches[0] {
		assert.Equal(t, i+1, o.Row, "journal order")
	}
}

// TestRecordBackpressure checks that Record waits while the committer cannot keep up, instead of queueing
// without bound.
func TestRecordBackpressure(t *testing.T) {
	gate := make(chan struct{})
	var once sync.Once
	j, _ := openT(t, t.TempDir(), Options{CommitEvery: time.Microsecond, OnDurable: func([]Outcome) {
		once.Do(func() { <-gate }) // the first batch's "fsync" takes until the gate opens
	}}, tinyTuning)
	require.NoError(t, j.Record(testOutcome(1, StatusCreated, 0)))
	// Wait until the committer holds the first batch, then fill the next one to its bound.
	require.Eventually(t, func() bool { j.mu.Lock(); defer j.mu.Unlock(); return len(j.pending) == 0 }, 5*time.Second, time.Millisecond)
	for r := 2; r < 2+tinyTuning.maxOutcomes; r++ {
		require.NoError(t, j.Record(testOutcome(r, StatusCreated, 0)))
	}
	blocked := make(chan error)
	go func() { blocked <- j.Record(testOutcome(99, StatusCreated, 0)) }()
	select {
	case <-blocked:
		t.Fatal("Record returned while the queue was full")
	case <-time.After(50 * time.Millisecond):
	}
	close(gate)
	require.NoError(t, <-blocked)
	require.NoError(t, j.Sync())
	assert.Len(t, collect(t, j), 2+tinyTuning.maxOutcomes)
}

// TestWriteFailureIsSticky makes the journal's writes fail and checks that every later call reports it.
func TestWriteFailureIsSticky(t *testing.T) {
	dir := t.TempDir()
	j, _ := openT(t, dir, Options{CommitEvery: time.Millisecond}, defaultTuning)
	require.NoError(t, j.Record(testOutcome(1, StatusCreated, 0)))
	require.NoError(t, j.Sync())
	breakWrites(t, j) // writes to a read-only descriptor fail like a full disk's

	require.NoError(t, j.Record(testOutcome(2, StatusCreated, 0)), "queued before the failure is known")
	err := j.Sync()
	require.Error(t, err)
	assert.Contains(t, err.Error(), "write checkpoint")
	assert.Equal(t, err, j.Err())
	assert.Equal(t, err, j.Record(testOutcome(3, StatusCreated, 0)))
	assert.Equal(t, err, j.Start(4, 0, 1))
	assert.Equal(t, err, j.Finish(4, 0))
	assert.Equal(t, err, j.Close())

	_, st := openT(t, dir, Options{}, defaultTuning)
	assert.Equal(t, 2, st.ResumeRow, "only what was durable survives")
}

func TestStartWaitsForDurabilityOnlyForRowsWithAnOutcome(t *testing.T) {
	dir := t.TempDir()
	writeJournal(t, dir, []op{startOp(1), outcomeOp(testOutcome(1, StatusFailed, 0))})
	j, _ := openT(t, dir, Options{CommitEvery: time.Hour, RetryFailed: true}, defaultTuning)

	require.NoError(t, j.Start(2, rowOffset(2), rowOffset(3)))
	j.mu.Lock()
	assert.Equal(t, uint64(0), j.durable, "a new row's Start does not wait")
	j.mu.Unlock()

	require.NoError(t, j.Start(1, rowOffset(1), rowOffset(2)))
	j.mu.Lock()
	assert.Equal(t, uint64(2), j.durable, "a re-send's Start returns once durable")
	j.mu.Unlock()
}

// TestReserveCoversTheRowsItNames: a reservation is durable when Reserve returns, however long the group
// commit would wait, and after it State.Sent counts the rows up to it, without an outcome, as perhaps
// sent by this job; the latest reservation counts, and a rewrite (compaction) keeps it.
func TestReserveCoversTheRowsItNames(t *testing.T) {
	dir := t.TempDir()
	writeJournal(t, dir, []op{startOp(1), outcomeOp(testOutcome(1, StatusFailed, 0)), outcomeOp(testOutcome(2, StatusCreated, 0))})
	j, st := openT(t, dir, Options{CommitEvery: time.Hour}, defaultTuning)
	assert.Zero(t, st.Reserved())
	require.NoError(t, j.Reserve(40))
	j.mu.Lock()
	assert.Equal(t, uint64(1), j.durable, "durable when Reserve returns")
	j.mu.Unlock()
	require.NoError(t, j.Start(41, rowOffset(41), rowOffset(42))) // beyond the reservation: its own record
	require.NoError(t, j.Reserve(30))                             // a clean stop: exactly what was handed out
	require.NoError(t, j.Close())

	_, st = openT(t, dir, Options{}, defaultTuning)
	assert.Equal(t, 30, st.Reserved(), "the latest reservation counts")
	assert.True(t, st.Sent(1), "failed: it was sent")
	assert.False(t, st.Sent(2), "created: done, not sent again")
	assert.True(t, st.Sent(30), "within the reservation")
	assert.False(t, st.Sent(31), "beyond it, with no record")
	assert.True(t, st.Sent(41), "in flight")

	j, _ = openT(t, dir, Options{}, defaultTuning)
	for range 4 { // superseded outcomes enough for Finish to compact
		for row := 3; row <= 41; row++ {
			require.NoError(t, j.Record(testOutcome(row, StatusCreated, 0)))
		}
	}
	require.NoError(t, j.Record(testOutcome(1, StatusFailed, 1)))
	require.NoError(t, j.Sync())
	records := func() int { j.mu.Lock(); defer j.mu.Unlock(); return j.records }
	before := records()
	require.NoError(t, j.Finish(41, 0))
	assert.Less(t, records(), before, "compacted")
	require.NoError(t, j.Close())
	_, st = openT(t, dir, Options{RetryFailed: true}, defaultTuning)
	assert.Equal(t, 30, st.Reserved(), "compaction keeps the reservation")
	assert.True(t, st.Sent(1))
}

func TestRecordRejectsInvalidOutcomes(t *testing.T) {
	j, _ := openT(t, t.TempDir(), Options{}, defaultTuning)
	tests := []struct {
		name string
		o    Outcome
	}{
		{"row zero", Outcome{Row: 0, Status: StatusCreated}},
		{"row too large", Outcome{Row: MaxRow + 1, Status: StatusCreated}},
		{"no status", Outcome{Row: 1}},
		{"unknown status", Outcome{Row: 1, Status: 9}},
		{"negative attempts", Outcome{Row: 1, Status: StatusFailed, Attempts: -1}},
		{"huge reference", Outcome{Row: 1, Status: StatusCreated, Ref: string(make([]byte, maxBody))}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.Error(t, j.Record(tt.o))
		})
	}
	assert.Error(t, j.Start(0, 0, 0))
	assert.Error(t, j.Finish(-1, 0))
	assert.NoError(t, j.Err(), "a refused call does not break the journal")
}

func TestLongErrorIsClipped(t *testing.T) {
	dir := t.TempDir()
	j, _ := openT(t, dir, Options{}, defaultTuning)
	o := testOutcome(1, StatusFailed, 0)
	o.Error = string(make([]byte, maxErrorText-3)) + "ééé" // the cut falls inside a two-byte rune
	require.NoError(t, j.Record(o))
	got := collect(t, j)
	require.Len(t, got, 1)
	assert.LessOrEqual(t, len(got[0].Error), maxErrorText)
	assert.Contains(t, got[0].Error, "(cut)")
	assert.True(t, utf8Valid(got[0].Error))
}

func utf8Valid(s string) bool {
	for _, r := range s {
		if r == 0xFFFD {
			return false
		}
	}
	return true
}

func TestCloseMakesQueuedRecordsDurable(t *testing.T) {
	dir := t.TempDir()
	j, _, err := Open(dir, testBinding, Options{CommitEvery: time.Hour})
	require.NoError(t, err)
	for r := 1; r <= 10; r++ {
		require.NoError(t, j.Record(testOutcome(r, StatusCreated, 0)))
	}
	require.NoError(t, j.Close())
	require.NoError(t, j.Close(), "Close twice")
	assert.ErrorIs(t, j.Record(testOutcome(11, StatusCreated, 0)), ErrClosed)
	assert.ErrorIs(t, j.Sync(), nil, "nothing queued")

	_, st := openT(t, dir, Options{}, defaultTuning)
	assert.Equal(t, 11, st.ResumeRow)
}

// TestResumedRuns plays an importer over several interrupted runs, with workers finishing out of order,
// and checks that every row ends up with exactly one line, its latest outcome.
func TestResumedRuns(t *testing.T) {
	const rows = 500
	dir := t.TempDir()
	rng := rand.New(rand.NewPCG(1, 2))
	final := map[int]Outcome{}
	for run := 0; ; run++ {
		retry := run >= 3
		j, st := openT(t, dir, Options{CommitEvery: time.Millisecond, RetryFailed: retry}, defaultTuning)
		if st.Complete {
			break
		}
		require.Less(t, run, 20, "the job never completes")
		stopAt := rows + 1
		if run < 3 {
			stopAt = st.ResumeRow + rng.IntN(rows/2)
		}
		var wg sync.WaitGroup
		jobs := make(chan int)
		var mu sync.Mutex
		for range 4 {
			wg.Go(func() {
				for r := range jobs {
					require.NoError(t, j.Start(r, rowOffset(r), rowOffset(r+1)))
					st := StatusCreated
					if r%17 == 0 && run < 4 {
						st = StatusFailed
					}
					o := testOutcome(r, st, run)
					require.NoError(t, j.Record(o))
					mu.Lock()
					final[r] = o
					mu.Unlock()
				}
			})
		}
		for r := st.ResumeRow; r < stopAt && r <= rows; r++ {
			if !st.Done(r) {
				jobs <- r
			}
		}
		close(jobs)
		wg.Wait()
		if stopAt > rows {
			require.NoError(t, j.Finish(rows, 0))
		}
		require.NoError(t, j.Close())
	}
	j, st := openT(t, dir, Options{}, defaultTuning)
	assert.True(t, st.Complete)
	got := collect(t, j)
	require.Len(t, got, rows)
	for i, o := range got {
		require.Equal(t, i+1, o.Row)
		require.Equal(t, final[o.Row], o)
	}
}

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

	breakWrites(t, j)
	require.NoError(t, j.Record(testOutcome(5, StatusCreated, 2)))
	require.NoError(t, j.Record(testOutcome(7, StatusCreated, 0)))
	require.Error(t, j.Sync())
	assert.Equal(t, d, j.Durable(), "the failed batch counts for nothing")

	// What the next run finds is what Durable said.
	require.Error(t, j.Close())
	_, st := openT(t, dir, Options{}, defaultTuning)
	assert.Equal(t, d.Counts, st.Counts)
}

// breakWrites makes the journal's writes fail from now on, for real: its file is swapped for a read-only
// descriptor on the same file, whose writes the kernel refuses.
func breakWrites(t *testing.T, j *Journal) {
	t.Helper()
	ro, err := os.Open(j.path)
	require.NoError(t, err)
	j.mu.Lock()
	rw := j.f
	j.f = ro
	j.mu.Unlock()
	t.Cleanup(func() { rw.Close() })
}
