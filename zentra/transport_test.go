package zentra

import (
	"context"
	"crypto/x509"
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
