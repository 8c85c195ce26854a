package checkpoint

import (
	"bytes"
	"encoding/binary"
	"errors"
	"hash/crc32"
)

// The journal's byte format; doc.go describes it for people.
const (
	magic         = "ZIJRNL"
	formatVersion = 1
	preludeSize   = 16 // magic, version, salt
	recHeaderSize = 12 // marker, checksum, length
	// maxBody bounds a record's type byte and payload. An outcome is a few hundred bytes at most; the
	// bound keeps a corrupt length from sending the reader off to allocate gigabytes.
	maxBody = 1 << 20
	// maxErrorText bounds an outcome's error text; longer text is cut at a UTF-8 boundary and marked.
	maxErrorText = 8 << 10
	// MaxRow is the largest row number the journal accepts.
	MaxRow = 1<<31 - 1
)

// marker opens every record. 0xF7 never occurs in UTF-8 text, so a record boundary is easy to find again
// after damage; the checksum, not the marker, decides whether a candidate is a record.
var marker = [4]byte{0xF7, 'Z', 'J', 0x1E}

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

type recType byte

const (
	recHeader  recType = 'H'
	recStart   recType = 'S'
	recOutcome recType = 'O'
	recFinish  recType = 'F'
	recReserve recType = 'R'
)

// salt is the per-journal random value every checksum starts from. A record is only valid in the journal
// whose salt it was written with, so bytes that merely look like a record — inside a customer's reference,
// say, or left over from another file — never pass for one.
type salt struct {
	raw [8]byte
	crc uint32 // CRC-32C of raw: the running state every record checksum continues from
}

func newSalt(raw [8]byte) salt {
	return salt{raw: raw, crc: crc32.Update(0, castagnoli, raw[:])}
}

func (s salt) sum(lenTypePayload []byte) uint32 {
	return crc32.Update(s.crc, castagnoli, lenTypePayload)
}

func appendPrelude(dst []byte, s salt) []byte {
	dst = append(dst, magic...)
	dst = binary.BigEndian.AppendUint16(dst, formatVersion)
	return append(dst, s.raw[:]...)
}

// beginRecord appends the fixed part of a record whose checksum and length endRecord fills in.
func beginRecord(dst []byte, t recType) ([]byte, int) {
	start := len(dst)
	dst = append(dst, marker[:]...)
	dst = append(dst, 0, 0, 0, 0, 0, 0, 0, 0, byte(t))
	return dst, start
}

func endRecord(dst []byte, start int, s salt) []byte {
	body := len(dst) - start - recHeaderSize
	binary.LittleEndian.PutUint32(dst[start+8:], uint32(body))
	binary.LittleEndian.PutUint32(dst[start+4:], s.sum(dst[start+8:]))
	return dst
}

func appendString(dst []byte, s string) []byte {
	dst = binary.AppendUvarint(dst, uint64(len(s)))
	return append(dst, s...)
}

func appendHeaderRecord(dst []byte, s salt, b Binding) []byte {
	dst, start := beginRecord(dst, recHeader)
	dst = binary.AppendUvarint(dst, uint64(b.InputSize))
	dst = appendString(dst, b.InputSHA256)
	dst = appendString(dst, b.MappingHash)
	dst = appendString(dst, b.APIURL)
	if b.Rules != "" { // absent in journals from before it was recorded, which decode as ""
		dst = appendString(dst, b.Rules)
	}
	return endRecord(dst, start, s)
}

func appendStartRecord(dst []byte, s salt, row int, offset, end int64) []byte {
	dst, start := beginRecord(dst, recStart)
	dst = binary.AppendUvarint(dst, uint64(row))
	dst = binary.AppendVarint(dst, offset)
	dst = binary.AppendVarint(dst, end)
	return endRecord(dst, start, s)
}

// appendOutcomeRecord writes the fields a recovery needs first (row, positions, status, reference), so that
// the scan at Open can stop decoding early.
func appendOutcomeRecord(dst []byte, s salt, o *Outcome) []byte {
	dst, start := beginRecord(dst, recOutcome)
	dst = binary.AppendUvarint(dst, uint64(o.Row))
	dst = binary.AppendVarint(dst, o.Offset)
	dst = binary.AppendVarint(dst, o.End)
	dst = append(dst, byte(o.Status))
	dst = appendString(dst, o.Ref)
	dst = binary.AppendUvarint(dst, uint64(o.HTTPStatus))
	dst = binary.AppendUvarint(dst, uint64(o.Attempts))
	dst = appendString(dst, o.CustomerID)
	dst = appendString(dst, o.Error)
	return endRecord(dst, start, s)
}

// appendReserveRecord writes a reservation: the rows up to row, and none after it, may have been sent
// without a durable in-flight record of their own.
func appendReserveRecord(dst []byte, s salt, row int) []byte {
	dst, start := beginRecord(dst, recReserve)
	dst = binary.AppendUvarint(dst, uint64(row))
	return endRecord(dst, start, s)
}

func appendFinishRecord(dst []byte, s salt, totalRows, exitCode int) []byte {
	dst, start := beginRecord(dst, recFinish)
	dst = binary.AppendUvarint(dst, uint64(totalRows))
	dst = binary.AppendVarint(dst, int64(exitCode))
	return endRecord(dst, start, s)
}

