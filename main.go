// Command zentra-import imports customer records from CSV files into Zentra's identity API, resumably and
// idempotently. See README.md.
//
// This package only wires: flags and environment into option structs, signals into a context, and the
// outcome of a command into a message and an exit code. The work is in importer/.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"strings"
	"sync/atomic"
	"syscall"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/zentra/zentra-import/importer"
	"github.com/zentra/zentra-import/jobdir"
	"github.com/zentra/zentra-import/mapping"
	"github.com/zentra/zentra-import/zentra"
)

// The exit codes (README "Exit codes"; SPEC). exitMeanings says what each means, for -h.
const (
	exitOK          = 0
	exitRowProblems = 1
	exitUsage       = 2
	exitAborted     = 3
	exitInterrupted = 130
)

var exitMeanings = []struct {
	code    int
	meaning string
}{
	{exitOK, "every row is created or existing (validate: every row would be sent)"},
	{exitRowProblems, "the job finished; some rows are failed, rejected or conflict (see rejects.csv)"},
	{exitUsage, "usage, mapping, input or job-directory error; nothing was sent"},
	{exitAborted, "aborted: the API refused the key or the tenant, every request failed, the API gave no answer for --max-outage, the checkpoint could not be written, or the input changed while it was read; run the same command again to resume"},
	{exitInterrupted, "interrupted (SIGINT, SIGTERM or SIGHUP); run the same command again to resume"},
}

// exitCodesHelp lists the exit codes for `run -h`, for whoever writes the cron job.
func exitCodesHelp() string {
	var b strings.Builder
	b.WriteString("\nExit codes:\n")
	for _, e := range exitMeanings {
		fmt.Fprintf(&b, "  %-4d %s\n", e.code, e.meaning)
	}
	return strings.TrimRight(b.String(), "\n")
}

// exitCode is the one table from a command's outcome to the process's exit code.
func exitCode(sum *jobdir.Summary, err error) int {
	switch importer.KindOf(err) {
	case 0:
		if sum != nil {
			return sum.ExitCode
		}
		return exitOK
	case importer.KindAborted:
		return exitAborted
	case importer.KindInterrupted:
		return exitInterrupted
	default:
		return exitUsage
	}
}

func main() {
	// First of all, before any key is read: a crash must not write the key to disk in a core dump.
	if err := noCoreDumps(); err != nil {
		fmt.Fprintf(os.Stderr, "zentra-import: warning: core dumps could not be turned off (%v): a crash could write the secret key to disk\n", err)
	}
	env := newEnvironment(os.Args[0], os.Args[1:], os.Stdout, os.Stderr, os.Getenv)
	ctx, stop := interruptContext(env)
	code := env.run(ctx)
	stop()
	os.Exit(code)
}

// interruptContext is cancelled by the first SIGINT, SIGTERM or SIGHUP (a terminal or an ssh session
// that went away): the run stops taking rows, lets requests in flight finish and writes its files. A
// second signal exits at once; the journal's records are self-checking, so whatever was written stays
// consistent. What it says goes through env, so that with --log-format json it is a log record too.
//
// A signal the process was started with ignored stays ignored: `nohup zentra-import run … &` must outlive
// the session (SIGHUP), and a job a shell put in the background must not stop at the terminal's Ctrl-C.
func interruptContext(env *environment) (context.Context, func()) {
	ctx, cancel := context.WithCancel(context.Background())
	sigs := make(chan os.Signal, 2)
	if handled := handledSignals(); len(handled) > 0 { // Notify with no signal would relay them all
		signal.Notify(sigs, handled...)
	}
	go func() {
		select {
		case <-sigs:
		case <-ctx.Done():
			return
		}
		const stopping = "stopping: no new rows; requests in flight may finish (signal again to stop at once)"
		env.say(slog.LevelWarn, "zentra-import: "+stopping, stopping)
		cancel()
		<-sigs
		const stopped = "stopped at once; the checkpoint is consistent: run the same command again to resume"
		env.say(slog.LevelWarn, "zentra-import: "+stopped, stopped)
		os.Exit(exitInterrupted)
	}()
	return ctx, func() { signal.Stop(sigs); cancel() }
}

