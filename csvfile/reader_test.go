package csvfile

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const testdataDir = "testdata/reader"

// readAll reads every record of data; maxRecord 0 means the default limit.
func readAll(t testing.TB, data []byte, opts CSVOptions, maxRecord int64) (*Reader, []*Record, error) {
	t.Helper()
	if maxRecord == 0 {
		maxRecord = maxRecordSize
	}
	r, err := newReader(bytes.NewReader(data), "test.csv", opts, maxRecord)
	if err != nil {
		return nil, nil, err
	}
	recs, err := readRest(r)
	return r, recs, err
}

// readRest reads the records left in r.
func readRest(r *Reader) ([]*Record, error) {
	var recs []*Record
	for {
		rec, err := r.Next()
		if err == io.EOF {
			return recs, nil
		}
		if err != nil {
			return recs, err
		}
		recs = append(recs, rec)
	}
}

// renderRecords describes what the reader makes of a file, for golden files.
func renderRecords(r *Reader, recs []*Record, err error) string {
	var b strings.Builder
	if err != nil && r == nil {
		fmt.Fprintf(&b, "error: %v\n", err)
		var ie *InputError
		if errors.As(err, &ie) && ie.Hint() != "" {
			fmt.Fprintf(&b, "hint: %s\n", ie.Hint())
		}
		return b.String()
	}
	d := r.Dialect()
	fmt.Fprintf(&b, "dialect: delimiter %q, encoding %s, bom %t, crlf %t", d.Delimiter, d.Encoding, d.BOM, d.CRLF)
	if d.Sep {
		b.WriteString(", sep= line") // only where there is one, so that the other golden files stay as they were
	}
	if d.Unnamed > 0 {
		fmt.Fprintf(&b, ", %d unnamed columns ignored", d.Unnamed)
	}
	if d.SkipLines > 0 {
		fmt.Fprintf(&b, ", skip_lines %d", d.SkipLines)
	}
	if d.SkipFooter > 0 {
		fmt.Fprintf(&b, ", skip_footer %d", d.SkipFooter)
	}
	if d.Footer != "" {
		fmt.Fprintf(&b, ", footer %q", d.Footer)
	}
	b.WriteString("\n")
	fmt.Fprintf(&b, "header: %q\n", r.Header())
	for _, rec := range recs {
		fmt.Fprintf(&b, "row %d, line %d, bytes [%d,%d): %q\n", rec.Row, rec.Line, rec.Offset, rec.End, rec.Fields)
		if fmt.Sprintf("%q", rec.Raw) != fmt.Sprintf("%q", rec.Fields) {
			fmt.Fprintf(&b, "\traw: %q\n", rec.Raw)
		}
		if rec.Err != nil {
			fmt.Fprintf(&b, "\terror: %v\n", rec.Err)
		}
	}
	for _, f := range r.Footer() {
		fmt.Fprintf(&b, "footer: line %d, %d fields, %d values\n", f.Line, f.Fields, f.Values)
	}
	if err != nil {
		fmt.Fprintf(&b, "read error: %v\n", err)
	}
	return b.String()
}

// TestReaderGolden reads every fixture and compares the outcome with its golden file.
func TestReaderGolden(t *testing.T) {
	for _, fx := range fixtures() {
		t.Run(fx.name, func(t *testing.T) {
			path := filepath.Join(testdataDir, fx.name)
			golden := strings.TrimSuffix(path, filepath.Ext(path)) + ".golden"
			if *updateGolden {
				require.NoError(t, os.MkdirAll(testdataDir, 0o755))
				require.NoError(t, os.WriteFile(path, fx.data, 0o644))
			}
			onDisk, err := os.ReadFile(path)
			require.NoError(t, err)
			require.Equal(t, fx.data, onDisk, "%s is stale: run with -update-reader", path)

			r, recs, err := readAll(t, fx.data, fx.opts, 0)
			got := renderRecords(r, recs, err)
			if *updateGolden {
				require.NoError(t, os.WriteFile(golden, []byte(got), 0o644))
			}
			want, err := os.ReadFile(golden)
			require.NoError(t, err)
			assert.Equal(t, string(want), got)
		})
	}
}

// eachReadable runs fn in a subtest for every fixture that the reader accepts, with its records.
func eachReadable(t *testing.T, fn func(t *testing.T, fx fixture, r *Reader, recs []*Record)) {
	for _, fx := range fixtures() {
		t.Run(fx.name, func(t *testing.T) {
			r, recs, err := readAll(t, fx.data, fx.opts, 0)
			if r == nil {
				t.Skip("not readable:", err)
			}
			require.NoError(t, err)
			fn(t, fx, r, recs)
		})
	}
}

// TestReaderResume checks, for every fixture and every record boundary, that a fresh reader seeking
// there yields exactly the records a full read yields after it — lines included — and that CountRest
// counts what Next yields.
func TestReaderResume(t *testing.T) {
	eachReadable(t, func(t *testing.T, fx fixture, r *Reader, recs []*Record) {
		checkResume(t, fx.data, fx.opts, 0, recs, len(recs))
		checkRFC4180(t, r, fx.data, recs)
		n, err := countRows(filepath.Join(testdataDir, fx.name), r.Dialect())
		require.NoError(t, err)
		assert.Equal(t, len(recs), n, "CountRows")
	})
}

