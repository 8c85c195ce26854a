package mapping

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/zentra/zentra-import/csvfile"
)

// testMapper compiles "fields:" lines (after external_reference from column Id) for header.
func testMapper(t testing.TB, fields string, header ...string) *Mapper {
	t.Helper()
	m, err := Parse("m.yaml", []byte("fields:\n  external_reference: {column: Id}\n"+fields))
	require.NoError(t, err)
	mp, err := m.Compile(append([]string{"Id"}, header...))
	require.NoError(t, err)
	return mp
}

func TestMapFields(t *testing.T) {
	tests := []struct {
		name   string
		fields string   // mapping lines
		header []string // after Id
		row    []string // after Id ("r1")
		body   string   // the expected JSON, or "" when the row is rejected
		reason string   // the expected RowError text
	}{
		{"column", "  name: {column: Name}\n", []string{"Name"}, []string{"Ade"},
			`{"external_reference":"r1","name":"Ade"}`, ""},
		{"column matched loosely", "  name: {column: name}\n", []string{" NAME "}, []string{"Ade"},
			`{"external_reference":"r1","name":"Ade"}`, ""},
		{"value kept as written without transforms", "  name: {column: Name}\n", []string{"Name"}, []string{" Ade "},
			`{"external_reference":"r1","name":" Ade "}`, ""},
		{"template", "  ref2: {template: \"crm-{Id}/{Branch}\"}\n", []string{"Branch"}, []string{" IKJ "},
			`{"external_reference":"r1","ref2":"crm-r1/IKJ"}`, ""},
		{"template escapes", "  t: {template: \"{{{Id}}} {{x}}\"}\n", nil, nil,
			`{"external_reference":"r1","t":"{r1} {x}"}`, ""},
		{"template with an empty column", "  t: {template: \"{Id}-{A}-{B}\"}\n", []string{"A", "B"}, []string{"", " "},
			"", "t (column A, B): required but empty"},
		{"template with an empty column and a default", "  t: {template: \"x-{A}\", default: none}\n", []string{"A"}, []string{""},
			`{"external_reference":"r1","t":"none"}`, ""},
		{"constants keep their type", "  a: {value: text}\n  b: {value: \"5\"}\n  c: {value: 5}\n  d: {value: -1.50}\n  e: {value: false}\n", nil, nil,
			`{"a":"text","b":"5","c":5,"d":-1.5,"e":false,"external_reference":"r1"}`, ""},
		{"constant list", "  tags: {value: [vip, 5, \"5\", true, null, 1.50]}\n", nil, nil,
			`{"external_reference":"r1","tags":["vip",5,"5",true,null,1.5]}`, ""},
		{"constant lists empty and nested", "  a: {value: []}\n  b: {value: [[], [x, [y]], {}]}\n", nil, nil,
			`{"a":[],"b":[[],["x",["y"]],{}],"external_reference":"r1"}`, ""},
		{"constant object with sorted keys", "  meta: {value: {z: 1, a: {y: [b], \"x y\": \"\\u2028\"}, 10: ten, \"\": empty}}\n", nil, nil,
			`{"external_reference":"r1","meta":{"":"empty","10":"ten","a":{"x y":"\u2028","y":["b"]},"z":1}}`, ""},
		{"constant object in block style", "  consent:\n    value:\n      email: true\n      channels:\n        - sms\n        - email\n", nil, nil,
			`{"consent":{"channels":["sms","email"],"email":true},"external_reference":"r1"}`, ""},
		{"constant null", "  a: {value: null}\n  b: {value: ~}\n", nil, nil,
			`{"a":null,"b":null,"external_reference":"r1"}`, ""},
		{"constant text that looks like a number or infinity", "  a: {value: \".inf\"}\n  b: {value: 1e5}\n", nil, nil,
			`{"a":".inf","b":"1e5","external_reference":"r1"}`, ""},
		{"constant number with an exponent", "  a: {value: 1.0e5}\n  b: {value: -2.5E-3}\n", nil, nil,
			`{"a":100000.0,"b":-0.0025,"external_reference":"r1"}`, ""},
		{"constant through an alias", "  a: {column: A, transform: &t [trim]}\n  b: {value: {steps: *t}}\n", []string{"A"}, []string{" x "},
			`{"a":"x","b":{"steps":["trim"]},"external_reference":"r1"}`, ""},
		{"split into a list", "  tags: {column: Tags, split: \";\", transform: [trim, lower]}\n", []string{"Tags"}, []string{" VIP; Gold ;;  "},
			`{"external_reference":"r1","tags":["vip","gold"]}`, ""},
		{"split one item", "  tags: {column: Tags, split: \";\"}\n", []string{"Tags"}, []string{"vip"},
			`{"external_reference":"r1","tags":["vip"]}`, ""},
		{"split with a typed item", "  n: {column: N, split: \", \", type: integer}\n", []string{"N"}, []string{"1, 02, -3"},
			`{"external_reference":"r1","n":[1,2,-3]}`, ""},
		{"split item rejected by a validator", "  e: {column: E, split: \",\", transform: [trim], validate: email}\n", []string{"E"}, []string{"a@b.co, x@"},
			"", "e (column E): item 2: not a valid email address"},
		{"split item rejected by a transform", "  p: {column: P, split: \"/\", transform: [phone], region: NG}\n", []string{"P"}, []string{"0803 123 4567/12"},
			"", "p (column P): item 2: not a valid phone number for region NG"},
		{"split with no item is empty", "  tags: {column: Tags, split: \";\"}\n", []string{"Tags"}, []string{" ; ;"},
			"", "tags (column Tags): required but empty"},
		{"split with no item and optional", "  tags: {column: Tags, split: \";\", optional: true}\n", []string{"Tags"}, []string{""},
			`{"external_reference":"r1"}`, ""},
		{"split default", "  tags: {column: Tags, split: \";\", default: \"new; web\"}\n", []string{"Tags"}, []string{""},
			`{"external_reference":"r1","tags":["new"," web"]}`, ""},
		{"split typed default", "  n: {column: N, split: \";\", default: \"1;2\", type: number}\n", []string{"N"}, []string{""},
			`{"external_reference":"r1","n":[1,2]}`, ""},
		{"split template", "  t: {template: \"{A},{B}\", split: \",\"}\n", []string{"A", "B"}, []string{"x", "y"},
			`{"external_reference":"r1","t":["x","y"]}`, ""},
		{"split satisfies require_one_of", "  e: {column: E, split: \",\", optional: true}\n  p: {column: P, optional: true}\nrequire_one_of: [e, p]\n",
			[]string{"E", "P"}, []string{",", ""}, "", "e or p: at least one is required, all are empty (columns E, P)"},
		{"required but empty", "  name: {column: Name}\n", []string{"Name"}, []string{""},
			"", "name (column Name): required but empty"},
		{"only spaces is empty", "  name: {column: Name}\n", []string{"Name"}, []string{" \t "},
			"", "name (column Name): required but empty"},
		{"empty after a transform", "  n: {column: N, transform: [digits]}\n", []string{"N"}, []string{"n/a"},
			"", "n (column N): required but empty"},
		{"optional omitted", "  email: {column: E, optional: true, validate: email}\n", []string{"E"}, []string{""},
			`{"external_reference":"r1"}`, ""},
		{"default used", "  country: {column: C, default: NG}\n", []string{"C"}, []string{" "},
			`{"country":"NG","external_reference":"r1"}`, ""},
		{"default not used", "  country: {column: C, default: NG, transform: [upper]}\n", []string{"C"}, []string{"gh"},
			`{"country":"GH","external_reference":"r1"}`, ""},
		{"typed default", "  n: {column: N, default: 0, type: integer}\n", []string{"N"}, []string{""},
			`{"external_reference":"r1","n":0}`, ""},
		{"transforms in order", "  e: {column: E, transform: [trim, lower]}\n", []string{"E"}, []string{" ADE@X.COM "},
			`{"e":"ade@x.com","external_reference":"r1"}`, ""},
		{"transform failure", "  p: {column: P, transform: [phone], region: NG}\n", []string{"P"}, []string{"12"},
			"", "p (column P): not a valid phone number for region NG"},
		{"one_of with ignore_case sends the listed spelling", "  g: {column: G, validate: {one_of: {values: [M, F, X], ignore_case: true}}}\n",
			[]string{"G"}, []string{"m"}, `{"external_reference":"r1","g":"M"}`, ""},
		{"one_of with ignore_case in a list", "  g: {column: G, split: \",\", transform: [trim], validate: {one_of: {values: [Sms, Email], ignore_case: true}}}\n",
			[]string{"G"}, []string{"SMS, email"}, `{"external_reference":"r1","g":["Sms","Email"]}`, ""},
		{"one_of with ignore_case: the default too", "  g: {column: G, default: f, validate: {one_of: {values: [M, F], ignore_case: true}}}\n",
			[]string{"G"}, []string{""}, `{"external_reference":"r1","g":"F"}`, ""},
		{"one_of with ignore_case: a list default too", "  g: {column: G, split: \",\", default: \"sms,EMAIL\", validate: {one_of: {values: [Sms, Email], ignore_case: true}}}\n",
			[]string{"G"}, []string{""}, `{"external_reference":"r1","g":["Sms","Email"]}`, ""},
		{"one_of without ignore_case sends the value", "  g: {column: G, validate: {one_of: [M, F]}}\n",
			[]string{"G"}, []string{"M"}, `{"external_reference":"r1","g":"M"}`, ""},
		{"validation failure", "  e: {column: E, validate: email}\n", []string{"E"}, []string{"ade@"},
			"", "e (column E): not a valid email address"},
		{"invalid optional value still rejects", "  e: {column: E, validate: email, optional: true}\n", []string{"E"}, []string{"ade@"},
			"", "e (column E): not a valid email address"},
		{"nested paths", "  metadata.legacy_id: {column: Id}\n  address.city: {column: City}\n  metadata.source: {value: crm}\n  address.geo.lat: {value: 6.5}\n",
			[]string{"City"}, []string{"Lagos"},
			`{"address":{"city":"Lagos","geo":{"lat":6.5}},"external_reference":"r1","metadata":{"legacy_id":"r1","source":"crm"}}`, ""},
		{"nested object left out when empty", "  address.city: {column: City, optional: true}\n  address.state: {column: State, optional: true}\n  z: {value: 1}\n",
			[]string{"City", "State"}, []string{"", ""}, `{"external_reference":"r1","z":1}`, ""},
		{"nested object with a gap", "  a.b: {column: B, optional: true}\n  a.c: {column: C, optional: true}\n  a.d: {column: D, optional: true}\n",
			[]string{"B", "C", "D"}, []string{"1", "", "3"}, `{"a":{"b":"1","d":"3"},"external_reference":"r1"}`, ""},
		{"siblings after a deep object", "  a.b.c: {value: 1}\n  a.d: {value: 2}\n  a-b: {value: 3}\n  b.c: {value: 4}\n", nil, nil,
			`{"a":{"b":{"c":1},"d":2},"a-b":3,"b":{"c":4},"external_reference":"r1"}`, ""},
		{"require_one_of satisfied", "  email: {column: E, optional: true}\n  phone: {column: P, optional: true}\nrequire_one_of: [email, phone]\n",
			[]string{"E", "P"}, []string{"", "+2348031234567"}, `{"external_reference":"r1","phone":"+2348031234567"}`, ""},
		{"require_one_of all empty", "  email: {column: E, optional: true}\n  phone: {column: P, optional: true}\nrequire_one_of: [email, phone]\n",
			[]string{"E", "P"}, []string{"", ""}, "", "email or phone: at least one is required, all are empty (columns E, P)"},
		{"require_one_of with an invalid member reports only that", "  email: {column: E, optional: true, validate: email}\n  phone: {column: P, optional: true}\nrequire_one_of: [email, phone]\n",
			[]string{"E", "P"}, []string{"x", ""}, "", "email (column E): not a valid email address"},
		{"every problem of the row, in the mapping's order", "  z: {column: Z}\n  a: {column: A, validate: email}\n  m: {column: M, type: integer}\n",
			[]string{"Z", "A", "M"}, []string{"", "x", "1.5"}, "", "z (column Z): required but empty; a (column A): not a valid email address; m (column M): not an integer"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			mp := testMapper(t, tt.fields, tt.header...)
			p, err := mp.Map(append([]string{"r1"}, tt.row...))
			if tt.body == "" {
				var re *RowError
				require.ErrorAs(t, err, &re)
				assert.Equal(t, tt.reason, err.Error())
				assert.Nil(t, p.Body)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, "r1", p.Ref)
			assert.Equal(t, tt.body, string(p.Body))
			assert.True(t, json.Valid(p.Body))
		})
	}
}

