package importer

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/zentra/zentra-import/atomicfile"
	"github.com/zentra/zentra-import/checkpoint"
	"github.com/zentra/zentra-import/csvfile"
	"github.com/zentra/zentra-import/jobdir"
	"github.com/zentra/zentra-import/mapping"
	"github.com/zentra/zentra-import/zentra"
)

// RunOptions is everything `run` needs; package main fills it from flags and the environment.
type RunOptions struct {
	Input   string // the CSV file
	Mapping string // the mapping file; "" infers one from the input and shows it
	Out     string // the job directory; "" is the input's name with .csv replaced by .import

	Key    zentra.Secret
	APIURL string // "" derives it from the key
	// APIIdentity names the API in the job's binding instead of its URL (the in-process sandbox, whose
	// port changes every run). "" binds the URL.
	APIIdentity       string
	Rate              Rate // the zero Rate is auto
	Workers           int
	Retry             RetryPolicy
	Timeout           time.Duration // per request
	MaxRows           int           // 0: all
	Carry             []string      // input columns copied into results.csv
	ExcelBOM          bool          // results.csv begins with a UTF-8 byte-order mark, for Excel (--excel)
	RetryFailed       bool
	Restart           bool
	IdempotencyHeader string   // "" sends none
	IDPaths           []string // where a success body carries the id; nil: the client's defaults
	Lookup            bool     // ask GET ?external_reference= for the id of a 409 that gives none

	// Drain bounds how long requests in flight may finish after a signal. 0 means the request timeout.
	Drain time.Duration
	// MaxOutage is how long the API may give no answer at all (an outage: see [Pacer]) before the run
	// stops, resumable, with [KindAborted]. 0 means DefaultMaxOutage.
	MaxOutage time.Duration
	// FailFast aborts the run when this many first requests all fail. 0 means 20.
	FailFast int
	// CommitEvery is the journal's group-commit delay; 0 is the journal's default.
	CommitEvery time.Duration

	Stderr        io.Writer
	Terminal      bool          // stderr is a terminal: draw a bar
	Quiet         bool          // warnings, errors and the final summary only
	LogFormat     string        // "text" or "json"
	ProgressEvery time.Duration // progress line interval when stderr is not a terminal; 0 means 10s
	ResumeCommand string        // the command line that resumes the job, printed on interruption

	Clock     Clock             // nil: the wall clock
	Transport http.RoundTripper // nil: the client's tuned transport
	// Logger, if set, replaces the logger built from LogFormat and Quiet (tests).
	Logger *slog.Logger
	// durableHook, if set, is told of every outcome the journal makes durable, after the counters (tests).
	durableHook func([]checkpoint.Outcome)
}

func (o *RunOptions) setDefaults() {
	if o.Workers <= 0 {
		o.Workers = 8
	}
	if o.Retry.MaxAttempts == 0 {
		o.Retry.MaxAttempts = DefaultRetryPolicy.MaxAttempts
	}
	if o.Retry.Base == 0 {
		o.Retry.Base = DefaultRetryPolicy.Base
	}
	if o.Retry.Cap == 0 {
		o.Retry.Cap = DefaultRetryPolicy.Cap
	}
	if o.Timeout <= 0 {
		o.Timeout = zentra.DefaultTimeout
	}
	if o.Drain <= 0 {
		o.Drain = o.Timeout
	}
	if o.MaxOutage <= 0 {
		o.MaxOutage = DefaultMaxOutage
	}
	if o.FailFast <= 0 {
		o.FailFast = 20
	}
	if o.ProgressEvery <= 0 {
		o.ProgressEvery = 10 * time.Second
	}
	if o.Clock == nil {
		o.Clock = SystemClock{}
	}
	if o.Stderr == nil {
		o.Stderr = io.Discard
	}
}

// Run imports o.Input: it resumes the job in the job directory if there is one, sends every row not yet
// done, and rebuilds the job files. It returns the summary (also when the run stopped early) and an error
// whose Kind says why it stopped early.
func Run(ctx context.Context, o RunOptions) (*jobdir.Summary, error) {
	o.setDefaults()
	r := &runner{o: o, started: o.Clock.Now()}
	r.rep = &reporter{out: o.Stderr, tty: o.Terminal, quiet: o.Quiet, interval: o.ProgressEvery,
		c: &r.c, limit: int64(o.MaxRows), started: r.started, clock: o.Clock, width: terminalWidth(o.Stderr)}
	r.log = o.Logger
	if r.log == nil {
		r.log = NewLogger(r.rep, o.LogFormat, o.Quiet)
	}
	r.rep.log = r.log
	return r.run(ctx)
}

