package zentra

import (
	"encoding/base64"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const (
	redactKey = "sk_sandbox_Q7fT2xLm9PzR4vWc8NbK"
	oddKey    = "gw-token-7Hq2Zp9XkR4mWv8s" // with --api-url any key is allowed
)

// spaced writes s with sep between its characters.
func spaced(s, sep string) string { return strings.Join(strings.Split(s, ""), sep) }

func TestRedact(t *testing.T) {
	b64 := func(s string) string { return base64.StdEncoding.EncodeToString([]byte(s)) }
	cases := []struct {
		name, text, want string
	}{
		{"exact", "bad Bearer " + redactKey + " here", "bad Bearer sk_sandbox_[redacted] here"},
		{"upper case", "BEARER " + strings.ToUpper(redactKey), "BEARER sk_sandbox_[redacted]"},
		{"mixed case prefix, someone else's key", "Sk_Live_abcDEF123", "sk_live_[redacted]"},
		{"already redacted", "Bearer sk_sandbox_[redacted]", "Bearer sk_sandbox_[redacted]"},
		{"already redacted, in brackets", "[Bearer sk_sandbox_[redacted]]", "[Bearer sk_sandbox_[redacted]]"},
		{"a key in brackets", "[Bearer " + redactKey + "]", "[Bearer sk_sandbox_[redacted]]"},
		{"re-spaced", "got " + spaced(strings.ToUpper(redactKey), " "), "got sk_sandbox_[redacted]"},
		{"wrapped", "got " + redactKey[:9] + "\n  " + redactKey[9:] + " ok", "got sk_sandbox_[redacted] ok"},
		{"unprefixed key", "token " + oddKey + ".", "token [redacted]."},
		{"unprefixed key, upper case", "TOKEN " + strings.ToUpper(oddKey), "TOKEN [redacted]"},
		{"unprefixed key, re-spaced", "x " + spaced(oddKey, "  ") + " y", "x [redacted] y"},
		{"unprefixed key, line breaks", "x " + spaced(oddKey, "\r\n") + " y", "x [redacted] y"},
		{"unprefixed key, tabs and zero-width spaces", "x " + spaced(oddKey, "\t\u200b") + " y", "x [redacted] y"},
		{"unprefixed key, soft hyphens", "x " + spaced(oddKey, "\u00ad") + " y", "x [redacted] y"},
		{"URL-encoded", "k=" + strings.ReplaceAll(oddKey, "-", "%2D") + "&", "k=[redacted]&"},
		{"URL-encoded spaces", "k=" + spaced(oddKey, "%20"), "k=[redacted]"},
		{"JSON-escaped", `k "` + strings.ReplaceAll(oddKey, "-", `\u002d`) + `"`, `k "[redacted]"`},
		{"JSON-escaped line breaks", `k ` + spaced(oddKey, `\n`), `k [redacted]`},
		{"Go-escaped", `k ` + strings.ReplaceAll(oddKey, "-", `\x2D`), `k [redacted]`},
		{"Kelvin sign and long s", "k " + strings.ReplaceAll(strings.ReplaceAll(oddKey, "k", "\u212a"), "s", "\u017f"), "k [redacted]"},
		{"no key", "email is invalid; sandbox keys start with sk_sandbox_, live keys with sk_live_", ""},
		{"a hint naming the prefixes", "a sandbox key (sk_sandbox_…) and a live key (sk_live_…)", ""},
		{"part of the key only", "gw-token-7Hq2 is not it", ""},
		{"short prefix", "sk_ and sk_l", ""},
	}
	rd := newRedactor(redactKey, oddKey)
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			want := tc.want
			if want == "" {
				want = tc.text
			}
			got := rd.redact(tc.text)
			assert.Equal(t, want, got)
			assert.Equal(t, got, rd.redact(got), "redacting again changes nothing")
			assert.Equal(t, want != tc.text, rd.holds(tc.text))
		})
	}

	// base64, at each alignment the key can have: "Bearer <key>" (7 bytes before it), and others.
	for _, before := range []string{"Bearer ", "", "a", "ab", "Authorization: Bearer "} {
		for _, key := range []string{redactKey, oddKey} {
			for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.URLEncoding, base64.RawStdEncoding} {
				text := "header " + enc.EncodeToString([]byte(before+key+" end")) + " echoed"
				got := rd.redact(text)
				require.Contains(t, got, redacted, "%q", before)
				for a := range 3 { // no 6-bit group of the key survives at any alignment
					core := keyForms(key)[2+a]
					assert.NotContains(t, got, core, "%q at alignment %d", before, a)
				}
			}
		}
	}
	assert.Equal(t, "x "+b64("Bearer")+" y", rd.redact("x "+b64("Bearer")+" y"), "base64 without the key is kept")
}

