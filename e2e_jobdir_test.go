//go:build unix

package main

// End-to-end tests of issue 9's items on inputs that are not files (3), a full disk (7), a job directory
// removed mid-run (8), a journal whose start is zeroed (9) and lock files that prove nothing (14).

import (
	"bytes"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/zentra/zentra-import/sandbox"
)

// jobdirRunWithin runs the binary like run, but fails the test (killing the process) when it has not
// exited within limit: a hang must fail, not block the test suite. The limit is a hang detector, far
// beyond what the command needs on a loaded machine, not a speed assertion.
func jobdirRunWithin(t *testing.T, limit time.Duration, env []string, args ...string) result {
	t.Helper()
	p := start(t, env, args...)
	select {
	case <-p.done:
	case <-time.After(limit):
		_ = p.cmd.Process.Kill()
		<-p.done
		t.Fatalf("%v did not exit within %s (it hangs)\n%s", args, limit, p.stderr.String())
	}
	return result{code: p.cmd.ProcessState.ExitCode(), stderr: p.stderr.String()}
}

// TestInputThatIsNotAFileIsRefusedAtOnce: run, validate and mapping refuse a named pipe (with or without a
// writer), a character device and a socket before opening it, naming what it is and why a file is needed
// (QA: a FIFO without a writer hung in open, and SIGTERM did not stop it; /dev/zero was "empty"). A
// symbolic link to a regular file is still read.
func TestInputThatIsNotAFileIsRefusedAtOnce(t *testing.T) {
	t.Parallel()
	sb := startSandbox(t, sandbox.Config{})
	j := newJob(t, 3)

	lonely := filepath.Join(j.dir, "lonely.csv")
	require.NoError(t, syscall.Mkfifo(lonely, 0o600))
	written := filepath.Join(j.dir, "written.csv")
	require.NoError(t, syscall.Mkfifo(written, 0o600))
	// The test holds the pipe open for writing (O_RDWR does not wait for a reader), with a whole CSV in it.
	w, err := os.OpenFile(written, os.O_RDWR, 0)
	require.NoError(t, err)
	t.Cleanup(func() { _ = w.Close() })
	data, err := os.ReadFile(j.input)
	require.NoError(t, err)
	_, err = w.Write(data)
	require.NoError(t, err)

	sock := filepath.Join(j.dir, "sock.csv")
	l, err := net.Listen("unix", sock)
	require.NoError(t, err)
	t.Cleanup(func() { _ = l.Close() })

	inputs := []struct{ name, path, what string }{
		{"a named pipe without a writer", lonely, "is a named pipe (FIFO), not a regular file"},
		{"a named pipe with a writer", written, "is a named pipe (FIFO), not a regular file"},
		{"/dev/zero", "/dev/zero", "is a character device, not a regular file"},
		{"a socket", sock, "is a socket, not a regular file"},
	}
	for _, in := range inputs {
		for _, cmd := range [][]string{
			{"run", "--api-url", sb.URL, "--mapping", j.mapping, "--out", j.out},
			{"run", "--api-url", sb.URL, "--out", j.out}, // the mapping inferred from the input
			{"validate", "--mapping", j.mapping, "--out", j.out},
			{"mapping"},
		} {
			r := jobdirRunWithin(t, time.Minute, keyEnv(sb), append(cmd, in.path)...)
			assert.Equal(t, 2, r.code, "%s %s: %s", cmd[0], in.name, r.stderr)
			assert.Contains(t, r.stderr, "zentra-import: "+in.path+": "+in.what, "%s %s", cmd[0], in.name)
			assert.Contains(t, r.stderr, "hint: save it to a file first: the input is read more than once", "%s %s", cmd[0], in.name)
			assert.NotContains(t, r.stderr, "empty")
		}
	}
	assert.NoDirExists(t, j.out, "nothing written")
	assert.Zero(t, sb.Server.Stats().Requests, "nothing sent")

	// A symbolic link to a regular file is a regular file.
	link := filepath.Join(j.dir, "link.csv")
	require.NoError(t, os.Symlink(j.input, link))
	r := jobdirRunWithin(t, 2*time.Minute, keyEnv(sb), "validate", "--mapping", j.mapping, "--out", j.out, link)
	assert.Equal(t, 0, r.code, r.stderr)
	r = jobdirRunWithin(t, 2*time.Minute, keyEnv(sb), "run", "--api-url", sb.URL, "--mapping", j.mapping, "--out", filepath.Join(j.dir, "linked"), link)
	assert.Equal(t, 0, r.code, r.stderr)
}

