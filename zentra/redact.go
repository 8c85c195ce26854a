package zentra

import (
	"encoding/base64"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"
)

// minRedact is the shortest key that is searched for by its value: shorter keys would match ordinary
// words (anything shaped like a Zentra key is redacted whatever its length).
const minRedact = 8

// A redactor removes secret keys from texts that come from elsewhere (an API's message, a proxy's error, a
// transport's failure) or that a user typed in the wrong place. It finds:
//
//   - anything shaped like a Zentra key, whosever it is: sk_live_ or sk_sandbox_ in any case, then key
//     bytes; it becomes the prefix and "[redacted]";
//   - each known key (the client's own, of any shape) by its value, ignoring case (as [strings.EqualFold]
//     does), with separators inserted between its characters (white space, line breaks, control and
//     invisible characters: a server that wraps or re-spaces text), with any character URL-encoded (%5F) or
//     escaped as in JSON or Go (\u005f, \x5f, \/), and base64-encoded at any alignment (a proxy that echoes
//     "Authorization: Bearer <key>" base64-encoded); it becomes "[redacted]".
//
// The text is read once, as a stream of decoded, case-folded characters without separators, through one
// Aho-Corasick automaton of all the patterns: one table lookup a character, so the time is linear in the
// text's length whatever the keys or the text hold. A redacted text passes through again unchanged.
type redactor struct {
	pats  []pattern
	class [256]uint8 // byte → column of next; 0 for bytes in no pattern
	cols  int
	next  []int32   // the automaton: next[state*cols+class]
	out   [][]int32 // the patterns that end in each state (longest first)
	width int       // the longest pattern, a power of two
}

// pattern is one text searched for, folded.
type pattern struct {
	text  string
	shape string // for a Zentra prefix: the prefix to write before "[redacted]"; the key's bytes follow
}

// anyKey redacts what is shaped like a Zentra key; it knows no key's value.
var anyKey = newRedactor()

// newRedactor builds a redactor that knows keys (those shorter than minRedact are matched by shape only).
func newRedactor(keys ...Secret) *redactor {
	rd := &redactor{}
	seen := map[string]bool{}
	add := func(text, shape string) {
		if text = fold(text); text == "" || seen[text] {
			return
		}
		seen[text] = true
		rd.pats = append(rd.pats, pattern{text: text, shape: shape})
	}
	add(sandboxPrefix, sandboxPrefix)
	add(livePrefix, livePrefix)
	for _, k := range keys {
		if len(k) < minRedact {
			continue
		}
		for _, form := range keyForms(string(k)) {
			add(form, "")
		}
	}
	rd.build()
	return rd
}

// build makes the automaton: a trie of the patterns, completed with its failure links into a table.
func (rd *redactor) build() {
	rd.cols = 1
	rd.width = 1
	for _, p := range rd.pats {
		for i := 0; i < len(p.text); i++ {
			if rd.class[p.text[i]] == 0 {
				rd.class[p.text[i]] = uint8(rd.cols)
				rd.cols++
			}
		}
		for rd.width < len(p.text) {
			rd.width *= 2
		}
	}
	rd.next = make([]int32, rd.cols, 64*rd.cols) // state 0, the root; -1: no edge yet
	for i := range rd.next {
		rd.next[i] = -1
	}
	rd.out = [][]int32{nil}
	for id, p := range rd.pats {
		s := int32(0)
		for i := 0; i < len(p.text); i++ {
			at := int(s)*rd.cols + int(rd.class[p.text[i]])
			if rd.next[at] < 0 {
				rd.next[at] = int32(len(rd.out))
				rd.out = append(rd.out, nil)
				for range rd.cols {
					rd.next = append(rd.next, -1)
				}
			}
			s = rd.next[at]
		}
		rd.out[s] = append(rd.out[s], int32(id))
	}
	fail := make([]int32, len(rd.out))
	queue := []int32{}
	for c := range rd.cols {
		if t := rd.next[c]; t < 0 {
			rd.next[c] = 0
		} else {
			queue = append(queue, t)
		}
	}
	for len(queue) > 0 {
		s := queue[0]
		queue = queue[1:]
		rd.out[s] = append(rd.out[s], rd.out[fail[s]]...) // the patterns that end in a suffix too
		for c := range rd.cols {
			at := int(s)*rd.cols + c
			if t := rd.next[at]; t < 0 {
				rd.next[at] = rd.next[int(fail[s])*rd.cols+c]
			} else {
				fail[t] = rd.next[int(fail[s])*rd.cols+c]
				queue = append(queue, t)
			}
		}
	}
}

