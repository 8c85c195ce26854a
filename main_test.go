package main

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/spf13/pflag"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/zentra/zentra-import/importer"
	"github.com/zentra/zentra-import/jobdir"
)

func TestExitCodeTable(t *testing.T) {
	cases := []struct {
		name string
		sum  *jobdir.Summary
		err  error
		want int
	}{
		{name: "every row created or existing", sum: &jobdir.Summary{ExitCode: 0}, want: 0},
		{name: "finished with rejected rows", sum: &jobdir.Summary{ExitCode: 1}, want: 1},
		{name: "no summary, no error (mapping printed)", want: 0},
		{name: "input error", err: errors.New("no such file"), want: 2},
		{name: "aborted", sum: &jobdir.Summary{ExitCode: 3}, err: &importer.Error{Kind: importer.KindAborted, Err: errors.New("401")}, want: 3},
		{name: "interrupted", err: &importer.Error{Kind: importer.KindInterrupted, Err: importer.ErrInterrupted}, want: 130},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			assert.Equal(t, tc.want, exitCode(tc.sum, tc.err))
		})
	}
}

func TestResumeCommand(t *testing.T) {
	cases := []struct {
		prog string // os.Args[0]
		args []string
		want string
	}{
		{prog: "zentra-import", args: []string{"run", "--mapping", "m.yaml", "in.csv"}, want: "zentra-import run --mapping m.yaml in.csv"},
		{prog: "zentra-import", args: []string{"run", "--restart", "--out", "job dir", "in.csv"}, want: "zentra-import run --out 'job dir' in.csv"},
		{prog: "zentra-import", args: []string{"run", "--restart=true", "--carry", "Customer Id,Branch", "o'brien.csv"}, want: `zentra-import run --carry 'Customer Id,Branch' 'o'\''brien.csv'`},
		{prog: "./zi", args: []string{"run", "--restart", "in.csv"}, want: "./zi run in.csv"},
		{prog: "/usr/local/bin/zentra-import", args: []string{"run", "in.csv"}, want: "/usr/local/bin/zentra-import run in.csv"},
		{prog: "/opt/Zentra Tools/zi", args: []string{"run", "in.csv"}, want: "'/opt/Zentra Tools/zi' run in.csv"},
		{prog: "/tmp/go-build2384120/b001/exe/zentra-import", args: []string{"run", "--sandbox", "in.csv"}, want: "go run . run --sandbox in.csv"},
	}
	for _, tc := range cases {
		assert.Equal(t, tc.want, resumeCommand(tc.prog, tc.args), "%s %v", tc.prog, tc.args)
	}
}

func TestApplyEnv(t *testing.T) {
	newFlags := func() (*pflag.FlagSet, *int, *string) {
		fl := pflag.NewFlagSet("run", pflag.ContinueOnError)
		w := fl.Int("workers", 8, "")
		r := fl.String("rate", "auto", "")
		return fl, w, r
	}
	env := map[string]string{"ZENTRA_WORKERS": "12", "ZENTRA_RATE": "100/min"}
	vars := map[string]string{"workers": "ZENTRA_WORKERS", "rate": "ZENTRA_RATE"}

	fl, w, r := newFlags()
	require.NoError(t, fl.Parse([]string{"--rate", "5/s"}))
	set, err := applyEnv(fl, func(k string) string { return env[k] }, vars)
	require.NoError(t, err)
	assert.Equal(t, 12, *w, "the environment fills a flag not given")
	assert.Equal(t, "5/s", *r, "a flag given on the command line wins")
	assert.Equal(t, map[string]string{"workers": "ZENTRA_WORKERS"}, set, "which flags the environment set")

	fl, _, _ = newFlags()
	require.NoError(t, fl.Parse(nil))
	_, err = applyEnv(fl, func(k string) string { return map[string]string{"ZENTRA_WORKERS": "eight"}[k] }, vars)
	require.Error(t, err)
	assert.Contains(t, err.Error(), `ZENTRA_WORKERS="eight"`)
	assert.Equal(t, importer.KindInput, importer.KindOf(err))
}

// writeFile writes a small file readable by its owner only and returns its path.
func writeFile(t *testing.T, dir, name, content string) string {
	t.Helper()
	path := filepath.Join(dir, name)
	require.NoError(t, os.WriteFile(path, []byte(content), 0o600))
	return path
}