func TestMapTypes(t *testing.T) {
	tests := []struct {
		typ, in, want, reason string
	}{
		{"integer", "42", "42", ""},
		{"integer", " -42 ", "-42", ""},
		{"integer", "+42", "42", ""},
		{"integer", "007", "7", ""},
		{"integer", "9223372036854775807", "9223372036854775807", ""},
		{"integer", "9223372036854775808", "", "out of range (an integer is from -9223372036854775808 to 9223372036854775807: use type: number, or string for an identifier)"},
		{"integer", "-9223372036854775809", "", "out of range (an integer is from -9223372036854775808 to 9223372036854775807: use type: number, or string for an identifier)"},
		{"integer", " +00099999999999999999999 ", "", "out of range (an integer is from -9223372036854775808 to 9223372036854775807: use type: number, or string for an identifier)"},
		{"integer", "-9223372036854775808", "-9223372036854775808", ""},
		{"integer", "99999999999999999999x", "", "not an integer"},
		{"integer", "4.2", "", "not an integer"},
		{"integer", "1_000", "", "not an integer"},
		{"integer", "1,000", "", "not an integer"},
		{"number", "12.50", "12.50", ""},
		{"number", "-0.5", "-0.5", ""},
		{"number", ".5", "0.5", ""},
		{"number", "5.", "5", ""},
		{"number", "+1e3", "1e3", ""},
		{"number", "-0012.5E-2", "-12.5E-2", ""},
		{"number", "123456789012345678901234567890.123456789", "123456789012345678901234567890.123456789", ""},
		{"number", "1,5", "", "not a number (write digits with a dot for decimals: 1234.50)"},
		{"number", "NaN", "", "not a number (write digits with a dot for decimals: 1234.50)"},
		{"number", "1e", "", "not a number (write digits with a dot for decimals: 1234.50)"},
		{"number", ".", "", "not a number (write digits with a dot for decimals: 1234.50)"},
		{"number", "0x10", "", "not a number (write digits with a dot for decimals: 1234.50)"},
		{"boolean", "Yes", "true", ""},
		{"boolean", "N", "false", ""},
		{"boolean", "1", "true", ""},
		{"boolean", "off", "false", ""},
		{"boolean", "TRUE", "true", ""},
		{"boolean", "maybe", "", "not a boolean (true or false, yes or no, 1 or 0)"},
		{"string", "42", `"42"`, ""},
	}
	for _, tt := range tests {
		t.Run(tt.typ+" "+tt.in, func(t *testing.T) {
			mp := testMapper(t, "  v: {column: V, type: "+tt.typ+"}\n", "V")
			p, err := mp.Map([]string{"r1", tt.in})
			if tt.reason != "" {
				assert.EqualError(t, err, "v (column V): "+tt.reason)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, `{"external_reference":"r1","v":`+tt.want+`}`, string(p.Body))
			assert.True(t, json.Valid(p.Body))
		})
	}
}

