package jobdir

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/zentra/zentra-import/atomicfile"
	"github.com/zentra/zentra-import/checkpoint"
)

// The files of a job directory, besides the journal's (checkpoint.JournalFile, DamagedFile and
// PreviousFile).
const (
	LockFile    = "lock" // the lock file; holds the pid of the process that has the lock
	ResultsFile = "results.csv"
	RejectsFile = "rejects.csv"
	SummaryFile = "summary.json"
	// InferredMappingFile is where the importer saves a mapping it inferred; this package only knows the
	// name, as one of the job's own files.
	InferredMappingFile = "mapping.inferred.yaml"
)

// Reset forgets a job (--restart). First it forgets the journal, keeping its customer ids (see
// checkpoint.Forget: they are merged into checkpoint.previous, and a journal whose header cannot be read
// is kept as checkpoint.damaged). Then it removes results.csv, rejects.csv, summary.json and temporary
// files. The lock file stays, and so does anything else in the directory; the lock, on the directory, is
// untouched. Reset removes only the job's own files: if a file with one of those names is not (see
// CheckDir), it refuses with a *DirError and changes nothing. A crash during Reset leaves
// checkpoint.previous whole, old or new, and the job as it was or reset: running --restart again finishes
// it. The caller holds the lock.
func Reset(dir string) error {
	names := []string{checkpoint.JournalFile, checkpoint.DamagedFile, checkpoint.PreviousFile, ResultsFile, RejectsFile, SummaryFile}
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
	if err := checkpoint.Forget(dir); err != nil {
		return err
	}
	for _, name := range []string{ResultsFile, RejectsFile, SummaryFile} {
		if err := os.Remove(filepath.Join(dir, name)); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("restart job: %w", err)
		}
	}
	if err := atomicfile.RemoveTemps(dir); err != nil {
		return err
	}
	if err := atomicfile.SyncDir(dir); err != nil {
		return fmt.Errorf("restart job: %w", err)
	}
	return nil
}
