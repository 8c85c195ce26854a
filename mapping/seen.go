package mapping

import (
	"hash/maphash"
	"math"
)

// Seen detects a repeated external_reference within one input. It keeps a 95-bit digest of each reference
// (never the reference itself) and the smallest row that used it, in an open-addressing table of 16-byte
// slots, so its memory does not depend on how long references are: 18 to 37 bytes per reference, about 34
// for a million (see BenchmarkSeen). Two different references share a digest with a probability below
// 10⁻¹⁶ for a million rows.
//
// Seen is not safe for concurrent use; the importer checks rows in one goroutine, in order.
type Seen struct {
	seed1, seed2 maphash.Seed
	slots        []seenSlot // a power of two; row 0 marks a free slot
	n            int
}

// seenSlot is 95 bits of two independent 64-bit hashes of a reference, and the smallest row that used it.
// The top bit of hi says whether that row was rejected for a problem of its own.
type seenSlot struct {
	lo  uint64
	hi  uint32
	row uint32
}

// seenRejected is the bit of seenSlot.hi that marks a rejected first row.
const seenRejected = 1 << 31

// NewSeen returns an empty set.
func NewSeen() *Seen {
	return &Seen{seed1: maphash.MakeSeed(), seed2: maphash.MakeSeed(), slots: make([]seenSlot, 1024)}
}

// CheckRow records that row uses ref; rejected says the row is rejected for a problem of its own. If a
// smaller row already used ref, CheckRow returns that row, whether it was rejected, and true: row is the
// duplicate. Otherwise it remembers row (replacing a larger one, since a resumed import seeds the set from
// its journal in any order) and returns (row, rejected, false). Rows are 1-based and at most 2³²-1.
func (s *Seen) CheckRow(ref string, row int, rejected bool) (firstRow int, firstRejected, dup bool) {
	lo := maphash.String(s.seed1, ref)
	hi := uint32(maphash.String(s.seed2, ref)) &^ seenRejected
	r := uint32(min(max(row, 1), math.MaxUint32))
	mark := hi
	if rejected {
		mark |= seenRejected
	}
	slot := s.find(lo, hi)
	switch {
	case slot.row == 0:
		*slot = seenSlot{lo: lo, hi: mark, row: r}
		s.n++
		if s.n*4 > len(s.slots)*3 {
			s.grow()
		}
	case slot.row < r:
		return int(slot.row), slot.hi&seenRejected != 0, true
	default:
		slot.row, slot.hi = r, mark
	}
	return row, rejected, false
}

// find returns the slot holding the digest, or the free slot where it belongs (linear probing).
func (s *Seen) find(lo uint64, hi uint32) *seenSlot {
	mask := uint64(len(s.slots) - 1)
	for i := lo & mask; ; i = (i + 1) & mask {
		slot := &s.slots[i]
		if slot.row == 0 || (slot.lo == lo && slot.hi&^seenRejected == hi) {
			return slot
		}
	}
}

func (s *Seen) grow() {
	old := s.slots
	s.slots = make([]seenSlot, 2*len(old))
	for _, slot := range old {
		if slot.row != 0 {
			*s.find(slot.lo, slot.hi&^seenRejected) = slot
		}
	}
}
