package main

// End-to-end tests of an input that changes while a run reads it (issue 9, item 2): a re-upload that
// truncates it, a new file moved over it, a drop still being written, a complete job whose file then
// grows, an export cut short, and a kill during the rebind of a grown job.

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/zentra/zentra-import/jobdir"
	"github.com/zentra/zentra-import/sandbox"
)

// changeCSV writes rows as the input's CSV, with Last Name as the last column (a row cut at the end of
// the file is then cut inside a value, not missing columns), and a final line break unless cut.
func changeCSV(t *testing.T, rows [][]string) []byte {
	t.Helper()
	var b bytes.Buffer
	w := csv.NewWriter(&b)
	require.NoError(t, w.Write([]string{"Customer Id", "First Name", "E-mail", "Mobile", "Country", "Last Name"}))
	for _, r := range rows {
		require.NoError(t, w.Write([]string{r[0], r[1], r[3], r[4], r[5], r[2]}))
	}
	w.Flush()
	return b.Bytes()
}

// changeRows makes n more rows like newJob's, with ids from first on (so that they name other customers).
func changeRows(first, n int) [][]string {
	var rows [][]string
	for i := range n {
		id := first + i
		rows = append(rows, []string{fmt.Sprintf("%06d", id), firstNames[i%len(firstNames)], lastNames[(i+3)%len(lastNames)],
			fmt.Sprintf("late%d@example.ng", id), fmt.Sprintf("+234 803 %03d %04d", id%1000, id%10000), "NG"})
	}
	return rows
}

// changeJob is newJob's job with the input rewritten by changeCSV.
func changeJob(t *testing.T, n int) (*job, []byte) {
	t.Helper()
	j := newJob(t, n)
	b := changeCSV(t, j.rows)
	require.NoError(t, os.WriteFile(j.input, b, 0o600))
	return j, b
}

// changeSummary reads the job's summary.json.
func changeSummary(t *testing.T, j *job) *jobdir.Summary {
	t.Helper()
	s, err := jobdir.ReadSummary(j.out)
	require.NoError(t, err)
	return s
}

// changeRefs is the set of references the sandbox holds customers for.
func changeRefs(sb *sandbox.Running) map[string]bool {
	refs := map[string]bool{}
	for _, c := range sb.Server.Customers() {
		refs[c.ExternalReference] = true
	}
	return refs
}

// changeLastName asks the sandbox (its lookup extension) for the last_name a customer was created with.
func changeLastName(t *testing.T, sb *sandbox.Running, ref string) string {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, sb.URL+"/api/v1/identity/customers?external_reference="+url.QueryEscape(ref), nil)
	require.NoError(t, err)
	req.Header.Set("Authorization", "Bearer "+sb.Key)
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, resp.StatusCode, string(body))
	var got struct {
		Data struct {
			LastName string `json:"last_name"`
		} `json:"data"`
	}
	require.NoError(t, json.Unmarshal(body, &got), string(body))
	return got.Data.LastName
}

// changeMidRun starts a slow run of a job of n rows, lets change alter the input once 40 rows are
// created, and checks that the run stops, saying so, without marking the job complete and without a
// customer from bytes that were not the job's; it returns the job and its original bytes.
func changeMidRun(t *testing.T, n int, rate, cause string, change func(j *job, original []byte)) (*job, *sandbox.Running, []byte) {
	t.Helper()
	sb := startSandbox(t, sandbox.Config{Latency: 2 * time.Millisecond})
	j, original := changeJob(t, n)
	args := j.args(sb, "--rate", rate, "--workers", "4")
	p := start(t, keyEnv(sb), args...)
	p.waitFor(t, func() bool { return sb.Server.Stats().Creates >= 40 })
	change(j, original)
	code := p.exitCode()
	stderr := p.stderr.String()
	assert.Equal(t, 3, code, "a changed input stops the run, resumable: %s", stderr)
	assert.Contains(t, stderr, "changed while it was read ("+cause)
	assert.Contains(t, stderr, "hint: nothing is marked complete")
	assert.Contains(t, stderr, "run the same command again")
	s := changeSummary(t, j)
	assert.False(t, s.Complete, "not complete")
	assert.Equal(t, 3, s.ExitCode)
	assert.Less(t, len(sb.Server.Customers()), n, "stopped before the end")
	for ref := range changeRefs(sb) {
		assert.True(t, strings.HasPrefix(ref, "crm-1"), "customer %s comes from bytes that were not the job's", ref)
	}
	return j, sb, original
}

