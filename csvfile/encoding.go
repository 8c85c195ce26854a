package csvfile

import (
	"io"
	"slices"
	"strings"
	"unicode/utf16"
	"unicode/utf8"

	"golang.org/x/text/encoding/charmap"
)

// Encoding is one of the text encodings the reader understands: ParseEncoding reads its names.
type Encoding uint8

// The encodings, each named by its String (the canonical name Dialect.Encoding reports).
const (
	UTF8 Encoding = iota
	UTF16LE
	UTF16BE
	Windows1252
	ISO88591
)

// encodingNames are the canonical names, as Dialect.Encoding reports them.
var encodingNames = [...]string{
	UTF8:        "utf-8",
	UTF16LE:     "utf-16le",
	UTF16BE:     "utf-16be",
	Windows1252: "windows-1252",
	ISO88591:    "iso-8859-1",
}

// EncodingNames returns the canonical names of the encodings, as Dialect.Encoding reports them: a
// mapping's "did you mean" chooses among them.
func EncodingNames() []string { return slices.Clone(encodingNames[:]) }

func (e Encoding) String() string {
	if e == UTF16 {
		return "utf-16"
	}
	return encodingNames[e]
}

// label is the encoding's name as people write it in messages.
func (e Encoding) label() string {
	switch e {
	case UTF8:
		return "UTF-8"
	case UTF16LE:
		return "UTF-16LE"
	case UTF16BE:
		return "UTF-16BE"
	case Windows1252:
		return "Windows-1252"
	case ISO88591:
		return "ISO-8859-1"
	}
	return "UTF-16"
}

// asciiCompatible reports whether the delimiter, quote and line ends are single ASCII bytes in the raw
// file, so that the raw bytes can be parsed as they are and each field decoded afterwards.
func (e Encoding) asciiCompatible() bool { return e != UTF16LE && e != UTF16BE }

// EncodingHint lists the accepted encoding names, for messages.
const EncodingHint = "use auto, utf-8, utf-16 (with a byte-order mark), utf-16le, utf-16be, windows-1252 or iso-8859-1"

// UTF16 stands for the generic "utf-16": the byte-order mark decides between LE and BE.
const UTF16 Encoding = 255

// ParseEncoding reads an encoding name, case-insensitively and with the common aliases.
// auto is true for "" and "auto"; enc is UTF16 for a bare "utf-16".
func ParseEncoding(name string) (enc Encoding, auto bool, ok bool) {
	switch strings.ToLower(strings.TrimSpace(name)) {
	case "", "auto":
		return 0, true, true
	case "utf-8", "utf8", "utf-8-sig", "utf8-sig", "ascii", "us-ascii":
		return UTF8, false, true
	case "utf-16", "utf16", "ucs-2", "ucs2":
		return UTF16, false, true
	case "utf-16le", "utf16le", "utf-16-le", "ucs-2le":
		return UTF16LE, false, true
	case "utf-16be", "utf16be", "utf-16-be", "ucs-2be":
		return UTF16BE, false, true
	case "windows-1252", "windows1252", "cp1252", "cp-1252", "win-1252", "win1252", "ansi":
		return Windows1252, false, true
	case "iso-8859-1", "iso8859-1", "iso_8859-1", "iso-8859_1", "8859-1", "latin1", "latin-1", "l1":
		return ISO88591, false, true
	}
	return 0, false, false
}

// cp1252 maps each Windows-1252 byte to its character; 0 marks the five bytes the code page leaves
// undefined (0x81, 0x8D, 0x8F, 0x90, 0x9D), which are invalid in a Windows-1252 file.
var cp1252 = func() (t [256]rune) {
	for b := range t {
		if r := charmap.Windows1252.DecodeByte(byte(b)); r != utf8.RuneError {
			t[b] = r
		}
	}
	return t
}()

// isASCII reports whether s is all ASCII.
func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			return false
		}
	}
	return true
}

// plain reports whether a field parsed in this encoding is already its UTF-8 text: valid UTF-8, or
// ASCII for the single-byte encodings.
func (e Encoding) plain(s string) bool {
	if e == Windows1252 || e == ISO88591 {
		return isASCII(s)
	}
	return utf8.ValidString(s)
}

