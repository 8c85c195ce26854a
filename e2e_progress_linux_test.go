//go:build linux

package main

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/sys/unix"

	"github.com/zentra/zentra-import/sandbox"
)

var (
	progressEscape = regexp.MustCompile(`\x1b\[[0-9;?]*[A-Za-z]`)
	progressBar    = regexp.MustCompile(`\[([=> ]*)\]`)
	progressRateRe = regexp.MustCompile(`(\d+(?:\.\d+)?) rows/s`)
	progressDone   = regexp.MustCompile(`(\d+)/400\b`)
	progressMade   = regexp.MustCompile(`created (\d+)`)
)

// progressOnTerminal runs cmd with its stderr on the terminal tty, and returns what it wrote there, read
// from pty, with the error of its run.
func progressOnTerminal(t *testing.T, cmd *exec.Cmd, pty, tty *os.File) (string, error) {
	t.Helper()
	cmd.Stderr = tty
	var got bytes.Buffer
	copied := make(chan struct{})
	go func() { defer close(copied); _, _ = io.Copy(&got, pty) }() // ends with EIO once every tty is closed
	err := cmd.Run()
	require.NoError(t, tty.Close())
	<-copied
	return got.String(), err
}

// progressBarDraws runs the resumed job's second run with stderr on a pseudo-terminal of cols columns,
// and returns each drawing of the bar as the terminal shows it (escape sequences removed): every piece of
// the output between carriage returns and line feeds that counts rows of the total.
func progressBarDraws(t *testing.T, cols uint16) []string {
	t.Helper()
	pty, tty := openPTY(t)
	require.NoError(t, unix.IoctlSetWinsize(int(tty.Fd()), unix.TIOCSWINSZ, &unix.Winsize{Row: 24, Col: cols}))
	sb := startSandbox(t, sandbox.Config{})
	j := progressResumedJob(t, sb)
	got, err := progressOnTerminal(t, command(keyEnv(sb), j.args(sb, "--rate", fmt.Sprintf("%d/s", progressRate), "--workers", "2")...), pty, tty)
	require.NoError(t, err, got)
	requireExactlyOnce(t, j, sb)
	var draws []string
	for _, piece := range regexp.MustCompile(`[\r\n]`).Split(got, -1) {
		if piece = progressEscape.ReplaceAllString(piece, ""); progressDone.MatchString(piece) {
			draws = append(draws, piece)
		}
	}
	require.GreaterOrEqual(t, len(draws), 3, "the bar was drawn:\n%q", got)
	return draws
}

// TestE2EProgressBarFitsTheTerminal: on a terminal of 80 columns (and of 200), a resumed run's bar is never
// wider than the terminal, its bar is at least 10 columns, it counts the whole job (done of the total, and
// created) and its rate is this run's (QA: at 80 columns the bar had no width and wrapped, created counted
// this run only, and the rate was the job's rows over this run's seconds, 20× too high).
func TestE2EProgressBarFitsTheTerminal(t *testing.T) {
	t.Parallel()
	for _, cols := range []uint16{80, 200} {
		t.Run(fmt.Sprint(cols), func(t *testing.T) {
			t.Parallel()
			draws := progressBarDraws(t, cols)
			rates := 0
			for _, d := range draws {
				assert.LessOrEqual(t, utf8.RuneCountInString(d), int(cols), "no wider than the terminal: %q", d)
				done, _ := strconv.Atoi(progressDone.FindStringSubmatch(d)[1])
				if c := progressMade.FindStringSubmatch(d); c != nil {
					assert.Equal(t, strconv.Itoa(done), c[1], "created is the job's, as done is (every row is created): %q", d)
				} else {
					t.Errorf("no created count at %d columns: %q", cols, d)
				}
				if r := progressRateRe.FindStringSubmatch(d); r != nil {
					rates++
					rate, _ := strconv.ParseFloat(r[1], 64)
					// Generous: the job's 300 earlier rows over this run's seconds would be far above it.
					assert.LessOrEqual(t, rate, 3.0*progressRate, "this run's rate: %q", d)
				}
				if m := progressBar.FindStringSubmatch(d); assert.NotNil(t, m, "a bar: %q", d) {
					assert.GreaterOrEqual(t, len(m[1]), 10, "the bar's width: %q", d)
				}
				assert.GreaterOrEqual(t, done, 300, "the job's rows done: %q", d)
			}
			assert.Positive(t, rates, "the rate is shown: %q", draws)
			if cols >= 200 {
				assert.Contains(t, draws[len(draws)-1], " rows · ", "room for every part at 200 columns")
				assert.Contains(t, draws[len(draws)-1], "· failed 0 · rejected 0 · 429s 0")
			}
		})
	}
}

