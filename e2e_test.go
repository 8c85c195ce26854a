package main

// End-to-end tests: they build the real binary and run it against a sandbox served by the test process,
// so that the sandbox (and its counters) outlive every kill of the importer.

import (
	"bufio"
	"bytes"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/zentra/zentra-import/jobdir"
	"github.com/zentra/zentra-import/sandbox"
)

// binary is the zentra-import built for these tests (with the race detector when the tests have it).
var binary string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "zentra-import-e2e")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	binary = filepath.Join(dir, "zentra-import")
	args := []string{"build", "-o", binary}
	if raceEnabled {
		args = append(args, "-race")
	}
	if out, err := exec.Command("go", append(args, ".")...).CombinedOutput(); err != nil {
		fmt.Fprintf(os.Stderr, "build zentra-import: %v\n%s", err, out)
		os.Exit(1)
	}
	code := m.Run()
	_ = os.RemoveAll(dir)
	os.Exit(code)
}

// result is what one run of the binary did.
type result struct {
	code           int
	stdout, stderr string
}

// command prepares the binary with a clean environment: no key, no proxy, only what the test gives.
func command(env []string, args ...string) *exec.Cmd {
	cmd := exec.Command(binary, args...)
	cmd.Env = append([]string{"PATH=" + os.Getenv("PATH"), "HOME=" + os.TempDir()}, env...)
	return cmd
}

