package mapping

import (
	"math"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/goccy/go-yaml/ast"
)

// The rules of a field: its template, its transforms and its validators, each with its argument checked
// as the mapping file is read.

// The keys of the transforms' and validators' arguments.
var (
	lengthKeys  = []string{"min", "max"}
	oneOfKeys   = []string{"values", "ignore_case"}
	dateKeys    = []string{"layout", "pivot"}
	padLeftKeys = []string{"width", "char"}
	replaceKeys = []string{"regex", "with"}
)

// needArg reports a transform or validator written without the argument it needs (need says what).
func (p *mappingParser) needArg(item, arg ast.Node, hint, need string) bool {
	if arg == nil {
		p.errAt(item, hint, "%s", need)
		return false
	}
	return true
}

// argKeys reads the argument of a transform or validator that is a mapping of keys ({width: 7, char:
// "0"}), what naming it in messages. It reports an argument that is not a mapping, then calls each with
// every entry in order, stopping at the first problem: a key that is not plain text, a key not among keys
// (named with the closest known, before each sees it; with keys nil, each reports it: see unknownKey), or
// each's false.
func (p *mappingParser) argKeys(arg ast.Node, what, hint string, keys []string, each func(key string, e *ast.MappingValueNode) bool) bool {
	entries, ok := p.mapEntries(arg, what, hint)
	if !ok {
		return false
	}
	for _, e := range entries {
		key, ok := p.keyText(e)
		if !ok {
			return false
		}
		if keys != nil && !slices.Contains(keys, key) {
			p.unknownKey(e, hint, what, key, keys)
			return false
		}
		if !each(key, e) {
			return false
		}
	}
	return true
}

// unknownKey reports a key of what's argument that is none of keys, with the closest of them.
func (p *mappingParser) unknownKey(e *ast.MappingValueNode, hint, what, key string, keys []string) {
	p.errAt(e, hint, "unknown key %q in %s%s", key, what, didYouMean(key, keys))
}

// parseTemplate splits "crm-{Customer Id}" into literal and column parts. It returns a message when
// the template is malformed.
func parseTemplate(s string) ([]templatePart, string) {
	var parts []templatePart
	var lit strings.Builder
	columns := 0
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c == '{' && i+1 < len(s) && s[i+1] == '{':
			lit.WriteByte('{')
			i++
		case c == '}' && i+1 < len(s) && s[i+1] == '}':
			lit.WriteByte('}')
			i++
		case c == '}':
			return nil, "a } without its {"
		case c == '{':
			end := strings.IndexAny(s[i+1:], "{}")
			if end < 0 || s[i+1+end] == '{' {
				return nil, "a { without its }"
			}
			name := strings.TrimSpace(s[i+1 : i+1+end])
			if name == "" {
				return nil, "empty {} (write a column's name in it)"
			}
			if lit.Len() > 0 {
				parts = append(parts, templatePart{literal: lit.String()})
				lit.Reset()
			}
			parts = append(parts, templatePart{column: name})
			columns++
			i += 1 + end
		default:
			lit.WriteByte(c)
		}
	}
	if lit.Len() > 0 {
		parts = append(parts, templatePart{literal: lit.String()})
	}
	if columns == 0 {
		return nil, "no {column} in it; for a constant, use value:"
	}
	return parts, ""
}

func (p *mappingParser) parseTransforms(n ast.Node) []transformStep {
	var steps []transformStep
	for _, item := range p.list(n) {
		k, arg, ok := p.namedItem(item, "transform", transformNames[:], `write for example transform: [trim, title] or [trim, {date: "DD/MM/YYYY"}]`)
		if !ok {
			continue
		}
		kind := transformKind(k)
		step := transformStep{kind: kind}
		switch {
		case kind == transformDate && arg == nil:
			p.errAt(item, `write for example {date: "DD/MM/YYYY"} or {date: ["DD/MM/YYYY", "YYYY-MM-DD"]}`, "the date transform needs its input layout")
			continue
		case kind == transformDate:
			if !p.dateArg(item, arg, &step) {
				continue
			}
		case kind == transformPadLeft:
			if !p.padLeftArg(item, arg, &step) {
				continue
			}
		case kind == transformStripLeading:
			const hint = `write for example {strip_leading: "0"}: the characters to remove from the start`
			if !p.needArg(item, arg, hint, "the strip_leading transform needs the characters to strip") {
				continue
			}
			chars, ok := p.text(arg, "strip_leading", hint)
			if !ok {
				continue
			}
			if chars == "" {
				p.errAt(arg, hint, "strip_leading has no characters to strip")
				continue
			}
			step.chars = chars
		case kind == transformReplace:
			if !p.replaceArg(item, arg, &step) {
				continue
			}
		case arg != nil && kind == transformPhone:
			p.errAt(item, "write transform: [phone] and region: NG on the field", "the phone transform takes no argument; its region is the field's region:")
			continue
		case arg != nil:
			p.errAt(item, "write it as a plain name: "+transformNames[kind], "the %s transform takes no argument", transformNames[kind])
			continue
		}
		steps = append(steps, step)
	}
	return steps
}

