package mapping

import (
	"fmt"
	"slices"
	"strings"
	"unicode"
)

// documentedFields are the customer fields Zentra's public page names. Targets stay free-form (a
// tenant's identity program may accept any field), but one that is a letter or two from these is most
// likely a typo that would silently send the value under the wrong name.
var documentedFields = []string{"external_reference", "first_name", "last_name", "email", "phone", "metadata"}

// TargetWarning is a target that is not a documented field and is spelled almost like one, or like
// another target of the same mapping: probably a typo. It is a warning, not an error; allow_unknown in
// the mapping silences it.
type TargetWarning struct {
	Target  string // the target as written
	Line    int    // of the target in the mapping file
	Closest string // the documented field, or the other target, it is close to
	Other   bool   // Closest is another target of this mapping, not a documented field
}

func (w TargetWarning) String() string {
	if w.Other {
		return fmt.Sprintf("fields.%s (line %d): not a documented field, and close to %s, another target of this mapping; is one of them a typo?", w.Target, w.Line, w.Closest)
	}
	return fmt.Sprintf("fields.%s (line %d): not a documented field; did you mean %s?", w.Target, w.Line, w.Closest)
}

// Warnings returns the targets that look like typos (see [TargetWarning]), in the order of the file.
func (m *Mapping) Warnings() []TargetWarning { return m.warnings }

// targetWarnings finds the targets that look like typos: the first segment of a target that is no
// documented field but is close to one (firstname, emial, metadta.source), or a target close to an
// earlier one of the same mapping when neither is documented (metadata.legacyid after metadata.legacy_id).
// Names that differ only in their digits (address.line1, address.line2) are not typos of each other.
// Targets listed in allowed are left out.
func targetWarnings(fields []*fieldSpec, allowed []string) []TargetWarning {
	var out []TargetWarning
	var earlier []string
	for _, f := range fields {
		t := f.target
		head, rest, dotted := strings.Cut(t, ".")
		if slices.Contains(allowed, t) {
			earlier = append(earlier, t)
			continue
		}
		if !slices.Contains(documentedFields, head) {
			if d := closestName(head, documentedFields); d != "" && !onlyDigitsDiffer(d, head) {
				if dotted {
					d += "." + rest
				}
				out = append(out, TargetWarning{Target: t, Line: f.pos.line, Closest: d})
				earlier = append(earlier, t)
				continue
			}
		}
		if !slices.Contains(documentedFields, t) {
			others := slices.DeleteFunc(slices.Clone(earlier), func(o string) bool {
				return slices.Contains(documentedFields, o) || onlyDigitsDiffer(o, t)
			})
			if o := closestName(t, others); o != "" {
				out = append(out, TargetWarning{Target: t, Line: f.pos.line, Closest: o, Other: true})
			}
		}
		earlier = append(earlier, t)
	}
	return out
}

// onlyDigitsDiffer reports whether a and b differ, but only in their digits (phone, phone2): numbered
// fields, not typos.
func onlyDigitsDiffer(a, b string) bool {
	strip := func(s string) string {
		return strings.Map(func(r rune) rune {
			if unicode.IsDigit(r) {
				return -1
			}
			return r
		}, looseName(s))
	}
	return looseName(a) != looseName(b) && strip(a) == strip(b)
}
