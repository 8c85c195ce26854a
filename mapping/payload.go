package mapping

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"unicode/utf8"

	"github.com/zentra/zentra-import/csvfile"
)

// RulesVersion names the rules by which rows are numbered, read and mapped. Bump it with any change that
// alters, for the same input and mapping file, a row's number, its reference or its body: a job started
// under other rules is then refused on resume (the journal's rows would no longer be the input's rows, or
// would be asked with other Idempotency-Keys) instead of being continued.
//
// Version 2: lines without data are skipped like blank lines; external_reference is trimmed; one_of with
// ignore_case sends the value, and the default, as the list spells it.
//
// Version 3: a record with broken quoting, or longer than 1 MiB, is one row to its end as RFC 4180
// delimits it (a quote never closed takes the rest of the file), where its lines after the first were
// rows before; and title keeps name particles (van, de, la, bin…) in lower case inside a name.
const RulesVersion = "3"

// MaxRefLen is the longest external_reference, in bytes, that a row may have. Zentra documents no limit;
// references are identifiers (tens of bytes), and this bound keeps a wrong column or a runaway quoted field
// from becoming an Idempotency-Key, a journal entry and a name in every log line.
const MaxRefLen = 256

// Payload is one row's request: its external_reference and the JSON object to send.
type Payload struct {
	Ref  string
	Body []byte
	// Lossy lists the name fields (targets whose last segment has "name" in it) whose value holds a "?"
	// or U+FFFD: almost never in a real name, and the mark of an export that replaced the characters its
	// encoding could not hold (?ukasiewicz for Łukasiewicz). The row is still sent; validate warns.
	Lossy []string
}

// FieldProblem is one reason a row cannot be sent. It names the field and the column, never the value
// (values are personal data), so it is safe in logs, results.csv and rejects.csv.
type FieldProblem struct {
	Field  string // the target ("email"), "email or phone" for require_one_of, "" for the row as a whole
	Column string // the header column(s) the value came from, or ""
	Reason string // what is wrong: "not a valid email address", "required but empty"
}

// String renders the problem as `email (column E-mail): not a valid email address`.
func (p FieldProblem) String() string {
	switch {
	case p.Field == "":
		return p.Reason
	case p.Column == "":
		return p.Field + ": " + p.Reason
	}
	return p.Field + " (column " + p.Column + "): " + p.Reason
}

// RowError is every problem of one row. Its message lists them all, and contains no value of the row.
type RowError struct {
	Problems []FieldProblem
}

func (e *RowError) Error() string {
	s := make([]string, len(e.Problems))
	for i, p := range e.Problems {
		s[i] = p.String()
	}
	return strings.Join(s, "; ")
}

// Mapper is a Mapping bound to a header: a plan that turns each row into a Payload without reflection
// and with few allocations. It is safe for concurrent use.
type Mapper struct {
	ncols     int
	fields    []compiledField // in the order of the body: sorted by target path
	evalOrder []int           // indexes into fields, in the order of the mapping file (problems are listed so)
	ref       int             // index of external_reference in fields
	require   []int           // require_one_of, indexes into fields
	names     []int           // name fields (see Payload.Lossy), indexes into fields
	requireP  FieldProblem    // the problem when none of them is present
	fixedLen  int             // bytes of keys and punctuation of a body with every field
	maxDepth  int
	scratch   sync.Pool // *mapperScratch
}

type compiledField struct {
	*fieldSpec
	column  int            // fromColumn: index in the row
	parts   []compiledPart // fromTemplate
	columns string         // the header's names of the source columns, for problems
	defText string         // the default as it goes into the body (JSON literal when defRaw)
	defRaw  bool
	segs    []string // the target's path
	keys    [][]byte // `"segment":` for each segment of the path
	isRef   bool     // the field is external_reference
	latin1  bool     // the mapping reads the file as ISO-8859-1 (for the hint about C1 controls)
	today   string   // the date Compile ran (YYYY-MM-DD), for a date pivot and a range up to today
}

// compiledPart is a template's literal text, or its column (index and header name) when column >= 0.
type compiledPart struct {
	literal string
	column  int
	name    string
}

type valueState uint8

const (
	valueAbsent valueState = iota // empty and optional: left out of the body
	valuePresent
	valueFailed // the row has a problem with this field
)

// fieldValue is one field's result for the current row: text, or a JSON literal when raw.
type fieldValue struct {
	text  string
	raw   bool
	state valueState
}

type mapperScratch struct {
	values []fieldValue
	comma  []bool
}

