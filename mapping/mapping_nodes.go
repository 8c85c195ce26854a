package mapping

import (
	"errors"
	"fmt"
	"math"
	"regexp"
	"strings"
	"unicode/utf8"

	"github.com/goccy/go-yaml"
	"github.com/goccy/go-yaml/ast"
)

// The YAML under a mapping file: the guards that refuse what no mapping is (too large, not UTF-8, nested
// too deep, not YAML) before the library reads it, and the helpers that read its nodes, each reporting
// what it finds wrong at the node's line.

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
