package jobdir

import (
	"bufio"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"slices"
	"strconv"
	"unicode/utf8"

	"github.com/gocarina/gocsv"

	"github.com/zentra/zentra-import/checkpoint"
)

// SafeCell returns s so that a spreadsheet shows it as text instead of executing it: a cell that starts
// with =, +, -, @ (or their full-width forms), a tab or a carriage return gets a leading single quote
// (the OWASP advice for CSV injection). A plain number such as -12.50 or +44 is left alone: it cannot run
// anything, and finance wants it as it was.
func SafeCell(s string) string {
	r, _ := utf8.DecodeRuneInString(s)
	switch r {
	case '=', '+', '-', '@', '\t', '\r', '＝', '＋', '－', '＠':
		if !isPlainNumber(s) {
			return "'" + s
		}
	}
	return s
}

// isPlainNumber matches [+-]digits[.digits].
func isPlainNumber(s string) bool {
	if s != "" && (s[0] == '+' || s[0] == '-') {
		s = s[1:]
	}
	digits, dot := 0, false
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c >= '0' && c <= '9':
			digits++
		case c == '.' && !dot && digits > 0 && i < len(s)-1:
			dot = true
		default:
			return false
		}
	}
	return digits > 0
}

// ResultLine is one line of results.csv. Rows that were never sent have an empty HTTPStatus. Text cells
// (reference, customer id, error, carried values) are as written: SafeCell'd.
type ResultLine struct {
	Row               int      `csv:"row"`
	ExternalReference string   `csv:"external_reference"`
	Status            string   `csv:"status"`
	CustomerID        string   `csv:"customer_id"`
	HTTPStatus        string   `csv:"http_status"`
	Attempts          int      `csv:"attempts"`
	Error             string   `csv:"error"`
	Carry             []string `csv:"-"` // the --carry columns, in order
}

// resultColumns are results.csv's fixed columns, in order.
var resultColumns = []string{"row", "external_reference", "status", "customer_id", "http_status", "attempts", "error"}

// ResultColumns returns results.csv's fixed columns, in order; the --carry columns follow them.
func ResultColumns() []string { return slices.Clone(resultColumns) }

// ResultsWriter writes results.csv: the fixed columns through gocsv, then the --carry columns.
type ResultsWriter struct {
	cw    *csv.Writer
	adapt carryAdapter
	carry int
	one   [1]ResultLine
}

// carryAdapter is the gocsv.CSVWriter that gocsv writes the fixed columns to; it appends the current
// row's carry cells. Its Flush does nothing: gocsv flushes after every call, and the ResultsWriter flushes
// when asked.
type carryAdapter struct {
	cw    *csv.Writer
	carry []string
	row   []string
}

func (a *carryAdapter) Write(fixed []string) error {
	a.row = append(append(a.row[:0], fixed...), a.carry...)
	return a.cw.Write(a.row)
}

func (a *carryAdapter) Flush() {}

func (a *carryAdapter) Error() error { return a.cw.Error() }

// UTF8BOM is the byte-order mark that Excel on Windows needs to read a CSV file as UTF-8: without it,
// Excel reads Émilie as Ã‰milie. Readers of results.csv skip it.
const UTF8BOM = "\ufeff"

// NewResultsWriter writes the header: the fixed columns, then the carry column names; after a UTF-8
// byte-order mark when bom is set (--excel).
func NewResultsWriter(w io.Writer, carry []string, bom bool) (*ResultsWriter, error) {
	if bom {
		if _, err := io.WriteString(w, UTF8BOM); err != nil {
			return nil, fmt.Errorf("write results header: %w", err)
		}
	}
	cw := csv.NewWriter(w)
	rw := &ResultsWriter{cw: cw, adapt: carryAdapter{cw: cw}, carry: len(carry)}
	rw.adapt.carry = safeCells(nil, carry)
	if err := gocsv.MarshalCSV([]ResultLine{}, &rw.adapt); err != nil {
		return nil, fmt.Errorf("write results header: %w", err)
	}
	return rw, nil
}

func safeCells(dst, cells []string) []string {
	dst = dst[:0]
	for _, c := range cells {
		dst = append(dst, SafeCell(c))
	}
	return dst
}

