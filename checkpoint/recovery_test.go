package checkpoint

import (
	"bytes"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// sample is a journal written from ops, with the end offset of each of its records.
type sample struct {
	raw       []byte
	ops       []op
	headerEnd int64
	ends      []int64 // ends[i]: where record i (ops[i]) ends
}

func (s *sample) start(i int) int64 {
	if i == 0 {
		return s.headerEnd
	}
	return s.ends[i-1]
}

// recordAt returns the index of the record holding byte pos.
func (s *sample) recordAt(pos int64) int {
	for i, e := range s.ends {
		if pos < e {
			return i
		}
	}
	return -1
}

func newSample(t *testing.T, ops []op) *sample {
	t.Helper()
	dir := t.TempDir()
	writeJournal(t, dir, ops)
	raw, err := os.ReadFile(journalPath(dir))
	require.NoError(t, err)
	s := &sample{raw: raw, ops: ops}
	sc := newScanner(bytes.NewReader(raw), int64(len(raw)), newSalt([8]byte(raw[8:16])), preludeSize)
	_, _, ok, err := sc.next()
	require.True(t, ok)
	require.NoError(t, err)
	s.headerEnd = sc.pos
	res, err := scanRecords(sc, func(_ *frame, _ int64) error {
		s.ends = append(s.ends, sc.pos)
		return nil
	})
	require.NoError(t, err)
	require.Equal(t, int64(len(raw)), res.end)
	require.Len(t, s.ends, len(ops))
	return s
}

func sampleOps() []op {
	ops := randomOps(rand.New(rand.NewPCG(5, 5)), 20, 2)
	// End with each kind of record, in-flight and finish included, and an error text with a marker in it.
	o := testOutcome(3, StatusFailed, 1)
	o.Error = "bytes " + string(marker[:]) + " inside a value"
	return append(ops, startOp(21), outcomeOp(o), finishOp(21, 1), startOp(22), outcomeOp(testOutcome(21, StatusCreated, 4)), startOp(23))
}

// openRaw writes raw as a journal in a new directory and opens it.
func openRaw(t *testing.T, raw []byte, opts Options) (string, *Journal, *State, error) {
	t.Helper()
	dir := t.TempDir()
	require.NoError(t, os.WriteFile(journalPath(dir), raw, 0o600))
	j, st, err := Open(dir, testBinding, opts)
	if err == nil {
		t.Cleanup(func() { j.Close() })
	}
	return dir, j, st, err
}

// checkRecovered checks a recovered journal against the ops it should have kept, then that a second
// Open finds it clean and the same.
func checkRecovered(t *testing.T, dir string, j *Journal, st *State, kept []op) {
	t.Helper()
	m := newModel(kept)
	m.check(t, st, false)
	m.checkOutcomes(t, j)
	require.NoError(t, j.Close())
	j2, st2, err := Open(dir, testBinding, Options{})
	require.NoError(t, err)
	defer j2.Close()
	assert.Empty(t, st2.Repaired, "second Open after the repair")
	m.check(t, st2, false)
}

// TestTruncatedAtEveryByte cuts the journal at every byte of its last records, as a crash in the middle
// of a write would, and checks that exactly the whole records before the cut are kept.
func TestTruncatedAtEveryByte(t *testing.T) {
	s := newSample(t, sampleOps())
	const last = 6
	n := len(s.ends)
	for cut := s.start(n - last); cut <= int64(len(s.raw)); cut++ {
		t.Run(fmt.Sprint(cut), func(t *testing.T) {
			kept := 0
			for kept < n && s.ends[kept] <= cut {
				kept++
			}
			dir, j, st, err := openRaw(t, s.raw[:cut], Options{})
			require.NoError(t, err)
			if boundary := s.start(kept); cut == boundary {
				assert.Empty(t, st.Repaired)
			} else {
				assert.Equal(t, fmt.Sprintf("checkpoint: cut %d damaged bytes at offset %d, the tail of a write that the interruption cut short; the %d records before it are intact",
					cut-boundary, boundary, kept), st.Repaired)
			}
			checkRecovered(t, dir, j, st, s.ops[:kept])
			fi, err := os.Stat(journalPath(dir))
			require.NoError(t, err)
			assert.Equal(t, s.start(kept), fi.Size(), "truncated to the last whole record")
		})
	}
}

// TestCorruptedAtEveryByte flips every byte of the last records (all its bits, or one bit, in turn).
// Damage in the last record is a torn tail and is cut; damage in an earlier record is skipped, the records
// after it are kept, and the journal is rewritten without it.
func TestCorruptedAtEveryByte(t *testing.T) {
	s := newSample(t, sampleOps())
	const last = 6
	n := len(s.ends)
	for pos := s.start(n - last); pos < int64(len(s.raw)); pos++ {
		mask := byte(0xFF)
		if pos%2 == 1 {
			mask = 1 << (pos / 2 % 8)
		}
		t.Run(fmt.Sprintf("%d^%02x", pos, mask), func(t *testing.T) {
			raw := bytes.Clone(s.raw)
			raw[pos] ^= mask
			bad := s.recordAt(pos)
			dir, j, st, err := openRaw(t, raw, Options{})
			require.NoError(t, err)
			kept := append(append([]op{}, s.ops[:bad]...), s.ops[bad+1:]...)
			if bad == n-1 {
				assert.Contains(t, st.Repaired, fmt.Sprintf("cut %d damaged bytes at offset %d", int64(len(raw))-s.start(bad), s.start(bad)))
				assert.NoFileExists(t, filepath.Join(dir, DamagedFile))
			} else {
				assert.Contains(t, st.Repaired, fmt.Sprintf("skipped %d damaged bytes in 1 place (the first at offset %d)", s.ends[bad]-s.start(bad), s.start(bad)))
				assert.Contains(t, st.Repaired, fmt.Sprintf("kept the %d intact records", n-1))
				damaged, err := os.ReadFile(filepath.Join(dir, DamagedFile))
				require.NoError(t, err)
				assert.Equal(t, raw, damaged, "the damaged journal is kept as it was")
				assert.Equal(t, os.FileMode(0o600), fileMode(t, filepath.Join(dir, DamagedFile)))
			}
			checkRecovered(t, dir, j, st, kept)
		})
	}
}

func TestDamageInSeveralPlaces(t *testing.T) {
	s := newSample(t, sampleOps())
	n := len(s.ends)
	raw := bytes.Clone(s.raw)
	raw[s.start(5)+7] ^= 0x10    // record 5's checksum
	raw[s.start(n-4)+14] ^= 0x01 // a payload byte of a later record
	raw = raw[:len(raw)-2]       // and a torn tail
	dir, j, st, err := openRaw(t, raw, Options{})
	require.NoError(t, err)
	assert.Contains(t, st.Repaired, "in 3 places (the first at offset "+fmt.Sprint(s.start(5)))
	var kept []op
	for i, o := range s.ops {
		if i != 5 && i != n-4 && i != n-1 {
			kept = append(kept, o)
		}
	}
	checkRecovered(t, dir, j, st, kept)
}

func TestTailOfZerosOrForeignRecords(t *testing.T) {
	s := newSample(t, sampleOps())
	other := newSample(t, []op{startOp(99), outcomeOp(testOutcome(99, StatusCreated, 0))})
	tests := []struct {
		name string
		tail []byte
	}{
		{"zeros after a power loss", make([]byte, 4096)},
		{"records of another journal", other.raw[other.headerEnd:]},
		{"a lone marker", marker[:]},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			raw := append(bytes.Clone(s.raw), tt.tail...)
			dir, j, st, err := openRaw(t, raw, Options{})
			require.NoError(t, err)
			assert.Contains(t, st.Repaired, fmt.Sprintf("cut %d damaged bytes at offset %d", len(tt.tail), len(s.raw)))
			checkRecovered(t, dir, j, st, s.ops)
		})
	}
}