// changeNewVersion is another version of the file, as a partner's re-upload: other customers.
func changeNewVersion(t *testing.T, n int) []byte {
	return changeCSV(t, changeRows(900001, n))
}

// changeFinishes puts the job's original bytes back and runs the same command: it finishes the job.
func changeFinishes(t *testing.T, j *job, sb *sandbox.Running, original []byte, extra ...string) {
	t.Helper()
	require.NoError(t, os.WriteFile(j.input, original, 0o600))
	r := run(t, keyEnv(sb), j.args(sb, append([]string{"--rate", "1000/s"}, extra...)...)...)
	require.Equal(t, 0, r.code, r.stderr)
	assert.NotContains(t, r.stderr, "already complete")
	assert.Contains(t, r.stderr, "resuming")
	requireExactlyOnce(t, j, sb)
	assert.True(t, changeSummary(t, j).Complete)
}

// TestRunStopsWhenTheInputShrinks: the file is truncated mid-run and a new version written into it (a
// re-upload): the run stops at once, exit 3, naming the change; no customer of the new version is
// created (the run never reads bytes that are not the job's); with the new version still there the same
// command is refused (a shorter input); with the original back, it finishes the job, --retry-failed or
// not.
func TestRunStopsWhenTheInputShrinks(t *testing.T) {
	t.Parallel()
	for _, retry := range []bool{false, true} {
		t.Run(fmt.Sprintf("retry-failed=%v", retry), func(t *testing.T) {
			t.Parallel()
			var partial []byte
			j, sb, original := changeMidRun(t, 400, "50/s", "it shrank from ", func(j *job, original []byte) {
				f, err := os.OpenFile(j.input, os.O_WRONLY|os.O_TRUNC, 0)
				require.NoError(t, err)
				partial = changeNewVersion(t, 400)[:len(original)/4] // the upload, a quarter done
				_, err = f.Write(partial)
				require.NoError(t, err)
				require.NoError(t, f.Close())
			})
			requests := sb.Server.Stats().Requests
			r := run(t, keyEnv(sb), j.args(sb, "--rate", "1000/s")...)
			assert.Equal(t, 2, r.code, r.stderr)
			assert.Contains(t, r.stderr, "input changed")
			assert.Contains(t, r.stderr, fmt.Sprintf("the input is shorter than the %d bytes this job is bound to", len(original)))
			assert.Equal(t, requests, sb.Server.Stats().Requests, "nothing sent")

			var extra []string
			if retry {
				extra = append(extra, "--retry-failed")
			}
			changeFinishes(t, j, sb, original, extra...)
		})
	}
}

// TestRunStopsWhenTheInputIsReplaced: a new version written beside the input and moved over it (the
// usual re-upload) is noticed although the run's open file still reads the old bytes: the run stops,
// exit 3, the job is not complete; with the original back, the same command finishes it.
func TestRunStopsWhenTheInputIsReplaced(t *testing.T) {
	t.Parallel()
	j, sb, original := changeMidRun(t, 400, "50/s", "another file took its place", func(j *job, _ []byte) {
		tmp := j.input + ".upload"
		require.NoError(t, os.WriteFile(tmp, changeNewVersion(t, 400), 0o600))
		require.NoError(t, os.Rename(tmp, j.input))
	})
	changeFinishes(t, j, sb, original)
}

// TestRunStopsWhenTheInputIsRewrittenInPlace: another version of the same size written over the input
// (its size does not move) is caught by the check of each 64 KiB block before any row is read from it:
// the run stops at the second block, exit 3, with no customer of the new version; with the original
// back, the same command finishes the job.
func TestRunStopsWhenTheInputIsRewrittenInPlace(t *testing.T) {
	t.Parallel()
	j, sb, original := changeMidRun(t, 1200, "200/s", "it was rewritten in place: bytes 65536 to ", func(j *job, original []byte) {
		other := changeNewVersion(t, 1500)
		require.GreaterOrEqual(t, len(other), len(original))
		f, err := os.OpenFile(j.input, os.O_WRONLY, 0)
		require.NoError(t, err)
		_, err = f.WriteAt(other[:len(original)], 0) // the same size, other bytes
		require.NoError(t, err)
		require.NoError(t, f.Close())
	})
	require.Greater(t, len(original), 64<<10, "two blocks")
	changeFinishes(t, j, sb, original)
}

