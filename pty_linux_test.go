//go:build linux

package main

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"unsafe"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// openPTY opens a pseudo-terminal: what the program writes to tty, the test reads from pty.
func openPTY(t *testing.T) (pty, tty *os.File) {
	t.Helper()
	pty, err := os.OpenFile("/dev/ptmx", os.O_RDWR|syscall.O_NOCTTY, 0)
	if err != nil {
		t.Skipf("no pseudo-terminals here: %v", err)
	}
	var unlock int32
	var n uint32
	for _, c := range []struct {
		req uintptr
		arg unsafe.Pointer
	}{{syscall.TIOCSPTLCK, unsafe.Pointer(&unlock)}, {syscall.TIOCGPTN, unsafe.Pointer(&n)}} {
		if _, _, errno := syscall.Syscall(syscall.SYS_IOCTL, pty.Fd(), c.req, uintptr(c.arg)); errno != 0 {
			_ = pty.Close()
			t.Skipf("pseudo-terminal: %v", errno)
		}
	}
	tty, err = os.OpenFile(fmt.Sprintf("/dev/pts/%d", n), os.O_RDWR|syscall.O_NOCTTY, 0)
	if err != nil {
		_ = pty.Close()
		t.Skipf("pseudo-terminal: %v", err)
	}
	t.Cleanup(func() { _ = pty.Close(); _ = tty.Close() })
	return pty, tty
}

// TestRunJSONLogsOnATerminal: --log-format json asks for records, so even on a terminal no bar is drawn
// between them; progress comes as records.
func TestRunJSONLogsOnATerminal(t *testing.T) {
	t.Parallel()
	pty, tty := openPTY(t)
	out := filepath.Join(t.TempDir(), "job")
	cmd := command(nil, "run", "--sandbox", "--log-format", "json", "--progress-interval", "100ms", "--mapping", "samples/mapping.yaml", "--out", out, "samples/customers.csv")
	got, err := progressOnTerminal(t, cmd, pty, tty)
	var ee *exec.ExitError
	require.ErrorAs(t, err, &ee, got)
	require.Equal(t, 1, ee.ExitCode(), got)
	// The terminal turns "\n" into "\r\n"; a bar would add "\r" of its own.
	text := strings.ReplaceAll(got, "\r\n", "\n")
	assert.NotContains(t, text, "\r", "no bar drawn")
	requireJSONLines(t, text)
	assert.Contains(t, text, `"msg":"progress"`, "progress as records")
}
