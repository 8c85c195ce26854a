package checkpoint

import (
	"bufio"
	"cmp"
	"crypto/rand"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/zentra/zentra-import/atomicfile"
)

// IDs finds the customer id that earlier journals of a job directory recorded for an external reference:
// the ids that --restart kept in checkpoint.previous. It holds a 96-bit digest of each reference (the
// first 12 bytes of its SHA-256), sorted, and the ids packed in one block of bytes: 17 bytes plus the id's
// length per reference. Two references of a million share a digest with a chance of about 1 in 10¹⁷. A nil
// *IDs finds nothing.
type IDs struct {
	keys []idKey
	blob []byte // per reference, in key order: a uvarint length and the id
	note string
}

type idKey struct {
	hi  uint64
	lo  uint32
	off uint32 // where the id is in blob; while building, also the order in which ids were added
}

func refKey(ref []byte) idKey {
	s := sha256.Sum256(ref)
	return idKey{hi: binary.BigEndian.Uint64(s[:8]), lo: binary.BigEndian.Uint32(s[8:12])}
}

func (k idKey) cmp(o idKey) int {
	if c := cmp.Compare(k.hi, o.hi); c != 0 {
		return c
	}
	return cmp.Compare(k.lo, o.lo)
}

// Lookup returns the customer id kept for an external reference.
func (x *IDs) Lookup(ref string) (id string, ok bool) {
	i := x.index([]byte(ref))
	if i < 0 {
		return "", false
	}
	return string(x.id(i)), true
}

// Len is the number of references with an id.
func (x *IDs) Len() int {
	if x == nil {
		return 0
	}
	return len(x.keys)
}

// Note says in one line what PreviousIDs found but could not use (a damaged or foreign checkpoint.previous,
// the ids of another API), for a warning; "" when there is nothing to say.
func (x *IDs) Note() string {
	if x == nil {
		return ""
	}
	return x.note
}

func (x *IDs) index(ref []byte) int {
	if x == nil || len(ref) == 0 {
		return -1
	}
	i, ok := slices.BinarySearchFunc(x.keys, refKey(ref), idKey.cmp)
	if !ok {
		return -1
	}
	return i
}

func (x *IDs) id(i int) []byte { return idAt(x.blob, x.keys[i].off) }

func idAt(blob []byte, off uint32) []byte {
	b := blob[off:]
	n, w := binary.Uvarint(b)
	return b[w : w+int(n)]
}

// idsBuilder collects references and ids in the order recorded; the last id of a reference wins.
type idsBuilder struct {
	keys []idKey
	blob []byte
	err  error
}

func (b *idsBuilder) add(ref, id []byte) {
	if len(ref) == 0 || len(id) == 0 || b.err != nil {
		return
	}
	if len(b.blob)+binary.MaxVarintLen64+len(id) > math.MaxUint32 {
		b.err = errors.New("more customer ids than can be kept (4 GiB)")
		return
	}
	k := refKey(ref)
	k.off = uint32(len(b.blob))
	b.keys = append(b.keys, k)
	b.blob = binary.AppendUvarint(b.blob, uint64(len(id)))
	b.blob = append(b.blob, id...)
}

// collect adds the ids of the sources, in order, to a builder sized for them by a first, counting pass (the
// file is in the page cache by then, and growing the slices as they fill would cost more). It returns the
// notes on damage and how many ids the last source gave.
func (b *idsBuilder) collect(srcs []*idSource) (notes []string, last int, err error) {
	n, size := 0, 0
	for _, s := range srcs {
		if _, err := s.each(func(fr *frame) error {
			n++
			size += uvarintLen(len(fr.id)) + len(fr.id)
			return nil
		}); err != nil {
			return nil, 0, err
		}
	}
	b.keys, b.blob = make([]idKey, 0, n), make([]byte, 0, size)
	for _, s := range srcs {
		before := len(b.keys)
		note, err := s.each(func(fr *frame) error {
			b.add(fr.ref, fr.id)
			return nil
		})
		if err != nil {
			return nil, 0, err
		}
		if note != "" {
			notes = append(notes, note)
		}
		last = len(b.keys) - before
	}
	return notes, last, b.err
}