// decode returns the UTF-8 text of a field as the reader parsed it (raw bytes for the ASCII-compatible
// encodings, WTF-8 for UTF-16) and whether all of it was valid. Invalid bytes become U+FFFD.
// When nothing needs changing, the result is s itself: no copy.
func (e Encoding) decode(s string) (string, bool) {
	switch e {
	case Windows1252, ISO88591:
		if isASCII(s) {
			return s, true
		}
		var b strings.Builder
		b.Grow(len(s) + len(s)/2)
		valid := true
		for i := 0; i < len(s); i++ {
			c := s[i]
			switch {
			case c < utf8.RuneSelf:
				b.WriteByte(c)
			case e == ISO88591:
				b.WriteRune(rune(c))
			case cp1252[c] == 0:
				valid = false
				b.WriteRune(utf8.RuneError)
			default:
				b.WriteRune(cp1252[c])
			}
		}
		return b.String(), valid
	}
	// UTF-8, and UTF-16 decoded to WTF-8: an unpaired surrogate is not valid UTF-8.
	if utf8.ValidString(s) {
		return s, true
	}
	return strings.ToValidUTF8(s, string(utf8.RuneError)), false
}

// appendText appends UTF-8 text s in the form the writer emits for this encoding: the encoding's own
// bytes for the ASCII-compatible ones (a character it cannot encode becomes '?'), UTF-8 for UTF-16
// (the writer transcodes whole lines).
func (e Encoding) appendText(dst []byte, s string) []byte {
	var cm *charmap.Charmap
	switch e {
	case Windows1252:
		cm = charmap.Windows1252
	case ISO88591:
		cm = charmap.ISO8859_1
	default:
		return append(dst, s...)
	}
	for _, r := range s {
		if r < utf8.RuneSelf {
			dst = append(dst, byte(r))
		} else if b, ok := cm.EncodeRune(r); ok {
			dst = append(dst, b)
		} else {
			dst = append(dst, '?')
		}
	}
	return dst
}

// badUTF16 is what the decoder emits for a lone byte at the end of a UTF-16 file: a byte that is never
// valid UTF-8, so the field is rejected.
const badUTF16 = 0xFF

// utf16Decoder decodes a UTF-16 stream into WTF-8: UTF-8, except that an unpaired surrogate is written as the
// three bytes UTF-8 would give its code point. The csv parser sees the delimiter, quotes and line ends as
// ASCII bytes; a field holding an unpaired surrogate fails UTF-8 validation and is rejected; and the
// rejects writer can turn the same bytes back into the original code units.
//
// It also maps positions back to the file: after each '\n' it notes the decoded and the raw offsets, and
// rawAt answers for any decoded offset just after a '\n', at the start or at the end of the stream —
// exactly the places where a csv record can end.
type utf16Decoder struct {
	r     io.Reader
	be    bool
	start int64  // raw offset where decoding began
	in    []byte // raw bytes read, in[ini:inj] not yet decoded
	ini   int
	inj   int
	eof   bool  // r is exhausted
	raw   int64 // raw offset just after the last decoded code unit
	out   []byte
	outi  int
	dec   int64 // decoded bytes produced (delivered or pending in out)
	marks []utf16Mark
	mhead int
}

type utf16Mark struct{ dec, raw int64 }

// reset makes d decode r, whose first byte is at raw offset start.
func (d *utf16Decoder) reset(r io.Reader, start int64, bigEndian bool) {
	if d.in == nil {
		d.in = make([]byte, 32<<10)
	}
	d.r, d.be, d.start, d.raw = r, bigEndian, start, start
	d.ini, d.inj, d.eof = 0, 0, false
	d.out, d.outi, d.dec = d.out[:0], 0, 0
	d.marks, d.mhead = d.marks[:0], 0
}

func (d *utf16Decoder) Read(p []byte) (int, error) {
	for d.outi == len(d.out) {
		if d.eof && d.ini == d.inj {
			return 0, io.EOF
		}
		if err := d.fill(); err != nil {
			return 0, err
		}
	}
	n := copy(p, d.out[d.outi:])
	d.outi += n
	return n, nil
}