// jobdirFiles reads every file in dir (not below it), to show that nothing there changed.
func jobdirFiles(t *testing.T, dir string) map[string]string {
	t.Helper()
	entries, err := os.ReadDir(dir)
	require.NoError(t, err)
	m := map[string]string{}
	for _, e := range entries {
		b, err := os.ReadFile(filepath.Join(dir, e.Name()))
		require.NoError(t, err)
		m[e.Name()] = string(b)
	}
	return m
}

// TestALockFileOfTheUsersProvesNothing: a folder holding a file named lock (empty, or digits, as earlier
// versions wrote them) beside the user's own rejects.csv and mapping.inferred.yaml is not a job directory:
// run and validate refuse it with exit 2 and leave every file as it was (QA: both were overwritten, exit 0).
func TestALockFileOfTheUsersProvesNothing(t *testing.T) {
	t.Parallel()
	sb := startSandbox(t, sandbox.Config{})
	j := newJob(t, 5)
	for _, lock := range []string{"", "4242\n"} {
		mine := filepath.Join(t.TempDir(), "mine")
		require.NoError(t, os.Mkdir(mine, 0o700))
		for name, content := range map[string]string{"lock": lock, "rejects.csv": "Customer Id,E-mail,error\n100003,fixed@example.ng,\n",
			"mapping.inferred.yaml": "# my own mapping, edited by hand\nfields:\n  external_reference: {column: Customer Id}\n"} {
			require.NoError(t, os.WriteFile(filepath.Join(mine, name), []byte(content), 0o600))
		}
		before := jobdirFiles(t, mine)
		for _, args := range [][]string{
			{"run", "--api-url", sb.URL, "--mapping", j.mapping, "--out", mine, j.input},
			{"run", "--api-url", sb.URL, "--out", mine, j.input}, // would save the inferred mapping there
			{"validate", "--mapping", j.mapping, "--out", mine, j.input},
			{"validate", "--out", mine, j.input},
		} {
			r := run(t, keyEnv(sb), args...)
			assert.Equal(t, 2, r.code, "%q %v: %s", lock, args, r.stderr)
			assert.Contains(t, r.stderr, "holds files that are not the job's: lock (an empty or pid-only lock file, as earlier versions left, proves nothing without a checkpoint beside it)")
			assert.Contains(t, r.stderr, "an earlier version of zentra-import left without a checkpoint")
			assert.Equal(t, before, jobdirFiles(t, mine), "%q %v: the user's files are byte for byte as they were", lock, args)
		}
	}
	assert.Zero(t, sb.Server.Stats().Requests, "nothing sent")

	// A directory this version made is proven by its lock file, journal or not: validate's, then a run in it.
	out := filepath.Join(t.TempDir(), "job")
	r := run(t, nil, "validate", "--mapping", j.mapping, "--out", out, j.input)
	require.Equal(t, 0, r.code, r.stderr)
	lock, err := os.ReadFile(filepath.Join(out, "lock"))
	require.NoError(t, err)
	assert.Equal(t, "zentra-import lock v1\n", string(lock), "a released lock file holds the marker")
	r = run(t, keyEnv(sb), "run", "--api-url", sb.URL, "--mapping", j.mapping, "--out", out, j.input)
	require.Equal(t, 0, r.code, r.stderr)
	j.out = out
	requireExactlyOnce(t, j, sb)
}

// TestJournalZeroedAtItsStart: a job whose journal lost its first 4 KiB (a block that reads back as
// zeros) is refused by run with exit 2, saying the journal is damaged at its start (not "not a journal")
// and how to start over; run --restart then starts it over in the same directory, which its lock file
// proves the job's, keeping the damaged journal as checkpoint.damaged: every row once, nothing created
// twice (QA: both were refused with "not a zentra-import journal").
func TestJournalZeroedAtItsStart(t *testing.T) {
	t.Parallel()
	for _, rows := range []int{150, 5} { // a journal longer than the damage, and one the damage covers
		t.Run(fmt.Sprint(rows, " rows"), func(t *testing.T) {
			t.Parallel()
			sb := startSandbox(t, sandbox.Config{})
			j := newJob(t, rows)
			args := j.args(sb, "--rate", "1000/s")
			r := run(t, keyEnv(sb), args...)
			require.Equal(t, 0, r.code, r.stderr)
			path := filepath.Join(j.out, "checkpoint")
			journal, err := os.ReadFile(path)
			require.NoError(t, err)
			if rows > 100 {
				require.Greater(t, len(journal), 4096, "records follow the damage")
			}
			copy(journal, make([]byte, 4096))
			require.NoError(t, os.WriteFile(path, journal, 0o600))

			requests := sb.Server.Stats().Requests
			r = run(t, keyEnv(sb), args...)
			assert.Equal(t, 2, r.code, r.stderr)
			assert.Contains(t, r.stderr, "zentra-import: checkpoint "+path+": the journal is damaged at its start (its first ")
			assert.NotContains(t, r.stderr, "not a zentra-import")
			assert.Contains(t, r.stderr, "hint: run the same command with --restart to start the job over: it keeps the damaged journal as checkpoint.damaged")
			assert.Equal(t, requests, sb.Server.Stats().Requests, "nothing sent")
			after, err := os.ReadFile(path)
			require.NoError(t, err)
			assert.Equal(t, journal, after, "the damaged journal is left as it was")

			r = run(t, keyEnv(sb), j.args(sb, "--rate", "1000/s", "--restart")...)
			require.Equal(t, 0, r.code, r.stderr)
			requireExactlyOnce(t, j, sb)
			kept, err := os.ReadFile(filepath.Join(j.out, "checkpoint.damaged"))
			require.NoError(t, err)
			assert.Equal(t, journal, kept, "the damaged journal is kept for inspection")
			r = run(t, keyEnv(sb), args...)
			require.Equal(t, 0, r.code, "the restarted job is a job like any other: %s", r.stderr)
		})
	}
}

