package csvfile

import (
	"bytes"
	"fmt"
	"strings"
	"unicode/utf8"
)

// delimiters are the delimiters "auto" chooses among, in the order that breaks no tie.
var delimiters = [...]byte{',', ';', '\t', '|'}

const DelimiterHint = `use auto, ",", ";", "\t" (or tab) or "|"`

// ParseDelimiter reads a csv.delimiter option. auto is true for "" and "auto".
func ParseDelimiter(s string) (d rune, auto bool, ok bool) {
	switch s {
	case ",", ";", "\t", "|":
		return rune(s[0]), false, true
	}
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "", "auto":
		return 0, true, true
	case "comma":
		return ',', false, true
	case "semicolon":
		return ';', false, true
	case "tab", `\t`:
		return '\t', false, true
	case "pipe":
		return '|', false, true
	}
	return 0, false, false
}

// delimName names a delimiter in messages.
func delimName(d byte) string {
	if d == '\t' {
		return "tab"
	}
	return fmt.Sprintf("%q", d)
}

// Byte-order marks.
var (
	bom8    = []byte{0xEF, 0xBB, 0xBF}
	bom16LE = []byte{0xFF, 0xFE}
	bom16BE = []byte{0xFE, 0xFF}
)

// sniffProblem is a problem deciding the dialect, with how to fix it, and the line it is on (0: the
// whole file).
type sniffProblem struct {
	msg, hint string
	line      int
}

// signatures are the first bytes of files that people give for a CSV file but that are not text.
var signatures = []struct {
	magic     string
	msg, hint string
}{
	{"PK\x03\x04", "the file looks like an Excel .xlsx file (or another ZIP archive), not CSV",
		"open it in Excel and save it as CSV: File > Save As > CSV UTF-8 (Comma delimited)"},
	{"\xD0\xCF\x11\xE0\xA1\xB1\x1A\xE1", "the file looks like an old Excel .xls file, not CSV",
		"open it in Excel and save it as CSV: File > Save As > CSV UTF-8 (Comma delimited)"},
	{"\x1F\x8B", "the file is gzip-compressed, not CSV", "decompress it first (gunzip FILE.csv.gz)"},
	{"%PDF-", "the file is a PDF document, not CSV", "export the data as CSV from the system it came from"},
}

// notText recognises files that are not text by their first bytes.
func notText(prefix []byte) *sniffProblem {
	for _, s := range signatures {
		if bytes.HasPrefix(prefix, []byte(s.magic)) {
			return &sniffProblem{s.msg, s.hint, 0}
		}
	}
	return nil
}

// nulInHeader looks for a NUL byte in the header line of an ASCII-compatible file (the first line that
// is not blank, after a sep= line of sepLen bytes), within the first KiB, and returns its line. No text
// has one there, and a binary file (a database, a document, UTF-16 read as single bytes) has one within
// its first bytes. A NUL in a value further on is only a character: a legacy export may pad with them,
// and a rejects file, whose header is the input's, must be read back.
func nulInHeader(text []byte, sepLen int) (int, bool) {
	head := text[:min(len(text), 1024)]
	start := min(sepLen, len(head))
	for start < len(head) && (head[start] == '\r' || head[start] == '\n') {
		start++
	}
	end := len(head)
	if i := bytes.IndexByte(head[start:], '\n'); i >= 0 {
		end = start + i
	}
	i := bytes.IndexByte(head[start:end], 0)
	if i < 0 {
		return 0, false
	}
	return 1 + bytes.Count(head[:start+i], []byte{'\n'}), true
}

// crOnly reports whether text, the start of the file in an ASCII-compatible form, ends its lines
// with CR alone, as classic Mac OS wrote them: a CR with more after it, and no LF anywhere. The csv
// parser would read such a file as one line. A CR that only ends the whole file is a line end like any
// other (a one-line file).
func crOnly(text []byte) bool {
	i := bytes.IndexByte(text, '\r')
	return i >= 0 && bytes.IndexByte(text, '\n') < 0 && len(bytes.Trim(text[i:], "\r")) > 0
}

// excelSep recognises Excel's delimiter hint: a first line "sep=X" (sep in any case, X one character,
// nothing else on the line), which is neither the header nor a row. It returns X and the length of the
// line with its line end, or 0 when text does not start with one. text is the start of the file, after
// any byte-order mark, in an ASCII-compatible form; complete says that it is the whole file.
func excelSep(text []byte, complete bool) (byte, int, *sniffProblem) {
	if len(text) < 5 || !strings.EqualFold(string(text[:4]), "sep=") {
		return 0, 0, nil
	}
	rest := text[5:]
	n := 0
	switch {
	case bytes.HasPrefix(rest, []byte("\r\n")):
		n = 2
	case bytes.HasPrefix(rest, []byte("\n")):
		n = 1
	case len(rest) == 0 && complete, string(rest) == "\r" && complete:
		n = len(rest)
	default:
		return 0, 0, nil // more on the line: a header that happens to start with sep=
	}
	d := text[4]
	if d == '\r' || d == '\n' {
		return 0, 0, nil
	}
	if _, auto, ok := ParseDelimiter(string(d)); !ok || auto {
		return 0, 0, &sniffProblem{
			fmt.Sprintf("the file's first line names the delimiter %q (sep=%c), which is not supported", d, d),
			"use ,  ; tab or | as the delimiter, and change or remove the sep= line", 0,
		}
	}
	return d, 5 + n, nil
}

