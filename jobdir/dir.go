package jobdir

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/zentra/zentra-import/atomicfile"
	"github.com/zentra/zentra-import/checkpoint"
)

// jobFiles are the names a job writes in its directory, besides its temporary files.
var jobFiles = []string{LockFile, checkpoint.JournalFile, checkpoint.DamagedFile, checkpoint.PreviousFile, ResultsFile, RejectsFile, SummaryFile, InferredMappingFile}

func isJobFile(name string) bool {
	for _, n := range jobFiles {
		if n == name {
			return true
		}
	}
	return false
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
	// OldLock: among the foreign entries is a lock file of an earlier version (empty, or a pid alone),
	// which proves nothing any more without a journal beside it.
	OldLock bool
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
	hint := "give --out a new or empty directory (it is created if missing), or the directory of an earlier run " +
		"of this job to resume it; the job never deletes or overwrites files that are not its own"
	if e.OldLock {
		hint += ". A directory that an earlier version of zentra-import left without a checkpoint (a validate's, " +
			"or a run stopped before its first row) cannot be told from a folder of yours holding a file named lock: " +
			"if it is such a directory, remove it or give another --out"
	}
	return hint
}

// CheckDir makes sure that a run with this input can use dir as its job directory without harming anything
// in it. It refuses, with a *DirError, an existing directory that holds entries other than the job's own
// files (lock, checkpoint, checkpoint.damaged, checkpoint.previous, results.csv, rejects.csv, summary.json,
// mapping.inferred.yaml and temporary files), counting as foreign a file with one of those names that is
// not a regular file, a lock file that is not one, a checkpoint that is not a journal, a results.csv
// without the results header, a summary.json this tool did not write, and the job files that only a proof
// beside them makes the job's: results.csv, rejects.csv, summary.json, mapping.inferred.yaml, a lock file
// of an earlier version (empty, or a pid alone: anyone can write that) and a journal damaged at its start.
// The proof is a lock file with this version's marker or a non-empty journal. It also refuses an input
// that is one of those files in dir, whatever else dir holds (input "" is not checked). A missing
// directory, an empty one or one holding only job files is fine. CheckDir changes nothing; call it before
// LockDir.
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
	// from the moment a run or validate takes the directory (and stays, the marker alone, after it),
	// before any other file, so a crash does not leave a directory that every later run refuses. A
	// summary.json proves nothing: it is a file users copy around; nor does a bare pid.
	proven, old := false, false
	for _, e := range entries {
		name := e.Name()
		if !isJobFile(name) && !atomicfile.IsTemp(name) {
			foreign = append(foreign, showName(name))
			continue
		}
		v, err := judge(dir, name)
		if err != nil {
			return err
		}
		switch {
		case v.why != "":
			foreign = append(foreign, showName(name)+" ("+v.why+")")
		case v.proves:
			proven = true
		case v.unproven != "":
			unproven = append(unproven, showName(name)+" ("+v.unproven+")")
			old = old || name == LockFile
		}
	}
	if !proven {
		// Without a lock or journal beside them, job files are taken for the user's.
		foreign = append(foreign, unproven...)
	} else {
		old = false
	}
	if err := foreignError(dir, foreign); err != nil {
		err.(*DirError).OldLock = old
		return err
	}
	return nil
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

// verdict is what an entry with a job file's name is.
type verdict struct {
	why      string // why it is not the job's own; "" when it is, or is missing
	proves   bool   // it proves the directory a job's: a lock file with the marker, a non-empty journal
	unproven string // set when it is the job's own only beside such a proof: why it needs one
}

// Why the job files that need a proof beside them are refused without one.
const (
	needsProof      = "not beside a lock or checkpoint of zentra-import"
	needsProofLock  = "an empty or pid-only lock file, as earlier versions left, proves nothing without a checkpoint beside it"
	needsProofStart = "damaged at its start, and no lock of zentra-import beside it proves this a job directory"
)

// notOurs says why the entry name in dir, which has a job file's name, is not the job's own, or "" when it
// is (or is missing), or would be beside a proof. Only such entries are ever written, truncated or
// removed.
func notOurs(dir, name string) (string, error) {
	v, err := judge(dir, name)
	return v.why, err
}

// judge tells what the entry name in dir, which has a job file's name, is.
func judge(dir, name string) (verdict, error) {
	path := filepath.Join(dir, name)
	fi, err := os.Lstat(path)
	if errors.Is(err, fs.ErrNotExist) {
		return verdict{}, nil
	}
	if err != nil {
		return verdict{}, fmt.Errorf("job directory: %w", err)
	}
	if !fi.Mode().IsRegular() {
		return verdict{why: "not a regular file"}, nil
	}
	var head [maxLockSize]byte
	var n int
	if name == LockFile || name == ResultsFile {
		if n, err = readHead(path, head[:]); err != nil {
			return verdict{}, fmt.Errorf("job directory: %w", err)
		}
	}
	switch name {
	case ResultsFile:
		if !bytes.HasPrefix(bytes.TrimPrefix(head[:n], []byte(UTF8BOM)), []byte(strings.Join(resultColumns, ","))) {
			return verdict{why: "not a results file of zentra-import"}, nil
		}
	case SummaryFile:
		if !isSummary(path, fi.Size()) {
			return verdict{why: "not a summary of zentra-import"}, nil
		}
	case LockFile:
		switch kindOfLock(head[:n], fi.Size()) {
		case lockMarked:
			return verdict{proves: true}, nil
		case lockOld:
			return verdict{unproven: needsProofLock}, nil
		}
		return verdict{why: "not a lock file"}, nil
	case checkpoint.JournalFile, checkpoint.DamagedFile, checkpoint.PreviousFile:
		// A journal is created whole (renamed into place), so it starts with the magic; an empty file is
		// read as a fresh journal.
		journal, damaged, err := checkpoint.Recognize(path, fi.Size())
		switch {
		case err != nil:
			return verdict{}, fmt.Errorf("job directory: %w", err)
		case journal:
			return verdict{proves: name == checkpoint.JournalFile && fi.Size() > 0}, nil
		case damaged:
			return verdict{unproven: needsProofStart}, nil
		}
		return verdict{why: "not a zentra-import journal"}, nil
	}
	return verdict{unproven: needsProof}, nil
}

// Proven reports whether dir holds a job of this tool (a run's or a validate's): a lock file with this
// version's marker or a journal, as CheckDir takes for proof.
func Proven(dir string) bool {
	proven := false
	for _, name := range []string{LockFile, checkpoint.JournalFile} {
		v, err := judge(dir, name)
		if err != nil || v.why != "" {
			return false
		}
		proven = proven || v.proves
	}
	return proven
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
