package checkpoint

import (
	"encoding/binary"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"
	"unsafe"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// writeJournalFor writes ops to a new journal for binding b in dir (removing any journal there) and closes it.
func writeJournalFor(t *testing.T, dir string, b Binding, ops []op) {
	t.Helper()
	require.NoError(t, os.RemoveAll(journalPath(dir)))
	j, _, err := open(dir, b, Options{CommitEvery: time.Hour}, noCompaction)
	require.NoError(t, err)
	apply(t, j, ops)
	require.NoError(t, j.Close())
}

func withRef(o Outcome, ref, id string) Outcome {
	o.Ref, o.CustomerID = ref, id
	return o
}

// lookups returns what x finds for refs: the id, or "-" when none.
func lookups(x *IDs, refs ...string) []string {
	var got []string
	for _, r := range refs {
		id, ok := x.Lookup(r)
		if !ok {
			id = "-"
		}
		got = append(got, id)
	}
	return got
}

// previousRecords counts the outcome records in checkpoint.previous.
func previousRecords(t *testing.T, dir string) int {
	t.Helper()
	src, note, err := openIDSource(dir, PreviousFile)
	require.NoError(t, err)
	require.NotNil(t, src, note)
	defer src.close()
	n := 0
	_, err = src.each(func(*frame) error { n++; return nil })
	require.NoError(t, err)
	return n
}

// The QA case: --restart after a mapping change must not lose the ids the old journal held.
func TestForgetKeepsTheCustomerIDs(t *testing.T) {
	dir := t.TempDir()
	writeJournal(t, dir, []op{
		startOp(1), outcomeOp(testOutcome(1, StatusCreated, 0)), // cus_1_0
		outcomeOp(testOutcome(2, StatusExisting, 0)), // cus_2
		outcomeOp(testOutcome(3, StatusFailed, 0)),   // no id
		outcomeOp(testOutcome(4, StatusRejected, 0)), // no id
		outcomeOp(withRef(testOutcome(5, StatusExisting, 0), "crm-5", "")),
		outcomeOp(testOutcome(6, StatusCreated, 0)), outcomeOp(testOutcome(6, StatusCreated, 1)), // the later id wins
		outcomeOp(testOutcome(7, StatusCreated, 0)), outcomeOp(withRef(testOutcome(7, StatusExisting, 0), "crm-7", "")), // an answer without id keeps it
		outcomeOp(testOutcome(8, StatusCreated, 0)), outcomeOp(testOutcome(8, StatusFailed, 1)), // so does a later failure
		outcomeOp(withRef(testOutcome(9, StatusCreated, 0), "dup", "cus_A")), outcomeOp(withRef(testOutcome(10, StatusExisting, 0), "dup", "cus_B")),
		startOp(11), // in flight
		finishOp(11, 1),
	})
	require.NoError(t, Forget(dir))
	assert.NoFileExists(t, journalPath(dir))
	assert.Equal(t, os.FileMode(0o600), fileMode(t, filepath.Join(dir, PreviousFile)))

	x, err := PreviousIDs(dir, testBinding.APIURL+"/")
	require.NoError(t, err)
	assert.Empty(t, x.Note())
	assert.Equal(t, []string{"cus_1_0", "cus_2", "-", "-", "-", "cus_6_1", "cus_7_0", "cus_8_0", "cus_B", "-", "-"},
		lookups(x, "crm-1", "crm-2", "crm-3", "crm-4", "crm-5", "crm-6", "crm-7", "crm-8", "dup", "crm-11", ""))
	assert.Equal(t, 6, x.Len())
	assert.Equal(t, 6, previousRecords(t, dir), "one record per reference")

	j, st, err := Open(dir, Binding{InputSize: 1, InputSHA256: "ab", MappingHash: "cd", APIURL: testBinding.APIURL}, Options{})
	require.NoError(t, err, "the job starts over under its new binding")
	assert.True(t, st.Fresh)
	require.NoError(t, j.Close())
}

func TestForgetMergesTheIDsOfEveryRestart(t *testing.T) {
	dir := t.TempDir()
	second := testBinding
	second.MappingHash = "0000000000000000000000000000000000000000000000000000000000000002"
	writeJournal(t, dir, []op{outcomeOp(testOutcome(1, StatusCreated, 0)), outcomeOp(testOutcome(2, StatusCreated, 0))})
	require.NoError(t, Forget(dir))
	// The second job has other ids for row 2's reference and a new one; row 1 it never reached.
	writeJournalFor(t, dir, second, []op{outcomeOp(testOutcome(2, StatusCreated, 5)), outcomeOp(testOutcome(3, StatusExisting, 0))})
	require.NoError(t, Forget(dir))

	x, err := PreviousIDs(dir, testBinding.APIURL)
	require.NoError(t, err)
	assert.Equal(t, []string{"cus_1_0", "cus_2_5", "cus_3"}, lookups(x, "crm-1", "crm-2", "crm-3"))
	assert.Equal(t, 3, previousRecords(t, dir), "merged, not appended")

	// A journal without ids leaves the kept ids as they are; so does a Forget with no journal.
	before, err := os.ReadFile(filepath.Join(dir, PreviousFile))
	require.NoError(t, err)
	writeJournalFor(t, dir, second, []op{outcomeOp(testOutcome(4, StatusRejected, 0)), startOp(5)})
	require.NoError(t, Forget(dir))
	require.NoError(t, Forget(dir))
	after, err := os.ReadFile(filepath.Join(dir, PreviousFile))
	require.NoError(t, err)
	assert.Equal(t, before, after)
}

// A crash after checkpoint.previous was written but before the journal was removed: --restart again
// merges the same ids once more and ends in the same place.
func TestForgetInterruptedAndRepeated(t *testing.T) {
	dir := t.TempDir()
	writeJournal(t, dir, []op{outcomeOp(testOutcome(1, StatusCreated, 0)), outcomeOp(testOutcome(2, StatusExisting, 0))})
	readable, err := keepIDs(dir)
	require.NoError(t, err)
	require.True(t, readable)
	require.FileExists(t, journalPath(dir), "the crash came here")
	require.NoError(t, Forget(dir))
	x, err := PreviousIDs(dir, testBinding.APIURL)
	require.NoError(t, err)
	assert.Equal(t, []string{"cus_1_0", "cus_2"}, lookups(x, "crm-1", "crm-2"))
	assert.Equal(t, 2, previousRecords(t, dir))
}

// An id names a customer in one API only: the ids of another API are neither used nor mixed in.
func TestPreviousIDsBelongToOneAPI(t *testing.T) {
	dir := t.TempDir()
	live := testBinding
	live.APIURL = "https://api.usezentra.com"
	writeJournal(t, dir, []op{outcomeOp(testOutcome(1, StatusCreated, 0)), outcomeOp(testOutcome(2, StatusCreated, 0))})
	require.NoError(t, Forget(dir))

	x, err := PreviousIDs(dir, live.APIURL)
	require.NoError(t, err)
	assert.Zero(t, x.Len())
	assert.Equal(t, "checkpoint.previous holds the customer ids that https://sandbox.api.usezentra.com gave, not https://api.usezentra.com; they are not used", x.Note())

	// A live journal without ids keeps the sandbox ids; one with ids replaces them.
	writeJournalFor(t, dir, live, []op{outcomeOp(testOutcome(3, StatusFailed, 0))})
	require.NoError(t, Forget(dir))
	x, err = PreviousIDs(dir, testBinding.APIURL)
	require.NoError(t, err)
	assert.Equal(t, []string{"cus_1_0", "cus_2_0"}, lookups(x, "crm-1", "crm-2"))

	writeJournalFor(t, dir, live, []op{outcomeOp(testOutcome(2, StatusCreated, 9))})
	require.NoError(t, Forget(dir))
	x, err = PreviousIDs(dir, live.APIURL)
	require.NoError(t, err)
	assert.Equal(t, []string{"-", "cus_2_9"}, lookups(x, "crm-1", "crm-2"))
}

// PreviousIDs never fails on what checkpoint.previous holds: it uses what it can and says what it could not.
func TestPreviousIDsFromDamagedFiles(t *testing.T) {
	src := t.TempDir()
	writeJournal(t, src, []op{outcomeOp(testOutcome(1, StatusCreated, 0)), outcomeOp(testOutcome(2, StatusCreated, 0)), outcomeOp(testOutcome(3, StatusCreated, 0))})
	require.NoError(t, Forget(src))
	valid, err := os.ReadFile(filepath.Join(src, PreviousFile))
	require.NoError(t, err)
	recLen := (len(valid) - previousHeaderLen(t, valid)) / 3

	flip := func(at int) []byte {
		b := append([]byte(nil), valid...)
		b[at] ^= 0x20
		return b
	}
	tests := []struct {
		name    string
		content []byte // nil: no file
		want    []string
		note    string
	}{
		{"no file", nil, []string{"-", "-", "-"}, ""},
		{"empty", []byte{}, []string{"-", "-", "-"}, ""},
		{"intact", valid, []string{"cus_1_0", "cus_2_0", "cus_3_0"}, ""},
		{"not a journal", []byte("row,external_reference\n1,crm-1\n"), []string{"-", "-", "-"}, "checkpoint.previous: not a zentra-import checkpoint journal; the customer ids in it are not used"},
		{"too short", []byte(magic), []string{"-", "-", "-"}, "not a zentra-import checkpoint journal (6 bytes, too short)"},
		{"another format", append([]byte(magic+"\x00\x07"), valid[8:]...), []string{"-", "-", "-"}, "journal format 7"},
		{"header damaged", flip(preludeSize + 14), []string{"-", "-", "-"}, "the header record is damaged"},
		{"a record damaged", flip(len(valid) - recLen - 3), []string{"cus_1_0", "-", "cus_3_0"}, fmt.Sprintf("checkpoint.previous: skipped %d damaged bytes; the customer ids in them are lost", recLen)},
		{"tail cut", valid[:len(valid)-4], []string{"cus_1_0", "cus_2_0", "-"}, "skipped"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			if tt.content != nil {
				require.NoError(t, os.WriteFile(filepath.Join(dir, PreviousFile), tt.content, 0o600))
			}
			x, err := PreviousIDs(dir, testBinding.APIURL)
			require.NoError(t, err)
			assert.Equal(t, tt.want, lookups(x, "crm-1", "crm-2", "crm-3"))
			if tt.note == "" {
				assert.Empty(t, x.Note())
			} else {
				assert.Contains(t, x.Note(), tt.note)
			}
		})
	}
}

