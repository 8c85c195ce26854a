package main

import (
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/zentra/zentra-import/sandbox"
)

// TestSandboxPortInUse: a port another program holds is named as such, with what to do.
func TestSandboxPortInUse(t *testing.T) {
	t.Parallel()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer l.Close()
	r := run(t, nil, "sandbox", "--addr", l.Addr().String())
	require.Equal(t, 2, r.code, r.stderr)
	assert.Contains(t, r.stderr, "zentra-import: sandbox: "+l.Addr().String()+" is already in use by another program\n")
	assert.Contains(t, r.stderr, "hint: stop that program (another sandbox?), or give --addr another port; 127.0.0.1:0 picks a free one")
	assert.NotContains(t, r.stderr, "bind:")
}

// TestFailedRowsSayTheClassOfFailure: the error column of results.csv, which finance reads, says what
// went wrong in words, never the network stack's text with its addresses and ports.
func TestFailedRowsSayTheClassOfFailure(t *testing.T) {
	t.Parallel()
	sb := startSandbox(t, sandbox.Config{DropRate: 0.3, Seed: 5})
	j := newJob(t, 120)
	r := run(t, keyEnv(sb), j.args(sb, "--rate", "2000/s", "--max-attempts", "1")...)
	require.Equal(t, 1, r.code, r.stderr)
	failed := 0
	for _, l := range j.results(t) {
		if l.Status != "failed" {
			continue
		}
		failed++
		assert.True(t, strings.HasPrefix(l.Error, "connection_closed: the connection closed before a complete answer"), l.Error)
		for _, internal := range []string{"127.0.0.1", "tcp", "dial", "read:", "EOF", "zentra:"} {
			assert.NotContains(t, l.Error, internal, "row %d", l.Row)
		}
	}
	assert.Greater(t, failed, 10, "dropped answers failed rows")
}

// TestDuplicateOfARejectedRowSaysSo: a repeat of a reference whose first row was itself rejected says so,
// since fixing the repeat alone sends nothing; also in a resumed run, which knows the first row from its
// journal.
func TestDuplicateOfARejectedRowSaysSo(t *testing.T) {
	t.Parallel()
	sb := startSandbox(t, sandbox.Config{})
	j := newJob(t, 4)
	data, err := os.ReadFile(j.input)
	require.NoError(t, err)
	lines := strings.Split(strings.TrimSuffix(string(data), "\n"), "\n")
	row1 := strings.Split(lines[1], ",")
	bad := append([]string{}, row1...)
	bad[3], bad[4] = "not-an-email", "" // row 1 rejected: no way to reach the customer
	lines[1] = strings.Join(bad, ",")
	lines[3] = strings.Join(row1, ",") // row 3 repeats row 1's reference, with good values
	require.NoError(t, os.WriteFile(j.input, []byte(strings.Join(lines, "\n")+"\n"), 0o600))

	const said = "external_reference: duplicate of row 1, which was itself rejected (fix both: only the first row with a reference is sent)"
	r := run(t, keyEnv(sb), j.args(sb, "--max-rows", "2")...)
	require.Equal(t, 1, r.code, r.stderr)
	r = run(t, keyEnv(sb), j.args(sb)...) // resumed: row 1 is known from the journal
	require.Equal(t, 1, r.code, r.stderr)
	results := j.results(t)
	assert.Equal(t, "rejected", results[2].Status)
	assert.Equal(t, said, results[2].Error)

	v := run(t, nil, "validate", "--mapping", j.mapping, "--out", filepath.Join(j.dir, "v"), j.input)
	require.Equal(t, 1, v.code, v.stderr)
	assert.Contains(t, v.stderr, said)
}

// TestResultsForExcel: --excel begins results.csv with a UTF-8 byte-order mark, which Excel on Windows needs
// to show Émilie and not Ã‰milie; a finished job run again with or without it rewrites only its files,
// sending nothing.
func TestResultsForExcel(t *testing.T) {
	t.Parallel()
	sb := startSandbox(t, sandbox.Config{})
	j := newJob(t, 5)
	r := run(t, keyEnv(sb), j.args(sb, "--excel", "--carry", "First Name")...)
	require.Equal(t, 0, r.code, r.stderr)
	data, err := os.ReadFile(filepath.Join(j.out, "results.csv"))
	require.NoError(t, err)
	assert.True(t, strings.HasPrefix(string(data), "\ufeffrow,external_reference,status,"), "%q", data[:20])
	assert.Len(t, j.results(t), 5)

	requests := sb.Server.Stats().Requests
	r = run(t, keyEnv(sb), j.args(sb, "--carry", "First Name")...)
	require.Equal(t, 0, r.code, r.stderr)
	data, err = os.ReadFile(filepath.Join(j.out, "results.csv"))
	require.NoError(t, err)
	assert.True(t, strings.HasPrefix(string(data), "row,external_reference,"), "without --excel, no mark")
	assert.Equal(t, requests, sb.Server.Stats().Requests, "nothing sent")
}
