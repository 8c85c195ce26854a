package mapping

import (
	"bytes"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/goccy/go-yaml/ast"
	"github.com/goccy/go-yaml/parser"

	"github.com/zentra/zentra-import/csvfile"
)

var (
	topLevelKeys = []string{"csv", "fields", "require_one_of", "allow_unknown"}
	csvKeys      = []string{"delimiter", "encoding", "skip_lines", "skip_footer", "footer"}
	fieldKeys    = []string{"column", "template", "value", "default", "optional", "transform", "validate", "region", "type", "split"}

	// mappingTargetSegment is one segment of a dotted target: an API field name.
	mappingTargetSegment = regexp.MustCompile(`^[A-Za-z0-9_-]+$`)
)

// Parse reads and checks a mapping from data; name is used in messages (usually the file's path).
// Every problem found is returned together as [MappingErrors], each with its line.
func Parse(name string, data []byte) (*Mapping, error) {
	p := &mappingParser{file: name}
	m := p.parse(data)
	if len(p.errs) > 0 {
		return nil, sortProblems(p.errs)
	}
	return m, nil
}

// maxProblems is how many problems of one mapping are listed: more means the wrong file.
const maxProblems = 50

// sortProblems orders problems by line and shortens a long list, saying how many were left out.
func sortProblems(errs MappingErrors) MappingErrors {
	slices.SortStableFunc(errs, func(a, b *MappingError) int { return a.Line - b.Line })
	if len(errs) > maxProblems {
		more := len(errs) - maxProblems + 1
		errs = append(errs[:maxProblems-1:maxProblems-1], &MappingError{File: errs[0].File,
			Msg: fmt.Sprintf("and %d more problems", more), Hint: "check that this is a mapping file"})
	}
	return errs
}

func (p *mappingParser) parse(data []byte) *Mapping {
	data = bytes.TrimPrefix(data, []byte("\xef\xbb\xbf"))
	if len(data) > maxMappingSize {
		p.addErr(mappingPos{}, "a mapping file is a page of YAML; check that the right file was given", "the mapping file is larger than %d KiB", maxMappingSize>>10)
		return nil
	}
	if !utf8.Valid(data) {
		line := 1 + bytes.Count(data[:firstInvalidUTF8(data)], []byte("\n"))
		p.addErr(mappingPos{line: line}, "save the mapping file as UTF-8", "the mapping file is not valid UTF-8")
		return nil
	}
	if line, deep := yamlTooDeep(data); deep {
		// The YAML library takes time quadratic in the nesting: refuse what no mapping needs.
		p.addErr(mappingPos{line: line}, "a mapping nests a few levels at most; check the brackets and indentation",
			"the YAML nests more than %d levels deep", maxYAMLDepth)
		return nil
	}
	file, err := parser.ParseBytes(data, 0)
	if err != nil {
		p.syntaxError(err)
		return nil
	}
	var body ast.Node
	for i, doc := range file.Docs {
		if doc == nil || doc.Body == nil {
			continue
		}
		if body != nil {
			p.errAt(doc.Body, "remove the --- separator and everything after it", "only one YAML document is allowed (document %d)", i+1)
			return nil
		}
		body = doc.Body
	}
	if body == nil {
		p.addErr(mappingPos{line: 1}, `start from "zentra-import mapping FILE.csv", or see samples/mapping.yaml`, "the mapping is empty")
		return nil
	}
	p.anchors = map[string]ast.Node{}
	ast.Walk(anchorCollector(p.anchors), body)

	m := &Mapping{name: p.file, csv: csvfile.CSVOptions{Delimiter: "auto", Encoding: "auto"}}
	entries, ok := p.mapEntries(body, "the mapping", `the mapping is a set of keys such as "fields:"`)
	if !ok {
		return nil
	}
	var fieldsNode, requireNode, allowNode *ast.MappingValueNode
	for _, e := range entries {
		key, ok := p.keyText(e)
		if !ok {
			continue
		}
		switch key {
		case "csv":
			p.parseCSV(e, &m.csv)
		case "fields":
			fieldsNode = e
		case "require_one_of":
			requireNode = e
		case "allow_unknown":
			allowNode = e
		default:
			p.errAt(e, "the top-level keys are "+strings.Join(topLevelKeys, ", "), "unknown key %q%s", key, didYouMean(key, topLevelKeys))
		}
	}
	if fieldsNode == nil {
		p.addErr(nodePos(body), `add fields: with at least external_reference, e.g. external_reference: {template: "crm-{Customer Id}"}`, "the mapping has no fields:")
		return nil
	}
	m.fields = p.parseFields(fieldsNode)
	if requireNode != nil {
		m.requireOneOf = p.parseRequireOneOf(requireNode)
	}
	if allowNode != nil {
		m.allowUnknown = p.targetList(allowNode, "allow_unknown", "write for example allow_unknown: [firstname], naming targets under fields: that are meant as written")
	}
	m.warnings = targetWarnings(m.fields, m.allowUnknown)
	return m
}

