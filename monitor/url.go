package monitor

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"net/url"
	"strings"
)

// A URLError is a ping or notify URL this package refuses. Its message quotes the URL only as scheme
// and host ([URLError.Shown]): the rest of a ping URL (the check's UUID or ping key) or of a webhook URL
// (a token in its path or query) is a secret that lets anyone send in its name.
type URLError struct {
	Name   string // "ping URL" or "notify URL"
	Shown  string // the URL as it may be quoted: scheme and host, "…" for the rest
	Reason string
	Hint   string // how to fix it
}

func (e *URLError) Error() string {
	if e.Shown == "" {
		return e.Name + ": " + e.Reason
	}
	return e.Name + " " + e.Shown + ": " + e.Reason
}

// CheckURL checks a ping or notify URL (name says which, for the message) against the rule the API URL
// follows too (zentra.CheckBaseURL): https:// to any host; plain http:// only to this machine, decided
// without a resolver — an IP literal in 127.0.0.0/8 or ::1 (IPv4-mapped too) without a zone, or the
// name localhost in any case, which this package dials at 127.0.0.1, then ::1, itself, so that neither
// DNS nor /etc/hosts can send a plain-text request elsewhere ("localhost." and "x.localhost" are names
// for a resolver, so they are not loopback). It refuses a user name or password before an @ (a secret
// the receiver never needs in clear on every request), a fragment, and a host written as a shorthand
// IPv4 number (127.1, 0x7f.1, 2130706433), which systems read differently. A query is kept (a
// healthchecks.io slug URL's ?create=1, a token some receivers take there).
//
// The rule is a copy of zentra's, not an import of it: this package imports nothing of the module, so
// that the importer and any other program can use it alone. Kept in step by TestCheckURL's table, which
// holds the cases of zentra's TestCheckBaseURL that apply to a URL with a path.
func CheckURL(name, raw string) (*url.URL, error) {
	raw = strings.TrimSpace(raw)
	shown := showURL(raw)
	refuse := func(reason, hint string) (*url.URL, error) {
		return nil, &URLError{Name: name, Shown: shown, Reason: reason, Hint: hint}
	}
	if raw == "" {
		return refuse("it is empty", "give an https:// URL")
	}
	if _, auth := splitAuthority(raw); strings.Contains(auth, "@") {
		return refuse("it carries credentials before an @",
			"remove them: a ping or notify URL takes its secret in its path or query, never before the host")
	}
	if !strings.Contains(raw, "://") {
		if _, err := url.Parse("https://" + strings.TrimPrefix(raw, "//")); err == nil {
			_, auth := splitAuthority(raw)
			scheme := "https"
			if h, _, err := net.SplitHostPort(auth); err == nil && isLoopback(h) || isLoopback(auth) {
				scheme = "http"
			}
			return refuse("it has no scheme", "write it as "+scheme+"://"+strings.TrimPrefix(shown, "//"))
		}
	}
	u, err := url.Parse(raw)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err // *url.Error quotes the whole URL
		}
		return refuse("it is not a URL: "+err.Error(), "write it as https://HOST/PATH")
	}
	switch {
	case u.Scheme != "https" && u.Scheme != "http":
		return refuse("the scheme must be https (or http to this machine), not "+u.Scheme, "write it as https://HOST/PATH")
	case u.Opaque != "" || u.Host == "":
		return refuse("it names no host", "write it as "+u.Scheme+"://HOST/PATH")
	case u.User != nil:
		return refuse("it carries credentials before an @", "remove them")
	case u.Fragment != "" || strings.HasSuffix(raw, "#"):
		return refuse("it has a fragment (#…), which is never sent", "remove it")
	}
	u.Host = strings.ToLower(u.Host)
	host := u.Hostname()
	if shorthandIPv4(host) {
		return refuse("the host "+host+" is an IPv4 address in a shorthand form that systems read differently",
			"write it in full, like 127.0.0.1")
	}
	if u.Scheme == "http" && !isLoopback(host) {
		return refuse("plain http:// is allowed only to this machine (127.0.0.1, ::1, localhost)",
			"use https://: over a network the request and its secret would travel unencrypted")
	}
	return u, nil
}

// isLoopback says whether host is this machine without asking a resolver: the name localhost, or an IP
// literal in 127.0.0.0/8 or ::1 with no zone.
func isLoopback(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip, err := netip.ParseAddr(host)
	return err == nil && ip.Zone() == "" && ip.Unmap().IsLoopback()
}

// shorthandIPv4 says whether host, not an IP literal, ends in a label of digits only, or of 0x and hex
// digits: an IPv4 address in a shorthand form (127.1, 0x7f.1, 2130706433, 1.2.3.4.) that inet_aton
// takes for an address and Go's resolver for a name to look up; no top-level domain is all digits.
func shorthandIPv4(host string) bool {
	if _, err := netip.ParseAddr(host); err == nil {
		return false
	}
	trimmed := strings.TrimSuffix(host, ".")
	last := strings.ToLower(trimmed[strings.LastIndexByte(trimmed, '.')+1:])
	digits := "0123456789"
	if rest, hex := strings.CutPrefix(last, "0x"); hex {
		last, digits = rest, "0123456789abcdef"
	} else if last == "" {
		return false
	}
	return strings.Trim(last, digits) == ""
}

// splitAuthority splits raw before its authority (scheme and "//"), and returns the authority: what
// comes before the first /, ? or # after it.
func splitAuthority(raw string) (before, auth string) {
	if i := strings.Index(raw, "//"); i >= 0 {
		before, raw = raw[:i+2], raw[i+2:]
	}
	if j := strings.IndexAny(raw, "/?#"); j >= 0 {
		raw = raw[:j]
	}
	return before, raw
}

// showURL is raw as a message may quote it: its scheme and host, "…" for credentials before an @ and
// for everything after the host, cut to 100 bytes.
func showURL(raw string) string {
	before, auth := splitAuthority(raw)
	shown := auth
	if at := strings.LastIndexByte(auth, '@'); at >= 0 {
		shown = "…" + auth[at:]
	}
	if len(raw) > len(before)+len(auth) {
		shown += "/…"
	}
	shown = strings.ToLower(before) + shown
	if len(shown) > 100 {
		shown = shown[:100] + "…"
	}
	return strings.ToValidUTF8(shown, "?")
}

// dialLocalhost dials the name localhost at 127.0.0.1, then ::1, itself, and every other address with
// dial: the name never reaches a resolver, which is what lets CheckURL allow plain http:// to it.
func dialLocalhost(dial func(ctx context.Context, network, addr string) (net.Conn, error)) func(ctx context.Context, network, addr string) (net.Conn, error) {
	return func(ctx context.Context, network, addr string) (net.Conn, error) {
		host, port, err := net.SplitHostPort(addr)
		if err != nil || !strings.EqualFold(host, "localhost") {
			return dial(ctx, network, addr)
		}
		ips := map[string][]string{"tcp4": {"127.0.0.1"}, "tcp6": {"::1"}}[network]
		if ips == nil {
			ips = []string{"127.0.0.1", "::1"}
		}
		var first error
		for _, ip := range ips {
			conn, err := dial(ctx, network, net.JoinHostPort(ip, port))
			if err == nil {
				return conn, nil
			}
			first = cmpOr(first, err)
			if ctx.Err() != nil {
				break
			}
		}
		return nil, fmt.Errorf("dial localhost (127.0.0.1, ::1): %w", first)
	}
}

func cmpOr(a, b error) error {
	if a != nil {
		return a
	}
	return b
}