func TestMapEscapesJSON(t *testing.T) {
	mp := testMapper(t, "  v: {column: V}\n", "V")
	for _, in := range []string{`quote " and \ backslash`, "tab\tnewline\n\rbell\a\x00", "<script>&amp;", "line\u2028para\u2029",
		"é中文🙂", "\x7f"} {
		// Map refuses the controls of "bell\a\x00" (TestMapRejectsControls); the JSON writer escapes them anyway.
		body := appendJSONString(nil, in)
		if p, err := mp.Map([]string{"r1", in}); !strings.ContainsAny(in, "\a\x00") {
			require.NoError(t, err)
			require.Equal(t, `{"external_reference":"r1","v":`+string(body)+`}`, string(p.Body))
		}
		require.True(t, json.Valid(body), "%q", body)
		var got, want string
		require.NoError(t, json.Unmarshal(body, &got))
		std, err := json.Marshal(in) // encoding/json's reading of the same text
		require.NoError(t, err)
		require.NoError(t, json.Unmarshal(std, &want))
		assert.Equal(t, want, got)
		assert.NotContains(t, string(body), "\u2028")
	}
}

// TestMapRejectsControls: control characters are the field's problem, named by code point, never sent.
func TestMapRejectsControls(t *testing.T) {
	const notText = ", which is not text: remove it from the value in the file"
	const c1 = ", a C1 control, not text (was the file converted from Windows-1252 as if it were ISO-8859-1?): fix the value in the file"
	const notInRef = ", which an external_reference may not hold: fix the value in the file"
	tests := []struct {
		name   string
		csv    string // the mapping's csv: section, if any
		ref    string // the mapping's external_reference source
		id, v  string
		reason string // "" when the row is sent
	}{
		{name: "tab, CR and LF are text", id: "r1", v: "a\tb\r\nc"},
		{name: "DEL is left to the API", id: "r1", v: "a\x7fb"},
		{name: "NUL", id: "r1", v: "Ada\x00\x00", reason: "v (column V): has a NUL character (U+0000)" + notText},
		{name: "escape", id: "r1", v: "\x1b[31mAda", reason: "v (column V): has the control character U+001B" + notText},
		{name: "Ctrl-Z", id: "r1", v: "Ada\x1a", reason: "v (column V): has the control character U+001A" + notText},
		{name: "C1 in UTF-8", id: "r1", v: "caf\u0092s", reason: "v (column V): has the control character U+0092" + c1},
		{name: "C1 first and last", id: "r1", v: "\u0080x\u009f", reason: "v (column V): has the control character U+0080" + c1},
		{name: "not C1: no-break space", id: "r1", v: "a\u00a0b"},
		{name: "C1 read as ISO-8859-1", csv: "csv: {encoding: latin1}\n", id: "r1", v: "it\u0092s",
			reason: "v (column V): has the control character U+0092: the file looks like Windows-1252 read as ISO-8859-1: set csv.encoding: windows-1252"},
		{name: "reference with a tab inside", id: "r\t1", v: "x", reason: "external_reference (column Id): has a tab" + notInRef},
		{name: "reference with a line break inside", id: "r\n1", v: "x", reason: "external_reference (column Id): has a line break" + notInRef},
		{name: "reference with DEL", id: "r1\x7f2", v: "x", reason: "external_reference (column Id): has the control character U+007F" + notInRef},
		{name: "reference from a template", ref: `{template: "crm-{Id}"}`, id: "1\x002", v: "x",
			reason: "external_reference (column Id): has a NUL character (U+0000)" + notInRef},
		{name: "reference with C1 read as ISO-8859-1", csv: "csv: {encoding: iso-8859-1}\n", id: "1\u00852", v: "x",
			reason: "external_reference (column Id): has the control character U+0085: the file looks like Windows-1252 read as ISO-8859-1: set csv.encoding: windows-1252"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ref := tt.ref
			if ref == "" {
				ref = "{column: Id}"
			}
			m, err := Parse("m.yaml", []byte(tt.csv+"fields:\n  external_reference: "+ref+"\n  v: {column: V}\n"))
			require.NoError(t, err)
			mp, err := m.Compile([]string{"Id", "V"})
			require.NoError(t, err)
			p, err := mp.Map([]string{tt.id, tt.v})
			if tt.reason == "" {
				require.NoError(t, err)
				assert.True(t, json.Valid(p.Body))
				return
			}
			assert.EqualError(t, err, tt.reason)
			assert.Nil(t, p.Body)
		})
	}
}

