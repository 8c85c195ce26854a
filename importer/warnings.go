package importer

import (
	"fmt"
	"io"
	"log/slog"
	"slices"
	"strconv"
	"strings"

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

// describeDialect says how the input is read, and which of it csv: auto decided: `delimiter ";"
// (semicolon), encoding windows-1252 (both detected: csv: auto)`.
func describeDialect(d mapping.Dialect, opts mapping.CSVOptions) string {
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
func (l *lossyNames) print(w io.Writer, d mapping.Dialect) {
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