func run(t *testing.T, env []string, args ...string) result {
	t.Helper()
	cmd := command(env, args...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	code := 0
	if err != nil {
		ee, ok := err.(*exec.ExitError)
		require.True(t, ok, "run %v: %v", args, err)
		code = ee.ExitCode()
	}
	return result{code: code, stdout: stdout.String(), stderr: stderr.String()}
}

func startSandbox(t *testing.T, cfg sandbox.Config) *sandbox.Running {
	t.Helper()
	if cfg.Key == "" {
		cfg.Key = "sk_sandbox_e2e_" + strings.ReplaceAll(strings.ToLower(t.Name()), "/", "_")
	}
	sb, err := sandbox.Start("", cfg)
	require.NoError(t, err)
	t.Cleanup(func() { _ = sb.Close() })
	return sb
}

// job is an input file, its mapping and a job directory in a test's temporary directory.
type job struct {
	dir, input, mapping, out string
	rows                     [][]string // the generated data rows, header excluded
}

const e2eMapping = `csv: {delimiter: auto, encoding: auto}
fields:
  external_reference: {template: "crm-{Customer Id}"}
  first_name: {column: First Name, transform: [trim, title]}
  last_name:  {column: Last Name, transform: [trim, title]}
  email:      {column: E-mail, transform: [trim, lower], validate: email, optional: true}
  phone:      {column: Mobile, transform: [phone], region: NG, optional: true}
  country:    {column: Country, default: NG}
  metadata.source: {value: e2e}
  metadata.legacy_id: {column: Customer Id}
require_one_of: [email, phone]
`

var (
	firstNames = []string{"Chukwuemeka", "Oluwaseun", "Ngozichukwu", "Babatunde", "Adaeze", "Olufunmilayo", "Ikechukwu", "Temitope", "Chiamaka", "Oluwadamilare"}
	lastNames  = []string{"Okonkwo-Eze", "Adeyemi", "Nwachukwu", "Balogun", "Okafor", "Oyelaran", "Eze-Obi", "Adebayo", "Onyekachi", "Olawale"}
)

// newJob writes n realistic rows: names, emails and Nigerian mobiles in mixed formats.
func newJob(t *testing.T, n int) *job {
	t.Helper()
	dir := t.TempDir()
	j := &job{dir: dir, input: filepath.Join(dir, "customers.csv"), mapping: filepath.Join(dir, "mapping.yaml"), out: filepath.Join(dir, "job")}
	var b bytes.Buffer
	w := csv.NewWriter(&b)
	require.NoError(t, w.Write([]string{"Customer Id", "First Name", "Last Name", "E-mail", "Mobile", "Country"}))
	rng := rand.New(rand.NewPCG(uint64(n), 7))
	for i := 1; i <= n; i++ {
		first, last := firstNames[rng.IntN(len(firstNames))], lastNames[rng.IntN(len(lastNames))]
		local := fmt.Sprintf("803%07d", 1000000+i)
		var phone string
		switch i % 4 {
		case 0:
			phone = "0" + local[:3] + " " + local[3:6] + " " + local[6:]
		case 1:
			phone = "234" + local
		case 2:
			phone = "+234 " + local[:3] + " " + local[3:6] + " " + local[6:]
		default:
			phone = "0" + local
		}
		email := strings.ToLower(fmt.Sprintf("%s.%s%d@example.ng", first, strings.ReplaceAll(last, "-", ""), i))
		row := []string{fmt.Sprintf("%06d", 100000+i), first, last, email, phone, "NG"}
		j.rows = append(j.rows, row)
		require.NoError(t, w.Write(row))
	}
	w.Flush()
	require.NoError(t, os.WriteFile(j.input, b.Bytes(), 0o600))
	require.NoError(t, os.WriteFile(j.mapping, []byte(e2eMapping), 0o600))
	return j
}

func (j *job) args(sb *sandbox.Running, extra ...string) []string {
	return append([]string{"run", "--api-url", sb.URL, "--mapping", j.mapping, "--out", j.out}, append(extra, j.input)...)
}

func keyEnv(sb *sandbox.Running) []string { return []string{"ZENTRA_SECRET_KEY=" + sb.Key} }

func (j *job) results(t *testing.T) []jobdir.ResultLine {
	t.Helper()
	f, err := os.Open(filepath.Join(j.out, "results.csv"))
	require.NoError(t, err)
	defer f.Close()
	lines, err := jobdir.ReadResults(f)
	require.NoError(t, err)
	return lines
}

// requireExactlyOnce checks the guarantees every finished job must meet: results.csv lists every input
// row once, in order; every row was created or existing, with the sandbox's own id; and the sandbox holds
// exactly one customer per reference.
func requireExactlyOnce(t *testing.T, j *job, sb *sandbox.Running) {
	t.Helper()
	lines := j.results(t)
	require.Len(t, lines, len(j.rows), "one line per input row")
	ids := map[string]string{}
	perRef := map[string]int{}
	for _, c := range sb.Server.Customers() {
		ids[c.ExternalReference] = c.ID
		perRef[c.ExternalReference]++
	}
	for i, l := range lines {
		ref := "crm-" + j.rows[i][0]
		require.Equal(t, i+1, l.Row, "results in input order")
		require.Equal(t, ref, l.ExternalReference)
		require.Contains(t, []string{"created", "existing"}, l.Status, "row %d: %s", l.Row, l.Error)
		require.NotEmpty(t, l.CustomerID, "row %d has its id", l.Row)
		require.Equal(t, ids[ref], l.CustomerID, "row %d: the id the sandbox gave", l.Row)
		require.Equal(t, 1, perRef[ref], "row %d created once", l.Row)
	}
	assert.Len(t, perRef, len(j.rows), "no stray customers")
	assert.Zero(t, sb.Server.Stats().DuplicateCustomers)
}

func TestRunSurvivesServerErrorsAndDroppedAnswers(t *testing.T) {
	t.Parallel()
	sb := startSandbox(t, sandbox.Config{FailRate: 0.05, DropRate: 0.05, Seed: 11})
	j := newJob(t, 400)
	r := run(t, keyEnv(sb), j.args(sb, "--rate", "2000/s", "--workers", "8")...)
	require.Equal(t, 0, r.code, r.stderr)
	requireExactlyOnce(t, j, sb)
	st := sb.Server.Stats()
	assert.Positive(t, st.Injected5xx, "503s were injected")
	assert.Positive(t, st.Dropped, "answers were dropped after the commit")
	assert.Positive(t, st.Replays, "dropped creates were recovered by idempotent replay")
}

// TestRunKilledAndResumed kills the importer with SIGKILL at several moments, runs the same command again
// each time, and checks that the finished job lists every row once with the sandbox's ids and that no
// customer was created twice, under each reading of duplicates and idempotency.
func TestRunKilledAndResumed(t *testing.T) {
	t.Parallel()
	modes := []struct {
		name string
		cfg  sandbox.Config
	}{
		{name: "idempotency and unique references", cfg: sandbox.Config{}},
		{name: "no idempotency: unique references protect", cfg: sandbox.Config{NoIdempotency: true}},
		{name: "no unique references: idempotency protects", cfg: sandbox.Config{NoUnique: true}},
		{name: "no id in conflicts, with drops", cfg: sandbox.Config{NoIdempotency: true, ConflictWithoutID: true, Lookup: true, DropRate: 0.03}},
	}
	for i, mode := range modes {
		t.Run(mode.name, func(t *testing.T) {
			t.Parallel()
			cfg := mode.cfg
			cfg.Latency, cfg.Jitter, cfg.Seed = time.Millisecond, 2*time.Millisecond, int64(i+1)
			sb := startSandbox(t, cfg)
			const rows = 300
			j := newJob(t, rows)
			args := j.args(sb, "--rate", "5000/s", "--workers", "6", "--lookup")
			rng := rand.New(rand.NewPCG(uint64(i), 99))
			kills := 0
			for target := 0; kills < 5; {
				target += 10 + rng.IntN(rows/6)
				if target >= rows-60 { // leave the run time to be killed, however loaded the machine
					break
				}
				p := start(t, keyEnv(sb), args...)
				p.waitFor(t, func() bool { return sb.Server.Stats().Creates >= target })
				p.signal(t, syscall.SIGKILL)
				require.Equal(t, -1, p.exitCode(), "killed")
				kills++
			}
			require.GreaterOrEqual(t, kills, 3)
			r := run(t, keyEnv(sb), args...)
			require.Equal(t, 0, r.code, r.stderr)
			requireExactlyOnce(t, j, sb)
			if !cfg.NoIdempotency {
				// The API replayed the answers to the requests the kills cut off: this job's own (the journal
				// knew them in flight), so the rows are created, not existing.
				for _, l := range j.results(t) {
					require.Equal(t, "created", l.Status, "row %d: %s", l.Row, l.Error)
				}
			}

			// A finished job run again sends nothing and leaves results.csv and rejects.csv as they were;
			// summary.json keeps the job's totals and records this run (issue 10, item 11).
			before := snapshot(t, j.out)
			requests := sb.Server.Stats().Requests
			r = run(t, keyEnv(sb), args...)
			require.Equal(t, 0, r.code, r.stderr)
			assert.Equal(t, requests, sb.Server.Stats().Requests, "nothing sent")
			progressSameJob(t, before, snapshot(t, j.out))
		})
	}
}

// TestRunKilledDuringRetryFailed: kill -9 while --retry-failed sends the failed rows again (their in-flight
// record is made durable before each request, since they already had an outcome); the job still ends with
// every row once, with the sandbox's ids, and nothing created twice, dropped answers included.
func TestRunKilledDuringRetryFailed(t *testing.T) {
	t.Parallel()
	sb := startSandbox(t, sandbox.Config{FailRate: 0.4, DropRate: 0.05, Latency: time.Millisecond, Seed: 11})
	j := newJob(t, 200)
	r := run(t, keyEnv(sb), j.args(sb, "--rate", "5000/s", "--workers", "6", "--max-attempts", "1")...)
	require.Equal(t, 1, r.code, r.stderr)
	failed := 0
	for _, l := range j.results(t) {
		if l.Status == "failed" {
			failed++
		}
	}
	require.Greater(t, failed, 20, "enough failed rows to interrupt their retry")

	retry := j.args(sb, "--rate", "50/s", "--workers", "4", "--retry-failed", "--max-attempts", "2") // backoff stays under a second; still running at the kill
	creates := sb.Server.Stats().Creates
	p := start(t, keyEnv(sb), retry...)
	p.waitFor(t, func() bool { return sb.Server.Stats().Creates >= creates+5 })
	p.signal(t, syscall.SIGKILL)
	require.Equal(t, -1, p.exitCode(), "killed")
	for range 30 { // the sandbox keeps failing 40% of requests: retry until none is left failed
		if r = run(t, keyEnv(sb), retry...); r.code == 0 {
			break
		}
	}
	require.Equal(t, 0, r.code, r.stderr)
	requireExactlyOnce(t, j, sb)
}

// proc is the binary running in the background.
type proc struct {
	cmd    *exec.Cmd
	stderr syncBuffer
	done   chan struct{}
	err    error
}

func start(t *testing.T, env []string, args ...string) *proc {
	t.Helper()
	return startCmd(t, command(env, args...))
}

func startCmd(t *testing.T, cmd *exec.Cmd) *proc {
	t.Helper()
	p := &proc{cmd: cmd, done: make(chan struct{})}
	p.cmd.Stderr = &p.stderr
	require.NoError(t, p.cmd.Start())
	go func() { p.err = p.cmd.Wait(); close(p.done) }()
	t.Cleanup(func() { _ = p.cmd.Process.Kill(); <-p.done })
	return p
}

// waitFor polls cond until it holds; the test fails if the process exits first or it takes far too long.
func (p *proc) waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.After(2 * time.Minute)
	for !cond() {
		select {
		case <-p.done:
			t.Fatalf("the import exited before the moment to stop it: %v\n%s", p.err, p.stderr.String())
		case <-deadline:
			t.Fatal("the condition never held")
		case <-time.After(time.Millisecond):
		}
	}
}

