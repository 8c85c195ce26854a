package importer

import (
	"bytes"
	"context"
	"errors"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/zentra/zentra-import/checkpoint"
	"github.com/zentra/zentra-import/sandbox"
	"github.com/zentra/zentra-import/zentra"
)

func TestFailFast(t *testing.T) {
	cases := []struct {
		name      string
		outcomes  []string // "" is a success
		wantAbort bool
		wantHint  string
		wantMsg   string
	}{
		{name: "all of the first requests fail on the network", outcomes: repeat("no answer", 5), wantAbort: true, wantHint: "unreachable", wantMsg: "no answer ×5"},
		{name: "the API refuses every row", outcomes: repeat("422 missing_required_field", 5), wantAbort: true, wantHint: "mapping", wantMsg: "422 missing_required_field ×5"},
		{name: "mixed causes are listed most common first", outcomes: append(repeat("503 service_unavailable", 3), "no answer", "no answer", "422 invalid_format"), wantAbort: true, wantMsg: "503 service_unavailable ×3, no answer ×2"},
		{name: "success answers without an id", outcomes: repeat("201 no_customer_id", 5), wantAbort: true, wantHint: "--id-path", wantMsg: "201 no_customer_id ×5"},
		{name: "timeouts", outcomes: append(repeat("timeout", 3), "no answer", "no answer"), wantAbort: true, wantHint: "--timeout", wantMsg: "timeout ×3"},
		{name: "one success settles it", outcomes: append(append(repeat("no answer", 4), ""), repeat("no answer", 30)...)},
		{name: "a success first", outcomes: append([]string{""}, repeat("422 invalid_format", 30)...)},
		{name: "fewer failures than the limit", outcomes: repeat("no answer", 4)},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			f := &failFast{limit: 5}
			var aborts []error
			for _, o := range tc.outcomes {
				if err := f.observe(o == "", o); err != nil {
					aborts = append(aborts, err)
				}
			}
			if !tc.wantAbort {
				assert.Empty(t, aborts)
				return
			}
			require.Len(t, aborts, 1, "the run is aborted once")
			assert.Equal(t, KindAborted, KindOf(aborts[0]))
			assert.Contains(t, aborts[0].Error(), "the first 5 requests all failed")
			assert.Contains(t, aborts[0].Error(), tc.wantMsg)
			assert.Contains(t, HintOf(aborts[0]), tc.wantHint)
		})
	}
}

func repeat(s string, n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = s
	}
	return out
}

func TestProblemLogIsBoundedAndNamesNoValues(t *testing.T) {
	var buf bytes.Buffer
	p := &problemLog{log: NewLogger(&buf, "text", false), max: 3}
	for i := 1; i <= 10; i++ {
		p.rejected(i, "crm-1", "email (column E-mail): not a valid email address")
	}
	p.apiRejected(11, "crm-11", &zentra.RowError{HTTPStatus: 422, Code: "invalid_format", Field: "email", Message: "ada@example.com is not allowed"})
	out := buf.String()
	assert.Equal(t, 3, strings.Count(out, "row rejected"))
	assert.Equal(t, 1, strings.Count(out, "more rows have problems"))
	assert.NotContains(t, out, "ada@example.com")

	buf.Reset()
	p = &problemLog{log: NewLogger(&buf, "json", false), max: 3}
	p.apiRejected(11, "crm-11", &zentra.RowError{HTTPStatus: 422, Code: "invalid_format", Field: "email", Message: "ada@example.com is not allowed"})
	assert.Contains(t, buf.String(), `"field":"email"`)
	assert.NotContains(t, buf.String(), "ada@example.com", "the API's message may repeat the row's values")
}

func TestErrorKindsAndHints(t *testing.T) {
	assert.Zero(t, KindOf(nil))
	assert.Equal(t, KindInput, KindOf(errors.New("plain")))
	e := &Error{Kind: KindAborted, Err: errors.New("x"), Hint: "do y"}
	wrapped := errors.Join(errors.New("context"), e)
	assert.Equal(t, KindAborted, KindOf(wrapped))
	assert.Equal(t, "do y", HintOf(wrapped))
	assert.Equal(t, "fix it", HintOf(hinted{}))
	assert.Empty(t, HintOf(errors.New("plain")))
}

type hinted struct{}

func (hinted) Error() string { return "hinted" }
func (hinted) Hint() string  { return "fix it" }

func TestJobDir(t *testing.T) {
	cases := map[[2]string]string{
		{"customers.csv", ""}:              "customers.import",
		{"/data/in/Partner.CSV", ""}:       "/data/in/Partner.import",
		{"export.txt", ""}:                 "export.import",
		{"dump", ""}:                       "dump.import",
		{"customers.csv", "/var/jobs/a1"}:  "/var/jobs/a1",
		{"nested.dir.v2/file.tsv.csv", ""}: "nested.dir.v2/file.tsv.import",
	}
	for in, want := range cases {
		assert.Equal(t, want, JobDir(in[0], in[1]), "%v", in)
	}

	// A rejects.csv fed back from its job directory gets a job beside that directory, not inside it.
	api := newTestAPI(t, sandbox.Config{})
	dir, input, m := testInput(t, 3, map[int][]string{2: {"2", "name2", "not-an-email", ""}})
	_, err := Run(context.Background(), api.options(input, m, JobDir(input, "")))
	require.NoError(t, err)
	rejects := filepath.Join(dir, "in.import", RejectsFile)
	assert.Equal(t, filepath.Join(dir, "in.rejects.import"), JobDir(rejects, ""))
	t.Chdir(filepath.Join(dir, "in.import"))
	assert.Equal(t, filepath.Join(dir, "in.rejects.import"), JobDir(RejectsFile, ""))
	assert.Equal(t, "elsewhere", JobDir(RejectsFile, "elsewhere"))
}

