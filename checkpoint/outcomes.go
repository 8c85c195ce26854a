package checkpoint

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/zentra/zentra-import/atomicfile"
)

// latest is one pass over a journal that found every row's latest record, and the finish record.
type latest struct {
	idx       *rowIndex
	r         io.ReaderAt
	size      int64
	salt      salt
	path      string
	finish    *frame // the latest finish record (its fields; the payload is not kept)
	reserved  int    // the latest reservation, 0 if none
	finishAt  int64
	outcomeAt int64
	tune      tuning
}

// findLatest scans a journal's records. Strict, it fails at damage; otherwise it skips damage as Open does.
func findLatest(dir, path string, r io.ReaderAt, size int64, s salt, strict bool, t tuning) (*latest, error) {
	l := &latest{idx: newRowIndex(dir, t), r: r, size: size, salt: s, path: path, tune: t}
	sc := newScanner(r, size, s, preludeSize)
	res, err := scanRecords(sc, func(fr *frame, off int64) error {
		switch fr.typ {
		case recStart:
			return l.idx.note(fr.row, off, false)
		case recOutcome:
			l.outcomeAt = off
			return l.idx.note(fr.row, off, true)
		case recReserve:
			l.reserved = fr.row
		case recFinish:
			l.finish, l.finishAt = &frame{total: fr.total, exitCode: fr.exitCode}, off
		}
		return nil
	})
	if err == nil && strict && (len(res.skipped) > 0 || res.tail >= 0) {
		at := res.tail
		if len(res.skipped) > 0 {
			at = res.skipped[0].off
		}
		err = &CorruptError{Path: path, Offset: at, Reason: "damaged record in a journal that was sound when opened (is the disk failing?)"}
	}
	if err != nil {
		l.close()
		return nil, err
	}
	return l, nil
}

func (l *latest) close() { l.idx.close() }

// staleFinish reports whether outcomes were recorded after the latest finish record.
func (l *latest) staleFinish() bool { return l.finish != nil && l.outcomeAt > l.finishAt }

// each calls fn with every row's latest record in row order: the raw record, its frame, and whether an
// in-flight record came after it.
func (l *latest) each(fn func(raw []byte, fr frame, inFlightAfter bool) error) error {
	rr := newRecReader(l.r, l.size, l.salt, l.tune)
	return l.idx.each(func(row int, e int64) error {
		off := e&entryOffset - 1
		raw, fr, err := rr.record(off)
		if err != nil {
			return &CorruptError{Path: l.path, Offset: off, Reason: fmt.Sprintf("reading row %d's record: %v", row, err)}
		}
		return fn(raw, fr, e&entryInFlight != 0)
	})
}

// recReader reads records at given offsets through a few read windows over the journal. Rows come in
// row order; in a journal of several runs the offsets they need form a few rising sequences, one per
// window.
type recReader struct {
	r    io.ReaderAt
	size int64
	salt salt
	wins []*window
	tick uint64
	big  []byte
}

type window struct {
	off  int64
	buf  []byte
	n    int
	used uint64
}

func newRecReader(r io.ReaderAt, size int64, s salt, t tuning) *recReader {
	rr := &recReader{r: r, size: size, salt: s}
	for range t.windows {
		rr.wins = append(rr.wins, &window{off: -1, buf: make([]byte, t.windowBytes)})
	}
	return rr
}

var errNotRecord = errors.New("no valid record there")

