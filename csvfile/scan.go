package csvfile

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
)

// recordScan is what scanRecord found: one record, delimited the way RFC 4180 readers that tolerate
// broken quotes delimit it (see lenient).
type recordScan struct {
	p, e     int64  // file offsets: where the record's first line starts, and where the record ends
	textEnd  int64  // file offset where its text ends: e less its line break
	text     []byte // the text, without its line break, as the parser reads it; unset when long
	long     bool   // the record's bytes, line break included, are more than the record limit
	unclosed bool   // the file ends inside a quoted field of the record
	openLine int    // the line the last quoted field opened on, relative to the first (0)
	newlines int    // line breaks in [p, e)
	brk      bool   // the record ends with a line break, not at the end of the file
	endsNL   bool   // its last byte is a line feed (its line break's, or a quoted value's at the end of the file)
	blanks   int    // blank lines skipped before it
	eof      bool   // only blank lines, if any, up to the end of the file: no record
	noData   bool   // every value is empty or white space, or the record is ctrlZ
	ctrlZ    bool   // the record is one value, a DOS end-of-file mark (Ctrl-Z)
}

// lastLine returns the last line that holds some of the record, first being the line it starts on.
func (s *recordScan) lastLine(first int) int {
	if s.endsNL {
		return first + s.newlines - 1
	}
	return first + s.newlines
}

// scanRecord reads the record that starts at file offset from (after any blank lines, which it skips)
// to its end, without parsing it into values and in bounded memory: it keeps the record's text only up
// to the record limit. It leaves the parser in an unspecified place: restart it after. With
// stopAfterBlanks it returns as soon as it has skipped blank lines, when there were some, so that the
// parser can be started again on the record itself.
func (r *Reader) scanRecord(from int64, stopAfterBlanks bool) (recordScan, error) {
	var s recordScan
	if err := r.restart(from, 0); err != nil {
		return s, err
	}
	read := func() ([]byte, error) {
		chunk, err := r.br.ReadSlice('\n')
		if err != nil && err != io.EOF && err != bufio.ErrBufferFull {
			return nil, fmt.Errorf("read %s: %w", r.name, err)
		}
		return chunk, err
	}
	var dec int64 // parser input consumed before the record
	chunk, err := read()
	for { // blank lines, as encoding/csv skips them: "\n" or "\r\n", or a "\r" that ends the file
		if err != nil && err != io.EOF && err != bufio.ErrBufferFull {
			return s, err
		}
		if err == nil && (string(chunk) == "\n" || string(chunk) == "\r\n") {
			s.blanks++
			dec += int64(len(chunk))
			chunk, err = read()
			continue
		}
		if err == io.EOF && (len(chunk) == 0 || string(chunk) == "\r") {
			s.eof = true
			return s, nil
		}
		break
	}
	if s.p = r.rawOffset(dec); s.p < 0 {
		return s, r.lostPosition()
	}
	if stopAfterBlanks && s.blanks > 0 {
		return s, nil
	}

	lx := lenient{delim: byte(r.d.Delimiter), fields: 1}
	var n int64      // the record's bytes of parser input
	var tail [2]byte // its last two
	for {
		lx.line = s.newlines
		ends := lx.feed(chunk)
		n += int64(len(chunk))
		if n <= r.maxRecord {
			s.text = append(s.text, chunk...)
		}
		switch len(chunk) {
		case 0:
		case 1:
			tail = [2]byte{tail[1], chunk[0]}
		default:
			tail = [2]byte{chunk[len(chunk)-2], chunk[len(chunk)-1]}
		}
		if len(chunk) > 0 && chunk[len(chunk)-1] == '\n' {
			s.newlines++
			// Each line end is a place whose file offset the UTF-16 decoder knows: asking for it lets
			// the decoder forget the earlier ones, so that a long record does not pile them up.
			if r.rawOffset(dec+n) < 0 {
				return s, r.lostPosition()
			}
		}
		if ends {
			s.brk = true
			break
		}
		if err == io.EOF {
			break
		}
		if chunk, err = read(); err != nil && err != io.EOF && err != bufio.ErrBufferFull {
			return s, err
		}
	}
	if s.e = r.rawOffset(dec + n); s.e < 0 {
		return s, r.lostPosition()
	}
	lineEnd := 0 // the line break's bytes of parser input: encoding/csv also drops a CR that ends the file
	switch {
	case s.brk && tail == [2]byte{'\r', '\n'}:
		lineEnd = 2
	case s.brk, n > 0 && tail[1] == '\r':
		lineEnd = 1
	}
	unit := int64(1)
	if !r.enc.asciiCompatible() {
		unit = 2 // CR and LF are one code unit each
	}
	s.textEnd = s.e - int64(lineEnd)*unit
	s.long = n > r.maxRecord
	if s.long {
		s.text = nil
	} else {
		s.text = s.text[:len(s.text)-lineEnd]
	}
	s.endsNL = n > 0 && tail[1] == '\n'
	s.unclosed = !s.brk && lx.st == inQuotes
	s.openLine = lx.openLine
	s.ctrlZ = lx.fields == 1 && lx.n == 1 && lx.last == '\x1a'
	s.noData = !lx.data || s.ctrlZ
	return s, nil
}