// checkResume checks the resume property at up to max record boundaries of recs.
func checkResume(t testing.TB, data []byte, opts CSVOptions, maxRecord int64, recs []*Record, max int) {
	t.Helper()
	if maxRecord == 0 {
		maxRecord = maxRecordSize
	}
	check := func(pos int64, row int, want []*Record) {
		t.Helper()
		r, err := newReader(bytes.NewReader(data), "test.csv", opts, maxRecord)
		require.NoError(t, err)
		require.NoError(t, r.SeekRecord(pos, row))
		got, err := readRest(r)
		require.NoError(t, err)
		require.Equal(t, comparableRecords(want), comparableRecords(got), "after SeekRecord(%d, %d)", pos, row)
	}
	check(-1, 1, recs)
	step := 1
	if len(recs) > max {
		step = len(recs)/max + 1
	}
	for i := 0; i < len(recs); i += step {
		check(recs[i].Offset, recs[i].Row, recs[i:])
		check(recs[i].End, recs[i].Row+1, recs[i+1:])
	}
}

// comparableRecords turns records into values require.Equal compares exactly (errors as text).
func comparableRecords(recs []*Record) []string {
	out := make([]string, len(recs))
	for i, r := range recs {
		out[i] = fmt.Sprintf("%d %d %d %d %q %q %v", r.Row, r.Line, r.Offset, r.End, r.Fields, r.Raw, r.Err)
	}
	return out
}

