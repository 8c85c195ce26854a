// Package importer is the pipeline of the run, validate and mapping commands: it ties the source side
// ([mapping]), the job state ([checkpoint]) and the API client ([zentra]) together.
//
// # The run
//
// [Run] opens the input with its mapping, locks the job directory, opens (or recovers) the journal bound
// to the input's fingerprint, the mapping's hash and the API, and seeks the input to the journal's
// low-water mark. One producer reads rows in order, skips those already done, maps them, rejects the rows
// that cannot be sent (bad data, a repeated external_reference) and hands the rest to a pool of workers
// over a bounded channel. Each worker records that its row is in flight, waits on the [Pacer], sends the
// request with an Idempotency-Key derived from the external_reference alone ([IdempotencyKey]), retries
// transient failures under a [RetryPolicy], and records the outcome. Row failures are recorded, never
// returned; only run-fatal errors (the API refusing the key or the tenant, the first requests all failing,
// the journal failing) stop the pool. At the end, results.csv and rejects.csv are rebuilt from the journal
// in input order (jobdir.Rebuild), and summary.json is written. A job finished before the run starts is not
// run again: the run sends nothing, leaves results.csv, rejects.csv and the journal as they are, and
// records itself in summary.json ([jobdir.RunFigures.AlreadyComplete], no request) beside the job's totals.
//
// # What a run reports
//
// The [jobdir.Summary] keeps this run's figures ([jobdir.RunFigures]), which add up across runs without counting any
// request or outcome twice, apart from the job's totals ([jobdir.JobTotals]). Progress, on a terminal's bar or in
// periodic log lines, counts the whole job (rows done of the total, rows by status) and takes its rate and
// time left from this run's rows alone; the bar's line is fitted to the terminal's width at every redraw
// and never wraps.
//
// # The input's bytes
//
// A job is bound to the bytes its input had when the run opened it. The run hashes them once, whole (the
// binding) and per 64 KiB block, and every reader of the input (the producer, the progress count, the job
// files) reads them through a check of each block before any byte of it is parsed: a row is never read
// from bytes that are not the job's. The producer also watches the file's size, times and inode, and the
// run looks once more at the end. A file that changed while it was read stops the run with [KindAborted]
// and the job is not finished; a file that only grew keeps its bound bytes, whose rows are sent except the
// last record, which may be a row cut by a file still being written. An input that extends the job's
// bytes (the same SHA-256 over them) continues the job: the journal is rebound to it.
//
// # Pacing
//
// One [Pacer] serves the whole pool, retries included. It spreads what the API's X-RateLimit-* headers
// say is left of the window over the time until it resets, learns the window's length from the headers,
// recognises a token bucket, never exceeds the user's --rate, and pauses every worker on a 429 until the
// moment the API names. When the requests of many rows in a row get no answer at all, the API is down:
// every worker pauses, one request at a time probes for its return at widening intervals, the rows are
// not charged for it, and after RunOptions.MaxOutage without an answer the run stops ([KindAborted],
// resumable).
//
// # Signals
//
// The context passed to [Run] stops the intake: no new row is started, requests in flight get
// RunOptions.Drain to finish, the journal is made durable and the job files are written; the error then
// has [KindInterrupted]. Nothing here prints to the terminal except through the progress reporter, which
// also carries the logs so that they never tear the progress bar.
package importer
