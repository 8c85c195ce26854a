package checkpoint

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/zentra/zentra-import/atomicfile"
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
	if err := atomicfile.RemoveTemps(dir); err != nil {
		return err
	}
	if err := atomicfile.SyncDir(dir); err != nil {
		return fmt.Errorf("restart job: %w", err)
	}
	return nil
}
