package checkpoint

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/zentra/zentra-import/atomicfile"
)

// An index entry locates the latest record of one row in the journal: its offset plus one (0: the row has
// no record), with two flags.
const (
	entryStartOnly = 1 << 62 // the record is an in-flight record: the row has no outcome
	entryInFlight  = 1 << 61 // the record is an outcome, and an in-flight record came after it
	entryOffset    = entryInFlight - 1
)

// rowIndex maps row numbers to index entries in fixed memory: pages of entries live in a temporary file
// (8 bytes a row, unlinked as soon as it is created) behind a small write-back cache. The journal is
// written roughly in row order, so nearly every update hits a cached page.
type rowIndex struct {
	dir      string
	tmp      *os.File
	pageRows int
	pages    []*indexPage // at most cap(pages), least recently used evicted
	tick     uint64
	maxRow   int
	raw      []byte // one page as bytes, for the temporary file
}

type indexPage struct {
	no    int
	e     []int64
	dirty bool
	used  uint64
}

func newRowIndex(dir string, t tuning) *rowIndex {
	return &rowIndex{dir: dir, pageRows: t.pageRows, pages: make([]*indexPage, 0, t.cachePages), raw: make([]byte, 8*t.pageRows)}
}

func (x *rowIndex) close() {
	if x.tmp != nil {
		name := x.tmp.Name()
		x.tmp.Close()
		os.Remove(name) // already gone where the system allows unlinking an open file
	}
}

// page returns page no, from the cache or the temporary file (a page never written reads as zeros).
func (x *rowIndex) page(no int) (*indexPage, error) {
	x.tick++
	for _, p := range x.pages {
		if p.no == no {
			p.used = x.tick
			return p, nil
		}
	}
	var p *indexPage
	if len(x.pages) < cap(x.pages) {
		p = &indexPage{e: make([]int64, x.pageRows)}
		x.pages = append(x.pages, p)
	} else {
		p = x.pages[0]
		for _, q := range x.pages[1:] {
			if q.used < p.used {
				p = q
			}
		}
		if p.dirty {
			if err := x.store(p); err != nil {
				return nil, err
			}
		}
	}
	p.no, p.used, p.dirty = no, x.tick, false
	return p, x.load(p)
}

func (x *rowIndex) store(p *indexPage) error {
	if x.tmp == nil {
		f, err := atomicfile.CreateTemp(filepath.Join(x.dir, "checkpoint-index"))
		if err != nil {
			return fmt.Errorf("row index in %s: %w", x.dir, atomicfile.StripPath(err))
		}
		os.Remove(f.Name())
		x.tmp = f
	}
	for i, v := range p.e {
		binary.LittleEndian.PutUint64(x.raw[8*i:], uint64(v))
	}
	if _, err := x.tmp.WriteAt(x.raw, int64(p.no)*int64(len(x.raw))); err != nil {
		return fmt.Errorf("row index in %s: %w", x.dir, atomicfile.StripPath(err))
	}
	return nil
}

func (x *rowIndex) load(p *indexPage) error {
	clear(p.e)
	if x.tmp == nil {
		return nil
	}
	n, err := x.tmp.ReadAt(x.raw, int64(p.no)*int64(len(x.raw)))
	if err != nil && !errors.Is(err, io.EOF) {
		return fmt.Errorf("row index: %w", atomicfile.StripPath(err))
	}
	for i := 0; i+8 <= n; i += 8 {
		p.e[i/8] = int64(binary.LittleEndian.Uint64(x.raw[i:]))
	}
	return nil
}

// note records a start (outcome == false) or an outcome of row at journal offset off.
func (x *rowIndex) note(row int, off int64, outcome bool) error {
	p, err := x.page(row / x.pageRows)
	if err != nil {
		return err
	}
	e := &p.e[row%x.pageRows]
	switch {
	case outcome:
		*e = off + 1
	case *e == 0 || *e&entryStartOnly != 0:
		*e = (off + 1) | entryStartOnly
	default:
		*e |= entryInFlight
	}
	p.dirty = true
	x.maxRow = max(x.maxRow, row)
	return nil
}

// each calls fn with every row's entry in row order.
func (x *rowIndex) each(fn func(row int, e int64) error) error {
	for no := 0; no <= x.maxRow/x.pageRows; no++ {
		p, err := x.page(no)
		if err != nil {
			return err
		}
		for i, e := range p.e {
			if e != 0 {
				if err := fn(no*x.pageRows+i, e); err != nil {
					return err
				}
			}
		}
	}
	return nil
}