func (rr *recReader) record(off int64) ([]byte, frame, error) {
	rr.tick++
	var lru *window
	for _, w := range rr.wins {
		if w.off >= 0 && off >= w.off && off < w.off+int64(w.n) {
			if raw, fr, ok := rr.parse(w.buf[off-w.off : w.n]); ok {
				w.used = rr.tick
				return raw, fr, nil
			}
		}
		if lru == nil || w.used < lru.used {
			lru = w
		}
	}
	n, err := rr.r.ReadAt(lru.buf, off)
	if err != nil && !errors.Is(err, io.EOF) {
		return nil, frame{}, err
	}
	lru.off, lru.n, lru.used = off, n, rr.tick
	if raw, fr, ok := rr.parse(lru.buf[:n]); ok {
		return raw, fr, nil
	}
	// Larger than a window: read it whole.
	_, need := parseFrame(lru.buf[:n], rr.salt, &frame{})
	if need <= n || off+int64(need) > rr.size {
		return nil, frame{}, errNotRecord
	}
	if cap(rr.big) < need {
		rr.big = make([]byte, need)
	}
	if _, err := rr.r.ReadAt(rr.big[:need], off); err != nil {
		return nil, frame{}, err
	}
	if raw, fr, ok := rr.parse(rr.big[:need]); ok {
		return raw, fr, nil
	}
	return nil, frame{}, errNotRecord
}

func (rr *recReader) parse(b []byte) ([]byte, frame, bool) {
	var fr frame
	if res, _ := parseFrame(b, rr.salt, &fr); res != frameOK || fr.typ == recHeader || !fr.decode() {
		return nil, frame{}, false
	}
	return b[:fr.size], fr, true
}

// Outcomes calls fn with every row's latest outcome, in row order, after making everything queued durable.
// Rows with no outcome (only in flight) are left out. Memory stays bounded (a few megabytes) however many
// rows there are: an index of each row's latest record is built in a temporary file, then the records are
// read back in row order. Call it when nothing else is writing to the journal; records queued while it runs
// may be left out. An error from fn stops it and is returned.
func (j *Journal) Outcomes(fn func(Outcome) error) error {
	j.opMu.Lock()
	defer j.opMu.Unlock()
	if err := j.Sync(); err != nil {
		return err
	}
	j.mu.Lock()
	f, size, s := j.f, j.size, j.salt
	j.mu.Unlock()
	l, err := findLatest(j.dir, j.path, f, size, s, true, j.tune)
	if err != nil {
		return err
	}
	defer l.close()
	return l.each(func(_ []byte, fr frame, _ bool) error {
		if fr.typ != recOutcome {
			return nil
		}
		o, err := decodeOutcome(fr.payload)
		if err != nil {
			return err
		}
		return fn(o)
	})
}

// rewriteHow says what a rewrite changes besides compacting: damage it skips (a repair), the binding it
// writes in the header and whether it drops the finish record (a rebind); stage names it for crashHook.
type rewriteHow struct {
	stage      string
	skipDamage bool
	binding    *Binding
	dropFinish bool
}

