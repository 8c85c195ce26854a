package checkpoint

import (
	"bytes"
	"crypto/rand"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"time"

	"github.com/zentra/zentra-import/atomicfile"
)

// DefaultCommitEvery is the group-commit delay when Options.CommitEvery is zero.
const DefaultCommitEvery = 25 * time.Millisecond

// Options tune a journal.
type Options struct {
	// CommitEvery bounds how long a record waits before the write and fsync that make it durable.
	CommitEvery time.Duration
	// RetryFailed makes rows whose latest outcome is failed or conflict count as not Done.
	RetryFailed bool
	// OnDurable is called after each fsync with the outcomes it made durable, in journal order, from the
	// journal's committer goroutine: keep it short and do not call the journal from it. The slice is the
	// callee's to keep.
	OnDurable func([]Outcome)
	// SeedRef is called during Open for every durable outcome with a non-empty Ref, in journal order, with
	// its status.
	SeedRef func(ref string, row int, st Status)
}

// blockRows is the granularity at which Open remembers where in the journal a row's records start, to find
// the resume offset without a second full scan.
const blockRows = 64

// Open opens the job's journal in dir, creating it (and dir, 0700) if it does not exist or is empty, and
// recovers its state. A torn or damaged tail is cut off; damage followed by intact records is skipped and
// the journal rewritten without it; either is described in State.Repaired. A journal made for another
// binding is refused with a *BindingError, one that cannot be read with a *CorruptError; neither is changed.
func Open(dir string, b Binding, opts Options) (*Journal, *State, error) {
	return open(dir, b, opts, defaultTuning)
}

func open(dir string, b Binding, opts Options, t tuning) (*Journal, *State, error) {
	if opts.CommitEvery <= 0 {
		opts.CommitEvery = DefaultCommitEvery
	}
	if err := atomicfile.EnsureDir(dir); err != nil {
		return nil, nil, err
	}
	path := filepath.Join(dir, JournalFile)
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if errors.Is(err, fs.ErrNotExist) {
		return create(dir, path, b, opts, t)
	}
	if err != nil {
		return nil, nil, fmt.Errorf("open checkpoint: %w", err)
	}
	fi, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, nil, fmt.Errorf("open checkpoint: %w", err)
	}
	if fi.Size() == 0 {
		f.Close()
		return create(dir, path, b, opts, t)
	}
	r := recovery{dir: dir, path: path, f: f, size: fi.Size(), binding: b, opts: opts, tune: t}
	j, st, err := r.run()
	if err != nil {
		f.Close()
		return nil, nil, err
	}
	return j, st, nil
}

func create(dir, path string, b Binding, opts Options, t tuning) (*Journal, *State, error) {
	var raw [8]byte
	if _, err := rand.Read(raw[:]); err != nil {
		return nil, nil, fmt.Errorf("create checkpoint: %w", atomicfile.StripPath(err))
	}
	s := newSalt(raw)
	buf := appendHeaderRecord(appendPrelude(nil, s), s, b)
	f, err := atomicfile.CreateTemp(path)
	if err != nil {
		return nil, nil, fmt.Errorf("create checkpoint %s: %w", path, atomicfile.StripPath(err))
	}
	if err := writeSyncRename(f, buf, path); err != nil {
		return nil, nil, fmt.Errorf("create checkpoint %s: %w", path, atomicfile.StripPath(err))
	}
	st := &State{Fresh: true, ResumeRow: 1, ResumeOffset: -1, Counts: map[Status]int{}, retryFailed: opts.RetryFailed}
	j, err := newJournal(dir, path, f, int64(len(buf)), s, 0, st, opts, t)
	if err != nil {
		f.Close()
		return nil, nil, err
	}
	return j, st, nil
}

// writeSyncRename writes a whole temporary file, makes it durable and renames it to path. f stays open
// for the caller only on success; on failure it is closed (and removed if the rename did not happen).
func writeSyncRename(f *os.File, buf []byte, path string) error {
	_, err := f.Write(buf)
	if err == nil {
		err = f.Sync()
	}
	if err == nil {
		if err = os.Rename(f.Name(), path); err == nil {
			if err = atomicfile.SyncDir(filepath.Dir(path)); err != nil {
				f.Close() // renamed: the journal is in place, but not known durable; the next Open reads it
			}
			return err
		}
	}
	f.Close()
	os.Remove(f.Name())
	return err
}

// recovery reads an existing journal into a State.
type recovery struct {
	dir, path string
	f         *os.File
	size      int64
	binding   Binding
	opts      Options
	tune      tuning

	salt       salt
	st         *State
	records    int
	blockFirst []int64 // per block of rows: offset of the first record of any of its rows
	finishAt   int64   // offset of the latest finish record, or 0
	outcomeAt  int64   // offset of the latest outcome record, or 0
}

