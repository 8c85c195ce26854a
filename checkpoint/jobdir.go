package checkpoint

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// jobFiles are the names a job writes in its directory, besides its temporary files.
var jobFiles = []string{LockFile, JournalFile, DamagedFile, PreviousFile, ResultsFile, RejectsFile, SummaryFile, InferredMappingFile}

func isJobFile(name string) bool {
	for _, n := range jobFiles {
		if n == name {
			return true
		}
	}
	return false
}

// isTemp reports whether name is a temporary file of this package ("." + name + tempMark + random).
func isTemp(name string) bool {
	return strings.HasPrefix(name, ".") && strings.Contains(name[1:], tempMark)
}

// shownForeign bounds how many foreign entries a DirError names.
const shownForeign = 3

// DirError says that a directory cannot serve as a job directory: the input is one of the files the job
// writes there, or the directory holds entries that are not the job's own, which the job could overwrite.
type DirError struct {
	Dir     string
	Input   string   // set when the input is the job's file InputAs in Dir
	InputAs string   // the job file the input is
	Foreign []string // the first few entries that are not the job's, each with why when it has a job file's name
	More    int      // further such entries, not named
	Reason  string   // otherwise, what is wrong with Dir
}

func (e *DirError) Error() string {
	switch {
	case e.Input != "":
		return fmt.Sprintf("input %s is the job directory's %s: the job would overwrite it (job directory %s)", e.Input, e.InputAs, e.Dir)
	case len(e.Foreign) > 0:
		names := strings.Join(e.Foreign, ", ")
		if e.More > 0 {
			names += fmt.Sprintf(" and %d more", e.More)
		}
		return fmt.Sprintf("job directory %s holds files that are not the job's: %s", e.Dir, names)
	}
	return fmt.Sprintf("job directory %s: %s", e.Dir, e.Reason)
}

// Hint says how a user gets out.
func (e *DirError) Hint() string {
	if e.Input != "" {
		return "give --out a directory of its own, new or empty (it is created if missing): the job writes " +
			strings.Join(jobFiles[:len(jobFiles)-1], ", ") + " and " + jobFiles[len(jobFiles)-1] + " there"
	}
	return "give --out a new or empty directory (it is created if missing), or the directory of an earlier run " +
		"of this job to resume it; the job never deletes or overwrites files that are not its own"
}

// CheckDir makes sure that a run with this input can use dir as its job directory without harming anything
// in it. It refuses, with a *DirError, an existing directory that holds entries other than the job's own
// files (lock, checkpoint, checkpoint.damaged, checkpoint.previous, results.csv, rejects.csv, summary.json,
// mapping.inferred.yaml and temporary files), counting as foreign a file with one of those names that is
// not a regular file, a lock file that holds more than a pid, a checkpoint that is not a journal, a
// results.csv without the results header, a summary.json this tool did not write, and a rejects.csv or
// mapping.inferred.yaml with no lock or non-empty checkpoint beside it. It also refuses an input that is one of those files in dir, whatever else dir holds (input "" is not
// checked). A missing directory, an empty one or one holding only job files is fine. CheckDir changes
// nothing; call it before LockDir.
func CheckDir(dir, input string) error {
	if input != "" {
		if err := checkInput(dir, input); err != nil {
			return err
		}
	}
	fi, err := os.Stat(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("job directory: %w", err)
	}
	if !fi.IsDir() {
		return &DirError{Dir: dir, Reason: "not a directory"}
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		return fmt.Errorf("job directory: %w", err)
	}
	var foreign, unproven []string
	// The directory holds a lock or a journal of this tool: its job files are its own. The lock is there
	// from the moment a run or validate takes the directory (and stays, emptied, after it), before any
	// other file, so a crash does not leave a directory that every later run refuses. A summary.json proves
	// nothing: it is a file users copy around.
	proven := false
	for _, e := range entries {
		name := e.Name()
		if !isJobFile(name) && !isTemp(name) {
			foreign = append(foreign, showName(name))
			continue
		}
		why, err := notOurs(dir, name)
		if err != nil {
			return err
		}
		switch {
		case why != "":
			foreign = append(foreign, showName(name)+" ("+why+")")
		case name == LockFile:
			proven = true
		case name == JournalFile:
			proven = proven || nonEmpty(dir, name) // an empty file named checkpoint proves nothing
		case name == ResultsFile || name == RejectsFile || name == InferredMappingFile || name == SummaryFile:
			unproven = append(unproven, showName(name))
		}
	}
	if !proven {
		// Without a lock or journal beside them, job files are taken for the user's.
		for _, name := range unproven {
			foreign = append(foreign, name+" (not beside a lock or checkpoint of zentra-import)")
		}
	}
	return foreignError(dir, foreign)
}

