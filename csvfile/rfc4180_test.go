package csvfile

import (
	"bytes"
	"crypto/sha256"
	"encoding/json"
	"flag"
	"fmt"
	"go/ast"
	"go/parser"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// oracleRec is one record as oracle delimits it.
type oracleRec struct {
	off, end int64 // its bytes in the file: from the start of its line, to after its line break
	blank    bool  // an empty line, which Python's csv module reads as an empty list
	values   [][]uint16
}

// noData reports whether the record holds no data by the reader's rule: a blank line, every value
// empty or white space, or a Ctrl-Z alone that ends the file (size is the file's size).
func (o oracleRec) noData(size int64) bool {
	if o.blank {
		return true
	}
	if len(o.values) == 1 && len(o.values[0]) == 1 && o.values[0][0] == 0x1a {
		return o.end == size
	}
	for _, v := range o.values {
		for _, u := range v {
			if u > 0x7f || !isSpace(byte(u)) {
				return false
			}
		}
	}
	return true
}

// oracle splits a file, from byte start, into records as Python's csv module reads them with
// strict=False, one code unit at a time (one byte, or two for UTF-16): written from that module's
// state machine (Modules/_csv.c, parse_process_char) for a reviewer to check, and independent of the
// reader's own scanner. It differs from Python where the reader follows encoding/csv, as Reader
// documents: a CR outside quotes is part of the line break before a line feed or at the end of the
// file, and text elsewhere (Python reads a CR alone as a line break, and then refuses the file in the
// way the Python test reads it); a blank line is "\n", "\r\n", or a "\r" that ends the file.
func oracle(data []byte, start int64, width int, bigEndian bool, delim uint16) []oracleRec {
	unit := func(i int64) uint16 {
		switch {
		case width == 1:
			return uint16(data[i])
		case i+1 >= int64(len(data)):
			return 0xFFFF // a lone byte at the end: text
		case bigEndian:
			return uint16(data[i])<<8 | uint16(data[i+1])
		}
		return uint16(data[i+1])<<8 | uint16(data[i])
	}
	size := int64(len(data))
	at := func(i int64, u uint16) bool { return i < size && unit(i) == u }
	const (
		startRecord = iota
		startField
		inField
		inQuoted
		quoteInQuoted
	)
	var recs []oracleRec
	w := int64(width)
	for i := start; i < size; {
		rec := oracleRec{off: i}
		st := startRecord
		add := func(u uint16) { rec.values[len(rec.values)-1] = append(rec.values[len(rec.values)-1], u) }
	record:
		for i < size {
			c := unit(i)
			i += w
			if st == startRecord {
				if c == '\n' || c == '\r' && (at(i, '\n') || i >= size) {
					if c == '\r' && i < size {
						i += w
					}
					rec.blank = true
					break record
				}
				rec.values = [][]uint16{{}}
				st = startField
			}
			if st == quoteInQuoted {
				switch c {
				case '"':
					add('"')
					st = inQuoted
					continue
				case delim:
					rec.values = append(rec.values, nil)
					st = startField
					continue
				case '\n':
					break record
				}
				st = inField // text after the closing quote: the value goes on unquoted
			}
			switch st {
			case inQuoted:
				if c == '"' {
					st = quoteInQuoted
				} else {
					add(c)
				}
				continue
			case startField:
				if c == '"' {
					st = inQuoted
					continue
				}
				st = inField
			}
			switch { // inField
			case c == delim:
				rec.values = append(rec.values, nil)
				st = startField
			case c == '\n':
				break record
			case c == '\r' && (at(i, '\n') || i >= size): // the line break's
			default:
				add(c)
			}
		}
		rec.end = min(i, size)
		i = rec.end
		recs = append(recs, rec)
	}
	return recs
}

// checkRFC4180 checks the records a reader read from data against oracle, from where the first
// data record starts: the reader's rows are the oracle's records that hold data, one for one, each row
// ending where its record ends. So no row ever begins inside a quoted value of an earlier record, and
// rejected rows count as rows.
func checkRFC4180(t testing.TB, r *Reader, data []byte, recs []*Record) {
	t.Helper()
	width := 1
	if !r.enc.asciiCompatible() {
		width = 2
	}
	var rows []oracleRec
	for _, o := range oracle(data, r.dataStart, width, r.enc == UTF16BE, uint16(r.d.Delimiter)) {
		if !o.noData(int64(len(data))) {
			rows = append(rows, o)
		}
	}
	if nf := len(r.footer); nf > 0 { // the footer: the last records, which are not rows
		require.GreaterOrEqual(t, len(rows), nf, "the footer's records are records")
		for i, f := range r.footer {
			require.Equal(t, rows[len(rows)-nf+i].end, f.end, "footer record %d ends where its record ends", i+1)
		}
		rows = rows[:len(rows)-nf]
	}
	require.Len(t, recs, len(rows), "rows: one for each record that holds data, read as RFC 4180 delimits records")
	for i, rec := range recs {
		require.Equal(t, rows[i].end, rec.End, "row %d ends where its record ends", rec.Row)
		require.LessOrEqual(t, rec.Offset, rows[i].off, "row %d begins with its record", rec.Row)
	}
}

// updatePython rewrites testdata/reader/python-csv.golden from what python3 says:
// go test ./csvfile -run TestReaderRowsMatchPython -update-python
var updatePython = flag.Bool("update-python", false, "rewrite testdata/reader/python-csv.golden with python3's counts")

// pyCase is one file of the comparison with Python's csv module.
type pyCase struct {
	name string
	data []byte
	opts CSVOptions
}

// pythonCases lists the files compared with Python: the fuzz corpus of FuzzReader, the reader's
// fixtures and csv-spectrum, and generated files with a quoted value longer than the record limit
// (LF, CRLF, UTF-16), quotes never closed, and quotes closed on a later line with text after them.
func pythonCases(t *testing.T) []pyCase {
	var cases []pyCase
	corpus, err := filepath.Glob(filepath.Join("testdata", "fuzz", "FuzzReader", "*"))
	require.NoError(t, err)
	for _, path := range corpus {
		data, delim, enc, small := fuzzFile(t, path)
		opts, _ := fuzzSetup(delim, enc, small)
		cases = append(cases, pyCase{"fuzz/" + filepath.Base(path), data, opts})
	}
	for _, fx := range fixtures() {
		cases = append(cases, pyCase{"fixture/" + fx.name, fx.data, fx.opts})
	}
	spectrum, err := filepath.Glob(filepath.Join(testdataDir, "csv-spectrum", "*.csv"))
	require.NoError(t, err)
	for _, path := range spectrum {
		data, err := os.ReadFile(path)
		require.NoError(t, err)
		cases = append(cases, pyCase{"csv-spectrum/" + filepath.Base(path), data, CSVOptions{}})
	}
	crlf := func(s string) string { return strings.ReplaceAll(s, "\n", "\r\n") }
	notes := strings.Repeat("12,\"Ada\",\"\"Obi\"\",ada@example.com;+234 803 123 4567\tLagos\n", 20000) // 1.2 MB
	longNotes := "external_reference,first_name,notes\nr1,Ada,short\nr2,Bola,\"" + strings.ReplaceAll(notes, `"`, `""`) + "\"\nr3,Chidi,x\n"
	rows := strings.Repeat("3,Chidi\n4,Dayo Ade\n", 1000)
	quotedRows := strings.Repeat("3,Chidi\n4,\"Dayo, \"\"D\"\"\"\n", 1000)
	unclosed := "id,name\n1,Ada\n2,\"Bola\n" + rows
	unclosedLong := "id,name\n1,Ada\n2,\"Bola\n" + strings.Repeat(rows, 70) // 1.3 MB
	closedLate := "id,name,note\n1,Ada,\"a\n" + rows + "x\" junk,more\n9,Zoë,z\n"
	closedByALaterQuote := "id,name\n1,Ada\n2,\"Bola\n" + quotedRows
	for name, data := range map[string][]byte{
		"long-notes-lf.csv":             []byte(longNotes),
		"long-notes-crlf.csv":           []byte(crlf(longNotes)),
		"long-notes-utf16le.csv":        toUTF16(crlf(longNotes), false, true),
		"long-notes-1252.csv":           to1252(strings.ReplaceAll(longNotes, "Chidi", "Chloé")),
		"unclosed.csv":                  []byte(unclosed),
		"unclosed-crlf-utf16be.csv":     toUTF16(crlf(unclosed), true, true),
		"unclosed-long.csv":             []byte(unclosedLong),
		"unclosed-long-crlf.csv":        []byte(crlf(unclosedLong)),
		"closed-late-with-text.csv":     []byte(closedLate),
		"closed-late-utf16le.csv":       toUTF16(closedLate, false, true),
		"closed-by-a-later-quote.csv":   []byte(closedByALaterQuote),
		"bare-quote-then-multiline.csv": []byte("a,b,c\n1,a\"b,\"multi\nline\"\n2,y,z\n3,\"p\"q,\"r\ns\"\n"),
		"cr-alone-in-a-value.csv":       []byte("a,b\n1,x\ry\n2,z\n"),
	} {
		cases = append(cases, pyCase{"generated/" + name, data, CSVOptions{}})
	}
	slices.SortFunc(cases, func(a, b pyCase) int { return strings.Compare(a.name, b.name) })
	return cases
}

// fuzzFile reads a corpus file of FuzzReader ("go test fuzz v1" and one Go expression a line).
func fuzzFile(t *testing.T, path string) (data []byte, delim, enc uint8, small bool) {
	text, err := os.ReadFile(path)
	require.NoError(t, err)
	lines := strings.Split(strings.TrimSpace(string(text)), "\n")
	require.Len(t, lines, 5, path)
	require.Equal(t, "go test fuzz v1", lines[0], path)
	lit := func(line string) string {
		e, err := parser.ParseExpr(line)
		require.NoError(t, err, path)
		call, ok := e.(*ast.CallExpr)
		require.True(t, ok && len(call.Args) == 1, "%s: %s", path, line)
		if id, ok := call.Args[0].(*ast.Ident); ok {
			return id.Name // true, false
		}
		bl, ok := call.Args[0].(*ast.BasicLit)
		require.True(t, ok, "%s: %s", path, line)
		return bl.Value
	}
	s, err := strconv.Unquote(lit(lines[1]))
	require.NoError(t, err, path)
	num := func(line string) uint8 {
		v := lit(line)
		if strings.HasPrefix(v, "'") {
			c, _, _, err := strconv.UnquoteChar(v[1:len(v)-1], '\'')
			require.NoError(t, err, path)
			return uint8(c)
		}
		n, err := strconv.ParseUint(v, 0, 8)
		require.NoError(t, err, path)
		return uint8(n)
	}
	return []byte(s), num(lines[2]), num(lines[3]), lit(lines[4]) == "true"
}

// pythonCodec names the Python codec that reads a dialect's encoding without moving a byte.
func pythonCodec(enc string) string {
	switch enc {
	case "windows-1252", "iso-8859-1":
		return "latin-1" // the same quote, delimiters and line breaks; and it decodes every byte
	case "utf-16le":
		return "utf-16-le"
	case "utf-16be":
		return "utf-16-be"
	}
	return "utf-8"
}

// pyCRAlone is Python's error for a CR alone outside quotes, which it reads as a line break and the
// Go reader as text: the only reason a file may be refused by Python here.
const pyCRAlone = "new-line character seen in unquoted field - do you need to open the file in universal-newline mode?"

// TestReaderRowsMatchPython compares, file by file, the rows the reader yields (rejected ones
// included) with the data records Python's csv module reads (strict=False, no field size limit, the
// header and the records without data left out: see testdata/reader/python_csv_count.py). They must be
// equal for every file the reader opens, whatever the record limit, and CountRest must agree; the one
// exception allowed is a file with a CR alone outside quotes, which Python refuses and the reader reads
// as text. Python's answers are kept in testdata/reader/python-csv.golden, so that the comparison runs
// where python3 is missing; where it is on PATH, they are asked again and must be what the file says.
func TestReaderRowsMatchPython(t *testing.T) {
	type answer struct {
		Name    string `json:"name"`
		Records *int   `json:"records"`
		Error   string `json:"error"`
	}
	type request struct {
		Name      string `json:"name"`
		Data      []byte `json:"data"`
		Encoding  string `json:"encoding"`
		BOM       int64  `json:"bom"`
		Sep       bool   `json:"sep"`
		Delimiter string `json:"delimiter"`
		// The framing (csv.skip_lines, skip_footer, footer), which the script applies as pandas does
		// (skiprows, skipfooter) and the footer pattern by Python's re.
		SkipLines  int    `json:"skip_lines"`
		SkipFooter int    `json:"skip_footer"`
		Footer     string `json:"footer"`
	}
	golden := filepath.Join(testdataDir, "python-csv.golden")
	render := func(name string, data []byte, a answer) string {
		sum := sha256.Sum256(data)
		if a.Records == nil {
			return fmt.Sprintf("%s\t%x\terror %s\n", name, sum[:8], a.Error)
		}
		return fmt.Sprintf("%s\t%x\trecords %d\n", name, sum[:8], *a.Records)
	}
	ours := map[string]int{}
	var reqs []request
	var data = map[string][]byte{}
	for _, c := range pythonCases(t) {
		counts := []int{}
		var r *Reader
		for _, limit := range []int64{maxRecordSize, 40} {
			var recs []*Record
			var err error
			r, recs, err = readAll(t, c.data, c.opts, limit)
			if r == nil {
				var ie *InputError
				require.ErrorAs(t, err, &ie, c.name)
				break
			}
			require.NoError(t, err, c.name)
			checkRFC4180(t, r, c.data, recs)
			r2, err := newReader(bytes.NewReader(c.data), c.name, c.opts, limit)
			require.NoError(t, err)
			n, err := r2.CountRest()
			require.NoError(t, err)
			require.Equal(t, len(recs), n, "%s: CountRest counts what Next yields", c.name)
			counts = append(counts, len(recs))
		}
		if r == nil {
			continue // refused as a whole: no rows to compare
		}
		require.Equal(t, counts[0], counts[1], "%s: the rows do not depend on the record limit", c.name)
		ours[c.name] = counts[0]
		data[c.name] = c.data
		d := r.Dialect()
		reqs = append(reqs, request{Name: c.name, Data: c.data, Encoding: pythonCodec(d.Encoding), BOM: r.bomLen, Sep: d.Sep, Delimiter: string(d.Delimiter),
			SkipLines: d.SkipLines, SkipFooter: d.SkipFooter, Footer: d.Footer})
	}

	var live strings.Builder
	if py, err := exec.LookPath("python3"); err != nil {
		require.False(t, *updatePython, "-update-python needs python3 on PATH")
		t.Log("python3 is not on PATH: comparing with the counts in", golden, "only")
	} else {
		var in bytes.Buffer
		enc := json.NewEncoder(&in)
		for _, q := range reqs {
			require.NoError(t, enc.Encode(q))
		}
		cmd := exec.Command(py, filepath.Join(testdataDir, "python_csv_count.py"))
		cmd.Stdin, cmd.Stderr = &in, os.Stderr
		out, err := cmd.Output()
		require.NoError(t, err, "python3 python_csv_count.py")
		dec := json.NewDecoder(bytes.NewReader(out))
		for _, q := range reqs {
			var a answer
			require.NoError(t, dec.Decode(&a))
			require.Equal(t, q.Name, a.Name)
			live.WriteString(render(q.Name, data[q.Name], a))
		}
		if *updatePython {
			require.NoError(t, os.WriteFile(golden, []byte(live.String()), 0o644))
		}
	}

	kept, err := os.ReadFile(golden)
	require.NoError(t, err)
	if live.Len() > 0 {
		require.Equal(t, live.String(), string(kept), "python3's answers are not those in %s: run with -update-python and review the diff", golden)
	}
	lines := strings.Split(strings.TrimSuffix(string(kept), "\n"), "\n")
	require.Len(t, lines, len(reqs), "%s lists every file the reader opens, and no other: run with -update-python", golden)
	for i, line := range lines {
		parts := strings.SplitN(line, "\t", 3)
		require.Len(t, parts, 3, "%s line %d", golden, i+1)
		name := parts[0]
		require.Equal(t, reqs[i].Name, name, "%s line %d", golden, i+1)
		sum := sha256.Sum256(data[name])
		require.Equal(t, fmt.Sprintf("%x", sum[:8]), parts[1], "%s: %s has changed: run with -update-python", golden, name)
		if msg, ok := strings.CutPrefix(parts[2], "error "); ok {
			require.Equal(t, pyCRAlone, msg, "%s: Python refuses it for another reason than a CR alone", name)
			require.Contains(t, string(data[name]), "\r", name)
			continue
		}
		want, err := strconv.Atoi(strings.TrimPrefix(parts[2], "records "))
		require.NoError(t, err, "%s line %d", golden, i+1)
		assert.Equal(t, want, ours[name], "%s: rows, rejected ones included, against Python's csv records", name)
	}
}
