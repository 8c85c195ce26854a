package main

// End-to-end tests of the secrets items of issue 9: the key where a path or a URL belongs (10), loopback
// decided without a resolver (11), no core dumps (12), and a key echoed back changed (13); and, at the
// end, in-process tests of main's checks for item 10 (keyguard.go).

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
	"unicode"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/sys/unix"

	"github.com/zentra/zentra-import/sandbox"
)

// secretsNoKey fails if text shows key: in any case, with or without separators between its characters,
// URL-encoded, or any 8 characters of it past a Zentra prefix (half a key is a leak too).
func secretsNoKey(t *testing.T, what, key, text string) {
	t.Helper()
	// Without white space, control and invisible characters, in lower case.
	squeezed := strings.ToLower(strings.Join(strings.FieldsFunc(text, func(r rune) bool {
		return unicode.IsSpace(r) || unicode.IsControl(r) || unicode.Is(unicode.Cf, r)
	}), ""))
	unescaped, _ := url.QueryUnescape(strings.ReplaceAll(squeezed, "+", "%2B"))
	body := strings.ToLower(strings.TrimPrefix(strings.TrimPrefix(key, "sk_sandbox_"), "sk_live_"))
	for _, s := range []string{strings.ToLower(text), squeezed, unescaped} {
		require.NotContains(t, s, strings.ToLower(key), "%s shows the key:\n%s", what, text)
		for i := 0; i+8 <= len(body); i++ {
			require.NotContains(t, s, body[i:i+8], "%s shows part of the key:\n%s", what, text)
		}
	}
}

// secretsRun runs the binary in a network namespace of its own when the test may make one (root): for a
// command that must be refused before it touches the network, so that even a binary without the fix
// could not reach a resolver. Elsewhere it runs as run does.
func secretsRun(t *testing.T, env []string, args ...string) result {
	t.Helper()
	cmd := command(env, args...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Cloneflags: syscall.CLONE_NEWNET}
	var stdout, stderr strings.Builder
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	if errors.Is(err, syscall.EPERM) || errors.Is(err, syscall.EINVAL) {
		t.Logf("no network namespace here (%v): running in this one", err)
		return run(t, env, args...)
	}
	if _, exited := errors.AsType[*exec.ExitError](err); err != nil && !exited {
		t.Fatalf("run %v: %v", args, err)
	}
	return result{code: cmd.ProcessState.ExitCode(), stdout: stdout.String(), stderr: stderr.String()}
}

