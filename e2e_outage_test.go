package main

// End-to-end tests of issue 9's items 5 (an outage of the API pauses the run instead of grinding through
// the file) and 6 (no request goes on the wire that the run did not send and count).

import (
	"io"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/zentra/zentra-import/jobdir"
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
		attempts += l.Attempts
		if l.Status == "failed" {
			failed++
			assert.Equal(t, 1, l.Attempts, "row %d: one attempt", l.Row)
			assert.Contains(t, l.Error, "the request was sent", "row %d", l.Row)
		}
	}
	st := sb.Server.Stats()
	assert.Equal(t, attempts, st.Requests, "every request the API received is an attempt results.csv counts")
	// A request beyond a row's first is the run's own (eight drops in a row would pass for an outage, and
	// its rows are sent again): it follows a dropped create, so the API replays it. No other replay.
	assert.Equal(t, attempts-len(lines), st.Replays, "no request for a row reached the API twice behind the run's back")
	assert.Positive(t, failed)
	assert.GreaterOrEqual(t, st.Dropped, failed, "each failed row's answer was dropped")
	assert.Zero(t, st.DuplicateCustomers)
	perRef := map[string]int{}
	for _, c := range sb.Server.Customers() {
		perRef[c.ExternalReference]++
	}
	for ref, n := range perRef {
		assert.Equal(t, 1, n, "%s created once", ref)
	}
}

// outageProxy is a TCP proxy on loopback in front of the sandbox, which a test can turn into an outage:
// reset, it accepts each connection and resets it at once (nothing answers on the host); blackhole, it
// accepts and never answers (a network that drops everything); up, it forwards. Switching cuts every
// connection it holds, so the importer's kept-alive connections meet the outage too. It counts the
// connections it accepts while down: each is a request sent into the outage (none is ever answered, so
// none carries a second request).
type outageProxy struct {
	ln     net.Listener
	target string
	url    string

	mu    sync.Mutex
	mode  string // "up", "reset" or "blackhole"
	conns map[net.Conn]bool
	down  int // connections accepted while not up
	wg    sync.WaitGroup
}

func outageStartProxy(t *testing.T, sb *sandbox.Running) *outageProxy {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	p := &outageProxy{ln: ln, target: strings.TrimPrefix(sb.URL, "http://"), url: "http://" + ln.Addr().String(),
		mode: "up", conns: map[net.Conn]bool{}}
	p.wg.Add(1)
	go p.serve()
	t.Cleanup(func() {
		_ = ln.Close()
		p.set("up") // cuts what it holds
		p.wg.Wait()
	})
	return p
}

func (p *outageProxy) serve() {
	defer p.wg.Done()
	for {
		c, err := p.ln.Accept()
		if err != nil {
			return
		}
		p.mu.Lock()
		mode := p.mode
		if mode != "up" {
			p.down++
		}
		if mode == "reset" {
			p.mu.Unlock()
			_ = c.(*net.TCPConn).SetLinger(0) // close with a RST
			_ = c.Close()
			continue
		}
		p.conns[c] = true
		p.mu.Unlock()
		p.wg.Add(1)
		go func() {
			defer p.wg.Done()
			defer p.drop(c)
			if mode == "blackhole" {
				_, _ = io.Copy(io.Discard, c) // read the request, never answer
				return
			}
			up, err := net.Dial("tcp", p.target)
			if err != nil {
				return
			}
			p.mu.Lock()
			p.conns[up] = true
			p.mu.Unlock()
			defer p.drop(up)
			done := make(chan struct{})
			go func() { _, _ = io.Copy(up, c); _ = up.Close(); close(done) }()
			_, _ = io.Copy(c, up)
			_ = c.Close()
			<-done
		}()
	}
}

func (p *outageProxy) drop(c net.Conn) {
	_ = c.Close()
	p.mu.Lock()
	delete(p.conns, c)
	p.mu.Unlock()
}

// set switches the proxy to mode and cuts every connection it holds.
func (p *outageProxy) set(mode string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.mode = mode
	for c := range p.conns {
		if tc, ok := c.(*net.TCPConn); ok {
			_ = tc.SetLinger(0)
		}
		_ = c.Close()
	}
}

// requestsWhileDown is the number of requests sent into the outage so far.
func (p *outageProxy) requestsWhileDown() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.down
}

// outageArgs is the run command of j through the proxy.
func outageArgs(j *job, p *outageProxy, extra ...string) []string {
	return append([]string{"run", "--api-url", p.url, "--mapping", j.mapping, "--out", j.out}, append(extra, j.input)...)
}

