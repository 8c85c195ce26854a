package zentra

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Limits on what is read of an answer and kept of its texts.
const (
	maxBody    = 1 << 20 // answers are read up to 1 MiB; a longer one is not JSON the client can use
	drainLimit = 64 << 10
	maxMessage = 300 // runes of an API message kept in an error
	maxCode    = 64  // bytes of an error code or field name
	maxID      = 256 // bytes of a customer id
)

// reply is an answer's body as far as the client understands it.
type reply struct {
	obj     map[string]any // the body, when it is a JSON object
	problem string         // why obj is nil: "non-JSON answer (text/html)", "truncated JSON", …

	code    string // error code as sent, cleaned (may be upper case)
	field   string
	message string
	details map[string]any
	hasErr  bool // the body carries an error object, string or list
	failed  bool // the body declares failure: "success": false, or "status": "error"
}

// decodeReply reads an answer's body. It never fails: what it cannot read becomes reply.problem.
func decodeReply(contentType string, body []byte, tooLarge, cut bool, rd *redactor) *reply {
	r := &reply{}
	mt := rd.mediaType(contentType)
	trimmed := bytes.TrimSpace(bytes.TrimPrefix(body, []byte("\uFEFF"))) // a UTF-8 byte-order mark
	switch {
	case tooLarge:
		r.problem = fmt.Sprintf("answer larger than %d KiB (%s)", maxBody>>10, mt)
		return r
	case len(trimmed) == 0 && cut:
		r.problem = "answer cut off before its body"
		return r
	case len(trimmed) == 0:
		r.problem = "empty answer"
		return r
	case trimmed[0] != '{' && trimmed[0] != '[' && !strings.Contains(mt, "json"):
		r.problem = "non-JSON answer (" + mt + ")"
		return r
	}
	dec := json.NewDecoder(bytes.NewReader(trimmed))
	dec.UseNumber()
	var v any
	err := dec.Decode(&v)
	if err == nil {
		if _, next := dec.Token(); next != io.EOF {
			err = errors.New("data after the JSON value")
		}
	}
	if err != nil && deeperThan(trimmed, jsonMaxDepth) {
		// encoding/json refuses it for its depth alone: read it token by token, which has no such
		// limit, so that the id of a created customer is not lost beside a deep value.
		v, err = decodeDeep(trimmed)
	}
	if err != nil {
		var syn *json.SyntaxError
		switch {
		case cut:
			r.problem = "answer cut off (" + mt + ")"
		case errors.Is(err, io.ErrUnexpectedEOF):
			r.problem = "truncated JSON (" + mt + ")"
		case errors.As(err, &syn):
			r.problem = fmt.Sprintf("invalid JSON at byte %d (%s)", syn.Offset, mt)
		default:
			r.problem = "invalid JSON (" + mt + "): " + err.Error()
		}
		return r
	}
	obj, ok := v.(map[string]any)
	if !ok {
		r.problem = "unexpected JSON: " + jsonKind(v) + " instead of an object"
		return r
	}
	r.obj = obj
	r.readError(rd)
	return r
}

// jsonMaxDepth is the nesting encoding/json decodes at most; deeper, it reports a syntax error.
const jsonMaxDepth = 10_000

// maxReplyDepth is the nesting decodeDeep keeps of an answer: deeper values read as null. What the client
// reads of an answer (the id paths, of at most maxIDPathParts parts, each of which may go through a
// list; the error object) is far shallower.
const maxReplyDepth = 128

// deeperThan reports whether the JSON text b nests objects and lists more than max levels deep. It
// reads only the brackets outside strings, and says nothing of the text's validity.
func deeperThan(b []byte, max int) bool {
	depth, inString := 0, false
	for i := 0; i < len(b); i++ {
		switch c := b[i]; {
		case inString && c == '\\':
			i++
		case c == '"':
			inString = !inString
		case inString:
		case c == '{' || c == '[':
			if depth++; depth > max {
				return true
			}
		case c == '}' || c == ']':
			depth--
		}
	}
	return false
}

