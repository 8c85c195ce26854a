package zentra_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/zentra/zentra-import/zentra"
)

const testKey = "sk_sandbox_t3stS3cretValue0123456789"

var t0 = time.Unix(1_800_000_000, 0)

// result is a Create outcome flattened for comparison. Kind is created, existing, row, retry, fatal or
// other.
type result struct {
	Kind        string
	ID          string
	Replayed    bool
	HTTPStatus  int
	Code, Field string
	Message     string // compared as a substring
	Hint        string // compared as a substring
	RetryAt     time.Time
	RetryAfter  time.Duration
	ResetAt     time.Time
	RateLimited bool
	Sent        bool
}

func flatten(cr *zentra.Created, err error) result {
	var (
		row   *zentra.RowError
		retry *zentra.RetryableError
		fatal *zentra.FatalError
	)
	switch {
	case err == nil && cr.Existing:
		return result{Kind: "existing", ID: cr.ID, HTTPStatus: cr.HTTPStatus, Replayed: cr.Replayed}
	case err == nil:
		return result{Kind: "created", ID: cr.ID, HTTPStatus: cr.HTTPStatus, Replayed: cr.Replayed}
	case errors.As(err, &row):
		return result{Kind: "row", HTTPStatus: row.HTTPStatus, Code: row.Code, Field: row.Field, Message: row.Message}
	case errors.As(err, &retry):
		return result{Kind: "retry", HTTPStatus: retry.HTTPStatus, Code: retry.Code, Message: retry.Message,
			RetryAt: retry.RetryAt, RetryAfter: retry.RetryAfter, ResetAt: retry.ResetAt,
			RateLimited: retry.RateLimited, Sent: retry.Sent}
	case errors.As(err, &fatal):
		return result{Kind: "fatal", HTTPStatus: fatal.HTTPStatus, Code: fatal.Code, Message: fatal.Message, Hint: fatal.Hint}
	}
	return result{Kind: "other", Message: err.Error()}
}

// assertResult compares got with want: Message and Hint as substrings, times with Equal.
func assertResult(t *testing.T, want, got result) {
	t.Helper()
	assert.Contains(t, got.Message, want.Message, "message")
	assert.Contains(t, got.Hint, want.Hint, "hint")
	assert.True(t, want.RetryAt.Equal(got.RetryAt), "RetryAt %v, want %v", got.RetryAt, want.RetryAt)
	assert.True(t, want.ResetAt.Equal(got.ResetAt), "ResetAt %v, want %v", got.ResetAt, want.ResetAt)
	want.Message, got.Message, want.Hint, got.Hint = "", "", "", ""
	want.RetryAt, got.RetryAt, want.ResetAt, got.ResetAt = time.Time{}, time.Time{}, time.Time{}, time.Time{}
	assert.Equal(t, want, got)
}

// reply is what a test server answers.
type reply struct {
	status int
	header map[string]string
	body   string
}

// observations records Observe calls.
type observations struct {
	mu   sync.Mutex
	seen []zentra.RateLimit
}

func (o *observations) observe(rl zentra.RateLimit) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.seen = append(o.seen, rl)
}

func (o *observations) all() []zentra.RateLimit {
	o.mu.Lock()
	defer o.mu.Unlock()
	return append([]zentra.RateLimit(nil), o.seen...)
}

// newClient builds a client for url with a fixed clock and an Observe recorder.
func newClient(t testing.TB, url string, tweak func(*zentra.Config)) (*zentra.Client, *observations) {
	t.Helper()
	obs := &observations{}
	cfg := zentra.Config{
		Key:               testKey,
		BaseURL:           url,
		IdempotencyHeader: zentra.IdempotencyKeyHeader,
		UserAgent:         "zentra-import-test/1",
		Observe:           obs.observe,
		Now:               func() time.Time { return t0 },
		Timeout:           5 * time.Second,
	}
	if tweak != nil {
		tweak(&cfg)
	}
	c, err := zentra.New(cfg)
	require.NoError(t, err)
	t.Cleanup(c.CloseIdleConnections)
	return c, obs
}

const (
	jsonCT = "application/json"
	htmlCT = "text/html; charset=utf-8"
)

func jsonReply(status int, body string, header ...string) reply {
	h := map[string]string{"Content-Type": jsonCT}
	for i := 0; i+1 < len(header); i += 2 {
		h[header[i]] = header[i+1]
	}
	return reply{status: status, header: h, body: body}
}

func htmlReply(status int, header ...string) reply {
	r := jsonReply(status, "<html><head><title>"+strconv.Itoa(status)+"</title></head><body><h1>"+
		http.StatusText(status)+"</h1><p>customer jane@example.com</p><hr>nginx</body></html>", header...)
	r.header["Content-Type"] = htmlCT
	return r
}

