package checkpoint

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const killRows = 3000

// statusFor gives each row of the kill test its outcome: mostly created, some of each other kind.
func statusFor(row int) Status {
	switch {
	case row%29 == 0:
		return StatusRejected
	case row%13 == 0:
		return StatusFailed
	case row%7 == 0:
		return StatusExisting
	}
	return StatusCreated
}

// childWriter is a run of an importer that is killed at random moments: it resumes from the journal's
// state, sends the rows that are not done with four workers, and prints every outcome once OnDurable
// has reported it, as a JSON line.
func childWriter() int {
	dir := os.Getenv("ZI_CHECKPOINT_DIR")
	run, _ := strconv.Atoi(os.Getenv("ZI_CHECKPOINT_RUN"))
	var out sync.Mutex
	j, st, err := Open(dir, testBinding, Options{CommitEvery: 2 * time.Millisecond, OnDurable: func(b []Outcome) {
		var sb strings.Builder
		for _, o := range b {
			line, _ := json.Marshal(o)
			sb.Write(line)
			sb.WriteByte('\n')
		}
		out.Lock()
		os.Stdout.WriteString(sb.String())
		out.Unlock()
	}})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	if st.Repaired != "" {
		fmt.Fprintln(os.Stderr, st.Repaired)
	}
	jobs := make(chan int)
	var wg sync.WaitGroup
	for w := range 4 {
		rng := rand.New(rand.NewPCG(uint64(run), uint64(w)))
		wg.Go(func() {
			for r := range jobs {
				if err := j.Start(r, rowOffset(r), rowOffset(r+1)); err != nil {
					panic(err)
				}
				time.Sleep(time.Duration(rng.IntN(200)) * time.Microsecond) // the request
				if err := j.Record(testOutcome(r, statusFor(r), run)); err != nil {
					panic(err)
				}
			}
		})
	}
	for r := st.ResumeRow; r <= killRows; r++ {
		if !st.Done(r) {
			jobs <- r
		}
	}
	close(jobs)
	wg.Wait()
	if err := j.Finish(killRows, 1); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	if err := j.Close(); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	out.Lock()
	os.Stdout.WriteString("FINISHED\n")
	out.Unlock()
	return 0
}

// TestSIGKILLLosesNothingDurable kills a writing child at random moments, many times. After each kill
// every outcome the child reported durable must be in the journal with the same fields; the next child
// resumes from the journal's state; no row is ever reported twice (nothing known done is sent again);
// and in the end every row has exactly one outcome.
func TestSIGKILLLosesNothingDurable(t *testing.T) {
	kills := 30
	if testing.Short() {
		kills = 10
	}
	dir := t.TempDir()
	rng := rand.New(rand.NewPCG(42, 42))
	reported := map[int]Outcome{}
	repairs := 0
	for run := 0; ; run++ {
		require.Less(t, run, kills+10, "the job never finished")
		kill := run < kills
		lines, finished, stderr := runWriterChild(t, dir, run, kill, rng)
		for _, o := range lines {
			prev, dup := reported[o.Row]
			require.False(t, dup, "run %d: row %d reported durable again (first %+v, now %+v)", run, o.Row, prev, o)
			reported[o.Row] = o
		}
		if strings.Contains(stderr, "checkpoint: ") {
			repairs++
		}

		j, st := openT(t, dir, Options{}, defaultTuning)
		got := map[int]Outcome{}
		require.NoError(t, j.Outcomes(func(o Outcome) error {
			got[o.Row] = o
			return nil
		}))
		for row, want := range reported {
			require.Equal(t, want, got[row], "run %d: durable outcome of row %d", run, row)
			require.True(t, st.Done(row), "run %d: row %d", run, row)
		}
		require.NoError(t, j.Close())
		if finished {
			assert.True(t, st.Complete)
			require.Len(t, got, killRows)
			for r := 1; r <= killRows; r++ {
				require.Equal(t, statusFor(r), got[r].Status, "row %d", r)
			}
			t.Logf("%d kills, %d outcomes reported durable before a kill or at the end, %d journal repairs", kills, len(reported), repairs)
			return
		}
	}
}

