//go:build unix

package monitor

import (
	"os"
	"path/filepath"
	"syscall"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestMetricsModeIgnoresUmask: the file is 0644 whatever the umask, as prometheus.WriteToTextfile makes
// it: node_exporter reads it as a user of its own.
func TestMetricsModeIgnoresUmask(t *testing.T) {
	old := syscall.Umask(0o077)
	defer syscall.Umask(old)
	path := filepath.Join(t.TempDir(), "nightly.prom")
	m := openTestMetrics(t, path, "nightly", newFakeClock())
	require.NoError(t, m.Finish(0, Figures{}))
	fi, err := os.Stat(path)
	require.NoError(t, err)
	assert.Equal(t, os.FileMode(0o644), fi.Mode().Perm())
}
