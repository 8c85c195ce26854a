package csvfile

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// framed is a file with a title line, rows and a footer, for the tests below: n rows of the header
// id,name (CRLF when crlf), after title, and the footer lines after them.
func framed(title string, n int, footer []string, crlf bool) string {
	var b strings.Builder
	b.WriteString(title)
	b.WriteString("id,name\n")
	for i := 1; i <= n; i++ {
		fmt.Fprintf(&b, "%d,name %d\n", i, i)
	}
	for _, f := range footer {
		b.WriteString(f + "\n")
	}
	if crlf {
		return strings.ReplaceAll(b.String(), "\n", "\r\n")
	}
	return b.String()
}

// TestReaderFraming reads files with title lines and footers in UTF-8, CRLF, Windows-1252 and UTF-16:
// which records are rows, the lines they are on (the file's own), the footer's lines; and, at every
// record boundary, that a reader seeking there reads exactly the rest, the same footer left out, and
// that counting from there agrees.
func TestReaderFraming(t *testing.T) {
	tests := []struct {
		name       string
		data       []byte
		opts       CSVOptions
		rows       []string // each row's id
		firstLine  int      // the first row's line
		footer     []int    // the footer's lines
		header     []string // when not id,name
		unnamed    int
		footerText string // when set, the text the rejects file must end with
	}{
		{name: "title and footer", data: []byte(framed("Customer export\n", 3, []string{"Total records: 3"}, false)),
			opts: CSVOptions{SkipLines: 1, SkipFooter: 1}, rows: []string{"1", "2", "3"}, firstLine: 3, footer: []int{6}},
		{name: "CRLF, two title lines, a blank one", data: []byte(framed("Report\n\"Q1, unclosed\n\n", 2, []string{"Total,2", "End of report"}, true)),
			opts: CSVOptions{SkipLines: 2, SkipFooter: 2}, rows: []string{"1", "2"}, firstLine: 5, footer: []int{7, 8}},
		{name: "UTF-16LE with a BOM", data: toUTF16(framed("Liste – été\n", 2, []string{"Total: 2"}, true), false, true),
			opts: CSVOptions{SkipLines: 1, SkipFooter: 1}, rows: []string{"1", "2"}, firstLine: 3, footer: []int{5}},
		{name: "UTF-16BE, footer pattern", data: toUTF16(framed("", 2, []string{"Total: 2", "Généré le 1er mai"}, false), true, true),
			opts: CSVOptions{Footer: "^(Total|Généré)"}, rows: []string{"1", "2"}, firstLine: 2, footer: []int{4, 5}},
		{name: "Windows-1252 title", data: to1252(framed("Liste des clients – été\n", 2, nil, false)),
			opts: CSVOptions{SkipLines: 1}, rows: []string{"1", "2"}, firstLine: 3},
		{name: "sep= line, then the title", data: []byte("sep=;\r\nTitle\r\nid;name\r\n1;a\r\nTotal\r\n"),
			opts: CSVOptions{SkipLines: 1, SkipFooter: 1}, rows: []string{"1"}, firstLine: 4, footer: []int{5}},
		{name: "a footer without a final line break", data: []byte("id,name\n1,a\n2,b\nTotal: 2"),
			opts: CSVOptions{SkipFooter: 1}, rows: []string{"1", "2"}, firstLine: 2, footer: []int{4}},
		{name: "lines without data between the rows and the footer", data: []byte("id,name\n1,a\n,\n\n  \nTotal: 1\n,\n"),
			opts: CSVOptions{SkipFooter: 1}, rows: []string{"1"}, firstLine: 2, footer: []int{6}},
		{name: "a footer pattern that a row matches: a row", data: []byte("id,name\nTotal,a\n1,b\nTotal: 2\n"),
			opts: CSVOptions{Footer: "^Total"}, rows: []string{"Total", "1"}, firstLine: 2, footer: []int{4}},
		{name: "a footer pattern that matches nothing", data: []byte("id,name\n1,a\n2,b\n"),
			opts: CSVOptions{Footer: "^Total"}, rows: []string{"1", "2"}, firstLine: 2},
		{name: "more footer lines than 100: the last 100", data: []byte(framed("", 1, slicesRepeat("Total", 150), false)),
			opts: CSVOptions{Footer: "^Total$"}, rows: append([]string{"1"}, slicesRepeat("Total", 50)...), firstLine: 2, footer: lineNumbers(53, 152)},
		{name: "skip_footer 100", data: []byte(framed("", 150, nil, false)),
			opts: CSVOptions{SkipFooter: 100}, rows: rowIDs(1, 50), firstLine: 2, footer: lineNumbers(52, 151)},
		{name: "a multi-line footer record", data: []byte("id,name\n1,a\n\"Total\nrecords\",1\n"),
			opts: CSVOptions{SkipFooter: 1}, rows: []string{"1"}, firstLine: 2, footer: []int{3}},
		{name: "a footer with broken quoting", data: []byte("id,name\n1,a\n\"Total\" records: 1\n"),
			opts: CSVOptions{Footer: `^"?Total`}, rows: []string{"1"}, firstLine: 2, footer: []int{3}},
		{name: "unnamed columns, title and footer", data: []byte("Export\nid,name,,\n1,a,,\n2,b,,\nTotal: 2,,,\n"),
			opts: CSVOptions{SkipLines: 1, SkipFooter: 1}, rows: []string{"1", "2"}, firstLine: 3, footer: []int{5}, unnamed: 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for _, limit := range []int64{maxRecordSize, 40} {
				r, recs, err := readAll(t, tt.data, tt.opts, limit)
				require.NoError(t, err)
				assert.Equal(t, []string{"id", "name"}, r.Header())
				assert.Equal(t, tt.unnamed, r.Dialect().Unnamed)
				var ids []string
				for i, rec := range recs {
					ids = append(ids, rec.Fields[0]) // a footer line kept as a row has the wrong number of fields
					if i == 0 {
						assert.Equal(t, tt.firstLine, rec.Line, "the first row's line is the file's")
					}
				}
				assert.Equal(t, tt.rows, ids)
				var lines []int
				for _, f := range r.Footer() {
					lines = append(lines, f.Line)
				}
				assert.Equal(t, tt.footer, lines, "the footer's lines")
				checkResume(t, tt.data, tt.opts, limit, recs, len(recs))
				checkRFC4180(t, r, tt.data, recs)

				// CountRest from every record boundary, also after some rows were read with Next.
				for i := 0; i <= len(recs); i++ {
					r2, err := newReader(bytes.NewReader(tt.data), "test.csv", tt.opts, limit)
					require.NoError(t, err)
					for range i {
						_, err := r2.Next()
						require.NoError(t, err)
						require.LessOrEqual(t, len(r2.ahead), 2*(MaxSkipFooter+1), "the records held ahead are bounded")
					}
					n, err := r2.CountRest()
					require.NoError(t, err)
					require.Equal(t, len(recs)-i, n, "CountRest after %d rows", i)
					require.Equal(t, r.Footer(), r2.Footer(), "the same footer")
					_, err = r2.Next()
					require.ErrorIs(t, err, io.EOF, "nothing after the footer")
				}
			}
		})
	}
}

