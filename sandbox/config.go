package sandbox

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
)

// Config chooses which reading of the contract the sandbox plays and which faults it injects. The zero
// value is a valid, fault-free sandbox that plays the documented readings without rate limiting; every
// field's zero value is its default.
type Config struct {
	// Key is the secret key the sandbox accepts. It must start with "sk_sandbox_". "" generates
	// "sk_sandbox_" followed by 24 random hex digits.
	Key string

	// Limit is the number of API requests allowed per Window; 0 turns rate limiting (and the
	// X-RateLimit-* headers) off.
	Limit int
	// Window is the length of a rate-limit window; 0 means one minute.
	Window time.Duration
	// Bucket reads the limit as a token bucket (capacity Burst, refilled continuously at Limit per Window)
	// instead of fixed windows aligned to the Unix epoch.
	Bucket bool
	// Burst is the capacity of the token bucket; 0 means Limit. Only with Bucket (the documented plans
	// state a burst: 100/min with a burst of 150 for the Sandbox plan).
	Burst int
	// RetryAfter is the Retry-After (seconds) of a 429 and its error.details.retry_after. 0 means the
	// documented 60; a negative value means "the seconds until a request would be allowed again"
	// (the window's end, or the next token), at least 1.
	RetryAfter int

	// Latency is added to every API request before it is processed, plus a uniform random share of
	// Jitter (in [0, Jitter)). The delay is spent through Sleep and ends early when the request's
	// context ends.
	Latency, Jitter time.Duration

	// FailRate is the share of creates answered 503 service_unavailable before anything is committed.
	FailRate float64
	// HTMLErrors answers the injected 503s with a proxy's HTML page instead of the JSON error body
	// (and without X-RateLimit-* headers, as a proxy in front of the API would).
	HTMLErrors bool
	// DropRate is the share of creates that commit a new customer (and its idempotency record) and then
	// close the connection without any answer.
	DropRate float64

	// Gated answers every authenticated API request 403 insufficient_permissions (the identity surface
	// not enabled for the tenant).
	Gated bool
	// NoIdempotency ignores the Idempotency-Key header entirely.
	NoIdempotency bool
	// NoUnique lets a repeated external_reference create another customer (counted in
	// Stats.DuplicateCustomers) instead of conflicting.
	NoUnique bool
	// ConflictWithoutID leaves the existing customer's id out of 409 bodies.
	ConflictWithoutID bool
	// DuplicateOK answers a repeated external_reference 200 with the existing record instead of 409.
	DuplicateOK bool
	// Lookup offers GET /api/v1/identity/customers?external_reference=X, a sandbox extension: the real
	// API documents no lookup.
	Lookup bool

	// Envelope is the success envelope: "status" (default) {"status":"success","data":{…}}, "success"
	// {"success":true,"data":{…}} or "data" {"data":{…}}.
	Envelope string
	// IDField is where a success body carries the customer id: "data.id" (default),
	// "data.customer_id", "id" or "customer_id" (top level, beside data), or "none" (a 2xx without an id).
	IDField string
	// UpperCodes writes error codes in UPPERCASE, as some documented pages show them.
	UpperCodes bool
	// Required lists body fields whose absence (or null, or empty string) is answered 422
	// missing_required_field with error.field set. A dotted name ("metadata.source") names a field of a
	// nested object. external_reference is always required.
	Required []string

	// AllowNonLoopback lets Start listen on an address other than loopback. The sandbox accepts any
	// request bearing its key, so it is meant for this machine only.
	AllowNonLoopback bool

	// Now is the clock of rate limiting and created_at; nil means time.Now.
	Now func() time.Time
	// Sleep spends the injected latency; nil means a timer that returns early when ctx ends. A request
	// whose context has ended when Sleep returns is not processed.
	Sleep func(ctx context.Context, d time.Duration)
	// Seed makes customer ids, fault injection and jitter reproducible; 0 picks a random seed.
	Seed int64
}

// Envelope and IDField values.
const (
	EnvelopeStatus  = "status"
	EnvelopeSuccess = "success"
	EnvelopeData    = "data"

	IDDataID         = "data.id"
	IDDataCustomerID = "data.customer_id"
	IDTopID          = "id"
	IDTopCustomerID  = "customer_id"
	IDNone           = "none"
)