// readHeader checks the prelude and the header record, and the binding in it.
func (r *recovery) readHeader() (*scanner, error) {
	s, sc, old, err := readHeader(r.f, r.size, r.path)
	if err != nil {
		return nil, err
	}
	r.salt = s
	if c := old.diff(r.binding); len(c) > 0 {
		return nil, &BindingError{Dir: r.dir, Changes: c}
	}
	return sc, nil
}

// readHeader checks a journal's prelude and header record. It returns the salt, a scanner positioned
// after the header, and the binding in it; a file it cannot read as a journal gives a *CorruptError.
func readHeader(f io.ReaderAt, size int64, path string) (salt, *scanner, Binding, error) {
	corrupt := func(off int64, format string, args ...any) error {
		return &CorruptError{Path: path, Offset: off, Reason: fmt.Sprintf(format, args...)}
	}
	foreign := func(reason string) error {
		return &CorruptError{Path: path, Offset: -1, Reason: reason, foreign: true}
	}
	var pre [preludeSize]byte
	n, err := f.ReadAt(pre[:min(size, preludeSize)], 0)
	if err != nil && !(err == io.EOF && int64(n) == min(size, preludeSize)) {
		return salt{}, nil, Binding{}, fmt.Errorf("read checkpoint: %w", err)
	}
	if m := min(n, len(magic)); string(pre[:m]) != magic[:m] {
		if lost, zeros, err := startDamage(f, size); err != nil {
			return salt{}, nil, Binding{}, fmt.Errorf("read checkpoint: %w", err)
		} else if lost {
			reason := "the journal is damaged at its start"
			if zeros > 0 {
				reason += fmt.Sprintf(" (its first %d bytes are zeros)", zeros)
			}
			reason += ": its header, which ties the job to its input, mapping and API, is lost"
			return salt{}, nil, Binding{}, &CorruptError{Path: path, Offset: -1, Reason: reason, startLost: true}
		}
		return salt{}, nil, Binding{}, foreign("not a zentra-import checkpoint journal")
	}
	if size < preludeSize {
		return salt{}, nil, Binding{}, corrupt(-1, "not a zentra-import checkpoint journal (%d bytes, too short)", size)
	}
	if v := binary.BigEndian.Uint16(pre[len(magic):]); v != formatVersion {
		return salt{}, nil, Binding{}, corrupt(-1, "journal format %d; this zentra-import reads format %d (a newer version wrote it?)", v, formatVersion)
	}
	s := newSalt([8]byte(pre[len(magic)+2:]))
	sc := newScanner(f, size, s, preludeSize)
	fr, _, ok, err := sc.next()
	if err != nil && err != io.EOF {
		return salt{}, nil, Binding{}, fmt.Errorf("read checkpoint: %w", err)
	}
	if !ok {
		return salt{}, nil, Binding{}, corrupt(preludeSize, "the header record is damaged, so the job's input, mapping and API cannot be checked")
	}
	b, _ := decodeHeader(fr.payload)
	return s, sc, b, nil
}

// startLookAhead is how far into a file without the magic startDamage looks for a record's sync marker.
const startLookAhead = 1 << 20

// startDamage tells, of a file that does not start with the journal's magic, whether it is a journal whose
// start was destroyed rather than a file of someone else's: its first 16 bytes (the prelude's place) are
// zeros, as a lost block reads back after a crash, or a record's sync marker appears within its first
// MiB (0xF7 never occurs in UTF-8 text). zeros counts the zero bytes it starts with.
func startDamage(r io.ReaderAt, size int64) (lost bool, zeros int, err error) {
	b := make([]byte, min(size, startLookAhead+int64(len(marker))))
	n, err := r.ReadAt(b, 0)
	if err != nil && !(err == io.EOF && n == len(b)) {
		return false, 0, err
	}
	for zeros < n && b[zeros] == 0 {
		zeros++
	}
	return zeros >= preludeSize || bytes.Contains(b[:n], marker[:]), zeros, nil
}

