package zentra

import (
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"strings"
	"time"
)

// The documented hosts, and the route this package calls.
const (
	SandboxURL = "https://sandbox.api.usezentra.com" // where sk_sandbox_… keys work
	LiveURL    = "https://api.usezentra.com"         // where sk_live_… keys work
	CreatePath = "/api/v1/identity/customers"
)

// Defaults for the zero values of [Config].
const (
	DefaultTimeout   = 30 * time.Second
	DefaultMaxConns  = 8
	DefaultUserAgent = "zentra-import"
	// IdempotencyKeyHeader is the conventional name of the idempotency header. Zentra documents none for
	// customers: sending it is harmless and helps where it is honoured.
	IdempotencyKeyHeader = "Idempotency-Key"
)

// maxIDPathParts bounds the parts of an id path: the answer's levels the client keeps (maxReplyDepth)
// must hold it even when each part goes through a list.
const maxIDPathParts = 32

// defaultIDPaths are where a success body is searched for the new customer's id, in order.
var defaultIDPaths = []string{"data.id", "data.customer_id", "id", "customer_id"}

// conflictIDPaths are searched, before the configured paths, for the existing customer's id in a 409 body.
var conflictIDPaths = []string{"error.details.customer_id", "error.details.existing_id", "error.details.id"}

// Config sets up a [Client]. Only Key is required.
type Config struct {
	// Key is the secret key, sent as "Authorization: Bearer <key>". It never appears in an error, a log
	// or a printed value.
	Key Secret
	// BaseURL is scheme and host (and an optional path prefix) of the API. "" picks it from the key's
	// prefix ([BaseURLForKey]); an explicit URL wins. It must pass [CheckBaseURL].
	BaseURL string
	// IdempotencyHeader is the header that carries the caller's idempotency key, usually
	// [IdempotencyKeyHeader]; "" sends none.
	IdempotencyHeader string
	// IDPaths are dotted JSON paths where a success body may carry the customer id, tried in order;
	// nil means data.id, data.customer_id, id, customer_id. A 409 body is searched first in
	// error.details.customer_id, error.details.existing_id and error.details.id, then in these.
	IDPaths []string
	// Timeout bounds one request, from sending it to reading the whole answer; 0 means 30s.
	Timeout time.Duration
	// MaxConns sizes the keep-alive connection pool and caps the connections to the API; give it the
	// number of workers. 0 means 8.
	MaxConns int
	// UserAgent is sent as User-Agent; "" means "zentra-import".
	UserAgent string
	// Observe, when set, is called with the X-RateLimit-* headers of every response that carries them,
	// whatever its status, before Create or Lookup returns. It is called from the caller's goroutine and
	// must be safe for concurrent use when the client is.
	Observe func(RateLimit)
	// Transport replaces the tuned transport (tests, custom proxies). Redirects are never followed.
	Transport http.RoundTripper
	// Now is the clock used to time responses and compute retry moments; nil means time.Now.
	Now func() time.Time
}

// LogValue logs the configuration without the key's value.
func (c Config) LogValue() slog.Value {
	return slog.GroupValue(
		slog.Any("key", c.Key),
		slog.String("base_url", c.BaseURL),
		slog.String("idempotency_header", c.IdempotencyHeader),
		slog.Any("id_paths", c.IDPaths),
		slog.Duration("timeout", c.Timeout),
		slog.Int("max_conns", c.MaxConns),
		slog.String("user_agent", c.UserAgent),
	)
}

