package csvfile

import (
	"bytes"
	"errors"
	"io"
	"runtime"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestRejectsLongRecord: a record too long to keep goes to the rejects file byte for byte as the input
// has it (copied from the file), followed by its reason, in every encoding and with either line end;
// fed back with the same limit it is rejected again, and the rows after it are read as rows.
func TestRejectsLongRecord(t *testing.T) {
	const limit = 64
	notes := strings.Repeat("a \"\"b\"\", c\n", 10)
	tests := []struct {
		name   string
		in     string // the rejected record is the second row
		record string // its text in the file, without its line break
		reason string
	}{
		{
			name:   "a quoted value over many lines",
			in:     "id,notes\n1,x\n2,\"" + notes + "\"\n3,y\n",
			record: "2,\"" + notes + "\"",
			reason: "line 3: record longer than 64 bytes (lines 3 to 13): shorten the value that makes it so long",
		},
		{
			name:   "a quote never closed",
			in:     "id,notes\n1,x\n2,\"" + notes,
			record: "2,\"" + notes,
			reason: "line 3: the quote opened here is never closed: the rest of the file, to line 12, is this one record (close the quote where the value ends)",
		},
	}
	for _, tt := range tests {
		for _, crlf := range []bool{false, true} {
			nl := func(s string) string {
				if crlf {
					return strings.ReplaceAll(s, "\n", "\r\n")
				}
				return s
			}
			for enc, encode := range map[string]func(string) []byte{
				"utf-8":        func(s string) []byte { return []byte(s) },
				"windows-1252": to1252,
				"utf-16le":     func(s string) []byte { return toUTF16(s, false, true) },
				"utf-16be":     func(s string) []byte { return toUTF16(s, true, true) },
			} {
				name := tt.name + "/" + enc
				if crlf {
					name += "/crlf"
				}
				t.Run(name, func(t *testing.T) {
					opts := CSVOptions{Encoding: enc}
					r, recs, err := readAll(t, encode(nl(tt.in)), opts, limit)
					require.NoError(t, err)
					require.GreaterOrEqual(t, len(recs), 2)
					long := recs[1]
					require.Error(t, long.Err)
					assert.Equal(t, tt.reason, long.Err.Error())
					require.NotNil(t, long.src)

					var buf bytes.Buffer
					w, err := NewRejectsWriter(&buf, r.Dialect(), r.Header())
					require.NoError(t, err)
					require.NoError(t, w.Write(long, long.Err.Error()))
					require.NoError(t, w.Flush())
					want := nl("id,notes,error\n" + tt.record + `,"` + tt.reason + "\"\n")
					if enc == "utf-16le" || enc == "utf-16be" {
						// The byte-order mark, then the record's own code units, the reason's after them.
						assert.Equal(t, encode(want), buf.Bytes())
					} else {
						assert.Equal(t, string(encode(want)), buf.String())
					}

					_, again, err := readAll(t, buf.Bytes(), opts, limit)
					require.NoError(t, err)
					require.Len(t, again, 1)
					assert.Error(t, again[0].Err, "fed back, it is rejected again")
				})
			}
		}
	}
}

func TestRejectsLongRecordNeedsItsReader(t *testing.T) {
	data := []byte("id,n\n1,\"" + strings.Repeat("x", 100) + "\"\n")
	r, recs, err := readAll(t, data, CSVOptions{}, 64)
	require.NoError(t, err)
	require.Len(t, recs, 1)
	require.NotNil(t, recs[0].src)

	w, err := NewRejectsWriter(io.Discard, Dialect{Delimiter: ';', Encoding: "utf-8"}, r.Header())
	require.NoError(t, err)
	assert.ErrorContains(t, w.Write(recs[0], "x"), `row 1 was read as utf-8 with delimiter ',', the rejects file is utf-8 with ';'`)

	require.NoError(t, r.Close())
	w, err = NewRejectsWriter(io.Discard, r.Dialect(), r.Header())
	require.NoError(t, err)
	assert.ErrorContains(t, w.Write(recs[0], "x"), "the reader is closed")
}

// patternReader is a file of any size made of a head, then tail repeated to size bytes, without holding it.
type patternReader struct {
	head, tail []byte
	size, pos  int64
}

func (p *patternReader) Read(b []byte) (int, error) {
	if p.pos >= p.size {
		return 0, io.EOF
	}
	n := min(int64(len(b)), p.size-p.pos)
	b = b[:n]
	for len(b) > 0 {
		var k int
		if h := int64(len(p.head)); p.pos < h {
			k = copy(b, p.head[p.pos:])
		} else {
			k = copy(b, p.tail[(p.pos-h)%int64(len(p.tail)):])
		}
		b, p.pos = b[k:], p.pos+int64(k)
	}
	return int(n), nil
}

func (p *patternReader) Seek(off int64, whence int) (int64, error) {
	switch whence {
	case io.SeekCurrent:
		off += p.pos
	case io.SeekEnd:
		off += p.size
	}
	if off < 0 {
		return 0, errors.New("negative position")
	}
	p.pos = off
	return off, nil
}

// TestReaderLongRecordMemory reads, and counts, files whose second row opens a quote that is never
// closed, followed by 4 MiB and by 40 MiB of lines: one row each time, and the reader allocates no more
// for the long one than for the short one (give or take 1 MiB), in UTF-8 and in UTF-16 (whose decoder
// notes the place of every line break).
func TestReaderLongRecordMemory(t *testing.T) {
	for name, p := range map[string]*patternReader{
		"utf-8":    {head: []byte("id,notes\n1,x\n2,\""), tail: []byte("a line of the notes, with \"\"quotes\"\"\r\n")},
		"utf-16le": {head: toUTF16("id,notes\n1,x\n2,\"", false, true), tail: toUTF16("a line of the notes\n", false, false)},
	} {
		t.Run(name, func(t *testing.T) {
			alloc := func(size int64, read func() int) uint64 {
				p.size = size
				var before, after runtime.MemStats
				runtime.ReadMemStats(&before)
				rows := read()
				runtime.ReadMemStats(&after)
				require.Equal(t, 2, rows)
				return after.TotalAlloc - before.TotalAlloc
			}
			next := func() int {
				r, err := NewReader(p, "big.csv", CSVOptions{})
				require.NoError(t, err)
				recs, err := readRest(r)
				require.NoError(t, err)
				require.Len(t, recs, 2)
				assert.ErrorIs(t, recs[1].Err, ErrQuote)
				assert.Equal(t, p.size, recs[1].End)
				return len(recs)
			}
			count := func() int {
				r, err := NewReader(p, "big.csv", CSVOptions{})
				require.NoError(t, err)
				n, err := r.CountRest()
				require.NoError(t, err)
				return n
			}
			for what, read := range map[string]func() int{"Next": next, "CountRest": count} {
				short, long := alloc(4<<20, read), alloc(40<<20, read)
				assert.Less(t, int64(long)-int64(short), int64(1<<20), "%s: bytes allocated for 40 MiB (%d) against 4 MiB (%d)", what, long, short)
			}
		})
	}
}
