package checkpoint_test

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/zentra/zentra-import/atomicfile"
	"github.com/zentra/zentra-import/checkpoint"
	"github.com/zentra/zentra-import/jobdir"
)

// The journal's benchmark through the job directory's results writer: package jobdir imports checkpoint,
// so this is an external test, which export_test.go lets use the journal's test helpers.

func init() { checkpoint.ChildOutcomes = childOutcomes }

// BenchmarkOutcomesResults measures rebuilding results.csv for a 1,000,000-row job whose journal has a
// retry segment (so it is not in row order): Outcomes into a ResultsWriter with one carry column. It
// reports the peak heap in use above the start, and the peak RSS of a child process that does only this.
func BenchmarkOutcomesResults(b *testing.B) {
	dir := b.TempDir()
	checkpoint.WriteBigJournal(b, dir, 1_000_000, 0, true)
	j, _, err := checkpoint.Open(dir, checkpoint.TestBinding, checkpoint.Options{})
	require.NoError(b, err)
	defer j.Close()
	var peakMiB float64
	cpu := checkpoint.CPUTime()
	for b.Loop() {
		base, peak := checkpoint.PeakHeap(func(sample func()) {
			require.NoError(b, writeResults(j, io.Discard, sample))
		})
		peakMiB = max(peakMiB, float64(peak-base)/(1<<20))
	}
	checkpoint.ReportCPU(b, cpu)
	b.ReportMetric(peakMiB, "peak-heap-MiB")
	require.NoError(b, j.Close())

	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), checkpoint.ChildEnv+"=outcomes", "ZI_CHECKPOINT_DIR="+dir)
	cmd.Stderr = os.Stderr
	out, err := cmd.Output()
	require.NoError(b, err)
	kb, err := strconv.Atoi(strings.TrimSpace(string(out)))
	require.NoError(b, err)
	b.ReportMetric(float64(kb)/1024, "child-maxrss-MiB")
}

// writeResults is the end of a run: every row's latest outcome into results.csv.
func writeResults(j *checkpoint.Journal, w io.Writer, sample func()) error {
	rw, err := jobdir.NewResultsWriter(w, []string{"Legacy Id"}, false)
	if err != nil {
		return err
	}
	carry := make([]string, 1)
	n := 0
	if err := j.Outcomes(func(o checkpoint.Outcome) error {
		carry[0] = "L-" + strconv.Itoa(o.Row)
		if n++; n%10000 == 0 && sample != nil {
			sample()
		}
		return rw.Write(o, carry)
	}); err != nil {
		return err
	}
	return rw.Flush()
}

// childOutcomes rebuilds results.csv from the journal in ZI_CHECKPOINT_DIR into a real file, then prints
// the process's peak RSS in KiB.
func childOutcomes() int {
	dir := os.Getenv("ZI_CHECKPOINT_DIR")
	j, _, err := checkpoint.Open(dir, checkpoint.TestBinding, checkpoint.Options{})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	a, err := atomicfile.Create(filepath.Join(dir, jobdir.ResultsFile))
	if err == nil {
		bw := bufio.NewWriterSize(a, 64<<10)
		err = writeResults(j, bw, nil)
		if err == nil {
			err = bw.Flush()
		}
		if err == nil {
			err = a.Commit()
		}
		a.Abort()
	}
	if cerr := j.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	fmt.Println(ru.Maxrss)
	return 0
}
