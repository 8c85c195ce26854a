package mapping

import (
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestEmailValidator(t *testing.T) {
	valid := []string{
		"ade@example.com", "ade.okafor+crm@mail.example.ng", "a_b-c@sub-domain.example.co.uk", "ADE@EXAMPLE.COM",
		"o'brien@example.ie", strings.Repeat("a", 64) + "@example.com", "ade@" + strings.Repeat("b", 63) + ".com",
		"chidi@bücher.example", "ade@example.xn--ngbc5azd",
	}
	invalid := []string{
		"", "ade", "ade@", "@example.com", "ade@example", "ade@@example.com", "ade@example.", "ade@.example.com",
		"ade@example..com", "ade@-example.com", "ade@example.c", "ade@example.123", "Ade <ade@example.com>",
		"ade@example.com (Ade)", "ade okafor@example.com", "ade@exa mple.com", "ade.@example.com", ".ade@example.com",
		"ade@example.com,bola@example.com", `"ade okafor"@example.com`, strings.Repeat("a", 250) + "@example.com",
		// QA: a zero-width space pasted in, a local part or a label over its limit, an address literal, an
		// underscore in the host name.
		"a\u200bde@example.com", strings.Repeat("a", 65) + "@example.com", "ade@" + strings.Repeat("b", 64) + ".com",
		"ade@[1.2.3.4]", "ade@my_host.example.com", "ade@example.com\u00ad",
	}
	v := validator{kind: validateEmail}
	for _, s := range valid {
		_, reason := v.check(s, "2026-12-04")
		assert.Empty(t, reason, s)
	}
	for _, s := range invalid {
		_, reason := v.check(s, "2026-12-04")
		assert.Equal(t, "not a valid email address", reason, s)
	}
}

func TestValidators(t *testing.T) {
	tests := []struct {
		name   string
		rule   string // the validate: value in a mapping
		value  string
		reason string // "" when valid
	}{
		{"regex whole value", `{regex: "[A-Z]{2}[0-9]{3}"}`, "AB123", ""},
		{"regex needs the whole value", `{regex: "[A-Z]{2}[0-9]{3}"}`, "xAB1234", "does not match the pattern [A-Z]{2}[0-9]{3}"},
		{"regex with anchors", `{regex: "^\\d+$"}`, "123", ""},
		{"regex alternation is grouped", `{regex: "a|b"}`, "ab", "does not match the pattern a|b"},
		{"length within", `{length: {min: 2, max: 4}}`, "abcd", ""},
		{"length counts characters", `{length: {max: 5}}`, "Adélé", ""},
		{"length too short", `{length: {min: 2}}`, "a", "too short (at least 2 characters)"},
		{"length too long", `{length: {max: 3}}`, "abcd", "too long (at most 3 characters)"},
		{"one_of", `{one_of: [M, F]}`, "F", ""},
		{"one_of is case-sensitive", `{one_of: [M, F]}`, "f", "not one of the allowed values (M, F)"},
		{"one_of ignore_case", `{one_of: {values: [M, F], ignore_case: true}}`, "f", ""},
		{"one_of numbers as written", `{one_of: [01, 02]}`, "01", ""},
		{"one_of many values", `{one_of: [a, b, c, d, e, f, g, h, i, j]}`, "z", "not one of the allowed values (a, b, c, d, e, f, g, h, … 10 in all)"},
		{"list: all must pass", `[email, {length: {max: 12}}]`, "ade@example.com", "too long (at most 12 characters)"},
		{"list: first failure is reported", `[{length: {max: 2}}, email]`, "nope", "too long (at most 2 characters)"},
		{"date range within", `{range: {min: 1900-01-01, max: today}}`, "1945-02-01", ""},
		{"date range: today is in", `{range: {min: 1900-01-01, max: today}}`, "2026-12-04", ""},
		{"date range: after today", `{range: {min: 1900-01-01, max: today}}`, "2026-12-05", "after today (2026-12-04)"},
		{"date range: before its min", `{range: {min: 1900-01-01, max: today}}`, "1850-06-01", "before 1900-01-01"},
		{"date range: min only", `{range: {min: 2000-01-01}}`, "2031-01-01", ""},
		{"date range: quoted bounds", `{range: {min: "1900-01-01", max: "TODAY"}}`, "2030-01-01", "after today (2026-12-04)"},
		{"date range: not an ISO date", `{range: {min: 1900-01-01}}`, "01/02/1945", "not a date in the form YYYY-MM-DD, which a range of dates compares (add a date transform)"},
		{"date range: impossible date", `{range: {min: 1900-01-01}}`, "1990-02-30", "not a date in the form YYYY-MM-DD, which a range of dates compares (add a date transform)"},
		{"number range within", `{range: {min: 0, max: 100}}`, "42.5", ""},
		{"number range below", `{range: {min: 0, max: 100}}`, "-1", "below the minimum 0"},
		{"number range above", `{range: {min: -5.5, max: 100}}`, "101", "above the maximum 100"},
		{"number range: not a number", `{range: {max: 100}}`, "ten", "not a number, which the range compares"},
		{"email from a mailto: link", `email`, "mailto:ade@example.com", ""},
		{"email from a MAILTO: link", `email`, "MAILTO:ade@example.com", ""},
		{"mailto: alone", `email`, "mailto:", "not a valid email address"},
	}
	timeNow = func() time.Time { return time.Date(2026, 12, 4, 15, 0, 0, 0, time.Local) }
	defer func() { timeNow = time.Now }()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, err := Parse("m.yaml", []byte(minimalMapping+"  v: {column: V, validate: "+tt.rule+"}\n"))
			require.NoError(t, err)
			f := m.fields[1]
			_, reason := f.checkValue(tt.value, "2026-12-04")
			assert.Equal(t, tt.reason, reason)
		})
	}
}