// padLeftArg reads {pad_left: {width: N, char: C}} into step; char is "0" when left out.
func (p *mappingParser) padLeftArg(item, arg ast.Node, step *transformStep) bool {
	const hint = `write for example {pad_left: {width: 7, char: "0"}}: 1085 becomes 0001085`
	const need = "the pad_left transform needs its width:"
	if !p.needArg(item, arg, hint, need) {
		return false
	}
	step.chars = "0"
	ok := p.argKeys(arg, "pad_left", hint, padLeftKeys, func(key string, e *ast.MappingValueNode) bool {
		if key == "width" {
			n, ok := p.count(e.Value)
			if !ok || n < 1 || n > 256 {
				p.errAt(e.Value, hint, "pad_left width must be a whole number from 1 to 256")
				return false
			}
			step.width = n
			return true
		}
		c, ok := p.text(e.Value, "pad_left char", hint)
		if !ok {
			return false
		}
		if utf8.RuneCountInString(c) != 1 {
			p.errAt(e.Value, hint, "pad_left char must be one character, not %d", utf8.RuneCountInString(c))
			return false
		}
		step.chars = c
		return true
	})
	if ok && step.width == 0 {
		p.errAt(item, hint, "%s", need)
		return false
	}
	return ok
}

// replaceArg reads {replace: {regex: PATTERN, with: TEXT}} into step.
func (p *mappingParser) replaceArg(item, arg ast.Node, step *transformStep) bool {
	const hint = `write for example {replace: {regex: "^CRM-", with: ""}} (RE2 syntax; $1 in with: is the first group)`
	if !p.needArg(item, arg, hint, "the replace transform needs regex: and with:") {
		return false
	}
	var haveWith bool
	ok := p.argKeys(arg, "replace", hint, replaceKeys, func(key string, e *ast.MappingValueNode) bool {
		if key == "regex" {
			s, ok := p.text(e.Value, "replace regex", hint)
			if !ok {
				return false
			}
			re, err := regexp.Compile(s)
			if err != nil {
				p.errAt(e.Value, "the syntax is RE2: https://golang.org/s/re2syntax", "invalid regex: %s", regexMessage(err))
				return false
			}
			step.pattern, step.re = s, re
			return true
		}
		haveWith = true
		if _, null := p.deref(e.Value).(*ast.NullNode); null {
			return true // with: nothing, the empty text
		}
		s, ok := p.text(e.Value, "replace with", hint)
		step.with = s
		return ok
	})
	switch {
	case !ok:
		return false
	case step.re == nil:
		p.errAt(item, hint, "the replace transform needs regex:")
		return false
	case !haveWith:
		p.errAt(item, `write with: "" to remove what the regex matches`, "the replace transform needs with:")
		return false
	}
	return true
}

// dateArg reads the date transform's argument into step: its layouts ("DD/MM/YYYY" or a list of them), or
// {layout: LAYOUTS, pivot: past|YYYY}.
func (p *mappingParser) dateArg(item, arg ast.Node, step *transformStep) bool {
	const hint = `write for example {date: "DD/MM/YYYY"}, {date: ["DD/MM/YYYY", "YYYY-MM-DD"]} or {date: {layout: "D.M.YY", pivot: past}}`
	layouts := arg
	var pivot ast.Node
	if _, isMap := p.deref(arg).(*ast.MappingNode); isMap {
		layouts = nil
		ok := p.argKeys(arg, "date", hint, dateKeys, func(key string, e *ast.MappingValueNode) bool {
			if key == "layout" {
				layouts = e.Value
			} else {
				pivot = e.Value
			}
			return true
		})
		if !ok {
			return false
		}
		if layouts == nil {
			p.errAt(item, hint, "the date transform has no layout:")
			return false
		}
	}
	ok := true
	for _, ln := range p.list(layouts) {
		s, textOK := p.text(ln, "date layout", `write for example "DD/MM/YYYY"`)
		if !textOK {
			ok = false
			continue
		}
		layout, msg := parseDateLayout(s)
		if msg != "" {
			p.errAt(ln, "a layout uses DD, MM, MMM, YY and YYYY with separators, e.g. DD/MM/YYYY or D MMM YYYY", "date layout %q: %s", s, msg)
			ok = false
			continue
		}
		step.layouts = append(step.layouts, layout)
	}
	if pivot == nil || !ok {
		return ok
	}
	const pivotHint = "pivot: past reads two-digit years so that no date is in the future (45 → 1945 in 2026); pivot: 1930 reads 30–99 as 1930–1999 and 00–29 as 2000–2029"
	text, textOK := p.text(pivot, "pivot", pivotHint)
	if !textOK {
		return false
	}
	switch year, err := strconv.Atoi(strings.TrimSpace(text)); {
	case strings.EqualFold(strings.TrimSpace(text), "past"):
		step.pivot.past = true
	case err == nil && year >= 1000 && year <= 9899:
		step.pivot.start = year
	default:
		p.errAt(pivot, pivotHint, "pivot %q is neither past nor a four-digit year", text)
		return false
	}
	if !slices.ContainsFunc(step.layouts, func(l dateLayout) bool { return l.hasYY() }) {
		p.errAt(pivot, "remove pivot:, or add a layout with YY", "pivot places two-digit years, and no layout of this date transform has one (YY)")
		return false
	}
	return true
}