// dedup sorts the references and keeps each one's last id. It reports whether it dropped any.
func (b *idsBuilder) dedup() bool {
	keys := b.keys
	slices.SortFunc(keys, func(p, q idKey) int {
		if c := p.cmp(q); c != 0 {
			return c
		}
		return cmp.Compare(p.off, q.off) // added later, written later in the blob
	})
	n := 0
	for i, k := range keys {
		if i+1 < len(keys) && keys[i+1].cmp(k) == 0 {
			continue
		}
		keys[n] = k
		n++
	}
	b.keys = keys[:n]
	return n < len(keys)
}

// build makes the lookup. When ids were dropped, it packs the ones kept into a block of their exact size.
func (b *idsBuilder) build(note string) (*IDs, error) {
	if b.err != nil {
		return nil, b.err
	}
	x := &IDs{keys: b.keys, blob: b.blob, note: note}
	if b.dedup() {
		x.keys = b.keys
		size := 0
		for i := range x.keys {
			size += uvarintLen(len(x.id(i))) + len(x.id(i))
		}
		packed := &IDs{keys: make([]idKey, len(x.keys)), blob: make([]byte, 0, size), note: note}
		for i, k := range x.keys {
			id := x.id(i)
			k.off = uint32(len(packed.blob))
			packed.blob = binary.AppendUvarint(packed.blob, uint64(len(id)))
			packed.blob = append(packed.blob, id...)
			packed.keys[i] = k
		}
		x = packed
	}
	b.keys, b.blob = nil, nil
	return x, nil
}

func uvarintLen(n int) int {
	var b [binary.MaxVarintLen64]byte
	return binary.PutUvarint(b[:], uint64(n))
}

func sameAPI(a, b string) bool { return strings.TrimRight(a, "/") == strings.TrimRight(b, "/") }

// idSource is a journal-format file read for the customer ids in its outcomes.
type idSource struct {
	name string
	f    *os.File
	size int64
	salt salt
	from int64 // the first record after the header
	b    Binding
}

// openIDSource opens dir/name and reads its header. A missing or empty file gives nil; so does one that
// cannot be read as a journal, with a note saying why.
func openIDSource(dir, name string) (*idSource, string, error) {
	path := filepath.Join(dir, name)
	f, err := os.Open(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, "", nil
	}
	if err != nil {
		return nil, "", fmt.Errorf("read %s: %w", name, err)
	}
	fi, err := f.Stat()
	if err != nil || fi.Size() == 0 {
		f.Close()
		if err != nil {
			return nil, "", fmt.Errorf("read %s: %w", name, err)
		}
		return nil, "", nil
	}
	s, sc, b, err := readHeader(f, fi.Size(), path)
	if err != nil {
		f.Close()
		var ce *CorruptError
		if errors.As(err, &ce) {
			return nil, fmt.Sprintf("%s: %s; the customer ids in it are not used", name, ce.Reason), nil
		}
		return nil, "", err
	}
	return &idSource{name: name, f: f, size: fi.Size(), salt: s, from: sc.pos, b: b}, "", nil
}

func (s *idSource) close() { s.f.Close() }

// each calls fn, in file order, with every outcome that holds a reference and a customer id (created or
// existing), skipping damage as Open does. The note says how much damage was skipped.
func (s *idSource) each(fn func(fr *frame) error) (note string, err error) {
	res, err := scanRecords(newScanner(s.f, s.size, s.salt, s.from), func(fr *frame, _ int64) error {
		if fr.typ != recOutcome || (fr.status != StatusCreated && fr.status != StatusExisting) || len(fr.ref) == 0 || len(fr.id) == 0 {
			return nil
		}
		return fn(fr)
	})
	if err != nil {
		return "", fmt.Errorf("read %s: %w", s.name, err)
	}
	var lost int64
	for _, g := range res.skipped {
		lost += g.len
	}
	if res.tail >= 0 {
		lost += res.tailLen
	}
	if lost > 0 {
		note = fmt.Sprintf("%s: skipped %d damaged bytes; the customer ids in them are lost", s.name, lost)
	}
	return note, nil
}