// frame is one whole, checksum-verified record in a buffer. decode fills in the fields of its type.
type frame struct {
	typ     recType
	payload []byte
	size    int // bytes of the record in the file, header included

	row             int    // in-flight, outcome and reservation records
	offset, end     int64  // in-flight and outcome records
	status          Status // outcome
	ref, id         []byte // outcome: reference and customer id; alias the buffer
	total, exitCode int    // finish
}

type frameResult int

const (
	frameOK    frameResult = iota
	frameShort             // the buffer ends inside the record (a torn tail, or read more)
	frameBad               // not a record: wrong marker, impossible length or checksum mismatch
)

// parseFrame checks the record at the start of b and, when it is whole and its checksum right, sets f's
// type, payload and size. On frameShort, need is the size the record claims.
func parseFrame(b []byte, s salt, f *frame) (res frameResult, need int) {
	if len(b) < recHeaderSize {
		if !bytes.HasPrefix(marker[:], b[:min(len(b), len(marker))]) {
			return frameBad, 0
		}
		return frameShort, recHeaderSize
	}
	if [4]byte(b[:4]) != marker {
		return frameBad, 0
	}
	body := binary.LittleEndian.Uint32(b[8:12])
	if body < 1 || body > maxBody {
		return frameBad, 0
	}
	size := recHeaderSize + int(body)
	if len(b) < size {
		return frameShort, size
	}
	if s.sum(b[8:size]) != binary.LittleEndian.Uint32(b[4:8]) {
		return frameBad, 0
	}
	f.typ, f.payload, f.size = recType(b[12]), b[13:size], size
	return frameOK, 0
}

// dec reads a payload; the first problem sticks and every later read returns zero values.
type dec struct {
	b   []byte
	bad bool
}

func (d *dec) uvarint() uint64 {
	if len(d.b) > 0 && d.b[0] < 0x80 { // most values are one byte
		v := uint64(d.b[0])
		d.b = d.b[1:]
		return v
	}
	v, n := binary.Uvarint(d.b)
	if n <= 0 {
		d.bad = true
		d.b = nil
		return 0
	}
	d.b = d.b[n:]
	return v
}

func (d *dec) varint() int64 {
	u := d.uvarint()
	return int64(u>>1) ^ -int64(u&1) // zig-zag, as binary.Varint
}

func (d *dec) byte() byte {
	if len(d.b) < 1 {
		d.bad = true
		return 0
	}
	c := d.b[0]
	d.b = d.b[1:]
	return c
}

func (d *dec) bytes() []byte {
	n := d.uvarint()
	if d.bad || n > uint64(len(d.b)) {
		d.bad = true
		d.b = nil
		return nil
	}
	s := d.b[:n]
	d.b = d.b[n:]
	return s
}

func (d *dec) row() int {
	r := d.uvarint()
	if r < 1 || r > MaxRow {
		d.bad = true
		return 0
	}
	return int(r)
}

// done reports whether the payload was read exactly, with nothing left over.
func (d *dec) done() bool { return !d.bad && len(d.b) == 0 }

var errPayload = errors.New("record payload does not decode")

func decodeHeader(p []byte) (Binding, error) {
	d := dec{b: p}
	size := d.uvarint()
	b := Binding{
		InputSize:   int64(size),
		InputSHA256: string(d.bytes()),
		MappingHash: string(d.bytes()),
		APIURL:      string(d.bytes()),
	}
	if len(d.b) > 0 && !d.bad {
		b.Rules = string(d.bytes())
	}
	if !d.done() || size > 1<<62 {
		return Binding{}, errPayload
	}
	return b, nil
}

// small reads a count that must fit comfortably in an int (an HTTP status, a number of attempts).
func (d *dec) small() int {
	v := d.uvarint()
	if v > MaxRow {
		d.bad = true
		return 0
	}
	return int(v)
}

// decode checks the payload against the frame's type and fills in the frame's fields, reporting whether
// it is a well-formed record: known type, every field in range, nothing left over. The scan treats a
// frame with a good checksum but a malformed payload exactly like a damaged one. An outcome is checked
// whole but only its head is converted; decodeOutcome converts all of it.
func (f *frame) decode() bool {
	d := dec{b: f.payload}
	switch f.typ {
	case recHeader:
		_, err := decodeHeader(f.payload)
		return err == nil
	case recStart:
		f.row, f.offset, f.end = d.row(), d.varint(), d.varint()
	case recOutcome:
		f.row, f.offset, f.end = d.row(), d.varint(), d.varint()
		f.status = Status(d.byte())
		f.ref = d.bytes()
		d.small()
		d.small()
		f.id = d.bytes()
		d.bytes()
		if !f.status.valid() {
			return false
		}
	case recReserve:
		f.row = d.row()
	case recFinish:
		t, c := d.uvarint(), d.varint()
		if t > MaxRow || c < -1<<31 || c > 1<<31-1 {
			return false
		}
		f.total, f.exitCode = int(t), int(c)
	default:
		return false
	}
	return d.done()
}

// decodeOutcome converts a whole outcome record's payload.
func decodeOutcome(p []byte) (Outcome, error) {
	d := dec{b: p}
	o := Outcome{Row: d.row(), Offset: d.varint(), End: d.varint(), Status: Status(d.byte())}
	o.Ref = string(d.bytes())
	o.HTTPStatus = d.small()
	o.Attempts = d.small()
	o.CustomerID = string(d.bytes())
	o.Error = string(d.bytes())
	if !d.done() || !o.Status.valid() {
		return Outcome{}, errPayload
	}
	return o, nil
}
