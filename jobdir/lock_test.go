package jobdir

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/zentra/zentra-import/atomicfile"
	"github.com/zentra/zentra-import/checkpoint"
)

// childLocker takes the lock and holds it until killed.
func childLocker() int {
	l, err := LockDir(os.Getenv("ZI_JOBDIR_DIR"))
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
	cmd.Env = append(os.Environ(), childEnv+"=locker", "ZI_JOBDIR_DIR="+dir)
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
	leftovers := []string{".results.csv" + atomicfile.TempMark + "123", "." + checkpoint.JournalFile + atomicfile.TempMark + "9"}
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

// Deleting the lock file while a run holds the lock must not let a second run in: the kernel lock is on
// the directory, and the holder is still named.
func TestLockHeldAfterLockFileIsDeleted(t *testing.T) {
	dir := t.TempDir()
	child := startLocker(t, dir)
	require.NoError(t, os.Remove(filepath.Join(dir, LockFile)))

	l, err := LockDir(dir)
	assert.Nil(t, l)
	var le *LockedError
	require.ErrorAs(t, err, &le)
	if runtime.GOOS == "linux" {
		assert.Equal(t, child.Process.Pid, le.PID, "named from the kernel's table of locks")
		assert.Contains(t, err.Error(), fmt.Sprintf("in use by process %d", child.Process.Pid))
	}
	assert.NoFileExists(t, filepath.Join(dir, LockFile), "a refused run creates no lock file")

	require.NoError(t, child.Process.Signal(syscall.SIGKILL))
	_ = child.Wait()
	l, err = LockDir(dir)
	require.NoError(t, err, "free once the holder is gone")
	assert.Equal(t, os.Getpid(), readPID(filepath.Join(dir, LockFile)))
	require.NoError(t, l.Unlock())
}

// The journal is replaced by renames (creation, repair, compaction) and removed by Reset; none of that, nor
// deleting the lock file, loosens the lock.
func TestLockHeldThroughJournalRenamesAndReset(t *testing.T) {
	dir := t.TempDir()
	l, err := LockDir(dir)
	require.NoError(t, err)
	refused := func(step string) {
		t.Helper()
		_, err := LockDir(dir)
		var le *LockedError
		require.ErrorAs(t, err, &le, step)
		if runtime.GOOS == "linux" {
			assert.Equal(t, os.Getpid(), le.PID, step)
		}
	}
	j, _, err := checkpoint.Open(dir, testBinding, checkpoint.Options{})
	require.NoError(t, err)
	for r := 1; r <= 50; r++ {
		o := created(r)
		require.NoError(t, j.Start(r, o.Offset, o.End))
		require.NoError(t, j.Start(r, o.Offset, o.End))
		require.NoError(t, j.Record(o))
	}
	require.NoError(t, j.Finish(50, 0), "compacts: a new journal renamed into place")
	require.NoError(t, j.Close())
	require.NoError(t, os.Remove(filepath.Join(dir, LockFile)))
	refused("after compaction and the lock file's removal")
	require.NoError(t, Reset(dir))
	refused("after Reset")

	require.NoError(t, l.Unlock(), "the lock file is gone: nothing to clear")
	l2, err := LockDir(dir)
	require.NoError(t, err)
	require.NoError(t, l2.Unlock())
}

// A file named "lock" that is not a lock file is refused and left as it was; a leftover pid is not.
func TestLockDirLeavesAForeignLockFileAlone(t *testing.T) {
	outside := outsideFile(t, "precious\n")
	tests := []struct {
		name string
		lock entry
		ok   bool
	}{
		{"a stale pid", entry{name: LockFile, content: "98765\n"}, true},
		{"empty", entry{name: LockFile}, true},
		{"text", entry{name: LockFile, content: "my shopping list\n"}, false},
		{"a symlink", entry{name: LockFile, link: outside}, false},
		{"a directory", entry{name: LockFile, dir: true}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			makeEntries(t, dir, []entry{tt.lock})
			before := snapshot(t, dir)
			l, err := LockDir(dir)
			if tt.ok {
				require.NoError(t, err)
				assert.Equal(t, os.Getpid(), readPID(filepath.Join(dir, LockFile)))
				require.NoError(t, l.Unlock())
				return
			}
			var de *DirError
			require.ErrorAs(t, err, &de)
			assert.Contains(t, err.Error(), "holds files that are not the job's: lock (")
			assert.Equal(t, before, snapshot(t, dir))
			assertContent(t, outside, "precious\n")
			_, err = LockDir(dir)
			require.ErrorAs(t, err, &de, "refused again for the file, not locked out: the directory's lock was let go")
		})
	}
}

