package importer

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"time"

	"github.com/zentra/zentra-import/csvfile"
)

// An input is bound to the bytes it had when the run opened it. The run hashes them once, as a whole
// (the job's fingerprint) and per block of boundBlock bytes, and reads them only through a boundReader,
// which checks each block against its hash before it hands out a byte of it: a row is never read from
// bytes that are not the job's, whatever happens to the file meanwhile (a truncation, a rewrite in
// place). What the blocks cannot show, the file's metadata does: the producer compares the open file and
// the path with what they were at the start (inspect), and the run does once more at the end (settle).
const (
	boundBlock = 64 << 10
	// watchEvery is how often the producer looks at the file's metadata (two stat calls).
	watchEvery = 100 * time.Millisecond
)

// changeKind says how the input changed.
type changeKind int

const (
	changeShrank changeKind = iota + 1
	changeGrew
	changeRewritten // the bytes (or only the metadata, until a check of the bytes says) were written in place
	changeReplaced  // another file at the path: moved or copied over it, or removed
)

// changedError says that the input changed while it was read.
type changedError struct {
	path  string
	kind  changeKind
	cause string // "it shrank from X to Y bytes", ...
	row   int    // the row being read when it was noticed; 0 before the first
	// bytesSeen is true when the bytes themselves were seen to differ, not only the metadata.
	bytesSeen bool
}

func (e *changedError) Error() string {
	at := ""
	if e.row > 0 {
		at = fmt.Sprintf(" at row %d", e.row)
	}
	return fmt.Sprintf("the input %s changed while it was read (%s%s)", e.path, e.cause, at)
}

// at names the row being read when the change was noticed.
func (e *changedError) at(row int) *changedError {
	c := *e
	c.row = row
	return &c
}

// keepsBound reports whether the bound bytes can still be read as they were: the file only grew, or its
// metadata changed and no block read so far differed. Reading may go on (each block is checked).
func (e *changedError) keepsBound() bool {
	return e.kind == changeGrew || (e.kind == changeRewritten && !e.bytesSeen)
}

// bind reads the bytes the input has now (s.size of them, from the open file s.f) once: their SHA-256,
// each block's, and their last two bytes. A file that changes meanwhile is a *changedError.
func (s *source) bind() error {
	h := sha256.New()
	buf := make([]byte, boundBlock)
	s.blocks = make([]byte, 0, (s.size+boundBlock-1)/boundBlock*sha256.Size)
	for off := int64(0); off < s.size; off += boundBlock {
		want := min(boundBlock, s.size-off)
		n, err := s.f.ReadAt(buf[:want], off)
		if int64(n) < want {
			if err == nil || errors.Is(err, io.EOF) {
				return s.shortRead(off + int64(n))
			}
			return fmt.Errorf("read %s: %w", s.path, err)
		}
		h.Write(buf[:n])
		sum := sha256.Sum256(buf[:n])
		s.blocks = append(s.blocks, sum[:]...)
		if off+want == s.size {
			copy(s.tail[max(0, 2-n):], buf[max(0, n-2):n])
		}
	}
	s.sum = hex.EncodeToString(h.Sum(nil))
	if c := s.inspect(); c != nil {
		return c // changed while it was hashed: which bytes were hashed is unknown
	}
	return nil
}

// shortRead is the error for a read of the bound bytes that ended at off, before their end.
func (s *source) shortRead(off int64) *changedError {
	if c := s.inspect(); c != nil && c.kind != changeRewritten && c.kind != changeGrew {
		return c
	}
	return &changedError{path: s.path, kind: changeShrank, bytesSeen: true,
		cause: fmt.Sprintf("it shrank from %d to %d bytes", s.size, off)}
}

// inspect compares the open file and the path with what they were when the run opened the input. It
// returns nil when nothing shows a change. A change of the modification or status-change time alone is
// changeRewritten without bytesSeen: only reading the bytes again (verify) tells a rewrite from a touch.
func (s *source) inspect() *changedError {
	c := &changedError{path: s.path}
	now, err := s.f.Stat()
	if err != nil {
		return nil // fstat of an open file does not fail; if it does, the blocks still guard the bytes
	}
	at, perr := os.Stat(s.path)
	switch {
	case errors.Is(perr, fs.ErrNotExist):
		c.kind, c.cause = changeReplaced, "it was removed or moved away"
	case perr == nil && !os.SameFile(s.opened, at):
		c.kind, c.cause = changeReplaced, "another file took its place: it was moved or copied over it"
	case now.Size() < s.size:
		c.kind, c.cause = changeShrank, fmt.Sprintf("it shrank from %d to %d bytes", s.size, now.Size())
	case now.Size() > s.size:
		c.kind, c.cause = changeGrew, fmt.Sprintf("it grew from %d to %d bytes", s.size, now.Size())
	case !now.ModTime().Equal(s.opened.ModTime()) || changeTime(now) != changeTime(s.opened):
		c.kind, c.cause = changeRewritten, "it was written to in place"
	default:
		return nil
	}
	return c
}

