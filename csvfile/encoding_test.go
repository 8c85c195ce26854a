package csvfile

import (
	"bytes"
	"io"
	"testing"
	"unicode/utf8"
	"unsafe"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/text/encoding/charmap"
)

// shortReads is a ReadSeeker whose reads return at most n bytes, to cut code units, surrogate pairs,
// line breaks and quotes at every possible place.
type shortReads struct {
	*bytes.Reader
	n int
}

func (s shortReads) Read(p []byte) (int, error) { return s.Reader.Read(p[:min(len(p), s.n)]) }

// TestReaderShortReads reads every fixture through reads of 1, 2 and 3 bytes and expects exactly what
// whole reads give.
func TestReaderShortReads(t *testing.T) {
	for _, fx := range fixtures() {
		_, want, wantErr := readAll(t, fx.data, fx.opts, 0)
		for n := 1; n <= 3; n++ {
			r, err := newReader(shortReads{bytes.NewReader(fx.data), n}, fx.name, fx.opts, maxRecordSize)
			if wantErr != nil || err != nil {
				assert.Equal(t, wantErr == nil, err == nil, fx.name)
				continue
			}
			got, err := readRest(r)
			require.NoError(t, err)
			assert.Equal(t, comparableRecords(want), comparableRecords(got), "%s, reads of %d bytes", fx.name, n)
		}
	}
}

func TestUTF16Decoder(t *testing.T) {
	tests := []struct {
		name  string
		units []uint16
		extra []byte // raw bytes after the units
		want  string // WTF-8
	}{
		{name: "BMP", units: []uint16{'a', 0xE9, 0x20AC}, want: "aé€"},
		{name: "surrogate pair", units: []uint16{0xD83D, 0xDE00}, want: "😀"},
		{name: "high surrogate then not a low one", units: []uint16{0xD83D, 'x'}, want: "\xed\xa0\xbdx"},
		{name: "high surrogate at the end", units: []uint16{'x', 0xD83D}, want: "x\xed\xa0\xbd"},
		{name: "low surrogate alone", units: []uint16{0xDE00, 'x'}, want: "\xed\xb8\x80x"},
		{name: "two high surrogates then a low", units: []uint16{0xD800, 0xD83D, 0xDE00}, want: "\xed\xa0\x80😀"},
		{name: "odd byte at the end", units: []uint16{'a'}, extra: []byte{'b'}, want: "a\xff"},
	}
	for _, tt := range tests {
		for _, be := range []bool{false, true} {
			raw := append(unitBytes(tt.units, be), tt.extra...)
			for n := 1; n <= 4; n++ {
				var d utf16Decoder
				d.reset(shortReads{bytes.NewReader(raw), n}, 0, be)
				got, err := io.ReadAll(&d)
				require.NoError(t, err)
				assert.Equal(t, tt.want, string(got), "%s, big endian %t, reads of %d", tt.name, be, n)
				assert.Equal(t, int64(len(raw)), d.rawAt(int64(len(got))), "%s: the end maps to the end", tt.name)
				// And back: the writer gives the same code units (the odd byte cannot be).
				if tt.extra == nil {
					assert.Equal(t, raw, appendUTF16(nil, got, be), "%s: back to UTF-16", tt.name)
				}
			}
		}
	}
}

func TestUTF16DecoderMarks(t *testing.T) {
	raw := toUTF16("ab\n😀\r\n\nc", false, false)
	var d utf16Decoder
	d.reset(bytes.NewReader(raw), 100, false)
	got, err := io.ReadAll(&d)
	require.NoError(t, err)
	require.Equal(t, "ab\n😀\r\n\nc", string(got))
	assert.Equal(t, int64(100), d.rawAt(0))
	assert.Equal(t, int64(106), d.rawAt(3))  // after "ab\n"
	assert.Equal(t, int64(114), d.rawAt(9))  // after "😀\r\n"
	assert.Equal(t, int64(116), d.rawAt(10)) // after the blank line
	assert.Equal(t, int64(118), d.rawAt(11)) // the end
	assert.Equal(t, int64(-1), d.rawAt(12))
}

func TestDecode1252(t *testing.T) {
	for b := 0; b < 256; b++ {
		s := string([]byte{byte(b)})
		got, ok := Windows1252.decode(s)
		switch b {
		case 0x81, 0x8D, 0x8F, 0x90, 0x9D:
			assert.False(t, ok, "%#x is undefined", b)
			assert.Equal(t, "\uFFFD", got)
		default:
			require.True(t, ok, "%#x", b)
			r, _ := utf8.DecodeRuneInString(got)
			assert.Equal(t, charmap.Windows1252.DecodeByte(byte(b)), r, "%#x", b)
		}
		got, ok = ISO88591.decode(s)
		assert.True(t, ok)
		assert.Equal(t, string(rune(b)), got)
	}
}

func TestDecodeReturnsPlainValuesUnchanged(t *testing.T) {
	for _, e := range []Encoding{UTF8, UTF16LE, Windows1252, ISO88591} {
		s := "plain ascii"
		got, ok := e.decode(s)
		assert.True(t, ok)
		assert.Same(t, unsafe.StringData(s), unsafe.StringData(got), e.String())
	}
	got, ok := UTF8.decode("a\xffb")
	assert.False(t, ok)
	assert.Equal(t, "a\uFFFDb", got)
}

func TestAppendText(t *testing.T) {
	assert.Equal(t, []byte("\x80 ? \xe9"), Windows1252.appendText(nil, "€ Ọ é"))
	assert.Equal(t, []byte("? ? \xe9"), ISO88591.appendText(nil, "€ Ọ é"))
	assert.Equal(t, []byte("€ Ọ é"), UTF8.appendText(nil, "€ Ọ é"))
}
