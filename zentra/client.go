package zentra

import (
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptrace"
	"net/url"
	"strings"
	"sync/atomic"
	"time"
)

// Client sends create-customer requests and classifies their answers. It is safe for concurrent use.
type Client struct {
	// key returns the secret. A function, so that no reflection-based printing of the struct (%v of a
	// Client value held in another struct's unexported field, say) can reach the text.
	key        func() Secret
	rd         *redactor // finds the key, and anything shaped like a key, in texts from elsewhere
	base       string
	createURL  string
	lookupURL  string
	idemHeader string // canonical form, set once
	idPaths    []string
	timeout    time.Duration
	userAgent  string
	observe    func(RateLimit)
	now        func() time.Time
	hc         *http.Client
}

// errRequestTimeout is the cause of a request context that ran out of Config.Timeout.
var errRequestTimeout = errors.New("request timeout")

// New checks cfg and builds a client. The base URL comes from the key unless given; either way it must
// pass [CheckBaseURL].
func New(cfg Config) (*Client, error) {
	if err := checkKey(cfg.Key); err != nil {
		return nil, err
	}
	raw := cfg.BaseURL
	if raw == "" {
		var err error
		if raw, err = BaseURLForKey(cfg.Key); err != nil {
			return nil, err
		}
	}
	rd := newRedactor(cfg.Key)
	if rd.holds(raw) {
		return nil, errors.New("the API URL holds the secret key; give scheme and host only, like https://api.usezentra.com (the key goes in ZENTRA_SECRET_KEY or a key file)")
	}
	u, err := parseBaseURL(raw)
	if err != nil {
		return nil, err
	}
	if h := cfg.IdempotencyHeader; h != "" && !isToken(h) {
		return nil, fmt.Errorf("idempotency header name %q is not a valid HTTP header name", h)
	}
	c := &Client{
		key:        func() Secret { return cfg.Key },
		rd:         rd,
		base:       u.String(),
		idemHeader: http.CanonicalHeaderKey(cfg.IdempotencyHeader),
		idPaths:    defaultIDPaths,
		timeout:    cfg.Timeout,
		userAgent:  cfg.UserAgent,
		observe:    cfg.Observe,
		now:        cfg.Now,
	}
	c.createURL = c.base + CreatePath
	c.lookupURL = c.base + CreatePath + "?external_reference="
	if cfg.IDPaths != nil {
		if len(cfg.IDPaths) == 0 {
			return nil, errors.New("the list of id paths is empty; give at least one, like data.id")
		}
		for _, p := range cfg.IDPaths {
			if p == "" || strings.HasPrefix(p, ".") || strings.HasSuffix(p, ".") || strings.Contains(p, "..") {
				return nil, fmt.Errorf("id path %q is not a dotted JSON path like data.id", p)
			}
			if n := strings.Count(p, ".") + 1; n > maxIDPathParts {
				return nil, fmt.Errorf("id path %q has %d parts: at most %d", p, n, maxIDPathParts)
			}
		}
		c.idPaths = append([]string(nil), cfg.IDPaths...)
	}
	switch {
	case c.timeout < 0:
		return nil, fmt.Errorf("timeout %v is negative", c.timeout)
	case c.timeout == 0:
		c.timeout = DefaultTimeout
	}
	maxConns := cfg.MaxConns
	switch {
	case maxConns < 0:
		return nil, fmt.Errorf("connection pool size %d is negative", maxConns)
	case maxConns == 0:
		maxConns = DefaultMaxConns
	}
	if c.userAgent == "" {
		c.userAgent = DefaultUserAgent
	}
	if c.now == nil {
		c.now = time.Now
	}
	rt := cfg.Transport
	if rt == nil {
		rt = newTransport(maxConns, c.timeout)
	}
	c.hc = &http.Client{
		Transport:     rt,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	return c, nil
}

// newTransport is tuned for many small requests to one host by a fixed pool of workers: a keep-alive
// pool as large as the pool of workers, bounded dial, TLS and header waits, HTTP/2 when the server offers
// it over TLS, and the proxy from the environment (HTTPS_PROXY, NO_PROXY; never for loopback). The name
// localhost is dialed at loopback without a resolver (loopbackDial).
func newTransport(maxConns int, timeout time.Duration) *http.Transport {
	dialer := &net.Dialer{Timeout: min(10*time.Second, timeout), KeepAlive: 30 * time.Second}
	return &http.Transport{
		Proxy:                 http.ProxyFromEnvironment,
		DialContext:           loopbackDial(dialer.DialContext),
		ForceAttemptHTTP2:     true,
		TLSClientConfig:       &tls.Config{MinVersion: tls.VersionTLS12},
		TLSHandshakeTimeout:   min(10*time.Second, timeout),
		ResponseHeaderTimeout: timeout,
		ExpectContinueTimeout: time.Second,
		MaxIdleConns:          maxConns,
		MaxIdleConnsPerHost:   maxConns,
		MaxConnsPerHost:       maxConns,
		IdleConnTimeout:       90 * time.Second,
	}
}

// dialFunc is the shape of net.Dialer.DialContext.
type dialFunc func(ctx context.Context, network, addr string) (net.Conn, error)

// loopbackDial dials the host name localhost (any case) at 127.0.0.1, then ::1, itself, and every other
// address with dial. The name never reaches a resolver: plain http:// is allowed to localhost because it
// is this machine, and neither a DNS answer nor an edited /etc/hosts may make it another one. https://
// localhost is dialed the same way (the certificate is still checked for the name).
func loopbackDial(dial dialFunc) dialFunc {
	return func(ctx context.Context, network, addr string) (net.Conn, error) {
		host, port, err := net.SplitHostPort(addr)
		if err != nil || !isLocalhost(host) {
			return dial(ctx, network, addr)
		}
		var first error
		for _, ip := range []string{"127.0.0.1", "::1"} {
			if network == "tcp6" && ip == "127.0.0.1" || network == "tcp4" && ip == "::1" {
				continue
			}
			conn, err := dial(ctx, network, net.JoinHostPort(ip, port))
			if err == nil {
				return conn, nil
			}
			if first == nil {
				first = err
			}
			if ctx.Err() != nil {
				break
			}
		}
		return nil, first
	}
}

// BaseURL returns the API's base URL the client sends to, without a trailing slash.
func (c *Client) BaseURL() string { return c.base }

// CloseIdleConnections closes the keep-alive connections not in use.
func (c *Client) CloseIdleConnections() { c.hc.CloseIdleConnections() }

// String describes the client without its key.
func (c Client) String() string { return "zentra.Client{" + c.base + ", key " + redacted + "}" }

// GoString is String, for %#v.
func (c Client) GoString() string { return c.String() }

// Format prints String for every verb, so that no field of the client is ever printed.
func (c Client) Format(f fmt.State, _ rune) { _, _ = io.WriteString(f, c.String()) }

// LogValue logs the base URL only.
func (c Client) LogValue() slog.Value {
	return slog.GroupValue(slog.String("base_url", c.base), slog.String("key", redacted))
}

// Created is a create that succeeded: the API made the customer (or, with Existing, already had one for
// the reference). An API that answers a duplicate 200 with the existing record gives a Created that
// looks like any other, with HTTPStatus 200 and the existing id.
type Created struct {
	ID         string // the customer's id; "" only for an Existing answer that did not say it
	HTTPStatus int
	Existing   bool // a 409: the customer existed already
	Replayed   bool // the API replayed an earlier answer to the same idempotency key (Idempotent-Replayed)
}

// Create posts body, a JSON object the caller built, to the customers route, with idemKey in the
// idempotency header when both are set. It returns a *Created for 2xx answers with an id and 409
// duplicates, and otherwise an error that is a *RowError, *RetryableError or *FatalError; when ctx ends
// first, ctx's error (wrapped). Nothing of body ever appears in an error.
func (c *Client) Create(ctx context.Context, idemKey string, body []byte) (*Created, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.createURL, bytes.NewReader(body))
	if err != nil {
		return nil, &FatalError{Code: CodeInvalidRequest, Message: "cannot build the request", Err: err}
	}
	req.Header["Content-Type"] = []string{"application/json"}
	if c.idemHeader != "" && idemKey != "" {
		if !isHeaderValue(idemKey) {
			return nil, &FatalError{Code: CodeInvalidRequest, Message: "the idempotency key has characters a header cannot carry",
				Hint: "this is a bug in the caller: idempotency keys must be printable ASCII"}
		}
		req.Header[c.idemHeader] = []string{idemKey}
	}
	a, err := c.do(ctx, req)
	if err != nil {
		return nil, err
	}
	res, err := c.created(a)
	return res, c.scrubTyped(err)
}