// deepJSON is a list nested 20,000 levels deep: deeper than encoding/json decodes.
var deepJSON = strings.Repeat("[", 20000) + strings.Repeat("]", 20000)

// TestCreateAnswers drives Create against a test server answering each documented (and undocumented)
// shape, checks the request it sent, the outcome and what Observe was told.
func TestCreateAnswers(t *testing.T) {
	reset30 := strconv.FormatInt(t0.Unix()+30, 10)
	tests := []struct {
		name   string
		reply  reply
		tweak  func(*zentra.Config)
		noRate bool // the answer carries no X-RateLimit-* headers
		want   result
	}{
		// created, in each envelope and id location
		{name: "status envelope, data.id", reply: jsonReply(201, `{"status":"success","data":{"id":"cus_1","object":"customer"}}`),
			want: result{Kind: "created", ID: "cus_1", HTTPStatus: 201}},
		{name: "success envelope, data.customer_id", reply: jsonReply(200, `{"success":true,"data":{"customer_id":"cus_2"}}`),
			want: result{Kind: "created", ID: "cus_2", HTTPStatus: 200}},
		{name: "data envelope", reply: jsonReply(201, `{"data":{"id":"cus_3"}}`),
			want: result{Kind: "created", ID: "cus_3", HTTPStatus: 201}},
		{name: "top-level id beside data", reply: jsonReply(201, `{"status":"success","id":"cus_4","data":{"object":"customer"}}`),
			want: result{Kind: "created", ID: "cus_4", HTTPStatus: 201}},
		{name: "bare object, customer_id", reply: jsonReply(201, `{"customer_id":"cus_5","external_reference":"r"}`),
			want: result{Kind: "created", ID: "cus_5", HTTPStatus: 201}},
		{name: "numeric id", reply: jsonReply(201, `{"data":{"id":1234567890123456789}}`),
			want: result{Kind: "created", ID: "1234567890123456789", HTTPStatus: 201}},
		{name: "data.id first of several", reply: jsonReply(201, `{"id":"req_9","data":{"id":"cus_6","customer_id":"x"}}`),
			want: result{Kind: "created", ID: "cus_6", HTTPStatus: 201}},
		{name: "configured id path", reply: jsonReply(201, `{"result":{"customer":{"id":"cus_7"}}}`),
			tweak: func(c *zentra.Config) { c.IDPaths = []string{"result.customer.id"} },
			want:  result{Kind: "created", ID: "cus_7", HTTPStatus: 201}},
		{name: "JSON with a byte-order mark", reply: jsonReply(201, "\uFEFF"+`{"data":{"id":"cus_bom"}}`),
			want: result{Kind: "created", ID: "cus_bom", HTTPStatus: 201}},
		{name: "JSON without content type", reply: reply{status: 201, body: `{"data":{"id":"cus_8"}}`},
			want: result{Kind: "created", ID: "cus_8", HTTPStatus: 201}},
		{name: "replayed", reply: jsonReply(201, `{"data":{"id":"cus_9"}}`, "Idempotent-Replayed", "true"),
			want: result{Kind: "created", ID: "cus_9", HTTPStatus: 201, Replayed: true}},
		{name: "200 with the existing record", reply: jsonReply(200, `{"status":"success","data":{"id":"cus_10","external_reference":"r"}}`),
			want: result{Kind: "created", ID: "cus_10", HTTPStatus: 200}},
		{name: "id beside a value nested 20,000 levels", reply: jsonReply(201, `{"data":{"id":"cus_deep","x":`+deepJSON+`}}`),
			want: result{Kind: "created", ID: "cus_deep", HTTPStatus: 201}},
		{name: "id after an echo nested 20,000 levels", reply: jsonReply(201, `{"status":"success","echo":{"metadata":`+deepJSON+`},"data":{"id":"cus_deep2"}}`),
			want: result{Kind: "created", ID: "cus_deep2", HTTPStatus: 201}},

		// existing
		{name: "409 with details.customer_id", reply: jsonReply(409, `{"success":false,"error":{"code":"conflict","field":"external_reference","status":409,"message":"conflicts with current state","details":{"customer_id":"cus_11"}}}`),
			want: result{Kind: "existing", ID: "cus_11", HTTPStatus: 409}},
		{name: "409 with details.existing_id", reply: jsonReply(409, `{"error":{"code":"CONFLICT","details":{"existing_id":"cus_12"}}}`),
			want: result{Kind: "existing", ID: "cus_12", HTTPStatus: 409}},
		{name: "409 with data.id", reply: jsonReply(409, `{"error":{"code":"conflict"},"data":{"id":"cus_13"}}`),
			want: result{Kind: "existing", ID: "cus_13", HTTPStatus: 409}},
		{name: "409 without id", reply: jsonReply(409, `{"success":false,"error":{"code":"conflict","message":"conflicts with current state"}}`),
			want: result{Kind: "existing", HTTPStatus: 409}},
		{name: "409 HTML", reply: htmlReply(409), want: result{Kind: "existing", HTTPStatus: 409}},
		{name: "409 with the id beside a value nested 20,000 levels", reply: jsonReply(409, `{"error":{"code":"conflict","details":{"customer_id":"cus_14","request":`+deepJSON+`}}}`),
			want: result{Kind: "existing", ID: "cus_14", HTTPStatus: 409}},

		// row errors
		{name: "400 invalid_format", reply: jsonReply(400, `{"success":false,"error":{"code":"invalid_format","message":"the request body must be a JSON object"}}`),
			want: result{Kind: "row", HTTPStatus: 400, Code: "invalid_format", Message: "must be a JSON object"}},
		{name: "422 with field", reply: jsonReply(422, `{"success":false,"error":{"code":"missing_required_field","field":"email","message":"email is required"}}`),
			want: result{Kind: "row", HTTPStatus: 422, Code: "missing_required_field", Field: "email", Message: "email is required"}},
		{name: "422 uppercase code", reply: jsonReply(422, `{"error":{"code":"INVALID_FORMAT","field":"phone","message":"phone must be E.164"}}`),
			want: result{Kind: "row", HTTPStatus: 422, Code: "invalid_format", Field: "phone", Message: "phone must be E.164"}},
		{name: "422 top-level message", reply: jsonReply(422, `{"message":"validation failed"}`),
			want: result{Kind: "row", HTTPStatus: 422, Message: "validation failed"}},
		{name: "422 errors list", reply: jsonReply(422, `{"errors":[{"code":"validation_error","field":"country","message":"unknown country"}]}`),
			want: result{Kind: "row", HTTPStatus: 422, Code: "validation_error", Field: "country", Message: "unknown country"}},
		{name: "400 problem+json", reply: jsonReply(400, `{"type":"about:blank","title":"Bad Request","detail":"malformed body"}`, "Content-Type", "application/problem+json"),
			want: result{Kind: "row", HTTPStatus: 400, Message: "malformed body"}},
		{name: "409 on another field", reply: jsonReply(409, `{"error":{"code":"conflict","field":"email","message":"email taken"}}`),
			want: result{Kind: "row", HTTPStatus: 409, Code: "conflict", Field: "email", Message: "email taken"}},
		{name: "413", reply: jsonReply(413, `{"error":{"code":"payload_too_large"}}`),
			want: result{Kind: "row", HTTPStatus: 413, Code: "payload_too_large"}},
		{name: "unknown 4xx, unknown JSON", reply: jsonReply(418, `{"teapot":true}`),
			want: result{Kind: "row", HTTPStatus: 418}},
		{name: "422 HTML", reply: htmlReply(422), want: result{Kind: "row", HTTPStatus: 422, Message: "non-JSON answer (text/html)"}},
		{name: "2xx without id", reply: jsonReply(201, `{"status":"success","data":{"object":"customer"}}`),
			want: result{Kind: "row", HTTPStatus: 201, Code: zentra.CodeNoCustomerID, Message: "without a customer id (looked in data.id, data.customer_id, id, customer_id)"}},
		{name: "2xx with an unusable id", reply: jsonReply(201, `{"data":{"id":{"value":"cus_x"}}}`),
			want: result{Kind: "row", HTTPStatus: 201, Code: zentra.CodeNoCustomerID, Message: "data.id holds an object"}},
		{name: "2xx with an empty id", reply: jsonReply(201, `{"data":{"id":"  "}}`),
			want: result{Kind: "row", HTTPStatus: 201, Code: zentra.CodeNoCustomerID, Message: "data.id holds an empty string"}},
		{name: "2xx HTML", reply: htmlReply(200),
			want: result{Kind: "row", HTTPStatus: 200, Code: zentra.CodeInvalidAnswer, Message: "non-JSON answer (text/html)"}},
		{name: "2xx truncated JSON", reply: jsonReply(201, `{"status":"success","data":{"id":"cus_`),
			want: result{Kind: "row", HTTPStatus: 201, Code: zentra.CodeInvalidAnswer, Message: "truncated JSON"}},
		{name: "2xx nested 20,000 levels and broken besides", reply: jsonReply(201, `{"data":{"id":"cus_1"},"x":`+strings.Repeat("[", 20000)+`1,,2`+strings.Repeat("]", 20000)+`}`),
			want: result{Kind: "row", HTTPStatus: 201, Code: zentra.CodeInvalidAnswer, Message: "invalid JSON at byte 20029"}},
		{name: "2xx JSON array", reply: jsonReply(201, `[{"id":"cus_1"}]`),
			want: result{Kind: "row", HTTPStatus: 201, Code: zentra.CodeInvalidAnswer, Message: "a list instead of an object"}},
		{name: "2xx empty", reply: jsonReply(204, ``),
			want: result{Kind: "row", HTTPStatus: 204, Code: zentra.CodeInvalidAnswer, Message: "empty answer"}},
		{name: "2xx declaring failure", reply: jsonReply(200, `{"success":false,"error":{"code":"validation_error","field":"email","message":"bad email"}}`),
			want: result{Kind: "row", HTTPStatus: 200, Code: "validation_error", Field: "email", Message: "bad email"}},
		{name: "2xx status error", reply: jsonReply(200, `{"status":"error","message":"could not create"}`),
			want: result{Kind: "row", HTTPStatus: 200, Code: zentra.CodeInvalidAnswer, Message: "could not create"}},

		// retryable
		{name: "429 with reset and Retry-After", reply: jsonReply(429, `{"success":false,"error":{"code":"rate_limit_exceeded","details":{"retry_after":60}}}`, "Retry-After", "60", "X-RateLimit-Reset", reset30),
			want: result{Kind: "retry", HTTPStatus: 429, Code: "rate_limit_exceeded", RateLimited: true,
				RetryAt: t0.Add(30 * time.Second), ResetAt: t0.Add(30 * time.Second), RetryAfter: time.Minute}},
		{name: "429 with only Retry-After", reply: jsonReply(429, `{"error":{"code":"RATE_LIMIT_EXCEEDED"}}`, "Retry-After", "60"), noRate: true,
			want: result{Kind: "retry", HTTPStatus: 429, Code: "rate_limit_exceeded", RateLimited: true,
				RetryAt: t0.Add(time.Minute), RetryAfter: time.Minute}},
		{name: "429 with only details.retry_after", reply: jsonReply(429, `{"error":{"code":"rate_limit_exceeded","message":"slow down","details":{"retry_after":17}}}`), noRate: true,
			want: result{Kind: "retry", HTTPStatus: 429, Code: "rate_limit_exceeded", Message: "slow down", RateLimited: true,
				RetryAt: t0.Add(17 * time.Second), RetryAfter: 17 * time.Second}},
		{name: "429 with a reset in the past", reply: jsonReply(429, `{}`, "Retry-After", "60", "X-RateLimit-Reset", strconv.FormatInt(t0.Unix()-5, 10)),
			want: result{Kind: "retry", HTTPStatus: 429, RateLimited: true,
				RetryAt: t0.Add(time.Minute), ResetAt: t0.Add(-5 * time.Second), RetryAfter: time.Minute}},
		{name: "429 with reset as seconds from now", reply: jsonReply(429, `{}`, "X-RateLimit-Reset", "12"),
			want: result{Kind: "retry", HTTPStatus: 429, RateLimited: true, RetryAt: t0.Add(12 * time.Second), ResetAt: t0.Add(12 * time.Second)}},
		{name: "429 with a garbage reset", reply: jsonReply(429, `{}`, "Retry-After", "60", "X-RateLimit-Reset", "tomorrow"),
			want: result{Kind: "retry", HTTPStatus: 429, RateLimited: true, RetryAt: t0.Add(time.Minute), RetryAfter: time.Minute}},
		{name: "429 with an HTTP-date Retry-After", reply: jsonReply(429, `{}`, "Retry-After", t0.Add(45*time.Second).UTC().Format(http.TimeFormat)), noRate: true,
			want: result{Kind: "retry", HTTPStatus: 429, RateLimited: true, RetryAt: t0.Add(45 * time.Second), RetryAfter: 45 * time.Second}},
		{name: "429 saying nothing", reply: jsonReply(429, ``), noRate: true,
			want: result{Kind: "retry", HTTPStatus: 429, RateLimited: true, Message: "empty answer"}},
		{name: "429 HTML", reply: htmlReply(429, "Retry-After", "3"), noRate: true,
			want: result{Kind: "retry", HTTPStatus: 429, RateLimited: true, Message: "non-JSON answer (text/html)", RetryAt: t0.Add(3 * time.Second), RetryAfter: 3 * time.Second}},
		{name: "403 rate limit code", reply: jsonReply(403, `{"error":{"code":"rate_limit_exceeded"}}`, "Retry-After", "5"),
			want: result{Kind: "retry", HTTPStatus: 403, Code: "rate_limit_exceeded", RateLimited: true, RetryAt: t0.Add(30 * time.Second), RetryAfter: 5 * time.Second, ResetAt: t0.Add(30 * time.Second)}},
		{name: "500", reply: jsonReply(500, `{"success":false,"error":{"code":"internal_error","message":"oops"}}`),
			want: result{Kind: "retry", HTTPStatus: 500, Code: "internal_error", Message: "oops", ResetAt: t0.Add(30 * time.Second)}},
		{name: "502 HTML", reply: htmlReply(502), noRate: true,
			want: result{Kind: "retry", HTTPStatus: 502, Message: "non-JSON answer (text/html)"}},
		{name: "503 with Retry-After", reply: jsonReply(503, `{"error":{"code":"service_unavailable"}}`, "Retry-After", "7", "X-RateLimit-Reset", reset30),
			want: result{Kind: "retry", HTTPStatus: 503, Code: "service_unavailable", RetryAt: t0.Add(7 * time.Second), RetryAfter: 7 * time.Second, ResetAt: t0.Add(30 * time.Second)}},
		{name: "504 plain text", reply: reply{status: 504, header: map[string]string{"Content-Type": "text/plain"}, body: "upstream timed out"},
			noRate: true, want: result{Kind: "retry", HTTPStatus: 504, Message: "non-JSON answer (text/plain)"}},
		{name: "408", reply: jsonReply(408, `{}`), want: result{Kind: "retry", HTTPStatus: 408, ResetAt: t0.Add(30 * time.Second)}},
		{name: "409 idempotency key in use", reply: jsonReply(409, `{"error":{"code":"idempotency_key_in_use"}}`, "Retry-After", "1"),
			want: result{Kind: "retry", HTTPStatus: 409, Code: "idempotency_key_in_use", RetryAt: t0.Add(time.Second), RetryAfter: time.Second, ResetAt: t0.Add(30 * time.Second)}},

		// fatal
		{name: "401 invalid_api_key", reply: jsonReply(401, `{"success":false,"error":{"code":"invalid_api_key","message":"Invalid API key"}}`),
			want: result{Kind: "fatal", HTTPStatus: 401, Code: "invalid_api_key", Message: "Invalid API key", Hint: "ZENTRA_SECRET_KEY"}},
		{name: "401 expired_api_key", reply: jsonReply(401, `{"error":{"code":"EXPIRED_API_KEY"}}`),
			want: result{Kind: "fatal", HTTPStatus: 401, Code: "expired_api_key", Hint: "no longer valid"}},
		{name: "401 unauthorized", reply: jsonReply(401, `{"error":{"code":"unauthorized","message":"missing Authorization header"}}`),
			want: result{Kind: "fatal", HTTPStatus: 401, Code: "unauthorized", Message: "missing Authorization", Hint: "refused the secret key"}},
		{name: "401 wrong_environment", reply: jsonReply(401, `{"error":{"code":"wrong_environment","message":"sandbox key on live"}}`),
			want: result{Kind: "fatal", HTTPStatus: 401, Code: "wrong_environment", Message: "sandbox key on live",
				Hint: "is a sandbox key (sk_sandbox_…) and http://127.0.0.1"}},
		{name: "401 string error", reply: jsonReply(401, `{"error":"invalid_api_key"}`),
			want: result{Kind: "fatal", HTTPStatus: 401, Code: "invalid_api_key", Hint: "refused the secret key"}},
		{name: "401 HTML", reply: htmlReply(401), noRate: true,
			want: result{Kind: "fatal", HTTPStatus: 401, Message: "non-JSON answer (text/html)", Hint: "refused the secret key"}},
		{name: "403 insufficient_permissions", reply: jsonReply(403, `{"error":{"code":"insufficient_permissions","message":"not enabled"}}`),
			want: result{Kind: "fatal", HTTPStatus: 403, Code: "insufficient_permissions", Message: "not enabled", Hint: "enable the identity product"}},
		{name: "404", reply: jsonReply(404, `{"error":{"code":"not_found","message":"no route"}}`),
			want: result{Kind: "fatal", HTTPStatus: 404, Code: "not_found", Message: "no route", Hint: "check the API URL"}},
		{name: "404 HTML", reply: htmlReply(404), noRate: true,
			want: result{Kind: "fatal", HTTPStatus: 404, Message: "non-JSON answer (text/html)", Hint: "/api/v1/identity/customers"}},
		{name: "405", reply: jsonReply(405, `{"error":{"code":"method_not_allowed"}}`),
			want: result{Kind: "fatal", HTTPStatus: 405, Code: "method_not_allowed", Hint: "check the API URL"}},
		{name: "redirect, not followed", reply: reply{status: 301, header: map[string]string{"Location": "https://user:pw@api.example.com/v2?token=abc"}},
			noRate: true, want: result{Kind: "fatal", HTTPStatus: 301, Message: "empty answer", Hint: "redirects to https://api.example.com/v2:"}},
		{name: "key code on a 400", reply: jsonReply(400, `{"error":{"code":"Invalid_Api_Key"}}`),
			want: result{Kind: "fatal", HTTPStatus: 400, Code: "invalid_api_key", Hint: "refused the secret key"}},
		{name: "2xx declaring a key failure", reply: jsonReply(200, `{"success":false,"error":{"code":"wrong_environment"}}`),
			want: result{Kind: "fatal", HTTPStatus: 200, Code: "wrong_environment", Hint: "sandbox key"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			type seen struct {
				method, path, auth, ctype, accept, ua, idem, body string
			}
			got := make(chan seen, 1)
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				body, _ := io.ReadAll(r.Body)
				got <- seen{r.Method, r.URL.RequestURI(), r.Header.Get("Authorization"), r.Header.Get("Content-Type"),
					r.Header.Get("Accept"), r.Header.Get("User-Agent"), r.Header.Get("Idempotency-Key"), string(body)}
				h := w.Header()
				if !tt.noRate {
					h.Set("X-RateLimit-Limit", "100")
					h.Set("X-RateLimit-Remaining", "42")
					h.Set("X-RateLimit-Reset", reset30)
				}
				for k, v := range tt.reply.header {
					h.Set(k, v)
				}
				w.WriteHeader(tt.reply.status)
				_, _ = io.WriteString(w, tt.reply.body)
			}))
			defer srv.Close()
			c, obs := newClient(t, srv.URL, tt.tweak)

			const body = `{"external_reference":"crm-1","email":"jane@example.com"}`
			cr, err := c.Create(context.Background(), "zi1-0123456789abcdef", []byte(body))
			res := flatten(cr, err)
			assertResult(t, tt.want, res)

			req := <-got
			assert.Equal(t, seen{"POST", "/api/v1/identity/customers", "Bearer " + testKey, "application/json",
				"application/json", "zentra-import-test/1", "zi1-0123456789abcdef", body}, req)

			if err != nil {
				assert.NotContains(t, err.Error(), "jane@example.com", "an error repeats the request or the page")
				assert.NotContains(t, err.Error(), "<html", "an error dumps the page")
				assert.Regexp(t, errorFormat, err.Error(), "in the package's format")
			}
			rls := obs.all()
			if tt.noRate {
				assert.Empty(t, rls)
				return
			}
			require.Len(t, rls, 1)
			assert.Equal(t, 100, rls[0].Limit)
			assert.True(t, rls[0].Received.Equal(t0))
			if tt.reply.header["X-RateLimit-Remaining"] == "" {
				assert.Equal(t, 42, rls[0].Remaining)
			}
			if tt.reply.header["X-RateLimit-Reset"] == "" {
				assert.True(t, rls[0].Reset.Equal(t0.Add(30*time.Second)), "reset %v", rls[0].Reset)
			}
		})
	}
}

