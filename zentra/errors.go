package zentra

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// Codes the client itself puts in errors when the API gave none or there was no answer. Codes from the
// API are passed on in lower case.
const (
	CodeNoCustomerID      = "no_customer_id"     // row: a 2xx whose body names no customer id
	CodeInvalidAnswer     = "invalid_answer"     // row: a 2xx whose body is not JSON, or not an object
	CodeTimeout           = "timeout"            // retry: no complete answer within Config.Timeout
	CodeConnectionRefused = "connection_refused" // retry: nothing was sent
	CodeConnectionClosed  = "connection_closed"  // retry: the connection ended before a complete answer
	CodeNetwork           = "network_error"      // retry: any other failure to reach the API
	CodeTLS               = "tls_error"          // fatal: the server's certificate or TLS is not acceptable
	CodeUnknownHost       = "unknown_host"       // fatal: the API's host name does not resolve
	CodeInvalidRequest    = "invalid_request"    // fatal: the caller passed something no API could accept
)

// RowError means: give up on this row, the run goes on. It is a 400, 422 or other 4xx that is not about
// the key, the tenant or the route; a 409 conflict on a field other than external_reference; or a 2xx the
// client could not read an id from (Code [CodeNoCustomerID] or [CodeInvalidAnswer]; the customer may
// have been created). Message is the API's own message, which may quote the row's values: it belongs in
// the owner-only job files, so LogValue leaves it out.
type RowError struct {
	HTTPStatus int
	Code       string // lower case
	Field      string // error.field: which body field the API objects to
	Message    string
}

func (e *RowError) Error() string { return describe(e.HTTPStatus, e.Code, e.Field, e.Message, nil) }

// LogValue logs status, code and field, never the message.
func (e *RowError) LogValue() slog.Value {
	return slog.GroupValue(
		slog.Int("http_status", e.HTTPStatus),
		slog.String("code", e.Code),
		slog.String("field", e.Field),
	)
}

// RetryableError means: this row may succeed later. It is a 429 (RateLimited), 408, 425, a 5xx other than
// 501 and 505, a timeout, or a connection that failed before a complete answer.
//
// RetryAt is the moment the client recommends; the two server hints it is chosen from are kept beside it
// so that a caller may weigh them itself:
//
//   - ResetAt is X-RateLimit-Reset, the end of the rate-limit window (Unix seconds as documented; a small
//     number is read as seconds from now; garbage is ignored). It is exact for a fixed window, while the
//     documented Retry-After of a 429 is a constant 60 seconds.
//   - RetryAfter is Retry-After (seconds or an HTTP date), else error.details.retry_after.
//
// On a 429 RetryAt is ResetAt when that lies in the future, else Received+RetryAfter when given, else zero
// (the caller backs off on its own). A Reset already past on the client's clock is a sign of clock skew
// and loses to Retry-After. On other statuses RetryAt comes from RetryAfter only.
type RetryableError struct {
	HTTPStatus  int // 0 when there was no answer
	Code        string
	Message     string // the API's message, if any
	RetryAt     time.Time
	RetryAfter  time.Duration
	ResetAt     time.Time
	RateLimited bool // a 429, or a rate-limit error code
	// Sent says the whole request reached the connection before it failed: the API may have acted on it
	// (created the customer). False for an answered request, and when nothing was sent (refused).
	Sent bool
	Err  error // the network error, for errors.Is (context.DeadlineExceeded, syscall.ECONNRESET, …)
}

// Error says what answered (status, code, the API's message) or, when nothing did, the class of failure in
// words: "connection_refused: connection refused (nothing was sent)", never the network stack's own text
// with its addresses ("dial tcp 127.0.0.1:8080: connect: …"), which goes to logs through LogValue. The
// text goes to results.csv, which finance reads.
func (e *RetryableError) Error() string {
	s := describe(e.HTTPStatus, e.Code, "", e.Message, nil)
	if e.HTTPStatus == 0 && e.Err != nil {
		s += ": " + plainCause(e.Err)
	}
	switch {
	case e.HTTPStatus == 0 && e.Sent:
		s += " (the request was sent: the customer may have been created)"
	case e.HTTPStatus == 0 && e.Code == CodeConnectionRefused:
		s += " (nothing was sent)"
	}
	if !e.RetryAt.IsZero() {
		s += "; retry at " + e.RetryAt.UTC().Format(time.RFC3339)
	}
	return s
}

