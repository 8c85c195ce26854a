package main

// End-to-end tests of what a run tells about itself (issue 10, items 11 and 12): the summary of a finished
// job run again, and progress after a resume.

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/zentra/zentra-import/sandbox"
)

// progressSummaryFile reads summary.json, as a monitor does.
func progressSummaryFile(t *testing.T, text string) map[string]any {
	t.Helper()
	var m map[string]any
	require.NoError(t, json.Unmarshal([]byte(text), &m), text)
	return m
}

// progressSameJob checks what a finished job run again leaves: results.csv and rejects.csv as they were,
// and a summary.json with the same job totals, input and exit code, whose run is this one: already
// complete, nothing processed, no request.
func progressSameJob(t *testing.T, before, after map[string]string) {
	t.Helper()
	assert.Equal(t, before["results.csv"], after["results.csv"], "results.csv as it was")
	assert.Equal(t, before["rejects.csv"], after["rejects.csv"], "rejects.csv as it was")
	was, is := progressSummaryFile(t, before["summary.json"]), progressSummaryFile(t, after["summary.json"])
	for _, k := range []string{"command", "input", "input_sha256", "input_bytes", "mapping_sha256", "api_url", "job_dir", "job", "exit_code"} {
		assert.Equal(t, was[k], is[k], "summary.json: %s", k)
	}
	thisRun := progressObj(t, is, "run")
	assert.Equal(t, true, thisRun["already_complete"], "summary.json records this run")
	assert.EqualValues(t, 0, thisRun["requests"])
	assert.EqualValues(t, 0, thisRun["processed"])
	assert.NotEqual(t, progressObj(t, was, "run")["started"], thisRun["started"], "this run's own start")
}

// progressObj is the object at path in a JSON record (the test fails, rather than panics, without it).
func progressObj(t *testing.T, m map[string]any, path ...string) map[string]any {
	t.Helper()
	for _, k := range path {
		o, ok := m[k].(map[string]any)
		require.True(t, ok, "no object %q in %v", k, m)
		m = o
	}
	return m
}

// progressNum is the number under key in a JSON record.
func progressNum(t *testing.T, m map[string]any, key string) float64 {
	t.Helper()
	n, ok := m[key].(float64)
	require.True(t, ok, "no number %q in %v", key, m)
	return n
}

// progressSummaryRecord is the summary of a --log-format json run, from its "summary" record.
func progressSummaryRecord(t *testing.T, stderr string) map[string]any {
	t.Helper()
	return progressObj(t, recordWith(t, requireJSONLines(t, stderr), "summary"), "summary")
}

// TestE2EFinishedJobRunAgain: a finished job run again says "already complete: nothing sent" with this
// run's requests 0, leaves results.csv and rejects.csv as they were, and summary.json keeps the job's
// totals beside this run's figures; a monitor that adds up each run's requests, from the JSON log or from
// summary.json, counts every request once (QA: the re-run printed the original summary, same requests and
// same times, and the night was counted twice).
func TestE2EFinishedJobRunAgain(t *testing.T) {
	t.Parallel()
	sb := startSandbox(t, sandbox.Config{})
	j := newJob(t, 60)
	j.rows[6][3] = "not-an-email" // row 7: rejected, so the job finishes with exit 1
	progressWriteRows(t, j)
	var requests, processed float64
	add := func(r result) map[string]any {
		t.Helper()
		s := progressSummaryRecord(t, r.stderr)
		thisRun := progressObj(t, s, "run")
		requests += progressNum(t, thisRun, "requests")
		processed += progressNum(t, thisRun, "processed")
		return s
	}

	r := run(t, keyEnv(sb), j.args(sb, "--rate", "1000/s", "--max-rows", "20", "--log-format", "json")...)
	require.Equal(t, 1, r.code, r.stderr)
	add(r)
	r = run(t, keyEnv(sb), j.args(sb, "--rate", "1000/s", "--log-format", "json")...)
	require.Equal(t, 1, r.code, r.stderr)
	finished := add(r)
	thisRun := progressObj(t, finished, "run")
	assert.EqualValues(t, 40, thisRun["processed"], "the rows this run did")
	assert.EqualValues(t, 40, progressObj(t, thisRun, "counts")["created"])
	job := progressObj(t, finished, "job")
	assert.EqualValues(t, 60, job["rows"], "the job's rows")
	assert.EqualValues(t, 59, progressObj(t, job, "counts")["created"])
	assert.EqualValues(t, 1, progressObj(t, job, "counts")["rejected"])
	assert.Equal(t, true, job["complete"])

	sent := sb.Server.Stats().Requests
	before := snapshot(t, j.out)
	r = run(t, keyEnv(sb), j.args(sb, "--rate", "1000/s", "--log-format", "json")...)
	require.Equal(t, 1, r.code, "the exit code the job finished with: %s", r.stderr)
	again := add(r)
	assert.Equal(t, sent, sb.Server.Stats().Requests, "nothing sent")
	recordWith(t, requireJSONLines(t, r.stderr), "already complete: nothing sent")
	assert.Equal(t, true, progressObj(t, again, "run")["already_complete"])
	assert.EqualValues(t, 0, progressObj(t, again, "run")["requests"])
	assert.Equal(t, job, again["job"], "the job's totals, as they were")
	after := snapshot(t, j.out)
	progressSameJob(t, before, after)
	saved := progressSummaryFile(t, after["summary.json"])
	assert.Equal(t, again["run"], saved["run"], "summary.json records the run the log reported")

	// The text summary, once more: it says so, with this run's requests 0 and the job's totals.
	r = run(t, keyEnv(sb), j.args(sb, "--rate", "1000/s")...)
	require.Equal(t, 1, r.code, r.stderr)
	add(progressJSONFromFile(t, j.out))
	assert.Equal(t, sent, sb.Server.Stats().Requests, "nothing sent")
	assert.Contains(t, r.stderr, "already complete: nothing sent; "+j.input+" was imported on ")
	assert.Contains(t, r.stderr, ": 60 rows\n  the job: created 59 · existing 0 · failed 0 · rejected 1\n  this run: 0 rows in ")
	assert.Contains(t, r.stderr, " · requests 0 · retries 0 · 429s 0\n")
	assert.NotContains(t, r.stderr, "requests 40", "not the figures of the run that finished the job")

	assert.EqualValues(t, sb.Server.Stats().Requests, requests, "the runs' requests add up to what the API received")
	assert.EqualValues(t, 60, processed, "the runs' rows add up to the job's")
}