// previousHeaderLen is the length of the prelude and header record of a journal-format file.
func previousHeaderLen(t *testing.T, b []byte) int {
	t.Helper()
	require.Equal(t, magic, string(b[:len(magic)]))
	return preludeSize + recHeaderSize + int(binary.LittleEndian.Uint32(b[preludeSize+8:]))
}

// A journal whose header cannot be read cannot say which API its ids are from: Forget keeps the file as
// checkpoint.damaged, and the ids kept before stay as they were.
func TestForgetKeepsAnUnreadableJournalAsDamaged(t *testing.T) {
	for _, tt := range []struct {
		name string
		harm func(b []byte)
	}{
		{"header damaged", func(b []byte) { b[preludeSize+14] ^= 1 }},
		{"a newer format", func(b []byte) { b[len(magic)+1] = 9 }},
	} {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			writeJournal(t, dir, []op{outcomeOp(testOutcome(1, StatusCreated, 0))})
			require.NoError(t, Forget(dir))
			kept, err := os.ReadFile(filepath.Join(dir, PreviousFile))
			require.NoError(t, err)
			writeJournal(t, dir, []op{outcomeOp(testOutcome(2, StatusCreated, 0))})
			b, err := os.ReadFile(journalPath(dir))
			require.NoError(t, err)
			tt.harm(b)
			require.NoError(t, os.WriteFile(journalPath(dir), b, 0o600))

			require.NoError(t, Forget(dir))
			assert.NoFileExists(t, journalPath(dir))
			damaged, err := os.ReadFile(filepath.Join(dir, DamagedFile))
			require.NoError(t, err)
			assert.Equal(t, b, damaged)
			now, err := os.ReadFile(filepath.Join(dir, PreviousFile))
			require.NoError(t, err)
			assert.Equal(t, kept, now)
		})
	}
}

