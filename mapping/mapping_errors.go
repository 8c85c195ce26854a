package mapping

import (
	"fmt"
	"strings"
)

// MappingError is one problem in a mapping file, at a line and column of it (both 1-based; 0 when the
// problem has no place, such as an empty file). Hint, when set, says how to fix it.
type MappingError struct {
	File   string
	Line   int
	Column int
	Msg    string
	Hint   string
}

// Error renders the problem as `samples/m.yaml: line 7: unknown transform "titel" (did you mean "title"?)`.
// The hint is not part of it: a command prints it on its own line.
func (e *MappingError) Error() string {
	var b strings.Builder
	if e.File != "" {
		b.WriteString(e.File)
		b.WriteString(": ")
	}
	if e.Line > 0 {
		fmt.Fprintf(&b, "line %d: ", e.Line)
	}
	b.WriteString(e.Msg)
	return b.String()
}

// MappingErrors is every problem found in a mapping file, in the order of their lines, so that the user
// can fix them all at once. Load, Parse, Compile and Infer return it, never empty; past 50 problems the
// last entry says how many more there are. errors.As finds both the list and, through Unwrap, its first
// *MappingError.
type MappingErrors []*MappingError

// Error renders one problem per line.
func (l MappingErrors) Error() string {
	s := make([]string, len(l))
	for i, e := range l {
		s[i] = e.Error()
	}
	return strings.Join(s, "\n")
}

// Unwrap gives errors.Is and errors.As each problem.
func (l MappingErrors) Unwrap() []error {
	errs := make([]error, len(l))
	for i, e := range l {
		errs[i] = e
	}
	return errs
}

// didYouMean returns ` (did you mean "x"?)` for the nearest of candidates, or "".
func didYouMean(name string, candidates []string) string {
	if c := closestName(name, candidates); c != "" {
		return fmt.Sprintf(" (did you mean %q?)", c)
	}
	return ""
}
