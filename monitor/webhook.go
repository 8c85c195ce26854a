package monitor

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// The headers of a signed notification.
const (
	// TimestampHeader is when the notification was signed, in Unix seconds (decimal digits).
	TimestampHeader = "X-Zentra-Import-Timestamp"
	// SignatureHeader is "sha256=" and the lowercase hex of HMAC-SHA256(secret, timestamp + "." + body).
	SignatureHeader = "X-Zentra-Import-Signature"
)

// DefaultTolerance is how far from the receiver's clock Verify accepts a timestamp, either way.
const DefaultTolerance = 5 * time.Minute

// MinSecretLen is the shortest secret NewNotifier accepts, in bytes.
const MinSecretLen = 16

// A SecretError is a notify secret NewNotifier refuses. It never quotes the secret.
type SecretError struct {
	Reason string
	Hint   string
}

func (e *SecretError) Error() string { return "notify secret: " + e.Reason }

// The errors Verify wraps.
var (
	ErrNotSigned    = errors.New("not signed")        // a header is missing, repeated or malformed
	ErrStale        = errors.New("timestamp too far") // signed outside the tolerance: a replay, or a clock off
	ErrBadSignature = errors.New("signature does not match")
)

// A Notifier POSTs a JSON document to a webhook, signed: HMAC-SHA256 with a shared secret over the
// timestamp, a dot and the exact body bytes (see [Sign] and [Verify]). zentra-import sends summary.json
// on a non-zero exit. A notification that fails is returned as a *[SendError] for the caller to log; it
// never stops a run. Retries send the same bytes with the same timestamp and signature, so a receiver
// may drop a repeated signature as a duplicate.
type Notifier struct {
	s      *sender
	secret []byte
}

// NewNotifier checks rawURL (see [CheckURL]; the error is a *[URLError]) and the secret (a
// *[SecretError]: empty, shorter than MinSecretLen bytes, or with white space at either end, which
// is most often the newline of a file it was read from). The caller reads the secret
// (zentra-import: ZENTRA_NOTIFY_SECRET); this package never reads the environment.
func NewNotifier(rawURL string, secret []byte, opts Options) (*Notifier, error) {
	s, err := newSender("notify URL", rawURL, opts)
	if err != nil {
		return nil, err
	}
	hint := "set ZENTRA_NOTIFY_SECRET to the secret the receiver verifies with; `openssl rand -hex 32` makes one"
	switch {
	case len(secret) == 0:
		return nil, &SecretError{Reason: "it is empty: a notification is always signed", Hint: hint}
	case len(secret) < MinSecretLen:
		return nil, &SecretError{Reason: fmt.Sprintf("it has %d bytes; it needs at least %d", len(secret), MinSecretLen), Hint: hint}
	case strings.TrimSpace(string(secret)) != string(secret):
		return nil, &SecretError{Reason: "it has white space at its start or end (a newline from a file?)", Hint: "remove it"}
	}
	return &Notifier{s: s, secret: append([]byte(nil), secret...)}, nil
}

// Notify POSTs body (a JSON document, as it is) with Content-Type application/json, TimestampHeader
// and SignatureHeader. Pass a context that a signal did not cancel (see [Pinger.Finish]).
func (n *Notifier) Notify(ctx context.Context, body []byte) error {
	if !json.Valid(body) {
		return &SendError{What: "notify", Shown: n.s.shown, Err: errors.New("the body is not a JSON document")}
	}
	ts := n.s.clock.Now().Unix()
	h := http.Header{}
	h.Set(TimestampHeader, strconv.FormatInt(ts, 10))
	h.Set(SignatureHeader, Sign(n.secret, ts, body))
	return n.s.post(ctx, "notify", n.s.base, h, body)
}

// Format prints the Notifier as its URL's scheme and host: never the secret, nor the rest of the URL.
func (n Notifier) Format(f fmt.State, _ rune) {
	_, _ = io.WriteString(f, "monitor.Notifier{"+n.s.shown+", secret [redacted]}")
}

// Sign is the value of SignatureHeader for body signed at timestamp (Unix seconds): "sha256=" and the
// lowercase hex of HMAC-SHA256(secret, decimal timestamp + "." + body).
func Sign(secret []byte, timestamp int64, body []byte) string {
	return "sha256=" + hex.EncodeToString(mac(secret, strconv.FormatInt(timestamp, 10), body))
}

func mac(secret []byte, timestamp string, body []byte) []byte {
	h := hmac.New(sha256.New, secret)
	h.Write([]byte(timestamp))
	h.Write([]byte{'.'})
	h.Write(body)
	return h.Sum(nil)
}

// Verify checks a notification as a receiver gets it: header holds exactly one TimestampHeader, of
// decimal digits, within tolerance of now either way (DefaultTolerance when tolerance <= 0), and exactly
// one SignatureHeader, "sha256=" and 64 hex digits, equal (compared in constant time) to the HMAC-SHA256
// with secret of the timestamp as sent, a dot and body, the bytes read from the request before any
// parsing. It returns nil, or an error wrapping ErrNotSigned, ErrStale or ErrBadSignature.
func Verify(secret []byte, header http.Header, body []byte, now time.Time, tolerance time.Duration) error {
	if tolerance <= 0 {
		tolerance = DefaultTolerance
	}
	if len(secret) == 0 {
		return fmt.Errorf("%w: no secret to verify with", ErrBadSignature)
	}
	tss, sigs := header.Values(TimestampHeader), header.Values(SignatureHeader)
	if len(tss) != 1 || len(sigs) != 1 {
		return fmt.Errorf("%w: want one %s and one %s header", ErrNotSigned, TimestampHeader, SignatureHeader)
	}
	ts := tss[0]
	secs, err := strconv.ParseInt(ts, 10, 64)
	if err != nil || ts == "" || strings.Trim(ts, "0123456789") != "" {
		return fmt.Errorf("%w: %s is not Unix seconds", ErrNotSigned, TimestampHeader)
	}
	if off := now.Sub(time.Unix(secs, 0)); off > tolerance || off < -tolerance {
		return fmt.Errorf("%w: signed %s from now, beyond %s", ErrStale, off.Round(time.Second), tolerance)
	}
	hexSig, ok := strings.CutPrefix(sigs[0], "sha256=")
	got, err := hex.DecodeString(hexSig)
	if !ok || err != nil || len(got) != sha256.Size {
		return fmt.Errorf("%w: %s is not sha256= and 64 hex digits", ErrNotSigned, SignatureHeader)
	}
	if !hmac.Equal(got, mac(secret, ts, body)) {
		return ErrBadSignature
	}
	return nil
}