// keyForms are the texts a key is searched as, before folding: the key; the key as the text decoder reads
// it (a key holding "%41" or "\n" itself); and the characters of its base64 encodings, standard and URL,
// that depend on the key's bytes alone, for each of the three alignments it can have in a longer text.
func keyForms(k string) []string {
	forms := []string{k, decoded(k)}
	for _, enc := range []*base64.Encoding{base64.RawStdEncoding, base64.RawURLEncoding} {
		for a := range 3 {
			b64 := enc.EncodeToString(append(make([]byte, a), k...))
			from, to := (8*a+5)/6, 8*(a+len(k))/6 // the characters whose 6 bits all come from the key
			forms = append(forms, b64[from:to])
		}
	}
	return forms
}

// decoded is s as the redactor reads it: escapes decoded, separators dropped, not folded.
func decoded(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); {
		c, n, sep := unitAt(s, i)
		if !sep && c != opaque {
			b.WriteByte(c)
		}
		i += n
	}
	return b.String()
}

// fold lower-cases ASCII letters (keys are printable ASCII; see checkKey).
func fold(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		b.WriteByte(lower(s[i]))
	}
	return b.String()
}

func lower(c byte) byte {
	if 'A' <= c && c <= 'Z' {
		return c + 'a' - 'A'
	}
	return c
}

// opaque stands for a character that is part of no key: outside ASCII, and not a separator.
const opaque = 0x80

// unitAt decodes the character at text[i:]: its folded ASCII byte c (or opaque), the bytes it takes, and
// whether it is a separator (dropped from the stream).
func unitAt(text string, i int) (c byte, n int, sep bool) {
	b := text[i]
	switch {
	case b == '%' && i+2 < len(text) && isHex(text[i+1]) && isHex(text[i+2]):
		c, sep = foldRune(rune(unhex(text[i+1])<<4 | unhex(text[i+2])))
		return c, 3, sep
	case b == '\\' && i+1 < len(text):
		switch e := text[i+1]; e {
		case 'u':
			if i+5 < len(text) && isHex(text[i+2]) && isHex(text[i+3]) && isHex(text[i+4]) && isHex(text[i+5]) {
				r := rune(unhex(text[i+2]))<<12 | rune(unhex(text[i+3]))<<8 | rune(unhex(text[i+4]))<<4 | rune(unhex(text[i+5]))
				c, sep = foldRune(r)
				return c, 6, sep
			}
		case 'x':
			if i+3 < len(text) && isHex(text[i+2]) && isHex(text[i+3]) {
				c, sep = foldRune(rune(unhex(text[i+2])<<4 | unhex(text[i+3])))
				return c, 4, sep
			}
		case 'n', 'r', 't', 'b', 'f', 'v', '0':
			return 0, 2, true
		case '/', '\\', '"', '\'':
			return e, 2, false
		}
	}
	if b < utf8.RuneSelf {
		c, sep = foldRune(rune(b))
		return c, 1, sep
	}
	r, size := utf8.DecodeRuneInString(text[i:])
	if r == utf8.RuneError && size == 1 {
		return 0, 1, true // an invalid byte: clean() shows it as a space
	}
	c, sep = foldRune(r)
	return c, size, sep
}

// foldRune folds a character: ASCII letters to lower case, and the two non-ASCII letters that
// strings.EqualFold equates with ASCII ones (K, the Kelvin sign, and ſ, the long s); white space,
// control and format characters (zero-width spaces, soft hyphens, direction marks) are separators.
func foldRune(r rune) (c byte, sep bool) {
	switch {
	case r <= ' ' || r == 0x7f:
		return 0, true
	case r < utf8.RuneSelf:
		return lower(byte(r)), false
	case r == '\u212a':
		return 'k', false
	case r == '\u017f':
		return 's', false
	case unicode.IsSpace(r) || unicode.IsControl(r) || unicode.Is(unicode.Cf, r):
		return 0, true
	}
	return opaque, false
}

