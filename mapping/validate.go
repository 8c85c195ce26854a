package mapping

import (
	"errors"
	"fmt"
	"math"
	"net/mail"
	"regexp"
	"regexp/syntax"
	"slices"
	"strconv"
	"strings"
	"time"
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
	validateRange
)

var validatorNames = [...]string{
	validateEmail:  "email",
	validateRegex:  "regex",
	validateLength: "length",
	validateOneOf:  "one_of",
	validateRange:  "range",
}

// timeNow is the clock of "today" in a date pivot and a range (tests set it).
var timeNow = time.Now

// todayDate is the local date now, YYYY-MM-DD.
func todayDate() string { return timeNow().Format(time.DateOnly) }

// rangeToday is the bound of a date range that stands for the run's date.
const rangeToday = "today"

// validator is one validator with its arguments.
type validator struct {
	kind validatorKind

	pattern string         // regex, as written
	re      *regexp.Regexp // regex, anchored at both ends

	min, max int // length bounds in runes; -1 when absent

	values     []string          // one_of, as written
	ignoreCase bool              // one_of compares case-insensitively
	set        map[string]string // one_of values (lowercased when ignoreCase) → as listed

	// range: bounds as written (a YYYY-MM-DD date or today, or a number), "" when absent.
	lo, hi   string
	dates    bool    // the bounds are dates: values must be YYYY-MM-DD (after a date transform)
	loN, hiN float64 // numeric bounds
}

// check returns the value to send and "" when s passes, else the row problem's reason, which never
// contains s. The value is s, except that one_of with ignore_case gives the listed spelling ("M" for
// "m"), so that the API receives one spelling of each value, and email drops a leading mailto:. today is
// the run's date (YYYY-MM-DD).
func (v *validator) check(s, today string) (string, string) {
	switch v.kind {
	case validateEmail:
		s = stripMailto(s)
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
	case validateRange:
		return s, v.checkRange(s, today)
	}
	return s, ""
}

// checkRange says why s is outside the range, or "".
func (v *validator) checkRange(s, today string) string {
	if v.dates {
		if !isISODate(s) {
			return "not a date in the form YYYY-MM-DD, which a range of dates compares (add a date transform)"
		}
		lo, hi := v.lo, v.hi
		if lo == rangeToday {
			lo = today
		}
		if hi == rangeToday {
			hi = today
		}
		switch {
		case lo != "" && s < lo:
			return "before " + describeBound(v.lo, today)
		case hi != "" && s > hi:
			return "after " + describeBound(v.hi, today)
		}
		return ""
	}
	n, err := strconv.ParseFloat(s, 64)
	if err != nil || math.IsNaN(n) || math.IsInf(n, 0) {
		return "not a number, which the range compares"
	}
	switch {
	case v.lo != "" && n < v.loN:
		return "below the minimum " + v.lo
	case v.hi != "" && n > v.hiN:
		return "above the maximum " + v.hi
	}
	return ""
}

// describeBound names a date bound in a message: "1900-01-01", or "today (2026-12-04)".
func describeBound(bound, today string) string {
	if bound == rangeToday {
		return "today (" + today + ")"
	}
	return bound
}

// isISODate reports whether s is a real calendar date written YYYY-MM-DD.
func isISODate(s string) bool {
	_, err := time.Parse(time.DateOnly, s)
	return err == nil
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

// stripMailto removes the mailto: of an address copied from a link (mailto:ade@example.com), in any case.
func stripMailto(s string) string {
	if len(s) > 7 && strings.EqualFold(s[:7], "mailto:") {
		return s[7:]
	}
	return s
}

// isEmail reports whether s is an email address the email validator accepts, mailto: and all.
func isEmail(s string) bool { return validEmail(stripMailto(s)) }

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
