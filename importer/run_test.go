package importer

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/csv"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/zentra/zentra-import/checkpoint"
	"github.com/zentra/zentra-import/jobdir"
	"github.com/zentra/zentra-import/mapping"
	"github.com/zentra/zentra-import/sandbox"
	"github.com/zentra/zentra-import/zentra"
)

const testMapping = `fields:
  external_reference: {template: "crm-{Customer Id}"}
  first_name: {column: First Name, transform: [trim, title]}
  email:      {column: E-mail, transform: [trim, lower], validate: email}
  metadata.note: {column: Note, optional: true}
`

// testInput writes a small input: n rows, row i with reference crm-<i>, and the given overrides.
func testInput(t *testing.T, n int, override map[int][]string) (dir, input, mappingFile string) {
	t.Helper()
	dir = t.TempDir()
	var b bytes.Buffer
	w := csv.NewWriter(&b)
	require.NoError(t, w.Write([]string{"Customer Id", "First Name", "E-mail", "Note"}))
	for i := 1; i <= n; i++ {
		row := []string{fmt.Sprint(i), fmt.Sprintf("name%d", i), fmt.Sprintf("user%d@example.com", i), ""}
		if o, ok := override[i]; ok {
			row = o
		}
		require.NoError(t, w.Write(row))
	}
	w.Flush()
	input = filepath.Join(dir, "in.csv")
	mappingFile = filepath.Join(dir, "m.yaml")
	require.NoError(t, os.WriteFile(input, b.Bytes(), 0o600))
	require.NoError(t, os.WriteFile(mappingFile, []byte(testMapping), 0o600))
	return dir, input, mappingFile
}

type testAPI struct {
	srv   *httptest.Server
	sb    *sandbox.Server
	clock *fakeClock
}

// newTestAPI serves a sandbox whose clock is the importer's fake clock, so that windows, pauses and
// backoff pass in no real time.
func newTestAPI(t *testing.T, cfg sandbox.Config) *testAPI {
	t.Helper()
	clock := &fakeClock{now: time.Unix(1_800_000_000, 0)}
	cfg.Key = "sk_sandbox_importer_test"
	cfg.Now = clock.Now
	sb, err := sandbox.New(cfg)
	require.NoError(t, err)
	srv := httptest.NewServer(sb)
	t.Cleanup(srv.Close)
	return &testAPI{srv: srv, sb: sb, clock: clock}
}

func (a *testAPI) options(input, mappingFile, out string) RunOptions {
	return RunOptions{
		Input: input, Mapping: mappingFile, Out: out, Key: zentra.Secret("sk_sandbox_importer_test"),
		APIURL: a.srv.URL, Workers: 4, Rate: Rate{N: 1000, Per: time.Second}, Clock: a.clock,
		IdempotencyHeader: zentra.IdempotencyKeyHeader, Quiet: true, CommitEvery: time.Millisecond,
		Retry: RetryPolicy{MaxAttempts: 3, Base: time.Second, Cap: 10 * time.Second},
	}
}

func readResults(t *testing.T, dir string) []jobdir.ResultLine {
	t.Helper()
	f, err := os.Open(filepath.Join(dir, ResultsFile))
	require.NoError(t, err)
	defer f.Close()
	lines, err := jobdir.ReadResults(f)
	require.NoError(t, err)
	return lines
}

// faultTransport answers some requests itself before they reach the API.
type faultTransport struct {
	next  http.RoundTripper
	fault func(req *http.Request, body []byte) *http.Response
}

func (f *faultTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	var body []byte
	if req.Body != nil {
		body, _ = io.ReadAll(req.Body)
		_ = req.Body.Close()
	}
	if resp := f.fault(req, body); resp != nil {
		resp.Request = req
		return resp, nil
	}
	if req.Body != nil {
		req.Body = io.NopCloser(bytes.NewReader(body))
	}
	return f.next.RoundTrip(req)
}

func answer(status int, header http.Header, body string) *http.Response {
	if header == nil {
		header = http.Header{}
	}
	header.Set("Content-Type", "application/json")
	return &http.Response{StatusCode: status, Header: header, Body: io.NopCloser(strings.NewReader(body)), ContentLength: int64(len(body))}
}