// handledSignals are the stop signals that the process was not started with ignored.
func handledSignals() []os.Signal {
	var handled []os.Signal
	for _, sig := range []os.Signal{os.Interrupt, syscall.SIGTERM, syscall.SIGHUP} {
		if !signal.Ignored(sig) {
			handled = append(handled, sig)
		}
	}
	return handled
}

// environment is what the commands share: where to write, the process's arguments and environment, and
// the outcome of the command that ran.
type environment struct {
	stdout, stderr io.Writer
	prog           string   // the program as it was invoked (os.Args[0])
	args           []string // the arguments after it
	getenv         func(string) string
	// keys are the secret keys the process was given (ZENTRA_SECRET_KEY, the key file's): no argument may
	// hold one, and no error or hint it prints shows one.
	keys []zentra.Secret
	// jsonLogs: --log-format json, so every line on stderr is a JSON log record, the summary and the
	// error included. Atomic: the signal handler reads it while the command runs.
	jsonLogs atomic.Bool
	summary  *jobdir.Summary
	err      error
}

func newEnvironment(prog string, args []string, stdout, stderr io.Writer, getenv func(string) string) *environment {
	return &environment{stdout: stdout, stderr: stderr, prog: prog, args: args, getenv: getenv, keys: envKeys(getenv)}
}

// run runs the command line and returns the exit code.
func (e *environment) run(ctx context.Context) int {
	root := newRootCmd(e)
	if err := keyInArgs(root, e.args, e.keys); err != nil { // before cobra, whose errors quote arguments
		e.usageLogFormat(root)
		e.finish(nil, err)
		return exitUsage
	}
	root.SetArgs(e.args)
	root.SetOut(e.stdout)
	root.SetErr(e.stderr)
	err := root.ExecuteContext(ctx)
	if err == nil {
		return exitCode(e.summary, e.err)
	}
	// cobra's own errors: an unknown command or flag, a missing argument.
	e.usageLogFormat(root)
	e.finish(nil, &importer.Error{Kind: importer.KindInput, Err: unknownCommand(root, e.args, err), Hint: "see `" + helpCommand(root, e.args) + " -h`"})
	return exitUsage
}

// usageLogFormat sets the log format for an error found before or while the command line was parsed:
// the command's --log-format (or its variable) still says how to report it, when the command has one.
func (e *environment) usageLogFormat(root *cobra.Command) {
	if cmd, _, ferr := root.Find(e.args); ferr == nil {
		if fl := cmd.Flags().Lookup("log-format"); fl != nil {
			format := fl.Value.String()
			if v := e.getenv(envLogFormat); !fl.Changed && v != "" {
				format = v
			}
			if v, ok := logFormatArg(e.args); !fl.Changed && ok {
				format = v // parsing stopped at an error before it reached --log-format
			}
			e.setLogFormat(format)
		}
	}
}

// unknownCommand rewrites cobra's unknown-command error, whose suggestions take lines of their own, as
// one line: `unknown command "runn" (did you mean run?)`.
func unknownCommand(root *cobra.Command, args []string, err error) error {
	if !strings.HasPrefix(err.Error(), "unknown command ") {
		return err
	}
	name := ""
	for _, a := range args {
		if !strings.HasPrefix(a, "-") {
			name = a
			break
		}
	}
	msg := fmt.Sprintf("unknown command %q", name)
	if s := root.SuggestionsFor(name); len(s) > 0 {
		msg += " (did you mean " + strings.Join(s, " or ") + "?)"
	}
	return errors.New(msg)
}

// helpCommand is the command whose -h helps with args: the subcommand they name, when it is one (never
// the mistyped name itself: `zentra-import runn -h` helps nobody), else the program.
func helpCommand(root *cobra.Command, args []string) string {
	if cmd, _, err := root.Find(args); err == nil {
		return cmd.CommandPath()
	}
	return root.CommandPath()
}