func (r *recovery) run() (*Journal, *State, error) {
	sc, err := r.readHeader()
	if err != nil {
		return nil, nil, err
	}
	r.st = &State{ResumeOffset: -1, retryFailed: r.opts.RetryFailed}
	res, err := scanRecords(sc, r.apply)
	if err != nil {
		return nil, nil, fmt.Errorf("read checkpoint: %w", err)
	}
	st := r.st
	st.Fresh = r.records == 0
	st.tally()
	if r.finishAt > r.outcomeAt && st.ResumeRow > st.TotalRows {
		st.Complete = true
	}
	if st.ResumeOffset, err = r.resumeOffset(st.ResumeRow); err != nil {
		return nil, nil, err
	}
	f, size, records := r.f, res.end, r.records
	switch {
	case len(res.skipped) > 0:
		if err := keepCopy(r.f, r.size, filepath.Join(r.dir, DamagedFile)); err != nil {
			return nil, nil, fmt.Errorf("repair checkpoint: %w", err)
		}
		st.Repaired = describeSkipped(res, r.records)
		newF, newSize, newRecords, err := rewrite(r.path, r.f, res.end, r.salt, rewriteHow{stage: "repair", skipDamage: true}, r.tune)
		if err != nil {
			if newF != nil {
				newF.Close()
			}
			return nil, nil, fmt.Errorf("repair checkpoint: %w", err)
		}
		r.f.Close()
		f, size, records = newF, newSize, newRecords
	case res.tail >= 0:
		if err := r.f.Truncate(res.tail); err != nil {
			return nil, nil, fmt.Errorf("repair checkpoint: %w", err)
		}
		if err := r.f.Sync(); err != nil {
			return nil, nil, fmt.Errorf("repair checkpoint: %w", err)
		}
		st.Repaired = fmt.Sprintf("checkpoint: cut %d damaged bytes at offset %d, the tail of a write that the interruption cut short; the %d records before it are intact",
			res.tailLen, res.tail, r.records)
	}
	j, err := newJournal(r.dir, r.path, f, size, r.salt, records, st, r.opts, r.tune)
	if err != nil {
		if f != r.f {
			f.Close() // the rewritten journal; the caller closes r.f
		}
		return nil, nil, err
	}
	return j, st, nil
}

// apply adds one record to the state.
func (r *recovery) apply(fr *frame, off int64) error {
	r.records++
	rows := &r.st.rows
	if (fr.typ == recStart || fr.typ == recOutcome) && fr.row >= r.st.LastRow {
		r.st.LastRow, r.st.LastOffset, r.st.LastEnd = fr.row, fr.offset, fr.end
	}
	switch fr.typ {
	case recStart:
		rows.set(fr.row, rows.get(fr.row)|nibInFlight)
		r.noteBlock(fr.row, off)
	case recOutcome:
		rows.set(fr.row, uint8(fr.status))
		r.noteBlock(fr.row, off)
		r.outcomeAt = off
		if r.opts.SeedRef != nil && len(fr.ref) > 0 {
			r.opts.SeedRef(string(fr.ref), fr.row, fr.status)
		}
	case recReserve:
		r.st.reserved = fr.row // the latest reservation: every writer keeps it at or above the one before it
	case recFinish:
		r.st.TotalRows, r.st.ExitCode = fr.total, fr.exitCode
		r.finishAt = off
	}
	return nil
}

func (r *recovery) noteBlock(row int, off int64) {
	b := row / blockRows
	if b >= len(r.blockFirst) {
		r.blockFirst = append(r.blockFirst, make([]int64, b+1-len(r.blockFirst))...)
	}
	if r.blockFirst[b] == 0 {
		r.blockFirst[b] = off
	}
}

// resumeOffset finds where row starts in the input: from a record of the row itself, or the End in a record
// of the row before it. It scans from the first record of either row's block, so in a journal written
// roughly in row order it reads a few records, not the file.
func (r *recovery) resumeOffset(row int) (int64, error) {
	if row <= 1 {
		return -1, nil
	}
	from := int64(0)
	for _, b := range []int{(row - 1) / blockRows, row / blockRows} {
		if b < len(r.blockFirst) && r.blockFirst[b] != 0 && (from == 0 || r.blockFirst[b] < from) {
			from = r.blockFirst[b]
		}
	}
	if from == 0 {
		return -1, nil
	}
	var pos int64 = -1
	found := errors.New("found")
	_, err := scanRecords(newScanner(r.f, r.size, r.salt, from), func(fr *frame, _ int64) error {
		if fr.typ != recStart && fr.typ != recOutcome {
			return nil
		}
		switch fr.row {
		case row:
			pos = fr.offset
		case row - 1:
			pos = fr.end
		default:
			return nil
		}
		return found
	})
	if err != nil && err != found {
		return -1, fmt.Errorf("read checkpoint: %w", err)
	}
	return pos, nil
}

// describeSkipped is State.Repaired for damage in the middle of the journal.
func describeSkipped(res scanResult, records int) string {
	var n int64
	for _, g := range res.skipped {
		n += g.len
	}
	if res.tail >= 0 {
		n += res.tailLen
	}
	places := len(res.skipped)
	if res.tail >= 0 {
		places++
	}
	where := "1 place"
	if places > 1 {
		where = fmt.Sprintf("%d places", places)
	}
	return fmt.Sprintf("checkpoint: skipped %d damaged bytes in %s (the first at offset %d) and kept the %d intact records around them; rows whose records were lost will be sent again; the damaged file is kept as %s",
		n, where, res.skipped[0].off, records, DamagedFile)
}

// keepCopy saves the damaged journal for inspection before it is rewritten.
func keepCopy(f *os.File, size int64, path string) error {
	a, err := atomicfile.Create(path)
	if err != nil {
		return err
	}
	defer a.Abort()
	if _, err := io.Copy(a, io.NewSectionReader(f, 0, size)); err != nil {
		return err
	}
	return a.Commit()
}