// TestE2ESecretsKeyWhereAPathOrURLBelongs (item 10): the key given as the key file's path, as the API
// URL's user or password, as the input, the mapping or the job directory, or as the sandbox's address, on
// the command line or in a variable, is refused with exit 2 and a message that names the place, in text
// and JSON logs, and never shows the key; nothing is sent and no job directory is made (so no summary or
// journal could record it).
func TestE2ESecretsKeyWhereAPathOrURLBelongs(t *testing.T) {
	t.Parallel()
	sb := startSandbox(t, sandbox.Config{})
	j := newJob(t, 3)
	key := sb.Key
	host := strings.TrimPrefix(sb.URL, "http://")
	cases := []struct {
		name string
		env  []string
		args []string
		want string
	}{
		{"--secret-key-file", nil, []string{"run", "--api-url", sb.URL, "--mapping", j.mapping, "--out", j.out, "--secret-key-file", key, j.input},
			"zentra-import: --secret-key-file is given a secret key, not the path of a file holding one"},
		{"ZENTRA_SECRET_KEY_FILE", []string{"ZENTRA_SECRET_KEY_FILE=" + key}, j.args(sb),
			"zentra-import: ZENTRA_SECRET_KEY_FILE is given a secret key, not the path of a file holding one"},
		{"--api-url user", keyEnv(sb), []string{"run", "--api-url", "http://" + key + "@" + host, "--mapping", j.mapping, "--out", j.out, j.input},
			"zentra-import: --api-url holds a secret key"},
		{"--api-url password, bad port", keyEnv(sb), []string{"run", "--api-url", "http://" + key + ":@127.0.0.1:99999", "--out", j.out, j.input},
			"zentra-import: --api-url holds a secret key"},
		{"ZENTRA_API_URL", append(keyEnv(sb), "ZENTRA_API_URL=http://"+strings.ToUpper(key)+"@"+host), []string{"run", "--mapping", j.mapping, "--out", j.out, j.input},
			"zentra-import: ZENTRA_API_URL holds a secret key"},
		{"input", keyEnv(sb), []string{"run", "--api-url", sb.URL, "--mapping", j.mapping, "--out", j.out, "./" + key},
			"zentra-import: the input file argument is given a secret key, not the path of a CSV file"},
		{"--mapping", keyEnv(sb), []string{"run", "--api-url", sb.URL, "--mapping", key, "--out", j.out, j.input},
			"zentra-import: --mapping is given a secret key, not the path of a mapping file"},
		{"--out", keyEnv(sb), []string{"run", "--api-url", sb.URL, "--mapping", j.mapping, "--out", filepath.Join(j.dir, key), j.input},
			"zentra-import: --out is given a secret key, not the path of a job directory"},
		{"validate", nil, []string{"validate", "--mapping", j.mapping, "--out", j.out, filepath.Join(j.dir, key+".csv")},
			"zentra-import: the input file argument is given a secret key, not the path of a CSV file"},
		{"mapping", nil, []string{"mapping", key}, "zentra-import: the input file argument is given a secret key"},
		{"sandbox --addr", nil, []string{"sandbox", "--addr", key}, "zentra-import: --addr is given a secret key, not an address to listen on"},
	}
	for _, tc := range cases {
		for _, format := range []string{"text", "json"} {
			if format == "json" && tc.args[0] != "run" {
				continue // only run has --log-format
			}
			t.Run(tc.name+" "+format, func(t *testing.T) {
				args := tc.args
				if format == "json" {
					args = append([]string{"run", "--log-format", "json"}, args[1:]...)
				}
				r := secretsRun(t, tc.env, args...)
				require.Equal(t, 2, r.code, r.stderr)
				secretsNoKey(t, "stderr", key, r.stderr+r.stdout)
				if format == "json" {
					recs := requireJSONLines(t, r.stderr)
					rec := recordWith(t, recs, strings.TrimPrefix(tc.want, "zentra-import: "))
					assert.NotEmpty(t, rec["hint"])
				} else {
					assert.Contains(t, r.stderr, tc.want)
					assert.Contains(t, r.stderr, "\nhint: ")
				}
				_, err := os.Stat(j.out)
				assert.True(t, os.IsNotExist(err), "no job directory")
			})
		}
	}
	assert.Zero(t, sb.Server.Stats().Requests, "nothing was sent")
}

// secretsNoLookup fails if the Go resolver was consulted: run with GODEBUG=netdns=go+2, it says so on
// stderr at every lookup ("go package net: hostLookupOrder(localhost) = files,dns").
func secretsNoLookup(t *testing.T, stderr string) {
	t.Helper()
	require.NotContains(t, stderr, "go package net:", "a host name was looked up:\n%s", stderr)
}

const secretsResolverDebug = "GODEBUG=netdns=go+2"

