package mapping

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/zentra/zentra-import/csvfile"
)

// minimalMapping is the smallest valid mapping; cases add lines to it.
const minimalMapping = "fields:\n  external_reference: {column: Id}\n"

func TestParseErrors(t *testing.T) {
	tests := []struct {
		name string
		src  string
		// Each wanted problem: its line and a part of its message; hint, when set, a part of its hint.
		want []wantProblem
	}{
		{"broken YAML", "fields:\n  external_reference: {column: Id\n  x: 1\n",
			[]wantProblem{{line: 3, msg: "invalid YAML", hint: "indentation"}}},
		{"tab indentation", "fields:\n\texternal_reference: {column: Id}\n",
			[]wantProblem{{line: 2, msg: "invalid YAML"}}},
		{"duplicate key", minimalMapping + "  email: {column: A}\n  email: {column: B}\n",
			[]wantProblem{{line: 4, msg: `duplicate key "email" (first at line 3)`}}},
		{"empty file", "", []wantProblem{{line: 1, msg: "the mapping is empty", hint: "zentra-import mapping"}}},
		{"only comments", "# nothing\n", []wantProblem{{line: 1, msg: "the mapping is empty"}}},
		{"not a mapping", "- a\n- b\n", []wantProblem{{line: 1, msg: "the mapping must be a mapping of keys to values, not a list"}}},
		{"two documents", minimalMapping + "---\n" + minimalMapping,
			[]wantProblem{{line: 4, msg: "only one YAML document is allowed"}}},
		{"invalid UTF-8", "# comment\nfields:\n  external_reference: {column: \xff}\n",
			[]wantProblem{{line: 3, msg: "not valid UTF-8", hint: "save the mapping file as UTF-8"}}},
		{"too large", strings.Repeat("#", maxMappingSize+1), []wantProblem{{line: 0, msg: "larger than"}}},
		{"unknown top-level key", minimalMapping + "require_one_off: [a, b]\n",
			[]wantProblem{{line: 3, msg: `unknown key "require_one_off" (did you mean "require_one_of"?)`, hint: "csv, fields, require_one_of"}}},
		{"no fields", "csv: {delimiter: auto}\n", []wantProblem{{line: 1, msg: "the mapping has no fields:", hint: "external_reference"}}},
		{"no external_reference", "fields:\n  email: {column: E-mail}\n",
			[]wantProblem{{line: 1, msg: "fields has no external_reference", hint: `{template: "crm-{Customer Id}"}`}}},
		{"external_reference optional", "fields:\n  external_reference: {column: Id, optional: true}\n",
			[]wantProblem{{line: 2, msg: "external_reference cannot be optional"}}},
		{"external_reference constant", "fields:\n  external_reference: {value: x}\n",
			[]wantProblem{{line: 2, msg: "external_reference cannot be a constant"}}},
		{"external_reference with a default", "fields:\n  external_reference:\n    column: Id\n    default: x\n",
			[]wantProblem{{line: 4, msg: "external_reference cannot have a default", hint: "a row without a reference must be rejected, not given a shared one"}}},
		{"external_reference template with a default", "fields:\n  external_reference: {template: \"crm-{Id}\", default: crm-0}\n",
			[]wantProblem{{line: 2, msg: "external_reference cannot have a default"}}},
		{"external_reference with a default and optional", "fields:\n  external_reference: {column: Id, default: x, optional: true}\n",
			[]wantProblem{{line: 2, msg: "both default and optional"}}},
		{"external_reference typed", "fields:\n  external_reference: {column: Id, type: integer}\n",
			[]wantProblem{{line: 2, msg: "external_reference is text"}}},
		{"unknown field key", minimalMapping + "  email: {colum: E-mail}\n",
			[]wantProblem{{line: 3, msg: `unknown key "colum" in field email (did you mean "column"?)`}, {line: 3, msg: "field email has no source"}}},
		{"unknown csv key", "csv: {delimeter: ;}\n" + minimalMapping,
			[]wantProblem{{line: 1, msg: `unknown key "delimeter" in csv (did you mean "delimiter"?)`}}},
		{"bad delimiter", "csv:\n  delimiter: \":\"\n" + minimalMapping,
			[]wantProblem{{line: 2, msg: `unsupported delimiter ":"`, hint: `"\t"`}}},
		{"bad encoding", "csv:\n  encoding: utf-9\n" + minimalMapping,
			[]wantProblem{{line: 2, msg: `unsupported encoding "utf-9" (did you mean "utf-8"?)`}}},
		{"csv key misspelt", "csv:\n  skip_line: 1\n" + minimalMapping,
			[]wantProblem{{line: 2, msg: `unknown key "skip_line" in csv (did you mean "skip_lines"?)`, hint: "skip_lines, skip_footer and footer"}}},
		{"skip_lines not a number", "csv: {skip_lines: two}\n" + minimalMapping,
			[]wantProblem{{line: 1, msg: "skip_lines must be a whole number", hint: "title lines above the header"}}},
		{"skip_lines too many", "csv:\n  delimiter: auto\n  skip_lines: 5000\n" + minimalMapping,
			[]wantProblem{{line: 3, msg: "skip_lines is 5000: it must be from 0 to 1000"}}},
		{"skip_footer too many", "csv:\n  skip_footer: 101\n" + minimalMapping,
			[]wantProblem{{line: 2, msg: "skip_footer is 101: it must be from 0 to 100", hint: "footer records at the end of the file"}}},
		{"skip_footer negative", "csv:\n  skip_footer: -1\n" + minimalMapping,
			[]wantProblem{{line: 2, msg: "skip_footer is -1: it must be from 0 to 100"}}},
		{"footer not RE2", "csv:\n  footer: \"^Total(?=:)\"\n" + minimalMapping,
			[]wantProblem{{line: 2, msg: "footer is not a valid pattern: invalid or unsupported Perl syntax", hint: "RE2"}}},
		{"footer matches an empty line", "csv:\n  footer: \"(Total)?\"\n" + minimalMapping,
			[]wantProblem{{line: 2, msg: `footer "(Total)?" matches an empty line, so it would match any record`}}},
		{"footer not text", "csv:\n  footer: [Total]\n" + minimalMapping,
			[]wantProblem{{line: 2, msg: "footer must be text"}}},
		{"skip_footer and footer", "csv:\n  footer: \"^Total\"\n  skip_footer: 1\n" + minimalMapping,
			[]wantProblem{{line: 3, msg: "skip_footer and footer are both given", hint: "give one of them"}}},
		{"unknown transform", minimalMapping + "  first_name: {column: A,\n    transform: [trim, titel]}\n",
			[]wantProblem{{line: 4, msg: `unknown transform "titel" (did you mean "title"?)`, hint: "trim, lower, upper, title"}}},
		{"date without layout", minimalMapping + "  dob: {column: A, transform: [date]}\n",
			[]wantProblem{{line: 3, msg: "the date transform needs its input layout", hint: `{date: "DD/MM/YYYY"}`}}},
		{"Go date layout", minimalMapping + "  dob: {column: A, transform: [{date: \"02/01/2006\"}]}\n",
			[]wantProblem{{line: 3, msg: `date layout "02/01/2006": digits in a layout`}}},
		{"date layout letters", minimalMapping + "  dob: {column: A, transform: [{date: [DD/MM/YYYY, \"DD hh YYYY\"]}]}\n",
			[]wantProblem{{line: 3, msg: `unknown element 'H'`}}},
		{"date pivot without a two-digit year", minimalMapping + "  dob: {column: A, transform: [{date: {layout: DD/MM/YYYY, pivot: past}}]}\n",
			[]wantProblem{{line: 3, msg: "pivot places two-digit years, and no layout of this date transform has one (YY)", hint: "remove pivot:"}}},
		{"date pivot unknown", minimalMapping + "  dob: {column: A, transform: [{date: {layout: D.M.YY, pivot: future}}]}\n",
			[]wantProblem{{line: 3, msg: `pivot "future" is neither past nor a four-digit year`, hint: "pivot: past reads two-digit years"}}},
		{"date with a typo in its keys", minimalMapping + "  dob: {column: A, transform: [{date: {layouts: D.M.YY}}]}\n",
			[]wantProblem{{line: 3, msg: `unknown key "layouts" in date (did you mean "layout"?)`}}},
		{"date without layout but a pivot", minimalMapping + "  dob: {column: A, transform: [{date: {pivot: past}}]}\n",
			[]wantProblem{{line: 3, msg: "the date transform has no layout:"}}},
		{"pad_left without width", minimalMapping + "  a: {column: A, transform: [{pad_left: {char: \"0\"}}]}\n",
			[]wantProblem{{line: 3, msg: "the pad_left transform needs its width:", hint: "{pad_left: {width: 7"}}},
		{"pad_left with two chars", minimalMapping + "  a: {column: A, transform: [{pad_left: {width: 7, char: \"00\"}}]}\n",
			[]wantProblem{{line: 3, msg: "pad_left char must be one character, not 2"}}},
		{"pad_left as a plain name", minimalMapping + "  a: {column: A, transform: [pad_left]}\n",
			[]wantProblem{{line: 3, msg: "the pad_left transform needs its width:"}}},
		{"strip_leading empty", minimalMapping + "  a: {column: A, transform: [{strip_leading: \"\"}]}\n",
			[]wantProblem{{line: 3, msg: "strip_leading has no characters to strip"}}},
		{"replace bad regex", minimalMapping + "  a: {column: A, transform: [{replace: {regex: \"(\", with: x}}]}\n",
			[]wantProblem{{line: 3, msg: "invalid regex: missing closing ): \"(\""}}},
		{"replace without with", minimalMapping + "  a: {column: A, transform: [{replace: {regex: x}}]}\n",
			[]wantProblem{{line: 3, msg: "the replace transform needs with:", hint: `with: ""`}}},
		{"replace typo", minimalMapping + "  a: {column: A, transform: [{replace: {regexp: x, with: y}}]}\n",
			[]wantProblem{{line: 3, msg: `unknown key "regexp" in replace (did you mean "regex"?)`}}},
		{"range without bounds", minimalMapping + "  a: {column: A, validate: [range]}\n",
			[]wantProblem{{line: 3, msg: "the range validator needs min:, max: or both", hint: "{range: {min: 1900-01-01, max: today}}"}}},
		{"range of a date and a number", minimalMapping + "  a: {column: A, validate: {range: {min: 1900-01-01, max: 5}}}\n",
			[]wantProblem{{line: 3, msg: "range min and max must both be dates or both be numbers"}}},
		{"range bound not a date", minimalMapping + "  a: {column: A, validate: {range: {min: 1900-13-01}}}\n",
			[]wantProblem{{line: 3, msg: `range min "1900-13-01" is neither a date (YYYY-MM-DD or today) nor a number`}}},
		{"range crossed", minimalMapping + "  a: {column: A, validate: {range: {min: today, max: 1900-01-01}}}\n",
			[]wantProblem{{line: 3, msg: "range min today is after max 1900-01-01"}}},
		{"range unknown key", minimalMapping + "  a: {column: A, validate: {range: {from: 1}}}\n",
			[]wantProblem{{line: 3, msg: `unknown key "from" in range`}}},
		{"default outside its range", minimalMapping + "  a: {column: A, default: \"2999-01-01\", validate: {range: {max: today}}}\n",
			[]wantProblem{{line: 3, msg: "default of field a is rejected by the field's own rules: after today"}}},
		{"date layout without year", minimalMapping + "  dob: {column: A, transform: [{date: DD/MM}]}\n",
			[]wantProblem{{line: 3, msg: "exactly one day (DD), one month (MM or MMM) and one year"}}},
		{"argument to trim", minimalMapping + "  a: {column: A, transform: [{trim: yes}]}\n",
			[]wantProblem{{line: 3, msg: "the trim transform takes no argument"}}},
		{"argument to phone", minimalMapping + "  a: {column: A, transform: [{phone: NG}]}\n",
			[]wantProblem{{line: 3, msg: "the phone transform takes no argument", hint: "region: NG"}}},
		{"bad regex", minimalMapping + "  a:\n    column: A\n    validate:\n      - regex: \"[a-z\"\n",
			[]wantProblem{{line: 6, msg: `invalid regex: missing closing ]: "[a-z"`, hint: "RE2"}}},
		{"unknown validator", minimalMapping + "  a: {column: A, validate: emial}\n",
			[]wantProblem{{line: 3, msg: `unknown validator "emial" (did you mean "email"?)`}}},
		{"length without bounds", minimalMapping + "  a: {column: A, validate: [length]}\n",
			[]wantProblem{{line: 3, msg: "the length validator needs min:, max: or both"}}},
		{"length bounds crossed", minimalMapping + "  a: {column: A, validate: {length: {min: 5, max: 2}}}\n",
			[]wantProblem{{line: 3, msg: "length min 5 is larger than max 2"}}},
		{"length negative", minimalMapping + "  a: {column: A, validate: {length: {min: -1}}}\n",
			[]wantProblem{{line: 3, msg: "length min must be a whole number"}}},
		{"one_of empty", minimalMapping + "  a: {column: A, validate: {one_of: []}}\n",
			[]wantProblem{{line: 3, msg: "one_of values must be a non-empty list"}}},
		{"one_of unknown key", minimalMapping + "  a: {column: A, validate: {one_of: {value: [x]}}}\n",
			[]wantProblem{{line: 3, msg: `unknown key "value" in one_of (did you mean "values"?)`}}},
		{"two sources", minimalMapping + "  a: {column: A, value: x}\n",
			[]wantProblem{{line: 3, msg: "field a has 2 sources (column, value): it needs exactly one", hint: "keep one of column, value"}}},
		{"no source", minimalMapping + "  a: {optional: true}\n",
			[]wantProblem{{line: 3, msg: "field a has no source", hint: "column:, template: or value:"}}},
		{"field not a mapping", minimalMapping + "  a: A\n",
			[]wantProblem{{line: 3, msg: "field a must be a mapping", hint: "a: {column: Some Column}"}}},
		{"empty column", minimalMapping + "  a: {column: \" \"}\n",
			[]wantProblem{{line: 3, msg: "column is empty"}}},
		{"template unbalanced", "fields:\n  external_reference: {template: \"crm-{Id\"}\n",
			[]wantProblem{{line: 2, msg: "template: a { without its }"}}},
		{"template stray brace", "fields:\n  external_reference: {template: \"crm-}{Id}\"}\n",
			[]wantProblem{{line: 2, msg: "template: a } without its {"}}},
		{"template empty braces", "fields:\n  external_reference: {template: \"crm-{}\"}\n",
			[]wantProblem{{line: 2, msg: "template: empty {}"}}},
		{"template without columns", "fields:\n  external_reference: {template: \"crm-{{x}}\"}\n",
			[]wantProblem{{line: 2, msg: "no {column} in it"}}},
		{"value empty", minimalMapping + "  a: {value: }\n",
			[]wantProblem{{line: 3, msg: "value is empty", hint: "write null to send null"}}},
		{"value empty in a list", minimalMapping + "  a:\n    value:\n      - x\n      -\n",
			[]wantProblem{{line: 6, msg: "value is empty"}}},
		{"value infinite", minimalMapping + "  a: {value: .inf}\n",
			[]wantProblem{{line: 3, msg: "value .inf is not a finite number: JSON has no infinity or NaN", hint: `quote it`}}},
		{"value NaN in an object", minimalMapping + "  a: {value: {b: [1, -.Inf]}}\n",
			[]wantProblem{{line: 3, msg: "value -.Inf is not a finite number"}}},
		{"value with a tag inside", minimalMapping + "  a: {value: [1, !!str 2]}\n",
			[]wantProblem{{line: 3, msg: "YAML tags such as !!str are not supported"}}},
		{"value that contains itself", minimalMapping + "  a: {value: &x [1, *x]}\n",
			[]wantProblem{{line: 3, msg: "value is nested more than 32 levels deep", hint: "an alias"}}},
		{"value multiplied by aliases", minimalMapping + "  a: {value: &a [x, x, x, x, x, x, x, x, x, x]}\n" +
			"  b: {value: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a, *a]}\n  c: {value: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b, *b]}\n" +
			"  d: {value: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c, *c]}\n  e: {value: [*d, *d, *d, *d, *d, *d, *d, *d, *d, *d]}\n",
			[]wantProblem{{line: 6, msg: "more than 10000 parts"}, {line: 7, msg: "more than 10000 parts"}}},
		{"value with a merge key", minimalMapping + "  a: {value: {<<: {b: 1}}}\n",
			[]wantProblem{{line: 3, msg: "merge keys (<<) are not supported"}}},
		{"value with a key that is not text", minimalMapping + "  a:\n    value:\n      ~: 1\n",
			[]wantProblem{{line: 5, msg: "a key must be plain text"}}},
		{"split empty", minimalMapping + "  a: {column: A, split: \"\"}\n",
			[]wantProblem{{line: 3, msg: "split is empty", hint: `split: ";"`}}},
		{"split on a constant", minimalMapping + "  a: {value: [x], split: \",\"}\n",
			[]wantProblem{{line: 3, msg: "field a is a constant: split do not apply"}}},
		{"split external_reference", "fields:\n  external_reference: {column: Id, split: \";\"}\n",
			[]wantProblem{{line: 2, msg: "external_reference is text; it cannot be a list"}}},
		{"split default item rejected", minimalMapping + "  a: {column: A, split: \";\", type: integer, default: \"1;x\"}\n",
			[]wantProblem{{line: 3, msg: "default of field a is rejected by the field's own rules: item 2: not an integer"}}},
		{"value too large", minimalMapping + "  a: {value: \"" + strings.Repeat("x", maxConstSize+1) + "\"}\n",
			[]wantProblem{{line: 3, msg: "value is larger than 64 KiB of JSON"}}},
		{"split default without items", minimalMapping + "  a: {column: A, split: \";\", default: \" ; \"}\n",
			[]wantProblem{{line: 3, msg: `it has no item between the separators ";"`}}},
		{"constant with rules", minimalMapping + "  a: {value: x, optional: true, transform: [trim]}\n",
			[]wantProblem{{line: 3, msg: "field a is a constant: optional, transform do not apply"}}},
		{"default and optional", minimalMapping + "  a: {column: A, default: x, optional: true}\n",
			[]wantProblem{{line: 3, msg: "both default and optional"}}},
		{"empty default", minimalMapping + "  a: {column: A, default: \"\"}\n",
			[]wantProblem{{line: 3, msg: "default is empty"}}},
		{"default fails its validator", minimalMapping + "  a: {column: A, default: NGA, validate: {length: {max: 2}}}\n",
			[]wantProblem{{line: 3, msg: "default of field a is rejected by the field's own rules: too long (at most 2 characters)"}}},
		{"default fails its type", minimalMapping + "  a: {column: A, default: many, type: integer}\n",
			[]wantProblem{{line: 3, msg: "default of field a is rejected by the field's own rules: not an integer"}}},
		{"unknown type", minimalMapping + "  a: {column: A, type: intger}\n",
			[]wantProblem{{line: 3, msg: `unknown type "intger" (did you mean "integer"?)`}}},
		{"optional not a boolean", minimalMapping + "  a: {column: A, optional: maybe}\n",
			[]wantProblem{{line: 3, msg: "optional must be true or false"}}},
		{"unknown region", minimalMapping + "  a: {column: A, transform: [phone], region: XX}\n",
			[]wantProblem{{line: 3, msg: `unknown region "XX"`}}},
		{"region without phone", minimalMapping + "  a: {column: A, region: NG}\n",
			[]wantProblem{{line: 3, msg: "field a has region: but no phone transform"}}},
		{"invalid target", minimalMapping + "  first name: {column: A}\n",
			[]wantProblem{{line: 3, msg: `invalid target "first name"`, hint: "metadata.legacy_id"}}},
		{"empty path segment", minimalMapping + "  metadata..id: {column: A}\n",
			[]wantProblem{{line: 3, msg: `invalid target "metadata..id"`}}},
		{"target 33 levels deep", minimalMapping + "  " + strings.Repeat("a.", 32) + "z: {column: A}\n",
			[]wantProblem{{line: 3, msg: `target "a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.…" is 33 levels deep: at most 32 are allowed`, hint: "metadata.legacy_id"}}},
		{"target 10,000 levels deep", minimalMapping + "  email: {column: A}\n  " + strings.Repeat("metadata.", 9999) + "x: {column: B}\n",
			[]wantProblem{{line: 4, msg: `target "metadata.metadata.metadata.metadata.meta…" is 10000 levels deep: at most 32 are allowed`}}},
		{"conflicting paths", minimalMapping + "  address: {column: A}\n  other: {column: B}\n  address.city: {column: C}\n",
			[]wantProblem{{line: 5, msg: "address.city conflicts with address (line 3)"}}},
		{"conflicting paths, object first", minimalMapping + "  a.b.c: {column: A}\n  a.b: {column: B}\n",
			[]wantProblem{{line: 4, msg: "a.b conflicts with a.b.c (line 3)"}}},
		{"require_one_of unknown field", minimalMapping + "  email: {column: A, optional: true}\nrequire_one_of: [email, phon]\n",
			[]wantProblem{{line: 4, msg: "require_one_of: phon is not a field"}}},
		{"require_one_of twice", minimalMapping + "  email: {column: A, optional: true}\nrequire_one_of: [email, email]\n",
			[]wantProblem{{line: 4, msg: "require_one_of lists email twice"}}},
		{"require_one_of one field", minimalMapping + "  email: {column: A, optional: true}\nrequire_one_of: [email]\n",
			[]wantProblem{{line: 4, msg: "require_one_of needs at least two fields"}}},
		{"require_one_of not a list", minimalMapping + "require_one_of: email\n",
			[]wantProblem{{line: 3, msg: "require_one_of must be a list of fields"}}},
		{"unknown alias", minimalMapping + "  a: {column: A, transform: *names}\n",
			[]wantProblem{{line: 3, msg: "unknown alias *names"}}},
		{"merge key", minimalMapping + "  <<: {a: {column: A}}\n",
			[]wantProblem{{line: 3, msg: "merge keys (<<) are not supported"}}},
		{"every problem at once", "csv:\n  encoding: klingon\nfields:\n  external_reference: {column: Id}\n" +
			"  a: {column: A, transform: [titel]}\n  b: {column: B, validate: {regex: \"(\"}}\n  c: {column: C, value: x}\n",
			[]wantProblem{{line: 2, msg: "unsupported encoding"}, {line: 5, msg: "unknown transform"}, {line: 6, msg: "invalid regex"}, {line: 7, msg: "2 sources"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, err := Parse("m.yaml", []byte(tt.src))
			require.Error(t, err)
			assert.Nil(t, m)
			requireProblems(t, err, tt.want)
		})
	}
}

type wantProblem struct {
	line      int
	msg, hint string
}

// requireProblems checks that err is MappingErrors with exactly the wanted problems, in order.
func requireProblems(t *testing.T, err error, want []wantProblem) {
	t.Helper()
	var list MappingErrors
	require.ErrorAs(t, err, &list)
	require.Len(t, list, len(want), "problems: %v", err)
	for i, w := range want {
		assert.Equal(t, "m.yaml", list[i].File)
		assert.Equal(t, w.line, list[i].Line, "line of %q", list[i].Msg)
		assert.Contains(t, list[i].Msg, w.msg)
		assert.Contains(t, list[i].Hint, w.hint)
		if w.line > 0 {
			assert.True(t, strings.HasPrefix(list[i].Error(), "m.yaml: line "), list[i].Error())
		}
	}
	var first *MappingError
	require.ErrorAs(t, err, &first)
	assert.Same(t, list[0], first)
}

func TestMappingErrorText(t *testing.T) {
	e := &MappingError{File: "samples/m.yaml", Line: 7, Column: 20, Msg: `unknown transform "titel" (did you mean "title"?)`, Hint: "transforms are …"}
	assert.Equal(t, `samples/m.yaml: line 7: unknown transform "titel" (did you mean "title"?)`, e.Error())
	assert.Equal(t, "the mapping is empty", (&MappingError{Msg: "the mapping is empty"}).Error())
	list := MappingErrors{e, {File: "m.yaml", Line: 9, Msg: "x"}}
	assert.Equal(t, e.Error()+"\nm.yaml: line 9: x", list.Error())
}

func TestParseAccepts(t *testing.T) {
	tests := []struct {
		name string
		src  string
		csv  csvfile.CSVOptions
	}{
		{"minimal", minimalMapping, csvfile.CSVOptions{Delimiter: "auto", Encoding: "auto"}},
		{"block style and a BOM", "\ufeffcsv:\n  delimiter: tab\n  encoding: CP1252\nfields:\n  external_reference:\n    template: \"crm-{Id}\"\n    transform:\n      - trim\n      - upper\n",
			csvfile.CSVOptions{Delimiter: "\t", Encoding: "windows-1252"}},
		{"delimiter names", "csv: {delimiter: semicolon, encoding: latin1}\n" + minimalMapping, csvfile.CSVOptions{Delimiter: ";", Encoding: "iso-8859-1"}},
		{"quoted delimiter", "csv: {delimiter: \"|\", encoding: UTF-16}\n" + minimalMapping, csvfile.CSVOptions{Delimiter: "|", Encoding: "utf-16"}},
		{"the reader's names", "csv: {delimiter: pipe, encoding: utf-16le}\n" + minimalMapping, csvfile.CSVOptions{Delimiter: "|", Encoding: "utf-16le"}},
		{"anchors and aliases", "csv: {delimiter: ',', encoding: utf8}\nfields:\n  external_reference: {column: Id}\n  first_name: {column: A, transform: &name [trim, title]}\n  last_name: {column: B, transform: *name}\n",
			csvfile.CSVOptions{Delimiter: ",", Encoding: "utf-8"}},
		{"CRLF line ends", strings.ReplaceAll(minimalMapping, "\n", "\r\n"), csvfile.CSVOptions{Delimiter: "auto", Encoding: "auto"}},
		{"title and footer", "csv: {skip_lines: 2, skip_footer: 1}\n" + minimalMapping,
			csvfile.CSVOptions{Delimiter: "auto", Encoding: "auto", SkipLines: 2, SkipFooter: 1}},
		{"footer pattern", "csv:\n  footer: '^Total records:\\s'\n  skip_lines: 0\n" + minimalMapping,
			csvfile.CSVOptions{Delimiter: "auto", Encoding: "auto", Footer: `^Total records:\s`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, err := Parse("m.yaml", []byte(tt.src))
			require.NoError(t, err)
			assert.Equal(t, tt.csv, m.CSV())
		})
	}
}

func TestLoad(t *testing.T) {
	m, err := Load("../samples/mapping.yaml")
	require.NoError(t, err)
	assert.Equal(t, csvfile.CSVOptions{Delimiter: "auto", Encoding: "auto"}, m.CSV())

	_, err = Load(filepath.Join(t.TempDir(), "missing.yaml"))
	assert.ErrorIs(t, err, os.ErrNotExist)

	path := filepath.Join(t.TempDir(), "bad.yaml")
	require.NoError(t, os.WriteFile(path, []byte(minimalMapping+"  x: {column: A, transform: [titel]}\n"), 0o600))
	_, err = Load(path)
	var list MappingErrors
	require.ErrorAs(t, err, &list)
	assert.Equal(t, path+`: line 3: unknown transform "titel" (did you mean "title"?)`, list.Error())
}

// TestHashStable: files that mean the same have one hash; any change of meaning changes it.
func TestHashStable(t *testing.T) {
	base := `csv:
  delimiter: auto
  encoding: auto
fields:
  external_reference: {template: "crm-{Customer Id}"}
  first_name: {column: First Name, transform: [trim, title]}
  email: {column: E-mail, transform: [trim, lower], validate: email, optional: true}
  dob: {column: DOB, transform: [{date: [DD/MM/YYYY, YYYY-MM-DD]}], optional: true}
  metadata.source: {value: legacy_crm}
  metadata.count: {value: 5}
  metadata.flags: {value: {channels: [sms, email], opt_in: true, note: null}}
  tags: {column: Tags, split: ";", transform: [trim], optional: true}
  gender: {column: Sex, validate: {one_of: [M, F]}, optional: true}
require_one_of: [email, first_name]
`
	same := map[string]string{
		"comments and blank lines": "# a comment\n\n" + strings.ReplaceAll(base, "fields:\n", "fields:   # the fields\n\n"),
		"block style, other key order, quoting": `fields:
  gender:
    optional: true
    validate:
      - one_of: ["F", "M"]
    column: "Sex"
  metadata.count:
    value: 0x5
  metadata.flags:
    value:
      note: ~
      opt_in: true
      channels:
        - "sms"
        - email
  tags: {optional: true, split: ";", transform: trim, column: Tags}
  metadata.source: {value: "legacy_crm"}
  dob: {optional: true, transform: [{date: ["dd/mm/yyyy", "YYYY-M-D"]}], column: DOB}
  email: {optional: true, validate: [email], transform: [trim, lower], column: "E-mail"}
  first_name: {transform: [trim, title], column: " First Name "}
  external_reference:
    template: 'crm-{ Customer Id }'
require_one_of: [first_name, email]
csv: {encoding: AUTO, delimiter: ""}
`,
	}
	different := map[string]string{
		"a column":           strings.Replace(base, "column: DOB", "column: Birth", 1),
		"transform order":    strings.Replace(base, "[trim, lower]", "[lower, trim]", 1),
		"a layout":           strings.Replace(base, "DD/MM/YYYY, YYYY", "MM/DD/YYYY, YYYY", 1),
		"optional":           strings.Replace(base, "validate: email, optional: true", "validate: email", 1),
		"constant type":      strings.Replace(base, "value: 5}", `value: "5"}`, 1),
		"template":           strings.Replace(base, "crm-{", "legacy-{", 1),
		"delimiter":          strings.Replace(base, "delimiter: auto", "delimiter: ';'", 1),
		"one_of values":      strings.Replace(base, "[M, F]", "[M, F, X]", 1),
		"require_one_of":     strings.Replace(base, "require_one_of: [email, first_name]\n", "", 1),
		"a target":           strings.Replace(base, "metadata.source", "metadata.origin", 1),
		"default":            strings.Replace(base, "value: legacy_crm}", "value: legacy_crm}\n  country: {column: C, default: NG}", 1),
		"one_of ignore_case": strings.Replace(base, "{one_of: [M, F]}", "{one_of: {values: [M, F], ignore_case: true}}", 1),
		"list order":         strings.Replace(base, "[sms, email]", "[email, sms]", 1),
		"list item type":     strings.Replace(base, "[sms, email]", "[sms, email, \"5\"]", 1),
		"list as text":       strings.Replace(base, "{value: 5}", `{value: "[5]"}`, 1),
		"list of one":        strings.Replace(base, "{value: 5}", `{value: [5]}`, 1),
		"null as text":       strings.Replace(base, "note: null", `note: "null"`, 1),
		"an object key":      strings.Replace(base, "opt_in: true", "optin: true", 1),
		"split":              strings.Replace(base, `split: ";"`, `split: ","`, 1),
		"no split":           strings.Replace(base, `split: ";", `, "", 1),
		"a range":            strings.Replace(base, "validate: {one_of: [M, F]}", "validate: [{one_of: [M, F]}, {range: {max: today}}]", 1),
		"pad_left":           strings.Replace(base, "{template: \"crm-{Customer Id}\"}", "{template: \"crm-{Customer Id}\", transform: [{pad_left: {width: 9}}]}", 1),
		"strip_leading":      strings.Replace(base, "{template: \"crm-{Customer Id}\"}", "{template: \"crm-{Customer Id}\", transform: [{strip_leading: \"0\"}]}", 1),
		"replace":            strings.Replace(base, "{template: \"crm-{Customer Id}\"}", "{template: \"crm-{Customer Id}\", transform: [{replace: {regex: \"-\", with: \"\"}}]}", 1),
		"skip_lines":         strings.Replace(base, "encoding: auto\n", "encoding: auto\n  skip_lines: 1\n", 1),
		"skip_footer":        strings.Replace(base, "encoding: auto\n", "encoding: auto\n  skip_footer: 1\n", 1),
		"footer":             strings.Replace(base, "encoding: auto\n", "encoding: auto\n  footer: \"^Total\"\n", 1),
	}
	same["framing options at zero"] = strings.Replace(base, "encoding: auto\n", "encoding: auto\n  skip_lines: 0\n  skip_footer: 0\n", 1)
	hash := func(src string) string {
		t.Helper()
		m, err := Parse("m.yaml", []byte(src))
		require.NoError(t, err)
		return m.Hash()
	}
	h := hash(base)
	assert.Len(t, h, 64)
	for name, src := range same {
		assert.Equal(t, h, hash(src), name)
	}
	for name, src := range different {
		assert.NotEqual(t, h, hash(src), name)
	}
	yy := strings.Replace(base, "{date: [DD/MM/YYYY, YYYY-MM-DD]}", "{date: D.M.YY}", 1)
	past := strings.Replace(base, "{date: [DD/MM/YYYY, YYYY-MM-DD]}", "{date: {layout: D.M.YY, pivot: past}}", 1)
	window := strings.Replace(base, "{date: [DD/MM/YYYY, YYYY-MM-DD]}", "{date: {layout: D.M.YY, pivot: 1930}}", 1)
	assert.Equal(t, hash(yy), hash(strings.Replace(yy, "{date: D.M.YY}", "{date: {layout: [D.M.YY]}}", 1)), "the layout alone, as a list or under layout:")
	assert.NotEqual(t, hash(yy), hash(past), "pivot: past")
	assert.NotEqual(t, hash(past), hash(window), "pivot: 1930")
	assert.NotEqual(t, hash(different["skip_lines"]), hash(strings.Replace(base, "encoding: auto\n", "encoding: auto\n  skip_lines: 2\n", 1)), "skip_lines: 2")
	assert.NotEqual(t, hash(different["skip_footer"]), hash(different["footer"]), "skip_footer or footer")

	// A mapping without the framing options has the hash it had before they existed (computed by
	// commit a00a276), so that a job started then resumes with the same mapping file.
	assert.Equal(t, "1a28638e3bd4b4a0d121d38e72a132d9008c2bd5e0587cd3dfc84be51f2eebff",
		hash("csv: {delimiter: \";\", encoding: cp1252}\nfields:\n  external_reference: {template: \"crm-{Customer Id}\"}\n  first_name: {column: First Name, transform: [trim]}\n"))
}

// TestYAMLRoundTrip: the canonical YAML parses back to the same hash and is itself stable.
func TestYAMLRoundTrip(t *testing.T) {
	sources := []string{
		minimalMapping,
		"csv: {delimiter: \"\\t\", encoding: cp1252}\n" + minimalMapping +
			"  a.b: {column: \"Weird: name, [with] {braces} # and hash\", default: \"  spaced \", transform: [trim]}\n" +
			"  a.c: {value: \"true\"}\n  a.d: {value: true}\n  a.e: {value: -12.50}\n  a.f: {value: 0x1F}\n  a.g: {value: \"line\\nbreak \\\" quote\"}\n" +
			"  t: {template: \"{{lit}} {Id}-{ Other }}}\", type: integer}\n" +
			"  v: {column: V, validate: [email, {regex: \"^[A-Z]{2}\\\\d+$\"}, {length: {min: 1}}, {length: {max: 9}}, {one_of: {values: [\"yes\", no, \"1\"], ignore_case: true}}]}\n" +
			"  d: {column: D, transform: [{date: \"D MMM YYYY\"}, collapse_spaces, digits, phone], region: gh, optional: true, type: number}\n" +
			"  p: {column: P, transform: [{date: {layout: [D.M.YY, YYYY-MM-DD], pivot: past}}, {date: {layout: DD/MM/YY, pivot: 1930}}], validate: [{range: {min: 1900-01-01, max: today}}], optional: true}\n" +
			"  n: {column: N, validate: {range: {min: -1.5, max: 100}}, type: number, optional: true}\n" +
			"  r: {column: R, transform: [{strip_leading: \"0 \"}, {pad_left: {width: 7, char: \"0\"}}, {replace: {regex: \"^(\\\\d+)$\", with: \"x-$1\"}}], optional: true}\n" +
			"  \"y\": {column: Y, type: boolean, default: \"no\"}\n" +
			"require_one_of: [d, \"y\"]\n",
		minimalMapping + "  a: {value: [x, \"5\", 5, -1.5e-3, true, null, [], {}, [[1]], \"\\u2028\\x85\"]}\n" +
			"  b: {value: {z: 1, \"a b\": {\"y\": [null]}, \"10\": ten, true: yes, \"\": \"\", \"#\": \"{x}\"}}\n" +
			"  c:\n    value: &v\n      - k: v\n        n: 2\n  d: {value: *v}\n  e: {value: ~}\n" +
			"  f: {column: F, split: \", \", type: integer, default: \"1, 2\"}\n  g: {template: \"{F}|{G}\", split: \"|\", optional: true}\n" +
			"  h: {column: H, split: \"\\t\"}\n  i: {column: I, split: \" \", validate: email}\n",
		"csv: {skip_lines: 3, skip_footer: 2}\n" + minimalMapping,
		"csv:\n  encoding: utf-16\n  skip_lines: 1\n  footer: '^(Total|\"End\") \\d+\\\\ é'\n" + minimalMapping,
	}
	data, err := os.ReadFile("../samples/mapping.yaml")
	require.NoError(t, err)
	sources = append(sources, string(data))
	for _, src := range sources {
		m, err := Parse("m.yaml", []byte(src))
		require.NoError(t, err)
		out := m.canonicalYAML()
		back, err := Parse("canonical.yaml", out)
		require.NoError(t, err, "%s", out)
		assert.Equal(t, m.Hash(), back.Hash(), "%s", out)
		assert.Equal(t, string(out), string(back.canonicalYAML()))
	}
}

func TestMappingErrorsUnwrap(t *testing.T) {
	_, err := Parse("m.yaml", []byte("fields: {}\n"))
	var one *MappingError
	require.True(t, errors.As(err, &one))
	assert.Equal(t, 1, one.Line)
}

// TestTargetDepthLimit: a target of 32 levels is accepted and builds a body 32 levels deep; one more
// level is refused (TestParseErrors).
func TestTargetDepthLimit(t *testing.T) {
	target := strings.Repeat("a.", 31) + "z"
	m, err := Parse("m.yaml", []byte(minimalMapping+"  "+target+": {column: A}\n"))
	require.NoError(t, err)
	mp, err := m.Compile([]string{"Id", "A"})
	require.NoError(t, err)
	p, err := mp.Map([]string{"r1", "deep"})
	require.NoError(t, err)
	want := `{"` + strings.Repeat(`a":{"`, 31) + `z":"deep"` + strings.Repeat("}", 31) + `,"external_reference":"r1"}`
	assert.JSONEq(t, want, string(p.Body))
}
