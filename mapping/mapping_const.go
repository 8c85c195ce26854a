package mapping

import (
	"math"
	"slices"
	"strconv"
	"strings"

	"github.com/goccy/go-yaml/ast"
	"github.com/goccy/go-yaml/token"
)

// constKind is the YAML type of a value: constant, and so its JSON type.
type constKind uint8

const (
	constString constKind = iota
	constNumber
	constBool
	constNull
	constList
	constObject
)

var constKindNames = [...]string{constString: "string", constNumber: "number", constBool: "boolean", constNull: "null", constList: "list", constObject: "object"}

// constValue is a value: constant. text is the string itself for a string, and the JSON of any other
// value (an object's keys sorted). items (and keys, sorted, for an object) keep a list's or an object's
// parts, from which the canonical YAML is written.
type constValue struct {
	kind  constKind
	text  string
	items []constValue
	keys  []string
}

// Bounds of a value: constant. They are far beyond what a field of a request needs, and stop a list that
// contains itself through an alias, or aliases of aliases that multiply (the "billion laughs").
const (
	maxConstDepth = 32
	maxConstNodes = 10_000
	maxConstSize  = 64 << 10 // bytes of JSON
)

const constHint = `write the value as YAML: "5" is text, 5 a number, true a boolean, null is null, [a, b] a list, {a: 1} an object`

// constReader reads a value: constant, counting its nodes.
type constReader struct {
	p        *mappingParser
	nodes    int
	tooLarge bool // a bound was passed: reported once, at the value
}

// constant reads a value: constant of any YAML type into its JSON.
func (p *mappingParser) constant(n ast.Node) (constValue, bool) {
	cr := &constReader{p: p}
	c, ok := cr.read(n, 0)
	switch {
	case cr.tooLarge:
		p.errAt(n, "an alias (*name) inside the value it names makes it endless; write the value out",
			"value is nested more than %d levels deep or has more than %d parts", maxConstDepth, maxConstNodes)
		return constValue{}, false
	case ok && len(c.text) > maxConstSize:
		p.errAt(n, "send a smaller value; a request's field is rarely more than a few lines", "value is larger than %d KiB of JSON", maxConstSize>>10)
		return constValue{}, false
	}
	return c, ok
}

func (cr *constReader) read(orig ast.Node, depth int) (constValue, bool) {
	p := cr.p
	if cr.nodes++; cr.nodes > maxConstNodes || depth > maxConstDepth {
		cr.tooLarge = true
		return constValue{}, false
	}
	n := p.deref(orig)
	switch v := n.(type) {
	case nil:
		if _, ok := orig.(*ast.NullNode); ok || orig == nil {
			break
		}
		return constValue{}, false // an alias or tag, reported by deref
	case *ast.StringNode, *ast.LiteralNode:
		s, _ := scalarText(v)
		return constValue{kind: constString, text: s}, true
	case *ast.BoolNode:
		return constValue{kind: constBool, text: strconv.FormatBool(v.Value)}, true
	case *ast.IntegerNode:
		switch i := v.Value.(type) {
		case int64:
			return constValue{kind: constNumber, text: strconv.FormatInt(i, 10)}, true
		case uint64:
			return constValue{kind: constNumber, text: strconv.FormatUint(i, 10)}, true
		}
	case *ast.FloatNode:
		if math.IsInf(v.Value, 0) || math.IsNaN(v.Value) {
			break
		}
		s := strconv.FormatFloat(v.Value, 'f', -1, 64)
		if !strings.Contains(s, ".") {
			s += ".0" // stays a YAML float when written back
		}
		return constValue{kind: constNumber, text: s}, true
	case *ast.InfinityNode, *ast.NanNode:
		p.errAt(orig, `quote it to send the text ".inf"`, "value %s is not a finite number: JSON has no infinity or NaN", v.GetToken().Value)
		return constValue{}, false
	case *ast.NullNode:
		if tk := v.GetToken(); tk != nil && tk.Type == token.ImplicitNullType {
			p.errAt(orig, `write null to send null, or "" for empty text`, "value is empty")
			return constValue{}, false
		}
		return constValue{kind: constNull, text: "null"}, true
	case *ast.SequenceNode:
		return cr.list(v, depth)
	case *ast.MappingNode, *ast.MappingValueNode:
		return cr.object(orig, depth)
	}
	p.errAt(orig, constHint, "value cannot be %s", describeNode(n))
	return constValue{}, false
}

func (cr *constReader) list(seq *ast.SequenceNode, depth int) (constValue, bool) {
	c := constValue{kind: constList, items: make([]constValue, 0, len(seq.Values))}
	b := []byte{'['}
	for i, item := range seq.Values {
		v, ok := cr.read(item, depth+1)
		if !ok {
			return constValue{}, false
		}
		if i > 0 {
			b = append(b, ',')
		}
		b = v.appendJSON(b)
		c.items = append(c.items, v)
	}
	c.text = string(append(b, ']'))
	return c, true
}

func (cr *constReader) object(n ast.Node, depth int) (constValue, bool) {
	entries, ok := cr.p.mapEntries(n, "value", constHint)
	if !ok {
		return constValue{}, false
	}
	byKey := make(map[string]constValue, len(entries))
	c := constValue{kind: constObject}
	for _, e := range entries {
		key, ok := cr.p.keyText(e)
		if !ok {
			return constValue{}, false
		}
		if _, dup := byKey[key]; dup {
			cr.p.errAt(e, "", "value has the key %q twice", key)
			return constValue{}, false
		}
		v, ok := cr.read(e.Value, depth+1)
		if !ok {
			return constValue{}, false
		}
		byKey[key] = v
		c.keys = append(c.keys, key)
	}
	// Keys in sorted order, as the body's own.
	slices.Sort(c.keys)
	b := []byte{'{'}
	for i, k := range c.keys {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(appendJSONString(b, k), ':')
		v := byKey[k]
		b = v.appendJSON(b)
		c.items = append(c.items, v)
	}
	c.text = string(append(b, '}'))
	return c, true
}

// appendJSON appends the value's JSON.
func (c *constValue) appendJSON(b []byte) []byte {
	if c.kind == constString {
		return appendJSONString(b, c.text)
	}
	return append(b, c.text...)
}