// rewrite writes a compacted copy of the journal's first size bytes and renames it over path: the header,
// then each row's latest record in row order (an outcome followed by an in-flight record keeps one), and
// the latest finish record — before the rows if outcomes came after it, so that it stays superseded. It
// returns the new file, open for appending, its size and its number of records. If the rename happened,
// the new file is returned even with an error (the directory could not be synced).
func rewrite(path string, f *os.File, size int64, s salt, how rewriteHow, t tuning) (*os.File, int64, int, error) {
	sc := newScanner(f, size, s, preludeSize)
	hdr, _, ok, err := sc.next()
	if err != nil {
		return nil, 0, 0, fmt.Errorf("rewrite checkpoint: header unreadable: %w", err)
	}
	if !ok {
		return nil, 0, 0, errors.New("rewrite checkpoint: header damaged")
	}
	b, _ := decodeHeader(hdr.payload)
	if how.binding != nil {
		b = *how.binding
	}
	l, err := findLatest(filepath.Dir(path), path, f, size, s, !how.skipDamage, t)
	if err != nil {
		return nil, 0, 0, err
	}
	defer l.close()
	if how.dropFinish {
		l.finish = nil
	}
	tmp, err := atomicfile.CreateTemp(path)
	if err != nil {
		return nil, 0, 0, fmt.Errorf("rewrite checkpoint: %w", atomicfile.StripPath(err))
	}
	bw := bufio.NewWriterSize(tmp, 1<<20)
	cw := &countWriter{w: bw}
	cw.write(appendHeaderRecord(appendPrelude(nil, s), s, b), 0)
	var scratch []byte
	if l.reserved > 0 { // the rows it covers keep their "perhaps sent"
		cw.write(appendReserveRecord(nil, s, l.reserved), 1)
	}
	finish := func() {
		cw.write(appendFinishRecord(scratch[:0], s, l.finish.total, l.finish.exitCode), 1)
	}
	if l.staleFinish() {
		finish()
	}
	err = l.each(func(raw []byte, fr frame, inFlightAfter bool) error {
		cw.write(raw, 1)
		if inFlightAfter {
			scratch = appendStartRecord(scratch[:0], s, fr.row, fr.offset, fr.end)
			cw.write(scratch, 1)
		}
		return cw.err
	})
	if err == nil && l.finish != nil && !l.staleFinish() {
		finish()
	}
	if err == nil {
		err = cw.err
	}
	if err == nil {
		err = bw.Flush()
	}
	if err == nil {
		err = tmp.Sync()
	}
	if err == nil {
		crashHook(how.stage + ":synced")
		err = os.Rename(tmp.Name(), path)
	}
	if err != nil {
		tmp.Close()
		os.Remove(tmp.Name())
		return nil, 0, 0, fmt.Errorf("rewrite checkpoint: %w", atomicfile.StripPath(err))
	}
	crashHook(how.stage + ":renamed")
	if err := atomicfile.SyncDir(filepath.Dir(path)); err != nil {
		return tmp, cw.n, cw.records, fmt.Errorf("rewrite checkpoint: %w", err)
	}
	return tmp, cw.n, cw.records, nil
}

type countWriter struct {
	w       io.Writer
	n       int64
	records int
	err     error
}

func (c *countWriter) write(b []byte, records int) {
	if c.err != nil {
		return
	}
	n, err := c.w.Write(b)
	c.n += int64(n)
	c.records += records
	c.err = err
}

// compactIfWorth rewrites the journal when it holds many more records than rows, with nothing queued.
func (j *Journal) compactIfWorth(rows int) error {
	return j.rewriteWith(rewriteHow{stage: "compact"}, func() (bool, error) {
		worth := float64(j.records) > j.tune.compactRatio*float64(rows)+64
		return worth && len(j.pending) == 0 && j.durable == j.queued && !j.closing, nil
	}, "finish recorded, but compacting the checkpoint failed") // the old journal is intact and still in use
}

// rewriteWith rewrites the journal as how says, with Outcomes and other rewrites kept out and j.mu held,
// if ready says to (it may refuse with an error). failed names what failed when the rewrite did not get
// to replace the journal.
func (j *Journal) rewriteWith(how rewriteHow, ready func() (bool, error), failed string) error {
	j.opMu.Lock()
	defer j.opMu.Unlock()
	j.mu.Lock()
	defer j.mu.Unlock()
	if j.err != nil {
		return j.err
	}
	if ok, err := ready(); !ok || err != nil {
		return err
	}
	f, size, records, err := rewrite(j.path, j.f, j.size, j.salt, how, j.tune)
	if f == nil {
		return fmt.Errorf("%s: %w", failed, err)
	}
	return j.adopt(f, size, records, err)
}

// adopt makes a rewritten journal, renamed into place, the one the Journal writes to; j.mu is held. err
// is the rewrite's: the new journal is in place but its directory entry may not be durable, which is
// treated like a failed fsync (sticky).
func (j *Journal) adopt(f *os.File, size int64, records int, err error) error {
	j.f.Close()
	j.f, j.size, j.records = f, size, records
	if err != nil {
		j.err = err
		j.cond.Broadcast()
	}
	return err
}
