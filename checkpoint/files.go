package checkpoint

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
)

// The journal's files in a job directory (package jobdir names the others).
const (
	JournalFile  = "checkpoint"          // the journal: the job's durable state
	DamagedFile  = "checkpoint.damaged"  // a copy of a journal whose middle was damaged, kept for inspection
	PreviousFile = "checkpoint.previous" // the customer ids of the journals that --restart forgot
)

// Forget forgets the journal of the job in dir (--restart). First it keeps the journal's customer ids:
// each reference's latest id is merged into checkpoint.previous (see PreviousIDs), so that a row the API
// later answers with "already exists" and no id still gets its id. Then it removes the journal and its
// damaged copy; a journal whose header cannot be read (its ids cannot be tied to an API) is kept as
// checkpoint.damaged instead. A crash during Forget leaves checkpoint.previous whole, old or new, and the
// journal as it was or forgotten: forgetting again finishes it. The caller holds the job directory's
// lock, has made sure that the files under the journal's names are journals (see Recognize), and makes
// the directory's entries durable (jobdir.Reset does all three).
func Forget(dir string) error {
	readable, err := keepIDs(dir)
	if err != nil {
		return fmt.Errorf("restart job: keep the customer ids: %w", err)
	}
	remove := []string{JournalFile, DamagedFile}
	if !readable {
		if err := os.Rename(filepath.Join(dir, JournalFile), filepath.Join(dir, DamagedFile)); err != nil {
			return fmt.Errorf("restart job: %w", err)
		}
		remove = nil
	}
	for _, name := range remove {
		if err := os.Remove(filepath.Join(dir, name)); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("restart job: %w", err)
		}
	}
	return nil
}

// Recognize tells what the file at path (of size bytes), found under one of the journal's names, is: a
// journal (it starts with the magic, or with as much of it as it holds: an empty file is one being
// created), one whose start was destroyed (damaged: see startDamage, which reads at most its first MiB),
// or neither, a file of someone else's. It is how a job directory tells its own journal files.
func Recognize(path string, size int64) (journal, damaged bool, err error) {
	f, err := os.Open(path)
	if err != nil {
		return false, false, err
	}
	defer f.Close()
	head := make([]byte, len(magic))
	n, err := io.ReadFull(f, head)
	if err != nil && err != io.EOF && err != io.ErrUnexpectedEOF {
		return false, false, err
	}
	if string(head[:n]) == magic[:n] {
		return true, false, nil
	}
	damaged, _, err = startDamage(f, size)
	return false, damaged, err
}
