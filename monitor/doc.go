// Package monitor tells a monitor how a run went, without a log to parse: a metrics file for
// node_exporter's textfile collector ([Metrics]), pings in the healthchecks.io convention ([Pinger]) and
// a signed webhook ([Notifier], [Verify]). The importer fills [Figures] from its summary and calls
// these; the package imports nothing of this module, never reads the environment, never prints, and
// never stops a run: a failure comes back as an error for the caller to log.
//
// # The metrics file
//
// [OpenMetrics] takes a path ending in .prom, in node_exporter's --collector.textfile.directory. The file
// is Prometheus text format, written by github.com/prometheus/client_golang's registry and
// prometheus.WriteToTextfile, replaced whole at each write: at most every 30 s during a run
// ([Metrics.Publish], from the progress loop) and at its end ([Metrics.Finish]). A reader sees the old
// file or the new one, never half of one; the new one is synced to disk before it takes the name, and the
// directory after (WriteToTextfile alone does not sync). The file is mode 0644, as WriteToTextfile makes
// it whatever the umask: node_exporter runs as a user of its own and must read it, and it holds only
// figures — no name, path, customer value or secret. Temporary files are hidden (".NAME.zi-tmp-…", not
// *.prom, so never collected).
//
// Every metric has the label feed (the feed's name; "" for a job run without a feed). One file is one
// feed's: each run rewrites it whole, so two feeds must not share one, and OpenMetrics refuses a file
// that holds another feed's metrics, or anything that is not this package's (a mistyped path never
// replaces another exporter's file).
//
//	zentra_import_rows{status}                       gauge    the job's rows by the status of their latest
//	                                                          outcome: created, existing, failed, rejected,
//	                                                          conflict, pending (no outcome yet); every
//	                                                          status always present, their sum the input's rows
//	zentra_import_requests_total{class}              counter  this run's HTTP requests by answer: 2xx, 4xx
//	                                                          (but 429), 429, 5xx, no_answer (refused, reset,
//	                                                          timed out), other (1xx, 3xx)
//	zentra_import_rate_limit_paused_seconds_total    counter  seconds this run's workers waited on 429s
//	zentra_import_run_duration_seconds               gauge    how long this run has run, or ran
//	zentra_import_run_start_timestamp_seconds        gauge    when this run started (Unix seconds)
//	zentra_import_running                            gauge    1 during a run, 0 after it
//	zentra_import_exit_code                          gauge    the exit code of the last run that ended
//	                                                          (during a run: the one before it)
//	zentra_import_last_success_timestamp_seconds     gauge    when the last run that exited 0 ended; set
//	                                                          only on exit 0, kept across runs
//	zentra_import_plan_limit_requests                gauge    the requests per window the API announced
//	zentra_import_plan_window_seconds                gauge    that window (both absent when none was announced)
//	zentra_import_job_info{import_job}               gauge    1; the job's name (its directory's base name)
//
// The 429s are zentra_import_requests_total{class="429"} and the rows pending
// zentra_import_rows{status="pending"}: each figure has one series. Counters count this run: the file is
// rewritten at each run, which Prometheus reads as a counter reset, so increase() and rate() add runs
// up. The job's name is on an info metric rather than on every series, so that a feed's series keep
// their identity from night to night; the label is import_job, not job, which Prometheus sets on every
// scraped series (it would become exported_job). The last success and exit code are carried over by
// reading the previous file back (github.com/prometheus/common/expfmt) when OpenMetrics opens it: the
// file is their only home, so deleting it forgets them.
//
// Alerts that follow from it:
//
//	time() - zentra_import_last_success_timestamp_seconds > 26 * 3600   # no good night for a day
//	zentra_import_exit_code != 0                                       # the last run failed
//	zentra_import_rows{status=~"failed|rejected|conflict"} > 0           # rows to look at
//	time() - zentra_import_run_start_timestamp_seconds > 4 * 3600 and zentra_import_running == 1
//
// # Pings
//
// [NewPinger] takes a healthchecks.io ping URL (https://hc-ping.com/<uuid>, or <ping-key>/<slug>, or any
// service that follows the convention). [Pinger.Start] POSTs URL/start when a run starts;
// [Pinger.Finish] POSTs URL on exit 0 and URL/<exit code> otherwise (URL/fail outside 1–255). Both add
// rid=<uuid> to the query, one run id per Pinger, so that the service pairs each start with its end. The
// body is JSON, the figures only:
//
//	{"event":"exit","exit_code":1,"started":"2026-12-01T02:00:00Z","seconds":812.4,
//	 "rows":{"created":9990,"existing":0,"failed":0,"rejected":10,"conflict":0,"pending":0},
//	 "requests":{"2xx":9990,"4xx":0,"429":3,"5xx":1,"no_answer":0,"other":0},
//	 "paused_seconds":61,"plan_limit":600,"plan_window_seconds":60}
//
// # The webhook
//
// [NewNotifier] takes the receiver's URL and the shared secret (zentra-import: ZENTRA_NOTIFY_SECRET, at
// least 16 bytes). [Notifier.Notify] POSTs a JSON document — zentra-import sends summary.json on a
// non-zero exit — with these headers:
//
//	Content-Type: application/json
//	X-Zentra-Import-Timestamp: 1796090400
//	X-Zentra-Import-Signature: sha256=<64 lowercase hex digits>
//
// The signature is HMAC-SHA256, keyed with the secret's bytes, of the timestamp header's value exactly
// as sent, a "." and the body's bytes exactly as received. A receiver verifies it so:
//
//  1. read the raw body, before any JSON parsing (parsing and re-encoding changes the bytes);
//  2. take the one X-Zentra-Import-Timestamp, decimal Unix seconds, and refuse it if it is more than 5
//     minutes from the receiver's clock (either way): a replayed request is refused once it is old;
//  3. compute hex(HMAC-SHA256(secret, timestamp + "." + body)) and compare it with the hex after
//     "sha256=" in the one X-Zentra-Import-Signature in constant time (Python's hmac.compare_digest,
//     Go's hmac.Equal, Node's crypto.timingSafeEqual); refuse a mismatch.
//
// [Verify] does exactly that, for Go receivers and for tests. A retry resends the same timestamp, body
// and signature, so a receiver that keeps the signatures it saw in the last 5 minutes can drop
// duplicates. In Python:
//
//	mac = hmac.new(secret, ts.encode() + b"." + body, hashlib.sha256).hexdigest()
//	ok = abs(time.time() - int(ts)) <= 300 and hmac.compare_digest("sha256=" + mac, sig)
//
// # Sending
//
// Pings and notifications share one rule and one retry policy ([Retry]; a zero field takes its default). The URL is
// https://, or http:// only to this machine (see [CheckURL]: the API URL's rule, decided without a
// resolver, localhost dialed at 127.0.0.1 then ::1 by this package); no user name or password before
// the host; the proxy comes from the environment (never for loopback); redirects are not followed. A
// request is tried again after no answer, a 408, a 429 or a 5xx — at most 3 attempts, 1 s then 2 s
// apart (or a longer Retry-After in seconds, when it fits), each bounded to 10 s, 30 s in all — and not
// after any other answer. Errors ([URLError], [SendError], [SecretError]) name a URL by its scheme and
// host only: the rest of a ping URL (the check's UUID) or of a webhook URL (a token) is a secret. They
// quote nothing of an answer but its status, and never the secret.
package monitor
