package ledger

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The kill test's job: killBatches batches (fewer under the race detector), each of killNew new
// references, and each after the first moving the first killMoved references of the batch before to
// other ids (so that a batch writes entries, other_ids and updates, in one transaction).
const (
	killNew   = 1000
	killMoved = 50
)

var killBatches = 200

func init() {
	if raceEnabled {
		killBatches = 40
	}
}

func killRef(b, i int) string { return fmt.Sprintf("b%03d-r%04d", b, i) }
func killJob(b int) string    { return fmt.Sprintf("/jobs/batch-%03d", b) }

// killBatch is batch b of the kill test.
func killBatch(l *Ledger, b int) (Batch, error) {
	batch := Batch{API: testAPI, Job: killJob(b), At: t0.Add(time.Duration(b) * time.Minute)}
	for i := range killNew {
		d, err := l.Hasher().Digest("m1", body(killRef(b, i), fmt.Sprintf("p%d.%d@example.com", b, i)))
		if err != nil {
			return batch, err
		}
		batch.Outcomes = append(batch.Outcomes, Confirmed{Ref: killRef(b, i), CustomerID: fmt.Sprintf("cus_%d_%d", b, i), Outcome: Created, Digest: d})
	}
	if b > 0 {
		for i := range killMoved {
			batch.Outcomes = append(batch.Outcomes, Confirmed{Ref: killRef(b-1, i), CustomerID: fmt.Sprintf("cus_%d_moved_%d", b, i), Outcome: Existing})
		}
	}
	return batch, nil
}

func init() {
	// batcher resumes the kill test's job from the first batch the ledger lacks, and says "committed N"
	// after each batch's Record returns. Now and then it begins a job or syncs (synchronous=FULL
	// commits), so that kills land in those too.
	children["batcher"] = func() error {
		return childLedger(Options{}, func(ctx context.Context, l *Ledger) error {
			b := 0
			for ; b < killBatches; b++ {
				k, err := l.Lookup(ctx, testAPI, []string{killRef(b, killNew-1)})
				if err != nil {
					return err
				}
				if !k[0].Found {
					break
				}
			}
			for ; b < killBatches; b++ {
				batch, err := killBatch(l, b)
				if err != nil {
					return err
				}
				if _, err := l.Record(ctx, batch); err != nil {
					return err
				}
				fmt.Printf("committed %d\n", b)
				switch b % 7 {
				case 3:
					err = l.BeginJob(ctx, killJob(b), testAPI)
				case 5:
					err = l.Sync(ctx)
				}
				if err != nil {
					return err
				}
			}
			fmt.Println("finished")
			return nil
		})
	}
}

// TestSIGKILLKeepsWholeBatches kills a child recording batches at random moments, many times (some while
// it creates the ledger, some in a checkpoint of the log, some in a synchronous=FULL commit). After each
// kill the ledger opens, passes SQLite's integrity check, and holds exactly the batches 0..P-1 for some P,
// each whole (its entries, its moves and the other ids those keep), including every batch the child
// reported committed and at most the one after; the next child resumes at P, and in the end every batch
// is there.
func TestSIGKILLKeepsWholeBatches(t *testing.T) {
	kills := 15
	if testing.Short() {
		kills = 5
	}
	path := filepath.Join(t.TempDir(), "ledger.db")
	rng := rand.New(rand.NewPCG(12, 12))
	reported := -1
	for run := 0; ; run++ {
		require.Less(t, run, kills+10, "the job never finished")
		kill := run < kills
		p := startChild(t, "batcher", "ZI_LEDGER_PATH="+path)
		finished := false
		if kill {
			if run > 0 && rng.IntN(4) > 0 { // most kills while writing; some while opening
				select {
				case line := <-p.lines:
					reported = max(reported, committedBatch(t, line))
				case <-time.After(60 * time.Second):
				}
			}
			time.Sleep(time.Duration(rng.IntN(120_000)) * time.Microsecond)
			_ = p.cmd.Process.Signal(syscall.SIGKILL)
		}
		for line := range p.lines {
			if line == "finished" {
				finished = true
				continue
			}
			reported = max(reported, committedBatch(t, line))
		}
		err := p.cmd.Wait()
		if !kill {
			require.NoError(t, err, "child stderr: %s", p.stderr)
		}
		present := checkBatches(t, path)
		require.GreaterOrEqual(t, present-1, reported, "run %d: every batch reported committed is there", run)
		require.LessOrEqual(t, present-1, reported+1, "run %d: at most the batch being reported is there besides", run)
		t.Logf("run %d: %d batches", run, present)
		if finished {
			require.Equal(t, killBatches, present)
			return
		}
	}
}

func committedBatch(t *testing.T, line string) int {
	t.Helper()
	n, ok := strings.CutPrefix(line, "committed ")
	require.True(t, ok, "child line %q", line)
	b, err := strconv.Atoi(n)
	require.NoError(t, err)
	return b
}

// checkBatches opens the ledger after a kill and checks that it holds whole batches 0..P-1; it returns P.
func checkBatches(t *testing.T, path string) int {
	t.Helper()
	if fi, err := os.Stat(path); err != nil || fi.Size() == 0 {
		return 0 // killed before the ledger was made
	}
	l, err := Open(path, Options{Check: true})
	require.NoError(t, err, "the ledger opens after a kill")
	defer l.Close()
	ctx := t.Context()
	count := map[int]int{}
	moved := map[int]int{}
	require.NoError(t, l.Export(ctx, "", func(e Entry) error {
		var b, i int
		_, err := fmt.Sscanf(e.Ref, "b%03d-r%04d", &b, &i)
		require.NoError(t, err)
		count[b]++
		if strings.Contains(e.CustomerID, "_moved_") {
			moved[b]++
		}
		return nil
	}))
	present := len(count)
	for b := range present {
		require.Equal(t, killNew, count[b], "batch %d is whole", b)
		if b+1 < present {
			require.Equal(t, killMoved, moved[b], "batch %d's references moved by batch %d", b, b+1)
		} else {
			require.Zero(t, moved[b], "batch %d's references not moved: no batch after it", b)
		}
	}
	var others int
	db := rawDB(t, path)
	require.NoError(t, db.QueryRow("SELECT count(*) FROM other_ids").Scan(&others))
	require.NoError(t, db.Close())
	assert.Equal(t, killMoved*max(present-1, 0), others, "each move kept the id it replaced")
	if present > 0 {
		k := lookupOne(t, l, testAPI, killRef(present-1, 0))
		assert.Equal(t, killJob(present-1), k.Job)
		assert.Equal(t, "m1", k.Mapping(), "digests are whole too")
	}
	return present
}
