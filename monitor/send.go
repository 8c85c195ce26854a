package monitor

import (
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"time"
)

// Retry is how a ping or a notification is retried: a few attempts, a short backoff that doubles, each
// attempt and the whole bounded in time. A failure is returned to the caller to log; it never stops a
// run.
type Retry struct {
	Attempts int           // at most this many requests (default 3)
	Backoff  time.Duration // wait after the first failure, doubled after each (default 1 s)
	Timeout  time.Duration // one request, from dial to the end of its answer (default 10 s)
	Deadline time.Duration // every attempt and wait together (default 30 s)
}

// defaultRetry is three attempts, 1 s then 2 s apart, 10 s each, 30 s in all.
var defaultRetry = Retry{Attempts: 3, Backoff: time.Second, Timeout: 10 * time.Second, Deadline: 30 * time.Second}

func (r Retry) orDefault() Retry {
	if r.Attempts <= 0 {
		r.Attempts = defaultRetry.Attempts
	}
	if r.Backoff <= 0 {
		r.Backoff = defaultRetry.Backoff
	}
	if r.Timeout <= 0 {
		r.Timeout = defaultRetry.Timeout
	}
	if r.Deadline <= 0 {
		r.Deadline = defaultRetry.Deadline
	}
	return r
}

// Options are what a [Pinger] and a [Notifier] share.
type Options struct {
	Retry     Retry
	Clock     Clock  // nil: the wall clock
	UserAgent string // default "zentra-import"
}

// A SendError is a ping or a notification that did not get through: every attempt failed, a 4xx said
// it never will, or the deadline or the caller's context ended it. It names the URL by scheme and host
// only, and quotes nothing of the answer but its status.
type SendError struct {
	What     string // "ping start", "ping exit 3", "notify"
	Shown    string // the URL as scheme and host (see URLError.Shown)
	Attempts int    // requests sent
	Status   int    // the last answer's HTTP status; 0 when there was none
	Err      error  // why the last attempt failed, or why no more were made
}

func (e *SendError) Error() string {
	tries := "1 attempt"
	if e.Attempts != 1 {
		tries = strconv.Itoa(e.Attempts) + " attempts"
	}
	return fmt.Sprintf("%s to %s failed after %s: %v", e.What, e.Shown, tries, e.Err)
}

func (e *SendError) Unwrap() error { return e.Err }

// sender posts small JSON bodies to one checked URL, with the retry policy.
type sender struct {
	base  *url.URL
	shown string
	retry Retry
	clock Clock
	agent string
	hc    *http.Client
}

func newSender(name, raw string, opts Options) (*sender, error) {
	u, err := CheckURL(name, raw)
	if err != nil {
		return nil, err
	}
	agent := opts.UserAgent
	if agent == "" {
		agent = "zentra-import"
	}
	retry := opts.Retry.orDefault()
	dialer := &net.Dialer{Timeout: retry.Timeout, KeepAlive: 30 * time.Second}
	return &sender{
		base: u, shown: showURL(u.String()), retry: retry, clock: clockOr(opts.Clock), agent: agent,
		hc: &http.Client{
			Transport: &http.Transport{
				Proxy:             http.ProxyFromEnvironment, // never for loopback
				DialContext:       dialLocalhost(dialer.DialContext),
				TLSClientConfig:   &tls.Config{MinVersion: tls.VersionTLS12},
				ForceAttemptHTTP2: true,
				MaxIdleConns:      1,
				IdleConnTimeout:   30 * time.Second,
			},
			// A redirect could lead a request and its secret anywhere, https to http included.
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		},
	}, nil
}

// errDeadline ends the attempts when the deadline for them all has passed.
var errDeadline = errors.New("the deadline for all attempts passed")

// post sends body to u with the retry policy: again after no answer, a 408, a 429 or a 5xx (a 429's or
// 503's Retry-After is waited when it fits in the deadline), never after another answer. header is added
// to every attempt.
func (s *sender) post(ctx context.Context, what string, u *url.URL, header http.Header, body []byte) error {
	deadline := s.clock.Now().Add(s.retry.Deadline)
	fail := &SendError{What: what, Shown: s.shown}
	wait := s.retry.Backoff
	for {
		if err := ctx.Err(); err != nil {
			fail.Err = err
			return fail
		}
		left := deadline.Sub(s.clock.Now())
		if left <= 0 {
			fail.Err = cmpOr(fail.Err, errDeadline)
			return fail
		}
		fail.Attempts++
		status, after, err := s.attempt(ctx, u, header, body, min(s.retry.Timeout, left))
		fail.Status = status
		if err == nil {
			return nil
		}
		fail.Err = err
		if !retryable(status) || fail.Attempts >= s.retry.Attempts {
			return fail
		}
		pause := max(wait, after)
		if s.clock.Now().Add(pause).After(deadline) {
			fail.Err = fmt.Errorf("%w; the next attempt, %s later, would pass the deadline (%s in all)", err, pause, s.retry.Deadline)
			return fail
		}
		if serr := s.clock.Sleep(ctx, pause); serr != nil {
			fail.Err = fmt.Errorf("%w, waiting to try again after: %v", serr, err)
			return fail
		}
		wait *= 2
	}
}

// retryable says whether an attempt that got status (0: no answer) may succeed if made again.
func retryable(status int) bool {
	return status == 0 || status == http.StatusRequestTimeout || status == http.StatusTooManyRequests || status >= 500
}

// attempt sends one request. It returns the answer's status (0: none), a Retry-After it carried, and an
// error unless the answer was a 2xx. Its errors never hold the URL (net/http's *url.Error does).
func (s *sender) attempt(parent context.Context, u *url.URL, header http.Header, body []byte, timeout time.Duration) (int, time.Duration, error) {
	ctx, cancel := context.WithTimeout(parent, timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u.String(), bytes.NewReader(body))
	if err != nil {
		return 0, 0, errors.New("cannot build the request")
	}
	for k, v := range header {
		req.Header[k] = v
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", s.agent)
	resp, err := s.hc.Do(req)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		if ctx.Err() != nil && parent.Err() == nil { // the attempt's own bound, which covers it all
			return 0, 0, fmt.Errorf("no answer within %s", timeout)
		}
		return 0, 0, fmt.Errorf("no answer: %w", err)
	}
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	_ = resp.Body.Close()
	if resp.StatusCode >= 200 && resp.StatusCode < 300 {
		return resp.StatusCode, 0, nil
	}
	var after time.Duration
	if secs, err := strconv.Atoi(resp.Header.Get("Retry-After")); err == nil && secs > 0 {
		after = time.Duration(secs) * time.Second
	}
	// The status by its number and Go's text for it: the answer's own words are not quoted.
	err = fmt.Errorf("answered %d %s", resp.StatusCode, http.StatusText(resp.StatusCode))
	if resp.StatusCode >= 300 && resp.StatusCode < 400 {
		err = fmt.Errorf("%w, a redirect, which is not followed (give the URL it leads to)", err)
	}
	return resp.StatusCode, after, err
}
