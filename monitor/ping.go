package monitor

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/url"
	"strconv"
	"strings"
)

// A Pinger tells a cron monitor when a run starts and how it ended, in the healthchecks.io convention:
// POST URL/start when the run starts, URL on exit 0, URL/<code> on another exit code (1 to 255; URL/fail
// for a code outside that range). Each request carries rid, a run id of its own for the Pinger, so that
// healthchecks.io pairs the start with its end even when runs overlap, and the run's [Figures] as a JSON
// body (healthchecks.io keeps it as the ping's log). A ping that fails is returned as a *[SendError] for
// the caller to log; it never stops a run.
type Pinger struct {
	s   *sender
	rid string
}

// NewPinger checks rawURL (see [CheckURL]) and returns its Pinger. The error is a *[URLError].
func NewPinger(rawURL string, opts Options) (*Pinger, error) {
	s, err := newSender("ping URL", rawURL, opts)
	if err != nil {
		return nil, err
	}
	var id [16]byte
	_, _ = rand.Read(id[:])
	id[6] = id[6]&0x0f | 0x40 // a version 4 UUID, the form healthchecks.io takes for rid
	id[8] = id[8]&0x3f | 0x80
	h := hex.EncodeToString(id[:])
	return &Pinger{s: s, rid: h[:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:]}, nil
}

// pingBody is a ping's JSON body: the figures, with what the ping says.
type pingBody struct {
	Event    string `json:"event"`               // "start" or "exit"
	ExitCode *int   `json:"exit_code,omitempty"` // on "exit"
	Figures
}

// Start pings URL/start.
func (p *Pinger) Start(ctx context.Context, f Figures) error {
	return p.ping(ctx, "ping start", "/start", pingBody{Event: "start", Figures: f})
}

// Finish pings URL (exit 0) or URL/<exitCode>. A run that ends by a signal still reports: the caller
// passes a context that the signal did not cancel (context.WithoutCancel), and the retry deadline
// bounds the wait.
func (p *Pinger) Finish(ctx context.Context, exitCode int, f Figures) error {
	suffix := ""
	switch {
	case exitCode == 0:
	case exitCode > 0 && exitCode <= 255:
		suffix = "/" + strconv.Itoa(exitCode)
	default:
		suffix = "/fail"
	}
	return p.ping(ctx, fmt.Sprintf("ping exit %d", exitCode), suffix, pingBody{Event: "exit", ExitCode: &exitCode, Figures: f})
}

func (p *Pinger) ping(ctx context.Context, what, suffix string, body pingBody) error {
	b, err := json.Marshal(body)
	if err != nil {
		return &SendError{What: what, Shown: p.s.shown, Err: err}
	}
	return p.s.post(ctx, what, p.url(suffix), nil, b)
}

// url is the ping URL with suffix added to its path (after any trailing slash is dropped) and rid to its
// query, the query's own bytes kept.
func (p *Pinger) url(suffix string) *url.URL {
	u := *p.s.base
	u.Path = strings.TrimRight(u.Path, "/") + suffix
	if u.RawPath != "" {
		u.RawPath = strings.TrimRight(u.RawPath, "/") + suffix
	}
	rid := "rid=" + p.rid
	if u.RawQuery != "" {
		rid = u.RawQuery + "&" + rid
	}
	u.RawQuery, u.ForceQuery = rid, false
	return &u
}

// Format prints the Pinger as its URL's scheme and host: the rest of the URL is a secret.
func (p Pinger) Format(f fmt.State, _ rune) {
	_, _ = io.WriteString(f, "monitor.Pinger{"+p.s.shown+"}")
}