// Compile binds the mapping to the input's header: every column it names is resolved, once. An unknown
// or ambiguous column is a [MappingErrors] entry at the mapping file's line, naming the header's columns
// and the closest match.
func (m *Mapping) Compile(header []string) (*Mapper, error) {
	mp := &Mapper{ncols: len(header), ref: -1}
	enc, _, _ := csvfile.ParseEncoding(m.csv.Encoding)
	latin1 := enc == csvfile.ISO88591
	var errs MappingErrors
	columns := newColumnIndex(header)
	resolve := func(name string, pos mappingPos) int {
		i, err := columns.resolve(name)
		if err != nil {
			var ce *ColumnError
			errors.As(err, &ce)
			errs = append(errs, &MappingError{File: m.name, Line: pos.line, Column: pos.col, Msg: ce.Error(), Hint: ce.Hint()})
		}
		return i
	}
	mp.fields = make([]compiledField, len(m.fields))
	today := todayDate()
	for i, spec := range m.fields {
		f := &mp.fields[i]
		f.fieldSpec, f.today = spec, today
		f.segs = strings.Split(spec.target, ".")
		f.isRef, f.latin1 = spec.target == "external_reference", latin1
		for _, seg := range f.segs {
			f.keys = append(f.keys, append(appendJSONString(nil, seg), ':'))
			mp.fixedLen += len(seg) + 5 // quotes, colon, comma and an object's braces at most
		}
		mp.maxDepth = max(mp.maxDepth, len(f.segs))
		var cols []string
		switch spec.source {
		case fromColumn:
			f.column = resolve(spec.column, spec.sourcePos)
			if f.column >= 0 {
				cols = append(cols, header[f.column])
			}
		case fromTemplate:
			for _, part := range spec.template {
				if part.column == "" {
					f.parts = append(f.parts, compiledPart{literal: part.literal, column: -1})
					continue
				}
				c := resolve(part.column, spec.sourcePos)
				if c < 0 {
					continue
				}
				if !slices.Contains(cols, header[c]) {
					cols = append(cols, header[c])
				}
				f.parts = append(f.parts, compiledPart{column: c, name: header[c]})
			}
		}
		f.columns = strings.Join(cols, ", ")
		if spec.hasDefault {
			f.defText, _ = spec.defaultJSON(today) // checked by Parse
			f.defRaw = spec.typ != typeString || spec.split != ""
		}
	}
	if len(errs) > 0 {
		return nil, sortProblems(errs)
	}
	// The body's keys are written in sorted order, nested objects with their fields.
	order := make([]int, len(mp.fields))
	for i := range order {
		order[i] = i
	}
	slices.SortStableFunc(order, func(a, b int) int { return slices.Compare(mp.fields[a].segs, mp.fields[b].segs) })
	sorted := make([]compiledField, len(mp.fields))
	mp.evalOrder = make([]int, len(mp.fields))
	for pos, i := range order {
		sorted[pos] = mp.fields[i]
		mp.evalOrder[i] = pos
	}
	mp.fields = sorted
	byTarget := make(map[string]int, len(mp.fields))
	for i, f := range mp.fields {
		byTarget[f.target] = i
	}
	mp.ref = byTarget["external_reference"]
	for i, f := range mp.fields {
		if f.source != fromValue && f.typ == typeString && strings.Contains(strings.ToLower(f.segs[len(f.segs)-1]), "name") {
			mp.names = append(mp.names, i)
		}
	}
	if len(m.requireOneOf) > 0 {
		var cols []string
		for _, t := range m.requireOneOf {
			i := byTarget[t]
			mp.require = append(mp.require, i)
			if c := mp.fields[i].columns; c != "" {
				cols = append(cols, c)
			}
		}
		mp.requireP = FieldProblem{
			Field:  strings.Join(m.requireOneOf, " or "),
			Reason: "at least one is required, all are empty",
		}
		if len(cols) > 0 {
			mp.requireP.Reason += " (columns " + strings.Join(cols, ", ") + ")"
		}
	}
	mp.scratch.New = func() any {
		return &mapperScratch{values: make([]fieldValue, len(mp.fields)), comma: make([]bool, mp.maxDepth+1)}
	}
	return mp, nil
}

// ReadsColumn reports whether a field is made from column i of the header, alone or in a template: the
// column is data, which the rejects file never takes for its error column (csvfile.WithData).
func (mp *Mapper) ReadsColumn(i int) bool {
	for _, f := range mp.fields {
		if f.source == fromColumn && f.column == i {
			return true
		}
		for _, p := range f.parts {
			if p.column == i {
				return true
			}
		}
	}
	return false
}

