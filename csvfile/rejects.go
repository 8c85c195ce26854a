package csvfile

import (
	"bufio"
	"errors"
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
// The file has the input's delimiter, encoding, byte-order mark (if the input had one), Excel "sep=" line
// (if the input had one) and line ends. A value is quoted when it holds a quote, a line break or any of
// the delimiters "auto" chooses among, so that reading the file back decides the same delimiter. A reason
// starting with = + - @ (or their full-width forms), a tab or a carriage return is written after a ' so
// that a spreadsheet does not run it as a formula; in a single-byte encoding, a character of it the
// encoding lacks becomes '?'. Values are never changed.
//
// The input's columns without a name at the end of its header are not written, nor a record's empty
// values under them (the reader drops those): the header ends in the error column, so that the file
// fed back has no empty name before a named one. A record with a value under one of them keeps it, as
// a record with another number of fields does (below). With WithInput, the input's title lines
// (csv.skip_lines) are copied above the header and its footer (csv.skip_footer, csv.footer) after the
// rows, so that the file fed back with the same mapping reads as the input did.
//
// # The error column
//
// The error column is named "error", or "error_2", "error_3"… when the header already has that name.
// When the input is itself a rejects file, its error column is replaced rather than another one added:
// that is when the header has more than one column and its last is named exactly as this writer would
// name an error column added to the others ("error" after id,name; "error_2" after id,error), and the
// mapping does not read it (see [WithData]; a mapping that names the column makes it data, and the
// error column is added after it). Each record's value in that column, the reason of the earlier run, is
// then dropped for the new reason: a record with the header's number of values loses its last one, and
// so does a record with another number of values, since every line of a rejects file ends in its reason.
// An input whose own last column is named "error" and is not mapped is taken for a rejects file.
//
// # Records that cannot be read
//
// A record rejected for a number of fields other than the header's keeps its own number of values, so
// its reason is not under the error column; fed back unchanged, it is rejected again, as it should be.
//
// A record rejected for its quoting (ErrQuote), or for its length (ErrRecordTooLong), is the record's
// text as the reader delimited it (all its lines), not values: it is written back byte for byte as it
// was, in the input's encoding and with its own line breaks, followed by the delimiter and the reason,
// quoted. The record stays as broken as it was, and is rejected again until the user fixes it; the
// reason, quoted and starting with a letter (a ' is put before one that starts with a quote, the
// delimiter or a line break; line breaks in it become spaces), closes a quote the record leaves open
// (one never closed, that ran to the end of the input), so that it cannot run into the records after
// it. Such a record keeps the reasons of earlier runs in it: they are part of its bytes.
//
// A record longer than the record limit (1 MiB), whose text the reader does not keep, is copied from
// the input file the same way, in bounded memory, through the Reader that read it: that Reader must
// still be open, and read the input in this writer's encoding and delimiter. Nothing of it is lost,
// and fed back, it is rejected again for its length until its long value is shortened. A Record made
// by hand with neither Raw nor such a source is written as its reason alone.
type RejectsWriter struct {
	w       *bufio.Writer
	d       Dialect
	enc     Encoding
	replace bool    // the input's last column is a rejects file's error column: replace it
	input   *Reader // WithInput's: the input, whose title lines and footer the file copies
	line    []byte
	u16     []byte
	err     error
}

// RejectsOption is an option of [NewRejectsWriter].
type RejectsOption func(*rejectsOptions)

type rejectsOptions struct {
	isData func(col int) bool
	input  *Reader
}

// WithData tells NewRejectsWriter which columns of the input's header are data: isData(col) is true for
// a column the mapping reads (alone or in a template), so that a last column that is data is never taken
// for the error column of an earlier rejects file.
func WithData(isData func(col int) bool) RejectsOption {
	return func(o *rejectsOptions) { o.isData = isData }
}

// WithInput gives NewRejectsWriter the Reader of the input, so that the rejects file has the input's
// framing: the title lines that csv.skip_lines skips are copied above the header, and Close copies the
// footer that csv.skip_footer or csv.footer leaves out below the rows (reading the input to its end
// through rd if it is not there yet). Fed back with the same mapping, the rejects file then has its
// header where the mapping expects it, and no rejected row is taken for the footer. The lines are
// copied byte for byte, as the input has them; rd must stay open until Close, and must read the input
// in the writer's encoding and delimiter.
func WithInput(rd *Reader) RejectsOption {
	return func(o *rejectsOptions) { o.input = rd }
}

// NewRejectsWriter writes the header (and the byte-order mark, sep= line and, with WithInput, title
// lines) to w, buffered: call Close (or Flush) at the end.
func NewRejectsWriter(w io.Writer, d Dialect, header []string, opts ...RejectsOption) (*RejectsWriter, error) {
	enc, auto, ok := ParseEncoding(d.Encoding)
	if !ok || auto || enc == UTF16 {
		return nil, fmt.Errorf("rejects writer: dialect encoding %q is not one Reader reports", d.Encoding)
	}
	if _, auto, ok := ParseDelimiter(string(d.Delimiter)); !ok || auto {
		return nil, fmt.Errorf("rejects writer: dialect delimiter %q is not one Reader reports", d.Delimiter)
	}
	var o rejectsOptions
	for _, opt := range opts {
		opt(&o)
	}
	rw := &RejectsWriter{w: bufio.NewWriterSize(w, bufSize), d: d, enc: enc, input: o.input}
	rw.replace = isErrorColumn(header) && (o.isData == nil || !o.isData(len(header)-1))
	if d.BOM {
		switch enc {
		case UTF8:
			rw.w.Write(bom8)
		case UTF16LE:
			rw.w.Write(bom16LE)
		case UTF16BE:
			rw.w.Write(bom16BE)
		}
	}
	if d.Sep {
		rw.line = append(rw.line[:0], "sep="...)
		rw.line = utf8.AppendRune(rw.line, d.Delimiter)
		if err := rw.endLine(); err != nil {
			return rw, err
		}
	}
	if in := rw.input; in != nil && in.titleTo > in.titleFrom {
		if err := rw.copyInput(in.titleFrom, in.titleTo, "the title lines"); err != nil {
			return rw, err
		}
	}
	rw.line = rw.line[:0]
	names := header
	if rw.replace {
		names = header[:len(header)-1]
	}
	for i, name := range names {
		rw.appendCell(i, enc.appendText(nil, name))
	}
	rw.appendCell(len(names), enc.appendText(nil, errorColumn(names)))
	return rw, rw.endLine()
}

// errorColumn names the error column: "error", unless the header has it already.
func errorColumn(header []string) string {
	taken := make(map[string]bool, len(header))
	for _, h := range header {
		taken[ColumnKey(h)] = true // SameColumnName, in one pass over the header
	}
	name := "error"
	for i := 2; taken[ColumnKey(name)]; i++ {
		name = "error_" + strconv.Itoa(i)
	}
	return name
}

// isErrorColumn reports whether the last column of header is named as RejectsWriter names the error
// column it adds to the others, in a header of more than one column: the header of a rejects file.
func isErrorColumn(header []string) bool {
	n := len(header)
	return n > 1 && header[n-1] == errorColumn(header[:n-1])
}

// Write writes rec's Raw values and reason, the text of the error column (UTF-8).
func (w *RejectsWriter) Write(rec *Record, reason string) error {
	if w.err != nil {
		return w.err
	}
	if r, _ := utf8.DecodeRuneInString(reason); strings.ContainsRune("=+-@\t\r＝＋－＠", r) {
		reason = "'" + reason
	}
	w.line = w.line[:0]
	if rec.src != nil {
		return w.writeFromFile(rec, reason)
	}
	if unreadable(rec) {
		w.appendBrokenLine(rec.Raw, reason)
		return w.endLine()
	}
	raw := rec.Raw
	if w.replace && len(raw) > 0 {
		raw = raw[:len(raw)-1] // the reason of the run that wrote the input
	}
	for i, v := range raw {
		w.appendCell(i, []byte(v))
	}
	w.appendCell(len(raw), w.enc.appendText(nil, reason))
	return w.endLine()
}

// unreadable reports whether rec is a record the reader could not split into values (broken quoting,
// a record too long) but kept as it is, or can copy from the file.
func unreadable(rec *Record) bool {
	return rec.src != nil || len(rec.Raw) > 0 && (errors.Is(rec.Err, ErrQuote) || errors.Is(rec.Err, ErrRecordTooLong))
}

// writeFromFile writes a record too long to keep: its bytes copied from the input as they are, then the
// reason as appendBrokenLine writes it.
func (w *RejectsWriter) writeFromFile(rec *Record, reason string) error {
	if err := w.copyFrom(rec.src, rec.textFrom, rec.textTo, fmt.Sprintf("row %d", rec.Row)); err != nil {
		return err
	}
	w.appendBrokenLine(nil, reason)
	return w.endLine()
}

// copyInput copies the bytes [from, to) of the WithInput reader's file: what, for messages.
func (w *RejectsWriter) copyInput(from, to int64, what string) error {
	return w.copyFrom(w.input, from, to, what)
}

// copyFrom copies the bytes [from, to) of the file that src reads, as they are; what names them in
// messages. src must read it in the writer's encoding and delimiter.
func (w *RejectsWriter) copyFrom(src *Reader, from, to int64, what string) error {
	if d := src.d; d.Delimiter != w.d.Delimiter || d.Encoding != w.d.Encoding {
		w.err = fmt.Errorf("write rejects: %s was read as %s with delimiter %q, the rejects file is %s with %q",
			what, d.Encoding, d.Delimiter, w.d.Encoding, w.d.Delimiter)
		return w.err
	}
	if err := src.copyText(w.w, from, to); err != nil {
		w.err = fmt.Errorf("write rejects: %s: %w", what, err)
		return w.err
	}
	return nil
}

// appendBrokenLine writes the text of a record that cannot be read — its Raw values are the text split
// at each delimiter — as it was, then the delimiter and the reason, always quoted, on the same line.
// The reason starts with a character that closes a quote the text leaves open, and makes it a quoting
// error on this line: not a quote (which would be an escaped one), not the delimiter nor a line break
// (which would end the quoted field cleanly).
func (w *RejectsWriter) appendBrokenLine(raw []string, reason string) {
	delim := string(w.d.Delimiter)
	for i, v := range raw {
		if i > 0 {
			w.line = append(w.line, delim...)
		}
		w.line = append(w.line, v...)
	}
	reason = strings.NewReplacer("\r\n", " ", "\r", " ", "\n", " ").Replace(reason)
	if reason == "" || reason[0] == '"' || strings.HasPrefix(reason, delim) {
		reason = "'" + reason
	}
	w.line = append(w.line, delim...)
	w.line = append(w.line, '"')
	for _, c := range w.enc.appendText(nil, reason) {
		if c == '"' {
			w.line = append(w.line, '"')
		}
		w.line = append(w.line, c)
	}
	w.line = append(w.line, '"')
}

// Close ends the file: with WithInput, it copies the input's footer after the rows, reading the input
// to its end if the reader is not there yet; then it flushes. The writer is done after it.
func (w *RejectsWriter) Close() error {
	if w.err != nil {
		return w.err
	}
	if in := w.input; in != nil {
		from, to, err := in.footerSpan()
		if err != nil {
			w.err = fmt.Errorf("write rejects: the input's footer: %w", err)
			return w.err
		}
		if to > from {
			if err := w.copyInput(from, to, "the footer"); err != nil {
				return err
			}
		}
	}
	if err := w.Flush(); err != nil {
		return err
	}
	w.err = errors.New("write rejects: the writer is closed")
	return nil
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
	if !needsQuotes(v) {
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

func needsQuotes(v []byte) bool {
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
		w.u16 = appendUTF16(w.u16[:0], w.line, w.enc == UTF16BE)
		out = w.u16
	}
	if _, err := w.w.Write(out); err != nil {
		w.err = fmt.Errorf("write rejects: %w", err)
	}
	return w.err
}
