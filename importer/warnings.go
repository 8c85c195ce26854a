package importer

import (
	"fmt"
	"io"
	"log/slog"

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
