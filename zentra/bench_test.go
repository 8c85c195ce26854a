package zentra_test

import (
	"context"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/zentra/zentra-import/sandbox"
	"github.com/zentra/zentra-import/zentra"
)

// BenchmarkCreateSandbox measures creates per second of the client against the sandbox over a real
// loopback listener, with N workers sharing one client (pool sized to N), each create a new reference
// with its idempotency key:
//
//	go test -run '^$' -bench CreateSandbox -benchtime 20000x ./zentra/
func BenchmarkCreateSandbox(b *testing.B) {
	for _, workers := range []int{1, 8, 32} {
		b.Run("workers="+strconv.Itoa(workers), func(b *testing.B) {
			run, err := sandbox.Start("", sandbox.Config{Seed: 3})
			if err != nil {
				b.Fatal(err)
			}
			defer func() { _ = run.Close() }()
			c, err := zentra.New(zentra.Config{Key: zentra.Secret(run.Key), BaseURL: run.URL,
				IdempotencyHeader: zentra.IdempotencyKeyHeader, MaxConns: workers})
			if err != nil {
				b.Fatal(err)
			}
			defer c.CloseIdleConnections()

			var next atomic.Int64
			var wg sync.WaitGroup
			b.ReportAllocs()
			b.ResetTimer()
			for range workers {
				wg.Go(func() {
					for {
						i := next.Add(1)
						if i > int64(b.N) {
							return
						}
						ref := "bench-" + strconv.FormatInt(i, 10)
						body := []byte(`{"external_reference":"` + ref + `","first_name":"Ada","last_name":"Lovelace","email":"ada@example.com","phone":"+2348012345678","metadata":{"source":"legacy_crm"}}`)
						if _, err := c.Create(context.Background(), "zi1-"+ref, body); err != nil {
							b.Error(err)
							return
						}
					}
				})
			}
			wg.Wait()
			b.StopTimer()
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "creates/s")
			if st := run.Server.Stats(); st.Creates != b.N {
				b.Fatalf("the sandbox created %d customers for %d requests", st.Creates, b.N)
			}
		})
	}
}