func TestIDsMemory(t *testing.T) {
	const n = 10000
	var b idsBuilder
	for i := range n {
		b.add(fmt.Appendf(nil, "crm-%08d", i), fmt.Appendf(nil, "cus_01HZX3ABCDEFGHJK%08d", i)) // 28 bytes
	}
	for i := range n / 2 { // superseded ids are dropped
		b.add(fmt.Appendf(nil, "crm-%08d", i), fmt.Appendf(nil, "cus_01HZX3ABCDEFGHJL%08d", i))
	}
	x, err := b.build("")
	require.NoError(t, err)
	require.Equal(t, n, x.Len())
	assert.Equal(t, 16+1+28, x.memory()/x.Len(), "bytes per reference: digest and offset, the id's length, the id")
	assert.Equal(t, []string{"cus_01HZX3ABCDEFGHJL00000000", "cus_01HZX3ABCDEFGHJK00009999", "-"},
		lookups(x, "crm-00000000", "crm-00009999", "crm-00010000"))

	var none *IDs
	assert.Equal(t, []string{"-"}, lookups(none, "crm-1"))
	assert.Zero(t, none.Len())
	assert.Zero(t, none.memory())
	assert.Empty(t, none.Note())
}

// memory is the memory the lookup holds, for the tests and the benchmark of its size.
func (x *IDs) memory() int {
	if x == nil {
		return 0
	}
	return cap(x.keys)*int(unsafe.Sizeof(idKey{})) + cap(x.blob)
}