func TestFailFastHoldsOutcomesUntilSettled(t *testing.T) {
	failed := func(row int) checkpoint.Outcome {
		return checkpoint.Outcome{Row: row, Status: checkpoint.StatusFailed, Error: "503"}
	}
	rejected := func(row int) checkpoint.Outcome {
		return checkpoint.Outcome{Row: row, Status: checkpoint.StatusRejected, Error: "422"}
	}
	var recorded []int
	record := func(o checkpoint.Outcome) error { recorded = append(recorded, o.Row); return nil }

	t.Run("the API's judgements are recorded at once; failures wait for a success", func(t *testing.T) {
		recorded = nil
		f := &failFast{limit: 20}
		require.NoError(t, f.settle(failed(3), false, record))
		require.NoError(t, f.settle(rejected(1), false, record))
		assert.Equal(t, []int{1}, recorded)
		require.NoError(t, f.settle(checkpoint.Outcome{Row: 2, Status: checkpoint.StatusCreated}, true, record))
		assert.Equal(t, []int{1, 3, 2}, recorded)
		require.NoError(t, f.settle(failed(4), false, record))
		assert.Equal(t, []int{1, 3, 2, 4}, recorded, "settled: recorded at once")
		assert.NoError(t, f.finish())
	})
	t.Run("tripped: failed rows stay in flight, judged rows are recorded", func(t *testing.T) {
		recorded = nil
		f := &failFast{limit: 2}
		require.NoError(t, f.settle(failed(1), false, record))
		require.NoError(t, f.observe(false, "no answer"))
		require.Error(t, f.observe(false, "no answer"))
		require.NoError(t, f.settle(failed(2), false, record))
		require.NoError(t, f.settle(rejected(3), false, record))
		assert.NoError(t, f.finish(), "the trip already said it")
		assert.Equal(t, []int{3}, recorded)
	})
	t.Run("a small run whose requests all failed aborts", func(t *testing.T) {
		recorded = nil
		f := &failFast{limit: 20}
		f.reasons = map[string]int{"connection_refused": 3}
		for row := 1; row <= 3; row++ {
			require.NoError(t, f.settle(failed(row), false, record))
		}
		err := f.finish()
		require.Error(t, err)
		assert.Equal(t, KindAborted, KindOf(err))
		assert.Contains(t, err.Error(), "every request failed")
		assert.Empty(t, recorded, "the rows are sent again by the same command")
	})
	t.Run("a small run whose rows the API all refused records them", func(t *testing.T) {
		recorded = nil
		f := &failFast{limit: 20}
		require.NoError(t, f.settle(rejected(1), false, record))
		require.NoError(t, f.settle(rejected(2), false, record))
		assert.NoError(t, f.finish())
		assert.Equal(t, []int{1, 2}, recorded)
	})
}

func TestRedactValues(t *testing.T) {
	body := []byte(`{"external_reference":"crm-1000001","first_name":"Adaeze  Ngozi","email":"ada@example.ng","phone":"+2348031234567","metadata":{"tags":["vip"],"n":7,"account":90817263,"legacy_id":"1000001"}}`)
	cases := map[string]string{
		"email ada@example.ng is invalid":          "email … is invalid",
		"EMAIL ADA@EXAMPLE.NG is invalid":          "EMAIL … is invalid",
		"Adaeze Ngozi must not contain digits":     "… must not contain digits",
		"phone 08031234567 is not reachable":       "phone … is not reachable",
		"phone +2348031234567 is not reachable":    "phone … is not reachable",
		"phone +234 803 123 4567 is not reachable": "phone … is not reachable",
		"phone (0803) 123-4567 is not reachable":   "phone … is not reachable",
		"account 90817263 is closed":               "account … is closed",
		"missing field date_of_birth":              "missing field date_of_birth",
		"tag vip unknown":                          "tag … unknown",
		"reference crm-1000001 exists":             "reference crm-1000001 exists",
		"legacy id 1000001 of crm-1000001 taken":   "legacy id … of crm-1000001 taken",
		"limit 1000000 reached":                    "limit 1000000 reached",
	}
	for msg, want := range cases {
		assert.Equal(t, want, redactValues(msg, body), msg)
	}
	assert.Equal(t, "as is", redactValues("as is", []byte("not json")))

	assert.Equal(t, "short message", redactValues("short message", []byte(`{"a":"`+strings.Repeat("x", 800<<10)+`"}`)))
}

// BenchmarkRedactValues: a row with an 800 KiB value and an API message to clean (a review measured
// 1.5 s an answer when each value compiled a regular expression).
func BenchmarkRedactValues(b *testing.B) {
	body := []byte(`{"external_reference":"crm-1","email":"ada@example.ng","phone":"+2348031234567","note":"` + strings.Repeat("x", 800<<10) + `"}`)
	for b.Loop() {
		redactValues("email ada@example.ng is invalid; phone +234 803 123 4567 unreachable", body)
	}
}