func TestMapRejectsInvalidUTF8(t *testing.T) {
	mp := testMapper(t, "  v: {column: V}\n", "V")
	_, err := mp.Map([]string{"r1", "Ad\xe9l\xe9"})
	assert.EqualError(t, err, "v (column V): not valid text in UTF-8 (check the file's encoding, csv: encoding in the mapping)")
	// The JSON writer is safe anyway: invalid bytes become U+FFFD, one each, as encoding/json writes them.
	assert.Equal(t, `"a\ufffd\ufffdb"`, string(appendJSONString(nil, "a\xff\xfeb")))
}

func TestMapRowShape(t *testing.T) {
	mp := testMapper(t, "  v: {column: V}\n", "V")
	_, err := mp.Map([]string{"r1"})
	assert.EqualError(t, err, "the row has 1 values for the header's 2 columns")
	var re *RowError
	assert.ErrorAs(t, err, &re)
}

func TestMapRefOnError(t *testing.T) {
	mp := testMapper(t, "  v: {column: V}\n", "V")
	p, err := mp.Map([]string{"r1", ""})
	require.Error(t, err)
	assert.Equal(t, "r1", p.Ref, "a rejected row is still named by its reference")
	p, err = mp.Map([]string{" ", "x"})
	require.Error(t, err)
	assert.Empty(t, p.Ref)
}

