package csvfile

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// SameColumnName is the one rule by which two column names are the same: equal but for case (Unicode
// simple folding) and surrounding spaces. The reader refuses a header with two such names; the mapping,
// --carry and the rejects file's error column match names by it. ColumnKey gives the same rule as a map
// key, so that a header is searched in one pass however many columns it has.
func SameColumnName(a, b string) bool {
	return strings.EqualFold(strings.TrimSpace(a), strings.TrimSpace(b))
}

// ColumnKey returns the key of a column name under SameColumnName: two names are the same exactly when
// their keys are equal. It is the name trimmed of surrounding spaces, each character replaced by one
// chosen among the characters strings.EqualFold takes for it (its simple case folding orbit: k, K and
// the Kelvin sign are one key): the ASCII lower-case letter when there is one, else the smallest. A
// byte that is not UTF-8 reads as U+FFFD, as EqualFold reads it.
func ColumnKey(name string) string {
	name = strings.TrimSpace(name)
	plain := true
	for i := 0; i < len(name) && plain; i++ {
		plain = name[i] < utf8.RuneSelf && !('A' <= name[i] && name[i] <= 'Z')
	}
	if plain {
		return name // ASCII without upper case: the name is its own key
	}
	var b strings.Builder
	b.Grow(len(name))
	for _, r := range name {
		switch {
		case 'A' <= r && r <= 'Z':
			r += 'a' - 'A'
		case r >= utf8.RuneSelf:
			m := r
			for f := unicode.SimpleFold(r); f != r; f = unicode.SimpleFold(f) { // the orbit, back to r
				m = min(m, f)
			}
			if 'A' <= m && m <= 'Z' { // the Kelvin sign, the long s: their orbit's ASCII letter
				m += 'a' - 'A'
			}
			r = m
		}
		b.WriteRune(r)
	}
	return b.String()
}
