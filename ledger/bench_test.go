package ledger

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"syscall"
	"testing"
	"time"
)

// benchRows is the size of the benchmarks' ledger and run: a million, or ZI_LEDGER_BENCH_ROWS.
func benchRows() int {
	if n, err := strconv.Atoi(os.Getenv("ZI_LEDGER_BENCH_ROWS")); err == nil && n > 0 {
		return n
	}
	return 1_000_000
}

const benchAPI = "https://api.zentra.example"

// benchRef and benchBody are row i of the benchmarks' nightly drop: a reference like a CRM's, and a body
// of seven fields as the mapper writes it. benchID is the id the API gave it.
func benchRef(i int) string { return fmt.Sprintf("CRM-%08d", i) }

func benchBody(dst []byte, i int) []byte {
	return fmt.Appendf(dst, `{"email":"person%d@example.com","external_reference":"CRM-%08d","first_name":"Firstname%d","last_name":"Lastname%d",`+
		`"metadata":{"source":"legacy-crm","tier":"gold"},"phone":"+44770090%04d"}`, i, i, i, i%977, i%10000)
}

func benchID(i int) string { return fmt.Sprintf("cus_%011d", i*7919%100_000_000_000) }

const benchMapping = "2c26b46b68ffc68ff99b453c1d30413413422d706483bfa0f98a5e886266e7ae/3"

// fillBench records rows 0..n-1 in batches of 1,000, with digests, as nights of 100,000 rows each.
func fillBench(l *Ledger, n int) error {
	ctx := context.Background()
	var buf []byte
	for start := 0; start < n; start += 1000 {
		b := Batch{API: benchAPI, Job: fmt.Sprintf("/var/lib/zentra/night-%02d.import", start/100_000), At: t0.Add(time.Duration(start) * time.Millisecond)}
		for i := start; i < min(start+1000, n); i++ {
			buf = benchBody(buf[:0], i)
			d, err := l.Hasher().Digest(benchMapping, buf)
			if err != nil {
				return err
			}
			b.Outcomes = append(b.Outcomes, Confirmed{Ref: benchRef(i), CustomerID: benchID(i), Outcome: Created, Digest: d})
		}
		if _, err := l.Record(ctx, b); err != nil {
			return err
		}
	}
	return nil
}

func init() {
	// builder makes the lookup benchmark's ledger, so that the benchmark's process holds only what the
	// lookups need.
	children["builder"] = func() error {
		n, err := strconv.Atoi(os.Getenv("ZI_LEDGER_ROWS"))
		if err != nil {
			return err
		}
		l, err := Open(os.Getenv("ZI_LEDGER_PATH"), Options{})
		if err != nil {
			return err
		}
		if err := fillBench(l, n); err != nil {
			return err
		}
		if err := l.Close(); err != nil {
			return err
		}
		fmt.Println("built")
		return nil
	}
}

// BenchmarkRecord records a million confirmed outcomes (digest of each body included) into a new ledger,
// in batches of 1,000, and reports the rate and the ledger's size per million references.
//
//	go test ./ledger -run '^$' -bench BenchmarkRecord -benchtime 1x
func BenchmarkRecord(b *testing.B) {
	n := benchRows()
	var size int64
	for range b.N {
		b.StopTimer()
		path := filepath.Join(b.TempDir(), "ledger.db")
		l, err := Open(path, Options{})
		if err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
		if err := fillBench(l, n); err != nil {
			b.Fatal(err)
		}
		if err := l.Close(); err != nil { // folds the log into the file
			b.Fatal(err)
		}
		b.StopTimer()
		fi, err := os.Stat(path)
		if err != nil {
			b.Fatal(err)
		}
		size = fi.Size()
		b.StartTimer()
	}
	b.ReportMetric(float64(n)*float64(b.N)/b.Elapsed().Seconds(), "rows/s")
	b.ReportMetric(float64(size)/(1<<20)*1e6/float64(n), "MiB/Mrefs")
	b.ReportMetric(float64(size)/float64(n), "B/ref")
}

// BenchmarkLookup is plan's use of the ledger: a drop of a million rows, in an order unrelated to the
// ledger's (shuffled), 0.5% of them new, against a ledger of a million entries made by another process:
// each batch of 1,000 references is looked up, and each found row's body compared (the body hashed; the
// same body, so no field is). It reports rows/s and the process's peak RSS (getrusage), the refs and
// bodies of one batch at a time included.
//
//	go test ./ledger -run '^$' -bench BenchmarkLookup -benchtime 1x
func BenchmarkLookup(b *testing.B) {
	n := benchRows()
	path := filepath.Join(b.TempDir(), "ledger.db")
	builder := startChild(b, "builder", "ZI_LEDGER_PATH="+path, "ZI_LEDGER_ROWS="+strconv.Itoa(n))
	builder.expect(b, "built")
	builder.wait(b)
	l, err := Open(path, Options{Check: true})
	if err != nil {
		b.Fatal(err)
	}
	defer l.Close()
	h := l.Hasher()
	ctx := context.Background()
	// The drop: rows n/200 beyond the ledger's are new.
	order := make([]int32, n)
	for i := range order {
		order[i] = int32(i + n/200)
	}
	rand.New(rand.NewPCG(3, 4)).Shuffle(n, func(i, j int) { order[i], order[j] = order[j], order[i] })
	runtime.GC()
	b.ResetTimer()
	var found, same int
	refs := make([]string, 0, 1000)
	bodies := make([][]byte, 1000)
	for range b.N {
		found, same = 0, 0
		for start := 0; start < n; start += 1000 {
			refs = refs[:0]
			for j, i := range order[start:min(start+1000, n)] {
				refs = append(refs, benchRef(int(i)))
				bodies[j] = benchBody(bodies[j][:0], int(i))
			}
			ks, err := l.Lookup(ctx, benchAPI, refs)
			if err != nil {
				b.Fatal(err)
			}
			for j := range ks {
				if !ks[j].Found {
					continue
				}
				found++
				v, _, err := h.Compare(&ks[j], benchMapping, bodies[j])
				if err != nil {
					b.Fatal(err)
				}
				if v == Same {
					same++
				}
			}
		}
	}
	b.StopTimer()
	if want := n - n/200; found != want || same != want {
		b.Fatalf("found %d, same %d; want %d", found, same, want)
	}
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	b.ReportMetric(float64(n)*float64(b.N)/b.Elapsed().Seconds(), "rows/s")
	b.ReportMetric(float64(ru.Maxrss)/1024, "peak-RSS-MiB")
}
