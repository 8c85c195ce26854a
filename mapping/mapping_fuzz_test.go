package mapping

import (
	"os"
	"strings"
	"testing"
)

// FuzzParseMapping: any bytes give a mapping or problems with a line, never a panic; a mapping that
// parses writes canonical YAML that parses back to the same hash, and compiles and maps rows.
func FuzzParseMapping(f *testing.F) {
	if data, err := os.ReadFile("../samples/mapping.yaml"); err == nil {
		f.Add(data)
	}
	for _, s := range []string{
		minimalMapping,
		"csv: {delimiter: ';', encoding: cp1252}\n" + minimalMapping + "  a.b: {template: \"{{x}}-{Id}\", default: d}\n  c: {value: 1.5}\n",
		minimalMapping + "  d: {column: D, transform: [trim, {date: [DD/MM/YYYY, D MMM YY]}], validate: [{length: {min: 1, max: 9}}], optional: true}\n",
		minimalMapping + "  p: {column: P, transform: [phone], region: NG, optional: true}\n  e: {column: E, validate: email, optional: true}\nrequire_one_of: [p, e]\n",
		minimalMapping + "  v: {column: V, validate: [{regex: \"^a+$\"}, {one_of: {values: [a, aa], ignore_case: true}}], type: string}\n",
		"fields:\n  external_reference: &r {column: Id}\n  x: *r\n",
		"fields:\n  external_reference: {column: Id}\n  x: {column: A, transform: [titel]}\n",
		minimalMapping + "  a: {value: [x, \"5\", 5, -1.5e-3, true, null, [], {}, [[1]]]}\n  b: {value: {z: 1, \"a b\": {y: [~]}, 10: ten}}\n",
		minimalMapping + "  c:\n    value: &v\n      - k: v\n        n: 2\n  d: {value: *v}\n  e: {value: &x [*x]}\n  f: {value: [.inf, .nan]}\n",
		minimalMapping + "  f: {column: F, split: \", \", type: integer, default: \"1, 2\"}\n  g: {template: \"{F}|{G}\", split: \"|\", validate: email, optional: true}\n",
		"a: [\n", "- x\n", "", "fields: !!map {}\n", "<<: {}\n", "fields:\n  a: |\n    text\n",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		m, err := Parse("f.yaml", data)
		if err != nil {
			list, ok := err.(MappingErrors)
			if !ok || len(list) == 0 {
				t.Fatalf("error is %T, not MappingErrors: %v", err, err)
			}
			for _, e := range list {
				if e.Msg == "" || e.File != "f.yaml" {
					t.Fatalf("empty problem: %#v", e)
				}
				if e.Line <= 0 && !strings.Contains(e.Msg, "larger than") && !strings.Contains(e.Msg, "more problems") {
					t.Fatalf("problem without a line: %v", e)
				}
			}
			return
		}
		out := m.canonicalYAML()
		back, err := Parse("canonical.yaml", out)
		if err != nil {
			t.Fatalf("canonical YAML does not parse: %v\n%s", err, out)
		}
		if back.Hash() != m.Hash() {
			t.Fatalf("canonical YAML has another hash:\n%s", out)
		}
		// Compile against a header of every column the mapping names, and map two rows.
		var header []string
		for _, f := range m.fields {
			header = append(header, f.column)
			for _, p := range f.template {
				header = append(header, p.column)
			}
		}
		header = compactColumns(header)
		mp, err := m.Compile(header)
		if err != nil {
			return // two names for one column, such as "a" and "A"
		}
		for _, v := range []string{"", "x"} {
			row := make([]string, len(header))
			for i := range row {
				row[i] = v
			}
			_, _ = mp.Map(row)
		}
	})
}

// compactColumns drops empty names and repeats (compared as the mapping compares them).
func compactColumns(names []string) []string {
	var out []string
	for _, n := range names {
		if n == "" {
			continue
		}
		if _, err := ResolveColumn(out, n); err == nil {
			continue
		}
		out = append(out, n)
	}
	return out
}
