package main

import (
	"net"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
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
