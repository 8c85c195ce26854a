package sandbox

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

const testKey = "sk_sandbox_0123456789abcdef01234567"

// body is a typical create body: external_reference plus personal data and a nested object.
func body(ref string) string {
	return `{"external_reference":"` + ref + `","first_name":"Ada","last_name":"Obi","email":"ada@example.com",` +
		`"phone":"+2348012345678","metadata":{"source":"legacy","tier":2}}`
}

// newServer builds a sandbox with the test key unless cfg names one.
func newServer(t testing.TB, cfg Config) *Server {
	t.Helper()
	if cfg.Key == "" {
		cfg.Key = testKey
	}
	s, err := New(cfg)
	require.NoError(t, err)
	return s
}

// answer is one response, decoded.
type answer struct {
	Status int
	Header http.Header
	Raw    string
	JSON   map[string]any // the body when it is a JSON object
	Any    any            // the body decoded, whatever its kind
}

// errCode returns error.code, or "".
func (a answer) errCode() string {
	e, _ := a.JSON["error"].(map[string]any)
	c, _ := e["code"].(string)
	return c
}

// path walks a dotted path through the decoded body.
func (a answer) path(p string) any {
	var v any = a.JSON
	for _, k := range strings.Split(p, ".") {
		m, ok := v.(map[string]any)
		if !ok {
			return nil
		}
		v = m[k]
	}
	return v
}

type request struct {
	method, path, auth, idem, body string
}

// post is a create request with the test key.
func post(b, idem string) request {
	return request{method: http.MethodPost, path: CustomersPath, auth: "Bearer " + testKey, idem: idem, body: b}
}

func serve(t testing.TB, h http.Handler, r request) answer {
	t.Helper()
	req := httptest.NewRequest(r.method, r.path, strings.NewReader(r.body))
	if r.auth != "" {
		req.Header.Set("Authorization", r.auth)
	}
	if r.idem != "" {
		req.Header.Set(HeaderIdempotencyKey, r.idem)
	}
	req.Header.Set("Content-Type", "application/json")
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	a := answer{Status: rec.Code, Header: rec.Header(), Raw: rec.Body.String()}
	if strings.HasPrefix(rec.Header().Get("Content-Type"), "application/json") && rec.Body.Len() > 0 {
		require.NoError(t, json.Unmarshal(rec.Body.Bytes(), &a.Any), "body %s", a.Raw)
		a.JSON, _ = a.Any.(map[string]any)
	}
	return a
}

// clock is an injectable clock for rate-limit tests.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock(t time.Time) *clock { return &clock{t: t} }

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}
