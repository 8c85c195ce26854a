package jobdir

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/zentra/zentra-import/checkpoint"
	"github.com/zentra/zentra-import/csvfile"
)

const rebuildInput = "id,name,branch\r\n1,Ada,IKJ\r\n2,=Bob,VI\r\n3,Cy,LEK\r\n"

// rebuildRows opens the rebuild's input and returns the reader, at its first row, and the rows' records.
func rebuildRows(t *testing.T) (*csvfile.Reader, []*csvfile.Record) {
	t.Helper()
	r, err := csvfile.NewReader(bytes.NewReader([]byte(rebuildInput)), "in.csv", csvfile.CSVOptions{})
	require.NoError(t, err)
	var recs []*csvfile.Record
	for range 3 {
		rec, err := r.Next()
		require.NoError(t, err)
		recs = append(recs, rec)
	}
	fresh, err := csvfile.NewReader(bytes.NewReader([]byte(rebuildInput)), "in.csv", csvfile.CSVOptions{})
	require.NoError(t, err)
	return fresh, recs
}

// rebuildJournal records an outcome for each of outs in a new job in dir.
func rebuildJournal(t *testing.T, dir string, outs ...checkpoint.Outcome) *checkpoint.Journal {
	t.Helper()
	j, _, err := checkpoint.Open(dir, testBinding, checkpoint.Options{})
	require.NoError(t, err)
	t.Cleanup(func() { j.Close() })
	for _, o := range outs {
		require.NoError(t, j.Record(o))
	}
	require.NoError(t, j.Sync())
	return j
}

// TestRebuild: results.csv lists every row's latest outcome with the carried column; rejects.csv holds the
// rows that need attention as the input has them (its dialect, its values, then the reason); the tally
// counts what results.csv lists.
func TestRebuild(t *testing.T) {
	dir := t.TempDir()
	rd, recs := rebuildRows(t)
	at := func(i int, st checkpoint.Status, id, why string) checkpoint.Outcome {
		return checkpoint.Outcome{Row: i + 1, Offset: recs[i].Offset, End: recs[i].End, Ref: recs[i].Fields[0], Status: st, CustomerID: id, Error: why}
	}
	j := rebuildJournal(t, dir, at(0, checkpoint.StatusCreated, "cus_1", ""), at(1, checkpoint.StatusRejected, "", "=name: not allowed"),
		at(2, checkpoint.StatusFailed, "", "503"), at(0, checkpoint.StatusExisting, "", "already there"))
	tally, err := Rebuild(dir, j, Input{Reader: rd, Name: "in.csv", IsData: func(int) bool { return true }, Carry: []string{"branch"}, From: []int{2}})
	require.NoError(t, err)
	assert.Equal(t, Tally{Counts: map[checkpoint.Status]int{checkpoint.StatusExisting: 1, checkpoint.StatusRejected: 1, checkpoint.StatusFailed: 1},
		Outcomes: 3, ExistingWithoutID: 1}, tally)

	f, err := os.Open(filepath.Join(dir, ResultsFile))
	require.NoError(t, err)
	defer f.Close()
	lines, err := ReadResults(f)
	require.NoError(t, err)
	require.Len(t, lines, 3)
	assert.Equal(t, []string{"existing", "rejected", "failed"}, []string{lines[0].Status, lines[1].Status, lines[2].Status})
	assert.Equal(t, []string{"IKJ"}, lines[0].Carry)
	assert.Equal(t, "'=name: not allowed", lines[1].Error, "SafeCell'd")
	rejects, err := os.ReadFile(filepath.Join(dir, RejectsFile))
	require.NoError(t, err)
	assert.Equal(t, "id,name,branch,error\r\n2,=Bob,VI,'=name: not allowed\r\n3,Cy,LEK,503\r\n", string(rejects), "the input's values and line ends")

	again, err := Count(j)
	require.NoError(t, err)
	assert.Equal(t, tally, again, "Count counts as Rebuild does")
}

// TestRebuildRefusesAnotherInput: a journal row that the input does not have, or that starts elsewhere
// in it, stops the rebuild with a message naming the row; the job files stay as they were.
func TestRebuildRefusesAnotherInput(t *testing.T) {
	_, recs := rebuildRows(t)
	tests := []struct {
		name string
		out  checkpoint.Outcome
		want string
	}{
		{"a row past the end", checkpoint.Outcome{Row: 9, Offset: 900, End: 1000, Ref: "9", Status: checkpoint.StatusCreated},
			"rebuild job files: the journal has row 9 but in.csv ends before it"},
		{"a row that starts elsewhere", checkpoint.Outcome{Row: 2, Offset: recs[1].Offset + 1, End: recs[1].End, Ref: "2", Status: checkpoint.StatusCreated},
			"rebuild job files: the journal's row 2 starts at byte 28 of in.csv, but the input's row 2 starts at byte 27: the job was read under other rules; start it again with --restart"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			for _, name := range []string{ResultsFile, RejectsFile} {
				require.NoError(t, os.WriteFile(filepath.Join(dir, name), []byte("before\n"), 0o600))
			}
			rd, _ := rebuildRows(t)
			j := rebuildJournal(t, dir, tt.out)
			_, err := Rebuild(dir, j, Input{Reader: rd, Name: "in.csv"})
			require.EqualError(t, err, tt.want)
			for _, name := range []string{ResultsFile, RejectsFile} {
				assertContent(t, filepath.Join(dir, name), "before\n")
			}
			assert.ElementsMatch(t, []string{checkpoint.JournalFile, ResultsFile, RejectsFile}, listDir(t, dir), "no temporary file is left")
		})
	}
}