func TestRunPausesEveryoneOn429AndFailsNoRow(t *testing.T) {
	api := newTestAPI(t, sandbox.Config{})
	dir, input, m := testInput(t, 60, nil)
	var limited atomic.Int32
	o := api.options(input, m, filepath.Join(dir, "job"))
	o.Transport = &faultTransport{next: http.DefaultTransport, fault: func(req *http.Request, _ []byte) *http.Response {
		// The 5th to 9th requests are refused as over the limit, with the documented Retry-After: 60.
		if n := limited.Add(1); n >= 5 && n < 10 {
			h := http.Header{"Retry-After": {"60"}}
			return answer(429, h, `{"success":false,"error":{"code":"rate_limit_exceeded","message":"slow down","details":{"retry_after":60}}}`)
		}
		return nil
	}}
	start, realStart := api.clock.Now(), time.Now()
	sum, err := Run(context.Background(), o)
	require.NoError(t, err)
	assert.Equal(t, 0, sum.ExitCode)
	assert.Equal(t, 60, sum.Counts["created"])
	assert.Equal(t, int64(5), sum.RateLimited)
	assert.GreaterOrEqual(t, api.clock.Now().Sub(start), 60*time.Second, "the workers waited out Retry-After")
	assert.Less(t, time.Since(realStart), 20*time.Second, "on the fake clock")
	assert.GreaterOrEqual(t, sum.PausedSeconds, 60.0)
	for _, l := range readResults(t, filepath.Join(dir, "job")) {
		assert.Equal(t, "created", l.Status)
	}
}

func TestRunRetriesThenFailsThenRetryFailed(t *testing.T) {
	api := newTestAPI(t, sandbox.Config{})
	dir, input, m := testInput(t, 30, nil)
	out := filepath.Join(dir, "job")
	var down atomic.Bool
	down.Store(true)
	o := api.options(input, m, out)
	o.Transport = &faultTransport{next: http.DefaultTransport, fault: func(_ *http.Request, body []byte) *http.Response {
		if down.Load() && (bytes.Contains(body, []byte(`"crm-7"`)) || bytes.Contains(body, []byte(`"crm-21"`))) {
			return answer(503, nil, `{"success":false,"error":{"code":"service_unavailable","message":"try later"}}`)
		}
		return nil
	}}
	sum, err := Run(context.Background(), o)
	require.NoError(t, err)
	assert.Equal(t, 1, sum.ExitCode, "some rows failed")
	assert.Equal(t, 2, sum.Counts["failed"])
	lines := readResults(t, out)
	require.Len(t, lines, 30)
	assert.Equal(t, "failed", lines[6].Status)
	assert.Equal(t, 3, lines[6].Attempts, "--max-attempts")
	assert.Contains(t, lines[6].Error, "503")
	rejects, err := os.ReadFile(filepath.Join(out, RejectsFile))
	require.NoError(t, err)
	assert.Contains(t, string(rejects), "7,name7,user7@example.com,,")

	// Run again: a finished job sends nothing.
	requests := api.sb.Stats().Requests
	sum, err = Run(context.Background(), o)
	require.NoError(t, err)
	assert.Equal(t, 1, sum.ExitCode, "the same exit code")
	assert.Equal(t, requests, api.sb.Stats().Requests)
	var text bytes.Buffer
	PrintSummary(&text, sum)
	assert.Contains(t, text.String(), "already complete: nothing sent", "this run's figures, and it says so")
	assert.Contains(t, text.String(), " · requests 0 · ", "this run sent nothing")
	assert.Zero(t, sum.Requests, "this run's requests")
	assert.Equal(t, 2, sum.Counts["failed"], "the job's totals")

	// The API recovers; --retry-failed sends the two failed rows and nothing else.
	down.Store(false)
	o.RetryFailed = true
	sum, err = Run(context.Background(), o)
	require.NoError(t, err)
	assert.Equal(t, 0, sum.ExitCode)
	assert.Equal(t, requests+2, api.sb.Stats().Requests)
	assert.Equal(t, 30, sum.Counts["created"])
	lines = readResults(t, out)
	require.Len(t, lines, 30)
	assert.Equal(t, "created", lines[6].Status)
	assert.Empty(t, lines[6].Error)
	rejects, err = os.ReadFile(filepath.Join(out, RejectsFile))
	require.NoError(t, err)
	assert.Equal(t, "Customer Id,First Name,E-mail,Note,error\n", string(rejects), "rejects.csv keeps only the header")
}