func TestRowErrorText(t *testing.T) {
	err := &zentra.RowError{HTTPStatus: 422, Code: "missing_required_field", Field: "email", Message: "email is required"}
	assert.Equal(t, "422 missing_required_field (field email): email is required", err.Error())
	assert.Equal(t, "400", (&zentra.RowError{HTTPStatus: 400}).Error())
}

func TestRetryableErrorText(t *testing.T) {
	tests := []struct {
		name string
		err  *zentra.RetryableError
		want string
	}{
		{"429", &zentra.RetryableError{HTTPStatus: 429, Code: "rate_limit_exceeded", Message: "slow down", RetryAt: t0},
			"429 rate_limit_exceeded: slow down; retry at 2027-01-15T08:00:00Z"},
		{"sent", &zentra.RetryableError{Code: zentra.CodeConnectionClosed, Sent: true, Err: io.EOF},
			"connection_closed: the connection closed before a complete answer (the request was sent: the customer may have been created)"},
		{"refused", &zentra.RetryableError{Code: zentra.CodeConnectionRefused, Err: &net.OpError{Op: "dial", Net: "tcp",
			Addr: &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 8080}, Err: os.NewSyscallError("connect", syscall.ECONNREFUSED)}},
			"connection_refused: connection refused (nothing was sent)"},
		{"unreachable", &zentra.RetryableError{Code: zentra.CodeNetwork, Err: &net.OpError{Op: "dial", Net: "tcp",
			Err: os.NewSyscallError("connect", syscall.ENETUNREACH)}},
			"network_error: network is unreachable"},
		{"other", &zentra.RetryableError{Code: zentra.CodeNetwork, Err: errors.New("proxyconnect tcp: dial tcp 10.0.0.1:3128: oops")},
			"network_error: the API could not be reached"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { assert.Equal(t, tt.want, tt.err.Error()) })
	}
}

