package checkpoint

import (
	"bytes"
	"io"
)

const scanChunk = 1 << 20

// scanner reads the records of a journal in file order through one large buffer.
type scanner struct {
	r     io.ReaderAt
	size  int64 // bytes of the file to read
	salt  salt
	buf   []byte
	start int64 // file offset of buf[0]
	n     int   // bytes of buf that hold data
	pos   int64 // file offset of the next record
	cur   frame // the record next returned
}

func newScanner(r io.ReaderAt, size int64, s salt, from int64) *scanner {
	return &scanner{r: r, size: size, salt: s, buf: make([]byte, scanChunk), start: from, pos: from}
}

// fill returns the buffered bytes from pos on: at least need of them unless the file ends first.
func (s *scanner) fill(need int) ([]byte, error) {
	off := int(s.pos - s.start)
	if off >= 0 && off+need <= s.n {
		return s.buf[off:s.n], nil
	}
	if off >= 0 && off < s.n {
		s.n = copy(s.buf, s.buf[off:s.n])
	} else {
		s.n = 0
	}
	s.start = s.pos
	if need > len(s.buf) {
		grown := make([]byte, need)
		copy(grown, s.buf[:s.n])
		s.buf = grown
	}
	for s.n < len(s.buf) {
		left := s.size - (s.start + int64(s.n))
		if left <= 0 {
			break
		}
		m, err := s.r.ReadAt(s.buf[s.n:s.n+int(min(left, int64(len(s.buf)-s.n)))], s.start+int64(s.n))
		s.n += m
		if err != nil && err != io.EOF {
			return nil, err
		}
		if m == 0 {
			break
		}
	}
	return s.buf[:s.n], nil
}

// frameAt checks the record at pos: a whole record with a good checksum and a well-formed payload of a type
// allowed there (the header only right after the prelude, nothing but a header there). It decodes it into
// s.cur.
func (s *scanner) frameAt() (bool, error) {
	need := recHeaderSize
	for {
		b, err := s.fill(need)
		if err != nil {
			return false, err
		}
		res, claimed := parseFrame(b, s.salt, &s.cur)
		switch res {
		case frameShort:
			if len(b) < claimed && s.pos+int64(len(b)) < s.size {
				need = claimed
				continue
			}
			return false, nil
		case frameBad:
			return false, nil
		}
		return (s.cur.typ == recHeader) == (s.pos == preludeSize) && s.cur.decode(), nil
	}
}

// next returns the record at pos (valid until the next call) and its offset, and moves past it. At the
// end of the file it returns io.EOF; at a record that is torn or damaged it returns ok == false and stays.
func (s *scanner) next() (f *frame, off int64, ok bool, err error) {
	if s.pos >= s.size {
		return nil, s.pos, false, io.EOF
	}
	ok, err = s.frameAt()
	if err != nil || !ok {
		return nil, s.pos, false, err
	}
	off = s.pos
	s.pos += int64(s.cur.size)
	return &s.cur, off, true, nil
}

// resync looks past damage at pos for the next valid record and moves there. found is false when no valid
// record follows: the damage is the journal's tail.
func (s *scanner) resync() (found bool, err error) {
	from := s.pos + 1
	for {
		s.pos = from
		if s.pos >= s.size {
			return false, nil
		}
		b, err := s.fill(64 << 10)
		if err != nil {
			return false, err
		}
		i := bytes.Index(b, marker[:])
		if i < 0 {
			if s.pos+int64(len(b)) >= s.size {
				return false, nil
			}
			from = s.pos + int64(len(b)-len(marker)+1)
			continue
		}
		s.pos += int64(i)
		if ok, err := s.frameAt(); err != nil || ok {
			return ok, err
		}
		from = s.pos + 1
	}
}

// region is a stretch of damaged bytes that the scan skipped.
type region struct{ off, len int64 }

// scanResult says what a scan met besides records.
type scanResult struct {
	skipped []region // damage with valid records after it
	tail    int64    // offset of a damaged tail, or -1
	tailLen int64
	end     int64 // offset just past the last valid record
}

// scanRecords calls fn for every valid record from the scanner's position on. Damage followed by valid
// records is skipped and listed; damage with nothing valid after it is the tail.
func scanRecords(s *scanner, fn func(f *frame, off int64) error) (scanResult, error) {
	res := scanResult{tail: -1, end: s.pos}
	for {
		f, off, ok, err := s.next()
		if err == io.EOF {
			return res, nil
		}
		if err != nil {
			return res, err
		}
		if ok {
			res.end = s.pos
			if err := fn(f, off); err != nil {
				return res, err
			}
			continue
		}
		at := s.pos
		found, err := s.resync()
		if err != nil {
			return res, err
		}
		if !found {
			res.tail, res.tailLen = at, s.size-at
			return res, nil
		}
		res.skipped = append(res.skipped, region{off: at, len: s.pos - at})
	}
}