// sepContradicted checks the delimiter sep of a sep= line against text, the file after that line: a
// header without sep, where another delimiter splits it and the rows alike, says the line is wrong (left
// from another export, or written by hand). Every column would be unknown; it is refused instead. A
// header without any delimiter is a single column, which a sep= line does not contradict.
func sepContradicted(text []byte, sep byte, complete bool) *sniffProblem {
	if counts := countDelims(text, sep, complete); len(counts) == 0 || counts[0] > 0 {
		return nil
	}
	d, problem := sniffDelimiter(text, complete)
	if problem != nil || d == sep || countDelims(text, d, complete)[0] == 0 {
		return nil
	}
	return &sniffProblem{
		fmt.Sprintf("the sep= line says %s but the header has none; the file uses %s", delimName(sep), delimName(d)),
		fmt.Sprintf("fix the sep= line (sep=%c) or remove it: without it the delimiter is found from the file", d), 0,
	}
}

// detectEncoding decides the encoding from the first bytes of the file (all of it when eof) and the
// csv.encoding option, and returns the length of the byte-order mark to skip.
//
// A byte-order mark decides. Without one, "auto" looks for the zero bytes of UTF-16 text (refused: the
// byte order must be stated) and otherwise takes UTF-8 when the prefix is valid UTF-8 — or mostly valid
// UTF-8: more well-formed multi-byte characters than stray bytes, as a UTF-8 export with one pasted
// Windows-1252 value is — and Windows-1252 when it is not.
func detectEncoding(prefix []byte, eof bool, want Encoding, auto bool) (Encoding, int, *sniffProblem) {
	var bom Encoding
	bomLen := 0
	switch {
	case bytes.HasPrefix(prefix, []byte{0xFF, 0xFE, 0, 0}), bytes.HasPrefix(prefix, []byte{0, 0, 0xFE, 0xFF}):
		return 0, 0, &sniffProblem{"the file is UTF-32, which is not supported", "save it as UTF-8 (or UTF-16) and try again", 0}
	case bytes.HasPrefix(prefix, bom8):
		bom, bomLen = UTF8, len(bom8)
	case bytes.HasPrefix(prefix, bom16LE):
		bom, bomLen = UTF16LE, len(bom16LE)
	case bytes.HasPrefix(prefix, bom16BE):
		bom, bomLen = UTF16BE, len(bom16BE)
	}
	if bomLen > 0 {
		if auto || want == bom || want == UTF16 && !bom.asciiCompatible() {
			return bom, bomLen, nil
		}
		return 0, 0, &sniffProblem{
			fmt.Sprintf("the file begins with a %s byte-order mark but csv.encoding is %s", bom.label(), want),
			fmt.Sprintf("set csv.encoding to auto or %s", bom), 0,
		}
	}
	guess, looks16 := looksUTF16(prefix)
	switch {
	case want == UTF16:
		hint := "set csv.encoding to utf-16le or utf-16be"
		if looks16 {
			hint = "set csv.encoding to " + guess.String()
		}
		return 0, 0, &sniffProblem{"csv.encoding is utf-16 but the file has no byte-order mark to tell the byte order", hint, 0}
	case !auto && (want == Windows1252 || want == ISO88591):
		// Valid UTF-8 with multi-byte characters is no single-byte text: read as one, "José" would be
		// sent as "JosÃ©". Refused like a byte-order mark that contradicts the option.
		if line, ok := utf8Multibyte(prefix, eof); ok {
			return 0, 0, &sniffProblem{
				msg: fmt.Sprintf("csv.encoding is %s but the file looks like UTF-8: this line has a UTF-8 character, which %s would read as two or three others",
					want, want.label()),
				hint: "remove csv.encoding from the mapping (auto reads UTF-8) or set it to utf-8",
				line: line,
			}
		}
		return want, 0, nil
	case !auto:
		return want, 0, nil
	case looks16:
		return 0, 0, &sniffProblem{
			fmt.Sprintf("the file looks like %s text without a byte-order mark", guess.label()),
			"set csv.encoding to " + guess.String(), 0,
		}
	}
	if mostlyUTF8(prefix, eof) {
		return UTF8, 0, nil
	}
	return Windows1252, 0, nil
}