// PreviousIDs returns the customer ids that --restart kept from earlier journals of the job in dir
// (checkpoint.previous), for lookups by external reference. Only ids the API at apiURL gave are used
// (trailing slashes do not matter): an id from another API names no customer there. It never fails on
// the file's content: a missing file gives an empty lookup; a damaged one the ids in its intact records;
// one that is not a journal, or holds another API's ids, an empty lookup. Either way IDs.Note says what
// was found and not used. Call it after Reset (which folds the journal's ids in), and on every run, so that
// a run resumed after a crash that followed a --restart still has them.
func PreviousIDs(dir, apiURL string) (*IDs, error) {
	src, note, err := openIDSource(dir, PreviousFile)
	if err != nil {
		return nil, err
	}
	if src == nil {
		return &IDs{note: note}, nil
	}
	defer src.close()
	if !sameAPI(src.b.APIURL, apiURL) {
		return &IDs{note: fmt.Sprintf("%s holds the customer ids that %s gave, not %s; they are not used", PreviousFile, src.b.APIURL, apiURL)}, nil
	}
	var b idsBuilder
	notes, _, err := b.collect([]*idSource{src})
	if err != nil {
		return nil, err
	}
	return b.build(strings.Join(notes, "; "))
}

// keepIDs merges the customer ids of the journal in dir into checkpoint.previous, before Reset removes the
// journal: each reference's latest id, from the journal or else from the ids kept before, if those came
// from the same API (the ids of another API are dropped). A journal without ids leaves checkpoint.previous
// as it is. It reports readable false when the journal's header cannot be read: its ids cannot be tied to
// an API, and are not kept.
func keepIDs(dir string) (readable bool, err error) {
	j, note, err := openIDSource(dir, JournalFile)
	if err != nil || j == nil {
		return note == "", err
	}
	defer j.close()
	srcs := []*idSource{j}
	p, _, err := openIDSource(dir, PreviousFile)
	if err != nil {
		return true, err
	}
	if p != nil {
		defer p.close()
		if sameAPI(p.b.APIURL, j.b.APIURL) {
			srcs = []*idSource{p, j}
		}
	}
	var b idsBuilder
	_, fromJournal, err := b.collect(srcs)
	if err != nil {
		return true, err
	}
	if fromJournal == 0 {
		return true, nil
	}
	// The ids to write are the last of each reference; their offsets in the blob, in order, say which
	// record of the sources each one came from, the sources being read again in the same order.
	b.dedup()
	winners := make([]uint32, len(b.keys))
	for i, k := range b.keys {
		winners[i] = k.off
	}
	b.keys, b.blob = nil, nil
	slices.Sort(winners)
	return true, writePrevious(dir, j.b, srcs, winners)
}

// writePrevious writes checkpoint.previous: the prelude, a header with the binding of the journal it was
// made from, then the outcome records of the sources that hold the ids kept, without their error text.
// winners are the kept ids' offsets in an idsBuilder's blob, sorted, which the records are matched with
// by adding them up again.
func writePrevious(dir string, hdr Binding, srcs []*idSource, winners []uint32) error {
	a, err := atomicfile.Create(filepath.Join(dir, PreviousFile))
	if err != nil {
		return err
	}
	defer a.Abort()
	var raw [8]byte
	if _, err := rand.Read(raw[:]); err != nil {
		return err
	}
	s := newSalt(raw)
	bw := bufio.NewWriterSize(a, 1<<20)
	buf := appendHeaderRecord(appendPrelude(nil, s), s, hdr)
	if _, err := bw.Write(buf); err != nil {
		return err
	}
	var off uint32 // the blob offset the next id had when it was added
	for _, src := range srcs {
		if _, err := src.each(func(fr *frame) error {
			at := off
			off += uint32(uvarintLen(len(fr.id)) + len(fr.id))
			if len(winners) == 0 || winners[0] != at {
				return nil
			}
			winners = winners[1:]
			o, err := decodeOutcome(fr.payload)
			if err != nil {
				return err
			}
			o.Error = ""
			buf = appendOutcomeRecord(buf[:0], s, &o)
			_, err = bw.Write(buf)
			return err
		}); err != nil {
			return err
		}
	}
	if len(winners) > 0 {
		return fmt.Errorf("write %s: %d ids no longer found in the journals (did they change?)", PreviousFile, len(winners))
	}
	if err := bw.Flush(); err != nil {
		return err
	}
	return a.Commit()
}
