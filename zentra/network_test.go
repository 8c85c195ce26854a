package zentra_test

import (
	"context"
	"errors"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/zentra/zentra-import/zentra"
)

// hijack answers by taking over the connection: it reads the request, writes raw (possibly nothing) and
// closes the connection.
func hijack(raw string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		conn, buf, err := http.NewResponseController(w).Hijack()
		if err != nil {
			panic(err)
		}
		_, _ = buf.WriteString(raw)
		_ = buf.Flush()
		_ = conn.Close()
	}
}

// blockUntil answers with the header (and body prefix) given, then blocks until the request's context
// ends or the test releases it.
func blockUntil(release <-chan struct{}, status int, prefix string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body) // so that the server notices the client leaving
		if status != 0 {
			w.Header().Set("Content-Type", jsonCT)
			w.Header().Set("Content-Length", "1000")
			w.WriteHeader(status)
			_, _ = io.WriteString(w, prefix)
			_ = http.NewResponseController(w).Flush()
		}
		select {
		case <-release:
		case <-r.Context().Done():
		}
	}
}

func TestNetworkFailures(t *testing.T) {
	release := make(chan struct{})
	t.Cleanup(func() { close(release) })
	tests := []struct {
		name    string
		handler http.Handler
		timeout time.Duration
		want    result
		is      error // the error chain holds it
	}{
		{name: "no answer within the timeout", handler: blockUntil(release, 0, ""), timeout: 50 * time.Millisecond,
			want: result{Kind: "retry", Code: zentra.CodeTimeout, Sent: true}},
		{name: "201 whose body stalls", handler: blockUntil(release, 201, `{"data":`), timeout: 50 * time.Millisecond,
			want: result{Kind: "retry", HTTPStatus: 201, Code: zentra.CodeTimeout, Sent: true, Message: "the customer was probably created"}},
		{name: "connection closed without an answer", handler: hijack(""),
			want: result{Kind: "retry", Code: zentra.CodeConnectionClosed, Sent: true}, is: io.EOF},
		{name: "201 cut off mid-body", handler: hijack("HTTP/1.1 201 Created\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{\"data\":{\"id\""),
			want: result{Kind: "retry", HTTPStatus: 201, Code: zentra.CodeConnectionClosed, Sent: true, Message: "cut off after 201"}, is: io.ErrUnexpectedEOF},
		{name: "422 cut off mid-body", handler: hijack("HTTP/1.1 422 Unprocessable Entity\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{\"error\":"),
			want: result{Kind: "row", HTTPStatus: 422, Message: "answer cut off (application/json)"}},
		{name: "garbage instead of HTTP", handler: hijack("SSH-2.0-OpenSSH_9.2\r\n"),
			want: result{Kind: "retry", Code: zentra.CodeNetwork, Sent: true}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := httptest.NewServer(tt.handler)
			defer srv.Close()
			c, _ := newClient(t, srv.URL, func(c *zentra.Config) {
				if tt.timeout > 0 {
					c.Timeout = tt.timeout
				}
			})
			cr, err := c.Create(context.Background(), "k", []byte(`{"external_reference":"r1"}`))
			assertResult(t, tt.want, flatten(cr, err))
			if tt.is != nil {
				assert.ErrorIs(t, err, tt.is)
			}
		})
	}
}

func TestConnectionRefused(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := ln.Addr().String()
	require.NoError(t, ln.Close())
	c, _ := newClient(t, "http://"+addr, nil)
	cr, err := c.Create(context.Background(), "k", []byte(`{}`))
	assertResult(t, result{Kind: "retry", Code: zentra.CodeConnectionRefused}, flatten(cr, err))
	assert.ErrorIs(t, err, syscall.ECONNREFUSED)
	assert.Contains(t, err.Error(), "nothing was sent")
	assert.NotContains(t, err.Error(), "/api/v1", "the URL is not repeated")
}

func TestCallerContext(t *testing.T) {
	release := make(chan struct{})
	defer close(release)
	srv := httptest.NewServer(blockUntil(release, 0, ""))
	defer srv.Close()
	c, _ := newClient(t, srv.URL, nil)

	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := c.Create(ctx, "k", []byte(`{}`))
	assert.ErrorIs(t, err, context.Canceled)
	var retry *zentra.RetryableError
	assert.False(t, errors.As(err, &retry), "the caller's cancellation is not a retryable failure")

	ctx, cancel = context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	_, err = c.Create(ctx, "k", []byte(`{}`))
	assert.ErrorIs(t, err, context.DeadlineExceeded)
	assert.False(t, errors.As(err, &retry), "the caller's deadline is not the client's timeout")
}

