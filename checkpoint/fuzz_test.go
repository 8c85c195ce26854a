package checkpoint

import (
	"bytes"
	"encoding/binary"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"
)

// FuzzOpen feeds arbitrary bytes to Open as a journal. It must never panic; it either refuses the file or
// recovers it, and a journal it recovered opens clean the second time, with the same state.
func FuzzOpen(f *testing.F) {
	dir := f.TempDir()
	j, _, err := open(dir, testBinding, Options{}, noCompaction)
	if err != nil {
		f.Fatal(err)
	}
	for _, o := range randomOps(rand.New(rand.NewPCG(1, 1)), 6, 2) {
		switch o.kind {
		case recStart:
			j.Start(o.row, rowOffset(o.row), rowOffset(o.row+1))
		case recOutcome:
			j.Record(o.o)
		case recFinish:
			j.Finish(o.total, o.code)
		}
	}
	j.Close()
	valid, err := os.ReadFile(journalPath(dir))
	if err != nil {
		f.Fatal(err)
	}
	f.Add(valid)
	f.Add(valid[:len(valid)-3])
	f.Add(valid[:preludeSize])
	f.Add(append(bytes.Clone(valid), make([]byte, 64)...))
	mid := bytes.Clone(valid)
	mid[len(mid)/2] ^= 0x40
	f.Add(mid)
	f.Add([]byte{})
	f.Add([]byte(magic))

	f.Fuzz(func(t *testing.T, data []byte) {
		dir := t.TempDir()
		if err := os.WriteFile(journalPath(dir), data, 0o600); err != nil {
			t.Fatal(err)
		}
		j, st, err := open(dir, testBinding, Options{}, tinyTuning)
		if err != nil {
			return
		}
		var n int
		if err := j.Outcomes(func(Outcome) error { n++; return nil }); err != nil {
			t.Fatalf("Outcomes after a successful Open: %v", err)
		}
		j.Close()
		j2, st2, err := open(dir, testBinding, Options{}, tinyTuning)
		if err != nil {
			t.Fatalf("second Open: %v", err)
		}
		defer j2.Close()
		if st2.Repaired != "" {
			t.Fatalf("second Open repaired again: %s (first: %s)", st2.Repaired, st.Repaired)
		}
		if st.ResumeRow != st2.ResumeRow || st.InFlight != st2.InFlight || st.Complete != st2.Complete || len(st.Counts) != len(st2.Counts) {
			t.Fatalf("state changed between Opens: %+v vs %+v", st, st2)
		}
	})
}

// fuzzMaxRow bounds the rows FuzzJournalRecords writes: Open and Outcomes do a little work per row up to
// the largest (half a byte, and an index entry), so one record for row 2³¹-1 spends the run on that and
// reads to the fuzzer as a hang. Damage never makes such a record: it would need the salted checksum.
const fuzzMaxRow = 1 << 16

// FuzzJournalRecords frames arbitrary payloads as records with good checksums (which random bytes almost
// never have), so that the fuzzer reaches the payload decoder, the state, Outcomes and compaction. data
// is a series of [type][length][payload] chunks; a payload that does not decode must be treated as damage.
func FuzzJournalRecords(f *testing.F) {
	s := newSalt([8]byte{1, 2, 3, 4, 5, 6, 7, 8})
	seed := func(records ...[]byte) []byte {
		var data []byte
		for _, r := range records {
			data = append(data, r[recHeaderSize], byte(len(r)-recHeaderSize-1))
			data = append(data, r[recHeaderSize+1:]...)
		}
		return data
	}
	o := testOutcome(2, StatusCreated, 1)
	f.Add(seed(appendStartRecord(nil, s, 1, 100, 200), appendOutcomeRecord(nil, s, &o), appendFinishRecord(nil, s, 2, 1)))
	f.Add(seed(appendStartRecord(nil, s, 3, -1, 1<<40), appendFinishRecord(nil, s, 0, -1)))
	f.Add([]byte{'O', 3, 1, 2, 3})

	f.Fuzz(func(t *testing.T, data []byte) {
		raw := appendHeaderRecord(appendPrelude(nil, s), s, testBinding)
		for len(data) >= 2 {
			typ, n := data[0], int(data[1])
			data = data[2:]
			n = min(n, len(data))
			if row, w := binary.Uvarint(data[:n]); (typ == byte(recStart) || typ == byte(recOutcome)) && w > 0 && row > fuzzMaxRow {
				data = data[n:]
				continue
			}
			var start int
			raw, start = beginRecord(raw, recType(typ))
			raw = append(raw, data[:n]...)
			raw = endRecord(raw, start, s)
			data = data[n:]
		}
		dir := t.TempDir()
		if err := os.WriteFile(journalPath(dir), raw, 0o600); err != nil {
			t.Fatal(err)
		}
		j, st, err := open(dir, testBinding, Options{}, tinyTuning)
		if err != nil {
			t.Fatalf("Open of a journal with a sound header: %v", err)
		}
		defer j.Close()
		prev := 0
		if err := j.Outcomes(func(o Outcome) error {
			if o.Row <= prev || !o.Status.valid() {
				t.Fatalf("outcome %+v after row %d", o, prev)
			}
			prev = o.Row
			return nil
		}); err != nil {
			t.Fatalf("Outcomes: %v", err)
		}
		if st.ResumeRow < 1 || (st.ResumeRow > 1 && !st.Done(st.ResumeRow-1)) || st.Done(st.ResumeRow) {
			t.Fatalf("ResumeRow %d is not the first row not done", st.ResumeRow)
		}
	})
}

// FuzzPreviousIDs feeds arbitrary bytes to PreviousIDs as checkpoint.previous: it never fails on content
// and never panics; whatever it keeps, it finds.
func FuzzPreviousIDs(f *testing.F) {
	dir := f.TempDir()
	j, _, err := open(dir, testBinding, Options{}, noCompaction)
	if err != nil {
		f.Fatal(err)
	}
	for r := 1; r <= 4; r++ {
		j.Record(testOutcome(r, []Status{StatusCreated, StatusExisting}[r%2], r))
	}
	j.Close()
	if err := Forget(dir); err != nil {
		f.Fatal(err)
	}
	valid, err := os.ReadFile(filepath.Join(dir, PreviousFile))
	if err != nil {
		f.Fatal(err)
	}
	f.Add(valid)
	f.Add(valid[:len(valid)-5])
	mid := bytes.Clone(valid)
	mid[len(mid)/2] ^= 0x10
	f.Add(mid)
	f.Add([]byte(magic + "\x00\x01"))
	f.Add([]byte{})

	f.Fuzz(func(t *testing.T, data []byte) {
		dir := t.TempDir()
		if err := os.WriteFile(filepath.Join(dir, PreviousFile), data, 0o600); err != nil {
			t.Fatal(err)
		}
		x, err := PreviousIDs(dir, testBinding.APIURL)
		if err != nil {
			t.Fatalf("PreviousIDs failed on content: %v", err)
		}
		for i := range x.Len() {
			if id := x.id(i); len(id) == 0 {
				t.Fatalf("entry %d has an empty id", i)
			}
		}
	})
}