// TestUnreadableJournalIsRefusedAndLeftAlone covers damage that makes the job's binding unknowable.
func TestUnreadableJournalIsRefusedAndLeftAlone(t *testing.T) {
	s := newSample(t, sampleOps())
	flip := func(pos int) []byte { b := bytes.Clone(s.raw); b[pos] ^= 0xFF; return b }
	newer := bytes.Clone(s.raw)
	newer[7] = 2
	tests := []struct {
		name, want string
		raw        []byte
	}{
		{"too short", "too short", s.raw[:5]},
		{"not a journal", "not a zentra-import checkpoint journal", []byte("row,external_reference\n1,crm-1\n")},
		{"newer format", "journal format 2", newer},
		{"damaged salt", "header record is damaged", flip(10)},
		{"damaged header", "header record is damaged", flip(preludeSize + 20)},
		{"header cut", "header record is damaged", s.raw[:s.headerEnd-1]},
		{"prelude only", "header record is damaged", s.raw[:preludeSize]},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir, _, _, err := openRaw(t, tt.raw, Options{})
			var ce *CorruptError
			require.ErrorAs(t, err, &ce)
			assert.Contains(t, err.Error(), tt.want)
			if tt.name == "not a journal" {
				assert.Contains(t, ce.Hint(), "not the job's", "--restart would refuse to remove it")
			} else {
				assert.Contains(t, ce.Hint(), "--restart")
			}
			after, rerr := os.ReadFile(journalPath(dir))
			require.NoError(t, rerr)
			assert.Equal(t, tt.raw, after, "a journal that cannot be read is not changed")
		})
	}
}

func TestJournalKeepsWorkingAfterRepair(t *testing.T) {
	s := newSample(t, sampleOps())
	raw := bytes.Clone(s.raw)
	raw[s.start(3)+20] ^= 0x55
	dir, j, _, err := openRaw(t, raw, Options{})
	require.NoError(t, err)
	more := []op{startOp(30), outcomeOp(testOutcome(30, StatusCreated, 9))}
	apply(t, j, more)
	require.NoError(t, j.Close())
	kept := append(append(append([]op{}, s.ops[:3]...), s.ops[4:]...), more...)
	j, st, err := Open(dir, testBinding, Options{})
	require.NoError(t, err)
	defer j.Close()
	assert.Empty(t, st.Repaired)
	m := newModel(kept)
	m.check(t, st, false)
	m.checkOutcomes(t, j)
}

func TestCorruptionAppearingWhileOpenIsReported(t *testing.T) {
	dir := t.TempDir()
	j, _ := openT(t, dir, Options{}, defaultTuning)
	apply(t, j, []op{startOp(1), outcomeOp(testOutcome(1, StatusCreated, 0)), startOp(2), outcomeOp(testOutcome(2, StatusCreated, 0))})
	require.NoError(t, j.Sync())
	f, err := os.OpenFile(journalPath(dir), os.O_RDWR, 0)
	require.NoError(t, err)
	fi, err := f.Stat()
	require.NoError(t, err)
	_, err = f.WriteAt([]byte{0xEE}, fi.Size()-40) // a disk going bad under a running job
	require.NoError(t, err)
	require.NoError(t, f.Close())
	err = j.Outcomes(func(Outcome) error { return nil })
	var ce *CorruptError
	require.True(t, errors.As(err, &ce), "got %v", err)
	assert.Contains(t, err.Error(), "sound when opened")
}
