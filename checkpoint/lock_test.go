package checkpoint

import (
	"bufio"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// childLocker takes the lock and holds it until killed.
func childLocker() int {
	l, err := LockDir(os.Getenv("ZI_CHECKPOINT_DIR"))
	if err != nil {
		os.Stderr.WriteString(err.Error() + "\n")
		return 1
	}
	_ = l
	os.Stdout.WriteString("locked\n")
	time.Sleep(time.Minute)
	return 0
}

func startLocker(t *testing.T, dir string) *exec.Cmd {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), childEnv+"=locker", "ZI_CHECKPOINT_DIR="+dir)
	cmd.Stderr = os.Stderr
	out, err := cmd.StdoutPipe()
	require.NoError(t, err)
	require.NoError(t, cmd.Start())
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	line, err := bufio.NewReader(out).ReadString('\n')
	require.NoError(t, err)
	require.Equal(t, "locked\n", line)
	return cmd
}

func TestLockRefusesSecondHolderAndNamesIt(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "job")
	child := startLocker(t, dir)

	start := time.Now()
	l, err := LockDir(dir)
	assert.Nil(t, l)
	var le *LockedError
	require.True(t, errors.As(err, &le), "got %v", err)
	assert.Equal(t, child.Process.Pid, le.PID)
	assert.Equal(t, filepath.Join(dir, LockFile), le.Path)
	assert.Contains(t, err.Error(), "in use by process")
	assert.NotEmpty(t, le.Hint())
	assert.Less(t, time.Since(start), 5*time.Second, "refused at once, not after waiting")
	assert.Equal(t, os.FileMode(0o700), fileMode(t, dir))
	assert.Equal(t, os.FileMode(0o600), fileMode(t, filepath.Join(dir, LockFile)))
}

func TestLockFreedWhenHolderIsKilled(t *testing.T) {
	dir := t.TempDir()
	child := startLocker(t, dir)
	require.NoError(t, child.Process.Signal(syscall.SIGKILL))
	_ = child.Wait()

	l, err := LockDir(dir)
	require.NoError(t, err, "a killed holder leaves no stale lock")
	b, err := os.ReadFile(filepath.Join(dir, LockFile))
	require.NoError(t, err)
	assert.Equal(t, os.Getpid(), readPID(filepath.Join(dir, LockFile)), "lock file: %q", b)
	require.NoError(t, l.Unlock())
}

func TestLockWithinOneProcess(t *testing.T) {
	dir := t.TempDir()
	l, err := LockDir(dir)
	require.NoError(t, err)
	_, err = LockDir(dir)
	var le *LockedError
	require.ErrorAs(t, err, &le)
	assert.Equal(t, os.Getpid(), le.PID)

	require.NoError(t, l.Unlock())
	require.NoError(t, l.Unlock(), "Unlock twice")
	l2, err := LockDir(dir)
	require.NoError(t, err, "free again after Unlock")
	require.NoError(t, l2.Unlock())
}

func TestLockDirRemovesLeftoverTemporaries(t *testing.T) {
	dir := t.TempDir()
	leftovers := []string{".results.csv" + tempMark + "123", "." + JournalFile + tempMark + "9"}
	for _, name := range leftovers {
		require.NoError(t, os.WriteFile(filepath.Join(dir, name), []byte("half"), 0o600))
	}
	keep := filepath.Join(dir, "notes.txt")
	require.NoError(t, os.WriteFile(keep, nil, 0o600))
	l, err := LockDir(dir)
	require.NoError(t, err)
	defer l.Unlock()
	for _, name := range leftovers {
		assert.NoFileExists(t, filepath.Join(dir, name))
	}
	assert.FileExists(t, keep)
}

func TestLockDirOnAFile(t *testing.T) {
	f := filepath.Join(t.TempDir(), "file")
	require.NoError(t, os.WriteFile(f, nil, 0o600))
	_, err := LockDir(f)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "not a directory")
}