// runInProcess runs a command line as main does, with the given environment, and returns the exit code
// and what was written to stderr. For command lines refused before anything is sent.
func runInProcess(t *testing.T, vars map[string]string, args ...string) (int, string) {
	t.Helper()
	var stdout, stderr bytes.Buffer
	env := newEnvironment("zentra-import", args, &stdout, &stderr, func(k string) string { return vars[k] })
	return env.run(context.Background()), stderr.String()
}

func TestSecretKeyGivenTwiceIsRefused(t *testing.T) {
	const key = "sk_sandbox_not_to_be_printed"
	keyFile := writeFile(t, t.TempDir(), "key", key+"\n")
	input := writeFile(t, t.TempDir(), "in.csv", "id,email\n1,a@example.com\n")
	cases := []struct {
		name string
		vars map[string]string
		args []string
		want string
	}{
		{name: "variable and flag", vars: map[string]string{"ZENTRA_SECRET_KEY": key},
			args: []string{"--secret-key-file", keyFile}, want: "ZENTRA_SECRET_KEY and --secret-key-file"},
		{name: "variable and file variable", vars: map[string]string{"ZENTRA_SECRET_KEY": key, "ZENTRA_SECRET_KEY_FILE": keyFile},
			want: "ZENTRA_SECRET_KEY and ZENTRA_SECRET_KEY_FILE"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			args := append([]string{"run", "--api-url", "http://127.0.0.1:9", "--out", filepath.Join(t.TempDir(), "job")}, tc.args...)
			code, stderr := runInProcess(t, tc.vars, append(args, input)...)
			assert.Equal(t, exitUsage, code, stderr)
			assert.Contains(t, stderr, tc.want)
			assert.Contains(t, stderr, "hint:")
			assert.NotContains(t, stderr, key)
		})
	}
}

// TestBadValueNamesItsSource: a value refused after it was parsed names the variable it came from, or
// the flag when it was given on the command line.
func TestBadValueNamesItsSource(t *testing.T) {
	input := writeFile(t, t.TempDir(), "in.csv", "id,email\n1,a@example.com\n")
	cases := []struct {
		name       string
		vars       map[string]string
		args       []string
		want, hint string
	}{
		{name: "workers from the environment", vars: map[string]string{"ZENTRA_WORKERS": "0"},
			want: "ZENTRA_WORKERS=0: want 1 to 256", hint: "ZENTRA_WORKERS sets --workers"},
		{name: "workers on the command line", args: []string{"--workers", "0"}, want: "--workers 0: want 1 to 256"},
		{name: "flag wins over a bad variable", vars: map[string]string{"ZENTRA_WORKERS": "0"}, args: []string{"--workers", "300"},
			want: "--workers 300: want 1 to 256"},
		{name: "rate from the environment", vars: map[string]string{"ZENTRA_RATE": "abc"},
			want: `ZENTRA_RATE=abc: rate "abc"`, hint: "ZENTRA_RATE sets --rate"},
		{name: "rate on the command line", args: []string{"--rate", "abc"}, want: `--rate abc: rate "abc"`},
		{name: "log format from the environment", vars: map[string]string{"ZENTRA_LOG_FORMAT": "xml"},
			want: "ZENTRA_LOG_FORMAT=xml: want text or json", hint: "ZENTRA_LOG_FORMAT sets --log-format"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			args := append([]string{"run", "--sandbox", "--out", filepath.Join(t.TempDir(), "job")}, tc.args...)
			code, stderr := runInProcess(t, tc.vars, append(args, input)...)
			assert.Equal(t, exitUsage, code, stderr)
			assert.Contains(t, stderr, "zentra-import: "+tc.want)
			assert.Contains(t, stderr, "hint: "+tc.hint)
		})
	}
}

// TestNegativeCountsAndDurationsAreRefused: a negative --drain or --show is a mistake, not a default.
func TestNegativeCountsAndDurationsAreRefused(t *testing.T) {
	input := writeFile(t, t.TempDir(), "in.csv", "id,email\n1,a@example.com\n")
	cases := []struct {
		name string
		args []string
		want string
	}{
		{name: "drain", args: []string{"run", "--sandbox", "--drain", "-1s"}, want: "--drain -1s"},
		{name: "show", args: []string{"validate", "--show", "-1"}, want: "--show -1"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			out := filepath.Join(t.TempDir(), "job")
			code, stderr := runInProcess(t, nil, append(tc.args, "--out", out, input)...)
			assert.Equal(t, exitUsage, code, stderr)
			assert.Contains(t, stderr, "zentra-import: "+tc.want)
			assert.Contains(t, stderr, "hint:")
			_, err := os.Stat(out)
			assert.True(t, os.IsNotExist(err), "nothing done")
		})
	}
}