// TestE2ESecretsLocalhostWithoutResolver (item 11): http://localhost is dialed at 127.0.0.1 without asking
// the resolver (nothing could redirect it), the run completes and the job is bound to that URL; names
// that only a resolver can answer for (localhost., localhost.localdomain, foo.localhost) and IPv4
// shorthands (127.1, 0x7f.1, 2130706433) are refused before any lookup, as is a zoned IPv6 literal;
// the sandbox listens on localhost without a lookup too.
func TestE2ESecretsLocalhostWithoutResolver(t *testing.T) {
	t.Parallel()
	sb := startSandbox(t, sandbox.Config{})
	_, port, _ := strings.Cut(strings.TrimPrefix(sb.URL, "http://"), ":")

	t.Run("localhost", func(t *testing.T) {
		j := newJob(t, 20)
		args := j.args(sb, "--rate", "1000/s")
		args[2] = "http://LocalHost:" + port
		r := run(t, append(keyEnv(sb), secretsResolverDebug), args...)
		require.Equal(t, 0, r.code, r.stderr)
		secretsNoLookup(t, r.stderr)
		requireExactlyOnce(t, j, sb)
		var sum map[string]any
		b, err := os.ReadFile(filepath.Join(j.out, "summary.json"))
		require.NoError(t, err)
		require.NoError(t, json.Unmarshal(b, &sum))
		assert.Equal(t, "http://localhost:"+port, sum["api_url"])
	})

	refused := []struct{ url, want string }{
		{"http://localhost.:" + port, "plain http:// is allowed only to this machine"},
		{"http://localhost.localdomain:" + port, "plain http:// is allowed only to this machine"},
		{"http://foo.localhost:" + port, "plain http:// is allowed only to this machine"},
		{"http://[::1%25lo]:" + port, "plain http:// is allowed only to this machine"},
		{"http://127.1:" + port, "shorthand form"},
		{"http://0x7f.1:" + port, "shorthand form"},
		{"http://2130706433:" + port, "shorthand form"},
		{"https://127.1:" + port, "shorthand form"},
	}
	for _, tc := range refused {
		t.Run(tc.url, func(t *testing.T) {
			j := newJob(t, 3)
			args := j.args(sb)
			args[2] = tc.url
			r := secretsRun(t, append(keyEnv(sb), secretsResolverDebug), args...)
			require.Equal(t, 2, r.code, r.stderr)
			assert.Contains(t, r.stderr, tc.want)
			secretsNoLookup(t, r.stderr)
		})
	}
	assert.Equal(t, 20, sb.Server.Stats().Requests, "only the localhost run sent anything")

	t.Run("sandbox --addr localhost", func(t *testing.T) {
		cmd := command([]string{secretsResolverDebug}, "sandbox", "--addr", "localhost:0")
		stdout, err := cmd.StdoutPipe()
		require.NoError(t, err)
		var stderr syncBuffer
		cmd.Stderr = &stderr
		require.NoError(t, cmd.Start())
		t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
		sc := bufio.NewScanner(stdout)
		var served string
		for served == "" && sc.Scan() {
			if v, ok := strings.CutPrefix(strings.TrimSpace(sc.Text()), "URL: "); ok {
				served = v
			}
		}
		assert.Regexp(t, `^http://127\.0\.0\.1:\d+$`, served)
		require.NoError(t, cmd.Process.Signal(syscall.SIGTERM))
		_ = cmd.Wait()
		secretsNoLookup(t, stderr.String())
	})
	t.Run("sandbox --addr localhost.", func(t *testing.T) {
		r := secretsRun(t, []string{secretsResolverDebug}, "sandbox", "--addr", "localhost.:0")
		require.Equal(t, 2, r.code, r.stderr)
		assert.Contains(t, r.stderr, "not a loopback address")
		secretsNoLookup(t, r.stderr)
	})
}

// secretsCoreSize reads the core file size limits of a process from /proc/<pid>/limits.
func secretsCoreSize(t *testing.T, pid int) (soft, hard string) {
	t.Helper()
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/limits", pid))
	require.NoError(t, err)
	for _, line := range strings.Split(string(b), "\n") {
		if rest, ok := strings.CutPrefix(line, "Max core file size"); ok {
			f := strings.Fields(rest)
			require.GreaterOrEqual(t, len(f), 2, line)
			return f[0], f[1]
		}
	}
	t.Fatalf("no core file size in\n%s", b)
	return "", ""
}

