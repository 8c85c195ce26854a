package checkpoint

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"

	"github.com/gofrs/flock"
)

// Lock is the kernel lock on a job directory. The kernel releases it when the process ends, however it ends.
type Lock struct {
	fl   *flock.Flock
	path string
}

// LockedError says that another process holds a job directory's lock.
type LockedError struct {
	PID  int    // the holder's process id, or 0 when it could not be read
	Path string // the lock file
}

func (e *LockedError) Error() string {
	if e.PID > 0 {
		return fmt.Sprintf("job directory %s is in use by process %d", filepath.Dir(e.Path), e.PID)
	}
	return fmt.Sprintf("job directory %s is in use by another process", filepath.Dir(e.Path))
}

// Hint says how a user gets out.
func (e *LockedError) Hint() string {
	return "wait for that run to finish, or stop it (it can be resumed); to run another import at the same " +
		"time, give it its own --out directory"
}

// LockDir creates dir (0700) if needed and takes its lock without waiting: if another process holds it,
// LockDir returns a *LockedError naming that process at once. It writes its pid into the lock file and
// removes temporary files that an interrupted run may have left behind.
func LockDir(dir string) (*Lock, error) {
	if err := ensureDir(dir); err != nil {
		return nil, err
	}
	path := filepath.Join(dir, LockFile)
	fl := flock.New(path, flock.SetFlag(os.O_CREATE|os.O_RDWR), flock.SetPermissions(0o600))
	ok, err := fl.TryLock()
	if err != nil {
		return nil, fmt.Errorf("lock job directory %s: %w", dir, err)
	}
	if !ok {
		return nil, &LockedError{PID: readPID(path), Path: path}
	}
	if err := writePID(path); err != nil {
		_ = fl.Unlock()
		return nil, fmt.Errorf("lock job directory %s: %w", dir, err)
	}
	if err := removeTemps(dir); err != nil {
		_ = fl.Unlock()
		return nil, err
	}
	return &Lock{fl: fl, path: path}, nil
}

// Unlock releases the lock. The lock file stays: removing it would let two processes lock two different files.
func (l *Lock) Unlock() error {
	if l == nil || l.fl == nil {
		return nil
	}
	// Clear the pid first so a reader never names a process that has let go.
	err := os.Truncate(l.path, 0)
	if uerr := l.fl.Unlock(); uerr != nil {
		return fmt.Errorf("unlock %s: %w", l.path, uerr)
	}
	l.fl = nil
	if err != nil {
		return fmt.Errorf("unlock %s: %w", l.path, err)
	}
	return nil
}

func writePID(path string) error {
	f, err := os.OpenFile(path, os.O_WRONLY, 0)
	if err != nil {
		return err
	}
	pid := strconv.Itoa(os.Getpid()) + "\n"
	_, err = f.WriteAt([]byte(pid), 0)
	if err == nil {
		err = f.Truncate(int64(len(pid)))
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}

func readPID(path string) int {
	b, err := os.ReadFile(path)
	if err != nil {
		return 0
	}
	line, _, _ := bytes.Cut(b, []byte("\n"))
	pid, err := strconv.Atoi(string(bytes.TrimSpace(line)))
	if err != nil || pid <= 0 {
		return 0
	}
	return pid
}

// ensureDir creates dir with mode 0700 and makes its entry durable in the parent. An existing directory
// keeps its mode: the files inside are created 0600 either way.
func ensureDir(dir string) error {
	if fi, err := os.Stat(dir); err == nil {
		if !fi.IsDir() {
			return fmt.Errorf("job directory %s: not a directory", dir)
		}
		return nil
	} else if !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("job directory: %w", err)
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("create job directory: %w", err)
	}
	if err := syncDir(filepath.Dir(filepath.Clean(dir))); err != nil {
		return fmt.Errorf("create job directory %s: %w", dir, err)
	}
	return nil
}