// TestValidateShowZeroPrintsCountsOnly: --show 0 prints no problem rows, only the counts.
func TestValidateShowZeroPrintsCountsOnly(t *testing.T) {
	input := writeFile(t, t.TempDir(), "in.csv", "id,email\n1,a@example.com\n2,not-an-email\n3,\n")
	mappingFile := writeFile(t, t.TempDir(), "m.yaml", "fields:\n  external_reference: {column: id}\n  email: {column: email, validate: email}\n")
	for _, show := range []struct {
		flag string
		rows int
	}{{"0", 0}, {"1", 1}, {"10", 2}} {
		t.Run("show "+show.flag, func(t *testing.T) {
			code, stderr := runInProcess(t, nil, "validate", "--mapping", mappingFile, "--show", show.flag, "--out", filepath.Join(t.TempDir(), "v"), input)
			assert.Equal(t, exitRowProblems, code, stderr)
			assert.Equal(t, show.rows, strings.Count("\n"+stderr, "\nrow "), stderr)
			assert.Contains(t, stderr, "valid 1 · rejected 2")
			if show.rows == 0 {
				assert.NotContains(t, stderr, "more rows with problems", "the counts only")
			}
		})
	}
}

// TestMappingFileUnreadable: a mapping file that cannot be read at all gets a hint about its path, not
// one about a line that no message names.
func TestMappingFileUnreadable(t *testing.T) {
	dir := t.TempDir()
	input := writeFile(t, dir, "in.csv", "id,email\n1,a@example.com\n")
	unreadable := filepath.Join(dir, "unreadable.yaml")
	require.NoError(t, os.WriteFile(unreadable, []byte("fields:\n  external_reference: {column: id}\n"), 0o000))
	cases := []struct {
		name, mapping, want, hint string
		root                      bool // root reads any file: the case cannot happen
	}{
		{name: "missing", mapping: filepath.Join(dir, "nope.yaml"), want: "no such file", hint: "check the path given to --mapping"},
		{name: "a directory", mapping: dir, want: "is a directory", hint: "give --mapping the mapping file itself, not a directory"},
		{name: "permission denied", mapping: unreadable, want: "permission denied", hint: "readable by the user", root: true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if tc.root && os.Geteuid() == 0 {
				t.Skip("root reads files whatever their permissions")
			}
			for _, cmd := range [][]string{{"validate"}, {"run", "--sandbox"}} {
				args := append(cmd, "--mapping", tc.mapping, "--out", filepath.Join(t.TempDir(), "job"), input)
				code, stderr := runInProcess(t, nil, args...)
				assert.Equal(t, exitUsage, code, stderr)
				assert.Contains(t, stderr, tc.want)
				assert.Contains(t, stderr, "hint: "+tc.hint)
				assert.NotContains(t, stderr, "line named above")
			}
		})
	}
}

// TestValidateRefusesAnImportsJob: validate into an import's job directory is refused with a hint for
// validate (another --out), not for run.
func TestValidateRefusesAnImportsJob(t *testing.T) {
	dir := t.TempDir()
	input := writeFile(t, dir, "in.csv", "id,email\n1,a@example.com\n")
	mappingFile := writeFile(t, dir, "m.yaml", "fields:\n  external_reference: {column: id}\n  email: {column: email}\n")
	out := filepath.Join(dir, "job")
	code, stderr := runInProcess(t, nil, "run", "--sandbox", "--quiet", "--mapping", mappingFile, "--out", out, input)
	require.Equal(t, exitOK, code, stderr)

	code, stderr = runInProcess(t, nil, "validate", "--mapping", mappingFile, "--out", out, input)
	assert.Equal(t, exitUsage, code, stderr)
	assert.Contains(t, stderr, "holds an import's checkpoint")
	assert.Contains(t, stderr, "hint: pass validate another --out")
	assert.NotContains(t, stderr, "--restart", "a flag of run, which validate has not")
}