func TestConfigErrors(t *testing.T) {
	tests := []struct {
		name string
		cfg  zentra.Config
		want string
	}{
		{"no key", zentra.Config{}, "no secret key"},
		{"key with a newline", zentra.Config{Key: testKey + "\n"}, "white space"},
		{"key with a space inside", zentra.Config{Key: "sk_sandbox_ab cd", BaseURL: "http://127.0.0.1:1"}, "byte 14"},
		{"key of no environment", zentra.Config{Key: "abcdefgh12345678"}, "neither sk_sandbox_ nor sk_live_"},
		{"publishable key", zentra.Config{Key: "pk_live_abcdefgh12345678"}, "publishable key"},
		{"plain http elsewhere", zentra.Config{Key: testKey, BaseURL: "http://api.example.com"}, "only to this machine"},
		{"bad idempotency header", zentra.Config{Key: testKey, IdempotencyHeader: "Idempotency Key"}, "not a valid HTTP header name"},
		{"empty id paths", zentra.Config{Key: testKey, IDPaths: []string{}}, "list of id paths is empty"},
		{"bad id path", zentra.Config{Key: testKey, IDPaths: []string{"data..id"}}, "not a dotted JSON path"},
		{"negative timeout", zentra.Config{Key: testKey, Timeout: -time.Second}, "negative"},
		{"negative pool", zentra.Config{Key: testKey, MaxConns: -1}, "negative"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := zentra.New(tt.cfg)
			require.Error(t, err)
			assert.Contains(t, err.Error(), tt.want)
			assert.NotContains(t, err.Error(), "abcdefgh12345678")
			assert.NotContains(t, err.Error(), "t3stS3cret")
		})
	}
}

