package main

import (
	"net"
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