func (p *mappingParser) parseCSV(e *ast.MappingValueNode, opts *csvfile.CSVOptions) {
	entries, ok := p.mapEntries(e.Value, "csv", `write for example csv: {delimiter: auto, encoding: auto}`)
	if !ok {
		return
	}
	var footerAt *ast.MappingValueNode // skip_footer:, for the message when footer: is given too
	for _, c := range entries {
		key, ok := p.keyText(c)
		if !ok {
			continue
		}
		switch key {
		case "delimiter":
			if s, ok := p.text(c.Value, "delimiter", csvfile.DelimiterHint); ok {
				switch d, auto, ok := csvfile.ParseDelimiter(s); {
				case !ok:
					p.errAt(c.Value, csvfile.DelimiterHint, "unsupported delimiter %q", s)
				case auto:
					opts.Delimiter = "auto"
				default:
					opts.Delimiter = string(d)
				}
			}
		case "encoding":
			if s, ok := p.text(c.Value, "encoding", csvfile.EncodingHint); ok {
				switch enc, auto, ok := csvfile.ParseEncoding(s); {
				case !ok:
					names := append([]string{"auto", "utf-16"}, csvfile.EncodingNames()...)
					p.errAt(c.Value, csvfile.EncodingHint, "unsupported encoding %q%s", s, didYouMean(s, names))
				case auto:
					opts.Encoding = "auto"
				default:
					opts.Encoding = enc.String()
				}
			}
		case "skip_lines":
			if n, ok := p.csvCount(c, "skip_lines", csvfile.SkipLinesHint, csvfile.SkipLinesProblem); ok {
				opts.SkipLines = n
			}
		case "skip_footer":
			if n, ok := p.csvCount(c, "skip_footer", csvfile.SkipFooterHint, csvfile.SkipFooterProblem); ok {
				opts.SkipFooter, footerAt = n, c
			}
		case "footer":
			if s, ok := p.text(c.Value, "footer", csvfile.FooterHint); ok {
				if _, problem := csvfile.FooterPattern(s); problem != "" {
					p.errAt(c.Value, "the syntax is RE2: https://golang.org/s/re2syntax; "+csvfile.FooterHint, "footer %s", problem)
				} else {
					opts.Footer = s
				}
			}
		default:
			p.errAt(c, "the csv: keys are delimiter, encoding, skip_lines, skip_footer and footer", "unknown key %q in csv%s", key, didYouMean(key, csvKeys))
		}
	}
	if opts.SkipFooter > 0 && opts.Footer != "" {
		p.errAt(footerAt, csvfile.BothFootersHint, "skip_footer and footer are both given")
		opts.Footer = ""
	}
}

// csvCount reads a whole number of the csv: section, checked by problem.
func (p *mappingParser) csvCount(c *ast.MappingValueNode, key, hint string, problem func(int) string) (int, bool) {
	n, ok := p.count(c.Value)
	if !ok && n >= 0 {
		p.errAt(c.Value, hint, "%s must be a whole number", key)
		return 0, false
	}
	if msg := problem(n); msg != "" { // a negative number, or one too large
		p.errAt(c.Value, hint, "%s %s", key, msg)
		return 0, false
	}
	return n, true
}