func TestNewDefaults(t *testing.T) {
	c, err := zentra.New(zentra.Config{Key: testKey})
	require.NoError(t, err)
	assert.Equal(t, zentra.SandboxURL, c.BaseURL())
	c, err = zentra.New(zentra.Config{Key: "sk_live_abc123"})
	require.NoError(t, err)
	assert.Equal(t, zentra.LiveURL, c.BaseURL())
	c, err = zentra.New(zentra.Config{Key: "sk_live_abc123", BaseURL: "http://localhost:8080/"})
	require.NoError(t, err)
	assert.Equal(t, "http://localhost:8080", c.BaseURL(), "an explicit URL wins, without its trailing slash")
	c, err = zentra.New(zentra.Config{Key: "custom-key-without-prefix", BaseURL: "https://gateway.example.com/zentra"})
	require.NoError(t, err, "any key goes with an explicit URL")
	assert.Equal(t, "https://gateway.example.com/zentra", c.BaseURL())
	c, err = zentra.New(zentra.Config{Key: testKey, BaseURL: "HTTPS://API.UseZentra.com/"})
	require.NoError(t, err)
	assert.Equal(t, zentra.LiveURL, c.BaseURL(), "scheme and host in lower case")
}

func TestNoIdempotencyHeader(t *testing.T) {
	tests := []struct {
		name   string
		header string
		key    string
		want   []string
	}{
		{"disabled", "", "zi1-abc", nil},
		{"empty key", zentra.IdempotencyKeyHeader, "", nil},
		{"custom header", "X-Request-Key", "zi1-abc", []string{"X-Request-Key"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got []string
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				for _, h := range []string{"Idempotency-Key", "X-Request-Key"} {
					if r.Header.Get(h) == "zi1-abc" {
						got = append(got, h)
					}
				}
				w.WriteHeader(201)
				_, _ = io.WriteString(w, `{"data":{"id":"cus_1"}}`)
			}))
			defer srv.Close()
			c, _ := newClient(t, srv.URL, func(c *zentra.Config) { c.IdempotencyHeader = tt.header })
			_, err := c.Create(context.Background(), tt.key, []byte(`{}`))
			require.NoError(t, err)
			assert.Equal(t, tt.want, got)
		})
	}
	c, _ := newClient(t, "http://127.0.0.1:1", nil)
	_, err := c.Create(context.Background(), "bad\nkey", []byte(`{}`))
	var fatal *zentra.FatalError
	require.ErrorAs(t, err, &fatal)
	assert.Equal(t, zentra.CodeInvalidRequest, fatal.Code)
}