// TestJobDirectoryRemovedMidRun: a job directory removed (rm -rf), or a journal renamed over, while the
// job runs stops the run at the next group commit with exit 3, saying what happened, never that the
// journal is intact (QA: the run went through the whole input into the deleted journal, then exited 3
// with "the journal is intact: run the same command again"). Running the same command again makes the job
// anew: every row once, with the sandbox's ids, nothing created twice.
func TestJobDirectoryRemovedMidRun(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		damage func(t *testing.T, j *job, early []byte)
		says   string
	}{
		{"rm -rf of the job directory", func(t *testing.T, j *job, _ []byte) {
			require.NoError(t, os.RemoveAll(j.out))
		}, "was removed or replaced while the job ran: its journal went with it"},
		{"an older copy renamed over the journal", func(t *testing.T, j *job, early []byte) {
			old := filepath.Join(j.dir, "checkpoint.bak")
			require.NoError(t, os.WriteFile(old, early, 0o600))
			require.NoError(t, os.Rename(old, filepath.Join(j.out, "checkpoint")))
		}, "checkpoint was removed or replaced while the job ran: the outcomes recorded since are not in it"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			sb := startSandbox(t, sandbox.Config{Latency: 5 * time.Millisecond})
			const rows = 300
			j := newJob(t, rows)
			// 40/s: the removal comes at row 40, with seconds of rows left however loaded the machine.
			args := j.args(sb, "--rate", "40/s", "--workers", "2")
			p := start(t, keyEnv(sb), args...)
			p.waitFor(t, func() bool { return sb.Server.Stats().Creates >= 10 })
			early, err := os.ReadFile(filepath.Join(j.out, "checkpoint"))
			require.NoError(t, err)
			p.waitFor(t, func() bool { return sb.Server.Stats().Creates >= 40 })
			tt.damage(t, j, early)
			atRemoval := sb.Server.Stats().Requests
			code := p.exitCode()
			after := sb.Server.Stats().Requests - atRemoval
			assert.Equal(t, 3, code, p.stderr.String())
			// Within one group commit: the requests in flight (2 workers) and the few that pass while the
			// next commit (25 ms) comes, with room for a loaded machine (half a second at 40/s); without the
			// check, the other 260 rows.
			assert.LessOrEqual(t, after, 20, "requests sent after the removal\n%s", p.stderr.String())
			assert.Contains(t, p.stderr.String(), tt.says)
			assert.NotContains(t, p.stderr.String(), "intact")
			assert.Contains(t, p.stderr.String(), "hint: ")
			assert.Contains(t, p.stderr.String(), "Idempotency-Key")

			r := run(t, keyEnv(sb), args...)
			require.Equal(t, 0, r.code, r.stderr)
			requireExactlyOnce(t, j, sb)
		})
	}
}

// jobdirFullDisk runs the same command twice with its job directory on a disk that is full, then not:
// a tmpfs mounted in a mount namespace of its own (unshare; unprivileged where user namespaces are
// allowed, else as root), filled by a file that leaves free KiB; the filler is removed between the runs.
// The job directory is copied out after each run (into out/job1, out/job2), stderr and exit codes too.
// It returns false when no tmpfs could be mounted here.
func jobdirFullDisk(t *testing.T, env []string, free int, out string, args func(jobDir string) []string) bool {
	t.Helper()
	const script = `set -u
mnt=$1 out=$2 free=$3; shift 3
mount -t tmpfs -o size=8m,mode=0700 tmpfs "$mnt" || exit 97
avail=$(df -k --output=avail "$mnt" | tail -n 1)
head -c $(( (avail - free) * 1024 )) /dev/zero > "$mnt/filler"
"$@" 2>"$out/stderr1"; echo $? >"$out/code1"
cp -a "$mnt/job" "$out/job1"
rm "$mnt/filler"
"$@" 2>"$out/stderr2"; echo $? >"$out/code2"
cp -a "$mnt/job" "$out/job2"
`
	mnt := filepath.Join(t.TempDir(), "disk")
	require.NoError(t, os.Mkdir(mnt, 0o700))
	for _, unshare := range [][]string{{"unshare", "--user", "--map-root-user", "--mount"}, {"unshare", "--mount"}} {
		if _, err := exec.LookPath(unshare[0]); err != nil {
			t.Logf("no %s: %v", unshare[0], err)
			return false
		}
		argv := append(append(unshare, "sh", "-c", script, "sh", mnt, out, fmt.Sprint(free), binary), args(filepath.Join(mnt, "job"))...)
		cmd := exec.Command(argv[0], argv[1:]...)
		cmd.Env = command(env).Env
		b, err := cmd.CombinedOutput()
		if err == nil {
			return true
		}
		t.Logf("%v: %v\n%s", unshare, err, b)
	}
	return false
}