// watch is the producer's look at the file: inspect, at most every watchEvery unless force.
func (s *source) watch(force bool) *changedError {
	if !force && time.Since(s.watched) < watchEvery {
		return nil
	}
	s.watched = time.Now()
	return s.inspect()
}

// settle is the check at the end of a run or a validation: nil when the input is still the bytes it was
// bound to. A change of the times alone has the bytes read again (one pass over the file) and counts
// only if they differ: a touched file is not a changed one.
func (s *source) settle() *changedError {
	c := s.inspect()
	if c == nil || !c.keepsBound() || c.kind == changeGrew {
		return c
	}
	if err := s.verify(); err != nil {
		var ce *changedError
		if errors.As(err, &ce) {
			return ce
		}
		return c
	}
	return nil
}

// verify reads every bound byte again through a boundReader.
func (s *source) verify() error {
	_, err := io.Copy(io.Discard, s.bound())
	return err
}

// prefixSum is the SHA-256 (hex) of the input's first n bytes, read through the blocks' check.
func (s *source) prefixSum(n int64) (string, error) {
	h := sha256.New()
	if _, err := io.CopyN(h, s.bound(), n); err != nil {
		return "", err
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// endsInLineBreak reports whether the bound bytes end in a line break (for UTF-16, the code unit).
func (s *source) endsInLineBreak(d csvfile.Dialect) bool {
	switch d.Encoding {
	case "utf-16le":
		return s.size%2 == 0 && s.tail == [2]byte{'\n', 0}
	case "utf-16be":
		return s.size%2 == 0 && s.tail == [2]byte{0, '\n'}
	}
	return s.size > 0 && s.tail[1] == '\n'
}

// bound returns a reader of the bound bytes from their start.
func (s *source) bound() *boundReader {
	return &boundReader{s: s, blk: -1}
}

// boundReader reads the bound bytes, block by block, each checked against its hash before any of it is
// handed out. It is an io.ReadSeeker over exactly s.size bytes; a block that is short or differs is a
// *changedError.
type boundReader struct {
	s   *source
	pos int64
	blk int64 // the block in buf, -1 for none
	buf []byte
}

func (b *boundReader) Read(p []byte) (int, error) {
	if b.pos >= b.s.size {
		return 0, io.EOF
	}
	i := b.pos / boundBlock
	if i != b.blk {
		if err := b.load(i); err != nil {
			return 0, err
		}
	}
	n := copy(p, b.buf[b.pos-i*boundBlock:])
	b.pos += int64(n)
	return n, nil
}

func (b *boundReader) load(i int64) error {
	start := i * boundBlock
	want := min(boundBlock, b.s.size-start)
	if b.buf == nil {
		b.buf = make([]byte, boundBlock)
	}
	b.blk = -1
	n, err := b.s.f.ReadAt(b.buf[:want], start)
	if int64(n) < want {
		if err == nil || errors.Is(err, io.EOF) {
			return b.s.shortRead(start + int64(n))
		}
		return fmt.Errorf("read %s: %w", b.s.path, err)
	}
	sum := sha256.Sum256(b.buf[:want])
	if !bytes.Equal(sum[:], b.s.blocks[i*sha256.Size:(i+1)*sha256.Size]) {
		c := b.s.inspect()
		if c == nil || c.kind == changeRewritten || c.kind == changeGrew {
			c = &changedError{path: b.s.path, kind: changeRewritten,
				cause: fmt.Sprintf("it was rewritten in place: bytes %d to %d no longer hold what they held at the start", start, start+want)}
		}
		c.bytesSeen = true
		return c
	}
	b.buf, b.blk = b.buf[:want], i
	return nil
}

func (b *boundReader) Seek(offset int64, whence int) (int64, error) {
	switch whence {
	case io.SeekCurrent:
		offset += b.pos
	case io.SeekEnd:
		offset += b.s.size
	}
	if offset < 0 {
		return 0, fmt.Errorf("seek %s: negative position", b.s.path)
	}
	b.pos = offset
	return offset, nil
}