// TestRunNeverSendsARowCutByAGrowingFile: the run starts on a drop still being written, whose last row is
// cut inside its last value ("Adeye" of "Adeyemi"). The file grows while the run reads it: the cut row is
// never sent, the run stops (exit 3) saying the input grew, the job is not complete; the same command
// then continues the job with the rest of the file, not "input changed", and the row is created whole.
func TestRunNeverSendsARowCutByAGrowingFile(t *testing.T) {
	t.Parallel()
	sb := startSandbox(t, sandbox.Config{Latency: 2 * time.Millisecond, Lookup: true})
	j := newJob(t, 200)
	j.rows[199][2] = "Adeyemi"
	whole := changeCSV(t, j.rows)
	cut := bytes.LastIndex(whole, []byte("Adeyemi")) + len("Adeye")
	require.NoError(t, os.WriteFile(j.input, whole[:cut], 0o600))
	more := changeRows(500001, 30)
	j.rows = append(j.rows, more...)
	all := changeCSV(t, j.rows)
	require.True(t, bytes.HasPrefix(all, whole))

	args := j.args(sb, "--rate", "50/s", "--workers", "4")
	p := start(t, keyEnv(sb), args...)
	p.waitFor(t, func() bool { return sb.Server.Stats().Creates >= 20 })
	f, err := os.OpenFile(j.input, os.O_WRONLY|os.O_APPEND, 0)
	require.NoError(t, err)
	_, err = f.Write(all[cut:]) // the writer goes on: the rest of the row, then more rows
	require.NoError(t, err)
	require.NoError(t, f.Close())
	code := p.exitCode()
	stderr := p.stderr.String()
	require.Equal(t, 3, code, stderr)
	assert.Contains(t, stderr, fmt.Sprintf("changed while it was read (it grew from %d to %d bytes at row 200)", cut, len(all)))
	assert.NotContains(t, stderr, "has no line break", "the cut row is not a row: no warning about it either")
	refs := changeRefs(sb)
	assert.Len(t, refs, 199, "every row before the cut one, and not the cut one")
	assert.False(t, refs["crm-"+j.rows[199][0]], "the cut row was sent")
	assert.False(t, changeSummary(t, j).Complete)

	r := run(t, keyEnv(sb), j.args(sb, "--rate", "1000/s")...)
	require.Equal(t, 0, r.code, r.stderr)
	assert.Contains(t, r.stderr, fmt.Sprintf("the input grew from %d to %d bytes with the same first %d bytes: continuing the job with the new rows", cut, len(all), cut))
	requireExactlyOnce(t, j, sb)
	assert.Equal(t, "Adeyemi", changeLastName(t, sb, "crm-"+j.rows[199][0]), "the row, whole")
}