const (
	// KeyPrefix starts every key the sandbox accepts.
	KeyPrefix = "sk_sandbox_"
	// LivePrefix starts live keys, which the sandbox answers 401 wrong_environment.
	LivePrefix = "sk_live_"

	defaultWindow     = time.Minute
	defaultRetryAfter = 60
)

// ConfigError says which Config field is wrong and why.
type ConfigError struct {
	Field  string
	Reason string
}

func (e *ConfigError) Error() string {
	return "sandbox: invalid config: " + e.Field + ": " + e.Reason
}

// normalize validates c and fills in the defaults; it returns the completed copy.
func (c Config) normalize() (Config, error) {
	bad := func(field, format string, args ...any) (Config, error) {
		return Config{}, &ConfigError{Field: field, Reason: fmt.Sprintf(format, args...)}
	}
	if c.Key == "" {
		k, err := generateKey()
		if err != nil {
			return Config{}, err
		}
		c.Key = k
	} else if err := checkKey(c.Key); err != nil {
		return bad("Key", "%v", err)
	}
	switch {
	case c.Limit < 0:
		return bad("Limit", "%d is negative (0 turns rate limiting off)", c.Limit)
	case c.Window < 0 || (c.Window > 0 && c.Window < time.Millisecond) || c.Window > maxWindow:
		return bad("Window", "%v is not between 1ms and %v", c.Window, maxWindow)
	case c.Burst < 0:
		return bad("Burst", "%d is negative", c.Burst)
	case c.Burst > 0 && !c.Bucket:
		return bad("Burst", "a burst needs the token bucket (Bucket)")
	case c.Bucket && c.Limit == 0:
		return bad("Bucket", "a token bucket needs a Limit")
	case c.Latency < 0:
		return bad("Latency", "%v is negative", c.Latency)
	case c.Jitter < 0:
		return bad("Jitter", "%v is negative", c.Jitter)
	case !isRate(c.FailRate):
		return bad("FailRate", "%v is not a share between 0 and 1", c.FailRate)
	case !isRate(c.DropRate):
		return bad("DropRate", "%v is not a share between 0 and 1", c.DropRate)
	case c.NoUnique && c.DuplicateOK:
		return bad("DuplicateOK", "contradicts NoUnique (a repeated reference either creates or answers the existing record)")
	case c.NoUnique && c.ConflictWithoutID:
		return bad("ConflictWithoutID", "contradicts NoUnique (no 409 is ever answered)")
	case c.DuplicateOK && c.ConflictWithoutID:
		return bad("ConflictWithoutID", "contradicts DuplicateOK (no 409 is ever answered)")
	}
	if c.Window == 0 {
		c.Window = defaultWindow
	}
	if c.Bucket && c.Burst == 0 {
		c.Burst = c.Limit
	}
	if c.RetryAfter == 0 {
		c.RetryAfter = defaultRetryAfter
	}
	switch c.Envelope {
	case "":
		c.Envelope = EnvelopeStatus
	case EnvelopeStatus, EnvelopeSuccess, EnvelopeData:
	default:
		return bad("Envelope", "%q is not one of status, success, data", c.Envelope)
	}
	switch c.IDField {
	case "":
		c.IDField = IDDataID
	case IDDataID, IDDataCustomerID, IDTopID, IDTopCustomerID, IDNone:
	default:
		return bad("IDField", "%q is not one of data.id, data.customer_id, id, customer_id, none", c.IDField)
	}
	req := make([]string, 0, len(c.Required))
	for _, f := range c.Required {
		f = strings.TrimSpace(f)
		if f == "" || strings.HasPrefix(f, ".") || strings.HasSuffix(f, ".") || strings.Contains(f, "..") {
			return bad("Required", "%q is not a field name (use names like email or metadata.source)", f)
		}
		if f != "external_reference" {
			req = append(req, f)
		}
	}
	c.Required = req
	if c.Now == nil {
		c.Now = time.Now
	}
	if c.Sleep == nil {
		c.Sleep = sleepCtx
	}
	return c, nil
}