func TestRunRejectsBadRowsAndCarriesColumns(t *testing.T) {
	api := newTestAPI(t, sandbox.Config{})
	dir, input, m := testInput(t, 12, map[int][]string{
		3:  {"3", "name3", "not-an-email", "x"},
		5:  {"1", "again", "dup@example.com", "x"}, // the reference of row 1 again
		9:  {"9", "name9", "user9@example.com", "=HYPERLINK(\"http://x\")"},
		11: {"", "noref", "noref@example.com", "x"},
	})
	out := filepath.Join(dir, "job")
	o := api.options(input, m, out)
	o.Transport = &faultTransport{next: http.DefaultTransport, fault: func(_ *http.Request, body []byte) *http.Response {
		if bytes.Contains(body, []byte(`"crm-8"`)) {
			return answer(422, nil, `{"success":false,"error":{"code":"INVALID_FORMAT","field":"first_name","message":"=name8 is not allowed"}}`)
		}
		return nil
	}}
	o.Carry = []string{"note", "Customer Id"}
	sum, err := Run(context.Background(), o)
	require.NoError(t, err)
	assert.Equal(t, 1, sum.ExitCode)
	lines := readResults(t, out)
	require.Len(t, lines, 12)
	byRow := map[int]jobdir.ResultLine{}
	for _, l := range lines {
		byRow[l.Row] = l
	}
	assert.Equal(t, "rejected", byRow[3].Status)
	assert.Contains(t, byRow[3].Error, "email (column E-mail)")
	assert.Equal(t, "rejected", byRow[5].Status)
	assert.Contains(t, byRow[5].Error, "duplicate of row 1")
	assert.Equal(t, "crm-1", byRow[5].ExternalReference)
	assert.Equal(t, "rejected", byRow[11].Status)
	assert.Contains(t, byRow[11].Error, "external_reference")
	assert.Equal(t, "created", byRow[9].Status)
	assert.Empty(t, byRow[3].HTTPStatus, "never sent")
	assert.Equal(t, "rejected", byRow[8].Status, "the API's 422 is the final word")
	assert.Equal(t, "422", byRow[8].HTTPStatus)
	assert.Contains(t, byRow[8].Error, "first_name")

	raw, err := os.ReadFile(filepath.Join(out, ResultsFile))
	require.NoError(t, err)
	recs, err := csv.NewReader(bytes.NewReader(raw)).ReadAll()
	require.NoError(t, err)
	assert.Equal(t, []string{"row", "external_reference", "status", "customer_id", "http_status", "attempts", "error", "Note", "Customer Id"}, recs[0])
	assert.Equal(t, `'=HYPERLINK("http://x")`, recs[9][7], "a formula in a carried column is neutralised")
	assert.Equal(t, "422 invalid_format (field first_name): =… is not allowed", recs[8][6], "the row's own value is not repeated")

	rejects, err := os.ReadFile(filepath.Join(out, RejectsFile))
	require.NoError(t, err)
	rr, err := csv.NewReader(bytes.NewReader(rejects)).ReadAll()
	require.NoError(t, err)
	require.Len(t, rr, 1+4)
	assert.Equal(t, []string{"Customer Id", "First Name", "E-mail", "Note", "error"}, rr[0])
	assert.Equal(t, "3", rr[1][0], "in input order, with the input's own values")
	assert.Equal(t, "not-an-email", rr[1][2])
}

func TestRunTrialThenTheRest(t *testing.T) {
	api := newTestAPI(t, sandbox.Config{})
	dir, input, m := testInput(t, 25, nil)
	out := filepath.Join(dir, "job")
	o := api.options(input, m, out)
	o.MaxRows = 10
	sum, err := Run(context.Background(), o)
	require.NoError(t, err)
	assert.Equal(t, 0, sum.ExitCode)
	assert.False(t, sum.Complete)
	assert.Equal(t, 10, sum.Rows)
	assert.Len(t, readResults(t, out), 10)
	assert.Equal(t, 10, api.sb.Stats().Creates)

	o.MaxRows = 0
	sum, err = Run(context.Background(), o)
	require.NoError(t, err)
	assert.True(t, sum.Complete)
	assert.True(t, sum.Resumed)
	assert.Equal(t, 10, sum.AlreadyDone)
	assert.Len(t, readResults(t, out), 25)
	assert.Equal(t, 25, api.sb.Stats().Creates)
	assert.Equal(t, 25, api.sb.Stats().Requests, "the trial's rows were not sent again")
}