func TestReaderRecords(t *testing.T) {
	type want struct {
		row, line int
		fields    []string
		kind      error // nil: no error
		msg       string
	}
	tests := []struct {
		name string
		data string
		opts CSVOptions
		want []want
	}{
		{
			name: "quoted CRLF reads as LF",
			data: "a,b\r\n1,\"x\r\ny\"\r\n",
			want: []want{{row: 1, line: 2, fields: []string{"1", "x\ny"}}},
		},
		{
			name: "rows skip blank lines, lines count them",
			data: "a,b\n\n1,2\n\r\n\n3,4\n",
			want: []want{{row: 1, line: 3, fields: []string{"1", "2"}}, {row: 2, line: 6, fields: []string{"3", "4"}}},
		},
		{
			name: "a line of white space is skipped like a blank line",
			data: "a,b\n  \n1,2\n \t \r\n3,4\n",
			want: []want{{row: 1, line: 3, fields: []string{"1", "2"}}, {row: 2, line: 5, fields: []string{"3", "4"}}},
		},
		{
			name: "a line of delimiters only is skipped",
			data: "a,b,c,d,e\n1,2,3,4,5\n,,,,\n, ,,\t,\n\"\",,\" \",,\n6,7,8,9,0\n,,,,\n,,,,\n",
			want: []want{{row: 1, line: 2, fields: []string{"1", "2", "3", "4", "5"}}, {row: 2, line: 6, fields: []string{"6", "7", "8", "9", "0"}}},
		},
		{
			name: "a line of delimiters with more or fewer fields is skipped too",
			data: "a,b,c\n,\n1,2,3\n,,,,,,\n",
			want: []want{{row: 1, line: 3, fields: []string{"1", "2", "3"}}},
		},
		{
			name: "a line with one value among empty fields is a row",
			data: "a,b,c\n,x,\n",
			want: []want{{row: 1, line: 2, fields: []string{"", "x", ""}}},
		},
		{
			name: "Ctrl-Z alone on the last line is skipped",
			data: "a,b\r\n1,2\r\n\x1a",
			want: []want{{row: 1, line: 2, fields: []string{"1", "2"}}},
		},
		{
			name: "Ctrl-Z alone on the last line, with a line end",
			data: "a,b\n1,2\n\x1a\n",
			want: []want{{row: 1, line: 2, fields: []string{"1", "2"}}},
		},
		{
			name: "Ctrl-Z alone on a line that is not the last is a row",
			data: "a,b\n\x1a\n1,2\n",
			want: []want{
				{row: 1, line: 2, fields: []string{"\x1a"}, kind: ErrFieldCount, msg: "line 2: 1 field, header has 2"},
				{row: 2, line: 3, fields: []string{"1", "2"}},
			},
		},
		{
			name: "a quote problem after a skipped line names its own line",
			data: "a,b\n , \n1,x\"y\n2,z\n",
			want: []want{
				{row: 1, line: 3, fields: []string{"1", "x\"y"}, kind: ErrQuote, msg: "line 3, column 2 (b): quote inside a field that is not quoted"},
				{row: 2, line: 4, fields: []string{"2", "z"}},
			},
		},
		{
			name: "too many fields",
			data: "a,b\n1,2,3\n4,5\n",
			want: []want{
				{row: 1, line: 2, fields: []string{"1", "2", "3"}, kind: ErrFieldCount, msg: "line 2: 3 fields, header has 2"},
				{row: 2, line: 3, fields: []string{"4", "5"}},
			},
		},
		{
			name: "invalid UTF-8 names the column",
			data: "id,E-mail\n1,a\xffb\n2,ok\n",
			opts: CSVOptions{Encoding: "utf-8"},
			want: []want{
				{row: 1, line: 2, fields: []string{"1", "a\uFFFDb"}, kind: ErrEncoding,
					msg: "line 2, column 2 (E-mail): bytes not valid UTF-8 (set csv.encoding: windows-1252 if the file is Windows-1252)"},
				{row: 2, line: 3, fields: []string{"2", "ok"}},
			},
		},
		{
			name: "invalid UTF-8 after a UTF-8 byte-order mark: the file mixes encodings",
			data: "\uFEFFid,E-mail\n1,Ren\xe9e\n2,ok\n",
			want: []want{
				{row: 1, line: 2, fields: []string{"1", "Ren\uFFFDe"}, kind: ErrEncoding,
					msg: "line 2, column 2 (E-mail): bytes not valid UTF-8 (the file begins with a UTF-8 byte-order mark, so it mixes encodings: export it again as UTF-8, or fix these bytes)"},
				{row: 2, line: 3, fields: []string{"2", "ok"}},
			},
		},
		{
			name: "undefined Windows-1252 bytes",
			data: "id;name\n1;\x8d\n2;\x8f\x90\n3;\xe9\n",
			opts: CSVOptions{Encoding: "cp1252"},
			want: []want{
				{row: 1, line: 2, fields: []string{"1", "\uFFFD"}, kind: ErrEncoding},
				{row: 2, line: 3, fields: []string{"2", "\uFFFD\uFFFD"}, kind: ErrEncoding},
				{row: 3, line: 4, fields: []string{"3", "é"}},
			},
		},
		{
			name: "ISO-8859-1 accepts every byte",
			data: "id;name\n1;\x81\x8d\xe9\n",
			opts: CSVOptions{Encoding: "ISO-8859-1"},
			want: []want{{row: 1, line: 2, fields: []string{"1", "\u0081\u008dé"}}},
		},
		{
			name: "bare quote rejects the line only",
			data: "a,b\n1,x\"y\n2,z\n",
			want: []want{
				{row: 1, line: 2, fields: []string{"1", "x\"y"}, kind: ErrQuote, msg: "line 2, column 2 (b): quote inside a field that is not quoted"},
				{row: 2, line: 3, fields: []string{"2", "z"}},
			},
		},
		{
			name: "a space next to a quote is named as such",
			data: "a,b,c\n1, \"Ada, Jr\",Obi\n2,\"Bo\" ,Obi\n3,x,\"Chi\" \t\n4,  \"Di\",x\n5,\"Ed\" x,y\n6,x \"Fe\",y\n",
			want: []want{
				{row: 1, line: 2, fields: []string{"1", " \"Ada", " Jr\"", "Obi"}, kind: ErrQuote,
					msg: `line 2, column 2 (b): a space before the opening quote (remove it: write the quote right next to the delimiter, ,"a, b",)`},
				{row: 2, line: 3, fields: []string{"2", "\"Bo\" ", "Obi"}, kind: ErrQuote,
					msg: `line 3, column 2 (b): a space after the closing quote (remove it: write the quote right next to the delimiter, ,"a, b",)`},
				{row: 3, line: 4, fields: []string{"3", "x", "\"Chi\" \t"}, kind: ErrQuote, msg: "line 4, column 3 (c): a space after the closing quote"},
				{row: 4, line: 5, fields: []string{"4", "  \"Di\"", "x"}, kind: ErrQuote, msg: "line 5, column 2 (b): a space before the opening quote"},
				{row: 5, line: 6, fields: []string{"5", "\"Ed\" x", "y"}, kind: ErrQuote, msg: "line 6, column 2 (b): quoted field not closed properly"},
				{row: 6, line: 7, fields: []string{"6", "x \"Fe\"", "y"}, kind: ErrQuote, msg: "line 7, column 2 (b): quote inside a field that is not quoted"},
			},
		},
		{
			name: "a space before a quote with another delimiter",
			data: "a;b\n1; \"Ada; Jr\"\n",
			want: []want{
				{row: 1, line: 2, fields: []string{"1", " \"Ada", " Jr\""}, kind: ErrQuote, msg: "line 2, column 2 (b): a space before the opening quote"},
			},
		},
		{
			name: "a stray quote in a multi-line record rejects the whole record",
			data: "a,b\n1,\"x\n2,\"y\"z\n3,w\n",
			want: []want{
				{row: 1, line: 2, fields: []string{"1", "\"x\n2", "\"y\"z"}, kind: ErrQuote,
					msg: "line 2: quoted field not closed properly (the record that starts here breaks on line 3; double each quote"},
				{row: 2, line: 4, fields: []string{"3", "w"}},
			},
		},
		{
			name: "a stray quote in a multi-line record, CRLF",
			data: "a,b\r\n1,\"x\r\n2,\"y\"z\r\n\r\n3,w\r\n",
			want: []want{
				{row: 1, line: 2, fields: []string{"1", "\"x\r\n2", "\"y\"z"}, kind: ErrQuote,
					msg: "line 2: quoted field not closed properly (the record that starts here breaks on line 3; double each quote"},
				{row: 2, line: 5, fields: []string{"3", "w"}},
			},
		},
		{
			name: "a stray quote whose record goes on past the line it breaks on",
			data: "a,b,c\n1,\"x\ny\" z,\"p\nq\"\n2,v,w\n",
			want: []want{
				{row: 1, line: 2, fields: []string{"1", "\"x\ny\" z", "\"p\nq\""}, kind: ErrQuote,
					msg: "line 2: quoted field not closed properly (the record that starts here breaks on line 3 and ends on line 4; double each quote"},
				{row: 2, line: 5, fields: []string{"2", "v", "w"}},
			},
		},
		{
			name: "a quote problem on one line in a record that spans lines",
			data: "a,b,c\n1,\"a\"x,\"multi\nline\"\n2,y,z\n",
			want: []want{
				{row: 1, line: 2, fields: []string{"1", "\"a\"x", "\"multi\nline\""}, kind: ErrQuote,
					msg: "line 2, column 2 (b): quoted field not closed properly (double each quote inside a quoted field: \"a \"\"b\"\" c\"); the record runs to line 3"},
				{row: 2, line: 4, fields: []string{"2", "y", "z"}},
			},
		},
		{
			name: "a quote never closed makes the rest of the file one rejected record",
			data: "a,b\n1,\"x\n2,y\n3,z",
			want: []want{
				{row: 1, line: 2, fields: []string{"1", "\"x\n2", "y\n3", "z"}, kind: ErrQuote,
					msg: "line 2: the quote opened here is never closed: the rest of the file, to line 4, is this one record (close the quote where the value ends)"},
			},
		},
		{
			name: "a quote never closed, opened on a later line of the record",
			data: "a,b,c\n1,\"x\ny\",\"open\n2,z\n\n",
			want: []want{
				{row: 1, line: 2, fields: []string{"1", "\"x\ny\"", "\"open\n2", "z\n\n"}, kind: ErrQuote,
					msg: "line 2: the quote opened on line 3 is never closed: the rest of the file, to line 5, is this one record"},
			},
		},
		{
			name: "a record with broken quotes but no data is skipped like a blank line",
			data: "a,b\n\" \" ,\n1,x\n\"\t\" \t\n",
			want: []want{{row: 1, line: 3, fields: []string{"1", "x"}}},
		},
		{
			name: "a Ctrl-Z in a quote never closed, at the end, is skipped",
			data: "a,b\n1,x\n\"\x1a",
			want: []want{{row: 1, line: 2, fields: []string{"1", "x"}}},
		},
		{
			name: "empty quoted fields and doubled quotes",
			data: "a,b,c\n\"\",\"\"\"\",\"x,\"\"y\"\"\"\n",
			want: []want{{row: 1, line: 2, fields: []string{"", "\"", "x,\"y\""}}},
		},
		{
			name: "a row of empty fields alone is no row",
			data: "a,b\n,\n",
			want: []want{},
		},
		{
			name: "spaces around values are kept",
			data: "a,b\n 1 , x \n",
			want: []want{{row: 1, line: 2, fields: []string{" 1 ", " x "}}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, recs, err := readAll(t, []byte(tt.data), tt.opts, 0)
			require.NoError(t, err)
			require.Len(t, recs, len(tt.want))
			for i, w := range tt.want {
				rec := recs[i]
				assert.Equal(t, w.row, rec.Row, "row")
				assert.Equal(t, w.line, rec.Line, "line")
				assert.Equal(t, w.fields, rec.Fields, "fields of row %d", w.row)
				if w.kind == nil {
					assert.NoError(t, rec.Err)
					assert.Len(t, rec.Fields, len(r.Header()))
					continue
				}
				require.ErrorIs(t, rec.Err, w.kind)
				var re *RecordError
				require.ErrorAs(t, rec.Err, &re)
				assert.Equal(t, w.row, re.Row)
				assert.Equal(t, w.line, re.Line)
				assert.Contains(t, rec.Err.Error(), w.msg)
			}
			checkResume(t, []byte(tt.data), tt.opts, 0, recs, len(recs))
			checkRFC4180(t, r, []byte(tt.data), recs)
		})
	}
}

