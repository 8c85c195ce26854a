package mapping

import (
	"bytes"
	"errors"
	"fmt"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// rdWriteRejects writes every record of recs to a rejects file, each with reason(rec).
func rdWriteRejects(t testing.TB, d Dialect, header []string, recs []*Record, reason func(*Record) string) []byte {
	t.Helper()
	var buf bytes.Buffer
	w, err := NewRejectsWriter(&buf, d, header)
	require.NoError(t, err)
	for _, rec := range recs {
		require.NoError(t, w.Write(rec, reason(rec)))
	}
	require.NoError(t, w.Flush())
	return buf.Bytes()
}

// TestRejectsRoundTrip writes every record of every fixture to a rejects file and reads it back with the
// fixture's own options ("auto" mostly): same dialect, the header plus "error", the same raw values
// (so the same values) and the reason.
func TestRejectsRoundTrip(t *testing.T) {
	rdEachReadable(t, func(t *testing.T, fx rdFixture, r *Reader, recs []*Record) {
		reason := func(rec *Record) string {
			if rec.Err != nil {
				return rec.Err.Error()
			}
			return fmt.Sprintf("=row %d: ü", rec.Row)
		}
		out := rdWriteRejects(t, r.Dialect(), r.Header(), recs, reason)

		back, got, err := rdReadAll(t, out, fx.opts, 0)
		require.NoError(t, err)
		assert.Equal(t, r.Dialect(), back.Dialect())
		assert.Equal(t, append(r.Header(), "error"), back.Header())
		require.Len(t, got, len(recs))
		for i, rec := range recs {
			g := got[i]
			n := len(rec.Raw)
			require.Len(t, g.Raw, n+1, "row %d", rec.Row)
			assert.Equal(t, rec.Raw, g.Raw[:n], "row %d raw", rec.Row)
			want := reason(rec)
			if want[0] == '=' {
				want = "'" + want
			}
			assert.Equal(t, want, g.Fields[n], "row %d reason", rec.Row)
			if rec.Err == nil {
				assert.NoError(t, g.Err)
				assert.Equal(t, rec.Fields, g.Fields[:n], "row %d fields", rec.Row)
			}
		}
	})
}

func TestRejectsWriterBytes(t *testing.T) {
	rec := func(raw ...string) *Record { return &Record{Raw: raw} }
	tests := []struct {
		name   string
		d      Dialect
		header []string
		recs   []*Record
		reason string
		want   []byte
	}{
		{
			name:   "utf-8 with BOM and CRLF",
			d:      Dialect{Delimiter: ',', Encoding: "utf-8", BOM: true, CRLF: true},
			header: []string{"id", "note"},
			recs:   []*Record{rec("1", "a\nb"), rec("2", "x\ry"), rec("3", "p\r\nq")},
			reason: "bad",
			want:   []byte("\uFEFFid,note,error\r\n1,\"a\r\nb\",bad\r\n2,\"x\ry\",bad\r\n3,\"p\r\r\nq\",bad\r\n"),
		},
		{
			name:   "LF keeps a CR before a line break",
			d:      Dialect{Delimiter: ',', Encoding: "utf-8"},
			header: []string{"id", "note"},
			recs:   []*Record{rec("1", "a\nb"), rec("2", "p\r\nq")},
			reason: "bad",
			want:   []byte("id,note,error\n1,\"a\nb\",bad\n2,\"p\r\r\nq\",bad\n"),
		},
		{
			name:   "windows-1252: values unchanged, the reason encoded",
			d:      Dialect{Delimiter: ';', Encoding: "windows-1252"},
			header: []string{"name", "Ort"},
			recs:   []*Record{rec("Chlo\xe9", "x\x81")},
			reason: "€ Ọ",
			want:   []byte("name;Ort;error\nChlo\xe9;x\x81;\x80 ?\n"),
		},
		{
			name:   "other candidate delimiters are quoted",
			d:      Dialect{Delimiter: '|', Encoding: "utf-8"},
			header: []string{"a,b", "c"},
			recs:   []*Record{rec("1;2", "3\t4"), rec("\"q\"", "")},
			reason: "r|s",
			want:   []byte("\"a,b\"|c|error\n\"1;2\"|\"3\t4\"|\"r|s\"\n\"\"\"q\"\"\"||\"r|s\"\n"),
		},
		{
			name:   "an error column already there",
			d:      Dialect{Delimiter: ',', Encoding: "utf-8"},
			header: []string{"id", "Error", "error_2"},
			reason: "x",
			want:   []byte("id,Error,error_2,error_3\n"),
		},
		{
			name:   "formulas are not run",
			d:      Dialect{Delimiter: ',', Encoding: "utf-8"},
			header: []string{"id"},
			recs:   []*Record{rec("=1+1")},
			reason: "+SUM(A1)",
			want:   []byte("id,error\n=1+1,'+SUM(A1)\n"),
		},
		{
			name:   "utf-16be with BOM, unpaired surrogate kept",
			d:      Dialect{Delimiter: ',', Encoding: "utf-16be", BOM: true},
			header: []string{"n"},
			recs:   []*Record{rec("\xed\xa0\xbdé")},
			reason: "ü",
			want:   rdCat(rdToUTF16("n,error\n", true, true), rdUnits([]uint16{0xD83D, 'é', ',', 'ü', '\n'}, true)),
		},
		{
			name:   "a record kept without values",
			d:      Dialect{Delimiter: ',', Encoding: "utf-8"},
			header: []string{"a", "b"},
			recs:   []*Record{{}},
			reason: "line 2: too long",
			want:   []byte("a,b,error\nline 2: too long\n"),
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := rdWriteRejects(t, tt.d, tt.header, tt.recs, func(*Record) string { return tt.reason })
			assert.Equal(t, tt.want, got)
		})
	}
}

func TestNewRejectsWriterRefusesUnknownDialects(t *testing.T) {
	for _, d := range []Dialect{
		{Delimiter: ',', Encoding: "auto"},
		{Delimiter: ',', Encoding: "utf-16"},
		{Delimiter: ',', Encoding: "ebcdic"},
		{Delimiter: ':', Encoding: "utf-8"},
		{Encoding: "utf-8"},
	} {
		_, err := NewRejectsWriter(&bytes.Buffer{}, d, []string{"a"})
		assert.Error(t, err, "%+v", d)
	}
}

type rdFailingWriter struct{}

func (rdFailingWriter) Write([]byte) (int, error) { return 0, errors.New("disk full") }

func TestRejectsWriterReportsWriteErrors(t *testing.T) {
	w, err := NewRejectsWriter(rdFailingWriter{}, Dialect{Delimiter: ',', Encoding: "utf-8"}, []string{"a"})
	require.NoError(t, err) // buffered
	require.NoError(t, w.Write(&Record{Raw: []string{"1"}}, "x"))
	err = w.Flush()
	assert.ErrorContains(t, err, "write rejects: disk full")
	assert.Equal(t, err, w.Write(&Record{Raw: []string{"2"}}, "y"), "errors stick")
}