// TestMapRefTrimmed: external_reference is sent, and compared for duplicates, without surrounding
// white space, whatever its source; other fields keep theirs.
func TestMapRefTrimmed(t *testing.T) {
	tests := []struct {
		name, ref, id, want string
	}{
		{"column", "{column: Id}", " 7 ", "7"},
		{"column with tabs and line breaks", "{column: Id}", "\t7\r\n", "7"},
		{"column with a no-break space", "{column: Id}", "\u00a07", "7"},
		{"column with a transform", "{column: Id, transform: [upper]}", " c7 ", "C7"},
		{"template", `{template: "crm-{Id}"}`, " 7 ", "crm-7"},
		{"template with spaces of its own", `{template: " crm-{Id} "}`, "7", "crm-7"},
		{"inner spaces are kept", "{column: Id}", " a b ", "a b"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, err := Parse("m.yaml", []byte("fields:\n  external_reference: "+tt.ref+"\n  v: {column: V}\n"))
			require.NoError(t, err)
			mp, err := m.Compile([]string{"Id", "V"})
			require.NoError(t, err)
			p, err := mp.Map([]string{tt.id, " x "})
			require.NoError(t, err)
			assert.Equal(t, tt.want, p.Ref)
			var body struct {
				Ref string `json:"external_reference"`
				V   string `json:"v"`
			}
			require.NoError(t, json.Unmarshal(p.Body, &body))
			assert.Equal(t, tt.want, body.Ref)
			assert.Equal(t, " x ", body.V, "other fields keep their spaces")
		})
	}
	// Rows "1" and " 1 " are duplicates.
	mp := testMapper(t, "  v: {column: V}\n", "V")
	seen := NewSeen()
	for row, id := range []string{"1", " 1 "} {
		p, err := mp.Map([]string{id, "x"})
		require.NoError(t, err)
		first, dup := seen.check(p.Ref, row+1)
		assert.Equal(t, row == 1, dup, "row %d", row+1)
		assert.Equal(t, 1, first)
	}
}

