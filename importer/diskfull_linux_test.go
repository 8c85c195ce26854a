//go:build linux

package importer

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/zentra/zentra-import/checkpoint"
	"github.com/zentra/zentra-import/jobdir"
	"github.com/zentra/zentra-import/sandbox"
)

// breakWrites makes every later write of this process to the file at path fail, for real: each descriptor
// open on it is replaced, under the same number, by a read-only one on the same file (dup3), so the kernel
// refuses the writes (EBADF) as it refuses those to a full disk (ENOSPC).
func breakWrites(path string) error {
	ro, err := os.Open(path)
	if err != nil {
		return err
	}
	defer ro.Close()
	entries, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		return err
	}
	broken := 0
	for _, e := range entries {
		fd, err := strconv.Atoi(e.Name())
		if err != nil || fd == int(ro.Fd()) {
			continue
		}
		if target, err := os.Readlink("/proc/self/fd/" + e.Name()); err == nil && target == path {
			if err := syscall.Dup3(int(ro.Fd()), fd, 0); err != nil {
				return err
			}
			broken++
		}
	}
	if broken == 0 {
		return fmt.Errorf("no descriptor open on %s", path)
	}
	return nil
}

// When the journal's writes fail mid-run (injected: see breakWrites), the summary printed and saved counts
// the outcomes that the journal holds durably, which the next run finds done (QA: a full disk's summary said
// "0 of 10000 rows done" with 2,513 outcomes durable), and it does not say the journal is intact.
func TestRunSummaryCountsTheDurableOutcomesWhenTheJournalFails(t *testing.T) {
	api := newTestAPI(t, sandbox.Config{})
	dir, input, m := testInput(t, 200, map[int][]string{7: {"7", "name7", "not-an-email", ""}})
	out := filepath.Join(dir, "job")
	journal, err := filepath.Abs(filepath.Join(out, checkpoint.JournalFile))
	require.NoError(t, err)
	var requests atomic.Int32
	var injectErr atomic.Value
	o := api.options(input, m, out)
	o.Workers = 2
	// The writes break at the 80th request, once at least 71 outcomes are durable (the committer's pace is
	// the machine's: a loaded one could otherwise have made none durable yet).
	var durable atomic.Int32
	o.durableHook = func(b []checkpoint.Outcome) { durable.Add(int32(len(b))) }
	o.Transport = &faultTransport{next: http.DefaultTransport, fault: func(*http.Request, []byte) *http.Response {
		if requests.Add(1) == 80 {
			for deadline := time.Now().Add(10 * time.Second); durable.Load() < 71 && time.Now().Before(deadline); {
				time.Sleep(time.Millisecond)
			}
			if err := breakWrites(journal); err != nil {
				injectErr.Store(err)
			}
		}
		return nil
	}}
	sum, err := Run(context.Background(), o)
	require.Nil(t, injectErr.Load())
	require.Error(t, err)
	assert.Equal(t, KindAborted, KindOf(err))
	assert.Contains(t, err.Error(), "write checkpoint "+filepath.Join(out, checkpoint.JournalFile)+": bad file descriptor")
	assert.NotContains(t, err.Error()+HintOf(err), "intact")
	assert.Equal(t, 3, sum.ExitCode)
	done := sum.Rows - sum.Counts["pending"]
	assert.Equal(t, 200, sum.Rows)
	assert.Equal(t, 1, sum.Counts["rejected"], "row 7, rejected before any request")
	assert.Greater(t, sum.Counts["created"], 70, "the outcomes made durable before the failure")
	assert.Less(t, done, 200)
	assert.Equal(t, done, sum.Counts["created"]+sum.Counts["rejected"])
	saved, err := jobdir.ReadSummary(out)
	require.NoError(t, err, "summary.json written: the directory has room")
	assert.Equal(t, sum.Counts, saved.Counts)
	assert.Equal(t, 3, saved.ExitCode)

	o.Transport = nil
	again, err := Run(context.Background(), o)
	require.NoError(t, err)
	assert.Equal(t, done, again.AlreadyDone, "the next run finds done exactly what the summary counted")
	assert.Equal(t, 199, again.Counts["created"]+again.Counts["existing"])
}

func TestSpaceNeeded(t *testing.T) {
	d := checkpoint.Durable{Rows: 1000, Bytes: 100_000, Counts: map[checkpoint.Status]int{checkpoint.StatusCreated: 900, checkpoint.StatusRejected: 100}}
	// 100 bytes a row: 9,000 rows of journal left, 10,000 of results.csv and of the rewritten journal, an
	// index of 8 bytes a row, rejects.csv a tenth of the input, and 64 KiB of slack.
	assert.Equal(t, int64(900_000+1_000_000+80_000+200_000+1_000_000+64<<10), spaceNeeded(d, 10_000, 2_000_000))
	assert.Equal(t, int64(256*10+256*10+80+5_000+256*10+64<<10), spaceNeeded(checkpoint.Durable{}, 10, 5_000), "nothing durable yet")
	assert.Equal(t, int64(64*2+8*2+64*2+64<<10), spaceNeeded(checkpoint.Durable{Rows: 2, Bytes: 10}, 2, 0), "at least 64 bytes a row")
}

func TestSizeText(t *testing.T) {
	for n, want := range map[int64]string{0: "1 KiB", 1: "1 KiB", 1024: "1 KiB", 1025: "2 KiB", 640 << 10: "640 KiB",
		1 << 20: "1.0 MiB", 4_400_000: "4.2 MiB", 12 << 20: "12 MiB", 12<<20 + 1: "13 MiB", 3_650_722_201: "3.4 GiB", 700 << 20: "700 MiB", 34 << 30: "34.0 GiB"} {
		assert.Equal(t, want, sizeText(n), "%d", n)
	}
}