// Write writes one row's line; carry holds its values for the carry columns.
func (w *ResultsWriter) Write(o checkpoint.Outcome, carry []string) error {
	if len(carry) != w.carry {
		return fmt.Errorf("results row %d: %d carry values for %d carry columns", o.Row, len(carry), w.carry)
	}
	if !slices.Contains(checkpoint.Statuses(), o.Status) {
		return fmt.Errorf("results row %d: no outcome (status %d)", o.Row, o.Status)
	}
	w.one[0] = ResultLine{
		Row:               o.Row,
		ExternalReference: SafeCell(o.Ref),
		Status:            o.Status.String(),
		CustomerID:        SafeCell(o.CustomerID),
		Attempts:          o.Attempts,
		Error:             SafeCell(o.Error),
	}
	if o.HTTPStatus != 0 {
		w.one[0].HTTPStatus = strconv.Itoa(o.HTTPStatus)
	}
	w.adapt.carry = safeCells(w.adapt.carry, carry)
	if err := gocsv.MarshalCSVWithoutHeaders(w.one[:], &w.adapt); err != nil {
		return fmt.Errorf("write results row %d: %w", o.Row, err)
	}
	return nil
}

// Flush writes out what is buffered and returns the first write error.
func (w *ResultsWriter) Flush() error {
	w.cw.Flush()
	if err := w.cw.Error(); err != nil {
		return fmt.Errorf("write results: %w", err)
	}
	return nil
}

// ReadResults reads a whole results.csv (see ScanResults).
func ReadResults(r io.Reader) ([]ResultLine, error) {
	var lines []ResultLine
	_, err := ScanResults(r, func(l ResultLine) error {
		lines = append(lines, l)
		return nil
	})
	return lines, err
}

// oneRow is a gocsv.CSVReader holding a single record, to decode one line at a time.
type oneRow struct{ rec []string }

func (o *oneRow) Read() ([]string, error) {
	if o.rec == nil {
		return nil, io.EOF
	}
	r := o.rec
	o.rec = nil
	return r, nil
}

func (o *oneRow) ReadAll() ([][]string, error) {
	r, err := o.Read()
	if err != nil {
		return nil, nil
	}
	return [][]string{r}, nil
}

// ScanResults reads results.csv line by line, calling fn for each, and returns the carry column names.
// It checks the fixed header and each line's row number and status, naming the line of a problem.
func ScanResults(r io.Reader, fn func(ResultLine) error) (carry []string, err error) {
	cr := csv.NewReader(skipBOM(r))
	header, err := cr.Read()
	if errors.Is(err, io.EOF) {
		return nil, errors.New("read results: empty file, no header")
	}
	if err != nil {
		return nil, fmt.Errorf("read results: %w", err)
	}
	if len(header) < len(resultColumns) || !slices.Equal(header[:len(resultColumns)], resultColumns) {
		return nil, fmt.Errorf("read results: line 1: header does not start with %v", resultColumns)
	}
	carry = header[len(resultColumns):]
	var one []ResultLine
	for {
		rec, err := cr.Read()
		if errors.Is(err, io.EOF) {
			return carry, nil
		}
		if err != nil {
			return carry, fmt.Errorf("read results: %w", err)
		}
		line, _ := cr.FieldPos(0)
		one = one[:0]
		if err := gocsv.UnmarshalCSVWithoutHeaders(&oneRow{rec[:len(resultColumns)]}, &one); err != nil || len(one) != 1 {
			return carry, fmt.Errorf("read results: line %d: %v", line, err)
		}
		l := one[0]
		if l.Row < 1 {
			return carry, fmt.Errorf("read results: line %d: row %q is not a row number", line, rec[0])
		}
		if _, err := checkpoint.ParseStatus(l.Status); err != nil {
			return carry, fmt.Errorf("read results: line %d: %w", line, err)
		}
		l.Carry = slices.Clone(rec[len(resultColumns):])
		if err := fn(l); err != nil {
			return carry, err
		}
	}
}

// skipBOM reads r without a UTF-8 byte-order mark at its start.
func skipBOM(r io.Reader) io.Reader {
	br := bufio.NewReader(r)
	if b, err := br.Peek(len(UTF8BOM)); err == nil && string(b) == UTF8BOM {
		_, _ = br.Discard(len(UTF8BOM))
	}
	return br
}

// ResultsHeader reads the header of a results.csv, byte-order mark or not, and says whether it has one.
func ResultsHeader(r io.Reader) (header []string, bom bool, err error) {
	br := bufio.NewReader(r)
	if b, perr := br.Peek(len(UTF8BOM)); perr == nil && string(b) == UTF8BOM {
		_, _ = br.Discard(len(UTF8BOM))
		bom = true
	}
	header, err = csv.NewReader(br).Read()
	return header, bom, err
}