// Lookup asks GET /api/v1/identity/customers?external_reference=ref for the customer of a reference.
// The real API documents no such route; the sandbox offers it as an extension, and callers use it only
// when the user says the API has it. A 404 answered in JSON is "not found"; an HTML 404 means the route
// does not exist (*FatalError). Other answers are classified as for Create.
func (c *Client) Lookup(ctx context.Context, ref string) (id string, found bool, err error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, c.lookupURL+url.QueryEscape(ref), nil)
	if err != nil {
		return "", false, &FatalError{Code: CodeInvalidRequest, Message: "cannot build the request", Err: err}
	}
	a, err := c.do(ctx, req)
	if err != nil {
		return "", false, err
	}
	id, found, err = c.found(a)
	return id, found, c.scrubTyped(err)
}

// found turns an answer into the result of a lookup.
func (c *Client) found(a *answer) (id string, found bool, err error) {
	r := a.reply
	switch {
	case a.status == http.StatusNotFound && r.obj != nil:
		return "", false, nil
	case a.status >= 200 && a.status < 300 && r.obj != nil && !r.failed && !r.hasErr:
		if id, _ := findID(r.obj, c.idPaths); id != "" {
			return id, true, nil
		}
		if list, ok := r.obj["data"].([]any); ok && len(list) == 0 {
			return "", false, nil // a list of the reference's customers, empty
		}
		return "", false, &RowError{HTTPStatus: a.status, Code: CodeNoCustomerID,
			Message: fmt.Sprintf("the lookup answered %d without a customer id (looked in %s)", a.status, strings.Join(c.idPaths, ", "))}
	}
	cr, err := c.created(a)
	if err == nil { // a 409, or a 2xx that is no answer to a lookup
		err = &RowError{HTTPStatus: cr.HTTPStatus, Code: CodeInvalidAnswer, Message: "unexpected answer to a lookup"}
	}
	return "", false, err
}