// TestE2EProgressBarInTmux is the check a person makes: a real terminal emulator (tmux) of 80 and of 200
// columns, the screen captured while the bar runs. A bar that wrapped would leave lines of its own on the
// screen, and one that scrolled would leave its earlier drawings above it; the screen holds one bar line,
// no wider than the window. It needs tmux, which CI's machines do not install.
func TestE2EProgressBarInTmux(t *testing.T) {
	t.Parallel()
	tmux, err := exec.LookPath("tmux")
	if err != nil {
		t.Skip("tmux is not installed (apt-get install tmux): the pseudo-terminal test above covers the same without it")
	}
	for _, cols := range []int{80, 200} {
		t.Run(fmt.Sprint(cols), func(t *testing.T) {
			t.Parallel()
			sb := startSandbox(t, sandbox.Config{})
			j := progressResumedJob(t, sb)
			socket := filepath.Join(t.TempDir(), "tmux")
			script := filepath.Join(t.TempDir(), "run.sh")
			var sh strings.Builder
			sh.WriteString("#!/bin/sh\n" + shellQuote(binary))
			for _, a := range j.args(sb, "--rate", fmt.Sprintf("%d/s", progressRate), "--workers", "2") {
				sh.WriteString(" " + shellQuote(a))
			}
			sh.WriteString("\necho exit=$?\nsleep 60\n")
			require.NoError(t, os.WriteFile(script, []byte(sh.String()), 0o700))
			tm := func(env []string, args ...string) string {
				cmd := command(env, append([]string{"-S", socket}, args...)...)
				cmd.Path, cmd.Args = tmux, append([]string{"tmux"}, cmd.Args[1:]...)
				out, err := cmd.CombinedOutput()
				require.NoError(t, err, "tmux %v: %s", args, out)
				return string(out)
			}
			// The server, and so the session, has the environment of the command that starts it: the key
			// is in it, never in the script.
			tm(append(keyEnv(sb), "TERM=xterm"), "-f", "/dev/null", "new-session", "-d", "-x", fmt.Sprint(cols), "-y", "30", script)
			t.Cleanup(func() { _ = exec.Command(tmux, "-S", socket, "kill-server").Run() })
			var screens []string
			deadline := time.Now().Add(2 * time.Minute)
			for {
				screen := tm(nil, "capture-pane", "-p")
				if strings.Contains(screen, "exit=") {
					require.Contains(t, screen, "exit=0", screen)
					break
				}
				if progressDone.MatchString(screen) && !strings.Contains(screen, "this run:") { // the summary is not a bar
					screens = append(screens, screen)
				}
				require.True(t, time.Now().Before(deadline), "the run never ended:\n%s", screen)
				time.Sleep(150 * time.Millisecond)
			}
			require.NotEmpty(t, screens, "the bar was on the screen")
			t.Logf("the screen at %d columns, while the bar ran:\n%s", cols, strings.TrimRight(screens[len(screens)/2], "\n "))
			for _, screen := range screens {
				bars := 0
				for _, line := range strings.Split(screen, "\n") {
					require.LessOrEqual(t, utf8.RuneCountInString(line), cols, "no line wider than the window:\n%s", screen)
					if strings.Contains(line, "rows/s") || progressDone.MatchString(line) || strings.Contains(line, "429s") {
						bars++
					}
				}
				require.Equal(t, 1, bars, "one bar line, neither wrapped nor scrolled:\n%s", screen)
			}
			requireExactlyOnce(t, j, sb)
		})
	}
}