// TestRunContinuesAJobWhoseInputGrew: a complete job whose file then gets rows appended (the same first
// bytes): the same command sends only the new rows, and results.csv lists every row once, in order. Run
// again, it sends nothing.
func TestRunContinuesAJobWhoseInputGrew(t *testing.T) {
	t.Parallel()
	sb := startSandbox(t, sandbox.Config{})
	j, _ := changeJob(t, 120)
	args := j.args(sb, "--rate", "2000/s")
	r := run(t, keyEnv(sb), args...)
	require.Equal(t, 0, r.code, r.stderr)
	require.True(t, changeSummary(t, j).Complete)
	before := len(mustRead(t, j.input))

	j.rows = append(j.rows, changeRows(600001, 35)...)
	require.NoError(t, os.WriteFile(j.input, changeCSV(t, j.rows), 0o600))
	st := sb.Server.Stats()
	r = run(t, keyEnv(sb), args...)
	require.Equal(t, 0, r.code, r.stderr)
	assert.Contains(t, r.stderr, fmt.Sprintf("the input grew from %d to ", before))
	assert.Equal(t, 35, sb.Server.Stats().Creates-st.Creates, "only the new rows are created")
	assert.Equal(t, 35, sb.Server.Stats().Requests-st.Requests, "only the new rows are sent")
	requireExactlyOnce(t, j, sb)
	s := changeSummary(t, j)
	assert.True(t, s.Complete)
	assert.Equal(t, 155, s.Rows)
	assert.Equal(t, 120, s.AlreadyDone)

	requests := sb.Server.Stats().Requests
	r = run(t, keyEnv(sb), args...)
	require.Equal(t, 0, r.code, r.stderr)
	assert.Contains(t, r.stderr, "already complete: nothing sent")
	assert.Equal(t, requests, sb.Server.Stats().Requests, "nothing sent")

	// Grown again, but its first bytes changed too: that is another input, refused as before.
	b := changeCSV(t, append(j.rows, changeRows(700001, 3)...))
	b[bytes.IndexByte(b, '\n')+1] = '2' // the first row's id
	require.NoError(t, os.WriteFile(j.input, b, 0o600))
	r = run(t, keyEnv(sb), args...)
	assert.Equal(t, 2, r.code, r.stderr)
	assert.Contains(t, r.stderr, "input changed")
	assert.Equal(t, requests, sb.Server.Stats().Requests, "nothing sent")
}

func mustRead(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	require.NoError(t, err)
	return b
}

// TestRunWarnsOfALastRowWithoutLineBreak: an export whose last line has no line break, and that does not
// change, is imported whole, the last row included, with a warning naming that row (number, line and
// reference, no values); validate warns the same way. Extended afterwards by bytes that continue that
// row, the job is not continued silently: the row was sent as it was; the refusal names it, and --restart
// imports the file whole with nothing created twice.
func TestRunWarnsOfALastRowWithoutLineBreak(t *testing.T) {
	t.Parallel()
	sb := startSandbox(t, sandbox.Config{Lookup: true})
	j := newJob(t, 50)
	j.rows[49][2] = "Adeyemi"
	whole := changeCSV(t, j.rows)
	cut := len(whole) - len("mi\n")
	require.NoError(t, os.WriteFile(j.input, whole[:cut], 0o600))
	ref := "crm-" + j.rows[49][0]
	const warning = "row 50 (line 51) has no line break at the end of the file: if the export was cut short, its last values may be incomplete"

	r := run(t, nil, "validate", "--mapping", j.mapping, "--out", filepath.Join(j.dir, "validate"), j.input)
	require.Equal(t, 0, r.code, r.stderr)
	assert.Contains(t, r.stderr, warning)
	assert.Contains(t, r.stderr, ref)

	args := j.args(sb, "--rate", "2000/s")
	r = run(t, keyEnv(sb), args...)
	require.Equal(t, 0, r.code, r.stderr)
	assert.Contains(t, r.stderr, warning)
	assert.Contains(t, r.stderr, ref)
	assert.NotContains(t, r.stderr, "Adeye", "no values in the log")
	requireExactlyOnce(t, j, sb)
	assert.Equal(t, "Adeye", changeLastName(t, sb, ref), "sent as the file had it")

	// The export is completed afterwards: "mi\n" and more rows continue row 50.
	j.rows = append(j.rows, changeRows(800001, 10)...)
	require.NoError(t, os.WriteFile(j.input, changeCSV(t, j.rows), 0o600))
	requests := sb.Server.Stats().Requests
	r = run(t, keyEnv(sb), args...)
	assert.Equal(t, 2, r.code, r.stderr)
	assert.Contains(t, r.stderr, fmt.Sprintf("but those ended inside row 50 (line 51, external_reference %q), which was sent as it was then", ref))
	assert.Contains(t, r.stderr, "--restart")
	assert.Equal(t, requests, sb.Server.Stats().Requests, "nothing sent")

	r = run(t, keyEnv(sb), j.args(sb, "--rate", "2000/s", "--restart")...)
	require.Equal(t, 0, r.code, r.stderr)
	requireExactlyOnce(t, j, sb)
}

