package jobdir

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/zentra/zentra-import/checkpoint"
)

func TestSafeCell(t *testing.T) {
	tests := []struct{ in, want string }{
		{"", ""},
		{"plain text", "plain text"},
		{"=HYPERLINK(\"http://x\")", "'=HYPERLINK(\"http://x\")"},
		{"+1+cmd|' /C calc'!A0", "'+1+cmd|' /C calc'!A0"},
		{"-2+3", "'-2+3"},
		{"@SUM(A1)", "'@SUM(A1)"},
		{"\tdata", "'\tdata"},
		{"\rdata", "'\rdata"},
		{"＝1+1", "'＝1+1"},
		{"-12.50", "-12.50"},
		{"+44", "+44"},
		{"-", "'-"},
		{"+44 20 7946 0958", "'+44 20 7946 0958"},
		{"-1.", "'-1."},
		{"a=b", "a=b"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			assert.Equal(t, tt.want, SafeCell(tt.in))
		})
	}
}

func TestResultsRoundTrip(t *testing.T) {
	outcomes := []checkpoint.Outcome{
		{Row: 1, Ref: "crm-1", Status: checkpoint.StatusCreated, CustomerID: "cus_1", HTTPStatus: 201, Attempts: 1},
		{Row: 2, Ref: "crm-2", Status: checkpoint.StatusExisting, CustomerID: "cus_2", HTTPStatus: 409, Attempts: 2},
		{Row: 3, Ref: "crm-3", Status: checkpoint.StatusFailed, HTTPStatus: 503, Attempts: 5, Error: "=cmd|' /C calc'!A0, \"quoted\"\nsecond line"},
		{Row: 4, Status: checkpoint.StatusRejected, Error: "email: not an address"},
	}
	carry := [][]string{{"L-1", "-12.50"}, {"L-2", "=1+1"}, {"L,3", "@x"}, {"", ""}}
	var buf bytes.Buffer
	w, err := NewResultsWriter(&buf, []string{"Legacy Id", "+Balance"}, false)
	require.NoError(t, err)
	for i, o := range outcomes {
		require.NoError(t, w.Write(o, carry[i]))
	}
	require.NoError(t, w.Flush())

	text := buf.String()
	assert.True(t, strings.HasPrefix(text, "row,external_reference,status,customer_id,http_status,attempts,error,Legacy Id,'+Balance\n"), text)
	assert.Contains(t, text, "\n4,,rejected,,,0,email: not an address,,\n", "http_status empty for a row never sent")

	names, err := ScanResults(strings.NewReader(text), func(ResultLine) error { return nil })
	require.NoError(t, err)
	assert.Equal(t, []string{"Legacy Id", "'+Balance"}, names)
	lines, err := ReadResults(strings.NewReader(text))
	require.NoError(t, err)
	want := []ResultLine{
		{Row: 1, ExternalReference: "crm-1", Status: "created", CustomerID: "cus_1", HTTPStatus: "201", Attempts: 1, Carry: []string{"L-1", "-12.50"}},
		{Row: 2, ExternalReference: "crm-2", Status: "existing", CustomerID: "cus_2", HTTPStatus: "409", Attempts: 2, Carry: []string{"L-2", "'=1+1"}},
		{Row: 3, ExternalReference: "crm-3", Status: "failed", HTTPStatus: "503", Attempts: 5, Error: "'=cmd|' /C calc'!A0, \"quoted\"\nsecond line", Carry: []string{"L,3", "'@x"}},
		{Row: 4, Status: "rejected", HTTPStatus: "", Error: "email: not an address", Carry: []string{"", ""}},
	}
	assert.Equal(t, want, lines)
}

// TestResultsForExcel: with a byte-order mark first (--excel), for Excel on Windows; read back as ever.
func TestResultsForExcel(t *testing.T) {
	var buf bytes.Buffer
	w, err := NewResultsWriter(&buf, []string{"Prénom"}, true)
	require.NoError(t, err)
	require.NoError(t, w.Write(checkpoint.Outcome{Row: 1, Ref: "r", Status: checkpoint.StatusCreated, CustomerID: "c", HTTPStatus: 201, Attempts: 1}, []string{"Émilie"}))
	require.NoError(t, w.Flush())
	assert.True(t, strings.HasPrefix(buf.String(), "\ufeffrow,external_reference,"), buf.String())
	lines, err := ReadResults(bytes.NewReader(buf.Bytes()))
	require.NoError(t, err)
	assert.Equal(t, []string{"Émilie"}, lines[0].Carry)
	header, bom, err := ResultsHeader(bytes.NewReader(buf.Bytes()))
	require.NoError(t, err)
	assert.True(t, bom)
	assert.Equal(t, "row", header[0])
	dir := t.TempDir()
	l, err := LockDir(dir) // the lock file proves the directory the job's
	require.NoError(t, err)
	require.NoError(t, l.Unlock())
	require.NoError(t, os.WriteFile(filepath.Join(dir, ResultsFile), buf.Bytes(), 0o600))
	assert.NoError(t, CheckDir(dir, ""), "a results.csv with a byte-order mark is the job's")
}

func TestResultsWithoutCarry(t *testing.T) {
	var buf bytes.Buffer
	w, err := NewResultsWriter(&buf, nil, false)
	require.NoError(t, err)
	require.NoError(t, w.Write(checkpoint.Outcome{Row: 7, Ref: "r", Status: checkpoint.StatusCreated, CustomerID: "c", HTTPStatus: 201, Attempts: 1}, nil))
	require.NoError(t, w.Flush())
	assert.Equal(t, "row,external_reference,status,customer_id,http_status,attempts,error\n7,r,created,c,201,1,\n", buf.String())
	assert.Error(t, w.Write(checkpoint.Outcome{Row: 8, Status: checkpoint.StatusCreated}, []string{"extra"}), "carry values without carry columns")
	assert.Error(t, w.Write(checkpoint.Outcome{Row: 9}, nil), "a row without an outcome")
}

func TestReadResultsNamesTheProblem(t *testing.T) {
	header := "row,external_reference,status,customer_id,http_status,attempts,error\n"
	tests := []struct{ name, in, want string }{
		{"empty", "", "empty file"},
		{"wrong header", "row,status\n1,created\n", "header"},
		{"bad status", header + "1,r,created,c,201,1,\n2,r,done,c,201,1,\n", "line 3: unknown status \"done\""},
		{"bad row", header + "x,r,created,c,201,1,\n", "line 2"},
		{"row zero", header + "0,r,created,c,201,1,\n", "line 2: row \"0\""},
		{"short line", header + "1,r,created\n", "wrong number of fields"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ReadResults(strings.NewReader(tt.in))
			require.Error(t, err)
			assert.Contains(t, err.Error(), tt.want)
		})
	}
}

type failingWriter struct{}

func (failingWriter) Write([]byte) (int, error) { return 0, assert.AnError }

func TestResultsWriterReportsWriteErrors(t *testing.T) {
	w, err := NewResultsWriter(failingWriter{}, nil, false)
	require.NoError(t, err, "the header is buffered")
	assert.ErrorIs(t, w.Flush(), assert.AnError)
}
