package checkpoint

import (
	"bufio"
	"crypto/rand"
	mrand "math/rand/v2"
	"os"
	"runtime"
	"strconv"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/zentra/zentra-import/atomicfile"
)

func TestFinishCompactsASupersededJournal(t *testing.T) {
	dir := t.TempDir()
	const rows = 300
	var ops []op
	for r := 1; r <= rows; r++ {
		ops = append(ops, startOp(r), outcomeOp(testOutcome(r, StatusFailed, 0)))
	}
	for r := 1; r <= rows; r++ {
		ops = append(ops, startOp(r), outcomeOp(testOutcome(r, StatusCreated, 1)))
	}
	ops = append(ops, startOp(rows+1)) // in flight, beyond the rows the finish counts
	j, _ := openT(t, dir, Options{}, defaultTuning)
	apply(t, j, ops)
	require.NoError(t, j.Sync())
	before, err := os.Stat(journalPath(dir))
	require.NoError(t, err)
	require.NoError(t, j.Finish(rows, 0))
	after, err := os.Stat(journalPath(dir))
	require.NoError(t, err)
	assert.Less(t, after.Size(), before.Size()/3, "one record per row instead of four")
	j.mu.Lock()
	assert.Equal(t, rows+2, j.records, "an outcome per row, the in-flight row, the finish")
	j.mu.Unlock()

	m := newModel(append(ops, finishOp(rows, 0)))
	m.checkOutcomes(t, j)
	// The journal goes on after compaction.
	more := []op{outcomeOp(testOutcome(rows+1, StatusCreated, 2))}
	apply(t, j, more)
	require.NoError(t, j.Close())
	m = newModel(append(append(ops, finishOp(rows, 0)), more...))
	j2, st := openT(t, dir, Options{}, defaultTuning)
	assert.Empty(t, st.Repaired)
	m.records = 1
	m.check(t, st, false)
	m.checkOutcomes(t, j2)
	assert.NoFileExists(t, journalPath(dir)+atomicfile.TempMark)
	entries, err := os.ReadDir(dir)
	require.NoError(t, err)
	require.Len(t, entries, 1)
	assert.Equal(t, JournalFile, entries[0].Name())
}

// writeBigJournal writes a journal the way eight workers over rows 1..done would (each row in flight,
// then its outcome, out of order within a window of eight), then leaves inFlight rows in flight, then
// (retry) re-sends every 50th row with a newer outcome.
func writeBigJournal(tb testing.TB, dir string, done, inFlight int, retry bool) {
	tb.Helper()
	var raw [8]byte
	_, _ = rand.Read(raw[:])
	s := newSalt(raw)
	f, err := os.OpenFile(journalPath(dir), os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o600)
	require.NoError(tb, err)
	w := bufio.NewWriterSize(f, 1<<20)
	var buf []byte
	flush := func() {
		_, err := w.Write(buf)
		require.NoError(tb, err)
		buf = buf[:0]
	}
	buf = appendHeaderRecord(appendPrelude(buf, s), s, testBinding)
	rng := mrand.New(mrand.NewPCG(9, 9))
	var ref, id []byte
	outcome := func(r int, st Status) *Outcome {
		ref = strconv.AppendInt(append(ref[:0], "crm-"...), int64(r), 10)
		id = strconv.AppendInt(append(id[:0], "cus_01HZX3ABCDEFGH"...), int64(r), 10)
		return &Outcome{Row: r, Offset: rowOffset(r), End: rowOffset(r + 1), Ref: string(ref), Status: st,
			CustomerID: string(id), HTTPStatus: 201, Attempts: 1}
	}
	var window [8]int
	for base := 1; base <= done; base += 8 {
		n := min(8, done-base+1)
		for i := range n {
			window[i] = base + i
			buf = appendStartRecord(buf, s, base+i, rowOffset(base+i), rowOffset(base+i+1))
		}
		rng.Shuffle(n, func(a, b int) { window[a], window[b] = window[b], window[a] })
		for _, r := range window[:n] {
			buf = appendOutcomeRecord(buf, s, outcome(r, StatusCreated))
		}
		if len(buf) > 1<<20 {
			flush()
		}
	}
	for r := done + 1; r <= done+inFlight; r++ {
		buf = appendStartRecord(buf, s, r, rowOffset(r), rowOffset(r+1))
	}
	if retry {
		for r := 50; r <= done; r += 50 {
			buf = appendStartRecord(buf, s, r, rowOffset(r), rowOffset(r+1))
			buf = appendOutcomeRecord(buf, s, outcome(r, StatusExisting))
			if len(buf) > 1<<20 {
				flush()
			}
		}
	}
	flush()
	require.NoError(tb, w.Flush())
	require.NoError(tb, f.Close())
}

// peakHeap runs fn and returns the largest HeapInuse seen when fn calls sample, above what was in use
// before it began.
func peakHeap(fn func(sample func())) (base, peak uint64) {
	var ms runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&ms)
	base = ms.HeapInuse
	peak = base
	fn(func() {
		runtime.ReadMemStats(&ms)
		peak = max(peak, ms.HeapInuse)
	})
	return base, peak
}

// TestOutcomesMemoryIsBounded checks that Outcomes over 100,000 rows (with a retry segment, so the
// journal is not in row order) holds a few megabytes, not a record per row (which would be 20 MiB).
func TestOutcomesMemoryIsBounded(t *testing.T) {
	const rows = 100_000
	dir := t.TempDir()
	writeBigJournal(t, dir, rows, 0, true)
	j, st := openT(t, dir, Options{}, defaultTuning)
	require.Equal(t, rows+1, st.ResumeRow)
	n := 0
	base, peak := peakHeap(func(sample func()) {
		require.NoError(t, j.Outcomes(func(o Outcome) error {
			n++
			require.Equal(t, n, o.Row)
			if o.Row%50 == 0 {
				require.Equal(t, StatusExisting, o.Status, "the retry's newer outcome")
			} else {
				require.Equal(t, StatusCreated, o.Status)
			}
			if n%5000 == 0 {
				sample()
			}
			return nil
		}))
	})
	require.Equal(t, rows, n)
	grew := float64(peak-base) / (1 << 20)
	t.Logf("Outcomes over %d rows: heap in use grew by %.1f MiB at most", rows, grew)
	assert.Less(t, grew, 12.0, "memory grows with the rows")
}