// secretsOwner is the uid that owns /proc/<pid>/status: root's for a process that is not dumpable.
func secretsOwner(t *testing.T, pid int) uint32 {
	t.Helper()
	fi, err := os.Stat(fmt.Sprintf("/proc/%d/status", pid))
	require.NoError(t, err)
	return fi.Sys().(*syscall.Stat_t).Uid
}

// TestE2ESecretsNoCoreDump (item 12): started under `ulimit -c unlimited`, every command (run, which
// reads the key; the sandbox, which prints its own) runs with a core size limit of 0, soft and hard, and
// not dumpable (its /proc files belong to root, though it runs as another user). A crash with
// GOTRACEBACK=crash (SIGABRT), even after the limit was raised again from outside, writes no core file.
func TestE2ESecretsNoCoreDump(t *testing.T) {
	t.Parallel()
	pattern, err := os.ReadFile("/proc/sys/kernel/core_pattern")
	require.NoError(t, err)
	corePattern := strings.TrimSpace(string(pattern))
	sb := startSandbox(t, sandbox.Config{Latency: 300 * time.Millisecond})
	j := newJob(t, 200)

	commands := map[string][]string{
		"run":     j.args(sb, "--workers", "1"),
		"sandbox": {"sandbox", "--addr", "127.0.0.1:0"},
	}
	for name, args := range commands {
		t.Run(name, func(t *testing.T) {
			cwd := t.TempDir()
			cmd := command(append(keyEnv(sb), "GOTRACEBACK=crash"), append([]string{"-c", `ulimit -c unlimited && exec "$0" "$@"`, binary}, args...)...)
			cmd.Path, cmd.Args[0], cmd.Dir = "/bin/sh", "sh", cwd
			var stdout syncBuffer
			cmd.Stdout = &stdout
			sent := sb.Server.Stats().Requests
			p := startCmd(t, cmd)
			pid := cmd.Process.Pid
			p.waitFor(t, func() bool { // exec'd and running: the sandbox printed its URL, the run sent a row
				if name == "sandbox" {
					return strings.Contains(stdout.String(), "URL: ")
				}
				return sb.Server.Stats().Requests > sent
			})

			soft, hard := secretsCoreSize(t, pid)
			assert.Equal(t, "0", soft, "core file size limit (soft)")
			assert.Equal(t, "0", hard, "core file size limit (hard)")

			// Raised again from outside (root may), the limit would let a core through: being not
			// dumpable still stops it.
			if err := unix.Prlimit(pid, unix.RLIMIT_CORE, &unix.Rlimit{Cur: unix.RLIM_INFINITY, Max: unix.RLIM_INFINITY}, nil); err != nil {
				t.Logf("cannot raise the core limit of %d again (%v): only the limit stops a core here", pid, err)
			}
			p.signal(t, syscall.SIGABRT)
			assert.Equal(t, -1, p.exitCode(), "killed by SIGABRT")
			assert.Contains(t, p.stderr.String(), "SIGABRT", "GOTRACEBACK=crash saw the signal")
			if strings.HasPrefix(corePattern, "|") || strings.HasPrefix(corePattern, "/") {
				t.Logf("core_pattern is %q: a core would not be written in the working directory", corePattern)
				return
			}
			entries, err := os.ReadDir(cwd)
			require.NoError(t, err)
			for _, e := range entries {
				assert.False(t, strings.HasPrefix(e.Name(), "core"), "a core dump was written: %s", e.Name())
			}
		})
	}

	// Not dumpable: its /proc/<pid> files belong to root although it runs as another user (nobody when
	// this test is root, else the test's own user).
	t.Run("not dumpable", func(t *testing.T) {
		uid := os.Getuid()
		cmd := command(nil, "sandbox", "--addr", "127.0.0.1:0")
		if uid == 0 {
			uid = 65534
			dir, err := os.MkdirTemp("", "zentra-import-nobody") // t.TempDir's parent is 0700: nobody could not reach it
			require.NoError(t, err)
			t.Cleanup(func() { _ = os.RemoveAll(dir) })
			require.NoError(t, os.Chmod(dir, 0o755))
			bin := filepath.Join(dir, "zentra-import")
			secretsCopy(t, binary, bin)
			cmd = exec.Command(bin, "sandbox", "--addr", "127.0.0.1:0")
			cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "HOME=/"}
			cmd.Dir = dir
			cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: 65534, Gid: 65534}}
		}
		var stdout syncBuffer
		cmd.Stdout = &stdout
		p := startCmd(t, cmd)
		p.waitFor(t, func() bool { return strings.Contains(stdout.String(), "URL: ") })
		require.NotZero(t, uid)
		assert.Equal(t, uint32(0), secretsOwner(t, cmd.Process.Pid), "/proc/%d/status of a process of uid %d", cmd.Process.Pid, uid)
		p.signal(t, syscall.SIGTERM)
		p.exitCode()
	})
}

