package csvfile

import (
	"bytes"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// writeRejects writes every record of recs to a rejects file, each with reason(rec), and closes it.
func writeRejects(t testing.TB, d Dialect, header []string, recs []*Record, reason func(*Record) string, opts ...RejectsOption) []byte {
	t.Helper()
	var buf bytes.Buffer
	w, err := NewRejectsWriter(&buf, d, header, opts...)
	require.NoError(t, err)
	for _, rec := range recs {
		require.NoError(t, w.Write(rec, reason(rec)))
	}
	require.NoError(t, w.Close())
	return buf.Bytes()
}

// writeInputRejects is writeRejects for the records r read, with r's dialect, header and framing.
func writeInputRejects(t testing.TB, r *Reader, recs []*Record, reason func(*Record) string) []byte {
	t.Helper()
	return writeRejects(t, r.Dialect(), r.Header(), recs, reason, WithInput(r))
}

// TestRejectsRoundTrip writes every record of every fixture to a rejects file and reads it back with the
// fixture's own options ("auto" mostly): see checkRejects.
func TestRejectsRoundTrip(t *testing.T) {
	eachReadable(t, func(t *testing.T, fx fixture, r *Reader, recs []*Record) {
		reason := func(rec *Record) string {
			if rec.Err != nil {
				return rec.Err.Error()
			}
			return fmt.Sprintf("=row %d: ü", rec.Row)
		}
		out := writeInputRejects(t, r, recs, reason)
		checkRejects(t, r, recs, out, fx.opts, 0, reason)
	})
}

// checkRejects reads back out, the rejects file of recs (read by r with the record limit limit, 0 for
// the default), with opts and the same limit and checks it: the same dialect; the header, with its error
// column added, or replaced when the input was a rejects file; then one record for each of recs: its raw
// values (less its last, the earlier reason, when the error column is replaced) and the reason, and a
// record of the header's width read without error as it was; or, for a record that could not be read,
// the same text followed by the reason, rejected again; for one too long to keep, its bytes in the input
// followed by the reason, rejected again.
func checkRejects(t testing.TB, r *Reader, recs []*Record, out []byte, opts CSVOptions, limit int64, reason func(*Record) string) {
	t.Helper()
	d, header := r.Dialect(), r.Header()
	back, got, err := readAll(t, out, opts, 0)
	require.NoError(t, err)
	want := d
	want.Unnamed = 0 // the rejects file leaves out the input's unnamed columns, and their empty values
	require.Equal(t, want, back.Dialect())
	replace := isErrorColumn(header)
	if replace {
		require.Equal(t, header, back.Header(), "the error column is replaced")
	} else {
		require.Equal(t, append(slices.Clone(header), errorColumn(header)), back.Header())
	}
	require.Len(t, got, len(recs), "one record for each")
	var again []*Record // read with limit, if needed
	delim := string(d.Delimiter)
	for i, rec := range recs {
		g := got[i]
		raw := rec.Raw
		if !r.enc.asciiCompatible() {
			raw = slices.Clone(raw)
			for j, v := range raw {
				raw[j] = strings.ReplaceAll(v, string([]byte{badUTF16}), "\uFFFD") // a lone last byte cannot be written back
			}
		}
		want := reason(rec)
		if r, _ := utf8.DecodeRuneInString(want); want != "" && strings.ContainsRune("=+-@\t\r＝＋－＠", r) {
			want = "'" + want
		}
		if rec.src != nil {
			var was bytes.Buffer
			require.NoError(t, rec.src.copyText(&was, rec.textFrom, rec.textTo))
			tail := []byte(delim + `"`)
			if !r.enc.asciiCompatible() {
				tail = appendUTF16(nil, tail, r.enc == UTF16BE)
			}
			require.True(t, bytes.HasPrefix(out[g.Offset:g.End], append(was.Bytes(), tail...)), "row %d: its bytes as they were, then the reason", rec.Row)
			if again == nil {
				_, again, err = readAll(t, out, opts, limit)
				require.NoError(t, err)
				require.Len(t, again, len(recs), "one record for each, with the limit the input was read with")
			}
			require.Error(t, again[i].Err, "row %d: a record too long is too long again", rec.Row)
			continue
		}
		if unreadable(rec) {
			require.Error(t, g.Err, "row %d: a broken line is never accepted", rec.Row)
			if !errors.Is(g.Err, ErrQuote) {
				require.ErrorIs(t, g.Err, ErrRecordTooLong, "row %d is rejected again for its quoting", rec.Row)
			}
			line := strings.Join(g.Raw, delim)
			require.True(t, strings.HasPrefix(line, strings.Join(raw, delim)+delim+`"`), "row %d: the line as it was, then the reason:\n%q\n%q", rec.Row, raw, line)
			continue
		}
		if replace && len(raw) > 0 {
			raw = raw[:len(raw)-1]
		}
		if r.enc.asciiCompatible() {
			want = string(r.enc.appendText(nil, want))
		}
		require.Len(t, g.Raw, len(raw)+1, "row %d", rec.Row)
		for j, v := range raw {
			require.Equal(t, v, g.Raw[j], "row %d, value %d", rec.Row, j+1)
		}
		require.Equal(t, want, g.Raw[len(raw)], "row %d reason", rec.Row)
		if rec.Err == nil {
			require.NoError(t, g.Err, "row %d", rec.Row)
			require.Equal(t, rec.Fields[:len(raw)], g.Fields[:len(raw)], "row %d fields", rec.Row)
		}
	}
}

// TestRejectsFedBack feeds each fixture's rejects file back, as a user would, and writes its rejects: the
// error column is replaced, not added to, so that the second file is the first again, except that a line
// that could not be read keeps the earlier reason among its bytes.
func TestRejectsFedBack(t *testing.T) {
	eachReadable(t, func(t *testing.T, fx fixture, r *Reader, recs []*Record) {
		reason := func(rec *Record) string { return fmt.Sprintf("row %d: rejected", rec.Row) }
		first := writeInputRejects(t, r, recs, reason)
		r2, recs2, err := readAll(t, first, fx.opts, 0)
		require.NoError(t, err)
		second := writeInputRejects(t, r2, recs2, reason)
		checkRejects(t, r2, recs2, second, fx.opts, 0, reason)
		if !slices.ContainsFunc(recs, unreadable) {
			assert.Equal(t, string(first), string(second))
			return
		}
		assert.Equal(t, r.Header(), r2.Header()[:len(r.Header())], "no second error column")
		assert.Equal(t, len(r2.Header()), len(headerOf(t, second, fx.opts)))
	})
}

func headerOf(t *testing.T, data []byte, opts CSVOptions) []string {
	t.Helper()
	r, _, err := readAll(t, data, opts, 0)
	require.NoError(t, err)
	return r.Header()
}

// TestRejectsBrokenQuoting: a line rejected for its quoting comes back in rejects.csv as it was, so that
// fed back unfixed it is rejected again, never imported with its quotes as data.
func TestRejectsBrokenQuoting(t *testing.T) {
	tests := []struct {
		name string
		opts CSVOptions
		in   []byte
		want []byte // the rejects file, with each rejected record's reason as the reader gave it
	}{
		{
			name: "a quote inside a quoted field",
			in:   []byte("id,first,last,email\n1,Ada,Obi,a@x.co\n4,Di,\"Uz\"o,d@x.co\n5,Eze,Okon,e@x.co\n"),
			want: []byte("id,first,last,email,error\n" +
				"4,Di,\"Uz\"o,d@x.co,\"line 3, column 3 (last): quoted field not closed properly (double each quote inside a quoted field: \"\"a \"\"\"\"b\"\"\"\" c\"\")\"\n"),
		},
		{
			name: "a bare quote",
			in:   []byte("id;name\n1;Ada \"Queen\" Obi\n"),
			want: []byte("id;name;error\n" +
				"1;Ada \"Queen\" Obi;\"line 2, column 2 (name): quote inside a field that is not quoted (quote the whole field and double the quotes inside: \"\"a \"\"\"\"b\"\"\"\" c\"\")\"\n"),
		},
		{
			name: "a quote not closed properly: the whole record as it was, then the reason",
			in:   []byte("id,name\n3,\"Chidi\n4,Dayo\n5,\"Emeka, \"\"E\"\"\"\n6,Femi\n"),
			want: []byte("id,name,error\n" +
				"3,\"Chidi\n4,Dayo\n5,\"Emeka, \"\"E\"\"\",\"line 2: quoted field not closed properly (the record that starts here breaks on line 4; " +
				"double each quote inside a quoted field: \"\"a \"\"\"\"b\"\"\"\" c\"\")\"\n"),
		},
		{
			name: "a quote never closed: the rest of the file, then the reason, which closes the quote",
			in:   []byte("id,name\r\n1,Ada\r\n3,\"Chidi\r\n4,Dayo\r\n"),
			want: []byte("id,name,error\r\n" +
				"3,\"Chidi\r\n4,Dayo\r\n,\"line 3: the quote opened here is never closed: the rest of the file, to line 4, is this one record (close the quote where the value ends)\"\r\n"),
		},
		{
			name: "windows-1252 bytes and CRLF kept",
			opts: CSVOptions{Encoding: "windows-1252"},
			in:   []byte("id;name\r\n1;\"Ren\xe9e\" \xc9\r\n"),
			want: []byte("id;name;error\r\n" +
				"1;\"Ren\xe9e\" \xc9;\"line 2, column 2 (name): quoted field not closed properly (double each quote inside a quoted field: \"\"a \"\"\"\"b\"\"\"\" c\"\")\"\r\n"),
		},
		{
			name: "utf-16 with a BOM",
			in:   toUTF16("id,name\n1,\"Zoë\"x\n", true, true),
			want: toUTF16("id,name,error\n"+
				"1,\"Zoë\"x,\"line 2, column 2 (name): quoted field not closed properly (double each quote inside a quoted field: \"\"a \"\"\"\"b\"\"\"\" c\"\")\"\n", true, true),
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, recs, err := readAll(t, tt.in, tt.opts, 0)
			require.NoError(t, err)
			var bad []*Record
			for _, rec := range recs {
				if rec.Err != nil {
					bad = append(bad, rec)
				}
			}
			out := writeRejects(t, r.Dialect(), r.Header(), bad, func(rec *Record) string { return rec.Err.Error() })
			assert.Equal(t, tt.want, out)

			// Fed back unfixed, each line is rejected again for its quoting, and nothing is read as values.
			_, again, err := readAll(t, out, tt.opts, 0)
			require.NoError(t, err)
			require.Len(t, again, len(bad))
			for _, rec := range again {
				assert.ErrorIs(t, rec.Err, ErrQuote, "row %d", rec.Row)
			}
		})
	}
}

