package zentra

import (
	"fmt"
	"io"
	"log/slog"
	"strings"
)

// Secret holds a secret API key. It never shows itself: every fmt verb, String, GoString, JSON, text
// marshalling and slog print "[redacted]" (or "[none]" when empty). Only the client reads the value, to put
// it in the Authorization header.
type Secret string

const (
	redacted      = "[redacted]"
	noSecret      = "[none]"
	sandboxPrefix = "sk_sandbox_"
	livePrefix    = "sk_live_"
)

func (s Secret) shown() string {
	if s == "" {
		return noSecret
	}
	return redacted
}

// String returns "[redacted]", or "[none]" for an empty key.
func (s Secret) String() string { return s.shown() }

// GoString returns zentra.Secret("[redacted]"), for %#v.
func (s Secret) GoString() string { return `zentra.Secret("` + s.shown() + `")` }

// Format prints the redacted form for every verb and flag.
func (s Secret) Format(f fmt.State, verb rune) {
	if verb == 'v' && f.Flag('#') {
		_, _ = io.WriteString(f, s.GoString())
		return
	}
	_, _ = io.WriteString(f, s.shown())
}

// MarshalJSON writes the redacted form.
func (s Secret) MarshalJSON() ([]byte, error) { return []byte(`"` + s.shown() + `"`), nil }

// MarshalText writes the redacted form (YAML, XML, CSV encoders that use encoding.TextMarshaler).
func (s Secret) MarshalText() ([]byte, error) { return []byte(s.shown()), nil }

// LogValue makes slog print the redacted form.
func (s Secret) LogValue() slog.Value { return slog.StringValue(s.shown()) }

// Environment names the key's environment from its prefix: "sandbox", "live" or "" (unknown).
func (s Secret) Environment() string {
	switch {
	case strings.HasPrefix(string(s), sandboxPrefix):
		return "sandbox"
	case strings.HasPrefix(string(s), livePrefix):
		return "live"
	}
	return ""
}
