package mapping

import (
	"runtime"
	"strconv"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestSeen(t *testing.T) {
	s := NewSeen()
	first, dup := s.check("crm-1", 5)
	assert.Equal(t, 5, first)
	assert.False(t, dup)

	first, dup = s.check("crm-1", 9)
	assert.True(t, dup, "a later row with the same reference is the duplicate")
	assert.Equal(t, 5, first)

	first, dup = s.check("crm-1", 5)
	assert.False(t, dup, "checking the same row again is not a duplicate")
	assert.Equal(t, 5, first)

	// A resume seeds the set from the journal in any order: the smallest row keeps the reference.
	first, dup = s.check("crm-1", 2)
	assert.False(t, dup)
	assert.Equal(t, 2, first)
	first, dup = s.check("crm-1", 5)
	assert.True(t, dup)
	assert.Equal(t, 2, first)

	_, dup = s.check("crm-2", 9)
	assert.False(t, dup, "another reference")
	_, dup = s.check("CRM-2", 10)
	assert.False(t, dup, "references are compared exactly")
	assert.Equal(t, 3, s.count())
}

func TestSeenMany(t *testing.T) {
	s := NewSeen()
	n := 100_000
	for i := 1; i <= n; i++ {
		if _, dup := s.check("crm-"+strconv.Itoa(i), i); dup {
			t.Fatalf("row %d reported as a duplicate", i)
		}
	}
	for i := 1; i <= n; i += 997 {
		first, dup := s.check("crm-"+strconv.Itoa(i), n+i)
		assert.True(t, dup)
		assert.Equal(t, i, first)
	}
	assert.Equal(t, n, s.count())
}

// BenchmarkSeen checks a million distinct references and reports the heap each one keeps.
func BenchmarkSeen(b *testing.B) {
	const n = 1_000_000
	refs := make([]string, n)
	for i := range refs {
		refs[i] = "crm-" + strconv.Itoa(1_000_000+i)
	}
	b.ReportAllocs()
	var perEntry float64
	for b.Loop() {
		b.StopTimer()
		var before, after runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&before)
		b.StartTimer()
		s := NewSeen()
		for i, ref := range refs {
			s.check(ref, i+1)
		}
		b.StopTimer()
		runtime.GC()
		runtime.ReadMemStats(&after)
		perEntry = float64(after.HeapAlloc-before.HeapAlloc) / n
		runtime.KeepAlive(s)
		b.StartTimer()
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*n), "ns/ref")
	b.ReportMetric(perEntry, "bytes/ref")
}

// TestSeenRemembersARejectedFirstRow: a repeat says whether the row it repeats was itself rejected, also
// when a resumed import seeds the rows in another order.
func TestSeenRemembersARejectedFirstRow(t *testing.T) {
	s := NewSeen()
	first, rejected, dup := s.CheckRow("crm-1", 4, true)
	assert.Equal(t, 4, first)
	assert.True(t, rejected)
	assert.False(t, dup)
	first, rejected, dup = s.CheckRow("crm-1", 9, false)
	assert.Equal(t, 4, first)
	assert.True(t, rejected, "the first row was rejected")
	assert.True(t, dup)
	_, rejected, _ = s.CheckRow("crm-1", 2, false) // a smaller row, seeded later, that was sent
	assert.False(t, rejected)
	first, rejected, dup = s.CheckRow("crm-1", 9, false)
	assert.Equal(t, 2, first)
	assert.False(t, rejected, "the smallest row decides")
	assert.True(t, dup)
	for i := range 5000 { // through the table's growth
		s.CheckRow("r-"+strconv.Itoa(i), i+10, i%2 == 0)
	}
	for i := range 5000 {
		first, rejected, dup := s.CheckRow("r-"+strconv.Itoa(i), 1<<20, false)
		require.True(t, dup)
		require.Equal(t, i+10, first)
		require.Equal(t, i%2 == 0, rejected, "row %d", i+10)
	}
}

// check records that row uses ref, as CheckRow does for a row without a problem of its own.
func (s *Seen) check(ref string, row int) (firstRow int, dup bool) {
	first, _, dup := s.CheckRow(ref, row, false)
	return first, dup
}

// count returns the number of distinct references recorded.
func (s *Seen) count() int { return s.n }