// The lock file's content is what proves a job directory: the marker, then the holder's pid while held,
// the marker alone once released. It never exists without the marker.
func TestLockFileFormat(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "job")
	path := filepath.Join(dir, LockFile)
	l, err := LockDir(dir)
	require.NoError(t, err)
	assertContent(t, path, fmt.Sprintf("zentra-import lock v1\npid %d\n", os.Getpid()))
	assert.Equal(t, os.FileMode(0o600), fileMode(t, path))
	assert.Equal(t, os.Getpid(), readPID(path))
	require.NoError(t, l.Unlock())
	assertContent(t, path, "zentra-import lock v1\n")
	assert.Zero(t, readPID(path), "a released lock names no process")
	assert.True(t, Proven(dir))

	// What a run leaves beside its lock is the job's, journal or not.
	makeEntries(t, dir, []entry{{name: RejectsFile, content: "a,error\n"}, {name: InferredMappingFile, content: "fields:\n"}})
	require.NoError(t, CheckDir(dir, ""))

	// An earlier version's lock file is rewritten in this format by the next LockDir.
	for _, old := range []string{"", "98765\n"} {
		require.NoError(t, os.WriteFile(path, []byte(old), 0o600))
		assert.False(t, Proven(dir), "%q alone proves nothing", old)
		l, err = LockDir(dir)
		require.NoError(t, err)
		assertContent(t, path, fmt.Sprintf("zentra-import lock v1\npid %d\n", os.Getpid()))
		require.NoError(t, l.Unlock())
	}
	assert.Empty(t, tempFiles(t, dir), "no temporary file left")
}

func tempFiles(t *testing.T, dir string) []string {
	t.Helper()
	temps, err := filepath.Glob(filepath.Join(dir, ".*"+atomicfile.TempMark+"*"))
	require.NoError(t, err)
	return temps
}

func TestReadPID(t *testing.T) {
	for content, want := range map[string]int{
		lockMarker + "pid 4242\n":    4242,
		lockMarker + "pid 12\n345\n": 12, // a longer pid's tail met while the holder rewrote it
		lockMarker:                   0,
		lockMarker + "4242\n":        0,
		"4242\n":                     4242, // an earlier version's holder
		"":                           0,
		"-3\n":                       0,
	} {
		path := filepath.Join(t.TempDir(), LockFile)
		require.NoError(t, os.WriteFile(path, []byte(content), 0o600))
		assert.Equal(t, want, readPID(path), "%q", content)
	}
}

// A directory proven only by an earlier version's lock is refused, and the hint says what to do with one.
func TestCheckDirRefusesAnOldLockAloneAndSaysWhy(t *testing.T) {
	dir := t.TempDir()
	makeEntries(t, dir, []entry{{name: LockFile, content: "4242\n"}, {name: RejectsFile, content: "mine\n"}})
	var de *DirError
	require.ErrorAs(t, CheckDir(dir, ""), &de)
	assert.True(t, de.OldLock)
	assert.Contains(t, de.Hint(), "an earlier version of zentra-import left without a checkpoint")

	makeEntries(t, dir, []entry{{name: LockFile, content: lockMarker}, {name: ResultsFile, content: "mine\n"}})
	require.ErrorAs(t, CheckDir(dir, ""), &de)
	assert.False(t, de.OldLock, "the lock proves the directory; only results.csv is not the job's")
	assert.NotContains(t, de.Hint(), "earlier version")
}