// TestFullDisk: a run whose job directory fills up stops with exit 3; its summary counts the outcomes the
// journal holds durably (QA: "0 of 10000 rows done" with 2,513 durable), the error names the job
// directory (not a temporary file), says the disk is full and roughly how much to free, and the same
// command then resumes: the rows done are not sent again, every row ends once, nothing created twice.
//
// The full disk is real: a small tmpfs in a mount namespace of the test's own (see jobdirFullDisk). Where
// none can be mounted, the test still runs the binary against a real write failure of the journal, a
// file size limit (ulimit -f: EFBIG), and checks the counting and the resume, not the disk-full message.
func TestFullDisk(t *testing.T) {
	t.Parallel()
	sb := startSandbox(t, sandbox.Config{})
	const rows = 2000
	j := newJob(t, rows)
	out := t.TempDir()
	args := func(jobDir string) []string {
		return []string{"run", "--api-url", sb.URL, "--mapping", j.mapping, "--out", jobDir, "--rate", "5000/s", j.input}
	}
	var stderr1, stderr2 string
	var code1, code2 int
	jobDir := filepath.Join(out, "job2")
	if jobdirFullDisk(t, keyEnv(sb), 64, out, args) {
		read := func(name string) string {
			b, err := os.ReadFile(filepath.Join(out, name))
			require.NoError(t, err)
			return strings.TrimSpace(string(b))
		}
		stderr1, stderr2 = read("stderr1"), read("stderr2")
		code1, _ = strconv.Atoi(read("code1"))
		code2, _ = strconv.Atoi(read("code2"))
		assert.Contains(t, stderr1, "zentra-import: the disk holding the job directory ")
		assert.Regexp(t, `the disk holding the job directory \S+/disk/job is full \(no space left on device\): \d+ of 2000 rows have a durable outcome in its journal`, stderr1)
		assert.Regexp(t, `hint: free about \d+(\.\d)? (KiB|MiB) there \(`, stderr1)
		assert.Contains(t, stderr1, "then run the same command again to resume")
		assert.NotContains(t, stderr1, "zi-tmp", "no temporary file is named")
	} else {
		t.Log("no tmpfs can be mounted here: the journal's writes fail on a file size limit instead (the disk-full message is not checked)")
		jobDir = filepath.Join(out, "job")
		limited := exec.Command("sh", append([]string{"-c", `ulimit -f 64; exec "$@"`, "sh", binary}, args(jobDir)...)...)
		limited.Env = command(keyEnv(sb)).Env
		var b bytes.Buffer
		limited.Stderr = &b
		err := limited.Run()
		code1, stderr1 = limited.ProcessState.ExitCode(), b.String()
		require.Error(t, err)
		assert.Contains(t, stderr1, "file too large")
		r := run(t, keyEnv(sb), args(jobDir)...)
		code2, stderr2 = r.code, r.stderr
	}

	t.Logf("the run that stopped:\n%s", stderr1)
	assert.Equal(t, 3, code1, stderr1)
	m := regexp.MustCompile(`aborted after \S+; (\d+) of 2000 rows done\n  the job: created (\d+) · existing 0 · failed 0 · rejected 0 · pending (\d+)`).FindStringSubmatch(stderr1)
	require.NotNil(t, m, "the summary of the run that stopped:\n%s", stderr1)
	done, _ := strconv.Atoi(m[1])
	assert.Positive(t, done, "the durable outcomes are counted")
	assert.Equal(t, m[1], m[2])
	assert.Less(t, done, rows)

	require.Equal(t, 0, code2, stderr2)
	// The resumed run found exactly the outcomes the first run's summary counted as durable.
	assert.Contains(t, stderr2, fmt.Sprintf("resumed: %d rows already done", done))
	j.out = jobDir
	requireExactlyOnce(t, j, sb)
}
