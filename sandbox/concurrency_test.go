package sandbox

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestConcurrentSameReference sends one reference from 50 goroutines at once over real connections:
// exactly one customer results unless NoUnique is played without keys.
func TestConcurrentSameReference(t *testing.T) {
	const n = 50
	tests := []struct {
		name      string
		cfg       Config
		sameKey   bool // every request carries the same Idempotency-Key; else each its own
		noKey     bool
		customers int
		want      map[int]int // answers by status
		replays   int
	}{
		{"same key", Config{}, true, false, 1, map[int]int{201: n}, n - 1},
		{"different keys", Config{}, false, false, 1, map[int]int{201: 1, 409: n - 1}, 0},
		{"no keys", Config{}, false, true, 1, map[int]int{201: 1, 409: n - 1}, 0},
		{"duplicate ok", Config{DuplicateOK: true}, false, true, 1, map[int]int{201: 1, 200: n - 1}, 0},
		{"keys ignored", Config{NoIdempotency: true}, true, false, 1, map[int]int{201: 1, 409: n - 1}, 0},
		{"not unique, same key", Config{NoUnique: true}, true, false, 1, map[int]int{201: n}, n - 1},
		{"not unique, different keys", Config{NoUnique: true}, false, false, n, map[int]int{201: n}, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := start(t, tt.cfg)
			client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: n}}
			defer client.CloseIdleConnections()
			var mu sync.Mutex
			statuses := map[int]int{}
			ids := map[string]bool{}
			var wg sync.WaitGroup
			ready := make(chan struct{})
			for i := range n {
				wg.Go(func() {
					key := fmt.Sprint("key-", i)
					switch {
					case tt.noKey:
						key = ""
					case tt.sameKey:
						key = "key-shared"
					}
					<-ready
					resp, data, err := send(context.Background(), client, r.URL, body("same-ref"), key)
					if !assert.NoError(t, err) {
						return
					}
					var v struct{ Data struct{ ID string } }
					assert.NoError(t, json.Unmarshal(data, &v))
					mu.Lock()
					defer mu.Unlock()
					statuses[resp.StatusCode]++
					if v.Data.ID != "" {
						ids[v.Data.ID] = true
					}
				})
			}
			close(ready)
			wg.Wait()
			assert.Equal(t, tt.want, statuses)
			assert.Len(t, ids, tt.customers, "distinct ids answered")
			st := r.Server.Stats()
			require.Len(t, r.Server.Customers(), tt.customers)
			assert.Equal(t, tt.customers, st.Creates)
			assert.Equal(t, tt.customers-1, st.DuplicateCustomers)
			assert.Equal(t, tt.replays, st.Replays)
			assert.Equal(t, n, st.Requests)
		})
	}
}

// TestConcurrentMixedLoad drives many references, keys, retries and limits at once through the handler
// and checks that the counters add up.
func TestConcurrentMixedLoad(t *testing.T) {
	s := newServer(t, Config{Limit: 1000000, FailRate: 0.1, Seed: 5, Lookup: true})
	const workers, per = 16, 200
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			for i := range per {
				ref := fmt.Sprintf("ref-%d", (w*per+i)%1000) // every reference sent by several workers
				key := ""
				if i%2 == 0 {
					key = "k-" + ref
				}
				serve(t, s, post(body(ref), key))
				if i%10 == 0 {
					serve(t, s, request{method: "GET", path: CustomersPath + "?external_reference=" + ref, auth: "Bearer " + testKey})
				}
			}
		})
	}
	wg.Wait()
	st := s.Stats()
	creates := workers * per
	assert.Equal(t, creates+st.Lookups, st.Requests)
	assert.Equal(t, creates, st.Creates+st.Replays+st.Conflicts+st.Injected5xx)
	assert.Equal(t, 0, st.DuplicateCustomers)
	refs := map[string]bool{}
	for _, c := range s.Customers() {
		assert.False(t, refs[c.ExternalReference], "one customer per reference")
		refs[c.ExternalReference] = true
	}
	assert.Equal(t, st.Creates, len(refs))
	assert.Greater(t, st.Creates, 990, "a reference fails only when every one of its sends was failed")
	total := 0
	for _, w := range st.Windows {
		total += w.Allowed
	}
	assert.Equal(t, st.Requests, total)
}
