package importer

import (
	"fmt"
	"io"
	"log/slog"
	"slices"
	"strconv"
	"strings"

	"github.com/zentra/zentra-import/csvfile"
	"github.com/zentra/zentra-import/mapping"
)

// allowUnknownHint says how to keep a target the mapping warns about.
const allowUnknownHint = "if a target is meant as written, list it under allow_unknown: in the mapping file (allow_unknown: [firstname])"

// logTargetWarnings logs, before any row, the mapping's targets that look like typos of a documented
// field or of one another: sent as they are, their values would reach the API under the wrong name.
func logTargetWarnings(log *slog.Logger, m *mapping.Mapping) {
	for _, w := range m.Warnings() {
		log.Warn(w.String(), "target", w.Target, "line", w.Line, "hint", allowUnknownHint)
	}
}

// printTargetWarnings writes the same warnings as lines, for validate.
func printTargetWarnings(w io.Writer, m *mapping.Mapping) {
	warnings := m.Warnings()
	for _, tw := range warnings {
		fmt.Fprintf(w, "warning: %s\n", tw)
	}
	if len(warnings) > 0 {
		fmt.Fprintf(w, "hint: %s\n", allowUnknownHint)
	}
}

// logReaderNotes logs, before any row, what the reader ignores of the input's header: its columns
// without a name at the end.
func logReaderNotes(log *slog.Logger, rd *csvfile.Reader) {
	if d := rd.Dialect(); d.Unnamed > 0 {
		log.Warn(csvfile.UnnamedNote(len(rd.Header()), d.Unnamed), "unnamed_columns", d.Unnamed)
	}
}

// printReaderNotes writes the same note as a line, for validate.
func printReaderNotes(w io.Writer, rd *csvfile.Reader) {
	if d := rd.Dialect(); d.Unnamed > 0 {
		fmt.Fprintf(w, "warning: %s\n", csvfile.UnnamedNote(len(rd.Header()), d.Unnamed))
	}
}

// footerNote says what the reader left out as the input's footer, once it has read to the end ("" when
// nothing), and whether that looks like a mistake: with csv.skip_footer, a footer record as wide as the
// header with more than two values, as a row has and a footer ("Total records: 5000") has not.
func footerNote(rd *csvfile.Reader) (string, bool) {
	footer := rd.Footer()
	if len(footer) == 0 {
		return "", false
	}
	d := rd.Dialect()
	option := "csv: footer"
	if d.SkipFooter > 0 {
		option = fmt.Sprintf("csv: skip_footer: %d", d.SkipFooter)
	}
	where := fmt.Sprintf("line %d", footer[0].Line)
	if n := len(footer); n > 1 {
		where = fmt.Sprintf("%d records, lines %d to %d", n, footer[0].Line, footer[n-1].Line)
	}
	named := len(rd.Header())
	if d.SkipFooter > 0 {
		for _, f := range footer {
			if f.Fields >= named && f.Values > 2 {
				return fmt.Sprintf("the footer left out (%s, %s) has a record on line %d with %d values, as a row has: "+
					"if it is a row, it was not imported; lower skip_footer, or give footer: a pattern that only the footer's lines match", where, option, f.Line, f.Values), true
			}
		}
	}
	return fmt.Sprintf("left out the footer, not rows: %s (%s)", where, option), false
}

// describeDialect says how the input is read, and which of it csv: auto decided: `delimiter ";"
// (semicolon), encoding windows-1252 (both detected: csv: auto)`.
func describeDialect(d csvfile.Dialect, opts csvfile.CSVOptions) string {
	auto := func(s string) bool { return s == "" || s == "auto" }
	var detected string
	switch {
	case auto(opts.Delimiter) && auto(opts.Encoding):
		detected = " (both detected: csv: auto)"
	case auto(opts.Delimiter):
		detected = " (the delimiter detected: csv: delimiter: auto)"
	case auto(opts.Encoding):
		detected = " (the encoding detected: csv: encoding: auto)"
	}
	return "delimiter " + d.DelimiterName() + ", encoding " + d.EncodingName() + detected
}

// lossyShown is how many rows the lossy-names warning names.
const lossyShown = 5

// lossyNames counts the rows whose name fields hold a "?": the mark of an export that replaced the
// characters its encoding could not hold (?ukasiewicz for Łukasiewicz).
type lossyNames struct {
	rows   int
	first  []int
	fields []string
}

func (l *lossyNames) add(row int, fields []string) {
	if len(fields) == 0 {
		return
	}
	l.rows++
	if len(l.first) < lossyShown {
		l.first = append(l.first, row)
	}
	for _, f := range fields {
		if !slices.Contains(l.fields, f) {
			l.fields = append(l.fields, f)
		}
	}
}

// print warns about them, if any: the rows are valid, but their names are probably damaged.
func (l *lossyNames) print(w io.Writer, d csvfile.Dialect) {
	if l.rows == 0 {
		return
	}
	rows := make([]string, len(l.first))
	for i, r := range l.first {
		rows[i] = strconv.Itoa(r)
	}
	more := ""
	if l.rows > len(l.first) {
		more = ", …"
	}
	verb := "have"
	if l.rows == 1 {
		verb = "has"
	}
	fmt.Fprintf(w, "warning: %s %s a \"?\" in a name (%s; rows %s%s): the system that exported the file probably replaced characters it could not write in %s\n",
		plural(l.rows, "row"), verb, strings.Join(l.fields, ", "), strings.Join(rows, ", "), more, d.EncodingName())
	fmt.Fprintf(w, "hint: export the file again as UTF-8; these rows would be sent with the \"?\" in them\n")
}