// TestReaderTruncatedUTF16: an odd byte at the end of a UTF-16 file is named as a file cut short, on the
// line it is on, whether it follows the last line break or ends a value.
func TestReaderTruncatedUTF16(t *testing.T) {
	const reason = "the file ends in half a UTF-16 character (an odd number of bytes): it was cut short; export or copy it again"
	tests := []struct {
		name  string
		data  []byte
		where string
	}{
		{"after the last line break, LE", append(toUTF16("id,name\r\n1,Ada\r\n", false, true), 'x'), "line 3"},
		{"after the last line break, BE", append(toUTF16("id,name\n1,Ada\n", true, true), 0), "line 3"},
		{"in the last value", append(toUTF16("id,name\r\n1,Ada", false, true), 'x'), "line 2, column 2 (name)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, recs, err := readAll(t, tt.data, CSVOptions{}, 0)
			require.NoError(t, err)
			last := recs[len(recs)-1]
			require.ErrorIs(t, last.Err, ErrEncoding)
			assert.Equal(t, tt.where+": "+reason, last.Err.Error())
			checkResume(t, tt.data, CSVOptions{}, 0, recs, len(recs))
		})
	}
}

func TestReaderOffsetsAreFileOffsets(t *testing.T) {
	tests := []struct {
		name string
		data []byte
	}{
		{"utf-8 BOM", []byte("\uFEFFid,n\r\n1,é\r\n2,ü\r\n")},
		{"windows-1252", to1252("id;n\n1;é\n2;ü\n")},
		{"utf-16le", toUTF16("id,n\r\n1,é😀\r\n\r\n2,\"ü\r\nx\"\r\n", false, true)},
		{"utf-16be", toUTF16("id,n\n1,é😀\n2,ü", true, true)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, recs, err := readAll(t, tt.data, CSVOptions{}, 0)
			require.NoError(t, err)
			require.Len(t, recs, 2)
			assert.Equal(t, int64(len(tt.data)), recs[1].End, "the last record ends at the end of the file")
			assert.Equal(t, recs[0].End, recs[1].Offset)
			// The bytes of a record in the file, decoded, hold its values.
			first := tt.data[recs[0].Offset:recs[0].End]
			_, one, err := readAll(t, cat(tt.data[:recs[0].Offset], first), CSVOptions{Encoding: r.Dialect().Encoding}, 0)
			require.NoError(t, err)
			require.Len(t, one, 1)
			assert.Equal(t, recs[0].Fields, one[0].Fields)
		})
	}
}