func (p *proc) signal(t *testing.T, sig syscall.Signal) {
	t.Helper()
	require.NoError(t, p.cmd.Process.Signal(sig))
}

// exitCode waits for the process and returns its exit code (-1 when killed by a signal).
func (p *proc) exitCode() int {
	<-p.done
	return p.cmd.ProcessState.ExitCode()
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func snapshot(t *testing.T, dir string) map[string]string {
	t.Helper()
	out := map[string]string{}
	for _, name := range []string{"results.csv", "rejects.csv", "summary.json"} {
		b, err := os.ReadFile(filepath.Join(dir, name))
		require.NoError(t, err)
		out[name] = string(b)
	}
	return out
}

// TestRunInterruptedBySignalResumes stops a run with SIGTERM (a service manager) or SIGHUP (an ssh
// session dropped): it writes the job files, prints the command that resumes, and exits 130.
func TestRunInterruptedBySignalResumes(t *testing.T) {
	t.Parallel()
	for _, sig := range []syscall.Signal{syscall.SIGTERM, syscall.SIGHUP} {
		t.Run(sig.String(), func(t *testing.T) {
			t.Parallel()
			sb := startSandbox(t, sandbox.Config{Latency: 2 * time.Millisecond})
			j := newJob(t, 300)
			// 50/s: the signal comes at row 40 of 300, with five seconds of rows left however loaded the machine.
			args := j.args(sb, "--rate", "50/s", "--workers", "4")
			p := start(t, keyEnv(sb), args...)
			p.waitFor(t, func() bool { return sb.Server.Stats().Creates >= 40 })
			p.signal(t, sig)
			assert.Equal(t, 130, p.exitCode(), p.stderr.String())
			// The program as it was invoked (here the test's build of zentra-import), so that it can be pasted.
			assert.Contains(t, p.stderr.String(), "hint: run the same command again to resume: "+binary+" run ")
			done := len(j.results(t))
			assert.Positive(t, done, "results.csv written on interruption")
			assert.Less(t, done, 300)

			r := run(t, keyEnv(sb), args...)
			require.Equal(t, 0, r.code, r.stderr)
			assert.Contains(t, r.stderr, "resuming")
			requireExactlyOnce(t, j, sb)
		})
	}
}

// TestRunUnderNohupOutlivesTheSession: started with SIGHUP ignored, as nohup starts it, the run keeps
// going when the session's SIGHUP comes (a review found that handling SIGHUP had overridden nohup).
func TestRunUnderNohupOutlivesTheSession(t *testing.T) {
	t.Parallel()
	sh, err := exec.LookPath("sh")
	require.NoError(t, err)
	sb := startSandbox(t, sandbox.Config{Latency: 2 * time.Millisecond})
	j := newJob(t, 200)
	cmd := command(keyEnv(sb), j.args(sb, "--rate", "50/s", "--workers", "4")...) // still running at the SIGHUP
	// The shell ignores SIGHUP, and exec keeps a signal ignored: what nohup does.
	cmd.Path, cmd.Args = sh, append([]string{"sh", "-c", `trap "" HUP; exec "$@"`, "sh"}, cmd.Args...)
	p := startCmd(t, cmd)
	p.waitFor(t, func() bool { return sb.Server.Stats().Creates >= 40 })
	p.signal(t, syscall.SIGHUP)
	assert.Equal(t, 0, p.exitCode(), p.stderr.String())
	requireExactlyOnce(t, j, sb)
}

// TestRunSecondSignalStopsAtOnce interrupts twice while requests are slow: the run exits at once, and the
// job still resumes to a complete, exact result.
func TestRunSecondSignalStopsAtOnce(t *testing.T) {
	t.Parallel()
	sb := startSandbox(t, sandbox.Config{Latency: 300 * time.Millisecond})
	j := newJob(t, 120)
	args := j.args(sb, "--rate", "1000/s", "--workers", "8")
	p := start(t, keyEnv(sb), args...)
	p.waitFor(t, func() bool { return sb.Server.Stats().Creates >= 16 })
	p.signal(t, syscall.SIGINT)
	p.waitFor(t, func() bool { return strings.Contains(p.stderr.String(), "signal again") })
	p.signal(t, syscall.SIGINT)
	assert.Equal(t, 130, p.exitCode())
	assert.Contains(t, p.stderr.String(), "stopped at once")

	r := run(t, keyEnv(sb), args...)
	require.Equal(t, 0, r.code, r.stderr)
	requireExactlyOnce(t, j, sb)
}

// TestRunLogsProgressWhenNotATerminal checks the progress lines a cron job's log gets.
func TestRunLogsProgressWhenNotATerminal(t *testing.T) {
	t.Parallel()
	sb := startSandbox(t, sandbox.Config{Latency: 5 * time.Millisecond})
	j := newJob(t, 150)
	r := run(t, keyEnv(sb), j.args(sb, "--rate", "100/s", "--progress-interval", "200ms", "--log-format", "json")...)
	require.Equal(t, 0, r.code, r.stderr)
	lines := strings.Count(r.stderr, `"msg":"progress"`)
	assert.GreaterOrEqual(t, lines, 3, r.stderr)
	assert.Contains(t, r.stderr, `"total":150`)
	assert.NotContains(t, r.stderr, "\r", "no bar drawn into a log")
	assert.Contains(t, r.stderr, `"msg":"summary"`, "the final summary always prints")
	assert.Contains(t, r.stderr, `"created":150`)
	for _, line := range strings.Split(strings.TrimSpace(r.stderr), "\n") {
		assert.True(t, json.Valid([]byte(line)), "every line a log collector reads is JSON: %s", line)
	}

	r = run(t, keyEnv(sb), "run", "--api-url", sb.URL, "--mapping", j.mapping, "--out", j.out+"-quiet", "--quiet", "--rate", "100/s", "--progress-interval", "100ms", j.input)
	require.Equal(t, 0, r.code, r.stderr)
	assert.NotContains(t, r.stderr, "progress")
	// A second job on the same customers: the API replays the first job's answers, so they exist.
	assert.Contains(t, r.stderr, "created 0 · existing 150", "the summary prints, --quiet or not")
}

func TestRunStopsAtOnceWhenNothingCanWork(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name     string
		cfg      sandbox.Config
		key      string
		wantHint string
	}{
		{name: "identity product not enabled", cfg: sandbox.Config{Gated: true}, wantHint: "identity"},
		{name: "wrong key", key: "sk_sandbox_not_the_right_one", wantHint: "key"},
		{name: "live key on the sandbox", key: "sk_live_0123456789abcdef", wantHint: "live key"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			sb := startSandbox(t, tc.cfg)
			j := newJob(t, 200)
			env := keyEnv(sb)
			if tc.key != "" {
				env = []string{"ZENTRA_SECRET_KEY=" + tc.key}
			}
			r := run(t, env, j.args(sb, "--rate", "1000/s", "--workers", "4")...)
			assert.Equal(t, 3, r.code, r.stderr)
			assert.LessOrEqual(t, sb.Server.Stats().Requests, 8, "stopped within a few requests")
			assert.Contains(t, strings.ToLower(r.stderr), "hint:")
			hint := r.stderr[strings.Index(r.stderr, "hint:"):]
			assert.Contains(t, strings.ToLower(hint), tc.wantHint)
			if tc.key != "" {
				assert.NotContains(t, r.stderr, tc.key)
			}
		})
	}
}

