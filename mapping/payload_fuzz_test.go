package mapping

import (
	"encoding/json"
	"errors"
	"regexp"
	"slices"
	"strings"
	"testing"
)

const fuzzRowMapping = `fields:
  external_reference: {template: "crm-{Id}"}
  first_name: {column: First, transform: [trim, collapse_spaces, title], validate: {length: {max: 40}}}
  last_name: {column: Last, transform: [trim, upper], optional: true}
  email: {column: Email, transform: [trim, lower], validate: email, optional: true}
  phone: {column: Phone, transform: [phone], region: NG, optional: true}
  dob: {column: DOB, transform: [{date: [DD/MM/YYYY, YYYY-MM-DD, D MMM YY]}], optional: true}
  count: {column: N, transform: [digits], type: integer, default: 0}
  amount: {column: Amount, type: number, optional: true}
  active: {column: Active, type: boolean, optional: true}
  meta.code: {column: Code, validate: [{regex: "[A-Z]{2}[0-9]*"}, {one_of: {values: [AB1, CD2, EF], ignore_case: true}}], optional: true}
  meta.tag: {value: fuzz}
  meta.tags: {column: Code, split: ",", transform: [trim, upper], validate: {length: {max: 3}}, optional: true}
  meta.consent: {value: {channels: [sms, email], opt_in: true, note: null}}
require_one_of: [email, phone]
`

var fuzzRowHeader = []string{"Id", "First", "Last", "Email", "Phone", "DOB", "N", "Amount", "Active", "Code"}

// fuzzReasons are every reason fuzzRowMapping can give: a row's problems are made of these, the
// targets and the header's names only, so no value of the row can be in them.
var fuzzReasons = []string{
	"required but empty",
	"too long (at most 40 characters)",
	"too long (at most 3 characters)",
	"not a valid email address",
	"not a valid phone number for region NG",
	"has an extension, which E.164 cannot hold: put it in another field",
	"not a valid date in any of the forms DD/MM/YYYY, YYYY-MM-DD, D MMM YY",
	"not an integer",
	"out of range (an integer is from -9223372036854775808 to 9223372036854775807: use type: number, or string for an identifier)",
	"not a number (write digits with a dot for decimals: 1234.50)",
	"not a boolean (true or false, yes or no, 1 or 0)",
	"does not match the pattern [A-Z]{2}[0-9]*",
	"not one of the allowed values (AB1, CD2, EF)",
	"at least one is required, all are empty (columns Email, Phone)",
	"not valid text in UTF-8 (check the file's encoding, csv: encoding in the mapping)",
}

// fuzzControl is the reason for a control character: it names the character, not the value.
var fuzzControl = regexp.MustCompile(`^has (a NUL character \(U\+0000\)|a tab|a line break|the control character U\+00[0-9A-F]{2})(, which is not text: remove it from the value in the file|, which an external_reference may not hold: fix the value in the file|, a C1 control, not text \(was the file converted from Windows-1252 as if it were ISO-8859-1\?\): fix the value in the file)$`)

// fuzzItemPrefix is how a problem of a split: field names its item.
var fuzzItemPrefix = regexp.MustCompile(`^item [1-9][0-9]*: `)

// FuzzMapRow: any values give a valid JSON body or a RowError made only of field names, column names and
// fixed reasons (never a value of the row), and never a panic.
func FuzzMapRow(f *testing.F) {
	m, err := Parse("fuzz.yaml", []byte(fuzzRowMapping))
	if err != nil {
		f.Fatal(err)
	}
	mp, err := m.Compile(fuzzRowHeader)
	if err != nil {
		f.Fatal(err)
	}
	var targets []string
	for _, fs := range m.fields {
		targets = append(targets, fs.target)
	}
	f.Add("1001", " ADÉLÉ  o'brien ", "okafor-nwosu", " Ade@Example.COM ", "0803 123 4567", "01/02/1990", "12 items", "-12.50", "yes", "ab1")
	f.Add("", "", "", "bad@", "2348031234567", "31/02/1990", "", "1,5", "maybe", "zz9")
	f.Add("x\"y", "\x00\xff\u2028", "\\", "a@b.co", "+234 803 123 4567", "1 Feb 90", "9999999999999999999999", ".5", "0", "CD2")
	f.Add("  ", "McDONALD", "d’angelo", "", "(0803) 123-4567", "1990-02-01 00:00", "007", "1e3", "off", "EF")
	f.Fuzz(func(t *testing.T, id, first, last, email, phone, dob, n, amount, active, code string) {
		row := []string{id, first, last, email, phone, dob, n, amount, active, code}
		p, err := mp.Map(row)
		if err != nil {
			var re *RowError
			if !errors.As(err, &re) || len(re.Problems) == 0 {
				t.Fatalf("error is not a RowError with problems: %v", err)
			}
			for _, prob := range re.Problems {
				reason := prob.Reason
				if prob.Field == "meta.tags" {
					reason = fuzzItemPrefix.ReplaceAllString(reason, "")
				}
				if !slices.Contains(fuzzReasons, reason) && !fuzzControl.MatchString(reason) {
					t.Fatalf("unexpected reason %q", prob.Reason)
				}
				if prob.Field != "email or phone" && !slices.Contains(targets, prob.Field) {
					t.Fatalf("unexpected field %q", prob.Field)
				}
				for _, col := range strings.Split(prob.Column, ", ") {
					if col != "" && !slices.Contains(fuzzRowHeader, col) {
						t.Fatalf("unexpected column %q", col)
					}
				}
			}
			if p.Body != nil {
				t.Fatal("a rejected row has a body")
			}
			return
		}
		if !json.Valid(p.Body) {
			t.Fatalf("invalid JSON: %q", p.Body)
		}
		var body map[string]any
		if err := json.Unmarshal(p.Body, &body); err != nil {
			t.Fatal(err)
		}
		if body["external_reference"] != p.Ref || p.Ref == "" {
			t.Fatalf("reference %q, body %s", p.Ref, p.Body)
		}
	})
}
