package zentra

import (
	"context"
	"crypto/x509"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestTransportTuning(t *testing.T) {
	tr := newTransport(16, 5*time.Second)
	assert.Equal(t, 16, tr.MaxIdleConnsPerHost)
	assert.Equal(t, 16, tr.MaxConnsPerHost)
	assert.True(t, tr.ForceAttemptHTTP2)
	assert.NotNil(t, tr.Proxy)
	assert.Equal(t, 5*time.Second, tr.ResponseHeaderTimeout)
	assert.Equal(t, 5*time.Second, tr.TLSHandshakeTimeout, "bounded by the request timeout")
}

// TestHTTP2 checks that the tuned transport speaks HTTP/2 when a TLS server offers it.
func TestHTTP2(t *testing.T) {
	protos := make(chan int, 1)
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		protos <- r.ProtoMajor
		w.WriteHeader(201)
		_, _ = w.Write([]byte(`{"data":{"id":"cus_h2"}}`))
	}))
	srv.EnableHTTP2 = true
	srv.StartTLS()
	defer srv.Close()

	tr := newTransport(4, 5*time.Second)
	tr.TLSClientConfig.RootCAs = x509.NewCertPool()
	tr.TLSClientConfig.RootCAs.AddCert(srv.Certificate())
	c, err := New(Config{Key: "sk_sandbox_h2test", BaseURL: srv.URL, Transport: tr})
	require.NoError(t, err)
	cr, err := c.Create(context.Background(), "k", []byte(`{}`))
	require.NoError(t, err)
	assert.Equal(t, "cus_h2", cr.ID)
	assert.Equal(t, 2, <-protos)
}

// TestLoopbackDialNeverResolvesLocalhost: the name localhost (any case) is dialed at 127.0.0.1, then
// ::1, by the client itself; the dial function below it, which would hand a name to the resolver, only
// ever sees IP literals for it. Other addresses pass through unchanged.
func TestLoopbackDialNeverResolvesLocalhost(t *testing.T) {
	refused := errors.New("refused")
	var seen []string
	dial := loopbackDial(func(_ context.Context, network, addr string) (net.Conn, error) {
		seen = append(seen, network+" "+addr)
		return nil, refused // nothing is dialed for real
	})
	for _, tc := range []struct {
		network, addr string
		want          []string
	}{
		{"tcp", "localhost:8080", []string{"tcp 127.0.0.1:8080", "tcp [::1]:8080"}},
		{"tcp", "LOCALHOST:8080", []string{"tcp 127.0.0.1:8080", "tcp [::1]:8080"}},
		{"tcp4", "localhost:1", []string{"tcp4 127.0.0.1:1"}},
		{"tcp6", "localhost:1", []string{"tcp6 [::1]:1"}},
		{"tcp", "127.0.0.1:1", []string{"tcp 127.0.0.1:1"}},
		{"tcp", "[::1]:1", []string{"tcp [::1]:1"}},
		{"tcp", "api.usezentra.com:443", []string{"tcp api.usezentra.com:443"}}, // https: the resolver's job
	} {
		seen = nil
		_, err := dial(context.Background(), tc.network, tc.addr)
		assert.ErrorIs(t, err, refused)
		assert.Equal(t, tc.want, seen, "%s %s", tc.network, tc.addr)
	}

	// The real transport reaches a server on 127.0.0.1 as localhost, and one on [::1] only.
	for _, listen := range []string{"127.0.0.1:0", "[::1]:0"} {
		ln, err := net.Listen("tcp", listen)
		if err != nil {
			t.Logf("no %s here: %v", listen, err)
			continue
		}
		srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(201)
			_, _ = w.Write([]byte(`{"data":{"id":"cus_lo"}}`))
		}))
		srv.Listener = ln
		srv.Start()
		_, port, _ := net.SplitHostPort(ln.Addr().String())
		c, err := New(Config{Key: "sk_sandbox_lotest", BaseURL: "http://LocalHost:" + port})
		require.NoError(t, err)
		cr, err := c.Create(context.Background(), "k", []byte(`{}`))
		require.NoError(t, err, listen)
		assert.Equal(t, "cus_lo", cr.ID)
		srv.Close()
	}
}
