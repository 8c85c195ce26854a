package ledger

import (
	"bufio"
	"context"
	"database/sql"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// TestMain lets the test binary act as a child process: a batch writer to be killed, a concurrent
// writer or reader, a lock holder, or the builder of a benchmark's ledger.
func TestMain(m *testing.M) {
	mode := os.Getenv(childEnv)
	if mode == "" {
		os.Exit(m.Run())
	}
	child, ok := children[mode]
	if !ok {
		fmt.Fprintln(os.Stderr, "unknown child mode", mode)
		os.Exit(2)
	}
	if err := child(); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	os.Exit(0)
}

const childEnv = "ZI_LEDGER_CHILD"

// children are the modes the test binary runs in as a child; each reads its arguments from the
// environment (ZI_LEDGER_PATH and its own).
var children = map[string]func() error{}

// childLedger opens the ledger at ZI_LEDGER_PATH for a child, runs fn and closes it.
func childLedger(opts Options, fn func(ctx context.Context, l *Ledger) error) error {
	l, err := Open(os.Getenv("ZI_LEDGER_PATH"), opts)
	if err != nil {
		return err
	}
	defer l.Close()
	return fn(context.Background(), l)
}

// startChild runs the test binary as a child in mode, with env added; its stdout is read line by line.
type childProc struct {
	cmd    *exec.Cmd
	lines  chan string
	stdin  io.WriteCloser
	stderr *strings.Builder
}

func startChild(t testing.TB, mode string, env ...string) *childProc {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(append(os.Environ(), childEnv+"="+mode), env...)
	p := &childProc{cmd: cmd, lines: make(chan string, 1024), stderr: &strings.Builder{}}
	cmd.Stderr = p.stderr
	out, err := cmd.StdoutPipe()
	require.NoError(t, err)
	p.stdin, err = cmd.StdinPipe()
	require.NoError(t, err)
	require.NoError(t, cmd.Start())
	go func() {
		defer close(p.lines)
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			p.lines <- sc.Text()
		}
	}()
	return p
}

// expect waits for the child's next line and requires it to be want.
func (p *childProc) expect(t testing.TB, want string) {
	t.Helper()
	select {
	case line, ok := <-p.lines:
		require.True(t, ok, "the child ended before saying %q: %s", want, p.stderr)
		require.Equal(t, want, line, "child stderr: %s", p.stderr)
	case <-time.After(60 * time.Second):
		t.Fatalf("the child did not say %q in time: %s", want, p.stderr)
	}
}

// wait closes the child's stdin (its cue to finish) and requires a clean exit.
func (p *childProc) wait(t testing.TB) {
	t.Helper()
	p.stdin.Close()
	for range p.lines {
	}
	require.NoError(t, p.cmd.Wait(), "child stderr: %s", p.stderr)
}

const testAPI = "https://sandbox.api.usezentra.com"

var t0 = time.Date(2026, 12, 1, 2, 0, 0, 0, time.UTC)

// openT opens (or makes) a ledger for a test and closes it at the end.
func openT(t testing.TB, path string, opts Options) *Ledger {
	t.Helper()
	l, err := Open(path, opts)
	require.NoError(t, err)
	t.Cleanup(func() { l.Close() })
	return l
}

func newLedger(t testing.TB) *Ledger {
	return openT(t, filepath.Join(t.TempDir(), "ledger.db"), Options{})
}

// body is a customer's request body as the mapper writes it.
func body(ref, email string) []byte {
	return fmt.Appendf(nil, `{"email":%q,"external_reference":%q,"first_name":"Ada","last_name":"Lovelace","metadata":{"source":"crm","tier":"gold"},"phone":"+447700900123"}`, email, ref)
}

func digestT(t testing.TB, l *Ledger, mapping string, b []byte) *Digest {
	t.Helper()
	d, err := l.Hasher().Digest(mapping, b)
	require.NoError(t, err)
	return d
}

func recordT(t testing.TB, l *Ledger, b Batch) []Conflict {
	t.Helper()
	c, err := l.Record(context.Background(), b)
	require.NoError(t, err)
	return c
}

func lookupOne(t testing.TB, l *Ledger, api, ref string) Known {
	t.Helper()
	ks, err := l.Lookup(context.Background(), api, []string{ref})
	require.NoError(t, err)
	return ks[0]
}

// rawDB opens the ledger's file directly, as another program (or a sqlite3 shell) would.
func rawDB(t testing.TB, path string) *sql.DB {
	t.Helper()
	db, err := sql.Open("sqlite", "file:"+path+"?_pragma=busy_timeout(5000)")
	require.NoError(t, err)
	t.Cleanup(func() { db.Close() })
	return db
}

func requireKind(t testing.TB, err error, kind Kind) *Error {
	t.Helper()
	require.Error(t, err)
	e, ok := err.(*Error)
	require.True(t, ok, "want an *Error of kind %v, got %T: %v", kind, err, err)
	require.Equal(t, kind, e.Kind, "error: %v", err)
	require.NotEmpty(t, e.Hint())
	return e
}