// answer is one HTTP answer, read and decoded.
type answer struct {
	status   int
	header   http.Header
	received time.Time
	code     string // normalised error code
	reply    *reply
}

// do sends req within the client's timeout, reads the answer (bounded), reports its rate-limit headers
// and decodes it. Errors are the network's, classified; an HTTP answer is never an error here.
func (c *Client) do(ctx context.Context, req *http.Request) (*answer, error) {
	h := req.Header
	h["Authorization"] = []string{"Bearer " + string(c.key())}
	h["Accept"] = []string{"application/json"}
	h["User-Agent"] = []string{c.userAgent}

	noReplay(req)

	rctx, cancel := context.WithTimeoutCause(ctx, c.timeout, errRequestTimeout)
	defer cancel()
	var sent atomic.Bool
	trace := &httptrace.ClientTrace{WroteRequest: func(i httptrace.WroteRequestInfo) { sent.Store(i.Err == nil) }}
	req = req.WithContext(httptrace.WithClientTrace(rctx, trace))

	start := c.now()
	resp, err := c.hc.Do(req)
	if err != nil {
		return nil, c.networkError(ctx, rctx, err, sent.Load())
	}
	defer drainClose(resp.Body)
	a := &answer{status: resp.StatusCode, header: resp.Header, received: c.now()}
	if c.observe != nil {
		if rl, ok := parseRateLimit(resp.Header, a.received); ok {
			rl.Sent = start
			c.observe(rl)
		}
	}
	body, tooLarge, err := readBody(resp)
	cut := err != nil
	if cut {
		nerr := c.networkError(ctx, rctx, err, true)
		var re *RetryableError
		if !errors.As(nerr, &re) {
			return nil, nerr
		}
		if a.status >= 200 && a.status < 300 {
			re.HTTPStatus = a.status
			re.Message = fmt.Sprintf("the answer was cut off after %d (the customer was probably created; "+
				"asking again with the same idempotency key or reference returns it)", a.status)
			return nil, re
		}
	}
	a.decode(body, tooLarge, cut, c.rd)
	return a, nil
}