// decodeDeep decodes the JSON value b, however deeply it nests, the way Decoder.Decode with UseNumber
// would, except that objects and lists deeper than maxReplyDepth read as null. It reads b token by token
// (Decoder.Token has no depth limit), so that the whole text is checked, and keeps only the frames of
// the kept levels: its memory does not grow with the depth.
func decodeDeep(b []byte) (any, error) {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	type frame struct {
		obj    map[string]any // an object being read, or nil for a list
		list   []any
		key    string
		hasKey bool
	}
	var (
		stack []*frame
		root  any
		done  bool
		skip  int // levels of a value deeper than maxReplyDepth, being read through
	)
	put := func(v any) { // a value read: into the frame on top, or the root
		if len(stack) == 0 {
			root, done = v, true
			return
		}
		f := stack[len(stack)-1]
		switch {
		case f.obj == nil:
			f.list = append(f.list, v)
		case !f.hasKey:
			f.key, f.hasKey = v.(string), true // Token returns an object's keys as strings
		default:
			f.obj[f.key] = v
			f.hasKey = false
		}
	}
	for !done {
		tok, err := dec.Token()
		if err == io.EOF {
			err = io.ErrUnexpectedEOF
		}
		if err != nil {
			return nil, err
		}
		d, isDelim := tok.(json.Delim)
		switch {
		case skip > 0 && isDelim && (d == '{' || d == '['):
			skip++
		case skip > 0 && isDelim:
			if skip--; skip == 0 {
				put(nil)
			}
		case skip > 0:
		case isDelim && (d == '{' || d == '[') && len(stack) == maxReplyDepth:
			skip = 1
		case isDelim && d == '{':
			stack = append(stack, &frame{obj: map[string]any{}})
		case isDelim && d == '[':
			stack = append(stack, &frame{list: []any{}})
		case isDelim: // '}' or ']'
			f := stack[len(stack)-1]
			stack = stack[:len(stack)-1]
			if f.obj != nil {
				put(f.obj)
			} else {
				put(f.list)
			}
		default:
			put(tok)
		}
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, errors.New("data after the JSON value")
	}
	return root, nil
}

// readError finds the error parts of a body in the documented shape
// {"success":false,"error":{"code","message","field","details"}} and its common variants: a string
// error, an "errors" list, a top-level "code" and "message" (or RFC 9457's "detail" and "title").
func (r *reply) readError(rd *redactor) {
	e, present := r.obj["error"]
	if list, ok := r.obj["errors"].([]any); (!present || e == nil) && ok && len(list) > 0 {
		e, present = list[0], true
	}
	switch e := e.(type) {
	case map[string]any:
		r.hasErr = true
		r.code = text(e["code"])
		r.message = text(e["message"])
		r.field = text(e["field"])
		if r.field == "" {
			r.field = text(e["param"])
		}
		r.details, _ = e["details"].(map[string]any)
	case string:
		r.hasErr = present && e != ""
		if looksLikeCode(e) {
			r.code = e
		} else {
			r.message = e
		}
	}
	if r.code == "" {
		if c := text(r.obj["code"]); looksLikeCode(c) {
			r.code = c
		}
	}
	for _, k := range []string{"message", "detail", "title", "error_description"} {
		if r.message != "" {
			break
		}
		r.message = text(r.obj[k])
	}
	r.code = rd.clean(r.code, maxCode)
	r.field = rd.clean(r.field, maxCode)
	r.message = rd.clean(r.message, maxMessage)
	switch s := r.obj["success"].(type) {
	case bool:
		r.failed = !s
	case string:
		r.failed = strings.EqualFold(s, "false")
	}
	switch strings.ToLower(text(r.obj["status"])) {
	case "error", "fail", "failed", "failure":
		r.failed = true
	}
}

// findID returns the first usable id at one of the dotted paths, and whether any path held a value that
// is not a usable id (so that the message can say so).
func findID(obj map[string]any, paths ...[]string) (id string, unusable string) {
	for _, list := range paths {
		for _, p := range list {
			v, ok := lookup(obj, p)
			if !ok {
				continue
			}
			if id, ok := idText(v); ok {
				return id, ""
			}
			if unusable == "" {
				unusable = p + " holds " + jsonKind(v)
			}
		}
	}
	return "", unusable
}