func TestRunIsBoundToItsInputMappingAndAPI(t *testing.T) {
	api := newTestAPI(t, sandbox.Config{Lookup: true})
	dir, input, m := testInput(t, 5, nil)
	out := filepath.Join(dir, "job")
	o := api.options(input, m, out)
	o.Lookup = true
	_, err := Run(context.Background(), o)
	require.NoError(t, err)
	before := readResults(t, out)

	other := filepath.Join(dir, "m2.yaml")
	require.NoError(t, os.WriteFile(other, []byte(strings.Replace(testMapping, "trim, title", "trim, upper", 1)), 0o600))
	o2 := o
	o2.Mapping = other
	_, err = Run(context.Background(), o2)
	require.Error(t, err)
	assert.Equal(t, KindInput, KindOf(err))
	assert.Contains(t, err.Error(), "mapping")
	assert.Contains(t, HintOf(err), "--restart")

	o3 := o
	o3.APIURL = strings.Replace(api.srv.URL, "127.0.0.1", "localhost", 1)
	_, err = Run(context.Background(), o3)
	require.Error(t, err)
	assert.Contains(t, strings.ToLower(err.Error()), "api url")

	// --restart starts over; the API sees the same idempotent requests and answers with the same ids. The
	// replayed answers are to this job's own earlier requests (their ids kept from before the restart), so
	// the rows stay created.
	oSame := o
	oSame.Restart = true
	sum, err := Run(context.Background(), oSame)
	require.NoError(t, err)
	assert.Equal(t, 0, sum.ExitCode)
	after := readResults(t, out)
	for i := range before {
		assert.Equal(t, "created", after[i].Status)
		assert.Equal(t, before[i].CustomerID, after[i].CustomerID)
	}
	assert.Equal(t, 5, api.sb.Stats().Replays)

	// Restarted against the API under another name, the job knows no request of its own to it: the same
	// replayed answers are another job's (the ids kept before were another API's), so the rows exist.
	o3.Restart = true
	sum, err = Run(context.Background(), o3)
	require.NoError(t, err)
	assert.Equal(t, 0, sum.ExitCode)
	after = readResults(t, out)
	for i := range before {
		assert.Equal(t, "existing", after[i].Status)
		assert.Contains(t, after[i].Error, "replayed its answer to an earlier request")
		assert.Equal(t, before[i].CustomerID, after[i].CustomerID)
	}
	assert.Equal(t, 10, api.sb.Stats().Replays)

	// With another mapping the bodies differ: the API refuses the reused keys, and the rows are the
	// customers the first run created, with the ids kept from before the restart (no --lookup needed).
	o2.Restart, o2.Lookup, o2.APIURL = true, false, o3.APIURL
	sum, err = Run(context.Background(), o2)
	require.NoError(t, err)
	assert.Equal(t, 0, sum.ExitCode)
	after = readResults(t, out)
	for i := range before {
		assert.Equal(t, "existing", after[i].Status)
		assert.Equal(t, before[i].CustomerID, after[i].CustomerID, "the id kept from before --restart")
		assert.Contains(t, after[i].Error, "with other values", "says the new values did not reach Zentra")
		assert.Contains(t, after[i].Error, "not updated")
	}
	lookups := api.sb.Stats().Lookups

	// And again with --lookup: the API's own answer.
	o2.Lookup = true
	_, err = Run(context.Background(), o2)
	require.NoError(t, err)
	after = readResults(t, out)
	for i := range before {
		assert.Equal(t, before[i].CustomerID, after[i].CustomerID, "found with --lookup")
	}
	assert.Greater(t, api.sb.Stats().Lookups, lookups)
	assert.Zero(t, api.sb.Stats().DuplicateCustomers)

	// A new job directory knows no earlier ids: a refused key proves nothing, so without --lookup the rows
	// are in conflict (not failed: no retry alone can settle them), saying why and what settles them; each
	// way the message names then does: --retry-failed --lookup, or --retry-failed without the key header.
	for _, settle := range []struct {
		name string
		set  func(o *RunOptions)
	}{
		{"lookup", func(o *RunOptions) { o.Lookup = true }},
		{"no idempotency header", func(o *RunOptions) { o.IdempotencyHeader = "" }},
	} {
		o4 := o2
		o4.Out, o4.Restart, o4.Lookup = filepath.Join(dir, "job4-"+strings.ReplaceAll(settle.name, " ", "-")), false, false
		sum, err = Run(context.Background(), o4)
		require.NoError(t, err)
		assert.Equal(t, 1, sum.ExitCode)
		assert.Equal(t, 5, sum.Counts["conflict"])
		assert.Zero(t, sum.Counts["failed"], "failed is for transient trouble")
		for _, l := range readResults(t, o4.Out) {
			assert.Equal(t, "conflict", l.Status)
			assert.Empty(t, l.CustomerID)
			assert.Contains(t, l.Error, "Idempotency-Key")
			assert.Contains(t, l.Error, "--retry-failed and --lookup")
			assert.Contains(t, l.Error, "--retry-failed --idempotency-header ''")
		}
		o4.RetryFailed = true
		settle.set(&o4)
		sum, err = Run(context.Background(), o4)
		require.NoError(t, err, settle.name)
		assert.Equal(t, 0, sum.ExitCode, settle.name)
		for i, l := range readResults(t, o4.Out) {
			assert.Equal(t, "existing", l.Status, settle.name)
			assert.Equal(t, before[i].CustomerID, l.CustomerID, settle.name)
		}
	}
	assert.Zero(t, api.sb.Stats().DuplicateCustomers)
}

func TestRunRefusesASecondRunOnTheSameJob(t *testing.T) {
	api := newTestAPI(t, sandbox.Config{})
	dir, input, m := testInput(t, 5, nil)
	out := filepath.Join(dir, "job")
	lock, err := jobdir.LockDir(out)
	require.NoError(t, err)
	defer lock.Unlock()
	_, err = Run(context.Background(), api.options(input, m, out))
	require.Error(t, err)
	assert.Equal(t, KindInput, KindOf(err))
	assert.Contains(t, err.Error(), fmt.Sprint(os.Getpid()), "names the holder")
	assert.Zero(t, api.sb.Stats().Requests)
}