// TestRedactFindsMangledKeys mangles the key at random (case, separators, escapes) inside random text: the
// mangled key never survives redaction.
func TestRedactFindsMangledKeys(t *testing.T) {
	rng := rand.New(rand.NewPCG(9, 13))
	seps := []string{" ", "  ", "\n", "\r\n", "\t", "\u00a0", "\u200b", "\u2028", "%20", `\n`, `\u0020`, "\x00"}
	rd := newRedactor(redactKey, oddKey)
	for i := range 2000 {
		key := []string{redactKey, oddKey}[i%2]
		var m strings.Builder
		for j := 0; j < len(key); j++ {
			c := key[j]
			if rng.IntN(2) == 0 {
				c = strings.ToUpper(string(c))[0]
			}
			switch rng.IntN(6) {
			case 0:
				fmt.Fprintf(&m, "%%%02X", c)
			case 1:
				fmt.Fprintf(&m, `\u%04x`, c)
			default:
				m.WriteByte(c)
			}
			if j < len(key)-1 && rng.IntN(3) == 0 {
				m.WriteString(seps[rng.IntN(len(seps))])
			}
		}
		mangled := m.String()
		text := strings.Repeat("é x-1 ", rng.IntN(5)) + mangled + []string{"", " ", ".", "é"}[rng.IntN(4)]
		got := rd.redact(text)
		require.NotContains(t, got, mangled, "%q", text)
		require.Contains(t, got, redacted, "%q", text)
		require.Equal(t, got, rd.redact(got))
	}
}

// TestCleanRedactsBeforeItCuts: a key that the cut to maxMessage runes would split shows no part of itself.
func TestCleanRedactsBeforeItCuts(t *testing.T) {
	rd := newRedactor(oddKey)
	for lead := maxMessage - len(oddKey); lead <= maxMessage; lead++ {
		got := rd.clean(strings.Repeat("x", lead)+oddKey+" and more", maxMessage)
		assert.NotContains(t, got, oddKey[:4], "lead %d: %q", lead, got)
		assert.LessOrEqual(t, len([]rune(got)), maxMessage+1)
	}
	assert.Equal(t, "a b [redacted] c", rd.clean("a\n\tb  "+oddKey+"\x00c", maxMessage))
	// Spaced out with invisible characters (which clean keeps), far past the cut.
	got := rd.clean(strings.Repeat("x", maxMessage-3)+spaced(oddKey, strings.Repeat("\u200b", 500)), maxMessage)
	assert.Equal(t, strings.Repeat("x", maxMessage-3)+"[re…", got)
	got = rd.clean(strings.Repeat("x", 2*cleanLookahead), maxMessage)
	assert.Equal(t, strings.Repeat("x", maxMessage)+"…", got)
}

func TestHoldsKey(t *testing.T) {
	for _, tc := range []struct {
		text string
		keys []Secret
		want bool
	}{
		{"sk_live_abc", nil, true},
		{"SK_LIVE_ABC", nil, true},
		{"/home/ada/sk_sandbox_0123", nil, true},
		{"http://sk_live_x@127.0.0.1:8080", nil, true},
		{"sk_live_", nil, false},
		{"/etc/zentra/live.key", nil, false},
		{"/srv/" + strings.ToUpper(oddKey) + ".key", []Secret{oddKey}, true},
		{"/srv/" + oddKey[:10], []Secret{oddKey}, false},
		{"/srv/short", []Secret{"short"}, false}, // keys under 8 bytes are matched by shape only
	} {
		assert.Equal(t, tc.want, HoldsKey(tc.text, tc.keys...), "%q", tc.text)
	}
}