// TestRunPacesToTheWindow runs against a plan of 60 requests per 2-second window and checks, from the
// sandbox's own counts, that no request was refused and that every full window was used to 95% or more.
// It does not run in parallel with the other tests: they would take the CPU it paces with.
func TestRunPacesToTheWindow(t *testing.T) {
	sb := startSandbox(t, sandbox.Config{Limit: 60, Window: 2 * time.Second, Latency: time.Millisecond})
	j := newJob(t, 330)
	r := run(t, keyEnv(sb), j.args(sb)...)
	require.Equal(t, 0, r.code, r.stderr)
	requireExactlyOnce(t, j, sb)
	st := sb.Server.Stats()
	assert.Zero(t, st.RateLimited, "429s")
	windows := st.Windows
	require.GreaterOrEqual(t, len(windows), 5)
	// The first window is partial (the run starts inside it) and so is the last (the rows run out).
	for _, w := range windows[1 : len(windows)-1] {
		assert.GreaterOrEqual(t, w.Allowed, 57, "window at %s used %d of 60", w.Start.Format(time.TimeOnly), w.Allowed)
	}
}

// TestRunLogsNoPersonalData checks that nothing of a row but its number and reference reaches the logs,
// in either format, through rejections, failures and progress.
func TestRunLogsNoPersonalData(t *testing.T) {
	t.Parallel()
	sb := startSandbox(t, sandbox.Config{FailRate: 0.3, Required: []string{"date_of_birth"}, Seed: 5})
	j := newJob(t, 60)
	for _, format := range []string{"text", "json"} {
		out := j.out + "-" + format
		r := run(t, keyEnv(sb), "run", "--api-url", sb.URL, "--mapping", j.mapping, "--out", out,
			"--rate", "1000/s", "--max-attempts", "2", "--log-format", format, j.input)
		require.NotEqual(t, 2, r.code, r.stderr)
		require.Contains(t, r.stderr, "crm-", "rows are named by reference")
		for _, row := range j.rows {
			for _, v := range row[1:5] {
				require.NotContains(t, r.stderr, v, "a personal value in the %s log", format)
			}
		}
		for _, v := range []string{"+234", "example.ng"} {
			require.NotContains(t, r.stderr, v)
		}
	}
}

func TestRunRefusesPlainHTTPBeyondLoopback(t *testing.T) {
	t.Parallel()
	j := newJob(t, 3)
	r := run(t, []string{"ZENTRA_SECRET_KEY=sk_live_0123456789abcdef"}, "run", "--api-url", "http://api.usezentra.com", "--mapping", j.mapping, "--out", j.out, j.input)
	assert.Equal(t, 2, r.code)
	assert.Contains(t, r.stderr, "http://")
	assert.NotContains(t, r.stderr, "sk_live_0123456789abcdef")
	_, err := os.Stat(j.out)
	assert.True(t, os.IsNotExist(err), "nothing created")
}

// plantedRows are the bad rows of samples/customers.csv and their reasons (samples/README.md).
var plantedRows = map[int]string{
	17:  "email (column E-mail): not a valid email address",
	42:  "last_name (column Last Name): required but empty",
	58:  "phone (column Mobile): not a valid phone number for region NG",
	73:  "email (column E-mail): not a valid email address",
	99:  "email or phone: at least one is required, all are empty (columns E-mail, Mobile)",
	121: "first_name (column First Name): required but empty",
	150: "external_reference: duplicate of row 12",
	188: "date_of_birth (column Date of Birth): not a valid date in any of the forms DD/MM/YYYY, YYYY-MM-DD",
	204: "email (column E-mail): not a valid email address",
	233: "phone (column Mobile): not a valid phone number for region NG",
	260: "external_reference (column Customer Id): required but empty; metadata.legacy_id (column Customer Id): required but empty",
	287: "last_name (column Last Name): required but empty; email (column E-mail): not a valid email address",
}