// noReplay keeps the transport from sending req a second time on its own. net/http resends a request
// whose reused connection closes before any answer when it takes the request for replayable: a GET (HEAD,
// OPTIONS, TRACE), or any request carrying an Idempotency-Key or X-Idempotency-Key header, provided its
// body can be had again, which it can when there is none or GetBody is set (http.NewRequest sets it for
// an in-memory body). Such a resend reaches the API behind the caller's back: its pacer never admitted it
// and its retry policy never counted it (a run with one attempt a row sent 1,410 creates for 1,000 rows).
// So GetBody is cleared, and a request without a body gets an empty one that cannot be rewound: nothing
// of it goes on the wire (over HTTP/1.1 net/http sends a GET whose body reads nothing as a GET without a
// body; over HTTP/2 the headers are followed by an empty end of stream), but the transport no longer
// counts the request as replayable (Request.isReplayable, and shouldRetryRequest in transport.go). A failure then comes back to the caller, whose policy alone decides on another attempt.
// (HTTP/2 still moves a request to another connection when the one it picked proved unusable before the
// request was sent on it: nothing of it reached the server.)
func noReplay(req *http.Request) {
	if req.Body == nil || req.Body == http.NoBody {
		req.Body, req.ContentLength = emptyBody{}, 0
	}
	req.GetBody = nil
}

// emptyBody is a request body with nothing in it that cannot be read again; see noReplay.
type emptyBody struct{}

func (emptyBody) Read([]byte) (int, error) { return 0, io.EOF }
func (emptyBody) Close() error             { return nil }

// decode reads the body of the answer; its texts come out without what rd redacts.
func (a *answer) decode(body []byte, tooLarge, cut bool, rd *redactor) {
	a.reply = decodeReply(a.header.Get("Content-Type"), body, tooLarge, cut, rd)
	a.code = normCode(a.reply.code)
}

// created turns an answer into the result of a create.
func (c *Client) created(a *answer) (*Created, error) {
	r := a.reply
	replayed := strings.EqualFold(strings.TrimSpace(a.header.Get("Idempotent-Replayed")), "true")
	if a.status >= 200 && a.status < 300 {
		if r.obj == nil {
			return nil, &RowError{HTTPStatus: a.status, Code: CodeInvalidAnswer,
				Message: r.problem + "; the customer may have been created"}
		}
		id, unusable := findID(r.obj, c.idPaths)
		if id != "" && !r.failed {
			return &Created{ID: id, HTTPStatus: a.status, Replayed: replayed}, nil
		}
		if !r.failed && !r.hasErr {
			msg := fmt.Sprintf("the API answered %d without a customer id (looked in %s)", a.status, strings.Join(c.idPaths, ", "))
			if unusable != "" {
				msg += "; " + unusable
			}
			return nil, &RowError{HTTPStatus: a.status, Code: CodeNoCustomerID,
				Message: msg + "; the customer may have been created: if the API puts the id elsewhere, configure its path"}
		}
	}
	cls := classify(a.status, a.code, r.field, r.failed || r.hasErr)
	if cls == classExisting {
		id, _ := findID(r.obj, conflictIDPaths, c.idPaths)
		return &Created{ID: id, HTTPStatus: a.status, Existing: true, Replayed: replayed}, nil
	}
	return nil, c.failure(cls, a)
}

// failure builds the error of an answer classified as a row, retry or fatal failure.
func (c *Client) failure(cls class, a *answer) error {
	r := a.reply
	code := strings.ToLower(r.code)
	msg := r.message
	if msg == "" {
		msg = r.problem
	}
	switch cls {
	case classRetry:
		e := &RetryableError{HTTPStatus: a.status, Code: code, Message: msg,
			RateLimited: a.status == http.StatusTooManyRequests || rateCodes[a.code]}
		c.retryTiming(e, a)
		return e
	case classFatal:
		return &FatalError{HTTPStatus: a.status, Code: code, Message: msg, Hint: c.hint(a)}
	}
	if code == "" && a.status >= 200 && a.status < 300 {
		code = CodeInvalidAnswer
	}
	return &RowError{HTTPStatus: a.status, Code: code, Field: r.field, Message: msg}
}