func secretsCopy(t *testing.T, from, to string) {
	t.Helper()
	src, err := os.Open(from)
	require.NoError(t, err)
	defer src.Close()
	dst, err := os.OpenFile(to, os.O_CREATE|os.O_WRONLY|os.O_EXCL, 0o755)
	require.NoError(t, err)
	_, err = io.Copy(dst, src)
	require.NoError(t, err)
	require.NoError(t, dst.Close())
}

// secretsEcho is an API that echoes the Authorization header it got, upper-cased and re-spaced, in every
// text of its error answers: the message, the code and the field. Rows whose reference ends in 3 or 6 get
// 422, those ending in 7 get 500 every time; the others are created. It counts the requests.
type secretsEcho struct {
	key      string
	fatal    bool // answer every request 401 instead
	requests atomic.Int64
	ids      atomic.Int64
}

func (s *secretsEcho) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.requests.Add(1)
	var body struct {
		Ref string `json:"external_reference"`
	}
	_ = json.NewDecoder(r.Body).Decode(&body)
	auth := r.Header.Get("Authorization")
	if auth != "Bearer "+s.key {
		w.WriteHeader(http.StatusBadRequest) // the run must send the key it was given
		return
	}
	up := strings.ToUpper(auth)
	respaced := strings.Join(strings.Split(up, ""), " ")
	wrapped := up[:len(up)/2] + "\r\n  " + up[len(up)/2:]
	status := http.StatusCreated
	switch {
	case s.fatal:
		status = http.StatusUnauthorized
	case strings.HasSuffix(body.Ref, "3"), strings.HasSuffix(body.Ref, "6"):
		status = http.StatusUnprocessableEntity
	case strings.HasSuffix(body.Ref, "7"):
		status = http.StatusInternalServerError
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	if status == http.StatusCreated {
		fmt.Fprintf(w, `{"status":"success","data":{"id":"cus_echo%d"}}`, s.ids.Add(1))
		return
	}
	msg, _ := json.Marshal("the header " + respaced + " is not valid here; you sent " + wrapped)
	code, _ := json.Marshal("E_" + up)
	fmt.Fprintf(w, `{"success":false,"error":{"code":%s,"field":%s,"message":%s}}`, code, code, msg)
}