func (e *RetryableError) Unwrap() error { return e.Err }

// NoAnswer says that the API itself gave no answer: nothing came back (the connection was refused,
// reset or closed, or the request timed out), or a gateway answered in its place (502, 504, or a 503
// without the API's error code). One such failure may be the row's bad luck; every request of a pool
// failing so is an outage of the API. A 429, a 500 or a 503 in the API's own envelope is an answer.
func (e *RetryableError) NoAnswer() bool { return !e.RateLimited && unanswered(e.HTTPStatus, e.Code) }

// LogValue logs everything but the API's message.
func (e *RetryableError) LogValue() slog.Value {
	attrs := []slog.Attr{
		slog.Int("http_status", e.HTTPStatus),
		slog.String("code", e.Code),
		slog.Bool("rate_limited", e.RateLimited),
		slog.Bool("sent", e.Sent),
	}
	if !e.RetryAt.IsZero() {
		attrs = append(attrs, slog.Time("retry_at", e.RetryAt))
	}
	if e.Err != nil {
		attrs = append(attrs, slog.String("err", e.Err.Error()))
	}
	return slog.GroupValue(attrs...)
}

// FatalError means: stop the run, no other row can succeed either. It is a 401 (invalid_api_key,
// expired_api_key, unauthorized, wrong_environment), a 403, a 404/405/410/501/505 or redirect on the
// route, an untrusted certificate or an unknown host. Hint says what to fix; Error does not include it.
type FatalError struct {
	HTTPStatus int // 0 when there was no answer
	Code       string
	Message    string // the API's message, if any
	Hint       string // what to fix, for the user
	Err        error  // the network error, if any
}

func (e *FatalError) Error() string { return describe(e.HTTPStatus, e.Code, "", e.Message, e.Err) }

func (e *FatalError) Unwrap() error { return e.Err }

// LogValue logs status, code and hint.
func (e *FatalError) LogValue() slog.Value {
	return slog.GroupValue(
		slog.Int("http_status", e.HTTPStatus),
		slog.String("code", e.Code),
		slog.String("hint", e.Hint),
	)
}

// describe writes the one error format of the package: "422 missing_required_field (field email): email
// is required". The status and the code say what answered; the program that prints it says who it is
// (no "zentra:" of its own, which the CLI's "zentra-import:" would stutter).
func describe(status int, code, field, message string, err error) string {
	var b strings.Builder
	if status != 0 {
		b.WriteString(strconv.Itoa(status))
	}
	if code != "" {
		if b.Len() > 0 {
			b.WriteString(" ")
		}
		b.WriteString(code)
	}
	if field != "" {
		b.WriteString(" (field ")
		b.WriteString(field)
		b.WriteString(")")
	}
	if message != "" {
		b.WriteString(": ")
		b.WriteString(message)
	}
	if err != nil {
		b.WriteString(": ")
		b.WriteString(err.Error())
	}
	return b.String()
}

// plainCause says in words what a network error was: the system's own word for it (connection refused,
// network is unreachable), "the connection closed before a complete answer", or the client's own text for
// a timeout; never the operation, the addresses and ports the network stack prefixes it with.
func plainCause(err error) string {
	var errno syscall.Errno
	var timeout interface{ Timeout() bool }
	switch {
	case errors.Is(err, errRequestTimeout), errors.Is(err, context.DeadlineExceeded):
		return "no complete answer in time"
	case errors.As(err, &errno):
		return errno.Error()
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, net.ErrClosed):
		return "the connection closed before a complete answer"
	case errors.As(err, &timeout) && timeout.Timeout():
		return "no complete answer in time"
	}
	var own ownText
	if errors.As(err, &own) {
		return own.Error()
	}
	return "the API could not be reached"
}

// ownText is an error the client wrote itself, fit to be shown as it is.
type ownText struct{ text string }

func (e ownText) Error() string { return e.text }