// TestSamplesImport runs the README's first command's input against a sandbox and checks every line of
// results.csv against the sandbox's own records.
func TestSamplesImport(t *testing.T) {
	t.Parallel()
	sb := startSandbox(t, sandbox.Config{})
	out := filepath.Join(t.TempDir(), "job")
	r := run(t, keyEnv(sb), "run", "--api-url", sb.URL, "--mapping", "samples/mapping.yaml", "--out", out, "--rate", "1000/s", "--carry", "Branch", "samples/customers.csv")
	require.Equal(t, 1, r.code, "some rows are rejected: %s", r.stderr)
	f, err := os.Open(filepath.Join(out, "results.csv"))
	require.NoError(t, err)
	defer f.Close()
	var lines []jobdir.ResultLine
	carry, err := jobdir.ScanResults(f, func(l jobdir.ResultLine) error { lines = append(lines, l); return nil })
	require.NoError(t, err)
	assert.Equal(t, []string{"Branch"}, carry)
	require.Len(t, lines, 300)
	ids := map[string]string{}
	for _, c := range sb.Server.Customers() {
		ids[c.ExternalReference] = c.ID
	}
	assert.Len(t, ids, 300-len(plantedRows))
	for i, l := range lines {
		require.Equal(t, i+1, l.Row)
		if reason, bad := plantedRows[l.Row]; bad {
			assert.Equal(t, "rejected", l.Status, "row %d", l.Row)
			assert.Equal(t, reason, l.Error, "row %d", l.Row)
			continue
		}
		assert.Equal(t, "created", l.Status, "row %d: %s", l.Row, l.Error)
		assert.Equal(t, ids[l.ExternalReference], l.CustomerID, "row %d", l.Row)
		assert.NotEmpty(t, l.Carry[0], "row %d carries its branch", l.Row)
	}
	rejects, err := os.ReadFile(filepath.Join(out, "rejects.csv"))
	require.NoError(t, err)
	recs, err := csv.NewReader(bytes.NewReader(rejects)).ReadAll()
	require.NoError(t, err)
	require.Len(t, recs, 1+len(plantedRows))
	assert.Equal(t, "error", recs[0][len(recs[0])-1])

	// The rejects file, fixed, feeds back as it is: here, unfixed, it maps to the same problems.
	v := run(t, nil, "validate", "--mapping", "samples/mapping.yaml", "--out", filepath.Join(t.TempDir(), "v"), filepath.Join(out, "rejects.csv"))
	assert.Equal(t, 1, v.code, v.stderr)
}

func TestSamplesSandboxDemo(t *testing.T) {
	t.Parallel()
	out := filepath.Join(t.TempDir(), "job")
	r := run(t, nil, "run", "--sandbox", "--mapping", "samples/mapping.yaml", "--out", out, "samples/customers.csv")
	require.Equal(t, 1, r.code, r.stderr)
	assert.Contains(t, r.stderr, "nothing leaves this machine")
	assert.Contains(t, r.stderr, "created 288 · existing 0 · failed 0 · rejected 12")
	var sum struct {
		Job struct { // the job's totals; the run's figures are under "run"
			Counts   map[string]int `json:"counts"`
			Complete bool           `json:"complete"`
		} `json:"job"`
		ExitCode int `json:"exit_code"`
	}
	b, err := os.ReadFile(filepath.Join(out, "summary.json"))
	require.NoError(t, err)
	require.NoError(t, json.Unmarshal(b, &sum))
	assert.True(t, sum.Job.Complete)
	assert.Equal(t, 1, sum.ExitCode)
	assert.Equal(t, 288, sum.Job.Counts["created"])
}

func TestSamplesValidate(t *testing.T) {
	t.Parallel()
	out := filepath.Join(t.TempDir(), "v")
	r := run(t, nil, "validate", "--mapping", "samples/mapping.yaml", "--out", out, "--show", "20", "samples/customers.csv")
	require.Equal(t, 1, r.code, r.stderr)
	for row, reason := range plantedRows {
		assert.Contains(t, r.stderr, fmt.Sprintf("row %d", row))
		assert.Contains(t, r.stderr, reason)
	}
	assert.Equal(t, len(plantedRows), strings.Count(r.stderr, "\nrow ")+boolInt(strings.HasPrefix(r.stderr, "row ")))
	assert.Contains(t, r.stderr, "valid 288 · rejected 12")
	_, err := os.Stat(filepath.Join(out, "rejects.csv"))
	assert.NoError(t, err)
	sum, err := jobdir.ReadSummary(out)
	require.NoError(t, err)
	assert.Equal(t, 300, sum.Rows)
	assert.Equal(t, 300, sum.Processed, "the rows it checked")
	assert.Equal(t, 1, sum.ExitCode)
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

// TestSamplesMessyDialects imports the Windows-1252 + semicolon and the BOM + CRLF exports and checks that
// their rejects come back in the input's own dialect, ready to be fixed and fed back.
func TestSamplesMessyDialects(t *testing.T) {
	t.Parallel()
	cases := []struct {
		file       string
		wantPrefix []byte
		delimiter  string
	}{
		{file: "samples/customers-semicolon-1252.csv", delimiter: ";"},
		{file: "samples/customers-bom-crlf.csv", wantPrefix: []byte("\xef\xbb\xbf"), delimiter: ","},
	}
	for _, tc := range cases {
		t.Run(filepath.Base(tc.file), func(t *testing.T) {
			t.Parallel()
			sb := startSandbox(t, sandbox.Config{})
			out := filepath.Join(t.TempDir(), "job")
			r := run(t, keyEnv(sb), "run", "--api-url", sb.URL, "--mapping", "samples/mapping.yaml", "--out", out, "--rate", "1000/s", tc.file)
			require.Equal(t, 1, r.code, r.stderr)
			rejects, err := os.ReadFile(filepath.Join(out, "rejects.csv"))
			require.NoError(t, err)
			assert.True(t, bytes.HasPrefix(rejects, tc.wantPrefix), "byte-order mark kept")
			assert.Contains(t, string(rejects), "\r\n", "CRLF kept")
			assert.Contains(t, string(rejects), tc.delimiter+"error\r\n", "the input's delimiter")
			assert.Equal(t, 2, bytes.Count(rejects, []byte("\r\n")), "header and one bad row")
			// The row comes back with the input's own bytes (same encoding), field for field.
			input, err := os.ReadFile(tc.file)
			require.NoError(t, err)
			parse := func(b []byte) [][]string {
				r := csv.NewReader(bytes.NewReader(bytes.TrimPrefix(b, []byte("\xef\xbb\xbf"))))
				r.Comma = rune(tc.delimiter[0])
				recs, err := r.ReadAll()
				require.NoError(t, err)
				return recs
			}
			bad := parse(rejects)[1]
			assert.Contains(t, parse(input), bad[:len(bad)-1], "the row's bytes exactly as in the input")
			assert.Len(t, sb.Server.Customers(), 29)
		})
	}
}

func TestBadMappingStopsBeforeAnything(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name, mapping, want, wantHint string
	}{
		{name: "unknown column", mapping: "fields:\n  external_reference: {template: \"crm-{Customer Id}\"}\n  first_name: {column: Frist Name}\n", want: "line 3", wantHint: "First Name"},
		{name: "unknown transform", mapping: "fields:\n  external_reference: {template: \"crm-{Customer Id}\"}\n  first_name: {column: First Name, transform: [titel]}\n", want: `line 3: unknown transform "titel" (did you mean "title"?)`},
		{name: "broken YAML", mapping: "fields:\n  external_reference: {template: \"crm-{Customer Id}\"\n  first_name: {column: First Name}\n", want: "line "},
		{name: "no reference", mapping: "fields:\n  first_name: {column: First Name}\n", want: "external_reference"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			m := filepath.Join(dir, "m.yaml")
			require.NoError(t, os.WriteFile(m, []byte(tc.mapping), 0o600))
			for _, cmd := range []string{"validate", "run"} {
				sb := startSandbox(t, sandbox.Config{})
				r := run(t, keyEnv(sb), cmd, "--api-url", sb.URL, "--mapping", m, "--out", filepath.Join(dir, cmd), "samples/customers.csv")
				if cmd == "validate" {
					r = run(t, nil, cmd, "--mapping", m, "--out", filepath.Join(dir, cmd), "samples/customers.csv")
				}
				assert.Equal(t, 2, r.code, r.stderr)
				assert.Contains(t, r.stderr, tc.want)
				assert.Contains(t, r.stderr, "hint:")
				assert.Contains(t, r.stderr, tc.wantHint)
				assert.Zero(t, sb.Server.Stats().Requests)
				_, err := os.Stat(filepath.Join(dir, cmd))
				assert.True(t, os.IsNotExist(err), "no job directory")
			}
		})
	}
}