func TestMapRefLength(t *testing.T) {
	mp := testMapper(t, "  v: {column: V}\n", "V")
	longest := strings.Repeat("é", MaxRefLen/2)
	p, err := mp.Map([]string{longest, "x"})
	require.NoError(t, err)
	assert.Equal(t, longest, p.Ref)
	p, err = mp.Map([]string{longest + "x", ""})
	assert.EqualError(t, err, fmt.Sprintf("v (column V): required but empty; external_reference (column Id): 257 bytes long, over the %d an external_reference may have: check which column the mapping uses", MaxRefLen))
	assert.Empty(t, p.Ref, "too long to name the row in logs")
}

// TestMapProblemsHaveNoValues: a row's error names fields and columns, never what the row holds.
func TestMapProblemsHaveNoValues(t *testing.T) {
	m, err := Load("../samples/mapping.yaml")
	require.NoError(t, err)
	mp, err := m.Compile(sampleHeader)
	require.NoError(t, err)
	row := []string{"SECRET1", "x", "", "secret2@nowhere", "0803SECRET3", "31/02/SECRET4", "", "", "", ""}
	_, err = mp.Map(row)
	require.Error(t, err)
	for _, v := range row {
		if len(v) > 3 {
			assert.NotContains(t, err.Error(), v)
		}
	}
	assert.NotContains(t, err.Error(), "SECRET")
}

func TestMapConcurrent(t *testing.T) {
	mp := testMapper(t, "  a.b: {column: A, transform: [trim, title]}\n  a.c: {column: B, optional: true}\n", "A", "B")
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			for i := range 500 {
				id, b := fmt.Sprintf("r%d-%d", g, i), ""
				if i%2 == 0 {
					b = "x"
				}
				p, err := mp.Map([]string{id, " ade ", b})
				if !assert.NoError(t, err) {
					return
				}
				want := `{"a":{"b":"Ade"},"external_reference":"` + id + `"}`
				if b != "" {
					want = `{"a":{"b":"Ade","c":"x"},"external_reference":"` + id + `"}`
				}
				assert.Equal(t, want, string(p.Body))
			}
		})
	}
	wg.Wait()
}