// Map turns one row (the reader's Fields, one per header column) into its payload. When the row cannot be
// sent, the error is a *RowError listing every problem of the row, and the Payload has no Body but still
// carries Ref when the external_reference itself could be made (so that the row can be named in logs).
func (mp *Mapper) Map(row []string) (Payload, error) {
	if len(row) != mp.ncols {
		return Payload{}, &RowError{Problems: []FieldProblem{{
			Reason: fmt.Sprintf("the row has %d values for the header's %d columns", len(row), mp.ncols),
		}}}
	}
	sc := mp.scratch.Get().(*mapperScratch)
	defer func() {
		clear(sc.values) // do not keep the row's values alive in the pool
		mp.scratch.Put(sc)
	}()
	vals := sc.values
	var problems []FieldProblem
	size := mp.fixedLen + 2
	for _, i := range mp.evalOrder {
		if p, ok := mp.fields[i].eval(row, &vals[i]); !ok {
			problems = append(problems, p)
		}
		size += len(vals[i].text)
	}
	if len(mp.require) > 0 {
		found := false
		for _, i := range mp.require {
			found = found || vals[i].state != valueAbsent
		}
		if !found {
			problems = append(problems, mp.requireP)
		}
	}
	var ref string
	if v := &vals[mp.ref]; v.state == valuePresent {
		if len(v.text) > MaxRefLen {
			// Not an identifier: a wrong column, or a whole record run together by broken quoting.
			// Refused here, it is one bad row; sent, it would be a key, a journal entry and a log name.
			problems = append(problems, mp.fields[mp.ref].problem(fmt.Sprintf(
				"%d bytes long, over the %d an external_reference may have: check which column the mapping uses", len(v.text), MaxRefLen)))
		} else {
			ref = v.text
		}
	}
	if len(problems) > 0 {
		return Payload{Ref: ref}, &RowError{Problems: problems}
	}
	body := make([]byte, 0, size+size/8)
	var lossy []string
	for _, i := range mp.names {
		if v := &vals[i]; v.state == valuePresent && strings.ContainsAny(v.text, "?\uFFFD") {
			lossy = append(lossy, mp.fields[i].target)
		}
	}
	return Payload{Ref: ref, Body: mp.appendBody(body, vals, sc.comma), Lossy: lossy}, nil
}

// eval computes one field of the row into out, or returns its problem.
func (f *compiledField) eval(row []string, out *fieldValue) (FieldProblem, bool) {
	if f.source == fromValue {
		*out = fieldValue{text: f.constant.text, raw: f.constant.kind != constString, state: valuePresent}
		return FieldProblem{}, true
	}
	var s, emptyColumns string
	if f.source == fromColumn {
		s = row[f.column]
	} else {
		s, emptyColumns = f.render(row)
	}
	if f.isRef {
		// The reference is an identifier: " 7 " and "7" are the same row's, for the duplicate check and
		// the idempotency key alike, whatever the source (a template already trims each column).
		s = trimFieldValue(s)
	}
	if !utf8.ValidString(s) {
		// The reader decodes the file's encoding and rejects bytes invalid in it; other sources must too.
		out.state = valueFailed
		return f.problem("not valid text in UTF-8 (check the file's encoding, csv: encoding in the mapping)"), false
	}
	if reason := f.controlReason(s); reason != "" {
		out.state = valueFailed
		return f.problem(reason), false
	}
	var text, reason string
	var empty bool
	if f.split == "" {
		text, empty, reason = f.value(s)
	} else {
		text, empty, reason = f.list(s)
	}
	switch {
	case reason != "":
		out.state = valueFailed
		return f.problem(reason), false
	case !empty:
		*out = fieldValue{text: text, raw: f.typ != typeString || f.split != "", state: valuePresent}
		return FieldProblem{}, true
	case f.hasDefault:
		*out = fieldValue{text: f.defText, raw: f.defRaw, state: valuePresent}
		return FieldProblem{}, true
	case f.optional:
		*out = fieldValue{state: valueAbsent}
		return FieldProblem{}, true
	}
	out.state = valueFailed
	p := f.problem("required but empty")
	if emptyColumns != "" {
		p.Column = emptyColumns
	}
	return p, false
}

// value makes one value of the field from s: transformed, checked and converted to its type's JSON
// literal (for a string, the text itself). empty says that nothing is left after the transforms.
func (f *compiledField) value(s string) (text string, empty bool, reason string) {
	if !isBlankValue(s) {
		for i := range f.transforms {
			if s, reason = f.transforms[i].apply(s, f.region, f.today); reason != "" {
				return "", false, reason
			}
		}
	}
	if isBlankValue(s) {
		return "", true, ""
	}
	text, reason = f.checkValue(s, f.today)
	return text, false, reason
}

