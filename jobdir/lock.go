package jobdir

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"

	"github.com/gofrs/flock"

	"github.com/zentra/zentra-import/atomicfile"
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

// lockMarker is the first line of every lock file this version writes: what tells a job directory's lock
// from a file of the user's that happens to be called "lock". While the lock is held a line "pid N"
// follows; a released lock file holds the marker alone.
const lockMarker = "zentra-import lock v1\n"

// LockDir creates dir (0700) if needed and takes its lock without waiting: if another process holds it,
// LockDir returns a *LockedError naming that process at once. The lock is a kernel lock (flock) on the
// directory itself, which no file operation inside it can undo — deleting the lock file, or renaming a new
// journal into place, leaves it held — and one on the lock file, which carries the holder's pid. Where the
// file system cannot lock a directory (some network file systems), the lock file's lock alone guards the
// job. A missing lock file is created whole, the marker in it (it never exists empty); LockDir then writes
// the marker and its pid into it, and removes temporary files that an interrupted run may have left
// behind. A lock file of an earlier version (empty, or a pid alone) is taken over and rewritten; whether
// it proves anything is CheckDir's question. A file named "lock" that holds anything else is not the
// job's: LockDir refuses it with a *DirError and leaves it as it is.
func LockDir(dir string) (*Lock, error) {
	if err := atomicfile.EnsureDir(dir); err != nil {
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
	if err := atomicfile.RemoveTemps(dir); err != nil {
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
	if err := createLockFile(l.path); err != nil {
		return fmt.Errorf("lock job directory %s: %w", dir, err)
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
	if err := writeLockFile(l.path, os.Getpid()); err != nil {
		return fmt.Errorf("lock job directory %s: %w", dir, err)
	}
	return nil
}

// Unlock releases the lock. The lock file stays, holding the marker alone, so that a reader never names a
// process that has let go and the directory stays proven a job's.
func (l *Lock) Unlock() error {
	if l == nil {
		return nil
	}
	var err error
	if l.fl != nil {
		// Clear the pid first. A lock file someone deleted is no reason to keep the lock.
		if werr := writeLockFile(l.path, 0); werr != nil && !errors.Is(werr, fs.ErrNotExist) {
			err = fmt.Errorf("unlock %s: %w", l.path, werr)
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

// createLockFile makes a missing lock file appear with its marker already in it: written and synced under
// a temporary name, then linked into place, which fails rather than replace a file that appeared in the
// meantime. Where the file system has no hard links it is created exclusively and then written.
func createLockFile(path string) error {
	if _, err := os.Lstat(path); !errors.Is(err, fs.ErrNotExist) {
		return nil // there (LockDir checked what it is), or a stat error that opening it will report
	}
	tmp, err := atomicfile.CreateTemp(path)
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	_, err = tmp.WriteString(lockMarker)
	if err == nil {
		err = tmp.Sync()
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return err
	}
	switch err = os.Link(tmp.Name(), path); {
	case errors.Is(err, fs.ErrExist):
		return nil // another process made it first (where the directory itself cannot be locked)
	case err != nil:
		if err = createExclusive(path, lockMarker); errors.Is(err, fs.ErrExist) {
			return nil
		} else if err != nil {
			return err
		}
	}
	return atomicfile.SyncDir(filepath.Dir(path))
}

// createExclusive creates path, which must not exist, holding content.
func createExclusive(path, content string) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return err
	}
	_, err = f.WriteString(content)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}

// writeLockFile rewrites the lock file in place: the marker, then "pid N" for pid > 0.
func writeLockFile(path string, pid int) error {
	f, err := os.OpenFile(path, os.O_WRONLY, 0)
	if err != nil {
		return err
	}
	content := lockMarker
	if pid > 0 {
		content += "pid " + strconv.Itoa(pid) + "\n"
	}
	_, err = f.WriteAt([]byte(content), 0)
	if err == nil {
		err = f.Truncate(int64(len(content)))
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}

// lockKind is what a file named "lock" holds.
type lockKind int

const (
	lockForeign lockKind = iota // anything else: not a lock file
	lockMarked                  // this version's: the marker, then a pid while held
	lockOld                     // an earlier version's: empty, or a pid alone
)

// maxLockSize bounds a lock file: the marker and a pid line, with room to spare.
const maxLockSize = 128

// kindOfLock reads a lock file's content (all of it: at most maxLockSize bytes of a file of size bytes).
// A reader may meet a longer pid's tail while the holder rewrites it, so digits, spaces and line breaks
// may follow the pid line.
func kindOfLock(b []byte, size int64) lockKind {
	switch {
	case size > maxLockSize:
		return lockForeign
	case bytes.HasPrefix(b, []byte(lockMarker)):
		if rest := bytes.TrimPrefix(b[len(lockMarker):], []byte("pid ")); len(bytes.Trim(rest, "0123456789 \n")) == 0 {
			return lockMarked
		}
		return lockForeign
	case len(bytes.Trim(b, "0123456789 \n")) == 0:
		return lockOld
	}
	return lockForeign
}

// readPID reads the holder's pid from a lock file: this version's "pid N" line, or an earlier version's
// bare pid. It returns 0 when there is none.
func readPID(path string) int {
	b, err := os.ReadFile(path)
	if err != nil {
		return 0
	}
	line := b
	if rest, ok := bytes.CutPrefix(b, []byte(lockMarker)); ok {
		if line, ok = bytes.CutPrefix(rest, []byte("pid ")); !ok {
			return 0
		}
	}
	line, _, _ = bytes.Cut(line, []byte("\n"))
	pid, err := strconv.Atoi(string(bytes.TrimSpace(line)))
	if err != nil || pid <= 0 {
		return 0
	}
	return pid
}
