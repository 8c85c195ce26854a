package main

// End-to-end tests of issue 9's items 5 (an outage of the API pauses the run instead of grinding through
// the file) and 6 (no request goes on the wire that the run did not send and count).

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/zentra/zentra-import/sandbox"
)

// TestE2EOneAttemptIsOneRequest: with --max-attempts 1 against an API that commits 30% of creates and then
// closes the connection without an answer, the API receives exactly as many requests as results.csv
// counts attempts: Go's transport resends none of them on its own (it did, for every drop on a reused
// connection: 1,410 creates for 1,000 rows, each row saying one attempt), and no customer is created twice.
func TestE2EOneAttemptIsOneRequest(t *testing.T) {
	t.Parallel()
	sb := startSandbox(t, sandbox.Config{DropRate: 0.3, Seed: 6})
	j := newJob(t, 300)
	r := run(t, keyEnv(sb), j.args(sb, "--rate", "2000/s", "--workers", "8", "--max-attempts", "1")...)
	require.Equal(t, 1, r.code, "the dropped rows are failed after their one attempt: %s", r.stderr)

	lines := j.results(t)
	require.Len(t, lines, len(j.rows))
	attempts, failed := 0, 0
	for _, l := range lines {
		assert.Equal(t, 1, l.Attempts, "row %d: one attempt", l.Row)
		attempts += l.Attempts
		if l.Status == "failed" {
			failed++
			assert.Contains(t, l.Error, "the request was sent", "row %d", l.Row)
		}
	}
	st := sb.Server.Stats()
	assert.Equal(t, attempts, st.Requests, "every request the API received is an attempt results.csv counts")
	assert.Equal(t, st.Dropped, failed, "each dropped answer is the failed row that sent it")
	assert.Positive(t, st.Dropped)
	assert.Zero(t, st.Replays, "no request for a row reached the API twice")
	assert.Zero(t, st.DuplicateCustomers)
	perRef := map[string]int{}
	for _, c := range sb.Server.Customers() {
		perRef[c.ExternalReference]++
	}
	for ref, n := range perRef {
		assert.Equal(t, 1, n, "%s created once", ref)
	}
}
