package atomicfile

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// TempMark is in the name of every temporary file this package creates ("." + name + TempMark + random),
// so that what a crash leaves behind can be recognised and removed.
const TempMark = ".zi-tmp-"

// CreateTemp creates a temporary file for path in path's directory, mode 0600, named after it.
func CreateTemp(path string) (*os.File, error) {
	return os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+TempMark+"*")
}

// IsTemp reports whether name is a temporary file of this package ("." + name + TempMark + random).
func IsTemp(name string) bool {
	return strings.HasPrefix(name, ".") && strings.Contains(name[1:], TempMark)
}

// RemoveTemps removes the temporary files of this package in dir (regular files only).
func RemoveTemps(dir string) error {
	temps, err := filepath.Glob(filepath.Join(dir, ".*"+TempMark+"*"))
	if err != nil {
		return fmt.Errorf("clean job directory: %w", err)
	}
	for _, t := range temps {
		if fi, err := os.Lstat(t); err != nil || !fi.Mode().IsRegular() {
			continue
		}
		if err := os.Remove(t); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("clean job directory: %w", err)
		}
	}
	return nil
}

// SyncDir makes a directory's entries (a created, renamed or removed file) durable.
func SyncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	err = d.Sync()
	if cerr := d.Close(); err == nil {
		err = cerr
	}
	return err
}

// EnsureDir creates dir with mode 0700 and makes its entry durable in the parent. An existing directory
// keeps its mode: the files inside are created 0600 either way.
func EnsureDir(dir string) error {
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
	if err := SyncDir(filepath.Dir(filepath.Clean(dir))); err != nil {
		return fmt.Errorf("create job directory %s: %w", dir, err)
	}
	return nil
}

// File is a file that appears under its name complete or not at all. It is written under a temporary
// name in the same directory (mode 0600), and Commit syncs it, renames it into place and syncs the
// directory. A crash before Commit leaves only the temporary file, which RemoveTemps removes.
type File struct {
	f    *os.File
	path string
	done bool
}

// Create starts writing path.
func Create(path string) (*File, error) {
	f, err := CreateTemp(path)
	if err != nil {
		return nil, fmt.Errorf("create %s: %w", path, StripPath(err))
	}
	return &File{f: f, path: path}, nil
}

// Write writes to the temporary file.
func (a *File) Write(p []byte) (int, error) {
	if a.done {
		return 0, fmt.Errorf("write %s: %w", a.path, fs.ErrClosed)
	}
	n, err := a.f.Write(p)
	if err != nil {
		return n, fmt.Errorf("write %s: %w", a.path, StripPath(err))
	}
	return n, nil
}

// Commit makes the file durable under its name, replacing any file there. On failure the temporary file
// is removed and the old file, if any, is untouched.
func (a *File) Commit() error {
	if a.done {
		return fmt.Errorf("commit %s: %w", a.path, fs.ErrClosed)
	}
	a.done = true
	tmp := a.f.Name()
	err := a.f.Sync()
	if cerr := a.f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, a.path)
	}
	if err != nil {
		_ = os.Remove(tmp)
		return fmt.Errorf("write %s: %w", a.path, StripPath(err))
	}
	if err := SyncDir(filepath.Dir(a.path)); err != nil {
		return fmt.Errorf("write %s: %w", a.path, err)
	}
	return nil
}

// Abort removes the temporary file. After Commit it does nothing, so it suits a defer.
func (a *File) Abort() error {
	if a.done {
		return nil
	}
	a.done = true
	_ = a.f.Close()
	if err := os.Remove(a.f.Name()); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("remove temporary %s: %w", a.f.Name(), err)
	}
	return nil
}

// AbortOnError aborts the file when *err is set, for a function that writes it and returns err:
// defer f.AbortOnError(&err).
func (a *File) AbortOnError(err *error) {
	if *err != nil {
		_ = a.Abort()
	}
}

// StripPath drops the *PathError or *os.LinkError around err: the messages that wrap it name the job's
// file, not the temporary one those would name (a user has no use for ".results.csv.zi-tmp-123").
func StripPath(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	var le *os.LinkError
	if errors.As(err, &le) {
		return le.Err
	}
	return err
}