func isRate(f float64) bool { return f >= 0 && f <= 1 && !math.IsNaN(f) }

// checkKey refuses keys the sandbox could not sensibly accept. It never quotes the key.
func checkKey(k string) error {
	if strings.HasPrefix(k, LivePrefix) {
		return errors.New("a live key (sk_live_…) cannot be the sandbox's key; give an sk_sandbox_… key or none")
	}
	if !strings.HasPrefix(k, KeyPrefix) || len(k) == len(KeyPrefix) {
		return errors.New("the key must start with sk_sandbox_ and have more after it")
	}
	for i := 0; i < len(k); i++ {
		if c := k[i]; c <= ' ' || c >= 0x7f {
			return errors.New("the key must be printable ASCII without spaces")
		}
	}
	return nil
}

// generateKey returns a fresh "sk_sandbox_" key with 24 random hex digits.
func generateKey() (string, error) {
	var b [12]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", fmt.Errorf("sandbox: generate key: %w", err)
	}
	return KeyPrefix + hex.EncodeToString(b[:]), nil
}

func sleepCtx(ctx context.Context, d time.Duration) {
	if d <= 0 {
		return
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
	case <-ctx.Done():
	}
}

// ParseLimit reads a rate limit written as N/unit: "100/min", "10/s", "5000/h", "60/2s", "90/1m30s".
// The unit is s, sec, second, m, min, minute, h, hr or hour, optionally preceded by a count ("2min"), or
// any Go duration ("500ms"). "0" (or "0/…", or "off") turns rate limiting off and returns 0, 0.
func ParseLimit(s string) (n int, window time.Duration, err error) {
	s = strings.TrimSpace(s)
	if s == "0" || strings.EqualFold(s, "off") {
		return 0, 0, nil
	}
	num, unit, ok := strings.Cut(s, "/")
	if !ok {
		return 0, 0, fmt.Errorf("rate limit %q: want N/unit, like 100/min, 10/s or 60/2s (or 0 for none)", s)
	}
	n, err = strconv.Atoi(strings.TrimSpace(num))
	if err != nil || n < 0 {
		return 0, 0, fmt.Errorf("rate limit %q: %q is not a whole number of requests", s, strings.TrimSpace(num))
	}
	window, err = parseWindow(strings.TrimSpace(unit))
	if err != nil {
		return 0, 0, fmt.Errorf("rate limit %q: %w", s, err)
	}
	if n == 0 {
		return 0, 0, nil
	}
	return n, window, nil
}

var windowUnits = map[string]time.Duration{
	"s": time.Second, "sec": time.Second, "second": time.Second, "seconds": time.Second,
	"m": time.Minute, "min": time.Minute, "minute": time.Minute, "minutes": time.Minute,
	"h": time.Hour, "hr": time.Hour, "hour": time.Hour, "hours": time.Hour,
}

// maxWindow bounds a window so that its arithmetic in nanoseconds cannot overflow.
const maxWindow = 24 * time.Hour

func parseWindow(u string) (time.Duration, error) {
	i := 0
	for i < len(u) && u[i] >= '0' && u[i] <= '9' {
		i++
	}
	var d time.Duration
	if unit, ok := windowUnits[strings.ToLower(u[i:])]; ok {
		count := 1
		if i > 0 {
			c, err := strconv.Atoi(u[:i])
			if err != nil || c > int(maxWindow/unit) {
				return 0, fmt.Errorf("window %q is too long (at most %v)", u, maxWindow)
			}
			count = c
		}
		d = time.Duration(count) * unit
	} else {
		var err error
		d, err = time.ParseDuration(u)
		if err != nil {
			return 0, fmt.Errorf("window %q: want a unit (s, min, h) or a duration (2s, 500ms)", u)
		}
	}
	switch {
	case d <= 0:
		return 0, fmt.Errorf("window %q is not positive", u)
	case d < time.Millisecond:
		return 0, fmt.Errorf("window %q is shorter than a millisecond", u)
	case d > maxWindow:
		return 0, fmt.Errorf("window %q is too long (at most %v)", u, maxWindow)
	}
	return d, nil
}
