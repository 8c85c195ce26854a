package mapping

import (
	"bufio"
	"fmt"
	"io"
	"strconv"
	"strings"
	"unicode/utf8"
)

// RejectsWriter writes rejected records as a CSV file in the input's own dialect, so that the user can
// fix them and feed the file back as it is: the input's header plus an error column, then each record's
// Raw values unchanged plus the reason it was rejected.
//
// The file has the input's delimiter, encoding, byte-order mark (if the input had one) and line ends.
// A value is quoted when it holds a quote, a line break or any of the delimiters "auto" chooses among, so
// that reading the file back decides the same delimiter. The error column is named "error", or
// "error_2", "error_3"… when the header already has that name (a rejects file fed back, say). A reason
// starting with = + - @ (or their full-width forms), a tab or a carriage return is written after a ' so
// that a spreadsheet does not run it as a formula;
// in a single-byte encoding, a character of it the encoding lacks becomes '?'. Values are never changed.
//
// A record rejected for a number of fields other than the header's keeps its own number of values, so
// its reason is not under the error column; fed back unchanged, it is rejected again, as it should be.
type RejectsWriter struct {
	w    *bufio.Writer
	d    Dialect
	enc  rdEncoding
	line []byte // the record being written, in the encoding (WTF-8 for UTF-16)
	u16  []byte
	err  error
}

// NewRejectsWriter writes the header (and the byte-order mark) to w, buffered: call Flush at the end.
func NewRejectsWriter(w io.Writer, d Dialect, header []string) (*RejectsWriter, error) {
	enc, auto, ok := rdParseEncoding(d.Encoding)
	if !ok || auto || enc == rdEncodingAny {
		return nil, fmt.Errorf("rejects writer: dialect encoding %q is not one Reader reports", d.Encoding)
	}
	if _, auto, ok := rdParseDelimiter(string(d.Delimiter)); !ok || auto {
		return nil, fmt.Errorf("rejects writer: dialect delimiter %q is not one Reader reports", d.Delimiter)
	}
	rw := &RejectsWriter{w: bufio.NewWriter(w), d: d, enc: enc}
	if d.BOM {
		switch enc {
		case rdUTF8:
			rw.w.Write(rdBOM8)
		case rdUTF16LE:
			rw.w.Write(rdBOM16LE)
		case rdUTF16BE:
			rw.w.Write(rdBOM16BE)
		}
	}
	rw.line = rw.line[:0]
	for i, name := range header {
		rw.appendCell(i, enc.appendText(nil, name))
	}
	rw.appendCell(len(header), enc.appendText(nil, rdErrorColumn(header)))
	return rw, rw.endLine()
}

// rdErrorColumn names the error column: "error", unless the header has it already.
func rdErrorColumn(header []string) string {
	taken := func(name string) bool {
		for _, h := range header {
			if strings.EqualFold(strings.TrimSpace(h), name) {
				return true
			}
		}
		return false
	}
	name := "error"
	for i := 2; taken(name); i++ {
		name = "error_" + strconv.Itoa(i)
	}
	return name
}

// Write writes rec's Raw values and reason, the text of the error column (UTF-8).
func (w *RejectsWriter) Write(rec *Record, reason string) error {
	if w.err != nil {
		return w.err
	}
	w.line = w.line[:0]
	for i, v := range rec.Raw {
		w.appendCell(i, []byte(v))
	}
	if r, _ := utf8.DecodeRuneInString(reason); strings.ContainsRune("=+-@\t\r＝＋－＠", r) {
		reason = "'" + reason
	}
	w.appendCell(len(rec.Raw), w.enc.appendText(nil, reason))
	return w.endLine()
}

// Flush writes what is buffered to the underlying writer.
func (w *RejectsWriter) Flush() error {
	if w.err != nil {
		return w.err
	}
	if err := w.w.Flush(); err != nil {
		w.err = fmt.Errorf("write rejects: %w", err)
	}
	return w.err
}

// appendCell adds cell i (0-based) of the current line, quoted if it needs to be.
//
// A line break inside a quoted value is written as the file's line end, except that a '\n' right after
// a '\r' is always written "\r\n": encoding/csv reads "\r\n" inside quotes as "\n", so this gives back
// both characters. A value never needs quotes for spaces: the reader keeps them.
func (w *RejectsWriter) appendCell(i int, v []byte) {
	if i > 0 {
		w.line = append(w.line, byte(w.d.Delimiter))
	}
	if !rdNeedsQuotes(v) {
		w.line = append(w.line, v...)
		return
	}
	w.line = append(w.line, '"')
	for j, c := range v {
		switch {
		case c == '"':
			w.line = append(w.line, '"', '"')
		case c == '\n' && (w.d.CRLF || j > 0 && v[j-1] == '\r'):
			w.line = append(w.line, '\r', '\n')
		default:
			w.line = append(w.line, c)
		}
	}
	w.line = append(w.line, '"')
}

func rdNeedsQuotes(v []byte) bool {
	for _, c := range v {
		switch c {
		case '"', '\r', '\n', ',', ';', '\t', '|':
			return true
		}
	}
	return false
}

// endLine ends the current line and writes it.
func (w *RejectsWriter) endLine() error {
	if len(w.line) == 0 {
		w.line = append(w.line, '"', '"') // one empty cell: an empty line would be skipped as blank
	}
	if w.d.CRLF {
		w.line = append(w.line, '\r')
	}
	w.line = append(w.line, '\n')
	out := w.line
	if !w.enc.asciiCompatible() {
		w.u16 = rdAppendUTF16(w.u16[:0], w.line, w.enc == rdUTF16BE)
		out = w.u16
	}
	if _, err := w.w.Write(out); err != nil {
		w.err = fmt.Errorf("write rejects: %w", err)
	}
	return w.err
}