func TestRunAbortsWhenTheFirstRequestsAllFail(t *testing.T) {
	api := newTestAPI(t, sandbox.Config{Required: []string{"date_of_birth"}})
	dir, input, m := testInput(t, 100, nil)
	o := api.options(input, m, filepath.Join(dir, "job"))
	o.FailFast = 10
	sum, err := Run(context.Background(), o)
	require.Error(t, err)
	assert.Equal(t, KindAborted, KindOf(err))
	assert.Contains(t, err.Error(), "422 missing_required_field")
	assert.Contains(t, HintOf(err), "mapping")
	assert.Equal(t, 3, sum.ExitCode)
	assert.LessOrEqual(t, api.sb.Stats().Requests, 10+o.Workers)
}

func TestRunInterruptedLeavesRowsToResume(t *testing.T) {
	api := newTestAPI(t, sandbox.Config{})
	dir, input, m := testInput(t, 200, nil)
	out := filepath.Join(dir, "job")
	ctx, cancel := context.WithCancel(context.Background())
	o := api.options(input, m, out)
	var once sync.Once
	o.Transport = &faultTransport{next: http.DefaultTransport, fault: func(*http.Request, []byte) *http.Response {
		if api.sb.Stats().Creates >= 50 {
			once.Do(cancel)
		}
		return nil
	}}
	sum, err := Run(ctx, o)
	require.Error(t, err)
	assert.Equal(t, KindInterrupted, KindOf(err))
	assert.Equal(t, 130, sum.ExitCode)
	assert.False(t, sum.Complete)
	assert.Positive(t, sum.Counts["pending"])
	done := len(readResults(t, out))
	assert.Less(t, done, 200)

	o.Transport = nil
	sum, err = Run(context.Background(), o)
	require.NoError(t, err)
	assert.True(t, sum.Complete)
	lines := readResults(t, out)
	require.Len(t, lines, 200)
	ids := map[string]string{}
	for _, c := range api.sb.Customers() {
		ids[c.ExternalReference] = c.ID
	}
	for i, l := range lines {
		assert.Equal(t, i+1, l.Row)
		assert.Equal(t, ids[l.ExternalReference], l.CustomerID)
	}
	assert.Zero(t, api.sb.Stats().DuplicateCustomers)
}

// TestRunRefusesAJournalWhoseRowsAreNotTheInputs: a journal whose row 1 starts elsewhere than the input's
// row 1 (a job numbered under other reading rules) is not taken for this input's: the rebuild of the job
// files says so instead of listing one row's outcome against another's values.
func TestRunRefusesAJournalWhoseRowsAreNotTheInputs(t *testing.T) {
	api := newTestAPI(t, sandbox.Config{})
	dir, input, m := testInput(t, 3, nil)
	out := filepath.Join(dir, "job")
	mp, err := mapping.Load(m)
	require.NoError(t, err)
	content, err := os.ReadFile(input)
	require.NoError(t, err)
	size, sum := int64(len(content)), fmt.Sprintf("%x", sha256.Sum256(content))
	lines := bytes.SplitAfter(content, []byte("\n"))
	row1End := int64(len(lines[0]) + len(lines[1]))
	j, _, err := checkpoint.Open(out, checkpoint.Binding{InputSize: size, InputSHA256: sum, MappingHash: mp.Hash(),
		APIURL: api.srv.URL, Rules: mapping.RulesVersion}, checkpoint.Options{})
	require.NoError(t, err)
	// Row 1 as another numbering would have had it: it started at the header's first byte.
	require.NoError(t, j.Record(checkpoint.Outcome{Row: 1, Offset: 0, End: row1End, Ref: "crm-1", Status: checkpoint.StatusCreated, CustomerID: "cus_x"}))
	require.NoError(t, j.Close())

	_, err = Run(context.Background(), api.options(input, m, out))
	require.Error(t, err)
	assert.Contains(t, err.Error(), "the journal's row 1 starts at byte 0")
	assert.Contains(t, err.Error(), "--restart")
}

// signalJob is a job of n rows (with override, as testInput) whose run the returned cancel interrupts, as
// a signal would.
func signalJob(t *testing.T, n int, override map[int][]string) (context.Context, context.CancelFunc, RunOptions, *testAPI) {
	api := newTestAPI(t, sandbox.Config{})
	dir, input, m := testInput(t, n, override)
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	return ctx, cancel, api.options(input, m, filepath.Join(dir, "job")), api
}

// TestRunSignalledWithRowsQueued: the input is read to its end, but rows handed to the workers were not
// started when the signal came: the run is interrupted (130), and those rows are left for the resume.
func TestRunSignalledWithRowsQueued(t *testing.T) {
	ctx, cancel, o, _ := signalJob(t, 5, nil)
	o.Workers = 1 // rows 4 and 5 wait in the queue while row 3 is sent
	o.Transport = &faultTransport{next: http.DefaultTransport, fault: func(_ *http.Request, body []byte) *http.Response {
		if bytes.Contains(body, []byte(`"crm-3"`)) {
			cancel() // the signal, while row 3's answer is on its way
			return answer(201, nil, `{"data":{"id":"cus_3"}}`)
		}
		return nil
	}}
	sum, err := Run(ctx, o)
	require.Error(t, err)
	assert.Equal(t, KindInterrupted, KindOf(err))
	assert.Equal(t, 130, sum.ExitCode)
	assert.Equal(t, 3, sum.Counts["created"])
	assert.Equal(t, 2, sum.Counts["pending"])
}