func slicesRepeat(s string, n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = s
	}
	return out
}

// rowIDs is the ids from to to, as text.
func rowIDs(from, to int) []string {
	var out []string
	for i := from; i <= to; i++ {
		out = append(out, fmt.Sprint(i))
	}
	return out
}

// lineNumbers is the lines from to to.
func lineNumbers(from, to int) []int {
	var out []int
	for i := from; i <= to; i++ {
		out = append(out, i)
	}
	return out
}

// TestReaderUnnamedColumns: the header's columns without a name at its end are ignored, and so are the
// empty values under them; a value in one rejects its row, naming the column; only an empty name
// before a named column is refused.
func TestReaderUnnamedColumns(t *testing.T) {
	tests := []struct {
		name    string
		data    string
		header  []string
		unnamed int
		want    []string // each row: its values, or its error
	}{
		{name: "a trailing delimiter", data: "a;b;\n1;2;\n3;4\n", header: []string{"a", "b"}, unnamed: 1,
			want: []string{`["1" "2"]`, `["3" "4"]`}},
		{name: "spreadsheet padding", data: "a,b,,\n1,2,,\n3,4, ,\n", header: []string{"a", "b"}, unnamed: 2,
			want: []string{`["1" "2"]`, `["3" "4"]`}},
		{name: "names of spaces, quoted empty names", data: "a,b, ,\"\"\n1,2,,\n", header: []string{"a", "b"}, unnamed: 2,
			want: []string{`["1" "2"]`}},
		{name: "a value in an unnamed column", data: "a,b,,\n1,2,,x\n3,4,y,\n", header: []string{"a", "b"}, unnamed: 2,
			want: []string{
				"line 2, column 4: a value in a column the header does not name (columns 3 to 4 have no name and are ignored): name the column in the header, or move the value to the column it belongs to",
				"line 3, column 3: a value in a column the header does not name (columns 3 to 4 have no name and are ignored): name the column in the header, or move the value to the column it belongs to"}},
		{name: "one unnamed column", data: "a,b,\n1,2,x\n", header: []string{"a", "b"}, unnamed: 1,
			want: []string{"line 2, column 3: a value in a column the header does not name (column 3 has no name and is ignored): name the column in the header, or move the value to the column it belongs to"}},
		{name: "more fields than the header", data: "a,b,\n1,2,,\n", header: []string{"a", "b"}, unnamed: 1,
			want: []string{"line 2: 4 fields, header has 2 named columns and 1 without a name after them"}},
		{name: "fewer fields than the named columns", data: "a,b,,\n1\n", header: []string{"a", "b"}, unnamed: 2,
			want: []string{"line 2: 1 field, header has 2 named columns and 2 without a name after them"}},
		{name: "Excel's sep= line", data: "sep=;\r\na;b;;\r\n1;2;;\r\n", header: []string{"a", "b"}, unnamed: 2,
			want: []string{`["1" "2"]`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, recs, err := readAll(t, []byte(tt.data), CSVOptions{}, 0)
			require.NoError(t, err)
			assert.Equal(t, tt.header, r.Header())
			assert.Equal(t, tt.unnamed, r.Dialect().Unnamed)
			var got []string
			for _, rec := range recs {
				if rec.Err != nil {
					got = append(got, rec.Err.Error())
					continue
				}
				require.Len(t, rec.Raw, len(tt.header), "Raw leaves the empty values out too")
				got = append(got, fmt.Sprintf("%q", rec.Fields))
			}
			assert.Equal(t, tt.want, got)
			for _, rec := range recs {
				if strings.Contains(fmt.Sprint(rec.Err), "does not name") {
					assert.ErrorIs(t, rec.Err, ErrUnnamedValue)
				}
			}
		})
	}
}

