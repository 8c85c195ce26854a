package mapping

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
)

// Hash returns the hex SHA-256 of the mapping's meaning: the same for files that differ only in comments,
// key order, quoting, white space or spelling of names (cp1252 or windows-1252, dd/mm/yyyy or DD/MM/YYYY),
// and different when any rule changes. A job records it so that a resume with a different mapping is refused.
func (m *Mapping) Hash() string {
	form := mappingHashForm{
		Version:      1,
		Delimiter:    m.csv.Delimiter,
		Encoding:     m.csv.Encoding,
		SkipLines:    m.csv.SkipLines,
		SkipFooter:   m.csv.SkipFooter,
		Footer:       m.csv.Footer,
		RequireOneOf: slices.Sorted(slices.Values(m.requireOneOf)),
	}
	for _, f := range m.fields {
		form.Fields = append(form.Fields, f.hashForm())
	}
	slices.SortFunc(form.Fields, func(a, b mappingHashField) int { return strings.Compare(a.Target, b.Target) })
	data, err := json.Marshal(form)
	if err != nil {
		panic("mapping: hash form does not marshal: " + err.Error()) // strings and ints only: cannot happen
	}
	sum := sha256.Sum256(data)
	return hex.EncodeToString(sum[:])
}

// mappingHashForm is the normalised mapping that Hash digests. Changing it changes every job's binding:
// bump Version when its meaning changes.
type mappingHashForm struct {
	Version   int    `json:"v"`
	Delimiter string `json:"delimiter"`
	Encoding  string `json:"encoding"`
	// The framing decides which records are rows: part of the meaning. Left out when zero, so that the
	// hash of a mapping without them is what it was before they existed.
	SkipLines    int                `json:"skip_lines,omitempty"`
	SkipFooter   int                `json:"skip_footer,omitempty"`
	Footer       string             `json:"footer,omitempty"`
	Fields       []mappingHashField `json:"fields"`
	RequireOneOf []string           `json:"require_one_of"`
}

type mappingHashField struct {
	Target     string            `json:"target"`
	Column     string            `json:"column,omitempty"`
	Template   string            `json:"template,omitempty"`
	ValueKind  string            `json:"value_kind,omitempty"`
	Value      string            `json:"value,omitempty"`
	Default    *string           `json:"default,omitempty"`
	Optional   bool              `json:"optional,omitempty"`
	Type       string            `json:"type"`
	Split      string            `json:"split,omitempty"`
	Region     string            `json:"region,omitempty"`
	Transforms []mappingHashStep `json:"transforms,omitempty"`
	Validators []mappingHashStep `json:"validators,omitempty"`
}

type mappingHashStep struct {
	Name       string   `json:"name"`
	Args       []string `json:"args,omitempty"`
	Min        int      `json:"min,omitempty"`
	Max        int      `json:"max,omitempty"`
	IgnoreCase bool     `json:"ignore_case,omitempty"`
	Pivot      string   `json:"pivot,omitempty"`
}

func (f *fieldSpec) hashForm() mappingHashField {
	h := mappingHashField{Target: f.target, Optional: f.optional, Type: f.typ.String(), Split: f.split, Region: f.region}
	switch f.source {
	case fromColumn:
		h.Column = f.column
	case fromTemplate:
		h.Template = templateText(f.template)
	case fromValue:
		h.ValueKind = constKindNames[f.constant.kind]
		h.Value = f.constant.text
	}
	if f.hasDefault {
		h.Default = &f.def
	}
	for _, t := range f.transforms {
		step := mappingHashStep{Name: transformNames[t.kind]}
		for _, l := range t.layouts {
			step.Args = append(step.Args, l.canon)
		}
		step.Pivot = t.pivot.String()
		switch t.kind {
		case transformPadLeft:
			step.Args = []string{strconv.Itoa(t.width), t.chars}
		case transformStripLeading:
			step.Args = []string{t.chars}
		case transformReplace:
			step.Args = []string{t.pattern, t.with}
		}
		h.Transforms = append(h.Transforms, step)
	}
	for _, v := range f.validators {
		// Absent bounds are -1; shift by one so that they are left out of the form.
		step := mappingHashStep{Name: validatorNames[v.kind], Min: v.min + 1, Max: v.max + 1, IgnoreCase: v.ignoreCase}
		switch v.kind {
		case validateRegex:
			step.Args = []string{v.pattern}
		case validateOneOf:
			step.Args = v.canonicalValues()
		case validateRange:
			step.Args = []string{v.lo, v.hi}
		}
		h.Validators = append(h.Validators, step)
	}
	return h
}

// templateText writes a parsed template back in the template syntax.
func templateText(parts []templatePart) string {
	var b strings.Builder
	for _, p := range parts {
		if p.column != "" {
			b.WriteString("{" + p.column + "}")
			continue
		}
		b.WriteString(strings.NewReplacer("{", "{{", "}", "}}").Replace(p.literal))
	}
	return b.String()
}

func (t *transformStep) yaml() string {
	switch t.kind {
	case transformPadLeft:
		return fmt.Sprintf("{pad_left: {width: %d, char: %s}}", t.width, yamlQuoted(t.chars))
	case transformStripLeading:
		return "{strip_leading: " + yamlQuoted(t.chars) + "}"
	case transformReplace:
		return "{replace: {regex: " + yamlQuoted(t.pattern) + ", with: " + yamlQuoted(t.with) + "}}"
	case transformDate:
	default:
		return transformNames[t.kind]
	}
	layouts := make([]string, len(t.layouts))
	for i, l := range t.layouts {
		layouts[i] = l.text
	}
	arg := yamlList(layouts)
	if len(layouts) == 1 {
		arg = yamlText(layouts[0])
	}
	if pv := t.pivot.String(); pv != "" {
		return "{date: {layout: " + arg + ", pivot: " + pv + "}}"
	}
	return "{date: " + arg + "}"
}

func yamlList(items []string) string {
	q := make([]string, len(items))
	for i, s := range items {
		q[i] = yamlText(s)
	}
	return "[" + strings.Join(q, ", ") + "]"
}

// yamlPlain matches text that YAML reads back as the same string without quotes, in block and flow context.
var yamlPlain = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_ ./-]*$`)

// yamlText writes s as a YAML scalar that reads back as the text s: plain when that is safe, else quoted.
func yamlText(s string) string {
	if yamlPlain.MatchString(s) && !strings.HasSuffix(s, " ") && !strings.Contains(s, "  ") {
		switch strings.ToLower(s) {
		case "true", "false", "yes", "no", "on", "off", "y", "n", "null", "nan", "inf":
		default:
			return s
		}
	}
	return yamlQuoted(s)
}

// yamlQuoted writes s as a double-quoted YAML scalar. Go's escapes (\n, \t, \xXX, \uXXXX, \UXXXXXXXX) are
// YAML's too, and strconv.Quote escapes every control and format character a reader would not see.
func yamlQuoted(s string) string { return strconv.Quote(s) }