func TestReaderInputErrors(t *testing.T) {
	tests := []struct {
		name string
		data string
		opts CSVOptions
		line int
		msg  string
		hint string
	}{
		{name: "empty", data: "", msg: "the file is empty"},
		{name: "only a BOM", data: "\uFEFF", msg: "the file is empty"},
		{name: "only blank lines", data: "\r\n\n", msg: "no header"},
		{name: "duplicate name ignoring case and spaces", data: "\n id ,Email,x, EMAIL\n", line: 2,
			msg: `duplicate column name "EMAIL" (columns 2 and 4)`, hint: "ignoring case"},
		{name: "duplicate name by Unicode case folding", data: "Straße,STRASSE,straſse\n", line: 1,
			msg: `duplicate column name "straſse" (columns 2 and 3)`, hint: "ignoring case"}, // ß is no simple fold of ss
		{name: "empty name", data: "a,,b\n", line: 1, msg: "column 2 has no name"},
		{name: "empty name before trailing ones", data: "a,,b,,\n", line: 1, msg: "column 2 has no name", hint: "only columns at its end may have no name"},
		{name: "empty first name", data: " ,a,b\n", line: 1, msg: "column 1 has no name", hint: "name every column"},
		{name: "every name empty", data: ",,\n1,2,3\n", line: 1, msg: "column 1 has no name, nor has any other: the header names no column"},
		{name: "Excel's sep= line then an empty name", data: "sep=;\r\na;;b;;\r\n", line: 2, msg: "column 2 has no name"},
		{name: "skip_lines beyond the file", data: "Report\n", opts: CSVOptions{SkipLines: 3},
			msg: "csv.skip_lines is 3 but the file has only 1 line", hint: "title lines above the header"},
		{name: "skip_lines beyond the file, after sep=", data: "sep=;\nReport\n\n", opts: CSVOptions{SkipLines: 3},
			msg: "csv.skip_lines is 3 but the file has only 2 lines after its sep= line", hint: "after any sep= line"},
		{name: "skip_lines leaves no header", data: "Report\n\n\n", opts: CSVOptions{SkipLines: 1},
			msg: "the file has no header: it holds only blank lines after the 1 line that csv.skip_lines skips", hint: "title lines"},
		{name: "skip_lines counts UTF-16 lines", data: string(toUTF16("Report\r\n", false, true)), opts: CSVOptions{SkipLines: 2},
			msg: "csv.skip_lines is 2 but the file has only 1 line"},
		{name: "NUL in the header after title lines", data: "Report\nDate: today\nid,n\x00\n", opts: CSVOptions{SkipLines: 2}, line: 3, msg: "NUL bytes"},
		{name: "skip_lines negative", data: "a\n", opts: CSVOptions{SkipLines: -1}, msg: "csv.skip_lines is -1: it must be from 0 to 1000"},
		{name: "skip_footer too large", data: "a\n", opts: CSVOptions{SkipFooter: 101}, msg: "csv.skip_footer is 101: it must be from 0 to 100", hint: "at most 100"},
		{name: "footer not RE2", data: "a\n", opts: CSVOptions{Footer: "^Total(?=:)"}, msg: "csv.footer is not a valid pattern", hint: "RE2"},
		{name: "footer matches everything", data: "a\n", opts: CSVOptions{Footer: ".*"}, msg: `csv.footer ".*" matches an empty line`, hint: "RE2"},
		{name: "skip_footer and footer", data: "a\n", opts: CSVOptions{SkipFooter: 1, Footer: "^Total"}, msg: "csv.skip_footer and csv.footer are both given", hint: "give one of them"},
		{name: "sep= line names an unsupported delimiter", data: "sep=:\na:b\n", line: 1, msg: `names the delimiter ':' (sep=:), which is not supported`, hint: "sep= line"},
		{name: "sep= line contradicts csv.delimiter", data: "sep=;\na;b\n", opts: CSVOptions{Delimiter: ","}, line: 1,
			msg: `the file's first line says the delimiter is ';' (sep=;) but csv.delimiter is ','`, hint: `set csv.delimiter to auto or ';'`},
		{name: "sep= line names a delimiter the header does not have", data: "sep=;\nid,name,email,phone,city\n1,Ada,a@x.ng,0803,Lagos\n", line: 1,
			msg: `the sep= line says ';' but the header has none; the file uses ','`, hint: "fix the sep= line (sep=,) or remove it"},
		{name: "sep= line says tab, the file uses semicolons", data: "sep=\t\r\na;b\r\n1;2\r\n", line: 1,
			msg: `the sep= line says tab but the header has none; the file uses ';'`},
		{name: "only a sep= line", data: "sep=,\r\n\r\n", msg: "holds only its sep= line", hint: "after sep="},
		{name: "CR-only line endings (classic Mac OS)", data: "Id,First Name,Email\r1,Ada,a@x.ng\r2,Bo,b@x.ng\r",
			msg: "CR-only line endings (classic Mac OS)", hint: `convert it to LF or CRLF (e.g. tr '\r' '\n'`},
		{name: "CR-only line endings in UTF-16", data: string(toUTF16("id,name\r1,Ada\r", false, true)), msg: "CR-only line endings"},
		{name: "CR-only line endings after a sep= line", data: "sep=,\ra,b\r1,2", msg: "CR-only line endings"},
		{name: "Excel .xlsx", data: "PK\x03\x04\x14\x00\x06\x00\x08\x00\x00\x00!\x00", msg: "looks like an Excel .xlsx file", hint: "save it as CSV"},
		{name: "Excel .xls", data: "\xD0\xCF\x11\xE0\xA1\xB1\x1A\xE1\x00\x00", msg: "looks like an old Excel .xls file", hint: "CSV UTF-8"},
		{name: "gzip", data: "\x1F\x8B\x08\x00", msg: "gzip-compressed", hint: "gunzip"},
		{name: "PDF", data: "%PDF-1.7\n", msg: "PDF document", hint: "export the data as CSV"},
		{name: "NUL bytes", data: "\n\nid,n\x00\x00\x01\x02\xff\n", line: 3, msg: "NUL bytes where its header should be: it is not CSV text", hint: "utf-16le"},
		{name: "SQLite database", data: "SQLite format 3\x00\x10\x00\x01\x01", line: 1, msg: "not CSV text"},
		{name: "UTF-16 read as UTF-8", data: string(toUTF16("id,name\n", false, false)), opts: CSVOptions{Encoding: "utf-8"}, line: 1, msg: "NUL bytes"},
		{name: "NUL after a sep= line", data: "sep=,\n\x00id,name\n", line: 2, msg: "NUL bytes"},
		{name: "undecidable delimiter", data: "a,b|c\n1,2|3\n", msg: `cannot tell whether the delimiter is ',' or '|'`, hint: "csv.delimiter"},
		{name: "unknown encoding", data: "a\n", opts: CSVOptions{Encoding: "ebcdic"}, msg: `unsupported csv.encoding "ebcdic"`, hint: "windows-1252"},
		{name: "unknown delimiter", data: "a\n", opts: CSVOptions{Delimiter: "::"}, msg: `unsupported csv.delimiter "::"`, hint: "tab"},
		{name: "UTF-16 without BOM", data: string(toUTF16("a,b\n1,2\n", true, false)), msg: "looks like UTF-16BE", hint: "utf-16be"},
		{name: "explicit windows-1252 on a UTF-8 file", data: "id,name\n1,Ada\n2,Jos\xc3\xa9\n", opts: CSVOptions{Encoding: "windows-1252"}, line: 3,
			msg: "csv.encoding is windows-1252 but the file looks like UTF-8", hint: "remove csv.encoding from the mapping (auto reads UTF-8) or set it to utf-8"},
		{name: "BOM contradicts the encoding", data: string(toUTF16("a\n", false, true)), opts: CSVOptions{Encoding: "utf-8"},
			msg: "UTF-16LE byte-order mark but csv.encoding is utf-8", hint: "utf-16le"},
		{name: "header not valid in the encoding", data: "a,\xff\n", opts: CSVOptions{Encoding: "utf-8"}, line: 1, msg: "column 2 of the header has bytes not valid UTF-8"},
		{name: "header not valid UTF-8 after a UTF-8 byte-order mark", data: "\uFEFFa,\xe9\n", line: 1, msg: "column 2 of the header has bytes not valid UTF-8",
			hint: "the file begins with a UTF-8 byte-order mark, so it mixes encodings: export it again as UTF-8, or fix these bytes"},
		{name: "header with a broken quote", data: "a,\"b\"c\n", line: 1, msg: "cannot read the header"},
		{name: "header longer than the limit", data: strings.Repeat("a", 100) + "\n", line: 1, msg: "record longer than 64 bytes on one line"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := newReader(bytes.NewReader([]byte(tt.data)), "customers.csv", tt.opts, 64)
			var ie *InputError
			require.ErrorAs(t, err, &ie)
			assert.Equal(t, "customers.csv", ie.File)
			assert.Equal(t, tt.line, ie.Line)
			assert.Contains(t, ie.Msg, tt.msg)
			assert.Contains(t, ie.Hint(), tt.hint)
			assert.NotEmpty(t, ie.Hint())
			if tt.line > 0 {
				assert.True(t, strings.HasPrefix(err.Error(), fmt.Sprintf("customers.csv: line %d: ", tt.line)), err.Error())
			}
		})
	}
}