// BaseURLForKey returns the documented host of the key's environment: [SandboxURL] for sk_sandbox_…
// keys, [LiveURL] for sk_live_… keys. For any other key it says what is wrong without quoting the key.
func BaseURLForKey(key Secret) (string, error) {
	if err := checkKey(key); err != nil {
		return "", err
	}
	switch key.Environment() {
	case "sandbox":
		return SandboxURL, nil
	case "live":
		return LiveURL, nil
	}
	k := string(key)
	var why string
	switch {
	case strings.HasPrefix(k, "pk_"):
		why = "it looks like a publishable key (pk_…); the API needs a secret key"
	case strings.HasPrefix(k, "sk_test_"):
		why = "sk_test_ is not a Zentra prefix; sandbox keys start with sk_sandbox_"
	default:
		why = "it starts with neither sk_sandbox_ nor sk_live_"
	}
	return "", fmt.Errorf("cannot tell the API URL from the secret key: %s (give a Zentra secret key, or the API URL explicitly)", why)
}

// checkKey refuses keys that cannot go into an Authorization header as they are. It never quotes the key.
func checkKey(key Secret) error {
	k := string(key)
	if k == "" {
		return errors.New("no secret key (set ZENTRA_SECRET_KEY or give --secret-key-file)")
	}
	if strings.TrimSpace(k) != k {
		return errors.New("the secret key has leading or trailing white space (a newline from a key file?); remove it")
	}
	for i := 0; i < len(k); i++ {
		if c := k[i]; c <= ' ' || c >= 0x7f {
			return fmt.Errorf("the secret key has a space, control or non-ASCII character at byte %d; keys are printable ASCII", i+1)
		}
	}
	return nil
}

// CheckBaseURL accepts an https:// URL anywhere and an http:// URL only to a loopback host: an IP literal
// in 127.0.0.0/8 or ::1 (without a zone), or the name localhost in any case, which the client dials at
// 127.0.0.1 or ::1 itself, never asking a resolver (so neither DNS nor /etc/hosts can send it elsewhere).
// Elsewhere the key and customers' personal data would cross the network in clear; "localhost." and
// other names ending in localhost are names for a resolver, not loopback. It also refuses credentials
// (a user name alone too), a query or a fragment in the URL, a URL that already names the route, a host
// written as a shorthand IPv4 number (127.1, 0x7f.1, 2130706433: resolvers disagree on what they mean),
// and a URL that holds something shaped like a secret key. Its errors never quote what came before an
// "@", nor anything shaped like a key.
func CheckBaseURL(raw string) error {
	_, err := parseBaseURL(raw)
	return err
}

// parseBaseURL checks raw as CheckBaseURL does and returns it without a trailing slash.
func parseBaseURL(raw string) (*url.URL, error) {
	raw = strings.TrimSpace(raw)
	shown := showURL(raw)
	bad := func(format string, args ...any) (*url.URL, error) {
		return nil, fmt.Errorf("API URL %q: "+format, append([]any{shown}, args...)...)
	}
	if hasUserinfo(raw) {
		return bad("it carries credentials before an @; remove them (the key goes in ZENTRA_SECRET_KEY or a key file, never in the URL)")
	}
	if anyKey.holds(raw) {
		return bad("it holds a secret key; give scheme and host only, like https://api.usezentra.com (the key goes in ZENTRA_SECRET_KEY or a key file)")
	}
	if _, err := url.Parse("https://" + strings.TrimPrefix(raw, "//")); !strings.Contains(raw, "://") && err == nil {
		// Before parsing: "127.0.0.1:8080" does not parse ("first path segment in URL cannot contain colon").
		scheme, host := "https", strings.TrimPrefix(shown, "//")
		if h, _, err := net.SplitHostPort(host); err == nil && isLoopback(h) {
			scheme = "http"
		}
		return bad("it has no scheme; write it as %s://%s", scheme, host)
	}
	u, err := url.Parse(raw)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		return nil, fmt.Errorf("API URL %q is not a URL: %v", shown, anyKey.redact(err.Error()))
	}
	switch u.Scheme {
	case "https", "http":
	default:
		return bad("the scheme must be https (or http to this machine), not %s", u.Scheme)
	}
	switch {
	case u.Opaque != "" || u.Host == "":
		return bad("it names no host; write it as %s://HOST", u.Scheme)
	case u.User != nil:
		return bad("it carries credentials before an @; remove them (the key goes in ZENTRA_SECRET_KEY or a key file, never in the URL)")
	case u.RawQuery != "" || u.ForceQuery:
		return bad("it has a query; give scheme and host only, like https://api.usezentra.com")
	case u.Fragment != "":
		return bad("it has a fragment; give scheme and host only, like https://api.usezentra.com")
	}
	u.Host = strings.ToLower(u.Host)
	u.Path = strings.TrimRight(u.Path, "/")
	u.RawPath = ""
	if p := strings.ToLower(u.Path); strings.HasSuffix(p, "/api/v1") || strings.Contains(p, "/api/v1/") {
		return bad("it includes the API path; give it without, like %s://%s", u.Scheme, u.Host)
	}
	host := u.Hostname()
	if numericHost(host) {
		return bad("the host %s is an IPv4 address in a shorthand form that systems read differently; write it in full, like 127.0.0.1", host)
	}
	if u.Scheme == "http" && !isLoopback(host) {
		return bad("plain http:// is allowed only to this machine (127.0.0.1, ::1, localhost): over a network " +
			"the secret key and customers' personal data would travel unencrypted; use https://")
	}
	return u, nil
}