// runner is one run of a job.
type runner struct {
	o       RunOptions
	started time.Time
	log     *slog.Logger
	rep     *reporter
	c       counters

	src    *source
	carry  carried
	client *zentra.Client
	pacer  *Pacer
	dir    string
	j      *checkpoint.Journal
	st     *checkpoint.State
	seen   *mapping.Seen
	fail   *failFast
	probs  *problemLog

	counted chan struct{}      // closed once the input's rows are counted (the progress total)
	left    atomic.Int64       // rows handed to workers that ended without an outcome
	eof     bool               // the producer read the whole input
	changed *changedError      // the input changed while the producer read it: the run stops
	stop    context.CancelFunc // ends the intake (the producer's way to stop the run)
	lastRow int                // the last row the producer read
	// reserved is the journal's reservation this run made (0: none yet), handedOut the last row the
	// producer handed to the workers (see reserve).
	reserved, handedOut int
	previous            func(ref string) (string, bool) // ids an earlier run recorded, kept across --restart
}

func (r *runner) run(ctx context.Context) (*jobdir.Summary, error) {
	o := r.o
	src, err := openSource(o.Input, o.Mapping)
	if err != nil {
		return nil, runChangeError(err)
	}
	defer src.Close()
	r.src = src
	logTargetWarnings(r.log, src.m)
	logReaderNotes(r.log, src.rd)
	if r.carry, err = resolveCarry(src.rd.Header(), o.Carry); err != nil {
		return nil, err
	}
	if err := r.newClient(); err != nil {
		return nil, err
	}
	defer r.client.CloseIdleConnections()

	var lock *jobdir.Lock
	if r.dir, lock, err = openJobDir(o.Input, o.Out); err != nil {
		return nil, err
	}
	defer lock.Unlock()
	if o.Restart {
		if err := jobdir.Reset(r.dir); err != nil {
			return nil, wrapInput(fmt.Errorf("--restart: %w", err), "")
		}
	}
	if src.inferred != nil {
		r.showInferred()
	}
	api := o.APIIdentity
	if api == "" {
		api = r.client.BaseURL()
	}
	binding := checkpoint.Binding{InputSize: src.size, InputSHA256: src.sum, MappingHash: src.m.Hash(), APIURL: api, Rules: mapping.RulesVersion}
	r.seen = mapping.NewSeen()
	j, st, err := r.openJournal(binding, checkpoint.Options{
		CommitEvery: o.CommitEvery,
		RetryFailed: o.RetryFailed,
		OnDurable:   r.onDurable,
		SeedRef: func(ref string, row int, st checkpoint.Status) {
			r.seen.CheckRow(ref, row, st == checkpoint.StatusRejected)
		},
	})
	if err != nil {
		return nil, err
	}
	defer j.Close()
	r.j, r.st = j, st
	if st.Repaired != "" {
		r.log.Warn("journal repaired after a crash; the rows it lost will be sent again with the same idempotency keys", "detail", st.Repaired)
	}
	// The ids of the job's runs before a --restart answer for rows the API now says exist without an id.
	ids, err := checkpoint.PreviousIDs(r.dir, binding.APIURL)
	if err != nil {
		return nil, wrapInput(err, "")
	}
	if note := ids.Note(); note != "" {
		r.log.Warn("some customer ids kept from before a --restart cannot be used", "detail", note)
	}
	if ids.Len() > 0 {
		r.previous = ids.Lookup
	}
	if !st.Fresh {
		r.rep.resume(st.Counts)
	}
	if st.Complete {
		if _, err := jobdir.ReadSummary(r.dir); err == nil && r.filesPresent() && sameResults(r.dir, r.carry.names, r.o.ExcelBOM) {
			return r.alreadyComplete(binding)
		}
		// Finished, but a job file is missing or --carry changed: rebuild the files, sending nothing.
	}
	if !st.Fresh {
		r.log.Info("resuming", "job", r.dir, "done", r.rep.base, "in_flight", st.InFlight, "from_row", st.ResumeRow)
	}
	return r.importRows(ctx, binding)
}