// foreignError is the *DirError for a directory holding the foreign entries listed, or nil if none.
func foreignError(dir string, foreign []string) error {
	if len(foreign) == 0 {
		return nil
	}
	e := &DirError{Dir: dir, Foreign: foreign}
	if len(foreign) > shownForeign {
		e.Foreign, e.More = foreign[:shownForeign], len(foreign)-shownForeign
	}
	return e
}

// checkInput refuses an input that is (or would be) one of the job's files in dir: the same path, or the
// same file through a link or another spelling of the path.
func checkInput(dir, input string) error {
	absIn, err := filepath.Abs(input)
	if err != nil {
		return fmt.Errorf("input %s: %w", input, err)
	}
	absDir, err := filepath.Abs(dir)
	if err != nil {
		return fmt.Errorf("job directory %s: %w", dir, err)
	}
	inFI, inErr := os.Stat(absIn)
	for _, name := range jobFiles {
		p := filepath.Join(absDir, name)
		same := p == absIn
		if !same && inErr == nil {
			fi, err := os.Stat(p)
			same = err == nil && os.SameFile(fi, inFI)
		}
		if same {
			return &DirError{Dir: dir, Input: input, InputAs: name}
		}
	}
	return nil
}

// notOurs says why the entry name in dir, which has a job file's name, is not the job's own, or "" when it
// is (or is missing). Only such entries are ever written, truncated or removed.
func notOurs(dir, name string) (string, error) {
	path := filepath.Join(dir, name)
	fi, err := os.Lstat(path)
	if errors.Is(err, fs.ErrNotExist) {
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("job directory: %w", err)
	}
	if !fi.Mode().IsRegular() {
		return "not a regular file", nil
	}
	var head [128]byte
	var n int
	if name == LockFile || name == JournalFile || name == DamagedFile || name == PreviousFile || name == ResultsFile {
		if n, err = readHead(path, head[:]); err != nil {
			return "", fmt.Errorf("job directory: %w", err)
		}
	}
	switch name {
	case ResultsFile:
		if !bytes.HasPrefix(head[:n], []byte(strings.Join(resultColumns, ","))) {
			return "not a results file of zentra-import", nil
		}
	case SummaryFile:
		if !isSummary(path, fi.Size()) {
			return "not a summary of zentra-import", nil
		}
	case LockFile:
		// A pid and a newline; a reader may meet a longer pid's tail while the holder rewrites it.
		if fi.Size() > int64(len(head)) || len(bytes.Trim(head[:n], "0123456789 \n")) > 0 {
			return "not a lock file", nil
		}
	case JournalFile, DamagedFile, PreviousFile:
		// A journal is created whole (renamed into place), so it starts with the magic; an empty file is
		// read as a fresh journal.
		if m := min(n, len(magic)); string(head[:m]) != magic[:m] {
			return "not a zentra-import journal", nil
		}
	}
	return "", nil
}

func nonEmpty(dir, name string) bool {
	fi, err := os.Stat(filepath.Join(dir, name))
	return err == nil && fi.Size() > 0
}

// IsJobDir reports whether dir holds a job of this tool (a run's or a validate's): a lock or a journal.
func IsJobDir(dir string) bool {
	for _, name := range []string{LockFile, JournalFile} {
		if why, err := notOurs(dir, name); err != nil || why != "" {
			return false
		}
		if name == LockFile && exists(dir, name) || nonEmpty(dir, name) {
			return true
		}
	}
	return false
}

func exists(dir, name string) bool {
	_, err := os.Lstat(filepath.Join(dir, name))
	return err == nil
}

// isSummary reports whether path holds a summary.json this tool wrote: a JSON object naming the command
// ("run" or "validate") and the input's SHA-256, and not larger than a summary can be.
func isSummary(path string, size int64) bool {
	if size > 1<<20 {
		return false
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return false
	}
	var s struct {
		Command  string `json:"command"`
		InputSHA string `json:"input_sha256"`
	}
	return json.Unmarshal(b, &s) == nil && (s.Command == "run" || s.Command == "validate") && len(s.InputSHA) == 64
}

func readHead(path string, b []byte) (int, error) {
	f, err := os.Open(path)
	if err != nil {
		return 0, err
	}
	defer f.Close()
	n, err := io.ReadFull(f, b)
	if err == io.EOF || err == io.ErrUnexpectedEOF {
		err = nil
	}
	return n, err
}

// showName quotes a name only when it holds characters that would not print plainly.
func showName(name string) string {
	if q := strconv.Quote(name); q[1:len(q)-1] != name {
		return q
	}
	return name
}
