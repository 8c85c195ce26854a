package monitor_test

import (
	"context"
	"fmt"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"time"

	"github.com/zentra/zentra-import/monitor"
)

// A receiver checks each notification before it trusts its body.
func ExampleVerify() {
	secret := []byte("a shared secret of 16 bytes or more")
	receiver := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(io.LimitReader(r.Body, 1<<20)) // the raw bytes, before any parsing
		if err == nil {
			err = monitor.Verify(secret, r.Header, body, time.Now(), monitor.DefaultTolerance)
		}
		if err != nil {
			http.Error(w, "not verified", http.StatusUnauthorized)
			return
		}
		fmt.Println("verified:", string(body))
	}))
	defer receiver.Close()

	n, err := monitor.NewNotifier(receiver.URL+"/hooks/zentra", secret, monitor.Options{})
	if err != nil {
		log.Fatal(err)
	}
	if err := n.Notify(context.Background(), []byte(`{"exit_code":3}`)); err != nil {
		log.Fatal(err)
	}
	// Output: verified: {"exit_code":3}
}

// How a run tells its monitors: the metrics file at the start, every 30 s and at the end; a ping at the
// start and at the end; the webhook on a non-zero exit. A failure is a warning, never the run's end.
func Example() {
	ctx := context.Background()
	warn := func(err error) {
		if err != nil {
			log.Printf("zentra-import: warning: %v", err)
		}
	}
	metrics, err := monitor.OpenMetrics("/var/lib/node_exporter/textfile_collector/zentra-import-nightly.prom",
		monitor.MetricsOptions{Feed: "nightly", Job: "2026-12-01-3fa2c1"})
	if err != nil {
		log.Fatal(err) // a *FileError: refuse the flag (exit 2) before anything is sent
	}
	pinger, err := monitor.NewPinger("https://hc-ping.com/your-check-uuid", monitor.Options{})
	if err != nil {
		log.Fatal(err) // a *URLError
	}
	f := monitor.Figures{Started: time.Now()}
	warn(metrics.Publish(f))
	warn(pinger.Start(ctx, f))
	for range 3 { // the progress loop: Publish writes at most every 30 s
		f.Rows.Created++
		f.Requests.Count(201)
		warn(metrics.Publish(f))
	}
	code := 0
	ctx = context.WithoutCancel(ctx) // a signal that ended the run must not stop its report
	warn(metrics.Finish(code, f))
	warn(pinger.Finish(ctx, code, f))
}
