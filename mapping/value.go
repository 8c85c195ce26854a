package mapping

import (
	"errors"
	"strconv"
	"strings"
	"unicode/utf8"
)

// A field's value: checked by its validators, converted to its type's JSON, and its default evaluated
// the same way when the mapping is read.

// defaultJSON returns the default as it goes into the body: its text for a string, else its JSON (a
// list's items split, checked and converted one by one, without transforms); or why the field's own
// rules reject it. today is the run's date (YYYY-MM-DD).
func (f *fieldSpec) defaultJSON(today string) (string, string) {
	if f.split == "" {
		return f.checkValue(f.def, today)
	}
	b := []byte{'['}
	i := 0
	for item := range strings.SplitSeq(f.def, f.split) {
		i++
		if isBlankValue(item) {
			continue
		}
		text, reason := f.checkValue(item, today)
		if reason != "" {
			return "", itemReason(i, reason)
		}
		if len(b) > 1 {
			b = append(b, ',')
		}
		b = f.appendJSONValue(b, text)
	}
	if len(b) == 1 {
		return "", "it has no item between the separators " + strconv.Quote(f.split)
	}
	return string(append(b, ']')), ""
}

// appendJSONValue appends a value that convertValue made: a string quoted, another type's literal as it is.
func (f *fieldSpec) appendJSONValue(b []byte, text string) []byte {
	if f.typ == typeString {
		return appendJSONString(b, text)
	}
	return append(b, text...)
}

// itemReason prefixes a list item's problem with its place: "item 2: not a valid email address".
func itemReason(i int, reason string) string { return "item " + strconv.Itoa(i) + ": " + reason }

// checkValue runs the field's validators and type conversion on s, returning the value to send (one_of
// with ignore_case gives the listed spelling, as for a row's value) or the first problem. today is the
// run's date (YYYY-MM-DD), for a range up to today.
func (f *fieldSpec) checkValue(s, today string) (string, string) {
	for i := range f.validators {
		var reason string
		if s, reason = f.validators[i].check(s, today); reason != "" {
			return "", reason
		}
	}
	return convertValue(s, f.typ)
}

// appendJSONString appends s as a JSON string. Invalid UTF-8 becomes U+FFFD, as encoding/json does;
// U+2028 and U+2029 are escaped so that the body is also valid JavaScript.
func appendJSONString(b []byte, s string) []byte {
	const hex = "0123456789abcdef"
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' {
				i++
				continue
			}
			b = append(b, s[start:i]...)
			switch c {
			case '"', '\\':
				b = append(b, '\\', c)
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			default:
				b = append(b, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xf])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b = append(b, s[start:i]...)
			b = append(b, `\ufffd`...)
			i += size
			start = i
			continue
		}
		if r == '\u2028' || r == '\u2029' {
			b = append(b, s[start:i]...)
			b = append(b, '\\', 'u', '2', '0', '2', hex[r&0xf])
			i += size
			start = i
			continue
		}
		i += size
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}

// convertValue returns s as its type's JSON literal (for a string, s itself, to be quoted), or the reason
// it does not convert.
func convertValue(s string, t valueType) (string, string) {
	switch t {
	case typeInteger:
		n, ok, outOfRange := jsonInteger(trimFieldValue(s))
		switch {
		case ok:
			return n, ""
		case outOfRange:
			return "", "out of range (an integer is from -9223372036854775808 to 9223372036854775807: use type: number, or string for an identifier)"
		}
		return "", "not an integer"
	case typeNumber:
		if n, ok := jsonNumber(trimFieldValue(s)); ok {
			return n, ""
		}
		return "", "not a number (write digits with a dot for decimals: 1234.50)"
	case typeBoolean:
		switch strings.ToLower(trimFieldValue(s)) {
		case "true", "yes", "y", "1", "on", "t":
			return "true", ""
		case "false", "no", "n", "0", "off", "f":
			return "false", ""
		}
		return "", "not a boolean (true or false, yes or no, 1 or 0)"
	}
	return s, ""
}

// jsonInteger checks a decimal integer that fits in 64 bits and returns it without a plus sign or
// leading zeros. outOfRange says that s is a decimal integer, but too large for 64 bits.
func jsonInteger(s string) (n string, ok, outOfRange bool) {
	v, err := strconv.ParseInt(s, 10, 64)
	if errors.Is(err, strconv.ErrRange) {
		// ParseInt stops at the overflow: the rest must be digits too.
		digits := strings.TrimLeft(s, "+-")
		return "", false, len(s)-len(digits) <= 1 && strings.Trim(digits, "0123456789") == ""
	}
	if err != nil { // ParseInt refuses "1_000" in base 10
		return "", false, false
	}
	if canonical := strconv.FormatInt(v, 10); canonical != s {
		return canonical, true, false
	}
	return s, true, false
}

// jsonNumber checks a decimal number ([-+]digits[.digits][e[-+]digits]) and returns it in JSON's
// grammar without changing its value or precision: no plus sign, no leading zeros, a digit on each side
// of the dot.
func jsonNumber(s string) (string, bool) {
	i := 0
	neg := false
	if i < len(s) && (s[i] == '+' || s[i] == '-') {
		neg = s[i] == '-'
		i++
	}
	intStart := i
	for i < len(s) && s[i] >= '0' && s[i] <= '9' {
		i++
	}
	intPart := s[intStart:i]
	frac := ""
	if i < len(s) && s[i] == '.' {
		i++
		fs := i
		for i < len(s) && s[i] >= '0' && s[i] <= '9' {
			i++
		}
		frac = s[fs:i]
	}
	if intPart == "" && frac == "" {
		return "", false
	}
	exp := ""
	if i < len(s) && (s[i] == 'e' || s[i] == 'E') {
		es := i
		i++
		if i < len(s) && (s[i] == '+' || s[i] == '-') {
			i++
		}
		ds := i
		for i < len(s) && s[i] >= '0' && s[i] <= '9' {
			i++
		}
		if i == ds {
			return "", false
		}
		exp = s[es:i]
	}
	if i != len(s) {
		return "", false
	}
	dot := strings.IndexByte(s, '.') >= 0
	if s[0] != '+' && intPart != "" && (len(intPart) == 1 || intPart[0] != '0') && (!dot || frac != "") {
		return s, true // already JSON
	}
	intPart = strings.TrimLeft(intPart, "0")
	if intPart == "" {
		intPart = "0"
	}
	var b strings.Builder
	if neg {
		b.WriteByte('-')
	}
	b.WriteString(intPart)
	if frac != "" {
		b.WriteByte('.')
		b.WriteString(frac)
	}
	b.WriteString(exp)
	return b.String(), true
}
