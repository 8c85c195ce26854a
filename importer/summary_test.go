package importer

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/zentra/zentra-import/sandbox"
)

// summaryFile reads a job's summary.json as JSON objects.
func summaryFile(t *testing.T, dir string) map[string]any {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, SummaryFile))
	require.NoError(t, err)
	var m map[string]any
	require.NoError(t, json.Unmarshal(b, &m))
	return m
}

// TestSummaryNamesThisRunAndTheJob: summary.json and the printed summary keep this run's figures (which add
// up across runs) apart from the job's totals, and a finished job run again says that it sent nothing,
// with requests 0, instead of repeating the figures of the run that finished it (QA: a monitor adding up
// requests counted the night twice).
func TestSummaryNamesThisRunAndTheJob(t *testing.T) {
	api := newTestAPI(t, sandbox.Config{})
	dir, input, m := testInput(t, 25, map[int][]string{5: {"5", "name5", "not-an-email", ""}})
	o := api.options(input, m, filepath.Join(dir, "job"))
	out := o.Out
	o.MaxRows = 10 // a trial first: the rest is this run's, the whole the job's
	sum, err := Run(context.Background(), o)
	require.NoError(t, err)
	assert.Equal(t, 10, sum.Processed)
	assert.Equal(t, int64(9), sum.Requests)

	o.MaxRows = 0
	sum, err = Run(context.Background(), o)
	require.NoError(t, err)
	require.True(t, sum.Complete)
	assert.Equal(t, 15, sum.Processed, "this run's rows")
	assert.Equal(t, 15, sum.RunCounts["created"])
	assert.Zero(t, sum.RunCounts["rejected"], "row 5 was rejected by the first run")
	assert.Equal(t, int64(15), sum.Requests)
	assert.Equal(t, 25, sum.Rows, "the job's rows")
	assert.Equal(t, 24, sum.Counts["created"])
	assert.Equal(t, 1, sum.Counts["rejected"])
	assert.Equal(t, sum.Finished, sum.Completed, "this run finished the job")
	var text bytes.Buffer
	PrintSummary(&text, sum)
	assert.Contains(t, text.String(), "imported "+input+": 25 rows\n  the job: created 24 · existing 0 · failed 0 · rejected 1\n  this run: 15 rows (created 15) in ")
	assert.Contains(t, text.String(), " · requests 15 · retries 0 · 429s 0\n  resumed: 10 rows already done before this run\n")

	saved := summaryFile(t, out)
	for _, k := range []string{"counts", "requests", "rows", "complete", "started"} {
		assert.NotContains(t, saved, k, "%s is named as the run's or the job's", k)
	}
	run, job := saved["run"].(map[string]any), saved["job"].(map[string]any)
	assert.EqualValues(t, 15, run["processed"])
	assert.EqualValues(t, 15, run["requests"])
	assert.EqualValues(t, 15, run["counts"].(map[string]any)["created"])
	assert.EqualValues(t, false, run["already_complete"])
	assert.EqualValues(t, 25, job["rows"])
	assert.EqualValues(t, 24, job["counts"].(map[string]any)["created"])
	assert.EqualValues(t, true, job["complete"])
	assert.EqualValues(t, 1, saved["exit_code"])

	// Run again: nothing to send. results.csv and rejects.csv stay as they were; summary.json records this
	// run beside the same job totals.
	files := map[string][]byte{}
	for _, name := range []string{ResultsFile, RejectsFile} {
		files[name], err = os.ReadFile(filepath.Join(out, name))
		require.NoError(t, err)
	}
	requests := api.sb.Stats().Requests
	again, err := Run(context.Background(), o)
	require.NoError(t, err)
	assert.Equal(t, requests, api.sb.Stats().Requests, "nothing sent")
	assert.True(t, again.AlreadyComplete)
	assert.Zero(t, again.Requests)
	assert.Zero(t, again.Processed)
	assert.Equal(t, 1, again.ExitCode, "the exit code the job finished with")
	assert.True(t, sum.Completed.Equal(again.Completed), "finished when the run that finished it ended: %v", again.Completed)
	want, got := sum.JobTotals, again.JobTotals
	want.Completed = got.Completed // equal (above), in another time.Location
	assert.Equal(t, want, got, "the job's totals, as the run that finished it left them")
	for name, b := range files {
		now, err := os.ReadFile(filepath.Join(out, name))
		require.NoError(t, err)
		assert.Equal(t, string(b), string(now), name)
	}
	resaved := summaryFile(t, out)
	assert.Equal(t, job, resaved["job"], "summary.json: the same job totals")
	rerun := resaved["run"].(map[string]any)
	assert.EqualValues(t, true, rerun["already_complete"])
	assert.EqualValues(t, 0, rerun["requests"])
	assert.EqualValues(t, 0, rerun["processed"])
	assert.NotEqual(t, run["started"], rerun["started"], "this run's own times")
	text.Reset()
	PrintSummary(&text, again)
	assert.Contains(t, text.String(), "already complete: nothing sent; "+input+" was imported on ")
	assert.Contains(t, text.String(), ": 25 rows\n  the job: created 24 · existing 0 · failed 0 · rejected 1\n  this run: 0 rows in 0s · requests 0 · retries 0 · 429s 0\n")
	assert.NotContains(t, text.String(), "resumed:")
}
