package checkpoint

import (
	"fmt"
	"strings"
)

// Binding is what a job is bound to: the input's content, the mapping and the API. A journal written under
// one binding is never resumed under another.
type Binding struct {
	InputSize   int64  // bytes of the input file
	InputSHA256 string // hex SHA-256 of the input file's bytes
	MappingHash string // hex hash of the normalised mapping
	APIURL      string // base URL of the API; trailing slashes do not matter
	// Rules names the version of the rules that number, read and map rows (mapping.RulesVersion). A job
	// is resumed only under the rules that started it: other rules could number rows or derive references
	// differently, and the journal's rows would no longer be the input's. A journal from before Rules was
	// recorded has "".
	Rules string
}

// Change is one part of a binding that differs between a job directory and the run asked for.
type Change struct {
	What     string // "input", "mapping" or "API URL"
	Old, New string // short forms: the first 12 hex digits of a hash (with the input's size), or the URL
}

// BindingError says that a job directory belongs to another input, mapping or API.
type BindingError struct {
	Dir     string
	Changes []Change
}

func (e *BindingError) Error() string {
	parts := make([]string, len(e.Changes))
	for i, c := range e.Changes {
		parts[i] = fmt.Sprintf("%s changed (was %s, now %s)", c.What, c.Old, c.New)
	}
	return fmt.Sprintf("job directory %s holds a job for another input, mapping or API: %s",
		e.Dir, strings.Join(parts, "; "))
}

// Hint says how a user gets out.
func (e *BindingError) Hint() string {
	return "to resume that job, run it with its original input, mapping and API URL (and the zentra-import that started it, if its reading rules changed); " +
		"to import this input separately, give it another job directory with --out; " +
		"to forget that job's progress and start over here, add --restart"
}

func rulesName(r string) string {
	if r == "" {
		return "those of an earlier version"
	}
	return "version " + r
}

func shortHash(h string) string {
	if len(h) > 12 {
		return h[:12]
	}
	if h == "" {
		return "(none)"
	}
	return h
}

func describeInput(size int64, sum string) string {
	return fmt.Sprintf("%d bytes, sha256 %s", size, shortHash(sum))
}

// diff lists what differs between the journal's binding (old) and the run's (b).
func (old Binding) diff(b Binding) []Change {
	var c []Change
	if old.InputSize != b.InputSize || !strings.EqualFold(old.InputSHA256, b.InputSHA256) {
		c = append(c, Change{"input", describeInput(old.InputSize, old.InputSHA256), describeInput(b.InputSize, b.InputSHA256)})
	}
	if !strings.EqualFold(old.MappingHash, b.MappingHash) {
		c = append(c, Change{"mapping", shortHash(old.MappingHash), shortHash(b.MappingHash)})
	}
	if !sameAPI(old.APIURL, b.APIURL) {
		c = append(c, Change{"API URL", old.APIURL, b.APIURL})
	}
	if old.Rules != b.Rules {
		c = append(c, Change{"zentra-import's reading rules", rulesName(old.Rules), rulesName(b.Rules)})
	}
	return c
}
