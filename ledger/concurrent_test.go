package ledger

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The concurrency test's feeds: each of two jobs records feedRows references of its own in batches of
// feedBatch, and, every tenth batch, a batch of references both feeds hold (the same customer, with the
// same id, in two partners' files).
const (
	feedBatch  = 100
	feedShared = 20
)

var feedRows = 6000

func init() {
	if raceEnabled {
		feedRows = 1000
	}
	// feeder records one feed's batches (ZI_LEDGER_FEED: its prefix), then says "done N" with the
	// number of conflicts Record returned.
	children["feeder"] = func() error {
		return childLedger(Options{}, func(ctx context.Context, l *Ledger) error {
			feed := os.Getenv("ZI_LEDGER_FEED")
			job := "/jobs/" + feed
			if err := l.BeginJob(ctx, job, testAPI); err != nil {
				return err
			}
			conflicts := 0
			for start := 0; start < feedRows; start += feedBatch {
				b := Batch{API: testAPI, Job: job, At: time.Now()}
				for i := start; i < start+feedBatch; i++ {
					ref := fmt.Sprintf("%s-%05d", feed, i)
					d, err := l.Hasher().Digest("m1", body(ref, ref+"@example.com"))
					if err != nil {
						return err
					}
					b.Outcomes = append(b.Outcomes, Confirmed{Ref: ref, CustomerID: "cus_" + ref, Outcome: Created, Digest: d})
				}
				c, err := l.Record(ctx, b)
				if err != nil {
					return err
				}
				conflicts += len(c)
				if start/feedBatch%10 == 0 {
					shared := Batch{API: testAPI, Job: job, At: time.Now()}
					for i := range feedShared {
						ref := fmt.Sprintf("S-%03d-%02d", start/feedBatch, i)
						shared.Outcomes = append(shared.Outcomes, Confirmed{Ref: ref, CustomerID: "cus_" + ref, Outcome: Existing})
					}
					if c, err = l.Record(ctx, shared); err != nil {
						return err
					}
					conflicts += len(c)
				}
			}
			if err := l.EndJob(ctx, job); err != nil {
				return err
			}
			fmt.Printf("done %d\n", conflicts)
			return nil
		})
	}
	// watcher reads the ledger while the feeds write, until its stdin closes: lookups of any
	// reference, ledger show, stats and a whole export. Every read must see whole batches, and never
	// fewer than the read before. It says "reads N".
	children["watcher"] = func() error {
		return childLedger(Options{ReadOnly: true}, func(ctx context.Context, l *Ledger) error {
			stop := make(chan struct{})
			go func() { os.Stdin.Read(make([]byte, 1)); close(stop) }()
			rng := rand.New(rand.NewPCG(1, 2))
			last := map[string]int{}
			reads := 0
			for {
				select {
				case <-stop:
					fmt.Printf("reads %d\n", reads)
					return nil
				default:
				}
				per := map[string]int{}
				if err := l.Export(ctx, testAPI, func(e Entry) error {
					feed, _, _ := strings.Cut(e.Ref, "-")
					per[feed]++
					return nil
				}); err != nil {
					return err
				}
				for _, feed := range []string{"A", "B"} {
					if per[feed]%feedBatch != 0 {
						return fmt.Errorf("export saw %d entries of feed %s: half a batch", per[feed], feed)
					}
					if per[feed] < last[feed] {
						return fmt.Errorf("export saw %d entries of feed %s after %d", per[feed], feed, last[feed])
					}
				}
				last = per
				refs := make([]string, 200)
				for i := range refs {
					refs[i] = fmt.Sprintf("%s-%05d", []string{"A", "B"}[rng.IntN(2)], rng.IntN(feedRows))
				}
				ks, err := l.Lookup(ctx, testAPI, refs)
				if err != nil {
					return err
				}
				for i, k := range ks {
					if k.Found && k.CustomerID != "cus_"+refs[i] {
						return fmt.Errorf("lookup of %s gave %s", refs[i], k.CustomerID)
					}
				}
				shown, err := l.Show(ctx, "", refs[:5])
				if err != nil {
					return err
				}
				for _, s := range shown {
					if len(s.Entries) > 1 || len(s.OtherIDs) > 0 {
						return fmt.Errorf("show %s: %+v", s.Ref, s)
					}
				}
				if _, err := l.Stats(ctx); err != nil {
					return err
				}
				reads++
			}
		})
	}
}

// TestConcurrentJobs: two processes record two feeds' jobs into one ledger at once, sharing some
// customers, while a third reads it (ledger show, export, lookups, stats). No one waits past the bound,
// the reader sees whole batches only, and in the end the ledger holds every entry once.
func TestConcurrentJobs(t *testing.T) {
	path := filepath.Join(t.TempDir(), "ledger.db")
	openT(t, path, Options{}).Close() // made first, so that the watcher finds it
	watcher := startChild(t, "watcher", "ZI_LEDGER_PATH="+path)
	a := startChild(t, "feeder", "ZI_LEDGER_PATH="+path, "ZI_LEDGER_FEED=A")
	b := startChild(t, "feeder", "ZI_LEDGER_PATH="+path, "ZI_LEDGER_FEED=B")
	a.expect(t, "done 0")
	b.expect(t, "done 0")
	a.wait(t)
	b.wait(t)
	watcher.stdin.Close()
	line := <-watcher.lines
	watcher.wait(t)
	reads, err := strconv.Atoi(strings.TrimPrefix(line, "reads "))
	require.NoError(t, err, "watcher said %q", line)
	t.Logf("the watcher read the ledger %d times while the feeds wrote", reads)
	assert.Positive(t, reads)

	l := openT(t, path, Options{ReadOnly: true})
	stats, err := l.Stats(t.Context())
	require.NoError(t, err)
	require.Len(t, stats.APIs, 1)
	shared := (feedRows + 10*feedBatch - 1) / (10 * feedBatch) * feedShared
	assert.Equal(t, 2*feedRows+shared, stats.APIs[0].Entries)
	assert.Zero(t, stats.APIs[0].OtherIDs)
	assert.Zero(t, stats.PendingJobs, "both jobs ended")
	for _, ref := range []string{"A-00000", fmt.Sprintf("B-%05d", feedRows-1), "S-000-00"} {
		k := lookupOne(t, l, testAPI, ref)
		assert.True(t, k.Found, ref)
		assert.Equal(t, "cus_"+ref, k.CustomerID)
	}
}
