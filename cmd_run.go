package main

import (
	"fmt"
	"log/slog"
	"os"
	"sort"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
	"golang.org/x/term"

	"github.com/zentra/zentra-import/importer"
	"github.com/zentra/zentra-import/sandbox"
	"github.com/zentra/zentra-import/zentra"
)

// envLogFormat sets --log-format; it also says how to report errors found before the flags are checked.
const envLogFormat = "ZENTRA_LOG_FORMAT"

// sandboxDemoLimit is the in-process sandbox's plan for `run --sandbox`: high enough that the samples
// import in seconds, low enough that the pacing shows.
const sandboxDemoLimit = 6000

// runFlags are the flags of `run` before they are checked.
type runFlags struct {
	mapping, out, keyFile, apiURL, rate, carry, logFormat, idemHeader, idPath string
	sandbox, retryFailed, restart, quiet, lookup, excel                       bool
	workers, maxAttempts, maxRows                                             int
	timeout, drain, progressEvery, maxOutage                                  time.Duration

	// fromEnv maps the flags that took their value from the environment to the variable, so that a
	// problem with the value names where it came from.
	fromEnv map[string]string
}

// source names where a flag's value came from: "--secret-key-file", or "ZENTRA_SECRET_KEY_FILE".
func (f *runFlags) source(flag string) string {
	if v, ok := f.fromEnv[flag]; ok {
		return v
	}
	return "--" + flag
}

func newRunCmd(env *environment) *cobra.Command {
	var f runFlags
	cmd := &cobra.Command{
		Use:   "run [flags] FILE.csv",
		Short: "Import the rows of FILE.csv; resumes automatically",
		Long: `Import every row of FILE.csv into Zentra. Progress is checkpointed in the job directory
(--out, default FILE.import/ beside the input): run the same command again after any interruption and
it resumes where it stopped, sending nothing twice. results.csv, rejects.csv and summary.json are
written there at the end of every run.

The secret key comes from ZENTRA_SECRET_KEY or --secret-key-file, never from a flag.
Environment: ZENTRA_SECRET_KEY, ZENTRA_SECRET_KEY_FILE, ZENTRA_API_URL, ZENTRA_RATE, ZENTRA_WORKERS,
ZENTRA_MAX_OUTAGE, ZENTRA_LOG_FORMAT (a flag given on the command line wins).
` + exitCodesHelp(),
		Args: exactlyOneFile,
		RunE: func(cmd *cobra.Command, args []string) error {
			vars := map[string]string{"rate": "ZENTRA_RATE", "workers": "ZENTRA_WORKERS", "max-outage": "ZENTRA_MAX_OUTAGE",
				"log-format": envLogFormat, "secret-key-file": "ZENTRA_SECRET_KEY_FILE"}
			if !f.sandbox {
				vars["api-url"] = "ZENTRA_API_URL" // --sandbox names the API on the command line
			}
			var err error
			f.fromEnv, err = applyEnv(cmd.Flags(), env.getenv, vars)
			env.setLogFormat(f.logFormat) // the log format is read first: a bad variable is reported in it
			if err != nil {
				env.finish(nil, err)
				return nil
			}
			opts, err := f.options(env, cmd.Flags(), args[0])
			if err != nil {
				env.finish(nil, err)
				return nil
			}

			if f.sandbox {
				sb, err := sandbox.Start("", sandbox.Config{Limit: sandboxDemoLimit, Window: time.Minute})
				if err != nil {
					env.finish(nil, &importer.Error{Kind: importer.KindInput, Err: fmt.Errorf("start the sandbox: %w", err)})
					return nil
				}
				defer sb.Close()
				opts.APIURL, opts.Key, opts.APIIdentity = sb.URL, zentra.Secret(sb.Key), "sandbox (in-process)"
				if !f.quiet {
					env.say(slog.LevelInfo,
						fmt.Sprintf("sandbox: serving the Zentra API contract in-process at %s (plan %d/min); nothing leaves this machine", sb.URL, sandboxDemoLimit),
						"sandbox: serving the Zentra API contract in-process; nothing leaves this machine", "url", sb.URL, "plan_per_minute", sandboxDemoLimit)
				}
			}
			sum, err := importer.Run(cmd.Context(), opts)
			env.finish(sum, err)
			return nil
		},
	}
	fl := cmd.Flags()
	fl.SortFlags = false
	fl.StringVar(&f.mapping, "mapping", "", "mapping file (YAML); without it the mapping is inferred from the input and shown")
	fl.StringVar(&f.out, "out", "", "job directory (default: FILE with .csv replaced by .import, beside it)")
	fl.BoolVar(&f.sandbox, "sandbox", false, "start the sandbox in-process and import into it; no key needed, nothing leaves the machine")
	fl.StringVar(&f.keyFile, "secret-key-file", "", "file holding the secret key (else ZENTRA_SECRET_KEY)")
	fl.StringVar(&f.apiURL, "api-url", "", "API base URL (default from the key: sk_sandbox_… → sandbox host, sk_live_… → live host)")
	fl.StringVar(&f.rate, "rate", "auto", "request ceiling: N/s, N/min, N/h, or auto (the plan the API announces)")
	fl.IntVar(&f.workers, "workers", 8, "requests in flight at most")
	fl.IntVar(&f.maxAttempts, "max-attempts", importer.DefaultRetryPolicy.MaxAttempts, "requests per row before it is failed (429s do not count)")
	fl.DurationVar(&f.timeout, "timeout", zentra.DefaultTimeout, "per request")
	fl.DurationVar(&f.maxOutage, "max-outage", importer.DefaultMaxOutage, "how long the API may give no answer before the run stops, resumable")
	fl.IntVar(&f.maxRows, "max-rows", 0, "only the first N data rows (a trial run)")
	fl.StringVar(&f.carry, "carry", "", "input columns copied into results.csv, comma-separated")
	fl.BoolVar(&f.excel, "excel", false, "begin results.csv with a UTF-8 byte-order mark, so that Excel shows accents (Émilie, not Ã‰milie)")
	fl.BoolVar(&f.retryFailed, "retry-failed", false, "send again the rows whose earlier outcome was failed")
	fl.BoolVar(&f.restart, "restart", false, "forget the job's checkpoint and start over (requests stay idempotent)")
	fl.StringVar(&f.logFormat, "log-format", "text", "log format on stderr: text or json")
	fl.BoolVar(&f.quiet, "quiet", false, "no progress and no info logs; warnings, errors and the summary only")
	fl.StringVar(&f.idemHeader, "idempotency-header", zentra.IdempotencyKeyHeader, "header carrying each row's idempotency key; empty sends none")
	fl.StringVar(&f.idPath, "id-path", "", "where a success answer carries the customer id (dotted JSON paths, comma-separated; default data.id,data.customer_id,id,customer_id)")
	fl.BoolVar(&f.lookup, "lookup", false, "when a duplicate's 409 carries no id, look it up with GET ?external_reference= (offered by the sandbox, not documented by Zentra)")
	fl.DurationVar(&f.drain, "drain", 0, "after a signal, how long requests in flight may finish (default: --timeout)")
	fl.DurationVar(&f.progressEvery, "progress-interval", 10*time.Second, "how often a progress line is logged when stderr is not a terminal")
	return cmd
}