// progressWriteRows writes j.rows back to j.input, after a test changed some.
func progressWriteRows(t *testing.T, j *job) {
	t.Helper()
	var b bytes.Buffer
	w := csv.NewWriter(&b)
	require.NoError(t, w.WriteAll(append([][]string{{"Customer Id", "First Name", "Last Name", "E-mail", "Mobile", "Country"}}, j.rows...)))
	require.NoError(t, os.WriteFile(j.input, b.Bytes(), 0o600))
}

// progressJSONFromFile wraps a job's summary.json as a --log-format json run's stderr would carry it.
func progressJSONFromFile(t *testing.T, dir string) result {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, "summary.json"))
	require.NoError(t, err)
	var s map[string]any
	require.NoError(t, json.Unmarshal(b, &s))
	line, err := json.Marshal(map[string]any{"msg": "summary", "summary": s})
	require.NoError(t, err)
	return result{stderr: string(line) + "\n"}
}

// progressResumedJob is a job of 400 rows of which a first, fast run did 300: a second run has 100 left.
func progressResumedJob(t *testing.T, sb *sandbox.Running) *job {
	t.Helper()
	j := newJob(t, 400)
	r := run(t, keyEnv(sb), j.args(sb, "--rate", "5000/s", "--max-rows", "300")...)
	require.Equal(t, 0, r.code, r.stderr)
	require.Len(t, j.results(t), 300)
	return j
}

// progressRate is the --rate of the resumed runs: their 100 rows take 2.5 s or more.
const progressRate = 40

// TestE2EProgressOfAResumedJob: the progress lines of a resumed run (stderr not a terminal) count the
// whole job, done of the total and by status, and give this run's rate: near the --rate it was paced to,
// not the job's 300 earlier rows over this run's seconds (QA: after a resume, created and rejected counted
// the run while done counted the job, and the rate and ETA were 20× off).
func TestE2EProgressOfAResumedJob(t *testing.T) {
	t.Parallel()
	sb := startSandbox(t, sandbox.Config{})
	j := progressResumedJob(t, sb)
	r := run(t, keyEnv(sb), j.args(sb, "--rate", fmt.Sprintf("%d/s", progressRate), "--workers", "2", "--progress-interval", "250ms", "--log-format", "json")...)
	require.Equal(t, 0, r.code, r.stderr)
	requireExactlyOnce(t, j, sb)
	lines := 0
	for _, rec := range requireJSONLines(t, r.stderr) {
		if rec["msg"] != "progress" {
			continue
		}
		lines++
		done := progressNum(t, rec, "done")
		assert.EqualValues(t, 400, rec["total"], "the job's total")
		assert.GreaterOrEqual(t, done, 300.0, "the job's rows done")
		assert.Equal(t, done, progressNum(t, rec, "created")+progressNum(t, rec, "existing")+progressNum(t, rec, "failed")+progressNum(t, rec, "rejected")+progressNum(t, rec, "conflict"),
			"the counts by status are the job's, as done is: %v", rec)
		assert.Equal(t, done-300, rec["run_rows"], "this run's rows")
		if progressNum(t, rec, "run_rows") > 0 {
			rate := progressNum(t, rec, "rows_per_second")
			assert.Positive(t, rate)
			// Generous: a start's burst and a loaded machine stay well inside 3× the pace; the job's rows
			// over this run's time would be ten times it and more.
			assert.LessOrEqual(t, rate, 3.0*progressRate, "this run's rate: %v", rec)
			assert.Contains(t, rec, "eta_seconds")
		}
	}
	assert.GreaterOrEqual(t, lines, 3, r.stderr)
	s := progressSummaryRecord(t, r.stderr)
	assert.EqualValues(t, 100, progressObj(t, s, "run")["processed"])
	assert.EqualValues(t, 300, progressObj(t, s, "run")["already_done"])
	assert.EqualValues(t, 400, progressObj(t, s, "job", "counts")["created"])
}