func TestOpenErrors(t *testing.T) {
	dir := t.TempDir()
	_, err := Open(filepath.Join(dir, "missing.csv"), CSVOptions{})
	var ie *InputError
	require.ErrorAs(t, err, &ie)
	assert.ErrorIs(t, err, fs.ErrNotExist)
	assert.Contains(t, err.Error(), "missing.csv: cannot open the file: no such file or directory")
	assert.NotEmpty(t, ie.Hint())

	_, err = Open(dir, CSVOptions{})
	require.ErrorAs(t, err, &ie)
	assert.Contains(t, ie.Msg, "is a directory")

	_, err = Open(os.DevNull, CSVOptions{})
	require.ErrorAs(t, err, &ie)
	assert.Contains(t, ie.Msg, "not a regular file")

	path := filepath.Join(dir, "ok.csv")
	require.NoError(t, os.WriteFile(path, []byte("a\n1\n"), 0o600))
	r, err := Open(path, CSVOptions{})
	require.NoError(t, err)
	require.NoError(t, r.Close())
	_, err = r.Next()
	assert.ErrorContains(t, err, "reader closed")
}

func TestReaderEncodingNames(t *testing.T) {
	data := []byte("id,name\n1,Ren\xe9e\n")
	for name, want := range map[string]string{
		"auto": "windows-1252", "": "windows-1252", "CP1252": "windows-1252", "Windows-1252": "windows-1252",
		"latin1": "iso-8859-1", "ISO_8859-1": "iso-8859-1", "l1": "iso-8859-1",
		"utf8": "utf-8", " UTF-8 ": "utf-8", "utf-8-sig": "utf-8",
	} {
		t.Run(name, func(t *testing.T) {
			r, err := NewReader(bytes.NewReader(data), "t.csv", CSVOptions{Encoding: name})
			require.NoError(t, err)
			assert.Equal(t, want, r.Dialect().Encoding)
		})
	}
	for _, name := range []string{"utf-16le", "UTF16BE", "utf-16"} {
		t.Run(name, func(t *testing.T) {
			r, err := NewReader(bytes.NewReader(toUTF16("id\n1\n", strings.Contains(strings.ToLower(name), "be"), true)), "t.csv", CSVOptions{Encoding: name})
			require.NoError(t, err)
			assert.Contains(t, r.Dialect().Encoding, "utf-16")
		})
	}
	// An explicit byte order reads a file without a byte-order mark.
	r, recs, err := readAll(t, toUTF16("id,name\n1,Ada\n", false, false), CSVOptions{Encoding: "utf-16le"}, 0)
	require.NoError(t, err)
	assert.Equal(t, Dialect{Delimiter: ',', Encoding: "utf-16le"}, r.Dialect())
	require.Len(t, recs, 1)
	assert.Equal(t, []string{"1", "Ada"}, recs[0].Fields)
}

