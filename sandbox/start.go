package sandbox

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"net/netip"
	"strings"
	"sync"
	"time"
)

// CloseTimeout bounds how long [Running.Close] waits for requests in progress before it closes their
// connections.
const CloseTimeout = 5 * time.Second

// Running is a sandbox serving HTTP on a listener of its own.
type Running struct {
	// URL is the base URL to give a client: "http://127.0.0.1:PORT", without a trailing slash.
	URL string
	// Key is the secret key the sandbox accepts.
	Key string
	// Server is the sandbox itself (counters, customers, reset).
	Server *Server

	srv       *http.Server
	cancel    context.CancelFunc
	stopped   chan struct{}
	serveErr  error
	closeOnce sync.Once
	closeErr  error
}

// NonLoopbackError refuses to listen beyond this machine without Config.AllowNonLoopback.
type NonLoopbackError struct{ Addr string }

func (e *NonLoopbackError) Error() string {
	return "sandbox: refusing to listen on " + e.Addr + ", which is not a loopback address: the sandbox accepts " +
		"anyone with its key; listen on 127.0.0.1:PORT or [::1]:PORT (or allow it explicitly)"
}

// Start listens on addr ("" means 127.0.0.1:0, a free port) and serves a sandbox configured by cfg until
// Close. It refuses an address that is not loopback ("localhost", 127.0.0.0/8, ::1; an empty host means
// every interface) unless cfg.AllowNonLoopback is set; "localhost" is listened on as 127.0.0.1, without
// asking a resolver.
func Start(addr string, cfg Config) (*Running, error) {
	s, err := New(cfg)
	if err != nil {
		return nil, err
	}
	if addr == "" {
		addr = "127.0.0.1:0"
	}
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, fmt.Errorf("sandbox: listen address %q: want HOST:PORT, like 127.0.0.1:8080", addr)
	}
	if !cfg.AllowNonLoopback && !loopbackHost(host) {
		return nil, &NonLoopbackError{Addr: addr}
	}
	if strings.EqualFold(host, "localhost") { // this machine: no resolver is asked (nor /etc/hosts)
		addr = net.JoinHostPort("127.0.0.1", port)
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("sandbox: listen on %s: %w", addr, err)
	}
	if tcp, ok := ln.Addr().(*net.TCPAddr); !cfg.AllowNonLoopback && (!ok || !tcp.IP.IsLoopback()) {
		_ = ln.Close()
		return nil, &NonLoopbackError{Addr: addr}
	}
	ctx, cancel := context.WithCancel(context.Background())
	r := &Running{
		URL:    "http://" + ln.Addr().String(),
		Key:    s.Key(),
		Server: s,
		srv: &http.Server{
			Handler:           s,
			ReadHeaderTimeout: 10 * time.Second,
			IdleTimeout:       2 * time.Minute,
			BaseContext:       func(net.Listener) context.Context { return ctx },
			ErrorLog:          log.New(io.Discard, "", 0), // a library never prints
		},
		cancel:  cancel,
		stopped: make(chan struct{}),
	}
	go func() {
		defer close(r.stopped)
		if err := r.srv.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
			r.serveErr = fmt.Errorf("sandbox: serve %s: %w", r.URL, err)
		}
	}()
	return r, nil
}

// loopbackHost says whether host is loopback without asking a resolver: an IP literal in 127.0.0.0/8 or
// ::1 (IPv4-mapped too) without a zone, or exactly the name localhost (any case), which Start listens
// on as 127.0.0.1. "localhost." and names under it are for a resolver to answer, so they are not
// loopback here (the same rule as the client's; the listener's own address is checked again after).
func loopbackHost(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	a, err := netip.ParseAddr(host)
	return err == nil && a.Zone() == "" && a.Unmap().IsLoopback()
}

// Wait blocks until the sandbox stops serving: nil after Close, or the error that stopped it.
func (r *Running) Wait() error {
	<-r.stopped
	return r.serveErr
}

// Close stops the sandbox. It stops accepting connections, cuts short injected latency (those requests
// are answered 503, nothing committed), lets requests in progress finish for up to CloseTimeout, then
// closes whatever connections remain. Connections the sandbox dropped on purpose are already closed and
// never delay it. Close is safe to call more than once.
func (r *Running) Close() error {
	r.closeOnce.Do(func() {
		r.cancel()
		ctx, cancel := context.WithTimeout(context.Background(), CloseTimeout)
		defer cancel()
		if err := r.srv.Shutdown(ctx); err != nil {
			_ = r.srv.Close()
			r.closeErr = fmt.Errorf("sandbox: close: requests still running after %v were cut off", CloseTimeout)
		}
		<-r.stopped
		if r.closeErr == nil {
			r.closeErr = r.serveErr
		}
	})
	return r.closeErr
}