// looksUTF16 reports whether the first bytes look like UTF-16 without a byte-order mark: mostly
// ASCII characters, whose other byte is zero.
func looksUTF16(p []byte) (Encoding, bool) {
	p = p[:min(len(p), 1024)&^1]
	if len(p) < 4 {
		return 0, false
	}
	var zeros [2]int
	for i, b := range p {
		if b == 0 {
			zeros[i&1]++
		}
	}
	half := len(p) / 2
	switch {
	case zeros[1]*10 >= half*4 && zeros[0]*20 < half:
		return UTF16LE, true
	case zeros[0]*10 >= half*4 && zeros[1]*20 < half:
		return UTF16BE, true
	}
	return 0, false
}

// utf8Multibyte reports whether p is valid UTF-8 that has at least one multi-byte character, and the
// line of the first.
func utf8Multibyte(p []byte, eof bool) (int, bool) {
	valid, invalid, first := scanUTF8(p, eof)
	if invalid > 0 || valid == 0 {
		return 0, false
	}
	return 1 + bytes.Count(p[:first], []byte{'\n'}), true
}

// mostlyUTF8 reports whether p has no invalid UTF-8, or more valid multi-byte characters than invalid
// bytes.
func mostlyUTF8(p []byte, eof bool) bool {
	valid, invalid, _ := scanUTF8(p, eof)
	return invalid == 0 || valid > invalid
}

// scanUTF8 counts the valid multi-byte characters of p and its invalid bytes, and finds where the
// first valid one starts (-1 if none). A sequence cut by the end of the prefix (when the file goes on)
// does not count.
func scanUTF8(p []byte, eof bool) (valid, invalid, first int) {
	first = -1
	for i := 0; i < len(p); {
		if p[i] < utf8.RuneSelf {
			i++
			continue
		}
		r, size := utf8.DecodeRune(p[i:])
		if r == utf8.RuneError && size == 1 {
			if !eof && len(p)-i < utf8.UTFMax && !utf8.FullRune(p[i:]) {
				break
			}
			invalid++
		} else {
			if first < 0 {
				first = i
			}
			valid++
		}
		i += size
	}
	return valid, invalid, first
}

// sniffRecords is how many records the delimiter sniffer looks at.
const sniffRecords = 50

// sniffDelimiter decides the delimiter from the first records of text, the start of the file (all of
// it when complete) in an ASCII-compatible form. For each candidate it counts the occurrences outside
// quoted fields in each record; a candidate must occur in the header, and the one whose count in the
// data records most often equals the header's wins, then the one that makes more columns. A header
// without any candidate is a single column (and ',' is as good as any). A tie is undecidable.
func sniffDelimiter(text []byte, complete bool) (byte, *sniffProblem) {
	type score struct {
		d       byte
		header  int
		matches float64
	}
	var best, second score
	for _, d := range delimiters {
		counts := countDelims(text, d, complete)
		if len(counts) == 0 || counts[0] == 0 {
			continue
		}
		s := score{d: d, header: counts[0]}
		if rest := counts[1:]; len(rest) > 0 {
			n := 0
			for _, c := range rest {
				if c == counts[0] {
					n++
				}
			}
			s.matches = float64(n) / float64(len(rest))
		}
		if s.matches > best.matches || s.matches == best.matches && s.header > best.header {
			best, second = s, best
		} else if s.matches > second.matches || s.matches == second.matches && s.header > second.header {
			second = s
		}
	}
	switch {
	case best.d == 0:
		return ',', nil
	case second.d != 0 && second.matches == best.matches && second.header == best.header:
		return 0, &sniffProblem{
			fmt.Sprintf("cannot tell whether the delimiter is %s or %s: both split the header into %d columns and the rows alike",
				delimName(best.d), delimName(second.d), best.header+1),
			"set csv.delimiter in the mapping file", 0,
		}
	}
	return best.d, nil
}

// countDelims counts d outside quoted fields in each of the first records of text, blank lines
// skipped. A last record cut by the end of the text is left out unless it is the only one.
func countDelims(text []byte, d byte, complete bool) []int {
	var counts []int
	n, blank, fieldStart, quoted := 0, true, true, false
	for i := 0; i < len(text); i++ {
		b := text[i]
		if quoted {
			if b == '"' {
				if i+1 < len(text) && text[i+1] == '"' {
					i++
				} else {
					quoted = false
				}
			}
			continue
		}
		switch {
		case b == '\n':
			if !blank {
				counts = append(counts, n)
				if len(counts) == sniffRecords {
					return counts
				}
			}
			n, blank, fieldStart = 0, true, true
			continue
		case b == '\r' && i+1 < len(text) && text[i+1] == '\n':
			continue
		case b == d:
			n++
			fieldStart = true
		case b == '"' && fieldStart:
			quoted = true
			fieldStart = false
		default:
			fieldStart = false
		}
		blank = false
	}
	if !blank && (complete || len(counts) == 0) {
		counts = append(counts, n)
	}
	return counts
}

// sniffCRLF reports whether the first line of text that is not blank ends in CRLF.
func sniffCRLF(text []byte) bool {
	text = bytes.TrimLeft(text, "\r\n")
	i := bytes.IndexByte(text, '\n')
	return i > 0 && text[i-1] == '\r'
}