// TestRunOneRunPerJob starts a slow import and a second run on the same job directory: the second exits 2
// at once, naming the first's pid; once the first is killed, the job is free again.
func TestRunOneRunPerJob(t *testing.T) {
	t.Parallel()
	sb := startSandbox(t, sandbox.Config{Latency: 50 * time.Millisecond})
	j := newJob(t, 100)
	args := j.args(sb, "--rate", "20/s", "--workers", "2")
	first := start(t, keyEnv(sb), args...)
	first.waitFor(t, func() bool { return sb.Server.Stats().Creates >= 2 })
	r := run(t, keyEnv(sb), args...)
	assert.Equal(t, 2, r.code, r.stderr)
	assert.Contains(t, r.stderr, fmt.Sprint(first.cmd.Process.Pid), "names the holder")
	first.signal(t, syscall.SIGKILL)
	first.exitCode()
	r = run(t, keyEnv(sb), j.args(sb, "--rate", "1000/s")...)
	require.Equal(t, 0, r.code, "a killed holder leaves no stale lock: %s", r.stderr)
	requireExactlyOnce(t, j, sb)
}

func TestRunRefusesAChangedInput(t *testing.T) {
	t.Parallel()
	sb := startSandbox(t, sandbox.Config{})
	j := newJob(t, 20)
	args := j.args(sb, "--rate", "1000/s", "--max-rows", "5")
	r := run(t, keyEnv(sb), args...)
	require.Equal(t, 0, r.code, r.stderr)
	// A row appended and the first row's id changed: not an extension of the job's bytes (one that only
	// appends is continued: e2e_change_test.go).
	b, err := os.ReadFile(j.input)
	require.NoError(t, err)
	b = append(b, "999999,Late,Arrival,late@example.ng,,NG\n"...)
	b[bytes.IndexByte(b, '\n')+1] = '2'
	require.NoError(t, os.WriteFile(j.input, b, 0o600))
	requests := sb.Server.Stats().Requests
	r = run(t, keyEnv(sb), args...)
	assert.Equal(t, 2, r.code)
	assert.Contains(t, r.stderr, "input")
	assert.Contains(t, r.stderr, "--restart")
	assert.Equal(t, requests, sb.Server.Stats().Requests, "nothing sent")
}

// TestMappingInference prints a starter mapping, checks that it reads back, and imports with the inferred
// mapping, which the run shows and saves.
func TestMappingInference(t *testing.T) {
	t.Parallel()
	r := run(t, nil, "mapping", "samples/customers.csv")
	require.Equal(t, 0, r.code, r.stderr)
	assert.Contains(t, r.stdout, "external_reference:")
	assert.Contains(t, r.stdout, "# ")
	dir := t.TempDir()
	m := filepath.Join(dir, "inferred.yaml")
	require.NoError(t, os.WriteFile(m, []byte(r.stdout), 0o600))
	v := run(t, nil, "validate", "--mapping", m, "--out", filepath.Join(dir, "v"), "samples/customers.csv")
	assert.Equal(t, 1, v.code, "the printed mapping is a valid mapping: %s", v.stderr)

	out := filepath.Join(dir, "job")
	r = run(t, nil, "run", "--sandbox", "--out", out, "samples/customers.csv")
	assert.Equal(t, 1, r.code, r.stderr)
	assert.Contains(t, r.stderr, "no --mapping given")
	saved, err := os.ReadFile(filepath.Join(out, "mapping.inferred.yaml"))
	require.NoError(t, err)
	assert.Contains(t, string(saved), "external_reference:")

	// Its rejects, fed back without --mapping, are too few and too odd to infer from (a duplicate, an
	// empty id): the hint names the job's own mapping, which then reads them.
	rejects := filepath.Join(out, "rejects.csv")
	r = run(t, nil, "run", "--sandbox", rejects)
	require.Equal(t, 2, r.code, r.stderr)
	assert.Contains(t, r.stderr, "pass --mapping "+filepath.Join(out, "mapping.inferred.yaml"))
	r = run(t, nil, "run", "--sandbox", "--mapping", filepath.Join(out, "mapping.inferred.yaml"), rejects)
	assert.Equal(t, 1, r.code, "the rows are still bad: %s", r.stderr)
}

func TestSecretKeyFile(t *testing.T) {
	t.Parallel()
	sb := startSandbox(t, sandbox.Config{})
	j := newJob(t, 5)
	keyFile := filepath.Join(t.TempDir(), "key")
	require.NoError(t, os.WriteFile(keyFile, []byte(sb.Key+"\n"), 0o644))
	r := run(t, nil, j.args(sb, "--secret-key-file", keyFile)...)
	require.Equal(t, 0, r.code, r.stderr)
	assert.Contains(t, r.stderr, "readable by other users")
	assert.NotContains(t, r.stderr, sb.Key)
	for _, name := range []string{"results.csv", "rejects.csv", "summary.json", "checkpoint"} {
		b, err := os.ReadFile(filepath.Join(j.out, name))
		require.NoError(t, err)
		assert.NotContains(t, string(b), sb.Key, "the key is never written to %s", name)
	}

	r = run(t, nil, j.args(sb)...)
	assert.Equal(t, 2, r.code)
	assert.Contains(t, r.stderr, "ZENTRA_SECRET_KEY")
}

