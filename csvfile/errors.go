package csvfile

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// InputError is a problem with the input file as a whole, found before any row is read: it cannot be
// opened, it is empty or has no header, a header name is empty or repeated, the delimiter cannot be
// decided, the encoding is unknown or contradicts the file. Nothing can be imported until it is fixed.
type InputError struct {
	File string // the input's name, as given to Open or NewReader
	Line int    // 1-based line of the file the problem is on; 0 when it is about the whole file
	Msg  string // what is wrong
	Fix  string // how to fix it, the hint
	Err  error  // the underlying error, if any (errors.Is(err, fs.ErrNotExist) works through it)
}

// Hint says how to fix the problem, for the line a command prints under the error.
func (e *InputError) Hint() string { return e.Fix }

// Error renders the problem as `customers.csv: line 1: duplicate column name "Email" (columns 3 and 7)`:
// the file, the line when there is one, and what is wrong. The hint is not part of it.
func (e *InputError) Error() string {
	place := ""
	if e.File != "" {
		place = e.File + ": "
	}
	if e.Line > 0 {
		place += "line " + strconv.Itoa(e.Line) + ": "
	}
	return place + e.Msg
}

func (e *InputError) Unwrap() error { return e.Err }

// The kinds of RecordError, for errors.Is.
var (
	ErrFieldCount    = errors.New("wrong number of fields")
	ErrEncoding      = errors.New("bytes not valid in the file's encoding")
	ErrQuote         = errors.New("malformed quoting")
	ErrRecordTooLong = errors.New("record too long")
	// ErrUnnamedValue is a value under one of the columns at the end of the header that have no name,
	// which the reader ignores: the value would be lost.
	ErrUnnamedValue = errors.New("a value in a column without a name")
)

// RecordError is a record's own problem: it cannot be read cleanly, so its row is rejected and reading
// goes on with the next record. Its message names the line (and the column when there is one) and the
// reason, never a value: values are personal data.
type RecordError struct {
	Row    int    // the record's row number
	Line   int    // the line it starts on
	Column int    // 1-based column the problem is in; 0 when it concerns the whole record
	Name   string // the header's name for Column, when the header has that column
	Kind   error  // ErrFieldCount, ErrUnnamedValue, ErrEncoding, ErrQuote or ErrRecordTooLong
	Reason string // what is wrong, short, e.g. "9 fields, header has 8"
}

// Error renders the problem as "line 57: 9 fields, header has 8" or
// "line 12, column 4 (E-mail): bytes not valid UTF-8 (…)".
func (e *RecordError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "line %d", e.Line)
	if e.Column > 0 {
		fmt.Fprintf(&b, ", column %d", e.Column)
		if e.Name != "" {
			fmt.Fprintf(&b, " (%s)", e.Name)
		}
	}
	b.WriteString(": ")
	b.WriteString(e.Reason)
	return b.String()
}

// Unwrap returns the kind, so that errors.Is(err, ErrFieldCount) and the like work.
func (e *RecordError) Unwrap() error { return e.Kind }