func (f *runFlags) options(env *environment, fl *pflag.FlagSet, input string) (importer.RunOptions, error) {
	o := importer.RunOptions{
		Input: input, Mapping: f.mapping, Out: f.out, APIURL: f.apiURL, Workers: f.workers,
		Timeout: f.timeout, MaxOutage: f.maxOutage, MaxRows: f.maxRows, RetryFailed: f.retryFailed, Restart: f.restart, ExcelBOM: f.excel,
		IdempotencyHeader: f.idemHeader, Lookup: f.lookup, Drain: f.drain, ProgressEvery: f.progressEvery,
		Stderr: env.stderr, Quiet: f.quiet, LogFormat: f.logFormat,
		// A JSON log is records only, on a terminal too: progress comes as records, not as a bar.
		Terminal:      isTerminal(env.stderr) && f.logFormat != "json",
		ResumeCommand: resumeCommand(env.prog, env.args),
	}
	o.Retry = importer.DefaultRetryPolicy
	o.Retry.MaxAttempts = f.maxAttempts
	// The key first: once it is known, no flag, variable or argument may hold it, and none is quoted in a
	// message before that is checked. Its own problems are reported after the other flags'.
	var keyErr error
	if !f.sandbox {
		if o.Key, keyErr = secretKey(f.keyFile, f.source("secret-key-file"), env); o.Key != "" {
			env.keys = append(env.keys, o.Key)
			if err := keyInFlags(fl, []string{input}, f.source, o.Key); err != nil {
				return o, err
			}
		}
	}
	usage := func(format string, args ...any) error {
		return &importer.Error{Kind: importer.KindInput, Err: fmt.Errorf(format, args...), Hint: runHelpHint}
	}
	// bad refuses the value of a flag that the environment can set, naming where the value came from.
	bad := func(flag, value, format string, args ...any) error {
		given, hint := "--"+flag+" "+value, runHelpHint
		if v, ok := f.fromEnv[flag]; ok {
			given, hint = v+"="+value, envHint(v, flag)
		}
		return &importer.Error{Kind: importer.KindInput, Err: fmt.Errorf("%s: "+format, append([]any{given}, args...)...), Hint: hint}
	}
	var err error
	if o.Rate, err = importer.ParseRate(f.rate); err != nil {
		return o, bad("rate", shellQuote(f.rate), "%v", err)
	}
	switch {
	case f.workers < 1 || f.workers > 256:
		return o, bad("workers", fmt.Sprint(f.workers), "want 1 to 256")
	case f.maxAttempts < 1:
		return o, usage("--max-attempts %d: want at least 1", f.maxAttempts)
	case f.maxRows < 0:
		return o, usage("--max-rows %d: want 0 (all) or more", f.maxRows)
	case f.progressEvery <= 0:
		return o, usage("--progress-interval %s: want a positive duration such as 10s", f.progressEvery)
	case f.timeout <= 0:
		return o, usage("--timeout %s: want a positive duration such as 30s", f.timeout)
	case f.maxOutage <= 0:
		return o, bad("max-outage", f.maxOutage.String(), "want a positive duration such as 15m")
	case f.drain < 0:
		return o, usage("--drain %s: want a positive duration such as 10s, or 0 for the --timeout", f.drain)
	case f.logFormat != "text" && f.logFormat != "json":
		return o, bad("log-format", shellQuote(f.logFormat), "want text or json")
	case f.sandbox && f.apiURL != "":
		return o, usage("--sandbox and --api-url both name the API; give one")
	}
	if f.carry != "" {
		o.Carry = splitList(f.carry)
	}
	if f.idPath != "" {
		o.IDPaths = splitList(f.idPath)
	}
	if keyErr != nil {
		// A missing or unreadable input is the first thing to fix: said before a missing key.
		if err := importer.CheckInput(input); err != nil {
			return o, err
		}
	}
	return o, keyErr
}

