package mapping

import (
	"bytes"
	"fmt"
	"strings"
)

// The canonical YAML writer: a test oracle, not part of the package (the binary never writes a
// mapping but Infer's starter one, which infer.go writes with mapping_yaml.go's helpers).

// canonicalYAML returns the mapping in a canonical form: one line per field, in the order of the original
// file, every rule written out. Parse reads it back to a mapping with the same Hash: the tests' oracle
// that the hash is of the mapping's meaning, not of how the file is written (TestYAMLRoundTrip,
// FuzzParseMapping). Any rule added to the mapping must be written here too, or the round trip loses
// it and its hash changes.
func (m *Mapping) canonicalYAML() []byte {
	var b bytes.Buffer
	b.WriteString("csv:\n")
	fmt.Fprintf(&b, "  delimiter: %s\n", yamlText(m.csv.Delimiter))
	fmt.Fprintf(&b, "  encoding: %s\n", yamlText(m.csv.Encoding))
	if m.csv.SkipLines > 0 {
		fmt.Fprintf(&b, "  skip_lines: %d\n", m.csv.SkipLines)
	}
	if m.csv.SkipFooter > 0 {
		fmt.Fprintf(&b, "  skip_footer: %d\n", m.csv.SkipFooter)
	}
	if m.csv.Footer != "" {
		fmt.Fprintf(&b, "  footer: %s\n", yamlQuoted(m.csv.Footer))
	}
	b.WriteString("fields:\n")
	for _, f := range m.fields {
		fmt.Fprintf(&b, "  %s: %s\n", yamlText(f.target), f.yamlFlow())
	}
	if len(m.requireOneOf) > 0 {
		fmt.Fprintf(&b, "require_one_of: %s\n", yamlList(m.requireOneOf))
	}
	if len(m.allowUnknown) > 0 {
		fmt.Fprintf(&b, "allow_unknown: %s\n", yamlList(m.allowUnknown))
	}
	return b.Bytes()
}

// yamlFlow writes a field's rules as a YAML flow mapping: {column: First Name, transform: [trim, title]}.
func (f *fieldSpec) yamlFlow() string {
	var kv []string
	add := func(k, v string) { kv = append(kv, k+": "+v) }
	switch f.source {
	case fromColumn:
		add("column", yamlText(f.column))
	case fromTemplate:
		add("template", yamlText(templateText(f.template)))
	case fromValue:
		add("value", f.constant.yaml())
	}
	if f.hasDefault {
		add("default", yamlText(f.def))
	}
	if f.optional {
		add("optional", "true")
	}
	if f.typ != typeString {
		add("type", f.typ.String())
	}
	if f.split != "" {
		add("split", yamlText(f.split))
	}
	if f.region != "" {
		add("region", f.region)
	}
	if len(f.transforms) > 0 {
		steps := make([]string, len(f.transforms))
		for i, t := range f.transforms {
			steps[i] = t.yaml()
		}
		add("transform", "["+strings.Join(steps, ", ")+"]")
	}
	if len(f.validators) > 0 {
		vs := make([]string, len(f.validators))
		for i, v := range f.validators {
			vs[i] = v.yaml()
		}
		add("validate", "["+strings.Join(vs, ", ")+"]")
	}
	return "{" + strings.Join(kv, ", ") + "}"
}

func (v *validator) yaml() string {
	switch v.kind {
	case validateRegex:
		return "{regex: " + yamlText(v.pattern) + "}"
	case validateLength:
		var bounds []string
		if v.min >= 0 {
			bounds = append(bounds, fmt.Sprintf("min: %d", v.min))
		}
		if v.max >= 0 {
			bounds = append(bounds, fmt.Sprintf("max: %d", v.max))
		}
		return "{length: {" + strings.Join(bounds, ", ") + "}}"
	case validateRange:
		var bounds []string
		if v.lo != "" {
			bounds = append(bounds, "min: "+v.lo)
		}
		if v.hi != "" {
			bounds = append(bounds, "max: "+v.hi)
		}
		return "{range: {" + strings.Join(bounds, ", ") + "}}"
	case validateOneOf:
		if v.ignoreCase {
			return "{one_of: {values: " + yamlList(v.values) + ", ignore_case: true}}"
		}
		return "{one_of: " + yamlList(v.values) + "}"
	}
	return validatorNames[v.kind]
}

// yaml writes the value as YAML that reads back as the same value: text always quoted (so that "5"
// stays text), lists and objects in flow style.
func (c *constValue) yaml() string {
	switch c.kind {
	case constString:
		return yamlQuoted(c.text)
	case constList:
		items := make([]string, len(c.items))
		for i := range c.items {
			items[i] = c.items[i].yaml()
		}
		return "[" + strings.Join(items, ", ") + "]"
	case constObject:
		kv := make([]string, len(c.items))
		for i := range c.items {
			kv[i] = yamlText(c.keys[i]) + ": " + c.items[i].yaml()
		}
		return "{" + strings.Join(kv, ", ") + "}"
	}
	return c.text
}