// flagError adds the closest known flag to an unknown flag's error: `unknown flag: --mapin (did you mean
// --mapping?)`.
func flagError(cmd *cobra.Command, err error) error {
	name, ok := strings.CutPrefix(err.Error(), "unknown flag: --")
	if !ok {
		return err
	}
	var names []string
	cmd.Flags().VisitAll(func(f *pflag.Flag) { names = append(names, f.Name) })
	if c := mapping.Closest(name, names); c != "" {
		return fmt.Errorf("%w (did you mean --%s?)", err, c)
	}
	return err
}

// logFormatArg finds --log-format's value in args without parsing them, for errors found before it.
func logFormatArg(args []string) (string, bool) {
	for i, a := range args {
		if a == "--" {
			break
		}
		if v, ok := strings.CutPrefix(a, "--log-format="); ok {
			return v, true
		}
		if a == "--log-format" && i+1 < len(args) {
			return args[i+1], true
		}
	}
	return "", false
}

// setLogFormat is the --log-format of the command that runs; anything but json is text.
func (e *environment) setLogFormat(format string) { e.jsonLogs.Store(format == "json") }

// jsonLog is the logger of the messages main itself writes with --log-format json, nil with text.
func (e *environment) jsonLog() *slog.Logger {
	if !e.jsonLogs.Load() {
		return nil
	}
	return slog.New(slog.NewJSONHandler(e.stderr, nil))
}

// say tells the person running the command something: line as it is, or with --log-format json a
// record of msg at level, with attrs (key, value pairs) beside it.
func (e *environment) say(level slog.Level, line, msg string, attrs ...any) {
	if log := e.jsonLog(); log != nil {
		log.Log(context.Background(), level, msg, attrs...)
		return
	}
	fmt.Fprintln(e.stderr, line)
}

// finish records a command's outcome and reports it on stderr: the summary, then the error with its hint.
// With --log-format json both are log records, so that a log collector reads every line.
func (e *environment) finish(sum *jobdir.Summary, err error) {
	e.summary, e.err = sum, err
	if log := e.jsonLog(); log != nil {
		if sum != nil {
			log.Info("summary", "summary", sum)
		}
		if err != nil {
			log.Error(e.errorText(err), "hint", zentra.Redact(importer.HintOf(err), e.keys...), "exit_code", exitCode(sum, err))
		}
		return
	}
	if sum != nil {
		importer.PrintSummary(e.stderr, sum)
	}
	if err != nil {
		e.printError(err)
	}
}

// errorText is the error as it is shown: never with a secret key in it, whatever quoted one (a mapping
// file with a key pasted in, another program's message). The checks before a command runs refuse keys
// where they do not belong; this is the last line behind them.
func (e *environment) errorText(err error) string {
	if errors.Is(err, importer.ErrInterrupted) {
		return "interrupted"
	}
	return zentra.Redact(err.Error(), e.keys...)
}

// printError prints "zentra-import: message" and, when there is one, "hint: how to fix it".
func (e *environment) printError(err error) {
	fmt.Fprintf(e.stderr, "zentra-import: %s\n", e.errorText(err))
	if hint := importer.HintOf(err); hint != "" {
		fmt.Fprintf(e.stderr, "hint: %s\n", zentra.Redact(hint, e.keys...))
	}
}

func newRootCmd(env *environment) *cobra.Command {
	root := &cobra.Command{
		Use:   "zentra-import",
		Short: "Import customer records from CSV files into Zentra's identity API",
		Long: `zentra-import imports customer records from a CSV file into Zentra's identity API
(POST /api/v1/identity/customers), paced to the API's rate limit, idempotently, and resumably:
interrupt it at any moment and run the same command again.

Try it with nothing leaving your machine:
  zentra-import run --sandbox --mapping samples/mapping.yaml samples/customers.csv`,
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.CompletionOptions.DisableDefaultCmd = true
	root.SetFlagErrorFunc(flagError)
	root.DisableSuggestions = true // unknownCommand says it on one line
	root.SuggestionsMinimumDistance = 2
	root.AddCommand(newRunCmd(env), newValidateCmd(env), newMappingCmd(env), newSandboxCmd(env))
	return root
}