func TestUsageErrors(t *testing.T) {
	t.Parallel()
	sb := startSandbox(t, sandbox.Config{})
	j := newJob(t, 3)
	cases := []struct {
		name string
		args []string
		want string
	}{
		{name: "unknown carry column", args: j.args(sb, "--carry", "Brnach,Mobile"), want: `"Brnach"`},
		{name: "bad rate", args: j.args(sb, "--rate", "fast"), want: "--rate"},
		{name: "no file", args: []string{"run", "--sandbox"}, want: "exactly one CSV file"},
		{name: "missing file", args: []string{"run", "--sandbox", "nope.csv"}, want: "no such file"},
		{name: "unknown flag", args: []string{"run", "--colour", "x.csv"}, want: "unknown flag"},
		{name: "sandbox and api url", args: []string{"run", "--sandbox", "--api-url", sb.URL, j.input}, want: "give one"},
	}
	t.Run("a bad value in the environment names its variable", func(t *testing.T) {
		r := run(t, append(keyEnv(sb), "ZENTRA_WORKERS=eight"), j.args(sb)...)
		assert.Equal(t, 2, r.code, r.stderr)
		assert.Contains(t, r.stderr, `ZENTRA_WORKERS="eight"`)
	})
	t.Run("the environment's API does not fight --sandbox", func(t *testing.T) {
		r := run(t, []string{"ZENTRA_API_URL=https://api.usezentra.com"}, "run", "--sandbox", "--mapping", j.mapping, "--out", j.out+"-sb", j.input)
		assert.Equal(t, 0, r.code, r.stderr)
	})
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := run(t, keyEnv(sb), tc.args...)
			assert.Equal(t, 2, r.code, r.stderr)
			assert.Contains(t, r.stderr, tc.want)
			assert.Contains(t, r.stderr, "hint:")
		})
	}
	assert.Zero(t, sb.Server.Stats().Requests)
}

// TestSandboxCommand starts `zentra-import sandbox`, reads the URL and key it prints, and plays the README's
// curl: a create, the same request replayed, and the same reference under another key.
func TestSandboxCommand(t *testing.T) {
	t.Parallel()
	cmd := command(nil, "sandbox", "--addr", "127.0.0.1:0", "--limit", "100/min")
	stdout, err := cmd.StdoutPipe()
	require.NoError(t, err)
	require.NoError(t, cmd.Start())
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	var url, key string
	sc := bufio.NewScanner(stdout)
	for sc.Scan() && (url == "" || key == "") {
		line := strings.TrimSpace(sc.Text())
		if v, ok := strings.CutPrefix(line, "URL: "); ok {
			url = v
		}
		if v, ok := strings.CutPrefix(line, "key: "); ok {
			key = v
		}
	}
	require.NotEmpty(t, url)
	require.True(t, strings.HasPrefix(key, "sk_sandbox_"), key)

	post := func(idem, body string) (*http.Response, map[string]any) {
		req, err := http.NewRequest(http.MethodPost, url+"/api/v1/identity/customers", strings.NewReader(body))
		require.NoError(t, err)
		req.Header.Set("Authorization", "Bearer "+key)
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Idempotency-Key", idem)
		resp, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		defer resp.Body.Close()
		var v map[string]any
		require.NoError(t, json.NewDecoder(resp.Body).Decode(&v))
		return resp, v
	}
	body := `{"external_reference":"demo-1","first_name":"Ada"}`
	resp, first := post("demo-1", body)
	require.Equal(t, http.StatusCreated, resp.StatusCode)
	assert.NotEmpty(t, resp.Header.Get("X-RateLimit-Limit"))
	id := first["data"].(map[string]any)["id"].(string)
	assert.True(t, strings.HasPrefix(id, "cus_"), id)

	resp, again := post("demo-1", body)
	require.Equal(t, http.StatusCreated, resp.StatusCode)
	assert.Equal(t, "true", resp.Header.Get("Idempotent-Replayed"))
	assert.Equal(t, id, again["data"].(map[string]any)["id"])

	resp, conflict := post("another-key", body)
	require.Equal(t, http.StatusConflict, resp.StatusCode)
	assert.Contains(t, fmt.Sprint(conflict), id, "the 409 names the existing customer")

	require.NoError(t, cmd.Process.Signal(syscall.SIGTERM))
}

// TestRunNeverWritesOverTheUsersFiles: an --out that holds other files, or the input itself, is refused
// before anything is written.
func TestRunNeverWritesOverTheUsersFiles(t *testing.T) {
	t.Parallel()
	sb := startSandbox(t, sandbox.Config{})
	j := newJob(t, 5)
	// The input is called rejects.csv and the job directory is its own folder.
	input := filepath.Join(j.dir, "rejects.csv")
	require.NoError(t, os.Rename(j.input, input))
	before, err := os.ReadFile(input)
	require.NoError(t, err)
	for _, cmd := range []string{"run", "validate"} {
		args := []string{cmd, "--mapping", j.mapping, "--out", j.dir, input}
		if cmd == "run" {
			args = append([]string{cmd, "--api-url", sb.URL}, args[1:]...)
		}
		r := run(t, keyEnv(sb), args...)
		assert.Equal(t, 2, r.code, r.stderr)
		assert.Contains(t, r.stderr, "hint:")
		after, err := os.ReadFile(input)
		require.NoError(t, err)
		assert.Equal(t, before, after, "%s left the input alone", cmd)
	}
	assert.Zero(t, sb.Server.Stats().Requests)
	_, err = os.Stat(filepath.Join(j.dir, "checkpoint"))
	assert.True(t, os.IsNotExist(err), "no job created among the user's files")

	// A folder of the user's whose files have the job files' names (QA: results.csv was written over).
	mine := filepath.Join(t.TempDir(), "mine")
	require.NoError(t, os.Mkdir(mine, 0o700))
	own := map[string]string{"results.csv": "my data\n", "summary.json": `{"my": 1}`, "rejects.csv": "keep\n"}
	for name, content := range own {
		require.NoError(t, os.WriteFile(filepath.Join(mine, name), []byte(content), 0o600))
	}
	r := run(t, keyEnv(sb), "run", "--api-url", sb.URL, "--mapping", j.mapping, "--out", mine, input)
	assert.Equal(t, 2, r.code, r.stderr)
	assert.Contains(t, r.stderr, "not a results file of zentra-import")
	for name, content := range own {
		b, err := os.ReadFile(filepath.Join(mine, name))
		require.NoError(t, err)
		assert.Equal(t, content, string(b), name)
	}
	assert.Zero(t, sb.Server.Stats().Requests)
}

