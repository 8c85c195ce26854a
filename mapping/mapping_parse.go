package mapping

import (
	"bytes"
	"errors"
	"fmt"
	"math"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/goccy/go-yaml"
	"github.com/goccy/go-yaml/ast"
	"github.com/goccy/go-yaml/parser"

	"github.com/zentra/zentra-import/csvfile"
)

var (
	topLevelKeys = []string{"csv", "fields", "require_one_of", "allow_unknown"}
	csvKeys      = []string{"delimiter", "encoding", "skip_lines", "skip_footer", "footer"}
	fieldKeys    = []string{"column", "template", "value", "default", "optional", "transform", "validate", "region", "type", "split"}
	lengthKeys   = []string{"min", "max"}
	oneOfKeys    = []string{"values", "ignore_case"}
	dateKeys     = []string{"layout", "pivot"}
	padLeftKeys  = []string{"width", "char"}
	replaceKeys  = []string{"regex", "with"}

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

// mappingParser walks the YAML syntax tree of a mapping file, collecting every problem with its place.
type mappingParser struct {
	file    string
	errs    MappingErrors
	anchors map[string]ast.Node
	targets []string // every target under fields:, parsed or not
}

func (p *mappingParser) addErr(pos mappingPos, hint, format string, args ...any) {
	p.errs = append(p.errs, &MappingError{File: p.file, Line: pos.line, Column: pos.col, Msg: fmt.Sprintf(format, args...), Hint: hint})
}

// errAt reports a problem at node n.
func (p *mappingParser) errAt(n ast.Node, hint, format string, args ...any) {
	p.addErr(nodePos(n), hint, format, args...)
}

func nodePos(n ast.Node) mappingPos {
	if n == nil {
		return mappingPos{}
	}
	if mv, ok := n.(*ast.MappingValueNode); ok && mv.Key != nil {
		n = mv.Key
	}
	tk := n.GetToken()
	if tk == nil || tk.Position == nil {
		return mappingPos{}
	}
	return mappingPos{line: tk.Position.Line, col: tk.Position.Column}
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

// maxYAMLDepth bounds the nesting of a mapping file: its deepest rule is five levels down.
const maxYAMLDepth = 64

// yamlTooDeep reports whether data nests deeper than maxYAMLDepth, and the line where it does. It counts
// flow brackets open at once (outside quoted scalars and comments), and block indentation and "- " chains
// at the start of each line, in steps of two columns.
func yamlTooDeep(data []byte) (line int, deep bool) {
	line = 1
	flow := 0
	var quote byte
	lineStart := true
	prev := byte('\n')
	for i := 0; i < len(data); i++ {
		c := data[i]
		if lineStart && quote == 0 {
			lineStart = false
			indent := 0
			for i < len(data) && (data[i] == ' ' || ((data[i] == '-' || data[i] == '?') && i+1 < len(data) && data[i+1] == ' ')) {
				indent++
				i++
			}
			if indent > 2*maxYAMLDepth {
				return line, true
			}
			if i == len(data) {
				break
			}
			c = data[i]
		}
		switch {
		case c == '\n':
			line++
			lineStart = true
		case quote == '"':
			if c == '\\' && i+1 < len(data) && data[i+1] != '\n' {
				i++
			} else if c == '"' {
				quote = 0
			}
		case quote == '\'':
			if c == '\'' {
				if i+1 < len(data) && data[i+1] == '\'' {
					i++
				} else {
					quote = 0
				}
			}
		case c == '#' && (prev == ' ' || prev == '\t' || prev == '\n'):
			for i+1 < len(data) && data[i+1] != '\n' {
				i++
			}
		case (c == '"' || c == '\'') && strings.IndexByte(" \t\n[{,:", prev) >= 0:
			quote = c
		case c == '[' || c == '{':
			if flow++; flow > maxYAMLDepth {
				return line, true
			}
		case c == ']' || c == '}':
			flow = max(flow-1, 0)
		}
		prev = c
	}
	return line, false
}

// syntaxError turns the YAML library's error into a MappingError at its position.
func (p *mappingParser) syntaxError(err error) {
	var ye yaml.Error
	if !errors.As(err, &ye) || ye.GetToken() == nil || ye.GetToken().Position == nil {
		p.addErr(mappingPos{}, "", "invalid YAML: %v", err)
		return
	}
	pos := ye.GetToken().Position
	msg := ye.GetMessage()
	// The library says `mapping key "a" already defined at [1:1]`; say it the way the rest of our messages do.
	if m := duplicateKeyMessage.FindStringSubmatch(msg); m != nil {
		msg = fmt.Sprintf("duplicate key %s (first at line %s)", m[1], m[2])
	} else {
		msg = "invalid YAML: " + msg
	}
	p.addErr(mappingPos{line: pos.Line, col: pos.Column}, "check the indentation (spaces, not tabs), quotes and brackets near this line", "%s", msg)
}

var duplicateKeyMessage = regexp.MustCompile(`^mapping key (".*") already defined at \[(\d+):\d+\]$`)

func firstInvalidUTF8(b []byte) int {
	for i := 0; i < len(b); {
		r, n := utf8.DecodeRune(b[i:])
		if r == utf8.RuneError && n == 1 {
			return i
		}
		i += n
	}
	return len(b)
}

// anchorCollector records every &anchor of the document, for aliases.
type anchorCollector map[string]ast.Node

func (c anchorCollector) Visit(n ast.Node) ast.Visitor {
	if a, ok := n.(*ast.AnchorNode); ok && a.Name != nil && a.Value != nil {
		c[a.Name.GetToken().Value] = a.Value
	}
	return c
}

// deref follows anchors and aliases to the node that holds the value. It reports tags, which the mapping
// does not support, and returns nil for them and for unknown aliases.
func (p *mappingParser) deref(n ast.Node) ast.Node {
	for range 16 {
		switch v := n.(type) {
		case *ast.AnchorNode:
			n = v.Value
		case *ast.AliasNode:
			name := ""
			if v.Value != nil {
				name = v.Value.GetToken().Value
			}
			target, ok := p.anchors[name]
			if !ok {
				p.errAt(v, "define the anchor with &"+name+" before using it", "unknown alias *%s", name)
				return nil
			}
			n = target
		case *ast.TagNode:
			p.errAt(v, "remove the tag; quote a value to make it text", "YAML tags such as %s are not supported", v.Start.Value)
			return nil
		default:
			return n
		}
	}
	p.errAt(n, "", "aliases nested too deeply")
	return nil
}

// mapEntries returns the entries of a YAML mapping, or reports that n is not one.
func (p *mappingParser) mapEntries(n ast.Node, what, hint string) ([]*ast.MappingValueNode, bool) {
	orig := n
	n = p.deref(n)
	switch v := n.(type) {
	case *ast.MappingNode:
		return v.Values, true
	case *ast.MappingValueNode:
		return []*ast.MappingValueNode{v}, true
	case nil:
		if _, alias := orig.(*ast.AliasNode); alias {
			return nil, false // reported by deref
		}
		if _, tag := orig.(*ast.TagNode); tag {
			return nil, false
		}
	}
	p.errAt(orig, hint, "%s must be a mapping of keys to values, not %s", what, describeNode(n))
	return nil, false
}

// keyText returns the text of an entry's key, or reports why it has none.
func (p *mappingParser) keyText(e *ast.MappingValueNode) (string, bool) {
	switch k := e.Key.(type) {
	case *ast.MergeKeyNode:
		p.errAt(k, "write the keys out, or use an alias (*name) as a whole value", "merge keys (<<) are not supported")
		return "", false
	case nil:
		p.errAt(e, "", "a key is missing")
		return "", false
	}
	s, ok := scalarText(e.Key)
	if !ok {
		p.errAt(e.Key, "", "a key must be plain text, not %s", describeNode(e.Key))
		return "", false
	}
	return s, true
}

// scalarText returns a scalar's text as written (without quotes), whatever its YAML type: column
// names, defaults and layouts are text even when they look like numbers.
func scalarText(n ast.Node) (string, bool) {
	switch v := n.(type) {
	case *ast.StringNode:
		return v.Value, true
	case *ast.LiteralNode:
		if v.Value == nil {
			return "", true
		}
		return v.Value.Value, true
	case *ast.IntegerNode, *ast.FloatNode, *ast.BoolNode, *ast.InfinityNode, *ast.NanNode:
		return v.GetToken().Value, true
	}
	return "", false
}

// text returns the text of a scalar value, reporting a missing or non-scalar value for key.
func (p *mappingParser) text(n ast.Node, key, hint string) (string, bool) {
	orig := n
	n = p.deref(n)
	if n == nil {
		if _, ok := orig.(*ast.AliasNode); ok {
			return "", false
		}
		if _, ok := orig.(*ast.TagNode); ok {
			return "", false
		}
	}
	if s, ok := scalarText(n); ok {
		return s, true
	}
	if _, ok := n.(*ast.NullNode); ok || n == nil {
		p.errAt(orig, hint, "%s has no value", key)
		return "", false
	}
	p.errAt(orig, hint, "%s must be text, not %s", key, describeNode(n))
	return "", false
}

// list returns the items of a sequence, or n itself as a one-item list (validate: email).
func (p *mappingParser) list(n ast.Node) []ast.Node {
	d := p.deref(n)
	if d == nil {
		return nil // an alias or tag that deref reported
	}
	if s, ok := d.(*ast.SequenceNode); ok {
		return s.Values
	}
	return []ast.Node{d}
}

func describeNode(n ast.Node) string {
	switch n.(type) {
	case nil, *ast.NullNode:
		return "empty"
	case *ast.MappingNode, *ast.MappingValueNode:
		return "a mapping"
	case *ast.SequenceNode:
		return "a list"
	case *ast.StringNode, *ast.LiteralNode:
		return "text"
	case *ast.IntegerNode, *ast.FloatNode, *ast.InfinityNode, *ast.NanNode:
		return "a number"
	case *ast.BoolNode:
		return "a boolean"
	}
	return "a " + strings.ToLower(n.Type().String())
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

func (p *mappingParser) boolean(n ast.Node, key string) (bool, bool) {
	if b, ok := p.deref(n).(*ast.BoolNode); ok {
		return b.Value, true
	}
	p.errAt(n, "write true or false", "%s must be true or false", key)
	return false, false
}

// count reads a whole number from 0 to 2³¹-1.
func (p *mappingParser) count(n ast.Node) (int, bool) {
	if in, ok := p.deref(n).(*ast.IntegerNode); ok {
		switch v := in.Value.(type) {
		case int64:
			return int(v), v >= 0 && v <= math.MaxInt32
		case uint64:
			return int(v), v <= math.MaxInt32
		}
	}
	return 0, false
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
			if arg == nil {
				p.errAt(item, hint, "the strip_leading transform needs the characters to strip")
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
	if arg == nil {
		p.errAt(item, hint, "the pad_left transform needs its width:")
		return false
	}
	entries, ok := p.mapEntries(arg, "pad_left", hint)
	if !ok {
		return false
	}
	step.chars = "0"
	for _, e := range entries {
		key, ok := p.keyText(e)
		if !ok {
			return false
		}
		switch key {
		case "width":
			n, ok := p.count(e.Value)
			if !ok || n < 1 || n > 256 {
				p.errAt(e.Value, hint, "pad_left width must be a whole number from 1 to 256")
				return false
			}
			step.width = n
		case "char":
			c, ok := p.text(e.Value, "pad_left char", hint)
			if !ok {
				return false
			}
			if utf8.RuneCountInString(c) != 1 {
				p.errAt(e.Value, hint, "pad_left char must be one character, not %d", utf8.RuneCountInString(c))
				return false
			}
			step.chars = c
		default:
			p.errAt(e, hint, "unknown key %q in pad_left%s", key, didYouMean(key, padLeftKeys))
			return false
		}
	}
	if step.width == 0 {
		p.errAt(item, hint, "the pad_left transform needs its width:")
		return false
	}
	return true
}

// replaceArg reads {replace: {regex: PATTERN, with: TEXT}} into step.
func (p *mappingParser) replaceArg(item, arg ast.Node, step *transformStep) bool {
	const hint = `write for example {replace: {regex: "^CRM-", with: ""}} (RE2 syntax; $1 in with: is the first group)`
	if arg == nil {
		p.errAt(item, hint, "the replace transform needs regex: and with:")
		return false
	}
	entries, ok := p.mapEntries(arg, "replace", hint)
	if !ok {
		return false
	}
	var haveWith bool
	for _, e := range entries {
		key, ok := p.keyText(e)
		if !ok {
			return false
		}
		switch key {
		case "regex":
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
		case "with":
			haveWith = true
			if _, null := p.deref(e.Value).(*ast.NullNode); null {
				break // with: nothing, the empty text
			}
			s, ok := p.text(e.Value, "replace with", hint)
			if !ok {
				return false
			}
			step.with = s
		default:
			p.errAt(e, hint, "unknown key %q in replace%s", key, didYouMean(key, replaceKeys))
			return false
		}
	}
	switch {
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
		entries, ok := p.mapEntries(arg, "date", hint)
		if !ok {
			return false
		}
		layouts = nil
		for _, e := range entries {
			key, ok := p.keyText(e)
			if !ok {
				return false
			}
			switch key {
			case "layout":
				layouts = e.Value
			case "pivot":
				pivot = e.Value
			default:
				p.errAt(e, hint, "unknown key %q in date%s", key, didYouMean(key, dateKeys))
				return false
			}
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
		if arg == nil {
			p.errAt(item, hint, "the regex validator needs a pattern")
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
	if arg == nil {
		p.errAt(item, hint, "the range validator needs min:, max: or both")
		return v, false
	}
	entries, ok := p.mapEntries(arg, "range", hint)
	if !ok {
		return v, false
	}
	kinds := map[bool]bool{} // which kinds of bound were given: dates (true), numbers (false)
	for _, e := range entries {
		key, ok := p.keyText(e)
		if !ok {
			return v, false
		}
		if key != "min" && key != "max" {
			p.errAt(e, hint, "unknown key %q in range%s", key, didYouMean(key, lengthKeys))
			return v, false
		}
		text, ok := p.text(e.Value, "range "+key, hint)
		if !ok {
			return v, false
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
				return v, false
			}
		}
		kinds[isDate] = true
		if key == "min" {
			v.lo, v.loN = text, n
		} else {
			v.hi, v.hiN = text, n
		}
	}
	switch {
	case v.lo == "" && v.hi == "":
		p.errAt(item, hint, "the range validator needs min:, max: or both")
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
	if arg == nil {
		p.errAt(item, hint, "the length validator needs min:, max: or both")
		return v, false
	}
	entries, ok := p.mapEntries(arg, "length", hint)
	if !ok {
		return v, false
	}
	for _, e := range entries {
		key, ok := p.keyText(e)
		if !ok {
			return v, false
		}
		bound, ok := p.count(e.Value)
		if !ok {
			p.errAt(e.Value, hint, "length %s must be a whole number of characters", key)
			return v, false
		}
		switch key {
		case "min":
			v.min = bound
		case "max":
			v.max = bound
		default:
			p.errAt(e, hint, "unknown key %q in length%s", key, didYouMean(key, lengthKeys))
			return v, false
		}
	}
	switch {
	case v.min < 0 && v.max < 0:
		p.errAt(item, hint, "the length validator needs min:, max: or both")
		return v, false
	case v.max >= 0 && v.min > v.max:
		p.errAt(item, "", "length min %d is larger than max %d", v.min, v.max)
		return v, false
	}
	return v, true
}

func (p *mappingParser) oneOfArg(item, arg ast.Node, v validator) (validator, bool) {
	const hint = "write for example {one_of: [M, F]} or {one_of: {values: [M, F], ignore_case: true}}"
	if arg == nil {
		p.errAt(item, hint, "the one_of validator needs its values")
		return v, false
	}
	values := arg
	if _, isList := p.deref(arg).(*ast.SequenceNode); !isList {
		entries, ok := p.mapEntries(arg, "one_of", hint)
		if !ok {
			return v, false
		}
		values = nil
		for _, e := range entries {
			key, ok := p.keyText(e)
			if !ok {
				return v, false
			}
			switch key {
			case "values":
				values = e.Value
			case "ignore_case":
				if b, ok := p.boolean(e.Value, "ignore_case"); ok {
					v.ignoreCase = b
				}
			default:
				p.errAt(e, hint, "unknown key %q in one_of%s", key, didYouMean(key, oneOfKeys))
				return v, false
			}
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