// TestRejectsFraming: a rejects file has the input's title lines above its header and its footer below
// its rows, byte for byte, and none of the input's empty unnamed columns, so that fed back with the
// same csv: options it reads as the input did: the same rows, no rejected row taken for the footer.
func TestRejectsFraming(t *testing.T) {
	tests := []struct {
		name string
		data []byte
		opts CSVOptions
		want []byte
	}{
		{name: "UTF-8, CRLF", opts: CSVOptions{SkipLines: 2, SkipFooter: 1},
			data: []byte("Export\r\n\"Lagos\r\nid,name,,\r\n1,a,,\r\n2,b,,x\r\n3,,,\r\n\r\nTotal: 3,,,\r\n"),
			want: []byte("Export\r\n\"Lagos\r\nid,name,error\r\n1,a,r1\r\n2,b,,x,line 5: x\r\n3,,r3\r\n\r\nTotal: 3,,,\r\n")},
		{name: "a footer pattern, no final line break", opts: CSVOptions{Footer: "^Total"},
			data: []byte("id;name\n1;a\nTotal;9\n2;b\nTotal: 1"),
			want: []byte("id;name;error\n1;a;r1\nTotal;9;r2\n2;b;r3\nTotal: 1")},
		{name: "UTF-16LE", opts: CSVOptions{SkipLines: 1, SkipFooter: 1},
			data: toUTF16("Liste – été\r\nid,name\r\n1,Adé\r\nTotal: 1\r\n", false, true),
			want: toUTF16("Liste – été\r\nid,name,error\r\n1,Adé,r1\r\nTotal: 1\r\n", false, true)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, recs, err := readAll(t, tt.data, tt.opts, 0)
			require.NoError(t, err)
			reason := func(rec *Record) string {
				if rec.Err != nil {
					return fmt.Sprintf("line %d: x", rec.Line)
				}
				return fmt.Sprintf("r%d", rec.Row)
			}
			out := writeInputRejects(t, r, recs, reason)
			assert.Equal(t, string(tt.want), string(out))
			checkRejects(t, r, recs, out, tt.opts, 0, reason)

			// The footer is copied even when the rows written stop before it: Close reads on to it.
			r2, err := newReader(bytes.NewReader(tt.data), "test.csv", tt.opts, maxRecordSize)
			require.NoError(t, err)
			first, err := r2.Next()
			require.NoError(t, err)
			partial := writeInputRejects(t, r2, []*Record{first}, reason)
			_, again, err := readAll(t, partial, tt.opts, 0)
			require.NoError(t, err)
			require.Len(t, again, 1, "the one row written, and no footer taken for a row")
		})
	}
}

// TestCountRowsFraming: CountRest (countRows) reads the file with the dialect's framing, as Next does.
func TestCountRowsFraming(t *testing.T) {
	path := filepath.Join(t.TempDir(), "f.csv")
	require.NoError(t, os.WriteFile(path, []byte(framed("Title\n", 5, []string{"Total: 5"}, true)), 0o600))
	r, err := Open(path, CSVOptions{SkipLines: 1, SkipFooter: 1})
	require.NoError(t, err)
	defer r.Close()
	n, err := countRows(path, r.Dialect())
	require.NoError(t, err)
	assert.Equal(t, 5, n)
	n, err = countRows(path, Dialect{SkipLines: 1})
	require.NoError(t, err)
	assert.Equal(t, 6, n, "without skip_footer the footer is a row")
}
