package checkpoint

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
)

// The files of a job directory.
const (
	JournalFile  = "checkpoint"          // the journal: the job's durable state
	DamagedFile  = "checkpoint.damaged"  // a copy of a journal whose middle was damaged, kept for inspection
	PreviousFile = "checkpoint.previous" // the customer ids of the journals that --restart forgot
	LockFile     = "lock"                // the lock file; holds the pid of the process that has the lock
	ResultsFile  = "results.csv"
	RejectsFile  = "rejects.csv"
	SummaryFile  = "summary.json"
	// InferredMappingFile is where the importer saves a mapping it inferred; this package only knows the
	// name, as one of the job's own files.
	InferredMappingFile = "mapping.inferred.yaml"
)

// tempMark is in the name of every temporary file this package creates ("." + name + tempMark + random),
// so that what a crash leaves behind can be recognised and removed.
const tempMark = ".zi-tmp-"

// Reset forgets a job (--restart). First it keeps the journal's customer ids: each reference's latest id
// is merged into checkpoint.previous (see PreviousIDs), so that a row the API later answers with "already
// exists" and no id still gets its id. Then it removes the journal, its damaged copy, results.csv,
// rejects.csv, summary.json and temporary files; a journal whose header cannot be read (its ids cannot be
// tied to an API) is kept as checkpoint.damaged instead. The lock file stays, and so does anything else in
// the directory; the lock, on the directory, is untouched. Reset removes only the job's own files: if a
// file with one of those names is not (see CheckDir), it refuses with a *DirError and changes nothing. A
// crash during Reset leaves checkpoint.previous whole, old or new, and the job as it was or reset: running
// --restart again finishes it. The caller holds the lock.
func Reset(dir string) error {
	names := []string{JournalFile, DamagedFile, PreviousFile, ResultsFile, RejectsFile, SummaryFile}
	var foreign []string
	for _, name := range names {
		why, err := notOurs(dir, name)
		if err != nil {
			return fmt.Errorf("restart job: %w", err)
		}
		if why != "" {
			foreign = append(foreign, name+" ("+why+")")
		}
	}
	if err := foreignError(dir, foreign); err != nil {
		return err
	}
	readable, err := keepIDs(dir)
	if err != nil {
		return fmt.Errorf("restart job: keep the customer ids: %w", err)
	}
	remove := []string{JournalFile, DamagedFile, ResultsFile, RejectsFile, SummaryFile}
	if !readable {
		if err := os.Rename(filepath.Join(dir, JournalFile), filepath.Join(dir, DamagedFile)); err != nil {
			return fmt.Errorf("restart job: %w", err)
		}
		remove = remove[2:]
	}
	for _, name := range remove {
		if err := os.Remove(filepath.Join(dir, name)); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("restart job: %w", err)
		}
	}
	if err := removeTemps(dir); err != nil {
		return err
	}
	if err := syncDir(dir); err != nil {
		return fmt.Errorf("restart job: %w", err)
	}
	return nil
}

// removeTemps removes the temporary files of this package in dir (regular files only).
func removeTemps(dir string) error {
	temps, err := filepath.Glob(filepath.Join(dir, ".*"+tempMark+"*"))
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

func createTemp(path string) (*os.File, error) {
	return os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+tempMark+"*")
}

// syncDir makes a directory's entries (a created, renamed or removed file) durable.
func syncDir(dir string) error {
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

// AtomicFile is a file that appears under its name complete or not at all. It is written under a
// temporary name in the same directory (mode 0600), and Commit syncs it, renames it into place and syncs
// the directory. A crash before Commit leaves only the temporary file, which LockDir and Reset remove.
type AtomicFile struct {
	f    *os.File
	path string
	done bool
}

// CreateAtomic starts writing path.
func CreateAtomic(path string) (*AtomicFile, error) {
	f, err := createTemp(path)
	if err != nil {
		return nil, fmt.Errorf("create %s: %w", path, unwrapPath(err))
	}
	return &AtomicFile{f: f, path: path}, nil
}

// Write writes to the temporary file.
func (a *AtomicFile) Write(p []byte) (int, error) {
	if a.done {
		return 0, fmt.Errorf("write %s: %w", a.path, fs.ErrClosed)
	}
	n, err := a.f.Write(p)
	if err != nil {
		return n, fmt.Errorf("write %s: %w", a.path, unwrapPath(err))
	}
	return n, nil
}

// Commit makes the file durable under its name, replacing any file there. On failure the temporary file
// is removed and the old file, if any, is untouched.
func (a *AtomicFile) Commit() error {
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
		return fmt.Errorf("write %s: %w", a.path, unwrapPath(err))
	}
	if err := syncDir(filepath.Dir(a.path)); err != nil {
		return fmt.Errorf("write %s: %w", a.path, err)
	}
	return nil
}

// Abort removes the temporary file. After Commit it does nothing, so it suits a defer.
func (a *AtomicFile) Abort() error {
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

// unwrapPath drops the *PathError or *os.LinkError around err: the messages that wrap it name the job's
// file, not the temporary one those would name (a user has no use for ".results.csv.zi-tmp-123").
func unwrapPath(err error) error {
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