// TestRunResumedRejectsTheSameDuplicates: a reference first seen before an interruption is still known
// after it: the resumed run rejects its later duplicate as one run would, without sending it.
func TestRunResumedRejectsTheSameDuplicates(t *testing.T) {
	ctx, cancel, o, api := signalJob(t, 20, map[int][]string{15: {"3", "name15", "user15@example.com", ""}})
	out := o.Out
	o.Workers = 1
	o.Transport = &faultTransport{next: http.DefaultTransport, fault: func(_ *http.Request, body []byte) *http.Response {
		if bytes.Contains(body, []byte(`"crm-8"`)) {
			cancel() // interrupted after row 3 is done, before row 15 is read
		}
		return nil
	}}
	_, err := Run(ctx, o)
	require.Equal(t, KindInterrupted, KindOf(err))

	o.Transport = nil
	sum, err := Run(context.Background(), o)
	require.NoError(t, err)
	assert.Equal(t, 1, sum.Counts["rejected"])
	l := readResults(t, out)[14]
	assert.Equal(t, "rejected", l.Status)
	assert.Equal(t, "external_reference: duplicate of row 3", l.Error)
	assert.Empty(t, l.HTTPStatus, "never sent")
	assert.Zero(t, api.sb.Stats().DuplicateCustomers)
}

// TestRunFinishedJobRebuildsWhatIsMissing: a finished job sends nothing again, but rebuilds a job file that
// was deleted, and results.csv when --carry asks for other columns.
func TestRunFinishedJobRebuildsWhatIsMissing(t *testing.T) {
	api := newTestAPI(t, sandbox.Config{})
	dir, input, m := testInput(t, 4, map[int][]string{2: {"2", "name2", "not-an-email", ""}})
	out := filepath.Join(dir, "job")
	o := api.options(input, m, out)
	_, err := Run(context.Background(), o)
	require.NoError(t, err)
	rejects, err := os.ReadFile(filepath.Join(out, RejectsFile))
	require.NoError(t, err)
	requests := api.sb.Stats().Requests

	require.NoError(t, os.Remove(filepath.Join(out, RejectsFile)))
	sum, err := Run(context.Background(), o)
	require.NoError(t, err)
	assert.Equal(t, 1, sum.ExitCode)
	again, err := os.ReadFile(filepath.Join(out, RejectsFile))
	require.NoError(t, err, "rejects.csv rebuilt")
	assert.Equal(t, rejects, again)
	assert.True(t, sum.AlreadyComplete, "finished before this run, which sent nothing")
	assert.Zero(t, sum.Requests)

	o.Carry = []string{"First Name"}
	_, err = Run(context.Background(), o)
	require.NoError(t, err)
	f, err := os.Open(filepath.Join(out, ResultsFile))
	require.NoError(t, err)
	defer f.Close()
	var names []string
	carry, err := jobdir.ScanResults(f, func(l jobdir.ResultLine) error { names = append(names, l.Carry[0]); return nil })
	require.NoError(t, err)
	assert.Equal(t, []string{"First Name"}, carry)
	assert.Equal(t, []string{"name1", "name2", "name3", "name4"}, names)
	assert.Equal(t, requests, api.sb.Stats().Requests, "nothing sent")
}

// hangTransport holds every request until the request's context ends, after calling onRequest.
type hangTransport struct{ onRequest func() }

func (h *hangTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	h.onRequest()
	<-req.Context().Done()
	return nil, req.Context().Err()
}

// TestRunDrainIsBounded: after a signal, a request that never answers is cut off once --drain has passed
// (SPEC: requests in flight finish, bounded); the row stays in flight for the resume.
func TestRunDrainIsBounded(t *testing.T) {
	ctx, cancel, o, _ := signalJob(t, 3, nil)
	o.Workers, o.Drain = 1, 50*time.Millisecond
	o.Transport = &hangTransport{onRequest: cancel} // the signal comes while the first request hangs
	type result struct {
		sum *jobdir.Summary
		err error
	}
	done := make(chan result, 1)
	go func() {
		sum, err := Run(ctx, o)
		done <- result{sum, err}
	}()
	select {
	case r := <-done:
		require.Error(t, r.err)
		assert.Equal(t, KindInterrupted, KindOf(r.err))
		assert.Equal(t, 3, r.sum.Counts["pending"], "the cut-off row is left for the resume")
	case <-time.After(30 * time.Second):
		t.Fatal("a request in flight outlived --drain")
	}
}