// TestE2ESecretsEchoedKeyIsRedacted (item 13): an API that echoes the Authorization header upper-cased
// and re-spaced in its 422, 500 and 401 answers: neither stderr (text or JSON logs) nor results.csv,
// rejects.csv, summary.json or the journal holds the key in any case or spacing, or part of it, and no
// redaction is doubled ("[redacted]]"). For a Zentra key and for a key of another shape.
func TestE2ESecretsEchoedKeyIsRedacted(t *testing.T) {
	t.Parallel()
	keys := map[string]string{"zentra key": "sk_sandbox_e2eEchoQ7fT2xLm9PzR4vWc8NbK", "other key": "gateway-token-e2eEcho7Hq2Zp9XkR4mWv8s"}
	for kind, key := range keys {
		for _, format := range []string{"text", "json"} {
			t.Run(kind+" "+format, func(t *testing.T) {
				t.Parallel()
				echo := &secretsEcho{key: key}
				srv := httptest.NewServer(echo)
				defer srv.Close()
				j := newJob(t, 30)
				args := []string{"run", "--api-url", srv.URL, "--mapping", j.mapping, "--out", j.out, "--log-format", format,
					"--workers", "1", "--max-attempts", "2", "--rate", "1000/s", j.input}
				r := run(t, []string{"ZENTRA_SECRET_KEY=" + key}, args...)
				require.Equal(t, 1, r.code, r.stderr)
				if format == "json" {
					requireJSONLines(t, r.stderr)
				}
				lines := j.results(t)
				require.Len(t, lines, 30)
				statuses := map[string]int{}
				for _, l := range lines {
					statuses[l.Status]++
				}
				assert.Equal(t, map[string]int{"created": 21, "rejected": 6, "failed": 3}, statuses)
				secretsNoKey(t, "stderr", key, r.stderr)
				assert.NotContains(t, r.stderr, "[redacted]]")
				for _, name := range []string{"results.csv", "rejects.csv", "summary.json", "checkpoint"} {
					b, err := os.ReadFile(filepath.Join(j.out, name))
					require.NoError(t, err)
					secretsNoKey(t, name, key, string(b))
					assert.NotContains(t, string(b), "[redacted]]", name)
					if name != "checkpoint" && name != "summary.json" {
						assert.Contains(t, string(b), "[redacted]", "%s keeps the API's message, without the key", name)
					}
				}
			})
		}
		t.Run(kind+" fatal", func(t *testing.T) {
			t.Parallel()
			echo := &secretsEcho{key: key, fatal: true}
			srv := httptest.NewServer(echo)
			defer srv.Close()
			j := newJob(t, 5)
			r := run(t, []string{"ZENTRA_SECRET_KEY=" + key}, "run", "--api-url", srv.URL, "--mapping", j.mapping, "--out", j.out, "--workers", "1", j.input)
			require.Equal(t, 3, r.code, r.stderr)
			assert.Contains(t, r.stderr, "401")
			secretsNoKey(t, "stderr", key, r.stderr)
			assert.NotContains(t, r.stderr, "[redacted]]")
			b, err := os.ReadFile(filepath.Join(j.out, "summary.json"))
			require.NoError(t, err)
			assert.Contains(t, string(b), "[redacted]", "the summary says why the run stopped, without the key")
			secretsNoKey(t, "summary.json", key, string(b))
			assert.NotContains(t, string(b), "[redacted]]")
			assert.Equal(t, int64(1), echo.requests.Load(), "one request, then the run stops")
		})
	}
}