func TestTLS(t *testing.T) {
	t.Run("untrusted certificate", func(t *testing.T) {
		srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			t.Error("a request reached a server the client must not trust")
		}))
		defer srv.Close()
		srv.Config.ErrorLog = quietLog()
		c, _ := newClient(t, srv.URL, func(c *zentra.Config) { c.Transport = nil })
		cr, err := c.Create(context.Background(), "k", []byte(`{}`))
		assertResult(t, result{Kind: "fatal", Code: zentra.CodeTLS, Hint: "cannot be trusted"}, flatten(cr, err))
	})
	t.Run("https to a plain HTTP server", func(t *testing.T) {
		srv := httptest.NewServer(http.NotFoundHandler())
		defer srv.Close()
		c, _ := newClient(t, strings.Replace(srv.URL, "http://", "https://", 1), nil)
		cr, err := c.Create(context.Background(), "k", []byte(`{}`))
		assertResult(t, result{Kind: "fatal", Code: zentra.CodeTLS, Hint: "does not speak TLS"}, flatten(cr, err))
	})
}

// dialFunc is a transport whose dialing fails with err (no DNS query leaves the machine).
func failingDial(err error) *http.Transport {
	return &http.Transport{DialContext: func(context.Context, string, string) (net.Conn, error) { return nil, err }}
}

func TestDialFailures(t *testing.T) {
	tests := []struct {
		name string
		err  error
		want result
	}{
		{"unknown host", &net.DNSError{Err: "no such host", Name: "api.example.invalid", IsNotFound: true},
			result{Kind: "fatal", Code: zentra.CodeUnknownHost, Hint: "host name does not exist"}},
		{"temporary DNS failure", &net.DNSError{Err: "server misbehaving", Name: "api.example.invalid", IsTemporary: true},
			result{Kind: "retry", Code: zentra.CodeNetwork}},
		{"dial timeout", &net.OpError{Op: "dial", Net: "tcp", Err: timeoutErr{}},
			result{Kind: "retry", Code: zentra.CodeTimeout}},
		{"reset while dialing", &net.OpError{Op: "dial", Net: "tcp", Err: syscall.ECONNRESET},
			result{Kind: "retry", Code: zentra.CodeConnectionClosed}},
		{"a transport that echoes the key", errors.New("proxy said: bad token " + testKey),
			result{Kind: "retry", Code: zentra.CodeNetwork}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, _ := newClient(t, "https://api.example.invalid", func(c *zentra.Config) { c.Transport = failingDial(tt.err) })
			cr, err := c.Create(context.Background(), "k", []byte(`{}`))
			assertResult(t, tt.want, flatten(cr, err))
			assert.ErrorIs(t, err, tt.err)
			assert.NotContains(t, err.Error(), "t3stS3cret")
		})
	}
}

type timeoutErr struct{}

func (timeoutErr) Error() string   { return "i/o timeout" }
func (timeoutErr) Timeout() bool   { return true }
func (timeoutErr) Temporary() bool { return true }

// TestDroppedThenReplayed: the server commits, drops the answer, then replays it to the same key.
func TestDroppedThenReplayed(t *testing.T) {
	calls := 0
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		calls++
		if calls == 1 {
			hijack("")(w, r)
			return
		}
		w.Header().Set("Idempotent-Replayed", "true")
		w.WriteHeader(201)
		_, _ = io.WriteString(w, `{"data":{"id":"cus_1"}}`)
	}))
	defer srv.Close()
	c, _ := newClient(t, srv.URL, nil)
	_, err := c.Create(context.Background(), "k", []byte(`{}`))
	var retry *zentra.RetryableError
	require.ErrorAs(t, err, &retry)
	assert.True(t, retry.Sent)
	cr, err := c.Create(context.Background(), "k", []byte(`{}`))
	require.NoError(t, err)
	assert.Equal(t, zentra.Created{ID: "cus_1", HTTPStatus: 201, Replayed: true}, *cr)
}

func quietLog() *log.Logger { return log.New(io.Discard, "", 0) }