func isHex(c byte) bool { return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F' }

func unhex(c byte) byte {
	switch {
	case c <= '9':
		return c - '0'
	case c >= 'a':
		return c - 'a' + 10
	}
	return c - 'A' + 10
}

// keyBytes are the bytes that can be part of a key's body after a Zentra prefix: printable ASCII but for
// quotes and the punctuation that ends a key in a text (opaque is not one).
var keyBytes = func() (t [256]bool) {
	for c := '!'; c < 0x7f; c++ {
		t[c] = !strings.ContainsRune(`"',;)]}>`, c)
	}
	return t
}()

// span is a part of a text to replace: text[start:end], by prefix + "[redacted]".
type span struct {
	start, end int
	prefix     string
}

// body is a Zentra prefix being followed over its key's bytes.
type body struct {
	start  int    // where the prefix began
	end    int    // the end of the last key byte so far (the prefix's end while there is none)
	prefix string // the prefix to write
	spaced bool   // the prefix had separators inside: the key's bytes may too
	bytes  int    // key bytes so far
}

// scan finds the spans of text to redact, in order and merged; nil when there are none.
func (rd *redactor) scan(text string) []span {
	var (
		spans  []span
		starts = make([]int, rd.width) // ring: where each of the last width characters began
		sepAt  = make([]int, rd.width) // ring: how many separators came before each of them
		mask   = rd.width - 1
		units  int   // characters (not separators) so far
		seps   int   // separators so far
		state  int32 // of the automaton
		bodies []body
		sepRun bool // a separator since the last character
	)
	endBody := func(b body) {
		if b.bytes > 0 {
			spans = append(spans, span{start: b.start, end: b.end, prefix: b.prefix})
		}
	}
	for i := 0; i < len(text); {
		var (
			c   byte
			n   = 1
			sep bool
		)
		if b := text[i]; b > ' ' && b < 0x7f && b != '%' && b != '\\' {
			c = lower(b)
		} else if c, n, sep = unitAt(text, i); sep {
			seps++
			sepRun = true
			i += n
			continue
		}
		if len(bodies) > 0 { // follow the Zentra prefixes found over their key's bytes
			live, keyByte := 0, keyBytes[c]
			for k := range bodies {
				if b := &bodies[k]; keyByte && (!sepRun || b.spaced) {
					b.end = i + n
					b.bytes++
					if live != k {
						bodies[live] = *b
					}
					live++
				} else {
					endBody(*b)
				}
			}
			bodies = bodies[:live]
		}
		sepRun = false
		starts[units&mask], sepAt[units&mask] = i, seps
		units++
		state = rd.next[int(state)*rd.cols+int(rd.class[c])]
		for _, id := range rd.out[state] {
			pat := &rd.pats[id]
			first := (units - len(pat.text)) & mask
			start := starts[first]
			if pat.shape == "" {
				spans = append(spans, span{start: start, end: i + n})
				bodies = explained(bodies, start, i+n, endBody)
			} else if b := (body{start: start, end: i + n, prefix: pat.shape, spaced: seps != sepAt[first]}); !strings.HasPrefix(text[i+n:], redacted) && !covered(bodies, b) {
				bodies = append(bodies, b) // (a text already redacted is left alone)
			}
		}
		i += n
	}
	for _, b := range bodies {
		endBody(b)
	}
	return merge(spans)
}

// explained ends the bodies that a known key's match from start to end explains: the key is the prefix's,
// and the match says where it ends (a spaced prefix's key bytes would go on over the words after it).
func explained(bodies []body, start, end int, endBody func(body)) []body {
	kept := bodies[:0]
	for _, b := range bodies {
		if b.start == start {
			b.end, b.bytes = end, max(b.bytes, 1)
			endBody(b)
			continue
		}
		kept = append(kept, b)
	}
	return kept
}

// covered says whether a body being followed goes on at least as far as b will: then b adds nothing (and
// there are never more than two bodies at a time, whatever the text).
func covered(bodies []body, b body) bool {
	for _, o := range bodies {
		if o.spaced || !b.spaced {
			return true
		}
	}
	return false
}

// merge sorts spans and joins those that overlap; the first of a run gives the prefix.
func merge(spans []span) []span {
	if len(spans) < 2 {
		return spans
	}
	slices.SortStableFunc(spans, func(a, b span) int { // by start; at the same start a prefix first
		if a.start != b.start {
			return a.start - b.start
		}
		return len(b.prefix) - len(a.prefix)
	})
	out := spans[:1]
	for _, s := range spans[1:] {
		if last := &out[len(out)-1]; s.start < last.end {
			last.end = max(last.end, s.end)
			continue
		}
		out = append(out, s)
	}
	return out
}

// redact returns text with every key it finds replaced.
func (rd *redactor) redact(text string) string {
	spans := rd.scan(text)
	if spans == nil {
		return text
	}
	var b strings.Builder
	b.Grow(len(text))
	at := 0
	for _, s := range spans {
		b.WriteString(text[at:s.start])
		b.WriteString(s.prefix)
		b.WriteString(redacted)
		at = s.end
	}
	b.WriteString(text[at:])
	return b.String()
}

// holds says whether text holds a key the redactor would remove.
func (rd *redactor) holds(text string) bool { return rd.scan(text) != nil }

// Redact returns text without anything shaped like a Zentra secret key (sk_live_…, sk_sandbox_…, in any
// case) and without any of keys, found by value however their case or spacing was changed, escaped or
// base64-encoded. It is for texts that may quote a key: a user's mistaken argument, another program's
// error.
func Redact(text string, keys ...Secret) string { return newRedactor(keys...).redact(text) }

// HoldsKey says whether text holds something shaped like a Zentra secret key, or one of keys (as
// [Redact] finds them). It is how a value given where a path or a URL belongs is recognised as a key.
func HoldsKey(text string, keys ...Secret) bool { return newRedactor(keys...).holds(text) }
