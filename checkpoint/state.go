package checkpoint

// Per-row state is one nibble: the latest outcome's status in the low three bits (0: no outcome yet) and,
// in the high bit, whether an in-flight record came after that outcome (or there is no outcome at all).
const (
	nibStatus   = 0x7
	nibInFlight = 0x8
)

// rowTable holds one nibble per row number, two rows a byte: half a megabyte for a million rows.
type rowTable struct{ b []byte }

func (t *rowTable) get(row int) uint8 {
	i := row >> 1
	if row < 0 || i >= len(t.b) {
		return 0
	}
	return t.b[i] >> (uint(row&1) * 4) & 0xF
}

func (t *rowTable) set(row int, v uint8) {
	i := row >> 1
	if i >= len(t.b) {
		n := max(2*len(t.b), i+1, 1024)
		grown := make([]byte, n)
		copy(grown, t.b)
		t.b = grown
	}
	shift := uint(row&1) * 4
	t.b[i] = t.b[i]&^(0xF<<shift) | v<<shift
}

// rows is the number of row slots the table can hold (rows beyond it have no state).
func (t *rowTable) rows() int { return 2 * len(t.b) }

// State is what a journal says about a job when it is opened: where to resume and what is done.
type State struct {
	// Fresh is true when the journal was created by this Open or holds nothing but its header.
	Fresh bool
	// ResumeRow is the first row that is not Done (the low-water mark): every row before it is Done.
	ResumeRow int
	// ResumeOffset is where ResumeRow starts in the input, to seek to: the Offset of one of its own records,
	// or the End of row ResumeRow-1. -1 means from the first data record (nothing before it is known).
	ResumeOffset int64
	// InFlight counts rows whose latest record says they were being sent: the request may have reached
	// the API, but no outcome is known. They are not Done and are sent again with the same Idempotency-Key.
	InFlight int
	// Counts has the latest status of every Done row.
	Counts map[Status]int
	// Complete is true when a Finish record comes after the last outcome and every row 1..TotalRows is
	// Done under this Open's options: the job is finished and a run has nothing to send.
	Complete bool
	// TotalRows and ExitCode are from the latest Finish record (zero if there is none).
	TotalRows, ExitCode int
	// Repaired describes, in one line, damage found and repaired at Open; "" if there was none.
	Repaired string
	// LastRow is the highest row with any record (in flight or an outcome), 0 if none; LastOffset and
	// LastEnd are its positions in the input. A job whose input grew checks that this row still ends
	// where it did before it continues with the new rows (see Journal.Rebind).
	LastRow             int
	LastOffset, LastEnd int64

	rows        rowTable
	retryFailed bool
	reserved    int // the latest reservation (Journal.Reserve): rows up to it may have been sent
}

// Done reports whether a row needs nothing more: it has an outcome, one that RetryFailed sends again
// (failed, conflict) only when the journal was opened without it, and no in-flight record follows it.
func (s *State) Done(row int) bool {
	if row < 1 {
		return false
	}
	return s.done(s.rows.get(row))
}

func (s *State) done(v uint8) bool {
	st := Status(v & nibStatus)
	return st != 0 && v&nibInFlight == 0 && (!st.Retried() || !s.retryFailed)
}

// Sent reports whether an earlier run of the job may have sent the row's request: the journal says it was
// in flight, or its outcome was failed or conflict, which only requests give, or it has no outcome and
// lies within the latest reservation (Journal.Reserve), within which a run that was killed may have sent
// rows whose in-flight records never reached the disk. An answer the API replays to a row no run of this
// job sent was another job's.
func (s *State) Sent(row int) bool {
	if row < 1 {
		return false
	}
	v := s.rows.get(row)
	return v&nibInFlight != 0 || Status(v&nibStatus).Retried() || v&nibStatus == 0 && row <= s.reserved
}

// Reserved is the latest reservation the journal holds (0: none): a run reserves at or above it.
func (s *State) Reserved() int { return s.reserved }

// hasOutcome reports whether the journal held an outcome for the row when it was opened.
func (s *State) hasOutcome(row int) bool {
	return row >= 1 && s.rows.get(row)&nibStatus != 0
}

// tally fills Counts, InFlight and ResumeRow from the row table.
func (s *State) tally() {
	var counts [nibStatus + 1]int
	s.ResumeRow = 0
	for row := 1; row < s.rows.rows(); row++ {
		v := s.rows.get(row)
		if v&nibInFlight != 0 {
			s.InFlight++
		}
		if s.done(v) {
			counts[v&nibStatus]++
		} else if s.ResumeRow == 0 {
			s.ResumeRow = row
		}
	}
	s.Counts = map[Status]int{}
	for st, n := range counts {
		if n > 0 {
			s.Counts[Status(st)] = n
		}
	}
	if s.ResumeRow == 0 {
		s.ResumeRow = max(s.rows.rows(), 1)
	}
}
