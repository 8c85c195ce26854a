package mapping

import (
	"hash/maphash"
	"math"
)

// Seen detects a repeated external_reference within one input. It keeps a 96-bit digest of each reference
// (never the reference itself) and the smallest row that used it, in an open-addressing table of 16-byte
// slots, so its memory does not depend on how long references are: 18 to 37 bytes per reference, about 34
// for a million (see BenchmarkSeen). Two different references share a digest with a probability below
// 10⁻¹⁷ for a million rows.
//
// Seen is not safe for concurrent use; the importer checks rows in one goroutine, in order.
type Seen struct {
	seed1, seed2 maphash.Seed
	slots        []seenSlot // a power of two; row 0 marks a free slot
	n            int
}

// seenSlot is 96 bits of two independent 64-bit hashes of a reference, and the smallest row that used it.
type seenSlot struct {
	lo  uint64
	hi  uint32
	row uint32
}

// NewSeen returns an empty set.
func NewSeen() *Seen {
	return &Seen{seed1: maphash.MakeSeed(), seed2: maphash.MakeSeed(), slots: make([]seenSlot, 1024)}
}

// Check records that row uses ref. If a smaller row already used it, Check returns that row and true:
// row is the duplicate. Otherwise it remembers row (replacing a larger one, since a resumed import seeds
// the set from its journal in any order) and returns (row, false). Rows are 1-based and at most 2³²-1.
func (s *Seen) Check(ref string, row int) (firstRow int, dup bool) {
	lo := maphash.String(s.seed1, ref)
	hi := uint32(maphash.String(s.seed2, ref))
	r := uint32(min(max(row, 1), math.MaxUint32))
	slot := s.find(lo, hi)
	switch {
	case slot.row == 0:
		*slot = seenSlot{lo: lo, hi: hi, row: r}
		s.n++
		if s.n*4 > len(s.slots)*3 {
			s.grow()
		}
	case slot.row < r:
		return int(slot.row), true
	default:
		slot.row = r
	}
	return row, false
}

// Len returns the number of distinct references recorded.
func (s *Seen) Len() int { return s.n }

// find returns the slot holding the digest, or the free slot where it belongs (linear probing).
func (s *Seen) find(lo uint64, hi uint32) *seenSlot {
	mask := uint64(len(s.slots) - 1)
	for i := lo & mask; ; i = (i + 1) & mask {
		slot := &s.slots[i]
		if slot.row == 0 || (slot.lo == lo && slot.hi == hi) {
			return slot
		}
	}
}

func (s *Seen) grow() {
	old := s.slots
	s.slots = make([]seenSlot, 2*len(old))
	for _, slot := range old {
		if slot.row != 0 {
			*s.find(slot.lo, slot.hi) = slot
		}
	}
}