// changeCrashBinary builds zentra-import with the crashpoint tag: ZI_CRASHPOINT then names a step of
// the journal's rewrite where the process kills itself with SIGKILL.
func changeCrashBinary(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "zentra-import-crashpoint")
	args := []string{"build", "-tags", "crashpoint", "-o", bin}
	if raceEnabled {
		args = append(args, "-race")
	}
	out, err := exec.Command("go", append(args, ".")...).CombinedOutput()
	require.NoError(t, err, "build with -tags crashpoint: %s", out)
	return bin
}

// TestRunKilledWhileRebindingAGrownJob: kill -9 at each step of the rebind of a job whose input grew
// (before the new journal is written, with it written and synced but not renamed, renamed but the
// directory not synced, and right after): the same command then finishes the job, every row once,
// nothing created twice, and only the new rows created.
func TestRunKilledWhileRebindingAGrownJob(t *testing.T) {
	t.Parallel()
	crash := changeCrashBinary(t)
	for _, at := range []string{"rebind:start", "rebind:synced", "rebind:renamed", "rebind:done"} {
		t.Run(at, func(t *testing.T) {
			t.Parallel()
			sb := startSandbox(t, sandbox.Config{})
			j, _ := changeJob(t, 150)
			args := j.args(sb, "--rate", "2000/s", "--workers", "6")
			r := run(t, keyEnv(sb), args...)
			require.Equal(t, 0, r.code, r.stderr)
			j.rows = append(j.rows, changeRows(600001, 40)...)
			require.NoError(t, os.WriteFile(j.input, changeCSV(t, j.rows), 0o600))
			creates := sb.Server.Stats().Creates

			cmd := exec.Command(crash, args...)
			cmd.Env = append([]string{"PATH=" + os.Getenv("PATH"), "HOME=" + os.TempDir(), "ZI_CRASHPOINT=" + at}, keyEnv(sb)...)
			out, err := cmd.CombinedOutput()
			var ee *exec.ExitError
			require.ErrorAs(t, err, &ee, "%s", out)
			require.Equal(t, syscall.SIGKILL, ee.Sys().(syscall.WaitStatus).Signal(), "killed at %s: %s", at, out)

			r = run(t, keyEnv(sb), args...)
			require.Equal(t, 0, r.code, r.stderr)
			requireExactlyOnce(t, j, sb)
			assert.Equal(t, 40, sb.Server.Stats().Creates-creates, "only the new rows created")
			entries, err := os.ReadDir(j.out)
			require.NoError(t, err)
			for _, e := range entries {
				assert.NotContains(t, e.Name(), ".zi-tmp-", "a temporary file left behind")
			}
		})
	}
}

// TestValidateNoticesAChangedInput: a file truncated while validate reads it gets no verdict: exit 2,
// naming the change, and no summary.
func TestValidateNoticesAChangedInput(t *testing.T) {
	t.Parallel()
	j := newJob(t, 1)
	rows := changeRows(100001, 60000)
	b := changeCSV(t, rows)
	require.NoError(t, os.WriteFile(j.input, b, 0o600))
	out := filepath.Join(j.dir, "validate")
	p := start(t, nil, "validate", "--mapping", j.mapping, "--out", out, j.input)
	// Once validate has the input open, cut it (a re-upload starting over).
	p.waitFor(t, func() bool { return changeHasOpen(p.cmd.Process.Pid, j.input) })
	require.NoError(t, os.Truncate(j.input, int64(len(b)/3)))
	code := p.exitCode()
	stderr := p.stderr.String()
	assert.Equal(t, 2, code, stderr)
	assert.Contains(t, stderr, "changed while it was read (it shrank from ")
	assert.Contains(t, stderr, "validate it again once it is written whole")
	assert.NoFileExists(t, filepath.Join(out, "summary.json"))
}

// changeHasOpen reports whether process pid has the file at path open.
func changeHasOpen(pid int, path string) bool {
	fds := fmt.Sprintf("/proc/%d/fd", pid)
	entries, err := os.ReadDir(fds)
	if err != nil {
		return false
	}
	for _, e := range entries {
		if target, err := os.Readlink(filepath.Join(fds, e.Name())); err == nil && target == path {
			return true
		}
	}
	return false
}