// TestRunSignalledAfterTheLastRow: a signal that comes once every row has its answer interrupts nothing:
// the run is complete (exit 0, not 130), and nothing is left to resume.
func TestRunSignalledAfterTheLastRow(t *testing.T) {
	ctx, cancel, o, _ := signalJob(t, 5, nil)
	o.Workers = 1
	o.Transport = &faultTransport{next: http.DefaultTransport, fault: func(_ *http.Request, body []byte) *http.Response {
		if bytes.Contains(body, []byte(`"crm-5"`)) {
			cancel() // the signal, while the last row's answer is on its way
			return answer(201, nil, `{"data":{"id":"cus_last"}}`)
		}
		return nil
	}}
	sum, err := Run(ctx, o)
	require.NoError(t, err)
	assert.Equal(t, 0, sum.ExitCode)
	assert.True(t, sum.Complete)
	assert.Equal(t, 5, sum.Counts["created"])
}

// TestRunInterruptedDuringA429Pause checks that a signal does not wait out a pause: no request is sent
// after it, and the run ends without the minute the API asked for.
func TestRunInterruptedDuringA429Pause(t *testing.T) {
	sbCfg := sandbox.Config{Key: "sk_sandbox_importer_test"}
	sb, err := sandbox.New(sbCfg)
	require.NoError(t, err)
	srv := httptest.NewServer(sb)
	defer srv.Close()
	dir, input, m := testInput(t, 50, nil)
	ctx, cancel := context.WithCancel(context.Background())
	var requests atomic.Int32
	o := RunOptions{
		Input: input, Mapping: m, Out: filepath.Join(dir, "job"), Key: zentra.Secret(sbCfg.Key), APIURL: srv.URL,
		Workers: 4, Quiet: true, IdempotencyHeader: zentra.IdempotencyKeyHeader,
		Transport: &faultTransport{next: http.DefaultTransport, fault: func(*http.Request, []byte) *http.Response {
			if requests.Add(1) == 1 {
				time.AfterFunc(100*time.Millisecond, cancel) // the signal arrives while everyone pauses
			}
			return answer(429, http.Header{"Retry-After": {"60"}}, `{"error":{"code":"rate_limit_exceeded"}}`)
		}},
	}
	done := make(chan error, 1)
	go func() { _, err := Run(ctx, o); done <- err }()
	select {
	case err := <-done:
		assert.Equal(t, KindInterrupted, KindOf(err))
	case <-time.After(30 * time.Second):
		t.Fatal("the run waited out the 429 pause after the signal")
	}
	assert.LessOrEqual(t, requests.Load(), int32(o.Workers), "no request after the signal")
}

// downTransport fails every request without an answer while down is set.
type downTransport struct {
	down atomic.Bool
	next http.RoundTripper
}

func (d *downTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	if d.down.Load() {
		return nil, &net.OpError{Op: "dial", Net: "tcp", Err: syscall.ECONNREFUSED}
	}
	return d.next.RoundTrip(req)
}

// downJob is a job of n rows against an API that is down until tr.down is cleared.
func downJob(t *testing.T, n int) (tr *downTransport, o RunOptions) {
	api := newTestAPI(t, sandbox.Config{})
	dir, input, m := testInput(t, n, nil)
	tr = &downTransport{next: http.DefaultTransport}
	tr.down.Store(true)
	o = api.options(input, m, filepath.Join(dir, "job"))
	o.Transport = tr
	return tr, o
}

// TestRunWhoseRequestsAllFailIsResumable: a small job against an API that is down fails every request,
// fewer than the fail-fast count: the run is aborted (exit 3), no row is marked failed, and the same
// command finishes the job once the API is back.
func TestRunWhoseRequestsAllFailIsResumable(t *testing.T) {
	tr, o := downJob(t, 3)
	out := o.Out
	sum, err := Run(context.Background(), o)
	require.Error(t, err)
	assert.Equal(t, KindAborted, KindOf(err))
	assert.Contains(t, err.Error(), "every request failed")
	assert.Equal(t, 3, sum.ExitCode)
	assert.Equal(t, 3, sum.Counts["pending"])
	assert.Empty(t, readResults(t, out), "no row is marked failed by an API that was down")

	tr.down.Store(false)
	sum, err = Run(context.Background(), o)
	require.NoError(t, err)
	assert.Equal(t, 0, sum.ExitCode)
	assert.Equal(t, 3, sum.Counts["created"])
}

// TestRunAbortedByFailFastLeavesItsRowsToResume: the first requests all fail, the run stops, and the rows
// it tried are not left failed: the same command sends them once the API works.
func TestRunAbortedByFailFastLeavesItsRowsToResume(t *testing.T) {
	tr, o := downJob(t, 40)
	out := o.Out
	o.FailFast, o.Workers = 5, 1
	o.Retry.MaxAttempts = 1
	_, err := Run(context.Background(), o)
	require.Error(t, err)
	assert.Equal(t, KindAborted, KindOf(err))
	for _, l := range readResults(t, out) {
		assert.NotEqual(t, "failed", l.Status, "row %d", l.Row)
	}
	tr.down.Store(false)
	sum, err := Run(context.Background(), o)
	require.NoError(t, err)
	assert.Equal(t, 40, sum.Counts["created"])
	assert.Zero(t, sum.Counts["failed"])
}

