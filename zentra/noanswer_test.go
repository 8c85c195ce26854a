package zentra_test

import (
	"context"
	"net"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/zentra/zentra-import/zentra"
)

// TestNoAnswer tells the failures in which the API itself gave no answer (what a run counts towards an
// outage) from answers that fail one request, across what a server, a gateway or the network can do.
func TestNoAnswer(t *testing.T) {
	answer := func(status int, contentType, body string) http.HandlerFunc {
		return func(w http.ResponseWriter, r *http.Request) {
			if contentType != "" {
				w.Header().Set("Content-Type", contentType)
			}
			w.WriteHeader(status)
			_, _ = w.Write([]byte(body))
		}
	}
	release := make(chan struct{})
	t.Cleanup(func() { close(release) })
	tests := []struct {
		name     string
		handler  http.Handler
		noAnswer bool
	}{
		{"connection closed before an answer", hijack(""), true},
		{"no answer within the timeout", blockUntil(release, 0, ""), true},
		{"502 from a gateway", answer(502, htmlCT, "<html><body>502 Bad Gateway</body></html>"), true},
		{"504 from a gateway, even in JSON", answer(504, jsonCT, `{"message":"upstream request timeout"}`), true},
		{"503 page of a load balancer", answer(503, htmlCT, "<html><body>503 Service Temporarily Unavailable</body></html>"), true},
		{"503 with an empty body", answer(503, "", ""), true},
		{"503 with a bare JSON message", answer(503, jsonCT, `{"message":"no healthy upstream"}`), true},
		{"503 in the API's own envelope", answer(503, jsonCT, `{"success":false,"error":{"code":"service_unavailable","message":"try later"}}`), false},
		{"500 from the API", answer(500, jsonCT, `{"success":false,"error":{"code":"internal_error"}}`), false},
		{"500 page", answer(500, htmlCT, "<html>oops</html>"), false},
		{"429", answer(429, jsonCT, `{"error":{"code":"rate_limit_exceeded"}}`), false},
		{"408 from the server", answer(408, "", ""), false},
		{"201 cut off mid-body", hijack("HTTP/1.1 201 Created\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{\"data\":"), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := httptest.NewServer(tt.handler)
			defer srv.Close()
			c, _ := newClient(t, srv.URL, func(c *zentra.Config) { c.Timeout = 100 * time.Millisecond })
			_, err := c.Create(context.Background(), "k", []byte(`{"external_reference":"r1"}`))
			var retry *zentra.RetryableError
			require.ErrorAs(t, err, &retry)
			assert.Equal(t, tt.noAnswer, retry.NoAnswer(), "%v", err)
		})
	}

	t.Run("connection refused", func(t *testing.T) {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		require.NoError(t, err)
		addr := ln.Addr().String()
		require.NoError(t, ln.Close())
		c, _ := newClient(t, "http://"+addr, nil)
		_, err = c.Create(context.Background(), "k", []byte(`{}`))
		var retry *zentra.RetryableError
		require.ErrorAs(t, err, &retry)
		assert.True(t, retry.NoAnswer())
	})
	t.Run("a rate limit is an answer", func(t *testing.T) {
		assert.False(t, (&zentra.RetryableError{HTTPStatus: 429, RateLimited: true}).NoAnswer())
		assert.False(t, (&zentra.RetryableError{HTTPStatus: 503, Code: "rate_limit_exceeded", RateLimited: true}).NoAnswer())
	})
}
