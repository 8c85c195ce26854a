package zentra_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/zentra/zentra-import/sandbox"
	"github.com/zentra/zentra-import/zentra"
)

// TestTransportNeverResendsOnItsOwn: a server that reads a request and then closes the (reused)
// connection without answering receives that request once. net/http would resend it on a new connection
// by itself, behind the caller's pacer and retry count: a POST because it carries an Idempotency-Key, a
// GET because GETs are idempotent.
func TestTransportNeverResendsOnItsOwn(t *testing.T) {
	for _, method := range []string{http.MethodPost, http.MethodGet} {
		t.Run(method, func(t *testing.T) {
			var received atomic.Int32
			var bodyless atomic.Bool
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if r.Method == http.MethodGet {
					bodyless.Store(r.ContentLength == 0 && len(r.TransferEncoding) == 0)
				}
				if received.Add(1) == 1 { // the first request opens the connection the next one reuses
					w.Header().Set("Content-Type", jsonCT)
					w.WriteHeader(201)
					_, _ = io.WriteString(w, `{"data":{"id":"cus_warm"}}`)
					return
				}
				hijack("")(w, r) // read the request, then close without a byte of answer
			}))
			defer srv.Close()
			c, _ := newClient(t, srv.URL, func(c *zentra.Config) { c.MaxConns = 1 })
			_, err := c.Create(context.Background(), "warm", []byte(`{"external_reference":"warm"}`))
			require.NoError(t, err)

			if method == http.MethodPost {
				_, err = c.Create(context.Background(), "k1", []byte(`{"external_reference":"r1"}`))
			} else {
				_, _, err = c.Lookup(context.Background(), "r1")
			}
			var retry *zentra.RetryableError
			require.ErrorAs(t, err, &retry, "the caller sees the lost answer")
			assert.True(t, retry.Sent, "the request was sent")
			assert.Equal(t, zentra.CodeConnectionClosed, retry.Code, "%v", err)
			assert.Equal(t, int32(2), received.Load(), "the warm-up and the one request: nothing sent again behind the caller's back")
			if method == http.MethodGet {
				assert.True(t, bodyless.Load(), "the lookup goes on the wire as a GET without a body")
			}
		})
	}
}

// TestEveryRequestOnTheWireIsOneCall: against the sandbox committing 30% of creates and then dropping
// the connection, the sandbox receives exactly one request per Create call, and the calls that got no
// answer are exactly the drops.
func TestEveryRequestOnTheWireIsOneCall(t *testing.T) {
	sb, err := sandbox.Start("", sandbox.Config{Key: testKey, DropRate: 0.3, Seed: 3})
	require.NoError(t, err)
	defer sb.Close()
	c, _ := newClient(t, sb.URL, func(c *zentra.Config) { c.MaxConns = 4 })
	const calls = 400
	var lost atomic.Int32
	var wg sync.WaitGroup
	for w := range 4 {
		wg.Go(func() {
			for i := w; i < calls; i += 4 {
				ref := fmt.Sprintf("r%d", i)
				_, err := c.Create(context.Background(), "idem-"+ref, []byte(`{"external_reference":"`+ref+`"}`))
				var retry *zentra.RetryableError
				switch {
				case err == nil:
				case errors.As(err, &retry) && retry.Sent && retry.HTTPStatus == 0:
					lost.Add(1)
				default:
					t.Errorf("create %s: %v", ref, err)
				}
			}
		})
	}
	wg.Wait()
	st := sb.Server.Stats()
	assert.Equal(t, calls, st.Requests, "one request on the wire per call")
	assert.Equal(t, st.Dropped, int(lost.Load()), "every dropped answer reached the caller")
	assert.Positive(t, st.Dropped)
	assert.Zero(t, st.Replays, "nothing was sent twice, so nothing was replayed")
}