// scrub returns err, or an error of the same chain whose text does not contain the key.
func (c *Client) scrub(err error) error {
	if text := err.Error(); c.rd.holds(text) {
		return &scrubbed{text: c.rd.redact(text), err: err}
	}
	return err
}

// scrubTyped removes the key, whatever its shape, case or spacing, from every text of an error an answer
// produced: the API's code, field and message, the description of an unreadable answer (its Content-Type),
// a hint that quotes a redirect's Location. It is the one place this is done, as the error leaves the
// client. The texts were cleaned when the answer was decoded; cleaning them again changes nothing.
func (c *Client) scrubTyped(err error) error {
	clean := c.rd.redact
	switch e := err.(type) {
	case nil:
		return nil
	case *RowError:
		e.Code, e.Field, e.Message = clean(e.Code), clean(e.Field), clean(e.Message)
	case *RetryableError:
		e.Code, e.Message = clean(e.Code), clean(e.Message)
		if e.Err != nil {
			e.Err = c.scrub(e.Err)
		}
	case *FatalError:
		e.Code, e.Message, e.Hint = clean(e.Code), clean(e.Message), clean(e.Hint)
		if e.Err != nil {
			e.Err = c.scrub(e.Err)
		}
	default:
		return c.scrub(err)
	}
	return err
}

// scrubbed is an error whose text had the key removed; it unwraps to the original.
type scrubbed struct {
	text string
	err  error
}

func (e *scrubbed) Error() string { return e.text }
func (e *scrubbed) Unwrap() error { return e.err }

// retryTiming fills in when to retry; see [RetryableError] for the choice.
func (c *Client) retryTiming(e *RetryableError, a *answer) {
	now := a.received
	after, ok := parseRetryAfter(a.header.Get("Retry-After"), now)
	if !ok && a.reply.details != nil {
		if f, good := parseSeconds(text(a.reply.details["retry_after"])); good {
			after, ok = secondsDuration(f)
		}
	}
	if ok {
		e.RetryAfter = after
	}
	if rl, good := parseRateLimit(a.header, now); good {
		e.ResetAt = rl.Reset
	}
	switch {
	case e.RateLimited && e.ResetAt.After(now):
		e.RetryAt = e.ResetAt
	case ok:
		e.RetryAt = now.Add(after)
	}
}

// hint says what to fix for a fatal answer.
func (c *Client) hint(a *answer) string {
	code := a.code
	switch {
	case code == "wrong_environment":
		switch env := c.key().Environment(); env {
		case "sandbox":
			return "the secret key is a sandbox key (sk_sandbox_…) and " + c.base + " is not the sandbox API: use " +
				SandboxURL + " (or no API URL), or a live key"
		case "live":
			return "the secret key is a live key (sk_live_…) and " + c.base + " is not the live API: use " +
				LiveURL + " (or no API URL), or a sandbox key"
		}
		return "the secret key belongs to the other environment than " + c.base + ": use a key of this environment or the matching API URL"
	case code == "expired_api_key" || code == "revoked_api_key":
		return "the secret key is no longer valid: create a new one in the Zentra dashboard and use it"
	case a.status == http.StatusUnauthorized || code == "invalid_api_key" || code == "unauthorized":
		return "the API refused the secret key: check that ZENTRA_SECRET_KEY (or --secret-key-file) holds a current secret key of this environment"
	case a.status == http.StatusForbidden || code == "insufficient_permissions" || code == "forbidden":
		return "the key may not create customers here: ask Zentra to enable the identity product (identity customers) for the tenant, or use a key that has the permission"
	case a.status == http.StatusProxyAuthRequired:
		return "the HTTP proxy (HTTPS_PROXY) asks for credentials: fix the proxy settings, or bypass it with NO_PROXY"
	case a.status >= 300 && a.status < 400:
		if loc := c.rd.location(a.header.Get("Location")); loc != "" {
			return "the API URL " + c.base + " redirects to " + loc + ": give the address it redirects to as the API URL"
		}
		return "the API URL " + c.base + " redirects: give the final address as the API URL"
	}
	return "no customers route at " + c.base + CreatePath + ": check the API URL (scheme and host only, like " + LiveURL +
		") and that the identity product is enabled for the tenant"
}