// onDurable counts the outcomes a group commit made durable (and tells a test's hook).
func (r *runner) onDurable(batch []checkpoint.Outcome) {
	r.c.onDurable(batch)
	if r.o.durableHook != nil {
		r.o.durableHook(batch)
	}
}

// newClient builds the API client and the pacer that its answers feed.
func (r *runner) newClient() error {
	o := r.o
	base := o.APIURL
	if base == "" {
		if o.Key == "" {
			return inputError("set ZENTRA_SECRET_KEY or --secret-key-file, or try `run --sandbox`", "no secret key")
		}
		u, err := zentra.BaseURLForKey(o.Key)
		if err != nil {
			return wrapInput(err, "sandbox keys start with sk_sandbox_, live keys with sk_live_; or give --api-url")
		}
		base = u
	}
	plan := Rate{N: LivePlanPerMinute, Per: time.Minute}
	if o.Key.Environment() == "sandbox" {
		plan = Rate{N: SandboxPlanPerMinute, Per: time.Minute}
	}
	r.pacer = NewPacer(PacerConfig{Ceiling: o.Rate, Plan: plan, Clock: o.Clock, Workers: o.Workers, MaxOutage: o.MaxOutage})
	client, err := zentra.New(zentra.Config{
		Key:               o.Key,
		BaseURL:           base,
		IdempotencyHeader: o.IdempotencyHeader,
		IDPaths:           o.IDPaths,
		Timeout:           o.Timeout,
		MaxConns:          o.Workers,
		Observe: func(rl zentra.RateLimit) {
			r.pacer.Observe(Observation{Limit: rl.Limit, Remaining: rl.Remaining, Reset: rl.Reset,
				Sent: rl.Sent, Received: rl.Received, ServerDate: rl.ServerDate})
		},
		Transport: o.Transport,
		Now:       o.Clock.Now,
	})
	if err != nil {
		return wrapInput(err, "")
	}
	r.client = client
	return nil
}

func (r *runner) showInferred() {
	path := filepath.Join(r.dir, jobdir.InferredMappingFile)
	f, err := atomicfile.Create(path)
	if err == nil {
		if _, err = f.Write(r.src.inferred); err == nil {
			err = f.Commit()
		} else {
			_ = f.Abort()
		}
	}
	if err != nil {
		r.log.Warn("could not save the inferred mapping", "path", path, "err", err)
	}
	switch {
	case r.o.Quiet:
	case strings.EqualFold(r.o.LogFormat, "json"): // one record: every line of a JSON log is JSON
		r.log.Info("no --mapping given: using the mapping inferred from the input; edit it and pass --mapping to change it",
			"input", r.o.Input, "saved_as", path, "mapping", string(r.src.inferred))
	default:
		fmt.Fprintf(r.rep, "no --mapping given: using this mapping inferred from %s (saved as %s; edit it and pass --mapping to change it)\n%s\n",
			r.o.Input, path, strings.TrimRight(string(r.src.inferred), "\n"))
	}
}

func (r *runner) filesPresent() bool {
	for _, name := range []string{ResultsFile, RejectsFile, SummaryFile} {
		if _, err := os.Stat(filepath.Join(r.dir, name)); err != nil {
			return false
		}
	}
	return true
}

// job is one mapped row on its way to a worker.
type job struct {
	row         int
	offset, end int64
	ref         string
	body        []byte
}

