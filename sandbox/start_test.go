package sandbox

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func start(t *testing.T, cfg Config) *Running {
	t.Helper()
	if cfg.Key == "" {
		cfg.Key = testKey
	}
	r, err := Start("", cfg)
	require.NoError(t, err)
	t.Cleanup(func() { assert.NoError(t, r.Close()) })
	return r
}

// send makes one create over the network; client nil means a fresh connection.
func send(ctx context.Context, client *http.Client, url, b, idem string) (*http.Response, []byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url+CustomersPath, strings.NewReader(b))
	if err != nil {
		return nil, nil, err
	}
	req.Header.Set("Authorization", "Bearer "+testKey)
	req.Header.Set("Content-Type", "application/json")
	if idem != "" {
		req.Header.Set(HeaderIdempotencyKey, idem)
	}
	if client == nil {
		client = &http.Client{Transport: &http.Transport{DisableKeepAlives: true}}
	}
	resp, err := client.Do(req)
	if err != nil {
		return nil, nil, err
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	return resp, data, err
}

func TestStart(t *testing.T) {
	r := start(t, Config{Limit: 10})
	assert.Regexp(t, `^http://127\.0\.0\.1:\d+$`, r.URL)
	assert.Equal(t, testKey, r.Key)
	resp, data, err := send(context.Background(), http.DefaultClient, r.URL, body("net-1"), "k")
	require.NoError(t, err)
	assert.Equal(t, http.StatusCreated, resp.StatusCode, string(data))
	assert.Equal(t, "9", resp.Header.Get(HeaderRemaining))

	st, err := http.Get(r.URL + StatsPath)
	require.NoError(t, err)
	defer st.Body.Close()
	var stats Stats
	require.NoError(t, json.NewDecoder(st.Body).Decode(&stats))
	assert.Equal(t, 1, stats.Creates)
	assert.Equal(t, r.Server.Stats().Requests, stats.Requests)
}

func TestStartGeneratesKey(t *testing.T) {
	r, err := Start("LocalHost:0", Config{})
	require.NoError(t, err)
	defer r.Close()
	assert.Regexp(t, `^http://127\.0\.0\.1:\d+$`, r.URL, "localhost is 127.0.0.1")
	assert.Regexp(t, `^sk_sandbox_[0-9a-f]{24}$`, r.Key)
	assert.Equal(t, r.Key, r.Server.Key())
}

func TestStartRefuses(t *testing.T) {
	// None of these is asked of a resolver: each is refused before anything listens.
	for _, addr := range []string{":0", "0.0.0.0:0", "[::]:0", "192.168.1.10:8080", "example.com:80",
		"localhost.:0", "localhost.localdomain:0", "foo.localhost:0", "[::1%lo]:0", "[fe80::1%eth0]:0",
		"127.1:0", "0x7f.1:0", "2130706433:0"} {
		t.Run(addr, func(t *testing.T) {
			_, err := Start(addr, Config{})
			_, ok := errors.AsType[*NonLoopbackError](err)
			assert.True(t, ok, "%v", err)
		})
	}
	_, err := Start("no-port", Config{})
	assert.ErrorContains(t, err, "want HOST:PORT")
	_, err = Start("", Config{FailRate: 2})
	_, ok := errors.AsType[*ConfigError](err)
	assert.True(t, ok, "%v", err)
}

func TestDrop(t *testing.T) {
	r := start(t, Config{DropRate: 1})
	ctx := context.Background()
	_, _, err := send(ctx, nil, r.URL, body("dropped"), "key-d")
	require.Error(t, err, "the client gets no answer")
	assert.ErrorIs(t, err, io.EOF)

	cs := r.Server.Customers()
	require.Len(t, cs, 1, "the customer was committed all the same")
	assert.Equal(t, "dropped", cs[0].ExternalReference)
	assert.Equal(t, 1, r.Server.Stats().Dropped)
	assert.Equal(t, 1, r.Server.Stats().Creates)

	// The retry with the same key is replayed (a replay is never dropped), with the id the client missed.
	resp, data, err := send(ctx, nil, r.URL, body("dropped"), "key-d")
	require.NoError(t, err)
	assert.Equal(t, http.StatusCreated, resp.StatusCode)
	assert.Equal(t, "true", resp.Header.Get(HeaderIdempotentReplayed))
	assert.Contains(t, string(data), cs[0].ID)
	// Without a key, the retry meets the reference.
	resp, data, err = send(ctx, nil, r.URL, body("dropped"), "")
	require.NoError(t, err)
	assert.Equal(t, http.StatusConflict, resp.StatusCode)
	assert.Contains(t, string(data), cs[0].ID)
	assert.Len(t, r.Server.Customers(), 1)
}

func TestCloseDoesNotHang(t *testing.T) {
	t.Run("dropped connections", func(t *testing.T) {
		r, err := Start("", Config{Key: testKey, DropRate: 1})
		require.NoError(t, err)
		client := &http.Client{Transport: &http.Transport{}}
		for i := range 5 {
			_, _, err := send(context.Background(), client, r.URL, body(strings.Repeat("d", i+1)), "")
			require.Error(t, err)
		}
		begun := time.Now()
		require.NoError(t, r.Close())
		assert.Less(t, time.Since(begun), CloseTimeout)
		assert.NoError(t, r.Wait())
		assert.NoError(t, r.Close(), "a second Close is harmless")
	})
	t.Run("requests waiting out latency", func(t *testing.T) {
		r, err := Start("", Config{Key: testKey, Latency: time.Hour})
		require.NoError(t, err)
		type result struct {
			status int
			err    error
		}
		done := make(chan result, 3)
		for i := range 3 {
			go func() {
				resp, _, err := send(context.Background(), nil, r.URL, body(strings.Repeat("w", i+1)), "")
				if err != nil {
					done <- result{err: err}
					return
				}
				done <- result{status: resp.StatusCode}
			}()
		}
		require.Eventually(t, func() bool { return r.Server.Stats().Requests == 3 }, 5*time.Second, time.Millisecond)
		begun := time.Now()
		require.NoError(t, r.Close())
		assert.Less(t, time.Since(begun), CloseTimeout)
		for range 3 {
			res := <-done
			require.NoError(t, res.err)
			assert.Equal(t, http.StatusServiceUnavailable, res.status, "cut short and told so")
		}
		assert.Empty(t, r.Server.Customers())
	})
}

// Go's http.Transport itself resends a request that carries an Idempotency-Key (and can rewind its body)
// when a reused connection closes before any answer: a drop then reaches the caller as the replayed
// answer, not as an error. Tests that want the client to see the drop use fresh connections (TestDrop).
func TestDropOnReusedConnectionIsResentByTransport(t *testing.T) {
	r := start(t, Config{})
	client := &http.Client{Transport: &http.Transport{}}
	_, _, err := send(context.Background(), client, r.URL, body("warm"), "")
	require.NoError(t, err)
	r.Server.cfg.DropRate = 1 // the connection above is now idle in the pool
	resp, _, err := send(context.Background(), client, r.URL, body("x"), "kx")
	require.NoError(t, err)
	assert.Equal(t, "true", resp.Header.Get(HeaderIdempotentReplayed))
	st := r.Server.Stats()
	assert.Equal(t, 1, st.Dropped)
	assert.Equal(t, 1, st.Replays)
}
