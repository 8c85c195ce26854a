package csvfile

import (
	"bytes"
	"encoding/csv"
	"fmt"
	"io"
	"regexp"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Framing is what DetectFraming saw around the table of a file: title lines above its header and footer
// records below its data. mapping.Infer proposes them as csv: skip_lines and skip_footer, with comments
// saying what was seen.
type Framing struct {
	SkipLines  int
	SkipFooter int
	Title      string // what the title lines were taken for, for the comment ("" when none)
	FooterSeen string // what the footer was taken for ("" when none)
}

// Options returns opts with the framing's skip_lines and skip_footer.
func (f Framing) Options(opts CSVOptions) CSVOptions {
	opts.SkipLines, opts.SkipFooter = f.SkipLines, f.SkipFooter
	return opts
}

// Bounds of what DetectFraming looks at: the first lines of the file for a title, the last 64 KiB for a
// footer.
const (
	maxTitleLines  = 10
	maxFooterLines = 20
	tailSize       = 64 << 10
)

// footerWords are the first words of footer lines as reporting tools write them: "Total records: 5000",
// "Record count,5000", "End of report".
var footerWords = regexp.MustCompile(`(?i)^\W*(grand\s+)?(totals?|counts?|records?|rows?|record\s+count|row\s+count|number\s+of|end\s+of|summary|generated|exported|report)\b`)

// DetectFraming looks at the start of the file in f (which starts at offset 0) for title lines above its
// header, and at its last 64 KiB for footer lines below its data; it reads no more than that. opts is how
// the file is read otherwise (its delimiter and encoding); its framing options are ignored.
//
// A title is up to 10 first lines, each blank or holding one value (or far fewer than the header), above
// a line of at least two names whose number of fields most rows after it share. A footer is up to 20 last
// records, each on one line, holding one or two values: a line with fewer fields than the header, or
// whose first value starts like a report's footer (Total, Count, Records, Rows, End of…). A file that
// cannot be read is not an error here: it has no framing, and Open says what is wrong with it.
func DetectFraming(f io.ReadSeeker, name string, opts CSVOptions) (Framing, error) {
	opts.SkipLines, opts.SkipFooter, opts.Footer = 0, 0, ""
	var fr Framing
	delim, autoDelim, ok := ParseDelimiter(opts.Delimiter)
	want, autoEnc, ok2 := ParseEncoding(opts.Encoding)
	if !ok || !ok2 {
		return fr, nil
	}
	r := &Reader{f: f, name: name}
	text, eof, sepDelim, sepLen, err := r.prelude(want, autoEnc)
	if err != nil {
		return fr, nil
	}
	first := 1 // the line text[sepLen:] starts on
	if sepLen > 0 {
		delim, autoDelim, first = rune(sepDelim), false, 2
	}
	k, note := titleLines(text[sepLen:], eof, byte(delim), autoDelim, first, r.enc)
	if k > 0 {
		opts.SkipLines = k
	}
	rd, err := newReader(f, name, opts, maxRecordSize)
	if err != nil && k > 0 { // not a title after all
		k, note, opts.SkipLines = 0, "", 0
		rd, err = newReader(f, name, opts, maxRecordSize)
	}
	if err != nil {
		return fr, nil
	}
	fr.SkipLines, fr.Title = k, note
	fr.SkipFooter, fr.FooterSeen, err = rd.footerLines()
	return fr, err
}

// titleLines finds the title lines at the start of text (the file from its first line after any sep= line,
// which is line first): it returns how many lines to skip, and what they were taken for; 0 when the
// first line is the header. delim is the delimiter, or with auto decided from the lines after the title.
func titleLines(text []byte, eof bool, delim byte, auto bool, first int, enc Encoding) (int, string) {
	lines := splitLines(text, eof, maxTitleLines+2)
	for k := 1; k <= maxTitleLines && k < len(lines); k++ {
		rest := text[lines[k].from:]
		d := delim
		if auto {
			var problem *sniffProblem
			if d, problem = sniffDelimiter(rest, eof); problem != nil {
				continue
			}
		}
		counts := countDelims(rest, d, eof)
		if len(counts) < 2 || counts[0] == 0 {
			continue // a single column, or no row to compare the header with
		}
		same := 0
		for _, c := range counts[1:] {
			if c == counts[0] {
				same++
			}
		}
		if same*2 <= len(counts[1:]) {
			continue // most rows do not have the header's number of fields
		}
		h := k // the header: the first line after the title that is not blank
		for h < len(lines) && len(bytes.TrimSpace(lines[h].text)) == 0 {
			h++
		}
		if h == len(lines) {
			continue
		}
		names := lineValues(lines[h].text, d)
		if names < 2 {
			continue
		}
		var titles []string
		for _, l := range lines[:k] {
			if v := lineValues(l.text, d); v > 1 && v*2 >= names {
				titles = nil
				break
			} else if v > 0 {
				titles = append(titles, quoteLine(enc, l.text, d))
			}
		}
		if len(titles) == 0 {
			continue
		}
		where := fmt.Sprintf("line %d is a title", first)
		if k > 1 {
			where = fmt.Sprintf("lines %d to %d are a title", first, first+k-1)
		}
		return k, fmt.Sprintf("%s, not the header: %s (the header is line %d, with %d names)", where, strings.Join(titles, ", "), first+h, names)
	}
	return 0, ""
}

// footerLines finds the footer at the end of the file that r reads (opened, its header read): it reads
// the last 64 KiB, and returns how many records to skip and what they were taken for.
func (r *Reader) footerLines() (int, string, error) {
	size, err := r.f.Seek(0, io.SeekEnd)
	if err != nil {
		return 0, "", fmt.Errorf("read %s: %w", r.name, err)
	}
	from := max(r.dataStart, size-tailSize)
	if !r.enc.asciiCompatible() && (from-r.bomLen)%2 != 0 {
		from++
	}
	text, eof, err := r.textAt(from)
	if err != nil {
		return 0, "", err
	}
	if from > r.dataStart { // the first line is cut: leave it out
		i := bytes.IndexByte(text, '\n')
		if i < 0 {
			return 0, "", nil
		}
		text = text[i+1:]
	}
	lines := splitLines(text, eof, -1)
	width := len(r.header) + r.d.Unnamed
	d := byte(r.d.Delimiter)
	var seen []string // the footer's lines, decoded
	n := 0
	for i := len(lines) - 1; i >= 0 && n < maxFooterLines; i-- {
		l := lines[i].text
		fields := lineFields(l, d)
		if noValues(fields) {
			continue // a blank line, or one without data: not a record
		}
		if bytes.Count(l, []byte{'"'})%2 != 0 {
			break // the end of a quoted value that spans lines: a row
		}
		values := 0
		for _, v := range fields {
			if !isBlank(v) {
				values++
			}
		}
		words := footerWords.MatchString(fields[0]) || footerWords.MatchString(strings.TrimSpace(string(l)))
		short := len(fields) < width && width >= 3 && values <= min(2, width/3)
		if values > 2 || !words && !short {
			break
		}
		n++
		text, _ := r.enc.decode(string(l))
		seen = append([]string{text}, seen...)
	}
	if n == 0 {
		return 0, "", nil
	}
	quoted := make([]string, n)
	for i, s := range seen {
		quoted[i] = quoteLine(UTF8, []byte(s), d)
	}
	where := "the last line is a footer, not a row"
	if n > 1 {
		where = fmt.Sprintf("the last %d lines are a footer, not rows", n)
	}
	note := fmt.Sprintf("%s: %s (the header names %d columns)", where, strings.Join(quoted, ", "), len(r.header))
	if n == 1 {
		if p := footerPatternFor(seen[0]); p != "" {
			note += fmt.Sprintf("; or footer: %s skips it only when it is there", strconv.Quote(p))
		}
	}
	return n, note, nil
}

// footerPatternFor proposes a csv.footer pattern for a footer line: its text up to its first digit,
// "Total records: 5000" → ^Total records:. "" when it starts with a digit.
func footerPatternFor(line string) string {
	s := strings.TrimSpace(line)
	if i := strings.IndexFunc(s, unicode.IsDigit); i >= 0 {
		s = strings.TrimSpace(s[:i])
	}
	if s == "" {
		return ""
	}
	return "^" + regexp.QuoteMeta(s)
}

// textLine is one line of a text: its bytes without the line break, and where it starts.
type textLine struct {
	text []byte
	from int
}

// splitLines splits text into lines at each line feed, at most max of them (-1: all); a last line cut by
// the end of the text, when the file goes on, is left out.
func splitLines(text []byte, eof bool, max int) []textLine {
	var lines []textLine
	for from := 0; from < len(text) && max != 0; max-- {
		i := bytes.IndexByte(text[from:], '\n')
		if i < 0 {
			if eof {
				lines = append(lines, textLine{bytes.TrimSuffix(text[from:], []byte{'\r'}), from})
			}
			break
		}
		lines = append(lines, textLine{bytes.TrimSuffix(text[from:from+i], []byte{'\r'}), from})
		from += i + 1
	}
	return lines
}

// lineFields splits one line into its values, tolerating broken quotes.
func lineFields(line []byte, d byte) []string {
	cr := csv.NewReader(bytes.NewReader(line))
	cr.Comma, cr.LazyQuotes, cr.FieldsPerRecord = rune(d), true, -1
	fields, err := cr.Read()
	if err != nil || len(fields) == 0 {
		return []string{string(line)}
	}
	return fields
}

// lineValues counts the values of one line that are not empty.
func lineValues(line []byte, d byte) int {
	n := 0
	for _, v := range lineFields(line, d) {
		if !isBlank(v) {
			n++
		}
	}
	return n
}

// quoteLine quotes a line in encoding enc for a comment, as UTF-8, without the delimiters d and spaces at
// its end (a spreadsheet pads a title to the table's width): at most 60 characters, controls escaped.
func quoteLine(enc Encoding, line []byte, d byte) string {
	s, _ := enc.decode(string(line))
	s = strings.ToValidUTF8(strings.TrimSpace(strings.TrimRight(s, string(d)+" \t")), "\uFFFD")
	if utf8.RuneCountInString(s) > 60 {
		s = string([]rune(s)[:60]) + "…"
	}
	return strconv.Quote(s)
}