// TestRunWhoseFirstRowsTheAPIRefuses: a file whose first 20 rows the API refuses trips the fail-fast check,
// but those rows are the API's verdict: recorded as rejected (in rejects.csv, with the API's reason), so
// that the same command goes on from row 21 instead of stopping at the same place every night.
func TestRunWhoseFirstRowsTheAPIRefuses(t *testing.T) {
	api := newTestAPI(t, sandbox.Config{})
	dir, input, m := testInput(t, 40, nil)
	out := filepath.Join(dir, "job")
	o := api.options(input, m, out)
	o.Workers, o.FailFast = 1, 20
	o.Transport = &faultTransport{next: http.DefaultTransport, fault: func(_ *http.Request, body []byte) *http.Response {
		var n int
		if _, err := fmt.Sscanf(string(body[bytes.Index(body, []byte(`"crm-`))+5:]), "%d", &n); err == nil && n <= 20 {
			return answer(422, nil, `{"success":false,"error":{"code":"missing_required_field","field":"phone","message":"phone is required"}}`)
		}
		return nil
	}}
	_, err := Run(context.Background(), o)
	require.Error(t, err)
	assert.Equal(t, KindAborted, KindOf(err))
	assert.Contains(t, err.Error(), "the first 20 requests all failed (422 missing_required_field ×20)")
	lines := readResults(t, out)
	require.Len(t, lines, 20, "the rows sent, each with the API's verdict")
	for _, l := range lines {
		assert.Equal(t, "rejected", l.Status, "row %d", l.Row)
		assert.Contains(t, l.Error, "phone is required")
	}

	sum, err := Run(context.Background(), o)
	require.NoError(t, err)
	assert.Equal(t, 1, sum.ExitCode)
	assert.Equal(t, 20, sum.Counts["created"])
	assert.Equal(t, 20, sum.Counts["rejected"])
	rejects, err := os.ReadFile(filepath.Join(out, RejectsFile))
	require.NoError(t, err)
	assert.Equal(t, 21, strings.Count(string(rejects), "\n"), "the header and the 20 refused rows")
}

// TestRunLookupIsPacedAndRetried: a lookup that meets a 429 and a 503 is paced and retried like a create,
// and the row gets its id.
func TestRunLookupIsPacedAndRetried(t *testing.T) {
	api := newTestAPI(t, sandbox.Config{ConflictWithoutID: true, Lookup: true})
	dir, input, m := testInput(t, 4, nil)
	// The customers exist already (an earlier import through another tool).
	for i := 1; i <= 4; i++ {
		req, _ := http.NewRequest(http.MethodPost, api.srv.URL+"/api/v1/identity/customers", strings.NewReader(fmt.Sprintf(`{"external_reference":"crm-%d"}`, i)))
		req.Header.Set("Authorization", "Bearer sk_sandbox_importer_test")
		resp, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		resp.Body.Close()
	}
	// Without --lookup, the rows are existing without their ids, and the summary says so.
	noLookup := api.options(input, m, filepath.Join(dir, "job-without-lookup"))
	sum, err := Run(context.Background(), noLookup)
	require.NoError(t, err)
	assert.Equal(t, 4, sum.ExistingWithoutID)
	var text bytes.Buffer
	PrintSummary(&text, sum)
	assert.Contains(t, text.String(), "4 existing rows without a customer id")
	assert.Contains(t, text.String(), "--restart --lookup")

	var gets atomic.Int32
	o := api.options(input, m, filepath.Join(dir, "job"))
	o.Lookup = true
	o.Transport = &faultTransport{next: http.DefaultTransport, fault: func(req *http.Request, _ []byte) *http.Response {
		if req.Method != http.MethodGet {
			return nil
		}
		switch gets.Add(1) {
		case 1:
			return answer(429, http.Header{"Retry-After": {"60"}}, `{"error":{"code":"rate_limit_exceeded"}}`)
		case 2:
			return answer(503, nil, `{"error":{"code":"service_unavailable"}}`)
		}
		return nil
	}}
	sum, err = Run(context.Background(), o)
	require.NoError(t, err)
	assert.Equal(t, 4, sum.Counts["existing"])
	assert.Zero(t, sum.ExistingWithoutID)
	assert.Equal(t, int64(1), sum.RateLimited, "the lookup's 429 paused everyone")
	ids := map[string]string{}
	for _, c := range api.sb.Customers() {
		ids[c.ExternalReference] = c.ID
	}
	for _, l := range readResults(t, filepath.Join(dir, "job")) {
		assert.Equal(t, "existing", l.Status)
		assert.Equal(t, ids[l.ExternalReference], l.CustomerID, "row %d: %s", l.Row, l.Error)
		assert.Contains(t, l.Error, "already in Zentra (409)", "row %d", l.Row)
	}
}