// TestConnectionReuse checks that answers are drained and closed: many creates, one connection.
func TestConnectionReuse(t *testing.T) {
	var mu sync.Mutex
	conns := map[string]bool{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		conns[r.RemoteAddr] = true
		mu.Unlock()
		w.Header().Set("Content-Type", jsonCT)
		if r.Header.Get("Idempotency-Key") == "k2" {
			w.WriteHeader(422) // an error body with more after it than the client reads
			_, _ = io.WriteString(w, `{"error":{"code":"validation_error"}}`+strings.Repeat(" ", 4096))
			return
		}
		w.WriteHeader(201)
		_, _ = io.WriteString(w, `{"data":{"id":"cus_1"}}`)
	}))
	defer srv.Close()
	c, _ := newClient(t, srv.URL, func(c *zentra.Config) { c.MaxConns = 1 })
	for i := range 20 {
		_, _ = c.Create(context.Background(), fmt.Sprintf("k%d", i%3), []byte(`{}`))
	}
	assert.Len(t, conns, 1, "every answer is drained so that the connection is reused")
}

func TestOversizedAnswer(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", jsonCT)
		w.WriteHeader(201)
		_, _ = io.WriteString(w, `{"data":{"id":"cus_1","pad":"`+strings.Repeat("x", 2<<20)+`"}}`)
	}))
	defer srv.Close()
	c, _ := newClient(t, srv.URL, nil)
	cr, err := c.Create(context.Background(), "k", []byte(`{}`))
	assertResult(t, result{Kind: "row", HTTPStatus: 201, Code: zentra.CodeInvalidAnswer, Message: "answer larger than 1024 KiB"}, flatten(cr, err))
}