// fill reads raw bytes and decodes as many whole code units as it can.
func (d *utf16Decoder) fill() error {
	if !d.eof {
		if d.ini > 0 {
			d.inj = copy(d.in, d.in[d.ini:d.inj])
			d.ini = 0
		}
		n, err := d.r.Read(d.in[d.inj:])
		d.inj += n
		if err == io.EOF {
			d.eof = true
		} else if err != nil {
			return err
		}
	}
	d.out, d.outi = d.out[:0], 0
units:
	for d.inj-d.ini >= 2 {
		u := d.unit(d.ini)
		size := 2
		var enc [4]byte
		var n int
		switch {
		case utf16.IsSurrogate(rune(u)) && u < 0xDC00: // high surrogate: wants a low one next
			if d.inj-d.ini < 4 && !d.eof {
				break units // wait for the next unit
			}
			if d.inj-d.ini >= 4 {
				if v := d.unit(d.ini + 2); v >= 0xDC00 && v <= 0xDFFF {
					n = utf8.EncodeRune(enc[:], utf16.DecodeRune(rune(u), rune(v)))
					size = 4
					break
				}
			}
			n = wtf8(enc[:], u)
		case utf16.IsSurrogate(rune(u)): // a low surrogate alone
			n = wtf8(enc[:], u)
		default:
			n = utf8.EncodeRune(enc[:], rune(u))
		}
		d.out = append(d.out, enc[:n]...)
		d.ini += size
		d.raw += int64(size)
		d.dec += int64(n)
		if u == '\n' {
			d.marks = append(d.marks, utf16Mark{dec: d.dec, raw: d.raw})
		}
	}
	if d.eof && d.inj-d.ini == 1 { // a lone byte at the end of the file
		d.out = append(d.out, badUTF16)
		d.ini++
		d.raw++
		d.dec++
	}
	return nil
}

func (d *utf16Decoder) unit(i int) uint16 {
	if d.be {
		return uint16(d.in[i])<<8 | uint16(d.in[i+1])
	}
	return uint16(d.in[i+1])<<8 | uint16(d.in[i])
}

// wtf8 writes a surrogate code unit as the generalised UTF-8 of its code point.
func wtf8(p []byte, u uint16) int {
	p[0] = 0xE0 | byte(u>>12)
	p[1] = 0x80 | byte(u>>6)&0x3F
	p[2] = 0x80 | byte(u)&0x3F
	return 3
}

// rawAt returns the raw offset of decoded offset dec, which must be 0, just after a '\n', or the end of
// the stream, and not smaller than in the previous call. It returns -1 for any other offset.
func (d *utf16Decoder) rawAt(dec int64) int64 {
	if dec == 0 {
		return d.start
	}
	for d.mhead < len(d.marks) && d.marks[d.mhead].dec < dec {
		d.mhead++
	}
	if d.mhead > 1024 && d.mhead > len(d.marks)/2 {
		d.marks = d.marks[:copy(d.marks, d.marks[d.mhead:])]
		d.mhead = 0
	}
	if d.mhead < len(d.marks) && d.marks[d.mhead].dec == dec {
		return d.marks[d.mhead].raw
	}
	if d.eof && d.ini == d.inj && dec == d.dec {
		return d.raw
	}
	return -1
}

// appendUTF16 appends p, WTF-8 as the reader produced it (so also any UTF-8), encoded as UTF-16.
// An unpaired surrogate goes back to its code unit; bytes that are neither become U+FFFD.
func appendUTF16(dst, p []byte, bigEndian bool) []byte {
	unit := func(b []byte, v uint16) []byte {
		if bigEndian {
			return append(b, byte(v>>8), byte(v))
		}
		return append(b, byte(v), byte(v>>8))
	}
	for i := 0; i < len(p); {
		r, size := utf8.DecodeRune(p[i:])
		if r == utf8.RuneError && size == 1 && i+2 < len(p) &&
			p[i] == 0xED && p[i+1] >= 0xA0 && p[i+1] <= 0xBF && p[i+2] >= 0x80 && p[i+2] <= 0xBF {
			dst = unit(dst, uint16(p[i]&0x0F)<<12|uint16(p[i+1]&0x3F)<<6|uint16(p[i+2]&0x3F))
			i += 3
			continue
		}
		if r >= 0x10000 {
			hi, lo := utf16.EncodeRune(r)
			dst = unit(unit(dst, uint16(hi)), uint16(lo))
		} else {
			dst = unit(dst, uint16(r))
		}
		i += size
	}
	return dst
}
