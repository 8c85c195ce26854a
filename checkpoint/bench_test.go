package checkpoint

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// BenchmarkJournalDurable measures rows made durable per second (an in-flight record and an outcome each,
// real fsync, default group commit) with one and with eight concurrent writers.
func BenchmarkJournalDurable(b *testing.B) {
	for _, writers := range []int{1, 8} {
		b.Run(fmt.Sprintf("writers=%d", writers), func(b *testing.B) {
			var mu sync.Mutex
			batches, durable := 0, 0
			j, _, err := Open(b.TempDir(), testBinding, Options{OnDurable: func(o []Outcome) {
				mu.Lock()
				batches++
				durable += len(o)
				mu.Unlock()
			}})
			require.NoError(b, err)
			b.ResetTimer()
			start := time.Now()
			var wg sync.WaitGroup
			for w := range writers {
				wg.Go(func() {
					for r := w + 1; r <= b.N; r += writers {
						if err := j.Start(r, rowOffset(r), rowOffset(r+1)); err != nil {
							b.Error(err)
							return
						}
						if err := j.Record(Outcome{Row: r, Offset: rowOffset(r), End: rowOffset(r + 1), Ref: fmt.Sprintf("crm-%010d", r),
							Status: StatusCreated, CustomerID: "cus_01HZX3ABCDEFGHJKMNPQRSTVWX", HTTPStatus: 201, Attempts: 1}); err != nil {
							b.Error(err)
							return
						}
					}
				})
			}
			wg.Wait()
			require.NoError(b, j.Sync())
			elapsed := time.Since(start)
			b.StopTimer()
			require.NoError(b, j.Close())
			require.Equal(b, b.N, durable)
			b.ReportMetric(float64(b.N)/elapsed.Seconds(), "durable-rows/s")
			b.ReportMetric(float64(b.N)/float64(max(batches, 1)), "rows/fsync")
		})
	}
}

// BenchmarkOpenResume measures Open on the journal of a 1,000,000-row job with 900,000 rows done (by eight
// workers, out of order) and eight in flight: the time before a resumed run can send again.
func BenchmarkOpenResume(b *testing.B) {
	dir := b.TempDir()
	writeBigJournal(b, dir, 900_000, 8, false)
	fi, err := os.Stat(journalPath(dir))
	require.NoError(b, err)
	b.ReportMetric(float64(fi.Size())/(1<<20), "journal-MiB")
	for _, seed := range []bool{false, true} {
		b.Run(fmt.Sprintf("seedRef=%v", seed), func(b *testing.B) {
			var opts Options
			refs := 0
			if seed {
				opts.SeedRef = func(string, int, Status) { refs++ }
			}
			cpu := cpuTime()
			for b.Loop() {
				j, st, err := Open(dir, testBinding, opts)
				require.NoError(b, err)
				require.Equal(b, 900_001, st.ResumeRow)
				require.Equal(b, rowOffset(900_001), st.ResumeOffset)
				require.Equal(b, 8, st.InFlight)
				require.NoError(b, j.Close())
			}
			reportCPU(b, cpu)
		})
	}
}

// cpuTime is the CPU time the process has used (user and system, all threads).
func cpuTime() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// reportCPU reports CPU milliseconds per operation since start: on a loaded machine, what the operation
// costs regardless of how long it waited for a core.
func reportCPU(b *testing.B, start time.Duration) {
	b.ReportMetric(float64(cpuTime()-start)/float64(time.Millisecond)/float64(b.N), "cpu-ms/op")
}

// BenchmarkPreviousIDs measures what --restart costs for the journal of a 1,000,000-row job: keeping its
// ids (Reset's merge into checkpoint.previous), then loading them for lookups (PreviousIDs, on every run),
// with the lookup's memory per reference.
func BenchmarkPreviousIDs(b *testing.B) {
	const rows = 1_000_000
	dir := b.TempDir()
	writeBigJournal(b, dir, rows, 0, false)
	_, err := keepIDs(dir)
	require.NoError(b, err)
	b.Run("keep", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			readable, err := keepIDs(dir)
			require.NoError(b, err)
			require.True(b, readable)
		}
		fi, err := os.Stat(filepath.Join(dir, PreviousFile))
		require.NoError(b, err)
		b.ReportMetric(float64(fi.Size())/(1<<20), "previous-MiB")
	})
	b.Run("load", func(b *testing.B) {
		b.ReportAllocs()
		var x *IDs
		for b.Loop() {
			var err error
			x, err = PreviousIDs(dir, testBinding.APIURL)
			require.NoError(b, err)
		}
		require.Equal(b, rows, x.Len())
		id, ok := x.Lookup("crm-123456")
		require.True(b, ok)
		require.Equal(b, "cus_01HZX3ABCDEFGH123456", id)
		b.ReportMetric(float64(x.memory())/float64(x.Len()), "bytes/ref")
		b.ReportMetric(float64(x.memory())/(1<<20), "lookup-MiB")
	})
	b.Run("lookup", func(b *testing.B) {
		x, err := PreviousIDs(dir, testBinding.APIURL)
		require.NoError(b, err)
		refs := make([]string, 1024)
		for i := range refs {
			refs[i] = "crm-" + strconv.Itoa(1+i*977)
		}
		b.ReportAllocs()
		i := 0
		for b.Loop() {
			if _, ok := x.Lookup(refs[i%len(refs)]); !ok {
				b.Fatal("not found")
			}
			i++
		}
	})
}