func (p *mappingParser) parseFields(e *ast.MappingValueNode) []*fieldSpec {
	entries, ok := p.mapEntries(e.Value, "fields", `each field is "target: {column: Name}"`)
	if !ok {
		return nil
	}
	var fields []*fieldSpec
	var ref *fieldSpec
	hasRef := false
	for _, fe := range entries {
		target, ok := p.keyText(fe)
		if !ok {
			continue
		}
		p.targets = append(p.targets, target)
		hasRef = hasRef || target == "external_reference"
		f := p.parseField(fe, target)
		if f == nil {
			continue
		}
		if target == "external_reference" {
			ref = f
		}
		fields = append(fields, f)
	}
	if !hasRef {
		p.errAt(e, `add for example external_reference: {template: "crm-{Customer Id}"}`,
			"fields has no external_reference: every row needs a stable reference (it makes retries and re-runs idempotent)")
	}
	if ref != nil {
		p.checkReference(ref)
	}
	p.checkPathConflicts(fields)
	return fields
}

// checkReference reports every rule that would let two rows share a reference, or make it other than
// text: the reference is the row's identity (its idempotency key derives from it).
func (p *mappingParser) checkReference(f *fieldSpec) {
	if f.source == fromValue {
		p.addErr(f.pos, `use a column or a template such as "crm-{Customer Id}"`, "external_reference cannot be a constant: every row would have the same reference")
		return
	}
	if f.hasDefault {
		p.addErr(f.defPos, "remove default: a row without a reference must be rejected, not given a shared one",
			"external_reference cannot have a default: every row without a reference would get the same one")
	}
	if f.optional {
		p.addErr(f.pos, "remove optional: a row without a reference must be rejected, not sent without one", "external_reference cannot be optional")
	}
	if f.typ != typeString {
		p.addErr(f.pos, "remove type:", "external_reference is text; it cannot have type %s", f.typ)
	}
	if f.split != "" {
		p.addErr(f.pos, "remove split:", "external_reference is text; it cannot be a list")
	}
}

// checkPathConflicts reports a target that is both a value and an object (address and address.city).
func (p *mappingParser) checkPathConflicts(fields []*fieldSpec) {
	byPath := make(map[string]*fieldSpec, len(fields))
	for _, f := range fields {
		byPath[f.target] = f
	}
	for _, f := range fields {
		for i := range len(f.target) {
			if f.target[i] != '.' {
				continue
			}
			other, ok := byPath[f.target[:i]]
			if !ok {
				continue
			}
			later, earlier := f, other
			if later.pos.line < earlier.pos.line {
				later, earlier = earlier, later
			}
			p.addErr(later.pos, fmt.Sprintf("rename one of them, e.g. %s.value", other.target),
				"%s conflicts with %s (line %d): a field cannot be both a value and an object", later.target, earlier.target, earlier.pos.line)
		}
	}
}