// importRows runs the pipeline: one producer reading and mapping rows, N workers sending them.
func (r *runner) importRows(ctx context.Context, binding checkpoint.Binding) (*jobdir.Summary, error) {
	o := r.o
	r.fail = &failFast{limit: o.FailFast}
	r.probs = &problemLog{log: r.log, max: 20}

	if st := r.st; st.ResumeRow > 1 && st.ResumeOffset >= 0 {
		if err := r.src.rd.SeekRecord(st.ResumeOffset, st.ResumeRow); err != nil {
			return nil, wrapInput(fmt.Errorf("resume at row %d: %w", st.ResumeRow, err), "the input may have been replaced while the job was stopped; use --restart or another --out")
		}
	}

	progCtx, stopProgress := context.WithCancel(context.Background())
	progDone := make(chan struct{})
	go func() { defer close(progDone); r.rep.run(progCtx) }()
	r.counted = make(chan struct{})
	go func() {
		defer close(r.counted)
		// A reader of its own over the same bytes the job reads (not the path: a file still being
		// written would count rows the job never sees).
		rd, err := r.src.reader()
		if err != nil {
			return
		}
		if n, err := rd.CountRest(); err == nil {
			r.rep.setTotal(n)
		}
	}()

	// The group's context stops everything on a run-fatal error. A signal (ctx) only stops the intake: no
	// row is started and no request is sent after it, but requests in flight get o.Drain to finish before
	// they are cancelled too.
	g, gctx := errgroup.WithContext(context.WithoutCancel(ctx))
	// intake is ctx's child, so a signal stops it at once; a run-fatal error stops it through gctx.
	intake, stopIntake := context.WithCancel(ctx)
	defer stopIntake()
	r.stop = stopIntake
	defer context.AfterFunc(gctx, stopIntake)()
	reqCtx, cancelReq := context.WithCancel(gctx)
	defer cancelReq()
	stopDrain := context.AfterFunc(ctx, func() {
		_ = o.Clock.Sleep(reqCtx, o.Drain)
		cancelReq()
	})
	defer stopDrain()

	jobs := make(chan job, 2*o.Workers)
	g.Go(func() error {
		defer close(jobs)
		return r.produce(intake, jobs)
	})
	for range o.Workers {
		g.Go(func() error {
			for jb := range jobs {
				if intake.Err() != nil {
					r.left.Add(1)
					continue // not started: the row is read again on resume
				}
				if err := r.send(intake, reqCtx, jb); err != nil {
					return err
				}
			}
			return nil
		})
	}
	runErr := g.Wait()
	// A signal that came after the last row had its outcome interrupted nothing: the run is complete.
	interrupted := ctx.Err() != nil && (!r.eof || r.left.Load() > 0)
	if runErr == nil && !interrupted {
		runErr = r.fail.finish()
	}
	if runErr == nil && interrupted {
		runErr = &Error{Kind: KindInterrupted, Err: ErrInterrupted,
			Hint: "run the same command again to resume: " + o.ResumeCommand}
	}
	if runErr == nil && r.changed != nil {
		runErr = runChangeError(r.changed)
	}
	if err := r.settleReservation(); err != nil && runErr == nil {
		runErr = journalError(err)
	}
	if err := r.j.Sync(); err != nil && runErr == nil {
		runErr = journalError(err)
	}
	stopProgress()
	<-progDone

	return r.finish(binding, runErr)
}

// produce reads the input from the resume point, skips rows already done, maps the rest and hands them to
// the workers. Rows that cannot be sent are recorded as rejected here, never sent. It stops when intake
// ends.
func (r *runner) produce(intake context.Context, jobs chan<- job) error {
	for {
		if intake.Err() != nil {
			// Stopped between rows: whether any row was left unread decides if the run was interrupted.
			_, err := r.src.rd.Next()
			r.eof = errors.Is(err, io.EOF)
			return nil
		}
		rec, err := r.src.rd.Next()
		if errors.Is(err, io.EOF) {
			r.eof = true
			if note, suspect := footerNote(r.src.rd); suspect {
				r.log.Warn(note)
			} else if note != "" {
				r.log.Info(note)
			}
			return nil
		}
		var changed *changedError
		if errors.As(err, &changed) {
			r.inputChanged(changed.at(r.lastRow + 1))
			return nil
		}
		if err != nil {
			return &Error{Kind: KindAborted, Err: fmt.Errorf("read %s: %w", r.o.Input, err), Hint: "check the input file and run the same command again to resume"}
		}
		if r.o.MaxRows > 0 && rec.Row > r.o.MaxRows {
			return nil
		}
		if r.heldBack(rec) {
			return nil
		}
		r.lastRow = rec.Row
		if r.st.Done(rec.Row) {
			continue
		}
		jb, problem := r.prepare(rec)
		if rec.End == r.src.size && !r.src.endsInLineBreak(r.src.rd.Dialect()) {
			r.log.Warn(noLineBreak(rec.Row, rec.Line), "row", rec.Row, "line", rec.Line, "external_reference", jb.ref)
		}
		if problem != "" {
			r.probs.rejected(rec.Row, jb.ref, problem)
			if err := r.j.Record(checkpoint.Outcome{Row: rec.Row, Offset: rec.Offset, End: rec.End, Ref: jb.ref,
				Status: checkpoint.StatusRejected, Error: problem}); err != nil {
				return journalError(err)
			}
			continue
		}
		if err := r.reserve(rec.Row); err != nil {
			return journalError(err)
		}
		select {
		case jobs <- jb:
			r.handedOut = rec.Row
		case <-intake.Done():
			return nil
		}
	}
}

