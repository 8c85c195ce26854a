package monitor

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestPingConvention: /start at the start, the URL itself on exit 0, /<code> otherwise, each with the
// same rid and the figures as JSON; a trailing slash and a query of the URL are kept in their place.
func TestPingConvention(t *testing.T) {
	for _, tc := range []struct {
		code int
		path string
	}{{0, "/ping/" + secretPath}, {1, "/ping/" + secretPath + "/1"}, {3, "/ping/" + secretPath + "/3"},
		{130, "/ping/" + secretPath + "/130"}, {-1, "/ping/" + secretPath + "/fail"}, {256, "/ping/" + secretPath + "/fail"}} {
		t.Run(fmt.Sprint(tc.code), func(t *testing.T) {
			srv := newRecorder(t)
			p, err := NewPinger(srv.URL+"/ping/"+secretPath+"/?create=1", Options{Clock: newFakeClock()})
			require.NoError(t, err)
			require.NoError(t, p.Start(context.Background(), sampleFigures))
			require.NoError(t, p.Finish(context.Background(), tc.code, sampleFigures))
			got := srv.requests()
			require.Len(t, got, 2)
			assert.Equal(t, "/ping/"+secretPath+"/start", got[0].Path)
			assert.Equal(t, tc.path, got[1].Path)
			rid := regexp.MustCompile(`^create=1&rid=[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`)
			assert.Regexp(t, rid, got[0].Query)
			assert.Equal(t, got[0].Query, got[1].Query, "one rid for the start and the end")
			for _, r := range got {
				assert.Equal(t, http.MethodPost, r.Method)
				assert.Equal(t, "application/json", r.Header.Get("Content-Type"))
				assert.Equal(t, "zentra-import", r.Header.Get("User-Agent"))
			}
			var start, end map[string]any
			require.NoError(t, json.Unmarshal(got[0].Body, &start))
			require.NoError(t, json.Unmarshal(got[1].Body, &end))
			assert.Equal(t, "start", start["event"])
			assert.NotContains(t, start, "exit_code")
			assert.Equal(t, "exit", end["event"])
			assert.Equal(t, float64(tc.code), end["exit_code"])
			var figures Figures
			require.NoError(t, json.Unmarshal(got[1].Body, &figures))
			assert.Equal(t, sampleFigures, figures)
		})
	}
}

// TestPingBody is the body's exact shape: the figures only, with fixed names.
func TestPingBody(t *testing.T) {
	srv := newRecorder(t)
	p, err := NewPinger(srv.URL, Options{Clock: newFakeClock()})
	require.NoError(t, err)
	require.NoError(t, p.Finish(context.Background(), 1, sampleFigures))
	assert.JSONEq(t, `{"event":"exit","exit_code":1,"started":"2026-12-01T02:00:00Z","seconds":812.5,
		"rows":{"created":9990,"existing":0,"failed":0,"rejected":10,"conflict":0,"pending":0},
		"requests":{"2xx":9990,"4xx":0,"429":3,"5xx":1,"no_answer":0,"other":0},
		"paused_seconds":61,"plan_limit":600,"plan_window_seconds":60}`, string(srv.requests()[0].Body))
	assert.Equal(t, "/1", srv.requests()[0].Path)
}

// TestPingRetries: no answer, a 5xx, a 408 or a 429 is tried again after the backoff (1 s, then 2 s; a
// longer Retry-After instead); a 2xx ends it.
func TestPingRetries(t *testing.T) {
	for _, tc := range []struct {
		name     string
		statuses []int
		after    string
		sleeps   []time.Duration
	}{
		{"503 then 200", []int{503, 200}, "", []time.Duration{time.Second}},
		{"500, 502, 200", []int{500, 502, 200}, "", []time.Duration{time.Second, 2 * time.Second}},
		{"408 then 204", []int{408, 204}, "", []time.Duration{time.Second}},
		{"429 with Retry-After", []int{429, 200}, "7", []time.Duration{7 * time.Second}},
		{"429 with a shorter Retry-After", []int{429, 200}, "0", []time.Duration{time.Second}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := newRecorder(t, tc.statuses...)
			if tc.after != "" {
				srv.header.Set("Retry-After", tc.after)
			}
			clock := newFakeClock()
			p, err := NewPinger(srv.URL+"/"+secretPath, Options{Clock: clock})
			require.NoError(t, err)
			require.NoError(t, p.Start(context.Background(), Figures{}))
			assert.Len(t, srv.requests(), len(tc.statuses))
			assert.Equal(t, tc.sleeps, clock.waited())
		})
	}
}

