package sandbox

import (
	"bytes"
	"io"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strconv"
	"sync/atomic"
	"testing"
)

// benchClient is a keep-alive client sized for many concurrent requests on loopback.
func benchClient() *http.Client {
	return &http.Client{Transport: &http.Transport{
		MaxIdleConns:        512,
		MaxIdleConnsPerHost: 512,
		DisableCompression:  true,
	}}
}

// benchBody is a realistic create body with a unique reference.
func benchBody(n uint64) []byte {
	b := make([]byte, 0, 200)
	b = append(b, `{"external_reference":"bench-`...)
	b = strconv.AppendUint(b, n, 10)
	b = append(b, `","first_name":"Ada","last_name":"Obi","email":"ada@example.com","phone":"+2348012345678","metadata":{"source":"legacy"}}`...)
	return b
}

// runNetwork sends creates from 16 goroutines (8 per core here) through a real listener and reports
// requests per second. idem adds an Idempotency-Key; repeat sends the same request every time (replays).
func runNetwork(b *testing.B, cfg Config, idem, repeat bool, want int) {
	cfg.Key = testKey
	r, err := Start("", cfg)
	if err != nil {
		b.Fatal(err)
	}
	defer r.Close()
	client := benchClient()
	defer client.CloseIdleConnections()
	url := r.URL + CustomersPath
	var seq atomic.Uint64
	b.SetParallelism(8)
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			n := seq.Add(1)
			if repeat {
				n = 0
			}
			body := benchBody(n)
			req, err := http.NewRequest(http.MethodPost, url, bytes.NewReader(body))
			if err != nil {
				b.Error(err)
				return
			}
			req.Header.Set("Authorization", "Bearer "+testKey)
			req.Header.Set("Content-Type", "application/json")
			if idem {
				req.Header.Set(HeaderIdempotencyKey, "zi1-"+strconv.FormatUint(n, 16))
			}
			resp, err := client.Do(req)
			if err != nil {
				b.Error(err)
				return
			}
			_, _ = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode != want {
				b.Errorf("status %d", resp.StatusCode)
				return
			}
		}
	})
	b.StopTimer()
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "req/s")
}

// BenchmarkServerCreate: new customers, no key, no limit: the sandbox and a client on loopback.
func BenchmarkServerCreate(b *testing.B) { runNetwork(b, Config{}, false, false, http.StatusCreated) }

// BenchmarkServerCreateIdempotentLimited: what an import sends: a key per row, the limiter on (set high
// enough never to refuse), rate-limit headers on every answer.
func BenchmarkServerCreateIdempotentLimited(b *testing.B) {
	runNetwork(b, Config{Limit: 1 << 40, Window: 1e9}, true, false, http.StatusCreated)
}

// BenchmarkServerReplay: the same keyed request again and again (a resumed import re-sending).
func BenchmarkServerReplay(b *testing.B) {
	runNetwork(b, Config{}, true, true, http.StatusCreated)
}

// BenchmarkHandlerCreate measures the handler alone, without HTTP: the sandbox's own cost per create.
func BenchmarkHandlerCreate(b *testing.B) {
	s := newServer(b, Config{Limit: 1 << 40, Window: 1e9})
	var seq atomic.Uint64
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			n := seq.Add(1)
			req := httptest.NewRequest(http.MethodPost, CustomersPath, bytes.NewReader(benchBody(n)))
			req.Header.Set("Authorization", "Bearer "+testKey)
			req.Header.Set(HeaderIdempotencyKey, "zi1-"+strconv.FormatUint(n, 16))
			w := httptest.NewRecorder()
			s.ServeHTTP(w, req)
			if w.Code != http.StatusCreated {
				b.Errorf("status %d", w.Code)
				return
			}
		}
	})
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "req/s")
}

// BenchmarkMemoryPerCustomer reports the heap a customer costs the sandbox: its id, reference, time
// and the stored success body (which an idempotent replay answers), plus its idempotency record.
func BenchmarkMemoryPerCustomer(b *testing.B) {
	const n = 20000
	var perCustomer float64
	for b.Loop() {
		s := newServer(b, Config{})
		var before, after runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&before)
		for i := range uint64(n) {
			req := httptest.NewRequest(http.MethodPost, CustomersPath, bytes.NewReader(benchBody(i)))
			req.Header.Set("Authorization", "Bearer "+testKey)
			req.Header.Set(HeaderIdempotencyKey, "zi1-"+strconv.FormatUint(i, 16))
			s.ServeHTTP(httptest.NewRecorder(), req)
		}
		runtime.GC()
		runtime.ReadMemStats(&after)
		perCustomer = float64(after.HeapAlloc-before.HeapAlloc) / n
		runtime.KeepAlive(s)
	}
	b.ReportMetric(perCustomer, "B/customer")
}