func (p *mappingParser) parseField(e *ast.MappingValueNode, target string) *fieldSpec {
	f := &fieldSpec{target: target, pos: nodePos(e)}
	if !p.checkTarget(e, target) {
		return nil
	}
	entries, ok := p.mapEntries(e.Value, "field "+target, "write for example "+target+": {column: Some Column}")
	if !ok {
		return nil
	}
	nerr := len(p.errs)
	var sources []string
	var defNode, valueNode ast.Node
	for _, fe := range entries {
		key, ok := p.keyText(fe)
		if !ok {
			continue
		}
		switch key {
		case "column":
			sources = append(sources, key)
			if s, ok := p.text(fe.Value, "column", "write the column's name as in the header"); ok {
				f.source, f.sourcePos, f.column = fromColumn, nodePos(fe.Value), strings.TrimSpace(s)
				if f.column == "" {
					p.errAt(fe.Value, "write the column's name as in the header", "column is empty")
				}
			}
		case "template":
			sources = append(sources, key)
			if s, ok := p.text(fe.Value, "template", `write for example "crm-{Customer Id}"`); ok {
				f.source, f.sourcePos = fromTemplate, nodePos(fe.Value)
				parts, msg := parseTemplate(s)
				if msg != "" {
					p.errAt(fe.Value, `columns go in braces, "crm-{Customer Id}"; write {{ and }} for literal braces`, "template: %s", msg)
				}
				f.template = parts
			}
		case "value":
			sources = append(sources, key)
			valueNode = fe.Value
			if c, ok := p.constant(fe.Value); ok {
				f.source, f.sourcePos, f.constant = fromValue, nodePos(fe.Value), c
			}
		case "default":
			defNode = fe.Value
			if s, ok := p.text(fe.Value, "default", "write the text to use when the value is empty"); ok {
				f.def, f.hasDefault, f.defPos = s, true, nodePos(fe.Value)
				if strings.TrimSpace(s) == "" {
					p.errAt(fe.Value, "remove default:, or add optional: true to leave the field out when empty", "default is empty")
				}
			}
		case "optional":
			if b, ok := p.boolean(fe.Value, "optional"); ok {
				f.optional = b
			}
		case "transform":
			f.transforms = p.parseTransforms(fe.Value)
		case "validate":
			f.validators = p.parseValidators(fe.Value)
		case "region":
			if s, ok := p.text(fe.Value, "region", "write a region code such as NG"); ok {
				f.region = strings.ToUpper(strings.TrimSpace(s))
				if !supportedPhoneRegion(f.region) {
					p.errAt(fe.Value, "use an ISO 3166 region code such as NG, GH, KE, ZA, GB or US", "unknown region %q", s)
				}
			}
		case "split":
			const hint = `write the text between the items, for example split: ";"`
			if s, ok := p.text(fe.Value, "split", hint); ok {
				f.split = s
				if s == "" {
					p.errAt(fe.Value, hint, "split is empty")
				}
			}
		case "type":
			if s, ok := p.text(fe.Value, "type", "use string, integer, number or boolean"); ok {
				t, ok := parseValueType(s)
				if !ok {
					p.errAt(fe.Value, "use string, integer, number or boolean", "unknown type %q%s", s, didYouMean(s, valueTypeNames[:]))
				}
				f.typ = t
			}
		default:
			p.errAt(fe, "a field's keys are "+strings.Join(fieldKeys, ", "), "unknown key %q in field %s%s", key, target, didYouMean(key, fieldKeys))
		}
	}
	switch {
	case len(sources) == 0:
		p.errAt(e, "add column:, template: or value:", "field %s has no source: it needs one of column, template or value", target)
		return nil
	case len(sources) > 1:
		p.errAt(e, "keep one of "+strings.Join(sources, ", "), "field %s has %d sources (%s): it needs exactly one", target, len(sources), strings.Join(sources, ", "))
		return nil
	}
	if f.source == fromValue {
		p.checkConstantField(f, valueNode)
	} else {
		p.checkFieldRules(f, defNode)
	}
	if len(p.errs) > nerr {
		return nil
	}
	return f
}

// maxTargetDepth bounds the levels of a dotted target. Zentra's fields are two or three levels deep
// (metadata.legacy_id); a deeper body is a mistake, and one deep enough makes answers that echo it
// unreadable to JSON decoders (Go's stops at 10,000 levels), with the ids of created customers in them.
const maxTargetDepth = 32