func TestReaderDelimiterNames(t *testing.T) {
	data := []byte("a;b|c\n1;2|3\n")
	for name, want := range map[string]rune{";": ';', "semicolon": ';', "|": '|', "Pipe": '|', "\t": '\t', "tab": '\t', `\t`: '\t', ",": ',', "comma": ','} {
		r, err := NewReader(bytes.NewReader(data), "t.csv", CSVOptions{Delimiter: name})
		require.NoError(t, err, name)
		assert.Equal(t, want, r.Dialect().Delimiter, name)
	}
}

func TestReaderSeekErrors(t *testing.T) {
	data := []byte("id,name\n1,Ada\n2,Bola\n")
	r, err := NewReader(bytes.NewReader(data), "t.csv", CSVOptions{})
	require.NoError(t, err)
	assert.ErrorContains(t, r.SeekRecord(3, 1), "inside the header")
	assert.ErrorContains(t, r.SeekRecord(int64(len(data))+1, 3), "beyond the end of the file")
	assert.ErrorContains(t, r.SeekRecord(8, 0), "rows start at 1")
	require.NoError(t, r.SeekRecord(int64(len(data)), 3))
	_, err = r.Next()
	assert.Equal(t, io.EOF, err)

	u := toUTF16("id\n1\n", false, true)
	r, err = NewReader(bytes.NewReader(u), "u.csv", CSVOptions{})
	require.NoError(t, err)
	assert.ErrorContains(t, r.SeekRecord(9, 1), "not a record boundary")
}