// secretKey reads the key from the file named by --secret-key-file (or ZENTRA_SECRET_KEY_FILE: fileSource
// says which), else from ZENTRA_SECRET_KEY. It is never a flag's value: those show in `ps` and in shell
// history. Both given is refused: which one wins would be a guess, and the wrong key a surprise.
func secretKey(file, fileSource string, env *environment) (zentra.Secret, error) {
	envKey := strings.TrimSpace(env.getenv("ZENTRA_SECRET_KEY"))
	if file == "" {
		if envKey != "" {
			return zentra.Secret(envKey), nil
		}
		hint := "export ZENTRA_SECRET_KEY=sk_… or pass --secret-key-file PATH; to try without a key, use --sandbox"
		if v, meant := misnamedKeyVariable(env.getenv); v != "" {
			hint = fmt.Sprintf("%s is set, but the key is read from %s: did you mean %s?", v, meant, meant)
		}
		return "", &importer.Error{Kind: importer.KindInput, Err: fmt.Errorf("no secret key"), Hint: hint}
	}
	if envKey != "" {
		return "", &importer.Error{Kind: importer.KindInput,
			Err:  fmt.Errorf("two secret keys: ZENTRA_SECRET_KEY and %s are both set", fileSource),
			Hint: fmt.Sprintf("give the key one way: unset ZENTRA_SECRET_KEY, or drop %s", fileSource)}
	}
	fi, err := os.Stat(file)
	if err != nil {
		return "", &importer.Error{Kind: importer.KindInput, Err: fmt.Errorf("%s: %w", fileSource, err)}
	}
	b, err := os.ReadFile(file)
	if err != nil {
		return "", &importer.Error{Kind: importer.KindInput, Err: fmt.Errorf("%s: %w", fileSource, err)}
	}
	k := strings.TrimSpace(string(b))
	if k == "" || strings.ContainsAny(k, "\n\r\t ") {
		return "", &importer.Error{Kind: importer.KindInput, Err: fmt.Errorf("%s %s: want the key alone on one line", fileSource, file)}
	}
	if zentra.HoldsKey(file, zentra.Secret(k)) { // the file named by its own key: refused before the warning quotes it
		return "", keyPlaceError("key-file-name", fileSource, fileSource != "ZENTRA_SECRET_KEY_FILE")
	}
	if fi.Mode().Perm()&0o077 != 0 {
		env.say(slog.LevelWarn, fmt.Sprintf("zentra-import: warning: %s is readable by other users; run chmod 600 %s", file, file),
			"the secret key file is readable by other users; run chmod 600 on it", "path", file)
	}
	return zentra.Secret(k), nil
}