func TestCompileErrors(t *testing.T) {
	src := `fields:
  external_reference: {template: "crm-{Customer ID}-{Brnch}"}
  first_name: {column: First Name}
  last_name: {column: Last Name}
  email: {column: Emial}
  phone: {column: Mobile}
`
	m, err := Parse("m.yaml", []byte(src))
	require.NoError(t, err)
	_, err = m.Compile([]string{"Customer Id", "Branch", "First Name", "Surname", "E-mail", "Mobile", "mobile"})
	requireProblems(t, err, []wantProblem{
		{line: 2, msg: `unknown column "Brnch" (did you mean "Branch"?)`, hint: `the header's columns are: "Customer Id", "Branch", "First Name"`},
		{line: 4, msg: `unknown column "Last Name" (did you mean "Surname"?)`},
		{line: 5, msg: `unknown column "Emial" (did you mean "E-mail"?)`},
	})
	var list MappingErrors
	require.ErrorAs(t, err, &list)
	assert.Equal(t, 34, list[0].Column, "the column of the template in the mapping file")

	_, err = m.Compile([]string{"Customer ID", "Brnch", "First Name", "Last Name", "Emial", "mobile", "MOBILE"})
	requireProblems(t, err, []wantProblem{
		{line: 6, msg: `column "Mobile" is ambiguous: the header has "mobile" and "MOBILE"`, hint: "rename one of the columns"},
	})
}

// TestMapFlagsLossyNames: a "?" or U+FFFD in a name field is what an export leaves where its encoding
// could not hold a character; the row is sent, and Payload.Lossy names the fields for validate's warning.
func TestMapFlagsLossyNames(t *testing.T) {
	m, err := Parse("m.yaml", []byte("fields:\n  external_reference: {column: Id}\n  first_name: {column: A}\n  last_name: {column: B}\n"+
		"  metadata.maiden_name: {column: C, optional: true}\n  metadata.note: {column: D, optional: true}\n"))
	require.NoError(t, err)
	mp, err := m.Compile([]string{"Id", "A", "B", "C", "D"})
	require.NoError(t, err)
	for _, tt := range []struct {
		row  []string
		want []string
	}{
		{[]string{"1", "Ada", "Obi", "", "why?"}, nil},
		{[]string{"2", "Chinwe?", "?ukasiewicz", "", ""}, []string{"first_name", "last_name"}},
		{[]string{"3", "Ada", "Obi", "Nw\uFFFDke", ""}, []string{"metadata.maiden_name"}},
	} {
		p, err := mp.Map(tt.row)
		require.NoError(t, err)
		assert.Equal(t, tt.want, p.Lossy, tt.row[0])
	}
}

// TestRejectsWriterWithMapper: a last column "error" that the mapping reads, alone or in a template, is
// the user's data: the error column is added after it. One the mapping does not read is replaced.
func TestRejectsWriterWithMapper(t *testing.T) {
	header := []string{"Id", "Name", "error"}
	tests := []struct {
		name, fields, want string
	}{
		{"column", "  legacy_error: {column: Error}\n", "Id,Name,error,error_2\n1,Ada,E42,new\n"},
		{"template", "  note: {template: \"{Name}: {error}\"}\n", "Id,Name,error,error_2\n1,Ada,E42,new\n"},
		{"not read", "  name: {column: Name}\n", "Id,Name,error\n1,Ada,new\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, err := Parse("m.yaml", []byte(minimalMapping+tt.fields))
			require.NoError(t, err)
			mp, err := m.Compile(header)
			require.NoError(t, err)
			var buf bytes.Buffer
			w, err := csvfile.NewRejectsWriter(&buf, csvfile.Dialect{Delimiter: ',', Encoding: "utf-8"}, header, csvfile.WithData(mp.ReadsColumn))
			require.NoError(t, err)
			require.NoError(t, w.Write(&csvfile.Record{Raw: []string{"1", "Ada", "E42"}}, "new"))
			require.NoError(t, w.Flush())
			assert.Equal(t, tt.want, buf.String())
		})
	}
}
