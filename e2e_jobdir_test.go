package main

// End-to-end tests of issue 9's items on inputs that are not files (3), a full disk (7), a job directory
// removed mid-run (8), a journal whose start is zeroed (9) and lock files that prove nothing (14).

import (
	"net"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/zentra/zentra-import/sandbox"
)

// jobdirRunWithin runs the binary like run, but fails the test (killing the process) when it has not
// exited within limit: a hang must fail, not block the test suite. The limit is a hang detector, far
// beyond what the command needs on a loaded machine, not a speed assertion.
func jobdirRunWithin(t *testing.T, limit time.Duration, env []string, args ...string) result {
	t.Helper()
	p := start(t, env, args...)
	select {
	case <-p.done:
	case <-time.After(limit):
		_ = p.cmd.Process.Kill()
		<-p.done
		t.Fatalf("%v did not exit within %s (it hangs)\n%s", args, limit, p.stderr.String())
	}
	return result{code: p.cmd.ProcessState.ExitCode(), stderr: p.stderr.String()}
}

// TestInputThatIsNotAFileIsRefusedAtOnce: run, validate and mapping refuse a named pipe (with or without a
// writer), a character device and a socket before opening it, naming what it is and why a file is needed
// (QA: a FIFO without a writer hung in open, and SIGTERM did not stop it; /dev/zero was "empty"). A
// symbolic link to a regular file is still read.
func TestInputThatIsNotAFileIsRefusedAtOnce(t *testing.T) {
	t.Parallel()
	sb := startSandbox(t, sandbox.Config{})
	j := newJob(t, 3)

	lonely := filepath.Join(j.dir, "lonely.csv")
	require.NoError(t, syscall.Mkfifo(lonely, 0o600))
	written := filepath.Join(j.dir, "written.csv")
	require.NoError(t, syscall.Mkfifo(written, 0o600))
	// The test holds the pipe open for writing (O_RDWR does not wait for a reader), with a whole CSV in it.
	w, err := os.OpenFile(written, os.O_RDWR, 0)
	require.NoError(t, err)
	t.Cleanup(func() { _ = w.Close() })
	data, err := os.ReadFile(j.input)
	require.NoError(t, err)
	_, err = w.Write(data)
	require.NoError(t, err)

	sock := filepath.Join(j.dir, "sock.csv")
	l, err := net.Listen("unix", sock)
	require.NoError(t, err)
	t.Cleanup(func() { _ = l.Close() })

	inputs := []struct{ name, path, what string }{
		{"a named pipe without a writer", lonely, "is a named pipe (FIFO), not a regular file"},
		{"a named pipe with a writer", written, "is a named pipe (FIFO), not a regular file"},
		{"/dev/zero", "/dev/zero", "is a character device, not a regular file"},
		{"a socket", sock, "is a socket, not a regular file"},
	}
	for _, in := range inputs {
		for _, cmd := range [][]string{
			{"run", "--api-url", sb.URL, "--mapping", j.mapping, "--out", j.out},
			{"run", "--api-url", sb.URL, "--out", j.out}, // the mapping inferred from the input
			{"validate", "--mapping", j.mapping, "--out", j.out},
			{"mapping"},
		} {
			r := jobdirRunWithin(t, time.Minute, keyEnv(sb), append(cmd, in.path)...)
			assert.Equal(t, 2, r.code, "%s %s: %s", cmd[0], in.name, r.stderr)
			assert.Contains(t, r.stderr, "zentra-import: "+in.path+": "+in.what, "%s %s", cmd[0], in.name)
			assert.Contains(t, r.stderr, "hint: save it to a file first: the input is read more than once", "%s %s", cmd[0], in.name)
			assert.NotContains(t, r.stderr, "empty")
		}
	}
	assert.NoDirExists(t, j.out, "nothing written")
	assert.Zero(t, sb.Server.Stats().Requests, "nothing sent")

	// A symbolic link to a regular file is a regular file.
	link := filepath.Join(j.dir, "link.csv")
	require.NoError(t, os.Symlink(j.input, link))
	r := jobdirRunWithin(t, 2*time.Minute, keyEnv(sb), "validate", "--mapping", j.mapping, "--out", j.out, link)
	assert.Equal(t, 0, r.code, r.stderr)
	r = jobdirRunWithin(t, 2*time.Minute, keyEnv(sb), "run", "--api-url", sb.URL, "--mapping", j.mapping, "--out", filepath.Join(j.dir, "linked"), link)
	assert.Equal(t, 0, r.code, r.stderr)
}