// misnamedKeyVariables are the names people give the key's variables, by the name they meant.
var misnamedKeyVariables = []struct{ name, meant string }{
	{"ZENTRA_API_KEY", "ZENTRA_SECRET_KEY"}, {"ZENTRA_KEY", "ZENTRA_SECRET_KEY"}, {"ZENTRA_SECRET", "ZENTRA_SECRET_KEY"},
	{"ZENTRA_API_SECRET", "ZENTRA_SECRET_KEY"}, {"ZENTRA_TOKEN", "ZENTRA_SECRET_KEY"}, {"ZENTRA_SK", "ZENTRA_SECRET_KEY"},
	{"ZENTRA_SECRETKEY", "ZENTRA_SECRET_KEY"}, {"ZENTRA_KEY_FILE", "ZENTRA_SECRET_KEY_FILE"},
	{"ZENTRA_API_KEY_FILE", "ZENTRA_SECRET_KEY_FILE"}, {"ZENTRA_SECRET_KEY_PATH", "ZENTRA_SECRET_KEY_FILE"},
}

// misnamedKeyVariable finds a variable set under a name the key is not read from, and the name meant.
func misnamedKeyVariable(getenv func(string) string) (name, meant string) {
	for _, v := range misnamedKeyVariables {
		if getenv(v.name) != "" {
			return v.name, v.meant
		}
	}
	return "", ""
}

const runHelpHint = "see `zentra-import run -h`"

// envHint is the hint for a bad value in an environment variable: which flag it sets.
func envHint(variable, flag string) string {
	return fmt.Sprintf("%s sets --%s; %s", variable, flag, runHelpHint)
}

// applyEnv gives flags not set on the command line the value of their environment variable (vars maps
// flag names to variables). It returns the flags it set, with their variables. A value that holds a
// secret key is refused, naming the variable and never the value.
func applyEnv(fl *pflag.FlagSet, getenv func(string) string, vars map[string]string) (map[string]string, error) {
	names := make([]string, 0, len(vars))
	for name := range vars {
		names = append(names, name)
	}
	sort.Strings(names)
	set := map[string]string{}
	for _, name := range names {
		v := vars[name]
		if fl.Changed(name) {
			continue
		}
		if val := getenv(v); val != "" {
			if zentra.HoldsKey(val, envKeys(getenv)...) { // before Set, whose error would quote it
				return set, keyPlaceError(name, v, false)
			}
			if err := fl.Set(name, val); err != nil {
				return set, &importer.Error{Kind: importer.KindInput, Err: fmt.Errorf("%s=%q: %v", v, val, err), Hint: envHint(v, name)}
			}
			set[name] = v
		}
	}
	return set, nil
}

func exactlyOneFile(cmd *cobra.Command, args []string) error {
	if len(args) != 1 {
		return fmt.Errorf("%s needs exactly one CSV file, got %d arguments", cmd.Name(), len(args))
	}
	return nil
}

func splitList(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

func isTerminal(w any) bool {
	f, ok := w.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}

// resumeCommand is the command line to print for resuming: the same command, as the user can type it,
// without --restart (which would throw away the progress it is meant to resume). prog is the program as
// it was invoked (os.Args[0]: `./zi`, `zentra-import`, a path); a binary in Go's build cache was started
// by `go run`, whose path is of no use again.
func resumeCommand(prog string, args []string) string {
	if strings.Contains(prog, "go-build") {
		prog = "go run ."
	} else {
		prog = shellQuote(prog)
	}
	parts := []string{prog}
	for _, a := range args {
		if a == "--restart" || strings.HasPrefix(a, "--restart=") {
			continue
		}
		parts = append(parts, shellQuote(a))
	}
	return strings.Join(parts, " ")
}

func shellQuote(s string) string {
	if s != "" && strings.IndexFunc(s, func(r rune) bool {
		return !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("-_./=,:@%+", r))
	}) < 0 {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}