// TestKeyWhereAPathOrURLBelongsIsRefused: a key given where a path, a URL or another value belongs, on
// the command line or in a variable, is refused with exit 2 and a message naming the place, never the
// key, in text and in JSON logs; nothing is created.
func TestKeyWhereAPathOrURLBelongsIsRefused(t *testing.T) {
	const part = "Hq7Zp2Xk9Rv4Wm8s"
	live, sandboxKey := "sk_live_"+part, "sk_sandbox_"+part
	odd := "gateway-token-" + part // a key of another shape, allowed with an explicit --api-url
	dir := t.TempDir()
	input := writeFile(t, dir, "in.csv", "id,email\n1,a@example.com\n")
	oddFile := writeFile(t, dir, "odd.key", odd+"\n")
	namedByItself := writeFile(t, dir, strings.ToUpper(odd), odd+"\n")
	require.NoError(t, os.Chmod(namedByItself, 0o644)) // its warning would quote the path
	out := filepath.Join(dir, "job")
	api := []string{"--api-url", "http://127.0.0.1:9"}
	cases := []struct {
		name string
		vars map[string]string
		args []string
		want string
	}{
		{name: "the key as --secret-key-file", vars: map[string]string{},
			args: []string{"run", "--secret-key-file", live, input}, want: "--secret-key-file is given a secret key, not the path of a file holding one"},
		{name: "the key as --secret-key-file=", args: []string{"run", "--secret-key-file=" + strings.ToUpper(live), input},
			want: "--secret-key-file is given a secret key, not the path of a file holding one"},
		{name: "the key as ZENTRA_SECRET_KEY_FILE", vars: map[string]string{"ZENTRA_SECRET_KEY_FILE": live},
			args: []string{"run", input}, want: "ZENTRA_SECRET_KEY_FILE is given a secret key, not the path of a file holding one"},
		{name: "the key as the API URL's user", args: []string{"run", "--api-url", "http://" + live + "@127.0.0.1:8080", input},
			want: "--api-url holds a secret key: the key never goes in the URL"},
		{name: "the key as the API URL's password, bad port", args: []string{"run", "--api-url", "http://x:" + sandboxKey + "@127.0.0.1:99999", input},
			want: "--api-url holds a secret key"},
		{name: "the key in ZENTRA_API_URL", vars: map[string]string{"ZENTRA_SECRET_KEY": sandboxKey, "ZENTRA_API_URL": "http://" + sandboxKey + ":@127.0.0.1:1"},
			args: []string{"run", input}, want: "ZENTRA_API_URL holds a secret key"},
		{name: "the key as --mapping", args: []string{"run", "--mapping", live, input}, want: "--mapping is given a secret key, not the path of a mapping file"},
		{name: "the key as --out", args: []string{"validate", "--out", "/tmp/" + live, input}, want: "--out is given a secret key, not the path of a job directory"},
		{name: "the key as the input file", args: []string{"run", "--sandbox", live}, want: "the input file argument is given a secret key, not the path of a CSV file"},
		{name: "the key as validate's input", args: []string{"validate", "./" + live + ".csv"}, want: "the input file argument is given a secret key"},
		{name: "the key as mapping's input", args: []string{"mapping", live}, want: "the input file argument is given a secret key"},
		{name: "the key as a count (cobra would quote it)", args: []string{"run", "--workers", live, input}, want: "--workers is given a secret key"},
		{name: "the key in ZENTRA_WORKERS", vars: map[string]string{"ZENTRA_WORKERS": live}, args: []string{"run", "--sandbox", input},
			want: "ZENTRA_WORKERS is given a secret key"},
		{name: "the key as a command", args: []string{live}, want: "an argument is given a secret key"},
		{name: "the key as the sandbox's address", args: []string{"sandbox", "--addr", live}, want: "--addr is given a secret key, not an address to listen on"},
		{name: "ZENTRA_SECRET_KEY's key, of another shape, as --out", vars: map[string]string{"ZENTRA_SECRET_KEY": odd},
			args: append(append([]string{"run"}, api...), "--out", filepath.Join(dir, strings.ToUpper(odd)), input), want: "--out is given a secret key"},
		{name: "ZENTRA_SECRET_KEY's key as the input file", vars: map[string]string{"ZENTRA_SECRET_KEY": odd},
			args: []string{"validate", odd}, want: "the input file argument is given a secret key"},
		{name: "a key file named by its own key", args: append(append([]string{"run", "--secret-key-file", namedByItself}, api...), input),
			want: "the path given to --secret-key-file holds the key itself"},
		{name: "the key file's key as --mapping", args: append(append([]string{"run", "--secret-key-file", oddFile}, api...), "--mapping", "/srv/"+odd+".yaml", input),
			want: "--mapping is given a secret key"},
		{name: "the key file's key as --rate (whose error would quote it)", args: append(append([]string{"run", "--secret-key-file", oddFile}, api...), "--rate", odd, input),
			want: "--rate is given a secret key"},
		{name: "the key file's key in ZENTRA_RATE", vars: map[string]string{"ZENTRA_RATE": odd, "ZENTRA_SECRET_KEY_FILE": oddFile},
			args: append(append([]string{"run"}, api...), input), want: "ZENTRA_RATE is given a secret key"},
	}
	for _, tc := range cases {
		for _, format := range []string{"text", "json"} {
			t.Run(tc.name+" "+format, func(t *testing.T) {
				args := tc.args
				if format == "json" {
					args = append([]string{args[0], "--log-format", "json"}, args[1:]...)
					if args[0] != "run" { // only run has --log-format; its variable is read for run only
						t.Skip("no --log-format on " + args[0])
					}
				}
				code, stderr := runInProcess(t, tc.vars, args...)
				assert.Equal(t, exitUsage, code, stderr)
				assert.Contains(t, stderr, tc.want)
				assert.NotContains(t, strings.ToLower(stderr), strings.ToLower(part), "the key is never shown")
				if format == "json" {
					recs := requireJSONLines(t, stderr)
					require.Len(t, recs, 1)
					assert.NotEmpty(t, recs[0]["hint"])
				} else {
					assert.Contains(t, stderr, "\nhint: ")
				}
				_, err := os.Stat(out)
				assert.True(t, os.IsNotExist(err), "nothing was created")
			})
		}
	}
}