// TestPingGivesUp: the attempts are bounded (3), a 4xx is not tried again, the deadline bounds the
// waits, and every failure is a *SendError that names the URL by scheme and host only and quotes
// nothing of the answer but its status.
func TestPingGivesUp(t *testing.T) {
	for _, tc := range []struct {
		name     string
		statuses []int
		after    string
		retry    Retry
		requests int
		status   int
		err      string
	}{
		{"always 503", []int{503}, "", Retry{}, 3, 503, "after 3 attempts: answered 503 Service Unavailable"},
		{"404", []int{404}, "", Retry{}, 1, 404, "after 1 attempt: answered 404 Not Found"},
		{"400 after a 500", []int{500, 400}, "", Retry{}, 2, 400, "after 2 attempts: answered 400 Bad Request"},
		{"a redirect", []int{301}, "", Retry{}, 1, 301, "a redirect, which is not followed"},
		{"Retry-After past the deadline", []int{429}, "3600", Retry{}, 1, 429, "would pass the deadline"},
		{"backoff past the deadline", []int{502}, "", Retry{Attempts: 10, Backoff: 10 * time.Second, Deadline: 25 * time.Second},
			2, 502, "the next attempt, 20s later, would pass the deadline (25s in all)"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := newRecorder(t, tc.statuses...)
			srv.header.Set("Location", "https://elsewhere.example/"+secretPath)
			if tc.after != "" {
				srv.header.Set("Retry-After", tc.after)
			}
			p, err := NewPinger(srv.URL+"/"+secretPath, Options{Clock: newFakeClock(), Retry: tc.retry})
			require.NoError(t, err)
			err = p.Finish(context.Background(), 3, Figures{})
			require.Error(t, err)
			var se *SendError
			require.True(t, errors.As(err, &se), "%T", err)
			assert.Equal(t, tc.requests, se.Attempts)
			assert.Len(t, srv.requests(), tc.requests)
			assert.Equal(t, tc.status, se.Status)
			assert.Contains(t, err.Error(), tc.err)
			assert.True(t, strings.HasPrefix(err.Error(), "ping exit 3 to "+srv.URL+"/… failed"), err.Error())
			assert.NotContains(t, err.Error(), secretPath)
			assert.NotContains(t, err.Error(), "OK") // the answer's body
		})
	}
}

// TestPingNoAnswer: a refused connection is tried again, and its error names the address, not the URL.
func TestPingNoAnswer(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := l.Addr().String()
	require.NoError(t, l.Close()) // nothing listens there now
	clock := newFakeClock()
	p, err := NewPinger("http://"+addr+"/"+secretPath, Options{Clock: clock})
	require.NoError(t, err)
	err = p.Start(context.Background(), Figures{})
	var se *SendError
	require.True(t, errors.As(err, &se), "%v", err)
	assert.Equal(t, 3, se.Attempts)
	assert.Equal(t, 0, se.Status)
	assert.Contains(t, err.Error(), "no answer: dial tcp "+addr)
	assert.NotContains(t, err.Error(), secretPath)
	assert.Equal(t, []time.Duration{time.Second, 2 * time.Second}, clock.waited())
}

// TestPingTimeout: an answer slower than Retry.Timeout is no answer, and tried again.
func TestPingTimeout(t *testing.T) {
	release := make(chan struct{})
	var calls atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.ReadAll(r.Body) // then the server sees the client go
		if calls.Add(1) == 1 {
			select { // no answer until the client gives up
			case <-release:
			case <-r.Context().Done():
			}
		}
	}))
	defer srv.Close()
	p, err := NewPinger(srv.URL+"/"+secretPath, Options{Clock: newFakeClock(), Retry: Retry{Timeout: 50 * time.Millisecond}})
	require.NoError(t, err)
	require.NoError(t, p.Start(context.Background(), Figures{}))
	assert.Equal(t, int32(2), calls.Load())

	hang := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.ReadAll(r.Body)
		select {
		case <-release:
		case <-r.Context().Done():
		}
	}))
	defer hang.Close()
	defer close(release) // before the servers close: no handler still waits
	p, err = NewPinger(hang.URL+"/"+secretPath, Options{Clock: newFakeClock(), Retry: Retry{Timeout: 50 * time.Millisecond}})
	require.NoError(t, err)
	err = p.Start(context.Background(), Figures{})
	require.Error(t, err)
	assert.Equal(t, "ping start to "+hang.URL+"/… failed after 3 attempts: no answer within 50ms", err.Error())
}

// TestPingCancelled: a cancelled context stops the attempts, and says so.
func TestPingCancelled(t *testing.T) {
	srv := newRecorder(t, 503)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	p, err := NewPinger(srv.URL+"/"+secretPath, Options{Clock: newFakeClock()})
	require.NoError(t, err)
	err = p.Start(ctx, Figures{})
	require.ErrorIs(t, err, context.Canceled)
	assert.Empty(t, srv.requests())
}

// TestPingerNeverPrintsItsURL: %v, %+v, %#v and %s of a Pinger (or a pointer to one) give scheme and
// host only.
func TestPingerNeverPrintsItsURL(t *testing.T) {
	p, err := NewPinger("https://hc-ping.com/"+secretPath, Options{})
	require.NoError(t, err)
	for _, verb := range []string{"%v", "%+v", "%#v", "%s"} {
		for _, v := range []any{p, *p} {
			s := fmt.Sprintf(verb, v)
			assert.Equal(t, "monitor.Pinger{https://hc-ping.com/…}", s, verb)
		}
	}
}
