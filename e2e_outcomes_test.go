package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/zentra/zentra-import/sandbox"
)

// TestReplayedAnswersToAnotherJobAreExisting: the same customers imported by a second job (another --out,
// a second night's full drop) get the API's replayed answers; this job never sent those requests, so the
// rows are existing, with the ids, and finance's file does not say created twice.
func TestReplayedAnswersToAnotherJobAreExisting(t *testing.T) {
	t.Parallel()
	sb := startSandbox(t, sandbox.Config{})
	j := newJob(t, 60)
	r := run(t, keyEnv(sb), j.args(sb, "--rate", "2000/s")...)
	require.Equal(t, 0, r.code, r.stderr)
	first := j.results(t)
	for _, l := range first {
		require.Equal(t, "created", l.Status)
	}

	second := *j
	second.out = filepath.Join(j.dir, "night2")
	r = run(t, keyEnv(sb), second.args(sb, "--rate", "2000/s")...)
	require.Equal(t, 0, r.code, r.stderr)
	assert.Contains(t, r.stderr, "created 0 · existing 60")
	for i, l := range second.results(t) {
		assert.Equal(t, "existing", l.Status, "row %d", l.Row)
		assert.Equal(t, first[i].CustomerID, l.CustomerID, "row %d: the id", l.Row)
		assert.Contains(t, l.Error, "replayed its answer to an earlier request for this reference, which this job did not send")
	}
	assert.Equal(t, 60, sb.Server.Stats().Replays)
	requireExactlyOnce(t, j, sb)
}

// TestChangedDataIsAConflictNotAFailure: a customer whose data changed since an earlier job sent it gets
// 422 idempotency_key_reused. No retry alone settles that, so the row is not failed: it is in conflict,
// with what settles it, and that does.
func TestChangedDataIsAConflictNotAFailure(t *testing.T) {
	t.Parallel()
	sb := startSandbox(t, sandbox.Config{})
	j := newJob(t, 20)
	r := run(t, keyEnv(sb), j.args(sb, "--rate", "2000/s")...)
	require.Equal(t, 0, r.code, r.stderr)
	first := j.results(t)

	// Night 2: every email changed, in a new job.
	data, err := os.ReadFile(j.input)
	require.NoError(t, err)
	changed := *j
	changed.input = filepath.Join(j.dir, "night2.csv")
	changed.out = filepath.Join(j.dir, "night2.import")
	require.NoError(t, os.WriteFile(changed.input, []byte(strings.ReplaceAll(string(data), "@example.ng", "@example.com")), 0o600))
	r = run(t, keyEnv(sb), changed.args(sb, "--rate", "2000/s")...)
	require.Equal(t, 1, r.code, r.stderr)
	assert.Contains(t, r.stderr, "20 rows in conflict")
	assert.NotContains(t, r.stderr, "failed on the API's side")
	for _, l := range changed.results(t) {
		assert.Equal(t, "conflict", l.Status, "row %d", l.Row)
		assert.Contains(t, l.Error, "sent before with other values")
	}
	rejects, err := os.ReadFile(filepath.Join(changed.out, "rejects.csv"))
	require.NoError(t, err)
	assert.Equal(t, 21, strings.Count(string(rejects), "\n"), "the rows in conflict are in rejects.csv, the worklist")

	// What the message says settles it: the API's uniqueness of references answers 409, with the id.
	r = run(t, keyEnv(sb), changed.args(sb, "--rate", "2000/s", "--retry-failed", "--idempotency-header", "")...)
	require.Equal(t, 0, r.code, r.stderr)
	for i, l := range changed.results(t) {
		assert.Equal(t, "existing", l.Status, "row %d", l.Row)
		assert.Equal(t, first[i].CustomerID, l.CustomerID, fmt.Sprintf("row %d: the id", l.Row))
	}
	assert.Zero(t, sb.Server.Stats().DuplicateCustomers)
}
