package mapping

import (
	"bytes"
	"fmt"
	"strings"
	"unicode/utf8"
)

// rdDelimiters are the delimiters "auto" chooses among, in the order that breaks no tie.
var rdDelimiters = [...]byte{',', ';', '\t', '|'}

const rdDelimiterHint = `use auto, ",", ";", "\t" (or tab) or "|"`

// rdParseDelimiter reads a csv.delimiter option. auto is true for "" and "auto".
func rdParseDelimiter(s string) (d rune, auto bool, ok bool) {
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

// rdDelimName names a delimiter in messages.
func rdDelimName(d byte) string {
	if d == '\t' {
		return "tab"
	}
	return fmt.Sprintf("%q", d)
}

// Byte-order marks.
var (
	rdBOM8    = []byte{0xEF, 0xBB, 0xBF}
	rdBOM16LE = []byte{0xFF, 0xFE}
	rdBOM16BE = []byte{0xFE, 0xFF}
)

// rdSniffProblem is a problem deciding the dialect, with how to fix it, and the line it is on (0: the
// whole file).
type rdSniffProblem struct {
	msg, hint string
	line      int
}

// rdSignatures are the first bytes of files that people give for a CSV file but that are not text.
var rdSignatures = []struct {
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

// rdNotText recognises files that are not text by their first bytes.
func rdNotText(prefix []byte) *rdSniffProblem {
	for _, s := range rdSignatures {
		if bytes.HasPrefix(prefix, []byte(s.magic)) {
			return &rdSniffProblem{s.msg, s.hint, 0}
		}
	}
	return nil
}

// rdNULInHeader looks for a NUL byte in the header line of an ASCII-compatible file (the first line that
// is not blank, after a sep= line of sepLen bytes), within the first KiB, and returns its line. No text
// has one there, and a binary file (a database, a document, UTF-16 read as single bytes) has one within
// its first bytes. A NUL in a value further on is only a character: a legacy export may pad with them,
// and a rejects file, whose header is the input's, must be read back.
func rdNULInHeader(text []byte, sepLen int) (int, bool) {
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

// rdCROnly reports whether text, the start of the file in an ASCII-compatible form, ends its lines
// with CR alone, as classic Mac OS wrote them: a CR with more after it, and no LF anywhere. The csv
// parser would read such a file as one line. A CR that only ends the whole file is a line end like any
// other (a one-line file).
func rdCROnly(text []byte) bool {
	i := bytes.IndexByte(text, '\r')
	return i >= 0 && bytes.IndexByte(text, '\n') < 0 && len(bytes.Trim(text[i:], "\r")) > 0
}

// rdExcelSep recognises Excel's delimiter hint: a first line "sep=X" (sep in any case, X one character,
// nothing else on the line), which is neither the header nor a row. It returns X and the length of the
// line with its line end, or 0 when text does not start with one. text is the start of the file, after
// any byte-order mark, in an ASCII-compatible form; complete says that it is the whole file.
func rdExcelSep(text []byte, complete bool) (byte, int, *rdSniffProblem) {
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
	if _, auto, ok := rdParseDelimiter(string(d)); !ok || auto {
		return 0, 0, &rdSniffProblem{
			fmt.Sprintf("the file's first line names the delimiter %q (sep=%c), which is not supported", d, d),
			"use ,  ; tab or | as the delimiter, and change or remove the sep= line", 0,
		}
	}
	return d, 5 + n, nil
}

// rdSepContradicted checks the delimiter sep of a sep= line against text, the file after that line: a
// header without sep, where another delimiter splits it and the rows alike, says the line is wrong (left
// from another export, or written by hand). Every column would be unknown; it is refused instead. A
// header without any delimiter is a single column, which a sep= line does not contradict.
func rdSepContradicted(text []byte, sep byte, complete bool) *rdSniffProblem {
	if counts := rdCountDelims(text, sep, complete); len(counts) == 0 || counts[0] > 0 {
		return nil
	}
	d, problem := rdSniffDelimiter(text, complete)
	if problem != nil || d == sep || rdCountDelims(text, d, complete)[0] == 0 {
		return nil
	}
	return &rdSniffProblem{
		fmt.Sprintf("the sep= line says %s but the header has none; the file uses %s", rdDelimName(sep), rdDelimName(d)),
		fmt.Sprintf("fix the sep= line (sep=%c) or remove it: without it the delimiter is found from the file", d), 0,
	}
}

// rdDetectEncoding decides the encoding from the first bytes of the file (all of it when eof) and the
// csv.encoding option, and returns the length of the byte-order mark to skip.
//
// A byte-order mark decides. Without one, "auto" looks for the zero bytes of UTF-16 text (refused: the
// byte order must be stated) and otherwise takes UTF-8 when the prefix is valid UTF-8 — or mostly valid
// UTF-8: more well-formed multi-byte characters than stray bytes, as a UTF-8 export with one pasted
// Windows-1252 value is — and Windows-1252 when it is not.
func rdDetectEncoding(prefix []byte, eof bool, want rdEncoding, auto bool) (rdEncoding, int, *rdSniffProblem) {
	var bom rdEncoding
	bomLen := 0
	switch {
	case bytes.HasPrefix(prefix, []byte{0xFF, 0xFE, 0, 0}), bytes.HasPrefix(prefix, []byte{0, 0, 0xFE, 0xFF}):
		return 0, 0, &rdSniffProblem{"the file is UTF-32, which is not supported", "save it as UTF-8 (or UTF-16) and try again", 0}
	case bytes.HasPrefix(prefix, rdBOM8):
		bom, bomLen = rdUTF8, len(rdBOM8)
	case bytes.HasPrefix(prefix, rdBOM16LE):
		bom, bomLen = rdUTF16LE, len(rdBOM16LE)
	case bytes.HasPrefix(prefix, rdBOM16BE):
		bom, bomLen = rdUTF16BE, len(rdBOM16BE)
	}
	if bomLen > 0 {
		if auto || want == bom || want == rdEncodingAny && !bom.asciiCompatible() {
			return bom, bomLen, nil
		}
		return 0, 0, &rdSniffProblem{
			fmt.Sprintf("the file begins with a %s byte-order mark but csv.encoding is %s", bom.label(), want),
			fmt.Sprintf("set csv.encoding to auto or %s", bom), 0,
		}
	}
	guess, looks16 := rdLooksUTF16(prefix)
	switch {
	case want == rdEncodingAny:
		hint := "set csv.encoding to utf-16le or utf-16be"
		if looks16 {
			hint = "set csv.encoding to " + guess.String()
		}
		return 0, 0, &rdSniffProblem{"csv.encoding is utf-16 but the file has no byte-order mark to tell the byte order", hint, 0}
	case !auto && (want == rdWindows1252 || want == rdISO88591):
		// Valid UTF-8 with multi-byte characters is no single-byte text: read as one, "José" would be
		// sent as "JosÃ©". Refused like a byte-order mark that contradicts the option.
		if line, ok := rdUTF8Multibyte(prefix, eof); ok {
			return 0, 0, &rdSniffProblem{
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
		return 0, 0, &rdSniffProblem{
			fmt.Sprintf("the file looks like %s text without a byte-order mark", guess.label()),
			"set csv.encoding to " + guess.String(), 0,
		}
	}
	if rdMostlyUTF8(prefix, eof) {
		return rdUTF8, 0, nil
	}
	return rdWindows1252, 0, nil
}

// rdLooksUTF16 reports whether the first bytes look like UTF-16 without a byte-order mark: mostly
// ASCII characters, whose other byte is zero.
func rdLooksUTF16(p []byte) (rdEncoding, bool) {
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
		return rdUTF16LE, true
	case zeros[0]*10 >= half*4 && zeros[1]*20 < half:
		return rdUTF16BE, true
	}
	return 0, false
}

// rdUTF8Multibyte reports whether p is valid UTF-8 that has at least one multi-byte character, and the
// line of the first.
func rdUTF8Multibyte(p []byte, eof bool) (int, bool) {
	valid, invalid, first := rdScanUTF8(p, eof)
	if invalid > 0 || valid == 0 {
		return 0, false
	}
	return 1 + bytes.Count(p[:first], []byte{'\n'}), true
}

// rdMostlyUTF8 reports whether p has no invalid UTF-8, or more valid multi-byte characters than invalid
// bytes.
func rdMostlyUTF8(p []byte, eof bool) bool {
	valid, invalid, _ := rdScanUTF8(p, eof)
	return invalid == 0 || valid > invalid
}

// rdScanUTF8 counts the valid multi-byte characters of p and its invalid bytes, and finds where the
// first valid one starts (-1 if none). A sequence cut by the end of the prefix (when the file goes on)
// does not count.
func rdScanUTF8(p []byte, eof bool) (valid, invalid, first int) {
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

// rdSniffRecords is how many records the delimiter sniffer looks at.
const rdSniffRecords = 50

// rdSniffDelimiter decides the delimiter from the first records of text, the start of the file (all of
// it when complete) in an ASCII-compatible form. For each candidate it counts the occurrences outside
// quoted fields in each record; a candidate must occur in the header, and the one whose count in the
// data records most often equals the header's wins, then the one that makes more columns. A header
// without any candidate is a single column (and ',' is as good as any). A tie is undecidable.
func rdSniffDelimiter(text []byte, complete bool) (byte, *rdSniffProblem) {
	type score struct {
		d       byte
		header  int
		matches float64
	}
	var best, second score
	for _, d := range rdDelimiters {
		counts := rdCountDelims(text, d, complete)
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
		return 0, &rdSniffProblem{
			fmt.Sprintf("cannot tell whether the delimiter is %s or %s: both split the header into %d columns and the rows alike",
				rdDelimName(best.d), rdDelimName(second.d), best.header+1),
			"set csv.delimiter in the mapping file", 0,
		}
	}
	return best.d, nil
}

// rdCountDelims counts d outside quoted fields in each of the first records of text, blank lines
// skipped. A last record cut by the end of the text is left out unless it is the only one.
func rdCountDelims(text []byte, d byte, complete bool) []int {
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
				if len(counts) == rdSniffRecords {
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

// rdSniffCRLF reports whether the first line of text that is not blank ends in CRLF.
func rdSniffCRLF(text []byte) bool {
	text = bytes.TrimLeft(text, "\r\n")
	i := bytes.IndexByte(text, '\n')
	return i > 0 && text[i-1] == '\r'
}