// TestE2EShortOutageMidRun: the API's host stops answering (every connection reset) for 4 s in the middle
// of a run. The run pauses every worker and probes one request at a time instead of grinding through
// the rows: it says so once, and once when the API answers again; no row is failed, a few dozen
// requests at most go into the outage, and every row is created once, exit 0.
func TestE2EShortOutageMidRun(t *testing.T) {
	t.Parallel()
	sb := startSandbox(t, sandbox.Config{})
	proxy := outageStartProxy(t, sb)
	j := newJob(t, 250)
	p := start(t, keyEnv(sb), outageArgs(j, proxy, "--rate", "50/s", "--workers", "8", "--timeout", "1s")...)
	p.waitFor(t, func() bool { return sb.Server.Stats().Creates >= 50 })
	proxy.set("reset")
	time.Sleep(4 * time.Second) // the outage, in real time: the binary is not under the test's clock
	intoOutage := proxy.requestsWhileDown()
	proxy.set("up")
	code := p.exitCode()
	stderr := p.stderr.String()
	require.Equal(t, 0, code, stderr)
	requireExactlyOnce(t, j, sb)
	for _, l := range j.results(t) {
		require.NotEqual(t, "failed", l.Status, "row %d", l.Row)
	}
	assert.Positive(t, intoOutage)
	assert.LessOrEqual(t, intoOutage, 30, "requests sent into the outage")
	assert.Equal(t, 1, strings.Count(stderr, "the API is not answering: pausing all workers, probing every 1s"), stderr)
	assert.Equal(t, 1, strings.Count(stderr, "the API answers again after"), stderr)
	assert.NotContains(t, stderr, "row failed")
	sum, err := jobdir.ReadSummary(j.out)
	require.NoError(t, err)
	require.NotNil(t, sum.Outage, "summary.json records the outage")
	assert.Equal(t, 1, sum.Outage.Count)
	assert.GreaterOrEqual(t, sum.Outage.Seconds, 3.0)
	assert.False(t, sum.Outage.StoppedRun)
}

// TestE2EPermanentOutageStopsResumable: the network to the API drops everything for good. With
// --timeout 1s and ZENTRA_MAX_OUTAGE=5s the run stops about 5 s after the last answer, exit 3, saying that the API
// gave no answer for 5s and that the job is resumable; no row is failed. With the API back, the same
// command finishes the job, every row once.
func TestE2EPermanentOutageStopsResumable(t *testing.T) {
	t.Parallel()
	sb := startSandbox(t, sandbox.Config{})
	proxy := outageStartProxy(t, sb)
	j := newJob(t, 200)
	args := outageArgs(j, proxy, "--rate", "50/s", "--workers", "8", "--timeout", "1s")
	env := append(keyEnv(sb), "ZENTRA_MAX_OUTAGE=5s") // what a cron line would set
	p := start(t, env, args...)
	p.waitFor(t, func() bool { return sb.Server.Stats().Creates >= 30 })
	proxy.set("blackhole")
	dark := time.Now()
	var code int
	select {
	case <-p.done:
		code = p.cmd.ProcessState.ExitCode()
	case <-time.After(2 * time.Minute): // a bound on "never stops", not a measure of speed
		t.Fatalf("the run did not stop after --max-outage: %s", p.stderr.String())
	}
	stopped := time.Since(dark)
	stderr := p.stderr.String()
	require.Equal(t, 3, code, stderr)
	assert.GreaterOrEqual(t, stopped, 4*time.Second, "not before --max-outage")
	assert.Contains(t, stderr, "zentra-import: the API gave no answer for 5s (--max-outage)")
	assert.Contains(t, stderr, "hint: the job is resumable")
	assert.Equal(t, 1, strings.Count(stderr, "the API is not answering"), stderr)
	assert.LessOrEqual(t, proxy.requestsWhileDown(), 20, "the requests in flight, then one probe at a time")
	for _, l := range j.results(t) {
		require.Contains(t, []string{"created", "existing"}, l.Status, "row %d: %s", l.Row, l.Error)
	}
	sum, err := jobdir.ReadSummary(j.out)
	require.NoError(t, err)
	assert.Equal(t, 3, sum.ExitCode)
	assert.Zero(t, sum.Counts["failed"])
	assert.Positive(t, sum.Counts["pending"])
	require.NotNil(t, sum.Outage)
	assert.True(t, sum.Outage.StoppedRun, "summary.json says the run stopped for the outage")
	assert.GreaterOrEqual(t, sum.Outage.Seconds, 5.0)

	proxy.set("up")
	r := run(t, env, args...)
	require.Equal(t, 0, r.code, r.stderr)
	requireExactlyOnce(t, j, sb)
}

// TestMaxOutageIsChecked: --max-outage (or ZENTRA_MAX_OUTAGE) must be a positive duration; a bad value
// names where it came from, and nothing is done.
func TestMaxOutageIsChecked(t *testing.T) {
	input := writeFile(t, t.TempDir(), "in.csv", "id,email\n1,a@example.com\n")
	const fromEnv = "ZENTRA_MAX_OUTAGE sets --max-outage"
	for _, tc := range [][3]string{ // the flag's value or the variable's, what the error says, its hint
		{"--max-outage=0s", "--max-outage 0s: want a positive duration such as 15m", ""},
		{"--max-outage=-1m", "--max-outage -1m0s: want a positive duration", ""},
		{"ZENTRA_MAX_OUTAGE=0", "ZENTRA_MAX_OUTAGE=0s: want a positive duration", fromEnv},
		{"ZENTRA_MAX_OUTAGE=soon", `ZENTRA_MAX_OUTAGE="soon"`, fromEnv},
	} {
		t.Run(tc[0], func(t *testing.T) {
			out := filepath.Join(t.TempDir(), "job")
			args, vars := []string{"run", "--sandbox", "--out", out}, map[string]string{}
			if name, value, ok := strings.Cut(tc[0], "="); ok && !strings.HasPrefix(name, "--") {
				vars[name] = value
			} else {
				args = append(args, tc[0])
			}
			code, stderr := runInProcess(t, vars, append(args, input)...)
			assert.Equal(t, exitUsage, code, stderr)
			assert.Contains(t, stderr, "zentra-import: "+tc[1])
			assert.Contains(t, stderr, "hint: "+tc[2])
			_, err := os.Stat(out)
			assert.True(t, os.IsNotExist(err), "nothing done")
		})
	}
}
