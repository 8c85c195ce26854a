package mapping

import (
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/zentra/zentra-import/csvfile"
)

// ColumnError says that a column named in a mapping (or by --carry) is not in the input's header.
// It lists the header's columns and, when one is close, the column the name most likely meant.
type ColumnError struct {
	Name      string   // the name as written
	Header    []string // the input's header
	Closest   string   // the nearest header column, or "" when none is near
	Ambiguous []string // set instead when several header columns match the name equally well
}

func (e *ColumnError) Error() string {
	if len(e.Ambiguous) > 0 {
		return fmt.Sprintf("column %q is ambiguous: the header has %s", e.Name, quoteList(e.Ambiguous, " and "))
	}
	msg := fmt.Sprintf("unknown column %q", e.Name)
	if e.Closest != "" {
		msg += fmt.Sprintf(" (did you mean %q?)", e.Closest)
	}
	return msg
}

// maxHintColumns bounds the columns a hint lists: a file may have thousands.
const maxHintColumns = 50

// Hint lists the header's columns (the first maxHintColumns of a wider one), for the line under the error.
func (e *ColumnError) Hint() string {
	if len(e.Ambiguous) > 0 {
		return "rename one of the columns in the file so that names differ by more than case and spaces"
	}
	if n := len(e.Header); n > maxHintColumns {
		return fmt.Sprintf("the header's first %d columns (of %d) are: %s, …", maxHintColumns, n, quoteList(e.Header[:maxHintColumns], ", "))
	}
	return "the header's columns are: " + quoteList(e.Header, ", ")
}

// columnIndex finds names in a header by sameColumnName, each in constant time.
type columnIndex struct {
	header []string
	first  map[string]int   // the header's first position of each key
	more   map[string][]int // every position of a key the header has more than once, in order
}

func newColumnIndex(header []string) *columnIndex {
	ix := &columnIndex{header: header, first: make(map[string]int, len(header)), more: map[string][]int{}}
	for i, h := range header {
		k := csvfile.ColumnKey(h)
		j, dup := ix.first[k]
		switch {
		case !dup:
			ix.first[k] = i
		case ix.more[k] == nil:
			ix.more[k] = []int{j, i}
		default:
			ix.more[k] = append(ix.more[k], i)
		}
	}
	return ix
}

// resolve is ResolveColumn(ix.header, name).
func (ix *columnIndex) resolve(name string) (int, error) {
	k := csvfile.ColumnKey(name)
	same := ix.more[k]
	if i, ok := ix.first[k]; ok && same == nil {
		same = []int{i}
	}
	return pickColumn(ix.header, name, same)
}

// ResolveColumn returns the index of name in header. Names match the way the mapping file matches them:
// case-insensitively, ignoring spaces around either side. When two header columns match, the one spelled
// exactly like name wins; if none is, the name is ambiguous. The error is a *ColumnError.
func ResolveColumn(header []string, name string) (int, error) {
	var same []int
	for i, h := range header {
		if csvfile.SameColumnName(h, name) {
			same = append(same, i)
		}
	}
	return pickColumn(header, name, same)
}

// pickColumn returns ResolveColumn's answer, same being the positions of the header's columns that are
// the same as name, in order.
func pickColumn(header []string, name string, same []int) (int, error) {
	want := strings.TrimSpace(name)
	for _, i := range same {
		if strings.TrimSpace(header[i]) == want {
			return i, nil
		}
	}
	switch {
	case len(same) == 1:
		return same[0], nil
	case len(same) > 1:
		names := make([]string, len(same))
		for j, i := range same {
			names[j] = header[i]
		}
		return -1, &ColumnError{Name: name, Header: header, Ambiguous: names}
	}
	closest := closestName(name, header)
	if closest == "" {
		closest = sameMeaning(name, header)
	}
	return -1, &ColumnError{Name: name, Header: header, Closest: closest}
}

// sameMeaning returns the header column that names the same thing as name by the synonyms Infer knows
// (Last Name and Surname, Mobile and Phone Number), or "".
func sameMeaning(name string, header []string) string {
	rule, _ := inferTarget(name)
	if rule == nil {
		return ""
	}
	for _, h := range header {
		if r, _ := inferTarget(h); r == rule {
			return h
		}
	}
	return ""
}

// Closest returns the candidate nearest to name, or "" when none is near enough to be a likely typo: the
// rule by which every "did you mean" of the mapping file is decided, for other names (flags) too.
func Closest(name string, candidates []string) string { return closestName(name, candidates) }

// closestName returns the candidate nearest to name, comparing case-insensitively and ignoring spaces,
// underscores and hyphens, or "" when none is near enough to be a likely typo.
func closestName(name string, candidates []string) string {
	want := looseName(name)
	if want == "" {
		return ""
	}
	best, bestDist := "", -1
	for _, c := range candidates {
		d := editDistance(want, looseName(c))
		if bestDist < 0 || d < bestDist {
			best, bestDist = c, d
		}
	}
	// One edit, plus one per five characters, is a typo; more is a different word.
	if bestDist < 0 || bestDist > 1+utf8.RuneCountInString(want)/5 {
		return ""
	}
	return best
}

// looseName lowercases s and drops the characters people spell inconsistently in column names.
func looseName(s string) string {
	var b strings.Builder
	for _, r := range s {
		if unicode.IsSpace(r) || r == '_' || r == '-' || r == '.' {
			continue
		}
		b.WriteRune(unicode.ToLower(r))
	}
	return b.String()
}

// editDistance is the optimal-string-alignment distance between a and b, in runes: insertions,
// deletions, substitutions and swaps of neighbours ("titel" → "title") each count one.
func editDistance(a, b string) int {
	ra, rb := []rune(a), []rune(b)
	prev2, prev, cur := make([]int, len(rb)+1), make([]int, len(rb)+1), make([]int, len(rb)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(ra); i++ {
		cur[0] = i
		for j := 1; j <= len(rb); j++ {
			cost := 1
			if ra[i-1] == rb[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
			if i > 1 && j > 1 && ra[i-1] == rb[j-2] && ra[i-2] == rb[j-1] {
				cur[j] = min(cur[j], prev2[j-2]+1)
			}
		}
		prev2, prev, cur = prev, cur, prev2
	}
	return prev[len(rb)]
}

// quoteList renders names as "a", "b" and "c" (with sep between them), for messages.
func quoteList(names []string, sep string) string {
	q := make([]string, len(names))
	for i, n := range names {
		q[i] = fmt.Sprintf("%q", n)
	}
	return strings.Join(q, sep)
}