// location makes a redirect target safe to show: no credentials, no query, bounded.
func (rd *redactor) location(raw string) string {
	u, err := url.Parse(strings.TrimSpace(raw))
	if err != nil || raw == "" {
		return ""
	}
	u.User, u.RawQuery, u.Fragment = nil, "", ""
	return rd.clean(u.String(), 200)
}

// networkError classifies a failure to get a complete answer. ctx is the caller's context, rctx the
// request's (with the timeout).
func (c *Client) networkError(ctx, rctx context.Context, err error, sent bool) error {
	if ctx.Err() != nil {
		return fmt.Errorf("%w", ctx.Err())
	}
	if errors.Is(context.Cause(rctx), errRequestTimeout) {
		return &RetryableError{Code: CodeTimeout, Sent: sent, Err: ownText{fmt.Sprintf("no complete answer within %v", c.timeout)}}
	}
	var ue *url.Error
	if errors.As(err, &ue) {
		err = ue.Err // its text repeats the URL; the error says which request anyway
	}
	err = c.scrub(err)
	var (
		dns     *net.DNSError
		netErr  net.Error
		recHdr  tls.RecordHeaderError
		certErr *tls.CertificateVerificationError
		alert   tls.AlertError
	)
	switch {
	// net/http reports an HTTP answer to a TLS hello only in words (stable since Go 1.11).
	case errors.As(err, &recHdr) || strings.Contains(err.Error(), "server gave HTTP response to HTTPS client"):
		return &FatalError{Code: CodeTLS, Err: err,
			Hint: "the server at " + c.base + " does not speak TLS: check the scheme and port of the API URL"}
	case errors.As(err, &certErr) || errors.As(err, &alert) || isX509(err):
		return &FatalError{Code: CodeTLS, Err: err,
			Hint: "the TLS connection to " + c.base + " cannot be trusted: check the API URL and any HTTPS proxy in between (never turn certificate checks off)"}
	case errors.As(err, &dns) && dns.IsNotFound:
		return &FatalError{Code: CodeUnknownHost, Err: err, Hint: "the API's host name does not exist: check the API URL " + c.base}
	case isRefused(err):
		return &RetryableError{Code: CodeConnectionRefused, Err: err}
	case errors.As(err, &netErr) && netErr.Timeout():
		return &RetryableError{Code: CodeTimeout, Sent: sent, Err: err}
	case isClosed(err):
		return &RetryableError{Code: CodeConnectionClosed, Sent: sent, Err: err}
	}
	return &RetryableError{Code: CodeNetwork, Sent: sent, Err: err}
}

// readBody reads at most maxBody bytes of the answer; tooLarge says there was more.
func readBody(resp *http.Response) (body []byte, tooLarge bool, err error) {
	var buf bytes.Buffer
	if n := resp.ContentLength; n > 0 && n <= maxBody {
		buf.Grow(int(n) + 1) // room for the read that sees the end
	} else {
		buf.Grow(512)
	}
	_, err = buf.ReadFrom(io.LimitReader(resp.Body, maxBody+1))
	if buf.Len() > maxBody {
		return buf.Bytes()[:maxBody], true, nil
	}
	return buf.Bytes(), false, err
}

// drainClose reads what is left of a body, bounded, so that the connection can be reused, and closes it.
func drainClose(rc io.ReadCloser) {
	_, _ = io.CopyN(io.Discard, rc, drainLimit)
	_ = rc.Close()
}

// isToken says whether s is a valid HTTP header name.
func isToken(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.IndexByte("!#$%&'*+-.^_`|~", c) >= 0) {
			return false
		}
	}
	return s != ""
}

// isHeaderValue says whether s is printable ASCII (spaces inside allowed).
func isHeaderValue(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < ' ' || c >= 0x7f {
			return false
		}
	}
	return strings.TrimSpace(s) == s
}