// list makes the JSON array of a split: field from s: each item is made as value makes a single one, and
// items left empty are dropped. empty says that no item is left.
func (f *compiledField) list(s string) (text string, empty bool, reason string) {
	b := make([]byte, 0, len(s)+8)
	b = append(b, '[')
	i := 0
	for item := range strings.SplitSeq(s, f.split) {
		i++
		v, empty, reason := f.value(item)
		if reason != "" {
			return "", false, itemReason(i, reason)
		}
		if empty {
			continue
		}
		if len(b) > 1 {
			b = append(b, ',')
		}
		b = f.appendJSONValue(b, v)
	}
	if len(b) == 1 {
		return "", true, ""
	}
	return string(append(b, ']')), false, ""
}

// controlReason says why s, valid UTF-8, cannot be sent because of a control character in it, or "".
// No value may hold a C0 control other than tab, CR and LF (NUL, the padding of legacy exports, among
// them) nor a C1 control (U+0080 to U+009F): they are not text, and the API would store them. An
// external_reference, an identifier that names the row in logs and files, may hold no control at all.
// The reason names the character's code point, never the value.
func (f *compiledField) controlReason(s string) string {
	for i := 0; i < len(s); i++ {
		c := s[i]
		var r rune
		switch {
		case c < 0x20 && (f.isRef || c != '\t' && c != '\r' && c != '\n'), f.isRef && c == 0x7F:
			r = rune(c)
		case c == 0xC2 && i+1 < len(s) && s[i+1] < 0xA0: // U+0080 to U+009F, as s is valid UTF-8
			r = rune(s[i+1])
		default:
			continue
		}
		var what string
		switch r {
		case 0:
			what = "a NUL character (U+0000)"
		case '\t':
			what = "a tab"
		case '\r', '\n':
			what = "a line break"
		default:
			what = fmt.Sprintf("the control character U+%04X", r)
		}
		switch {
		case r >= 0x80 && f.latin1:
			return "has " + what + ": the file looks like Windows-1252 read as ISO-8859-1: set csv.encoding: windows-1252"
		case r >= 0x80:
			return "has " + what + ", a C1 control, not text (was the file converted from Windows-1252 as if it were ISO-8859-1?): fix the value in the file"
		case f.isRef:
			return "has " + what + ", which an external_reference may not hold: fix the value in the file"
		}
		return "has " + what + ", which is not text: remove it from the value in the file"
	}
	return ""
}

func (f *compiledField) problem(reason string) FieldProblem {
	return FieldProblem{Field: f.target, Column: f.columns, Reason: reason}
}

// render fills the template from the row. Each column's value goes in without surrounding spaces; if any
// is empty, the result is empty and the second result names the empty columns.
func (f *compiledField) render(row []string) (string, string) {
	n := 0
	anyEmpty := false
	for _, p := range f.parts {
		if p.column < 0 {
			n += len(p.literal)
			continue
		}
		v := trimFieldValue(row[p.column])
		anyEmpty = anyEmpty || v == ""
		n += len(v)
	}
	if anyEmpty {
		var names []string
		for _, p := range f.parts {
			if p.column >= 0 && trimFieldValue(row[p.column]) == "" && !slices.Contains(names, p.name) {
				names = append(names, p.name)
			}
		}
		return "", strings.Join(names, ", ")
	}
	var b strings.Builder
	b.Grow(n)
	for _, p := range f.parts {
		if p.column < 0 {
			b.WriteString(p.literal)
		} else {
			b.WriteString(trimFieldValue(row[p.column]))
		}
	}
	return b.String(), ""
}

// appendBody writes the JSON object of the row's present fields. Fields are sorted by path, so the fields
// of a nested object are adjacent: it is opened before the first of them that is present and closed after
// the last, and an object with no present field is left out.
func (mp *Mapper) appendBody(b []byte, vals []fieldValue, comma []bool) []byte {
	b = append(b, '{')
	comma[0] = false
	depth, last := 0, -1
	for i := range mp.fields {
		if vals[i].state != valuePresent {
			continue
		}
		f := &mp.fields[i]
		parents := len(f.segs) - 1
		shared := 0
		if last >= 0 {
			prev := mp.fields[last].segs
			for shared < depth && shared < parents && prev[shared] == f.segs[shared] {
				shared++
			}
		}
		for ; depth > shared; depth-- {
			b = append(b, '}')
		}
		for ; depth < parents; depth++ {
			if comma[depth] {
				b = append(b, ',')
			}
			b = append(b, f.keys[depth]...)
			b = append(b, '{')
			comma[depth] = true
			comma[depth+1] = false
		}
		if comma[depth] {
			b = append(b, ',')
		}
		b = append(b, f.keys[parents]...)
		if vals[i].raw {
			b = append(b, vals[i].text...)
		} else {
			b = appendJSONString(b, vals[i].text)
		}
		comma[depth] = true
		last = i
	}
	for ; depth > 0; depth-- {
		b = append(b, '}')
	}
	return append(b, '}')
}