// namedItem reads a transform or validator, a plain name or a one-key mapping {name: argument}, and
// returns its index in names (names[0] is the zero kind, never a valid name), naming an unknown one with
// the closest known.
func (p *mappingParser) namedItem(item ast.Node, what string, names []string, hint string) (kind int, arg ast.Node, ok bool) {
	name, arg, ok := p.itemName(item, what, hint)
	if !ok {
		return 0, nil, false
	}
	kind, known := kindByName(names, name)
	if !known {
		p.errAt(item, what+"s are "+strings.Join(names[1:], ", "), "unknown %s %q%s", what, name, didYouMean(name, names[1:]))
		return 0, nil, false
	}
	return kind, arg, true
}

// itemName splits a transform or validator item into its name and argument.
func (p *mappingParser) itemName(item ast.Node, what, hint string) (name string, arg ast.Node, ok bool) {
	d := p.deref(item)
	if d == nil {
		return "", nil, false
	}
	if _, null := d.(*ast.NullNode); null {
		p.errAt(item, hint, "a %s is empty", what)
		return "", nil, false
	}
	if s, ok := scalarText(d); ok {
		return strings.TrimSpace(s), nil, true
	}
	entries, ok := p.mapEntries(d, "a "+what, hint)
	if !ok {
		return "", nil, false
	}
	if len(entries) != 1 {
		p.errAt(item, hint, "a %s is a name or {name: argument}, not a mapping of %d keys", what, len(entries))
		return "", nil, false
	}
	name, ok = p.keyText(entries[0])
	if !ok {
		return "", nil, false
	}
	if _, null := p.deref(entries[0].Value).(*ast.NullNode); null {
		p.errAt(entries[0], hint, "%s %s has an empty argument", what, name)
		return "", nil, false
	}
	return strings.TrimSpace(name), entries[0].Value, true
}

func (p *mappingParser) parseValidators(n ast.Node) []validator {
	var vs []validator
	for _, item := range p.list(n) {
		k, arg, ok := p.namedItem(item, "validator", validatorNames[:], `write for example validate: email or validate: [{length: {max: 50}}]`)
		if !ok {
			continue
		}
		if v, ok := p.validatorArg(item, validatorKind(k), arg); ok {
			vs = append(vs, v)
		}
	}
	return vs
}

func (p *mappingParser) validatorArg(item ast.Node, kind validatorKind, arg ast.Node) (validator, bool) {
	v := validator{kind: kind, min: -1, max: -1}
	switch kind {
	case validateEmail:
		if arg != nil {
			p.errAt(item, "write it as a plain name: email", "the email validator takes no argument")
			return v, false
		}
		return v, true
	case validateRegex:
		const hint = `write for example {regex: "^[A-Z]{2}[0-9]{6}$"} (RE2 syntax)`
		if !p.needArg(item, arg, hint, "the regex validator needs a pattern") {
			return v, false
		}
		s, ok := p.text(arg, "regex", hint)
		if !ok {
			return v, false
		}
		re, err := compileFullMatch(s)
		if err != nil {
			p.errAt(arg, "the syntax is RE2: https://golang.org/s/re2syntax", "invalid regex: %s", regexMessage(err))
			return v, false
		}
		v.pattern, v.re = s, re
		return v, true
	case validateLength:
		return p.lengthArg(item, arg, v)
	case validateRange:
		return p.rangeArg(item, arg, v)
	default: // validateOneOf
		return p.oneOfArg(item, arg, v)
	}
}