// lookup follows a dotted path through nested objects. A list on the way stands for its first element
// (a lookup answer may list the customers of a reference).
func lookup(obj map[string]any, path string) (any, bool) {
	var v any = obj
	for part := range strings.SplitSeq(path, ".") {
		if l, ok := v.([]any); ok && len(l) > 0 {
			v = l[0]
		}
		m, ok := v.(map[string]any)
		if !ok {
			return nil, false
		}
		if v, ok = m[part]; !ok {
			return nil, false
		}
	}
	return v, true
}

// idText accepts a non-empty string or a number as an id, if it is short, valid UTF-8 without control
// characters.
func idText(v any) (string, bool) {
	var s string
	switch v := v.(type) {
	case string:
		s = strings.TrimSpace(v)
	case json.Number:
		s = v.String()
	default:
		return "", false
	}
	if s == "" || len(s) > maxID || !utf8.ValidString(s) || strings.IndexFunc(s, unicode.IsControl) >= 0 {
		return "", false
	}
	return s, true
}

// text returns a string or a number's text; anything else is "".
func text(v any) string {
	switch v := v.(type) {
	case string:
		return v
	case json.Number:
		return v.String()
	}
	return ""
}

func jsonKind(v any) string {
	switch v := v.(type) {
	case nil:
		return "null"
	case map[string]any:
		return "an object"
	case []any:
		if len(v) == 0 {
			return "an empty list"
		}
		return "a list"
	case string:
		if strings.TrimSpace(v) == "" {
			return "an empty string"
		}
		return "a string"
	case json.Number:
		return "a number"
	case bool:
		return "a boolean"
	}
	return "an unknown value"
}

func looksLikeCode(s string) bool {
	if s == "" || len(s) > maxCode {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '-' || c == '.') {
			return false
		}
	}
	return true
}

// cleanLookahead is how much of a long text is read past the point where clean cuts it, so that a key
// the cut would split is still found whole (even spaced out), while a 1 MiB message costs no more than
// a short one.
const cleanLookahead = 64 << 10

// clean makes an API text safe to show: control characters and invalid bytes become spaces, runs of
// spaces one, every key rd finds is redacted, and it is cut to max runes. The text is redacted before it
// is cut, so that a key the cut would split shows no part of itself.
func (rd *redactor) clean(s string, max int) string {
	if s == "" {
		return ""
	}
	b := make([]byte, 0, min(len(s), 4*max+cleanLookahead))
	space, more := false, false
	runes, cut := 0, -1
	for i := 0; i < len(s); {
		r, size := rune(s[i]), 1
		if r >= utf8.RuneSelf {
			r, size = utf8.DecodeRuneInString(s[i:])
		}
		if r <= ' ' || r == 0x7f || r >= utf8.RuneSelf && (r == utf8.RuneError || unicode.IsControl(r) || unicode.IsSpace(r) || unicode.Is(unicode.Bidi_Control, r)) {
			space = len(b) > 0
			i += size
			continue
		}
		if cut >= 0 && len(b)-cut > cleanLookahead {
			more = true
			break
		}
		if space {
			b = append(b, ' ')
			space = false
		}
		if runes++; runes > max && cut < 0 {
			cut = len(b)
		}
		b = append(b, s[i:i+size]...)
		i += size
	}
	out := rd.redact(string(b))
	n := 0
	for i := range out {
		if n == max {
			return out[:i] + "…"
		}
		n++
	}
	if more {
		return out + "…"
	}
	return out
}

// mediaType returns the media type of a Content-Type header, lower case, or a word for none.
func (rd *redactor) mediaType(ct string) string {
	if ct == "" {
		return "no content type"
	}
	mt, _, err := mime.ParseMediaType(ct)
	if err != nil {
		mt, _, _ = strings.Cut(ct, ";")
		mt = strings.ToLower(strings.TrimSpace(mt))
	}
	if mt = rd.clean(mt, 60); mt == "" {
		return "no content type"
	}
	return mt
}
