package checkpoint

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
)

// JournalBinding returns the binding in the header of dir's journal, reading nothing else. ok is false
// when dir has no journal or none whose header can be read; Open then says why.
func JournalBinding(dir string) (b Binding, ok bool) {
	path := filepath.Join(dir, JournalFile)
	f, err := os.Open(path)
	if err != nil {
		return Binding{}, false
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil || fi.Size() == 0 {
		return Binding{}, false
	}
	_, _, b, err = readHeader(f, fi.Size(), path)
	return b, err == nil
}

// GrowsInto reports whether b binds the same job as old to a longer input: the same mapping, API and
// reading rules, and more input bytes. Whether the input's first old.InputSize bytes are still the ones
// old was bound to (the SHA-256 of that prefix equals old.InputSHA256) is for the caller to check: only
// it can read the input.
func (old Binding) GrowsInto(b Binding) bool {
	return b.InputSize > old.InputSize &&
		strings.EqualFold(old.MappingHash, b.MappingHash) && sameAPI(old.APIURL, b.APIURL) && old.Rules == b.Rules
}

// Rebind binds the journal to b, the binding of an input that extends the one the journal was opened
// with (see GrowsInto), and reopens the job: the journal is rewritten with b in its header and without
// its finish record, and the State that Open returned is no longer Complete. Every row's latest record
// is kept, so the rows already done stay done and the resume point is the first row after them. Call it
// right after Open, before anything is recorded.
//
// The rewrite is the one compaction does: a copy under a temporary name, synced, renamed over the
// journal, then the directory synced. A crash at any instant leaves either the old journal, bound to the
// old input, or the new one, bound to b, each whole; the next run resumes from either (from the old one it
// rebinds again).
func (j *Journal) Rebind(b Binding) error {
	err := j.rewriteWith(rewriteHow{stage: "rebind", binding: &b, dropFinish: true}, func() (bool, error) {
		if j.queued != 0 || j.closing {
			return false, errors.New("checkpoint: Rebind must come right after Open, before anything is recorded")
		}
		crashHook("rebind:start")
		return true, nil
	}, "rebind checkpoint to the grown input")
	if err != nil {
		return err
	}
	j.prior.Complete, j.prior.TotalRows, j.prior.ExitCode = false, 0, 0
	crashHook("rebind:done")
	return nil
}

// crashHook is called at the steps of a rewrite where a crash leaves a different file system: tests
// that kill the process there set it (in the package's tests, or with the crashpoint build tag, from
// ZI_CRASHPOINT in the binary). It does nothing otherwise.
var crashHook = func(string) {}