// isLoopback decides loopback without a resolver: an IP literal in 127.0.0.0/8 or ::1 (IPv4-mapped
// too), without a zone, or exactly the name localhost (any case), which the client dials at loopback
// itself (see loopbackDial). "localhost.", "localhost.localdomain", "foo.localhost" are names that only
// a resolver could answer for, so they are not loopback here.
func isLoopback(host string) bool {
	if isLocalhost(host) {
		return true
	}
	a, err := netip.ParseAddr(host)
	return err == nil && a.Zone() == "" && a.Unmap().IsLoopback()
}

// isLocalhost says whether host is the name localhost itself.
func isLocalhost(host string) bool { return strings.EqualFold(host, "localhost") }

// numericHost says whether host, not an IP literal, ends in an all-numeric or hexadecimal label: an IPv4
// address in a shorthand form (127.1, 0x7f.1, 2130706433, 1.2.3.4.) that inet_aton reads as an address,
// Go's resolver as a name to look up, and no top-level domain can be (RFC 3696, section 2).
func numericHost(host string) bool {
	if _, err := netip.ParseAddr(host); err == nil || host == "" {
		return false
	}
	labels := strings.Split(strings.TrimSuffix(host, "."), ".")
	last := strings.ToLower(labels[len(labels)-1])
	if last == "" {
		return false
	}
	digits := strings.TrimPrefix(last, "0x")
	isHexNum := digits != last
	for i := 0; i < len(digits); i++ {
		if c := digits[i]; !('0' <= c && c <= '9' || isHexNum && 'a' <= c && c <= 'f') {
			return false
		}
	}
	return true
}

// hasUserinfo says whether raw names a user (and perhaps a password or a key) before its host: an "@"
// in its authority, the part after "//" up to the first "/", "?" or "#".
func hasUserinfo(raw string) bool {
	_, auth := authority(raw)
	return strings.Contains(auth, "@")
}

// authority splits raw at its authority: what comes before it, and the authority itself.
func authority(raw string) (before, auth string) {
	i := strings.Index(raw, "//")
	if i < 0 {
		i = 0 // no scheme: the authority, if any, comes first
	} else {
		i += 2
	}
	auth = raw[i:]
	if j := strings.IndexAny(auth, "/?#"); j >= 0 {
		auth = auth[:j]
	}
	return raw[:i], auth
}

// showURL is raw as an error may quote it: what came before an "@" in its authority (a user name, a
// password, a key) replaced by "…", anything shaped like a key redacted, and cut to 200 bytes.
func showURL(raw string) string {
	before, auth := authority(raw)
	if at := strings.LastIndex(auth, "@"); at >= 0 {
		raw = before + "…" + raw[len(before)+at:]
	}
	raw = anyKey.redact(raw)
	if len(raw) > 200 {
		raw = raw[:200] + "…"
	}
	return raw
}
