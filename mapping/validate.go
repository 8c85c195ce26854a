package mapping

import (
	"errors"
	"fmt"
	"net/mail"
	"regexp"
	"regexp/syntax"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"
)

// validatorKind names one validator of a field's validate: list.
type validatorKind uint8

const (
	validateEmail validatorKind = iota + 1
	validateRegex
	validateLength
	validateOneOf
)

var validatorNames = [...]string{
	validateEmail:  "email",
	validateRegex:  "regex",
	validateLength: "length",
	validateOneOf:  "one_of",
}

// validator is one validator with its arguments.
type validator struct {
	kind validatorKind

	pattern string         // regex, as written
	re      *regexp.Regexp // regex, anchored at both ends

	min, max int // length bounds in runes; -1 when absent

	values     []string          // one_of, as written
	ignoreCase bool              // one_of compares case-insensitively
	set        map[string]string // one_of values (lowercased when ignoreCase) → as listed
}

// check returns the value to send and "" when s passes, else the row problem's reason, which never
// contains s. The value is s, except that one_of with ignore_case gives the listed spelling ("M" for
// "m"), so that the API receives one spelling of each value.
func (v *validator) check(s string) (string, string) {
	switch v.kind {
	case validateEmail:
		if !validEmail(s) {
			return "", "not a valid email address"
		}
	case validateRegex:
		if !v.re.MatchString(s) {
			return "", "does not match the pattern " + v.pattern
		}
	case validateLength:
		n := utf8.RuneCountInString(s)
		if v.min >= 0 && n < v.min {
			return "", fmt.Sprintf("too short (at least %d characters)", v.min)
		}
		if v.max >= 0 && n > v.max {
			return "", fmt.Sprintf("too long (at most %d characters)", v.max)
		}
	case validateOneOf:
		key := s
		if v.ignoreCase {
			key = strings.ToLower(s)
		}
		listed, ok := v.set[key]
		if !ok {
			return "", "not one of the allowed values (" + v.describeValues() + ")"
		}
		return listed, ""
	}
	return s, ""
}

func (v *validator) prepareOneOf() {
	v.set = make(map[string]string, len(v.values))
	for _, s := range v.values {
		key := s
		if v.ignoreCase {
			key = strings.ToLower(s)
		}
		if _, dup := v.set[key]; !dup { // the first spelling listed is the one sent
			v.set[key] = s
		}
	}
}

// describeValues lists the allowed values for a message, shortened when there are many.
func (v *validator) describeValues() string {
	const show = 8
	if len(v.values) <= show {
		return strings.Join(v.values, ", ")
	}
	return fmt.Sprintf("%s, … %d in all", strings.Join(v.values[:show], ", "), len(v.values))
}

// canonicalValues is the set of allowed values in one spelling, for the mapping's hash.
func (v *validator) canonicalValues() []string {
	out := make([]string, 0, len(v.set))
	for s := range v.set {
		out = append(out, s)
	}
	slices.Sort(out)
	return out
}

// compileFullMatch compiles an RE2 pattern that must match the whole value.
func compileFullMatch(pattern string) (*regexp.Regexp, error) {
	if _, err := regexp.Compile(pattern); err != nil {
		return nil, err // report the error in the user's own pattern
	}
	return regexp.Compile(`^(?:` + pattern + `)$`)
}

// regexMessage shortens a regexp compile error to what is wrong, without Go's prefix.
func regexMessage(err error) string {
	var se *syntax.Error
	if errors.As(err, &se) {
		return fmt.Sprintf("%s: %q", se.Code, se.Expr)
	}
	return err.Error()
}

// validEmail is a pragmatic check: one address as net/mail reads it, with no display name, comment or
// angle brackets; a local part of at most 64 bytes with no invisible characters (a zero-width space pasted
// from a web page); and a host name of at least two labels of letters, digits and hyphens (Unicode letters
// too), each at most 63 bytes, whose last is not numeric. An address literal ([1.2.3.4]) is refused, as
// mail systems do.
func validEmail(s string) bool {
	if len(s) > 254 || strings.ContainsAny(s, " \t\r\n<>") {
		return false
	}
	at := strings.LastIndexByte(s, '@')
	if at <= 0 || at > 64 {
		return false
	}
	addr, err := mail.ParseAddress(s)
	if err != nil || addr.Name != "" || addr.Address != s {
		return false
	}
	if strings.IndexFunc(s, func(r rune) bool { return unicode.Is(unicode.Cf, r) || !unicode.IsPrint(r) }) >= 0 {
		return false
	}
	labels, tld := 0, ""
	for l := range strings.SplitSeq(s[at+1:], ".") {
		if l == "" || len(l) > 63 || l[0] == '-' || l[len(l)-1] == '-' ||
			strings.IndexFunc(l, func(r rune) bool { return r != '-' && !unicode.IsLetter(r) && !unicode.IsDigit(r) }) >= 0 {
			return false
		}
		labels, tld = labels+1, l
	}
	return labels >= 2 && len(tld) >= 2 && strings.Trim(tld, "0123456789") != ""
}
