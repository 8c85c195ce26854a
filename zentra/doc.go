// Package zentra is the client of Zentra's identity API: one create-customer request in, one classified
// outcome out. Every other part of the importer reaches the API through it.
//
// [Client.Create] posts a JSON body built by the caller to POST /api/v1/identity/customers with
// "Authorization: Bearer <key>" and, when configured, the caller's idempotency key. Every answer becomes
// exactly one of:
//
//   - *[Created]: a 2xx with the new customer's id, or (Existing) a 409 duplicate of the reference, with the
//     existing id when the body carries one;
//   - *[RowError]: give up on this row (400, 422, other 4xx, a 409 on another field, a 2xx without an id);
//   - *[RetryableError]: try again later (429 with the moment to retry, 408, 425, 5xx, timeouts, a
//     connection that failed before a complete answer); [RetryableError.NoAnswer] says whether the API
//     itself gave no answer (nothing came back, or a gateway's 502, 504 or 503 spoke in its place), which
//     is what tells an outage from one request's trouble;
//   - *[FatalError]: stop the run (401 incl. wrong_environment, 403, 404 or redirect on the route, an
//     untrusted certificate, an unknown host), with a hint saying what to fix;
//
// or, when the caller's context ends first, that context's error. The table from status and error code
// to outcome is the function classify in classify.go.
//
// # What the client understands
//
// Success envelopes {"status":"success","data":{…}}, {"success":true,"data":{…}}, {"data":{…}} and bare
// objects; the id at data.id, data.customer_id, id or customer_id (or configured paths). Error bodies
// {"success":false,"error":{"code","message","field","details"}} with codes in either case, a string
// "error", an "errors" list, top-level "message" or "detail", and non-JSON pages from proxies (classified by
// status alone; the message says "non-JSON answer (text/html)" and never quotes the page). Bodies are read
// up to 1 MiB, then drained (bounded) and closed so that connections are reused. A body nested deeper than
// encoding/json decodes (10,000 levels; an API echoing a deep request) is read token by token, its first
// 128 levels kept, so that the id beside a deep value is found; id paths have at most 32 parts. Redirects are never
// followed (a POST turned into a GET would lose the customer).
//
// The X-RateLimit-Limit, -Remaining and -Reset headers of every response are handed to Config.Observe
// as a [RateLimit]. Reset is documented as Unix seconds; a small number is read as seconds from now and
// garbage is ignored. See [RetryableError] for how a 429's retry moment is chosen.
//
// # Secrets and personal data
//
// The key is a [Secret]: it prints, logs and marshals as "[redacted]", and so do [Config] and [Client].
// It travels only in the Authorization header, never in a URL: [CheckBaseURL] refuses a URL with a user
// name, a password or anything shaped like a key, and [New] one that holds the client's own key, without
// quoting either. Errors never contain the request body (customers' personal data) nor the key; texts from
// the API (message, code, field, Content-Type, a redirect's Location) and from the transport are cleaned
// of control characters and of the key: the client's own key found by value in any case, with separators
// inserted between its characters, URL-encoded, JSON-escaped or base64-encoded, and anything shaped like
// a Zentra key found by its prefix (see [Redact]). Redaction is linear in the text, happens once (a
// redacted text is left as it is) and before a message is cut to its length. [RowError.Message] is the
// API's message, which may quote the row's values: it is meant for the owner-only job files, and
// RowError's slog form leaves it out.
//
// # Transport
//
// Without Config.Transport the client dials with a keep-alive pool sized to Config.MaxConns (the number
// of workers), bounded dial, TLS-handshake and response-header waits, HTTP/2 when offered over TLS, and
// the proxy from the environment. [CheckBaseURL] refuses plain http:// except to loopback, decided without
// a resolver: an IP literal in 127.0.0.0/8 or ::1, or the name localhost, which the transport dials at
// 127.0.0.1, then ::1, itself, so that no DNS answer or /etc/hosts entry can send the key elsewhere.
//
// Each call sends its request once. net/http would resend on its own a request carrying an
// Idempotency-Key header, or a GET, when a reused connection closes before the answer; the client makes
// its requests impossible for the transport to replay, so that the caller's pacer and retry count see
// every request that reaches the API, and a lost answer comes back as a *[RetryableError].
//
// [Client.Lookup] queries GET /api/v1/identity/customers?external_reference=…, which the real API does
// not document: the sandbox offers it as an extension, and the importer uses it only when told to.
package zentra