// The states of lenient, named after those of Python's csv module.
const (
	atFieldStart  uint8 = iota // at the start of a value
	unquoted                   // in a value that is not quoted
	inQuotes                   // in a quoted value
	quoteInQuotes              // just after a quote in a quoted value: it closes the value, or doubles
)

// lenient delimits records by RFC 4180's structure, tolerating broken quotes the way Python's csv
// module does (strict=False): a quote opens a quoted value only as the value's first character; in a
// quoted value, two quotes are one quote and a quote followed by the delimiter or a line break closes
// it; a quote followed by anything else closes the quoted part too, and the value goes on unquoted, its
// quotes then being text. A record ends at a line break outside a quoted value, or at the end of the
// file. Outside quotes, a CR before a line break or at the end of the file is part of the line break,
// and any other CR is text, as encoding/csv reads it (Python reads a CR alone as a line break; the
// reader refuses files whose lines end in CR alone).
//
// It also notes what Next needs to tell a record without data from one with: whether some value holds
// a byte that is not white space, and whether the record is the single value Ctrl-Z.
type lenient struct {
	delim    byte
	st       uint8
	fields   int  // values so far, the current one included
	n        int  // bytes of value text (a quote that only quotes is not, nor a line break)
	last     byte // the last byte of value text
	data     bool // some byte of value text is not white space
	line     int  // the line being fed, relative to the record's first (the caller keeps it)
	openLine int  // the line the last quoted value opened on
	cr       bool // the last byte fed was a CR outside quotes: text, unless a line feed follows
}

// feed runs the next bytes of the record through, up to and including a line break at most, and reports
// whether that line break ends the record.
func (l *lenient) feed(c []byte) bool {
	if l.cr && len(c) > 0 {
		l.cr = false
		if c[0] != '\n' {
			l.value([]byte{'\r'})
		}
	}
	for i := 0; i < len(c); i++ {
		switch l.st {
		case inQuotes:
			j := bytes.IndexByte(c[i:], '"')
			if j < 0 {
				l.value(c[i:])
				return false
			}
			l.value(c[i : i+j])
			i += j
			l.st = quoteInQuotes
			continue
		case quoteInQuotes:
			switch c[i] {
			case '"':
				l.value(c[i : i+1])
				l.st = inQuotes
				continue
			case l.delim:
				l.fields++
				l.st = atFieldStart
				continue
			case '\n':
				return true
			}
			// Text after the closing quote: the value goes on, unquoted.
		case atFieldStart:
			if c[i] == '"' {
				l.st, l.openLine = inQuotes, l.line
				continue
			}
		}
		l.st = unquoted
		switch c[i] {
		case l.delim:
			l.fields++
			l.st = atFieldStart
		case '\n':
			return true
		case '\r':
			switch {
			case i+1 == len(c):
				l.cr = true // decided by the next byte; dropped at the end of the file
			case c[i+1] != '\n':
				l.value(c[i : i+1])
			}
		default:
			l.value(c[i : i+1])
		}
	}
	return false
}

// value notes bytes of value text.
func (l *lenient) value(b []byte) {
	if len(b) == 0 {
		return
	}
	l.n += len(b)
	l.last = b[len(b)-1]
	for i := 0; !l.data && i < len(b); i++ {
		l.data = !isSpace(b[i])
	}
}

// isSpace reports whether b is white space as a record without data is defined: space, tab, CR, LF,
// vertical tab, form feed.
func isSpace(b byte) bool {
	switch b {
	case ' ', '\t', '\r', '\n', '\v', '\f':
		return true
	}
	return false
}