// TestLookupAnswers covers the lookup's own readings; the sandbox tests cover its usual answers.
func TestLookupAnswers(t *testing.T) {
	tests := []struct {
		name  string
		reply reply
		id    string
		found bool
		want  result // for an error
	}{
		{name: "object", reply: jsonReply(200, `{"status":"success","data":{"id":"cus_1"}}`), id: "cus_1", found: true},
		{name: "list", reply: jsonReply(200, `{"data":[{"id":"cus_2"},{"id":"cus_3"}]}`), id: "cus_2", found: true},
		{name: "empty list", reply: jsonReply(200, `{"data":[]}`)},
		{name: "JSON 404", reply: jsonReply(404, `{"error":{"code":"not_found"}}`)},
		{name: "HTML 404: no such route", reply: htmlReply(404), want: result{Kind: "fatal", HTTPStatus: 404, Hint: "check the API URL"}},
		{name: "405: no lookup here", reply: jsonReply(405, `{"error":{"code":"method_not_allowed"}}`), want: result{Kind: "fatal", HTTPStatus: 405, Code: "method_not_allowed"}},
		{name: "no id", reply: jsonReply(200, `{"data":{"object":"customer"}}`), want: result{Kind: "row", HTTPStatus: 200, Code: zentra.CodeNoCustomerID, Message: "the lookup answered 200 without"}},
		{name: "409", reply: jsonReply(409, `{"error":{"code":"conflict"}}`), want: result{Kind: "row", HTTPStatus: 409, Code: zentra.CodeInvalidAnswer}},
		{name: "429", reply: jsonReply(429, `{}`, "Retry-After", "2"), want: result{Kind: "retry", HTTPStatus: 429, RateLimited: true, RetryAt: t0.Add(2 * time.Second), RetryAfter: 2 * time.Second}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var query string
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				query = r.Method + " " + r.URL.RequestURI()
				for k, v := range tt.reply.header {
					w.Header().Set(k, v)
				}
				w.WriteHeader(tt.reply.status)
				_, _ = io.WriteString(w, tt.reply.body)
			}))
			defer srv.Close()
			c, _ := newClient(t, srv.URL, nil)
			id, found, err := c.Lookup(context.Background(), "crm 1&x")
			assert.Equal(t, "GET /api/v1/identity/customers?external_reference=crm+1%26x", query)
			if tt.want.Kind != "" {
				assertResult(t, tt.want, flatten(nil, err))
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tt.id, id)
			assert.Equal(t, tt.found, found)
		})
	}
}

// errorFormat is the package's error format: the answer's status, or the client's code, first.
var errorFormat = regexp.MustCompile(`^([1-9][0-9]{2}($|[ :;(])|[a-z][a-z0-9_]*($|[:;( ]))`)