// runWriterChild runs one child writer; when kill is set, it SIGKILLs it at a random moment after it
// starts writing. It returns the outcomes the child reported durable (complete lines only).
func runWriterChild(t *testing.T, dir string, run int, kill bool, rng *rand.Rand) (lines []Outcome, finished bool, stderr string) {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), childEnv+"=writer", "ZI_CHECKPOINT_DIR="+dir, "ZI_CHECKPOINT_RUN="+strconv.Itoa(run))
	var errBuf strings.Builder
	cmd.Stderr = &errBuf
	stdout, err := cmd.StdoutPipe()
	require.NoError(t, err)
	require.NoError(t, cmd.Start())

	first := make(chan struct{})
	readDone := make(chan struct{})
	go func() {
		defer close(readDone)
		br := bufio.NewReader(stdout)
		var once sync.Once
		for {
			line, err := br.ReadString('\n')
			if err != nil { // EOF, possibly after a line the kill cut short: not reported
				io.Copy(io.Discard, br)
				once.Do(func() { close(first) })
				return
			}
			once.Do(func() { close(first) })
			if line == "FINISHED\n" {
				finished = true
				continue
			}
			var o Outcome
			if err := json.Unmarshal([]byte(line), &o); err != nil {
				t.Errorf("child line %q: %v", line, err)
				continue
			}
			lines = append(lines, o)
		}
	}()
	if kill {
		if rng.IntN(5) > 0 { // most kills come while writing; some while starting up or recovering
			select {
			case <-first:
			case <-time.After(10 * time.Second):
			}
		}
		time.Sleep(time.Duration(rng.IntN(25000)) * time.Microsecond)
		_ = cmd.Process.Signal(syscall.SIGKILL)
	}
	<-readDone
	werr := cmd.Wait()
	if !kill {
		require.NoError(t, werr, "child stderr: %s", errBuf.String())
	}
	return lines, finished, errBuf.String()
}

// compactRows is the size of the job whose compaction is killed: large enough that rewriting it takes
// tens of milliseconds, the window the kills aim at.
const compactRows = 20000

// childCompactor finishes the job in ZI_CHECKPOINT_DIR, which compacts its journal, and says so.
func childCompactor() int {
	j, _, err := Open(os.Getenv("ZI_CHECKPOINT_DIR"), testBinding, Options{})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	if err := j.Finish(compactRows, 0); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	if err := j.Close(); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	fmt.Println("FINISHED")
	return 0
}

// TestSIGKILLDuringCompaction kills a child while Finish compacts a journal in which every row was
// recorded three times (a job resumed and retried), at random moments, many times. Whatever the moment,
// the journal then opens with every row's latest outcome, and finishing it again completes the job.
func TestSIGKILLDuringCompaction(t *testing.T) {
	kills := 20
	if testing.Short() {
		kills = 8
	}
	var ops []op
	for run := range 3 {
		for r := 1; r <= compactRows; r++ {
			ops = append(ops, startOp(r), outcomeOp(testOutcome(r, statusFor(r), run)))
		}
	}
	template := t.TempDir()
	writeJournal(t, template, ops)
	journal, err := os.ReadFile(journalPath(template))
	require.NoError(t, err)

	rng := rand.New(rand.NewPCG(7, 7))
	compacted := 0
	for k := range kills {
		dir := t.TempDir()
		require.NoError(t, os.WriteFile(journalPath(dir), journal, 0o600))
		cmd := exec.Command(os.Args[0], "-test.run=^$")
		cmd.Env = append(os.Environ(), childEnv+"=compactor", "ZI_CHECKPOINT_DIR="+dir)
		var out strings.Builder
		cmd.Stdout, cmd.Stderr = &out, &out
		require.NoError(t, cmd.Start())
		time.Sleep(time.Duration(rng.IntN(150_000)) * time.Microsecond) // from before Open to after Finish
		_ = cmd.Process.Signal(syscall.SIGKILL)
		_ = cmd.Wait()
		if strings.Contains(out.String(), "FINISHED") {
			compacted++
		}

		j, st := openT(t, dir, Options{}, defaultTuning)
		done := 0
		for _, c := range st.Counts {
			done += c
		}
		require.Equal(t, compactRows, done, "kill %d: the recovered state counts every row done", k)
		n := 0
		require.NoError(t, j.Outcomes(func(o Outcome) error {
			n++
			require.Equal(t, testOutcome(o.Row, statusFor(o.Row), 2), o, "kill %d: row %d keeps its latest outcome", k, o.Row)
			return nil
		}))
		require.Equal(t, compactRows, n, "kill %d: every row", k)
		require.NoError(t, j.Finish(compactRows, 0))
		require.NoError(t, j.Close())
		_, st = openT(t, dir, Options{}, defaultTuning)
		assert.True(t, st.Complete, "kill %d", k)
	}
	t.Logf("%d kills, %d of them after the compaction had finished", kills, compacted)
}