// TestReaderLimit checks records longer than the limit, with a small limit, in UTF-8 and in both UTF-16
// byte orders: each is rejected whole, however many lines it spans, and reading goes on after it.
func TestReaderLimit(t *testing.T) {
	const limit = 64
	long := strings.Repeat("x", 100)
	type want struct {
		line   int
		fields []string // nil: not kept
		kind   error    // nil: no error
		msg    string
	}
	tests := []struct {
		name string
		data string
		want []want
	}{
		{
			name: "quote never closed, long tail",
			data: "a,b\n1,\"open\n" + strings.Repeat("2,y\n", 30),
			want: []want{{line: 2, kind: ErrQuote,
				msg: "line 2: the quote opened here is never closed: the rest of the file, to line 32, is this one record (close the quote where the value ends)"}},
		},
		{
			name: "a quoted value longer than the limit, over many lines",
			data: "a,b\n1,\"" + strings.Repeat("x,y\n", 30) + "\"\n2,z\n",
			want: []want{
				{line: 2, kind: ErrRecordTooLong, msg: "line 2: record longer than 64 bytes (lines 2 to 32): shorten the value that makes it so long"},
				{line: 33, fields: []string{"2", "z"}},
			},
		},
		{
			name: "doubled quotes and CRLF in a long quoted value",
			data: "a,b\r\n1,\"" + strings.Repeat("a \"\"b\"\",c\r\n", 20) + "\"\r\n2,z\r\n",
			want: []want{
				{line: 2, kind: ErrRecordTooLong, msg: "line 2: record longer than 64 bytes (lines 2 to 22)"},
				{line: 23, fields: []string{"2", "z"}},
			},
		},
		{
			name: "a long value closed badly, then rows",
			data: "a,b\n1,\"" + strings.Repeat("x\n", 40) + "\"junk\n2,z\n",
			want: []want{
				{line: 2, kind: ErrRecordTooLong, msg: "line 2: record longer than 64 bytes (lines 2 to 42)"},
				{line: 43, fields: []string{"2", "z"}},
			},
		},
		{
			name: "a long quoted value of white space is no row",
			data: "a,b\n\"" + strings.Repeat(" \n", 40) + "\",\t\n1,x\n",
			want: []want{{line: 43, fields: []string{"1", "x"}}},
		},
		{
			name: "one line longer than the limit",
			data: "a,b\n1,2\n" + long + "\n3,4\n",
			want: []want{
				{line: 2, fields: []string{"1", "2"}},
				{line: 3, kind: ErrRecordTooLong, msg: "line 3: record longer than 64 bytes on one line (is this a CSV file?)"},
				{line: 4, fields: []string{"3", "4"}},
			},
		},
		{
			name: "many blank lines are not a long record",
			data: "a,b\n1,2\n" + strings.Repeat("\r\n", 50) + "3,4\n",
			want: []want{{line: 2, fields: []string{"1", "2"}}, {line: 53, fields: []string{"3", "4"}}},
		},
		{
			name: "blank lines then a long line",
			data: "a,b\n" + strings.Repeat("\n", 50) + long + "\n3,4",
			want: []want{{line: 52, kind: ErrRecordTooLong, msg: "line 52: record longer than 64 bytes on one line"}, {line: 53, fields: []string{"3", "4"}}},
		},
		{
			name: "blank lines to the end",
			data: "a,b\n1,2\n" + strings.Repeat("\n", 100),
			want: []want{{line: 2, fields: []string{"1", "2"}}},
		},
		{
			name: "a record exactly at the limit at the end of the file",
			data: "a,b\n" + "1," + strings.Repeat("z", limit-2),
			want: []want{{line: 2, fields: []string{"1", strings.Repeat("z", limit-2)}}},
		},
		{
			name: "a record one byte over the limit with its line break",
			data: "a,b\n" + "1," + strings.Repeat("z", limit-2) + "\n2,y\n",
			want: []want{{line: 2, kind: ErrRecordTooLong, msg: "line 2: record longer than 64 bytes on one line"}, {line: 3, fields: []string{"2", "y"}}},
		},
	}
	for _, tt := range tests {
		for enc, data := range map[string][]byte{
			"utf-8":    []byte(tt.data),
			"utf-16le": toUTF16(tt.data, false, true),
			"utf-16be": toUTF16(tt.data, true, true),
		} {
			t.Run(tt.name+"/"+enc, func(t *testing.T) {
				r, recs, err := readAll(t, data, CSVOptions{}, limit)
				require.NoError(t, err)
				checkRFC4180(t, r, data, recs)
				require.Len(t, recs, len(tt.want))
				for i, rec := range recs {
					w := tt.want[i]
					assert.Equal(t, i+1, rec.Row)
					assert.Equal(t, w.line, rec.Line, "row %d", rec.Row)
					assert.Equal(t, w.fields, rec.Fields, "row %d", rec.Row)
					if w.kind == nil {
						assert.NoError(t, rec.Err, "row %d", rec.Row)
						continue
					}
					assert.ErrorIs(t, rec.Err, w.kind)
					assert.ErrorContains(t, rec.Err, w.msg)
					assert.Nil(t, rec.Raw, "a record too long to keep")
					require.NotNil(t, rec.src, "a record too long to keep is copied from the file")
					assert.Less(t, rec.textFrom, rec.textTo)
					assert.LessOrEqual(t, rec.textTo, rec.End)
				}
				checkResume(t, data, CSVOptions{}, limit, recs, len(recs))
			})
		}
	}
}

// TestReaderLinesAfterSeek checks that Line stays absolute after SeekRecord, in UTF-8 and both UTF-16 byte orders.
func TestReaderLinesAfterSeek(t *testing.T) {
	text := "id,note\n\n1,\"a\nb\"\n\n\n2,c\n3,\"d\n\ne\"\n4,f\n"
	for name, data := range map[string][]byte{
		"utf-8":    []byte(text),
		"utf-16le": toUTF16(text, false, true),
		"utf-16be": toUTF16(text, true, true),
	} {
		t.Run(name, func(t *testing.T) {
			_, recs, err := readAll(t, data, CSVOptions{}, 0)
			require.NoError(t, err)
			lines := []int{}
			for _, r := range recs {
				lines = append(lines, r.Line)
			}
			assert.Equal(t, []int{3, 7, 8, 11}, lines)
			checkResume(t, data, CSVOptions{}, 0, recs, len(recs))
		})
	}
}
