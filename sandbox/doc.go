// Package sandbox is a local stand-in for the Zentra identity API. It plays the documented contract of
// POST /api/v1/identity/customers and, switch by switch, every reading the public documentation leaves
// open, and it injects the faults a batch importer must survive. It serves `zentra-import sandbox`,
// `zentra-import run --sandbox` (started in-process) and every test of the client and the importer. It
// imports nothing of this module.
//
// [New] builds a [Server] (an http.Handler) from a [Config]; [Start] serves one on loopback and returns
// its URL and key. [Server.Stats] and [Server.Customers] let a test assert on what the API saw; the same
// are served as JSON under /_sandbox/.
//
// # Routes
//
//	POST /api/v1/identity/customers   the documented create route
//	GET  /api/v1/identity/customers?external_reference=X
//	                                  lookup; only with Config.Lookup. A SANDBOX EXTENSION: the real API
//	                                  documents no lookup or search
//	GET  /_sandbox/stats              the counters ([Stats]) as JSON; no key needed. A sandbox extension
//	GET  /_sandbox/customers          every customer created, in commit order:
//	                                  [{"id","external_reference","created_at"}]; no other field (the rest
//	                                  is personal data). A sandbox extension
//	POST /_sandbox/reset              forget customers, idempotency records, counters and windows (204).
//	                                  A sandbox extension
//
// Any other path is answered 404 not_found, another method on the customers path 405
// method_not_allowed with Allow; neither needs a key nor counts against the limit. /_sandbox/ cannot
// collide with the API, whose paths start with /api/.
//
// # A create, step by step
//
// Each request passes these steps in order; the first that answers ends it.
//
//  1. Latency + a uniform share of Jitter, spent through Config.Sleep before anything else. If the
//     request's context ends meanwhile (client gone, server closing), 503 and nothing is done.
//  2. Authentication: no Authorization header → 401 unauthorized; not "Bearer <key>" or not the
//     sandbox's key → 401 invalid_api_key; an sk_live_ key → 401 wrong_environment. 401s carry
//     WWW-Authenticate: Bearer. Messages never repeat the key sent.
//  3. Gate (Config.Gated): 403 insufficient_permissions, the identity surface not enabled for the
//     tenant.
//  4. Rate limit (Config.Limit > 0): the request counts against the limit; over it → 429
//     rate_limit_exceeded with Retry-After and error.details.retry_after. Unauthenticated and gated
//     requests do not count (the real API meters a key, and a 401 has none), but their answers carry the
//     limiter's current headers all the same.
//  5. Injected failure (Config.FailRate): 503 service_unavailable, nothing committed; with
//     Config.HTMLErrors the body is a proxy's HTML page (text/html, no X-RateLimit-* headers).
//  6. Body: at most 1 MiB (413 payload_too_large), a JSON object (400 invalid_format), with
//     external_reference a non-blank string (422 missing_required_field, field external_reference; 422
//     invalid_format for a non-string) and every Config.Required field present, not null, not blank
//     (422 missing_required_field; error.field names the first, error.details.fields all). Any other
//     field, nested objects included, is accepted: the tenant's "generic request envelope".
//  7. Idempotency-Key (unless Config.NoIdempotency): at most 255 printable ASCII characters (else 400
//     invalid_format, field Idempotency-Key). A key seen before with a byte-identical body gets the
//     stored answer again (same status, same body, same id) with Idempotent-Replayed: true; with a
//     different body, 422 idempotency_key_reused (a 422 rather than a 409, so that no client mistakes it
//     for a duplicate customer). A request whose key's first request is still being processed waits for
//     it and then gets its answer (processing never blocks, so the wait is short). Only successes are
//     stored (201, and 200 under DuplicateOK): a request answered with an error leaves the key free.
//     Records live as long as the server (or until reset); each keeps the key, a SHA-256 of the body and
//     a pointer to the customer, never the request.
//  8. Duplicate external_reference, by the configured reading:
//     default: 409 conflict, field external_reference, the existing id in error.details.customer_id
//     (and the reference in error.details.external_reference);
//     ConflictWithoutID: the same 409 without any id;
//     DuplicateOK: 200 with the existing record (the first customer's success body, byte for byte);
//     NoUnique: another customer is created (201), counted in Stats.DuplicateCustomers.
//  9. Commit: the customer is stored and 201 answered. With Config.DropRate, that share of commits
//     (idempotency record included) ends with the connection closed and no answer at all: the client
//     sees EOF or a reset, and a retry with the same key is replayed. (Go's http.Transport itself
//     resends a request carrying Idempotency-Key once when a reused connection closes this way, so its
//     caller may see the replay instead of the error.)
//
// # Success bodies
//
// 201 (and 200 replays, lookups, DuplicateOK answers) carry the configured envelope around a data
// object:
//
//	Envelope "status" (default)  {"status":"success","data":{…}}
//	Envelope "success"           {"success":true,"data":{…}}
//	Envelope "data"              {"data":{…}}
//
// The data object holds "id":"cus_…" (11 base62 digits, unique, reproducible with Seed), "object":
// "customer", "external_reference", every other field of the request echoed back as sent (sorted by
// name; a request's own id, customer_id, object or created_at are not echoed) and "created_at" (UTC,
// milliseconds). Config.IDField moves the id: "data.id" (default), "data.customer_id", "id" or
// "customer_id" at the top level beside data, or "none" (a 2xx without an id, which a client must treat
// as a failure).
//
// # Error bodies
//
//	{"success":false,"error":{"code":"…","message":"…","field":"…","status":422,"details":{…}}}
//
// field and details appear when they apply. Config.UpperCodes writes codes in UPPERCASE, as some
// documented pages do. Codes: unauthorized, invalid_api_key, wrong_environment (401);
// insufficient_permissions (403); not_found (404); method_not_allowed (405); conflict (409);
// payload_too_large (413); invalid_format (400, 422); missing_required_field, idempotency_key_reused
// (422); rate_limit_exceeded (429); service_unavailable (503). No message contains a key or a value
// of the request other than external_reference.
//
// # Rate limits
//
// With Config.Limit > 0, every answer outside /_sandbox/ (401, 403, 404 and 429 included; not the HTML
// page of HTMLErrors, nor the 503 of a request cut short during its latency) carries
// X-RateLimit-Limit (Limit), X-RateLimit-Remaining and X-RateLimit-Reset (Unix seconds, an integer). A
// 429 carries Retry-After: Config.RetryAfter (default 60, as documented; a negative RetryAfter means the
// seconds until a request would next be allowed, at least 1). [ParseLimit] reads the "100/min" form.
//
// Fixed window (default, one documented reading): windows of Config.Window aligned to multiples of it
// since the Unix epoch, so a whole-second window ends exactly at X-RateLimit-Reset (a shorter one's Reset
// is rounded up). Limit requests are allowed per window; Remaining is what is left of it.
//
// Token bucket (Config.Bucket, the other reading): capacity Config.Burst (default Limit; the documented
// plans have bursts, e.g. 150 for 100/min), refilled continuously at Limit per Window. Remaining is the
// whole tokens left (it may exceed Limit with a larger burst); Reset is when the bucket would be full
// again, rounded up to the second.
//
// Stats.Windows counts, per Window-long interval aligned to the epoch, the requests the limiter allowed
// and refused, in both modes, so a test can assert "no 429 and at least 95% of the limit used in each
// full window" from the server's side. The last 10,000 intervals are kept.
//
// # Guarantees
//
// A Server is safe for any number of concurrent requests: customers and idempotency records sit in 64
// independently locked shards, counters are atomic, and the limiter's lock covers a few arithmetic
// operations. It logs nothing. A customer costs about 600 bytes (its id, reference, time, stored success
// body and idempotency record). On a 2-core machine a keep-alive Go client and the sandbox together
// reach about 20,000 creates per second over loopback (BenchmarkServer*). [Start] listens on loopback
// only (an IP literal, or localhost as 127.0.0.1, decided without a resolver) unless
// Config.AllowNonLoopback, and [Running.Close] returns within CloseTimeout, whatever the injected latency
// or dropped connections.
package sandbox