// BenchmarkRedact measures redaction of a long text (the client reads answers up to 1 MiB), for
// texts that make a naive search slow: no key at all, the key's first half repeated, a Zentra prefix
// repeated, and characters spaced out.
//
//	go test -run '^$' -bench Redact -benchtime 20x ./zentra/
func BenchmarkRedact(b *testing.B) {
	const size = 800 << 10
	texts := map[string]string{
		"plain":           strings.Repeat("the email field is invalid for this customer; ", size/47),
		"key halves":      strings.Repeat(oddKey[:len(oddKey)/2], size/(len(oddKey)/2)),
		"prefixes":        strings.Repeat("sk_live_", size/8),
		"spaced":          strings.Repeat("g w - t o k e n ", size/16),
		"escapes":         strings.Repeat(`%2D\u002d`, size/11),
		"one key in text": strings.Repeat("x", size/2) + strings.ToUpper(oddKey) + strings.Repeat("y", size/2),
	}
	rd := newRedactor(redactKey, oddKey)
	for name, text := range texts {
		b.Run("redact/"+name, func(b *testing.B) { // the whole text (an error's text, as it leaves the client)
			b.SetBytes(int64(len(text)))
			for b.Loop() {
				rd.redact(text)
			}
		})
		b.Run("clean/"+name, func(b *testing.B) { // an API message: cut to 300 runes, read 64 KiB past the cut
			for b.Loop() {
				rd.clean(text, maxMessage)
			}
		})
	}
}

// FuzzRedact: for any text, and the key put into it changed as a server may change it (case,
// separators, escapes; the choices come from the fuzzer), redaction never panics, removes the changed key,
// and changes nothing when run again.
func FuzzRedact(f *testing.F) {
	f.Add("plain text", 0, []byte{})
	f.Add("bad Bearer sk_sandbox_[redacted]] here", 5, []byte{1, 2, 3})
	f.Add("%2D\\u002d\\x2dSK_LIVE_", 3, []byte{0, 0, 0, 7, 7})
	f.Add(strings.Repeat("sk_live_", 20), 8, []byte{9, 9, 9})
	seps := []string{"", " ", "\n", "\r\n\t", "\u200b", "%20", `\n`, `\u0020`, "\u00ad"}
	rd := newRedactor(redactKey, oddKey)
	f.Fuzz(func(t *testing.T, text string, at int, choices []byte) {
		if !utf8.ValidString(text) {
			return
		}
		once := rd.redact(text)
		if again := rd.redact(once); again != once {
			t.Fatalf("redacting twice changed %q into %q", once, again)
		}
		key := []string{redactKey, oddKey}[abs(at)%2]
		var m strings.Builder
		for i := 0; i < len(key); i++ {
			c := key[i]
			var ch byte
			if i < len(choices) {
				ch = choices[i]
			}
			switch ch % 4 {
			case 1:
				c = strings.ToUpper(string(c))[0]
			case 2:
				fmt.Fprintf(&m, "%%%02X", c)
				continue
			case 3:
				fmt.Fprintf(&m, `\u%04x`, c)
				continue
			}
			m.WriteByte(c)
			if i < len(key)-1 {
				m.WriteString(seps[int(ch/4)%len(seps)])
			}
		}
		cut := abs(at) % (len(text) + 1)
		for cut < len(text) && !utf8.RuneStart(text[cut]) {
			cut++
		}
		with := text[:cut] + " " + m.String() + " " + text[cut:]
		got := rd.redact(with)
		if strings.Contains(got, m.String()) || strings.Contains(strings.ToLower(got), strings.ToLower(key)) {
			t.Fatalf("the key survived in %q", got)
		}
	})
}