// checkTarget reports a target that is not a dotted path of API field names, or one deeper than
// maxTargetDepth.
func (p *mappingParser) checkTarget(e *ast.MappingValueNode, target string) bool {
	if n := strings.Count(target, ".") + 1; n > maxTargetDepth {
		shown := target
		if len(shown) > 60 {
			shown = shown[:40] + "…"
		}
		p.errAt(e, "a target is a dotted path into the request's JSON body, a few levels deep: metadata.legacy_id",
			"target %q is %d levels deep: at most %d are allowed", shown, n, maxTargetDepth)
		return false
	}
	for seg := range strings.SplitSeq(target, ".") {
		if !mappingTargetSegment.MatchString(seg) {
			p.errAt(e, "targets are API field names (letters, digits, _ and -), dotted for nesting: metadata.legacy_id",
				"invalid target %q", target)
			return false
		}
	}
	return true
}

// checkConstantField reports keys that do not apply to a value: constant.
func (p *mappingParser) checkConstantField(f *fieldSpec, at ast.Node) {
	var extra []string
	if f.hasDefault {
		extra = append(extra, "default")
	}
	if f.optional {
		extra = append(extra, "optional")
	}
	if len(f.transforms) > 0 {
		extra = append(extra, "transform")
	}
	if len(f.validators) > 0 {
		extra = append(extra, "validate")
	}
	if f.region != "" {
		extra = append(extra, "region")
	}
	if f.typ != typeString {
		extra = append(extra, "type")
	}
	if f.split != "" {
		extra = append(extra, "split")
	}
	if len(extra) > 0 {
		p.errAt(at, "remove "+strings.Join(extra, ", ")+"; quote the value to send text, leave it unquoted for a number or boolean",
			"field %s is a constant: %s do not apply to value:", f.target, strings.Join(extra, ", "))
	}
}

// checkFieldRules reports rules of a column or template field that contradict each other, and a default
// that its own validators or type would reject.
func (p *mappingParser) checkFieldRules(f *fieldSpec, defNode ast.Node) {
	hasPhone := false
	for _, t := range f.transforms {
		hasPhone = hasPhone || t.kind == transformPhone
	}
	if f.region != "" && !hasPhone {
		p.addErr(f.pos, "add phone to transform:, or remove region:", "field %s has region: but no phone transform", f.target)
	}
	if f.hasDefault && f.optional {
		p.addErr(f.pos, "keep default: to send it when empty, or optional: true to leave the field out", "field %s has both default and optional: true, which contradict each other", f.target)
	}
	if f.hasDefault && strings.TrimSpace(f.def) != "" {
		if _, reason := f.defaultJSON(todayDate()); reason != "" {
			p.errAt(defNode, "change the default or the field's rules", "default of field %s is rejected by the field's own rules: %s", f.target, reason)
		}
	}
}

func parseValueType(s string) (valueType, bool) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "string", "text", "str":
		return typeString, true
	case "integer", "int":
		return typeInteger, true
	case "number", "float", "decimal":
		return typeNumber, true
	case "boolean", "bool":
		return typeBoolean, true
	}
	return typeString, false
}

func (p *mappingParser) parseRequireOneOf(e *ast.MappingValueNode) []string {
	names := p.targetList(e, "require_one_of", "write for example require_one_of: [email, phone]")
	if items, ok := p.deref(e.Value).(*ast.SequenceNode); ok && len(items.Values) < 2 {
		p.errAt(e, "to require one field, remove its optional: true", "require_one_of needs at least two fields")
	}
	return names
}

// targetList reads the list of targets under key (require_one_of, allow_unknown): each a target under
// fields:, none twice.
func (p *mappingParser) targetList(e *ast.MappingValueNode, key, hint string) []string {
	items, ok := p.deref(e.Value).(*ast.SequenceNode)
	if !ok {
		p.errAt(e, hint, "%s must be a list of fields", key)
		return nil
	}
	targets := p.targets
	var names []string
	for _, n := range items.Values {
		name, ok := p.text(n, key+" item", hint)
		if !ok {
			continue
		}
		switch {
		case slices.Contains(names, name):
			p.errAt(n, "", "%s lists %s twice", key, name)
		case !slices.Contains(targets, name):
			p.errAt(n, key+" names targets under fields:", "%s: %s is not a field%s", key, name, didYouMean(name, targets))
		}
		names = append(names, name)
	}
	return names
}
