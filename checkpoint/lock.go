package checkpoint

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"

	"github.com/gofrs/flock"
)

// Lock is the kernel lock on a job directory. The kernel releases it when the process ends, however it ends.
type Lock struct {
	dir  *flock.Flock // the directory itself; nil where the file system cannot lock a directory
	fl   *flock.Flock // the lock file
	path string       // the lock file's path
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
// LockDir returns a *LockedError naming that process at once. The lock is a kernel lock (flock) on the
// directory itself, which no file operation inside it can undo — deleting the lock file, or renaming a new
// journal into place, leaves it held — and one on the lock file, which carries the holder's pid. Where the
// file system cannot lock a directory (some network file systems), the lock file's lock alone guards the
// job. LockDir writes its pid into the lock file and removes temporary files that an interrupted run may
// have left behind. A file named "lock" that holds more than a pid is not the job's: LockDir refuses it
// with a *DirError and leaves it as it is.
func LockDir(dir string) (*Lock, error) {
	if err := ensureDir(dir); err != nil {
		return nil, err
	}
	path := filepath.Join(dir, LockFile)
	l := &Lock{path: path}
	dl := flock.New(dir, flock.SetFlag(os.O_RDONLY))
	ok, err := dl.TryLock()
	switch {
	case err != nil && !dirLockUnsupported(err):
		return nil, fmt.Errorf("lock job directory %s: %w", dir, err)
	case err == nil && !ok:
		return nil, &LockedError{PID: holderPID(dir, path), Path: path}
	case err == nil:
		l.dir = dl
	}
	if err := l.lockFile(dir); err != nil {
		_ = l.release()
		return nil, err
	}
	if err := removeTemps(dir); err != nil {
		_ = l.Unlock()
		return nil, err
	}
	return l, nil
}

// lockFile takes the lock file's lock and writes the pid into it, the directory's lock held.
func (l *Lock) lockFile(dir string) error {
	why, err := notOurs(dir, LockFile)
	if err != nil {
		return err
	}
	if why != "" {
		return &DirError{Dir: dir, Foreign: []string{LockFile + " (" + why + ")"}}
	}
	fl := flock.New(l.path, flock.SetFlag(os.O_CREATE|os.O_RDWR), flock.SetPermissions(0o600))
	ok, err := fl.TryLock()
	if err != nil {
		return fmt.Errorf("lock job directory %s: %w", dir, err)
	}
	if !ok {
		// Only a version of this program that did not lock the directory gets here.
		return &LockedError{PID: readPID(l.path), Path: l.path}
	}
	l.fl = fl
	if err := writePID(l.path); err != nil {
		return fmt.Errorf("lock job directory %s: %w", dir, err)
	}
	return nil
}

// Unlock releases the lock. The lock file stays, emptied, so that a reader never names a process that has
// let go.
func (l *Lock) Unlock() error {
	if l == nil {
		return nil
	}
	var err error
	if l.fl != nil {
		// Clear the pid first. A lock file someone deleted is no reason to keep the lock.
		if terr := os.Truncate(l.path, 0); terr != nil && !errors.Is(terr, fs.ErrNotExist) {
			err = fmt.Errorf("unlock %s: %w", l.path, terr)
		}
	}
	if rerr := l.release(); rerr != nil {
		return rerr
	}
	return err
}

// release lets go of whatever locks are held.
func (l *Lock) release() error {
	var err error
	if l.fl != nil {
		if uerr := l.fl.Unlock(); uerr != nil {
			err = fmt.Errorf("unlock %s: %w", l.path, uerr)
		}
		l.fl = nil
	}
	if l.dir != nil {
		if uerr := l.dir.Unlock(); uerr != nil && err == nil {
			err = fmt.Errorf("unlock %s: %w", filepath.Dir(l.path), uerr)
		}
		l.dir = nil
	}
	return err
}

// holderPID names the process that holds dir's lock: from the kernel's table of locks where there is one
// (it stays right when the lock file was deleted), else from the lock file.
func holderPID(dir, lockPath string) int {
	if pid := dirLockHolder(dir); pid > 0 {
		return pid
	}
	return readPID(lockPath)
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
