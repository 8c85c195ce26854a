package main

import (
	"errors"
	"fmt"
	"strings"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/zentra/zentra-import/importer"
	"github.com/zentra/zentra-import/sandbox"
)

func newSandboxCmd(env *environment) *cobra.Command {
	var (
		cfg              sandbox.Config
		addr, limit      string
		required         string
		conflictWithout  bool
		noUnique, noIdem bool
	)
	cmd := &cobra.Command{
		Use:   "sandbox [flags]",
		Short: "Serve a local stand-in for the Zentra API",
		Long: `Serve the documented create-customer contract on loopback, for trials, rehearsals and tests:
bearer auth with its sk_sandbox_ key, the documented envelopes, error codes and X-RateLimit-* headers,
409 on a duplicate external_reference and Idempotency-Key replay. Flags switch each undocumented point
to its other readings and inject faults. It prints its URL and key, and serves until interrupted.

Counters: GET /_sandbox/stats · customers: GET /_sandbox/customers (sandbox extensions).`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			n, window, err := sandbox.ParseLimit(limit)
			if err != nil {
				env.finish(nil, &importer.Error{Kind: importer.KindInput, Err: fmt.Errorf("--limit: %w", err), Hint: "e.g. --limit 100/min, --limit 60/2s, or 0 for no limit"})
				return nil
			}
			cfg.Limit, cfg.Window = n, window
			cfg.NoUnique, cfg.NoIdempotency, cfg.ConflictWithoutID = noUnique, noIdem, conflictWithout
			if required != "" {
				cfg.Required = splitList(required)
			}
			run, err := sandbox.Start(addr, cfg)
			if errors.Is(err, syscall.EADDRINUSE) {
				env.finish(nil, &importer.Error{Kind: importer.KindInput, Err: fmt.Errorf("sandbox: %s is already in use by another program", addr),
					Hint: "stop that program (another sandbox?), or give --addr another port; 127.0.0.1:0 picks a free one"})
				return nil
			}
			if err != nil {
				hint := "the sandbox listens on this machine only: give --addr a loopback address such as 127.0.0.1:8080"
				if _, ok := errors.AsType[*sandbox.ConfigError](err); ok { // a flag's value, not the address
					hint = "see `zentra-import sandbox -h`"
				}
				env.finish(nil, &importer.Error{Kind: importer.KindInput, Err: err, Hint: hint})
				return nil
			}
			defer run.Close()
			printSandbox(env, run, cfg)
			<-cmd.Context().Done()
			return nil
		},
	}
	fl := cmd.Flags()
	fl.SortFlags = false
	fl.StringVar(&addr, "addr", "127.0.0.1:8080", "where to listen (loopback; port 0 picks a free one)")
	fl.StringVar(&cfg.Key, "key", "", "the secret key it accepts, sk_sandbox_… (default: a new random key)")
	fl.StringVar(&limit, "limit", "100/min", "plan limit: N/min, N/s, N/<duration> such as 60/2s; 0 turns it off")
	fl.BoolVar(&cfg.Bucket, "bucket", false, "read the limit as a token bucket instead of a fixed window")
	fl.IntVar(&cfg.Burst, "burst", 0, "token bucket capacity (default: the limit)")
	fl.IntVar(&cfg.RetryAfter, "retry-after", 60, "Retry-After seconds of a 429, as documented")
	fl.DurationVar(&cfg.Latency, "latency", 0, "added response time")
	fl.DurationVar(&cfg.Jitter, "jitter", 0, "random extra response time, up to this much")
	fl.Float64Var(&cfg.FailRate, "fail-rate", 0, "share of requests answered 503 before anything is committed")
	fl.BoolVar(&cfg.HTMLErrors, "html-errors", false, "answer injected 503s with a proxy's HTML page")
	fl.Float64Var(&cfg.DropRate, "drop-rate", 0, "share of creates committed, then the connection closed without an answer")
	fl.BoolVar(&cfg.Gated, "gated", false, "answer every request 403 insufficient_permissions")
	fl.BoolVar(&noIdem, "no-idempotency", false, "ignore Idempotency-Key")
	fl.BoolVar(&noUnique, "no-unique", false, "a repeated external_reference creates another customer")
	fl.BoolVar(&conflictWithout, "conflict-without-id", false, "409 bodies without the existing id")
	fl.BoolVar(&cfg.DuplicateOK, "duplicate-ok", false, "a repeated external_reference answers 200 with the existing record")
	fl.BoolVar(&cfg.Lookup, "lookup", false, "offer GET /api/v1/identity/customers?external_reference= (a sandbox extension)")
	fl.StringVar(&cfg.Envelope, "envelope", "status", "success envelope: status, success or data")
	fl.StringVar(&cfg.IDField, "id-field", "data.id", "where the id is: data.id, data.customer_id, id, customer_id or none")
	fl.BoolVar(&cfg.UpperCodes, "upper-codes", false, "error codes in UPPERCASE")
	fl.StringVar(&required, "required", "", "fields whose absence gets 422 missing_required_field, comma-separated")
	fl.Int64Var(&cfg.Seed, "seed", 0, "seed for ids, faults and jitter (0: random)")
	return cmd
}

func printSandbox(env *environment, run *sandbox.Running, cfg sandbox.Config) {
	var b strings.Builder
	fmt.Fprintf(&b, "zentra-import sandbox: serving the Zentra identity API contract (nothing leaves this machine)\n")
	fmt.Fprintf(&b, "  URL: %s\n", run.URL)
	fmt.Fprintf(&b, "  key: %s\n", run.Key)
	if cfg.Limit > 0 {
		fmt.Fprintf(&b, "  limit: %d per %s\n", cfg.Limit, windowOrMinute(cfg.Window))
	}
	fmt.Fprintf(&b, "  stats: %s/_sandbox/stats\n", run.URL)
	fmt.Fprintf(&b, "  try: curl -i %s%s -H 'Authorization: Bearer %s' -H 'Content-Type: application/json' -H 'Idempotency-Key: demo-1' -d '{\"external_reference\":\"demo-1\",\"first_name\":\"Ada\"}'\n",
		run.URL, sandbox.CustomersPath, run.Key)
	fmt.Fprint(env.stdout, b.String())
}

func windowOrMinute(w time.Duration) time.Duration {
	if w == 0 {
		return time.Minute
	}
	return w
}