// reserveAhead is how many rows one reservation covers beyond the row that needs it: one fsync for that
// many rows, and at most that many rows that a run killed there counts as perhaps sent.
const reserveAhead = 256

// reserve makes sure, before a row is handed to the workers, that the journal's reservation covers it:
// after a crash, the rows within it that have no outcome are known as perhaps sent by this job, so that
// the API's replayed answer to one of them is this job's own (created), not another job's (existing).
func (r *runner) reserve(row int) error {
	if row <= r.reserved {
		return nil
	}
	upTo := max(row+reserveAhead, r.st.Reserved())
	if r.o.MaxRows > 0 {
		upTo = min(upTo, max(r.o.MaxRows, r.st.Reserved()))
	}
	if err := r.j.Reserve(upTo); err != nil {
		return err
	}
	r.reserved = upTo
	return nil
}

// settleReservation, once no worker sends anything more, narrows this run's reservation to the rows it
// handed out (never below the one the journal held at open, which a killed run may have left): the rows
// it reserved ahead and never handed out were not sent.
func (r *runner) settleReservation() error {
	exact := max(r.handedOut, r.st.Reserved())
	if r.reserved == 0 || exact >= r.reserved {
		return nil
	}
	if err := r.j.Reserve(exact); err != nil {
		return err
	}
	r.reserved = exact
	return nil
}

// prepare maps a record to a request body, or says why it cannot be sent.
func (r *runner) prepare(rec *csvfile.Record) (job, string) {
	c := checkRow(r.src.mapper, r.seen, rec)
	return job{row: rec.Row, offset: rec.Offset, end: rec.End, ref: c.Ref, body: c.Body}, c.problem
}

// checked is a record after the mapping and the duplicate check: its payload (the reference even when the
// row has a problem), and its problem, "" when it can be sent. The problem names fields and columns, never
// values.
type checked struct {
	mapping.Payload
	problem string
}

// checkRow applies the mapping and the duplicate check to one record, exactly as both `run` and `validate`
// do. A row that repeats a reference says which row used it first, and whether that row was itself
// rejected: then neither is sent, and the first must be fixed too.
func checkRow(mapper *mapping.Mapper, seen *mapping.Seen, rec *csvfile.Record) checked {
	if rec.Err != nil {
		return checked{problem: rec.Err.Error()}
	}
	p, err := mapper.Map(rec.Fields)
	var problems []string
	if err != nil {
		problems = append(problems, err.Error())
	}
	if p.Ref != "" {
		if first, firstRejected, dup := seen.CheckRow(p.Ref, rec.Row, err != nil); dup && firstRejected {
			problems = append(problems, fmt.Sprintf("external_reference: duplicate of row %d, which was itself rejected "+
				"(fix both: only the first row with a reference is sent)", first))
		} else if dup {
			problems = append(problems, fmt.Sprintf("external_reference: duplicate of row %d", first))
		}
	}
	return checked{Payload: p, problem: strings.Join(problems, "; ")}
}

func journalError(err error) error {
	var gone *checkpoint.GoneError
	if errors.As(err, &gone) {
		return &Error{Kind: KindAborted, Err: err, Hint: gone.Hint()}
	}
	return &Error{Kind: KindAborted, Err: fmt.Errorf("checkpoint journal: %w", err),
		Hint: "the job directory must be writable with free space; fix it and run the same command again to resume"}
}