// TestAPIURLWithCredentialsNeverShowsThem: a user name alone (which url.Redacted keeps), or a password, in
// the API URL is refused without being quoted.
func TestAPIURLWithCredentialsNeverShowsThem(t *testing.T) {
	input := writeFile(t, t.TempDir(), "in.csv", "id,email\n1,a@example.com\n")
	for _, u := range []string{"http://ada.lovelace@127.0.0.1:8080", "https://ada.lovelace:pw@api.usezentra.com", "http://ada.lovelace@[::1"} {
		code, stderr := runInProcess(t, map[string]string{"ZENTRA_SECRET_KEY": "sk_sandbox_x"}, "run", "--api-url", u, input)
		assert.Equal(t, exitUsage, code, stderr)
		assert.Contains(t, stderr, "carries credentials before an @")
		assert.NotContains(t, stderr, "ada.lovelace")
	}
}

// TestKeyInAMappingFileIsNotQuoted: whatever quotes a key in an error (here the mapping file, with the key
// pasted in), the error as printed does not show it.
func TestKeyInAMappingFileIsNotQuoted(t *testing.T) {
	const key = "custom-gateway-token-Hq7Zp2Xk9Rv4Wm8s"
	dir := t.TempDir()
	input := writeFile(t, dir, "in.csv", "id,email\n1,a@example.com\n")
	m := writeFile(t, dir, "m.yaml", "fields:\n  external_reference: {column: id}\n  email: {column: "+key+"}\n")
	code, stderr := runInProcess(t, map[string]string{"ZENTRA_SECRET_KEY": key}, "run", "--api-url", "http://127.0.0.1:9", "--mapping", m, "--out", filepath.Join(dir, "job"), input)
	assert.Equal(t, exitUsage, code, stderr)
	assert.NotContains(t, stderr, "Hq7Zp2Xk9Rv4Wm8s")
	assert.Contains(t, stderr, "[redacted]")
}

// TestSandboxKeyFlagIsNotQuoted: the sandbox's --key (the one flag that takes a key) given a live key is
// refused without quoting it, with a hint about the flags rather than the address.
func TestSandboxKeyFlagIsNotQuoted(t *testing.T) {
	code, stderr := runInProcess(t, nil, "sandbox", "--key", "sk_live_Hq7Zp2Xk9Rv4Wm8s", "--addr", "127.0.0.1:0")
	assert.Equal(t, exitUsage, code, stderr)
	assert.Contains(t, stderr, "a live key (sk_live_…) cannot be the sandbox's key")
	assert.Contains(t, stderr, "hint: see `zentra-import sandbox -h`")
	assert.NotContains(t, stderr, "Hq7Zp2Xk9Rv4Wm8s")
}