// TestRejectsFedBackWhereTheyLie: importing a job's rejects.csv from inside its job directory, with the
// default --out, makes a job beside the first one, and the first job still runs as before (QA: it was
// refused with exit 2 for holding the second job's directory).
func TestRejectsFedBackWhereTheyLie(t *testing.T) {
	t.Parallel()
	sb := startSandbox(t, sandbox.Config{})
	j := newJob(t, 6)
	j.rows[2][3] = "not-an-email"
	var b bytes.Buffer
	w := csv.NewWriter(&b)
	require.NoError(t, w.Write([]string{"Customer Id", "First Name", "Last Name", "E-mail", "Mobile", "Country"}))
	require.NoError(t, w.WriteAll(j.rows))
	require.NoError(t, os.WriteFile(j.input, b.Bytes(), 0o600))
	first := []string{"run", "--api-url", sb.URL, "--mapping", j.mapping, j.input}
	r := run(t, keyEnv(sb), first...)
	require.Equal(t, 1, r.code, r.stderr)
	jobDir := filepath.Join(j.dir, "customers.import")
	files := func() map[string]string {
		m := map[string]string{}
		for _, name := range []string{"results.csv", "rejects.csv", "summary.json"} {
			b, err := os.ReadFile(filepath.Join(jobDir, name))
			require.NoError(t, err)
			m[name] = string(b)
		}
		return m
	}
	before := files()

	r = run(t, keyEnv(sb), "run", "--api-url", sb.URL, "--mapping", j.mapping, filepath.Join(jobDir, "rejects.csv"))
	assert.Equal(t, 1, r.code, "the row is still bad: %s", r.stderr)
	assert.FileExists(t, filepath.Join(j.dir, "customers.rejects.import", "results.csv"))
	assert.NoDirExists(t, filepath.Join(jobDir, "rejects.import"))

	requests := sb.Server.Stats().Requests
	r = run(t, keyEnv(sb), first...)
	assert.Equal(t, 1, r.code, "the same exit code as before: %s", r.stderr)
	progressSameJob(t, before, files()) // the finished job's files are as they were, its summary records the run
	assert.Equal(t, requests, sb.Server.Stats().Requests, "nothing sent")
}

// requireJSONLines checks that every line of a --log-format json run's stderr is a JSON log record, and
// returns the records.
func requireJSONLines(t *testing.T, stderr string) []map[string]any {
	t.Helper()
	var recs []map[string]any
	for _, line := range strings.Split(strings.TrimRight(stderr, "\n"), "\n") {
		var rec map[string]any
		require.NoError(t, json.Unmarshal([]byte(line), &rec), "every line a log collector reads is JSON: %q", line)
		require.Contains(t, rec, "msg", line)
		recs = append(recs, rec)
	}
	return recs
}

// recordWith returns the first record whose message contains msg.
func recordWith(t *testing.T, recs []map[string]any, msg string) map[string]any {
	t.Helper()
	for _, rec := range recs {
		if strings.Contains(fmt.Sprint(rec["msg"]), msg) {
			return rec
		}
	}
	t.Fatalf("no record %q among %v", msg, recs)
	return nil
}

// TestRunJSONLogsEveryLine: with --log-format json, what the run itself says (the in-process sandbox,
// the inferred mapping, a key file's warning, the signal, the summary, a usage error) is a record too.
func TestRunJSONLogsEveryLine(t *testing.T) {
	t.Parallel()
	t.Run("inferred mapping and in-process sandbox", func(t *testing.T) {
		t.Parallel()
		out := filepath.Join(t.TempDir(), "job")
		r := run(t, nil, "run", "--sandbox", "--log-format", "json", "--out", out, "samples/customers.csv")
		require.Equal(t, 1, r.code, r.stderr)
		recs := requireJSONLines(t, r.stderr)
		recordWith(t, recs, "nothing leaves this machine")
		inferred := recordWith(t, recs, "no --mapping given")
		assert.Equal(t, filepath.Join(out, "mapping.inferred.yaml"), inferred["saved_as"])
		assert.Contains(t, inferred["mapping"], "external_reference:", "the mapping is an attribute of the record")
		sum := recordWith(t, recs, "summary")["summary"].(map[string]any)
		assert.EqualValues(t, 1, sum["exit_code"])
	})
	t.Run("interrupted, with a key file others can read", func(t *testing.T) {
		t.Parallel()
		sb := startSandbox(t, sandbox.Config{Latency: 2 * time.Millisecond})
		j := newJob(t, 300)
		keyFile := filepath.Join(t.TempDir(), "key")
		require.NoError(t, os.WriteFile(keyFile, []byte(sb.Key+"\n"), 0o644))
		p := start(t, nil, j.args(sb, "--rate", "200/s", "--workers", "4", "--log-format", "json", "--secret-key-file", keyFile)...)
		p.waitFor(t, func() bool { return sb.Server.Stats().Creates >= 40 })
		p.signal(t, syscall.SIGINT)
		require.Equal(t, 130, p.exitCode(), p.stderr.String())
		recs := requireJSONLines(t, p.stderr.String())
		assert.NotContains(t, p.stderr.String(), sb.Key)
		recordWith(t, recs, "readable by other users")
		recordWith(t, recs, "stopping: no new rows")
		assert.Contains(t, recordWith(t, recs, "interrupted")["hint"], "run the same command again to resume")
	})
	t.Run("usage error", func(t *testing.T) {
		t.Parallel()
		r := run(t, nil, "run", "--log-format", "json", "--colour", "x.csv")
		require.Equal(t, 2, r.code, r.stderr)
		recordWith(t, requireJSONLines(t, r.stderr), "unknown flag")
		// The bad flag comes first: parsing stops before --log-format (QA found plain text here).
		for _, args := range [][]string{{"run", "--colour", "--log-format", "json", "x.csv"}, {"run", "x.csv", "--workers", "x", "--log-format=json"}} {
			r = run(t, nil, args...)
			require.Equal(t, 2, r.code, r.stderr)
			requireJSONLines(t, r.stderr)
		}
		r = run(t, []string{"ZENTRA_LOG_FORMAT=json", "ZENTRA_WORKERS=eight"}, "run", "--sandbox", "x.csv")
		require.Equal(t, 2, r.code, r.stderr)
		recordWith(t, requireJSONLines(t, r.stderr), "ZENTRA_WORKERS")
	})
}