func TestRejectsWriterBytes(t *testing.T) {
	rec := func(raw ...string) *Record { return &Record{Raw: raw} }
	broken := func(kind error, raw ...string) *Record {
		return &Record{Raw: raw, Err: &RecordError{Kind: kind, Reason: "broken"}}
	}
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
			name:   "an error column already there, not last",
			d:      Dialect{Delimiter: ',', Encoding: "utf-8"},
			header: []string{"id", "Error", "note"},
			recs:   []*Record{rec("1", "E42", "n")},
			reason: "x",
			want:   []byte("id,Error,note,error_2\n1,E42,n,x\n"),
		},
		{
			name:   "a rejects file's error column is replaced",
			d:      Dialect{Delimiter: ';', Encoding: "utf-8"},
			header: []string{"id", "name", "error"},
			recs:   []*Record{rec("1", "Ada", "old reason"), rec("2", "old reason"), rec("3", "Eze", "x", "old reason")},
			reason: "new reason",
			want:   []byte("id;name;error\n1;Ada;new reason\n2;new reason\n3;Eze;x;new reason\n"),
		},
		{
			name:   "a rejects file of a file with an error column",
			d:      Dialect{Delimiter: ',', Encoding: "utf-8"},
			header: []string{"id", "Error", "error_2"},
			recs:   []*Record{rec("1", "E42", "old")},
			reason: "new",
			want:   []byte("id,Error,error_2\n1,E42,new\n"),
		},
		{
			name:   "a column named error that is not last is data",
			d:      Dialect{Delimiter: ',', Encoding: "utf-8"},
			header: []string{"error", "id"},
			recs:   []*Record{rec("E42", "1")},
			reason: "x",
			want:   []byte("error,id,error_2\nE42,1,x\n"),
		},
		{
			name:   "a single column named error is data",
			d:      Dialect{Delimiter: ',', Encoding: "utf-8"},
			header: []string{"error"},
			recs:   []*Record{rec("E42")},
			reason: "x",
			want:   []byte("error,error_2\nE42,x\n"),
		},
		{
			name:   "a last column Error in another case is data",
			d:      Dialect{Delimiter: ',', Encoding: "utf-8"},
			header: []string{"id", "Error"},
			recs:   []*Record{rec("1", "E42")},
			reason: "x",
			want:   []byte("id,Error,error_2\n1,E42,x\n"),
		},
		{
			name:   "Excel's sep= line written back",
			d:      Dialect{Delimiter: ';', Encoding: "utf-8", BOM: true, Sep: true, CRLF: true},
			header: []string{"id", "name"},
			recs:   []*Record{rec("1", "a;b")},
			reason: "bad",
			want:   []byte("\uFEFFsep=;\r\nid;name;error\r\n1;\"a;b\";bad\r\n"),
		},
		{
			name:   "Excel's sep= line in utf-16",
			d:      Dialect{Delimiter: '\t', Encoding: "utf-16le", BOM: true, Sep: true},
			header: []string{"id"},
			recs:   []*Record{rec("1")},
			reason: "bad",
			want:   toUTF16("sep=\t\nid\terror\n1\tbad\n", false, true),
		},
		{
			name:   "a broken line as it was, the reason always quoted",
			d:      Dialect{Delimiter: ',', Encoding: "utf-8"},
			header: []string{"id", "name", "note"},
			recs:   []*Record{broken(ErrQuote, "3", "\"Chidi", "x"), broken(ErrRecordTooLong, "4", "\"Dayo")},
			reason: "plain",
			want:   []byte("id,name,note,error\n3,\"Chidi,x,\"plain\"\n4,\"Dayo,\"plain\"\n"),
		},
		{
			name:   "a broken line's reason cannot end the quote it closes",
			d:      Dialect{Delimiter: ';', Encoding: "utf-8"},
			header: []string{"id", "name"},
			recs:   []*Record{broken(ErrQuote, "3", "\"Chidi")},
			reason: "\"q\"\r\n;x",
			want:   []byte("id;name;error\n3;\"Chidi;\"'\"\"q\"\" ;x\"\n"),
		},
		{
			name:   "a broken line in a rejects file keeps its bytes",
			d:      Dialect{Delimiter: ',', Encoding: "utf-8"},
			header: []string{"id", "name", "error"},
			recs:   []*Record{broken(ErrQuote, "3", "\"Chidi", "\"old\"")},
			reason: "new",
			want:   []byte("id,name,error\n3,\"Chidi,\"old\",\"new\"\n"),
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
			want:   cat(toUTF16("n,error\n", true, true), unitBytes([]uint16{0xD83D, 'é', ',', 'ü', '\n'}, true)),
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
			got := writeRejects(t, tt.d, tt.header, tt.recs, func(*Record) string { return tt.reason })
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

type failingWriter struct{}

func (failingWriter) Write([]byte) (int, error) { return 0, errors.New("disk full") }

func TestRejectsWriterReportsWriteErrors(t *testing.T) {
	w, err := NewRejectsWriter(failingWriter{}, Dialect{Delimiter: ',', Encoding: "utf-8"}, []string{"a"})
	require.NoError(t, err) // buffered
	require.NoError(t, w.Write(&Record{Raw: []string{"1"}}, "x"))
	err = w.Flush()
	assert.ErrorContains(t, err, "write rejects: disk full")
	assert.Equal(t, err, w.Write(&Record{Raw: []string{"2"}}, "y"), "errors stick")
}

// TestRejectsWriterWithData: a last column "error" that is data (WithData says so) is the user's: the
// error column is added after it. One that is not data, or without WithData, is replaced. (mapping's
// TestRejectsWriterWithMapper: the columns a mapping reads are data.)
func TestRejectsWriterWithData(t *testing.T) {
	header := []string{"Id", "Name", "error"}
	tests := []struct {
		name string
		opts []RejectsOption
		want string
	}{
		{"data", []RejectsOption{WithData(func(col int) bool { return col == 2 })}, "Id,Name,error,error_2\n1,Ada,E42,new\n"},
		{"not data", []RejectsOption{WithData(func(col int) bool { return col != 2 })}, "Id,Name,error\n1,Ada,new\n"},
		{"no WithData", nil, "Id,Name,error\n1,Ada,new\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out := writeRejects(t, Dialect{Delimiter: ',', Encoding: "utf-8"}, header, []*Record{{Raw: []string{"1", "Ada", "E42"}}},
				func(*Record) string { return "new" }, tt.opts...)
			assert.Equal(t, tt.want, string(out))
		})
	}
}