// rangeArg reads {range: {min: A, max: B}}: dates (YYYY-MM-DD, or today) or numbers, either bound optional.
func (p *mappingParser) rangeArg(item, arg ast.Node, v validator) (validator, bool) {
	const hint = "write for example {range: {min: 1900-01-01, max: today}} for dates, or {range: {min: 0, max: 100}} for numbers"
	const need = "the range validator needs min:, max: or both"
	if !p.needArg(item, arg, hint, need) {
		return v, false
	}
	kinds := map[bool]bool{} // which kinds of bound were given: dates (true), numbers (false)
	ok := p.argKeys(arg, "range", hint, lengthKeys, func(key string, e *ast.MappingValueNode) bool {
		text, ok := p.text(e.Value, "range "+key, hint)
		if !ok {
			return false
		}
		text = strings.TrimSpace(text)
		var n float64
		isDate := strings.EqualFold(text, rangeToday) || isISODate(text)
		if strings.EqualFold(text, rangeToday) {
			text = rangeToday
		}
		if !isDate {
			var err error
			n, err = strconv.ParseFloat(text, 64)
			if err != nil || math.IsNaN(n) || math.IsInf(n, 0) {
				p.errAt(e.Value, hint, "range %s %q is neither a date (YYYY-MM-DD or today) nor a number", key, text)
				return false
			}
		}
		kinds[isDate] = true
		if key == "min" {
			v.lo, v.loN = text, n
		} else {
			v.hi, v.hiN = text, n
		}
		return true
	})
	switch {
	case !ok:
		return v, false
	case v.lo == "" && v.hi == "":
		p.errAt(item, hint, "%s", need)
		return v, false
	case len(kinds) > 1:
		p.errAt(item, hint, "range min and max must both be dates or both be numbers")
		return v, false
	}
	v.dates = kinds[true]
	lo, hi := v.lo, v.hi
	if v.dates {
		today := todayDate()
		if lo == rangeToday {
			lo = today
		}
		if hi == rangeToday {
			hi = today
		}
	}
	if lo != "" && hi != "" && (v.dates && lo > hi || !v.dates && v.loN > v.hiN) {
		p.errAt(item, "", "range min %s is after max %s", v.lo, v.hi)
		return v, false
	}
	return v, true
}

func (p *mappingParser) lengthArg(item, arg ast.Node, v validator) (validator, bool) {
	const hint = "write for example {length: {min: 2, max: 50}}"
	const need = "the length validator needs min:, max: or both"
	if !p.needArg(item, arg, hint, need) {
		return v, false
	}
	// Each key's value is checked before the key itself: a bound that is not a number is named first.
	ok := p.argKeys(arg, "length", hint, nil, func(key string, e *ast.MappingValueNode) bool {
		bound, ok := p.count(e.Value)
		if !ok {
			p.errAt(e.Value, hint, "length %s must be a whole number of characters", key)
			return false
		}
		switch key {
		case "min":
			v.min = bound
		case "max":
			v.max = bound
		default:
			p.unknownKey(e, hint, "length", key, lengthKeys)
			return false
		}
		return true
	})
	switch {
	case !ok:
		return v, false
	case v.min < 0 && v.max < 0:
		p.errAt(item, hint, "%s", need)
		return v, false
	case v.max >= 0 && v.min > v.max:
		p.errAt(item, "", "length min %d is larger than max %d", v.min, v.max)
		return v, false
	}
	return v, true
}

func (p *mappingParser) oneOfArg(item, arg ast.Node, v validator) (validator, bool) {
	const hint = "write for example {one_of: [M, F]} or {one_of: {values: [M, F], ignore_case: true}}"
	if !p.needArg(item, arg, hint, "the one_of validator needs its values") {
		return v, false
	}
	values := arg
	if _, isList := p.deref(arg).(*ast.SequenceNode); !isList {
		values = nil
		ok := p.argKeys(arg, "one_of", hint, oneOfKeys, func(key string, e *ast.MappingValueNode) bool {
			if key == "values" {
				values = e.Value
			} else if b, ok := p.boolean(e.Value, "ignore_case"); ok {
				v.ignoreCase = b
			}
			return true
		})
		if !ok {
			return v, false
		}
		if values == nil {
			p.errAt(item, hint, "one_of has no values:")
			return v, false
		}
	}
	seq, ok := p.deref(values).(*ast.SequenceNode)
	if !ok || len(seq.Values) == 0 {
		p.errAt(values, hint, "one_of values must be a non-empty list")
		return v, false
	}
	for _, n := range seq.Values {
		s, ok := p.text(n, "one_of value", hint)
		if !ok {
			return v, false
		}
		v.values = append(v.values, s)
	}
	v.prepareOneOf()
	return v, true
}
