package monitor

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

var testSecret = []byte("whsec-test-0123456789abcdef")

// TestSignKnownAnswers: the signature is the one Python's hmac computes (hmac.new(secret, ts + b"." +
// body, hashlib.sha256).hexdigest()), for a body, an empty body, and binary bytes and key.
func TestSignKnownAnswers(t *testing.T) {
	for _, tc := range []struct {
		secret []byte
		ts     int64
		body   string
		want   string
	}{
		{testSecret, 1796090400, `{"exit_code":3}`, "sha256=a470ff35e061af851d08481098a09e5227e31ab6e516bdfccacf587aa6ffd446"},
		{testSecret, 1764554400, `{"exit_code":3}`, "sha256=8317247cf5d3d8358dfe28705d4e4e53b4166dc5ba3603682dd05a914283c81f"},
		{testSecret, 1764554400, ``, "sha256=1b7a7c77e6a6e5fa06afe2e66fe517c309067a390f436b4b879067efbc857573"},
		{[]byte(string(rangeBytes(32))), 0, "\x00\xff\n\ré", "sha256=d3da084b3938e1bd264325610be8e9339d26bfbb3837f9f62713cdf36ba9c0dc"},
	} {
		assert.Equal(t, tc.want, Sign(tc.secret, tc.ts, []byte(tc.body)))
	}
}

func rangeBytes(n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(i)
	}
	return b
}

// TestNotifySigned: the receiver gets the body byte for byte with the timestamp and a signature that
// Verify accepts, and a retry resends the same timestamp and signature.
func TestNotifySigned(t *testing.T) {
	srv := newRecorder(t, 502, 200)
	clock := newFakeClock()
	n, err := NewNotifier(srv.URL+"/hook/"+secretPath, testSecret, Options{Clock: clock})
	require.NoError(t, err)
	body := []byte(`{"command":"run","exit_code":3, "run":{"requests":12}}` + "\n")
	require.NoError(t, n.Notify(context.Background(), body))
	got := srv.requests()
	require.Len(t, got, 2)
	for _, r := range got {
		assert.Equal(t, http.MethodPost, r.Method)
		assert.Equal(t, "/hook/"+secretPath, r.Path)
		assert.Equal(t, body, r.Body)
		assert.Equal(t, "application/json", r.Header.Get("Content-Type"))
		assert.Equal(t, "1796090400", r.Header.Get(TimestampHeader))
		assert.Equal(t, Sign(testSecret, 1796090400, body), r.Header.Get(SignatureHeader))
		require.NoError(t, Verify(testSecret, r.Header, r.Body, clock.Now(), 0))
	}
	assert.Equal(t, got[0].Header.Get(SignatureHeader), got[1].Header.Get(SignatureHeader))
}

// TestVerify: every way a request can fail verification fails it, with the error it wraps.
func TestVerify(t *testing.T) {
	now := time.Unix(1796090400, 0)
	body := []byte(`{"exit_code":3}`)
	good := func() http.Header {
		h := http.Header{}
		h.Set(TimestampHeader, "1796090400")
		h.Set(SignatureHeader, "sha256=a470ff35e061af851d08481098a09e5227e31ab6e516bdfccacf587aa6ffd446")
		return h
	}
	require.NoError(t, Verify(testSecret, good(), body, now, 0))
	require.NoError(t, Verify(testSecret, good(), body, now.Add(5*time.Minute), 0), "at the edge of the tolerance")
	require.NoError(t, Verify(testSecret, good(), body, now.Add(-5*time.Minute), 0))
	upper := good()
	upper.Set(SignatureHeader, "sha256="+strings.ToUpper("a470ff35e061af851d08481098a09e5227e31ab6e516bdfccacf587aa6ffd446"))
	require.NoError(t, Verify(testSecret, upper, body, now, 0), "hex digits in either case")

	for _, tc := range []struct {
		name   string
		change func(h http.Header) // of the good headers
		secret []byte
		body   string
		now    time.Time
		tol    time.Duration
		want   error
	}{
		{name: "another body", body: `{"exit_code":0}`, want: ErrBadSignature},
		{name: "a byte more", body: `{"exit_code":3} `, want: ErrBadSignature},
		{name: "another secret", secret: []byte("whsec-test-0123456789abcdeF"), want: ErrBadSignature},
		{name: "no secret", secret: []byte{}, want: ErrBadSignature},
		{name: "another timestamp in the window", change: func(h http.Header) { h.Set(TimestampHeader, "1796090401") }, want: ErrBadSignature},
		{name: "leading zero", change: func(h http.Header) { h.Set(TimestampHeader, "01796090400") }, want: ErrBadSignature},
		{name: "too old", now: now.Add(5*time.Minute + time.Second), want: ErrStale},
		{name: "from the future", now: now.Add(-5*time.Minute - time.Second), want: ErrStale},
		{name: "too old for a tolerance of 1 s", now: now.Add(2 * time.Second), tol: time.Second, want: ErrStale},
		{name: "no timestamp", change: func(h http.Header) { h.Del(TimestampHeader) }, want: ErrNotSigned},
		{name: "no signature", change: func(h http.Header) { h.Del(SignatureHeader) }, want: ErrNotSigned},
		{name: "two signatures", change: func(h http.Header) { h.Add(SignatureHeader, "sha256=00") }, want: ErrNotSigned},
		{name: "two timestamps", change: func(h http.Header) { h.Add(TimestampHeader, "1796090400") }, want: ErrNotSigned},
		{name: "signed timestamp", change: func(h http.Header) { h.Set(TimestampHeader, "+1796090400") }, want: ErrNotSigned},
		{name: "fractional timestamp", change: func(h http.Header) { h.Set(TimestampHeader, "1796090400.0") }, want: ErrNotSigned},
		{name: "empty timestamp", change: func(h http.Header) { h.Set(TimestampHeader, "") }, want: ErrNotSigned},
		{name: "no sha256= prefix", change: func(h http.Header) {
			h.Set(SignatureHeader, "a470ff35e061af851d08481098a09e5227e31ab6e516bdfccacf587aa6ffd446")
		}, want: ErrNotSigned},
		{name: "sha1", change: func(h http.Header) { h.Set(SignatureHeader, "sha1=a470ff35e061af851d08481098a09e5227e31ab6") }, want: ErrNotSigned},
		{name: "short", change: func(h http.Header) { h.Set(SignatureHeader, "sha256=a470ff35") }, want: ErrNotSigned},
		{name: "not hex", change: func(h http.Header) {
			h.Set(SignatureHeader, "sha256=z470ff35e061af851d08481098a09e5227e31ab6e516bdfccacf587aa6ffd446")
		}, want: ErrNotSigned},
		{name: "one bit off", change: func(h http.Header) {
			h.Set(SignatureHeader, "sha256=a470ff35e061af851d08481098a09e5227e31ab6e516bdfccacf587aa6ffd447")
		}, want: ErrBadSignature},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := good()
			if tc.change != nil {
				tc.change(h)
			}
			secret, b, at := testSecret, body, now
			if tc.secret != nil {
				secret = tc.secret
			}
			if tc.body != "" {
				b = []byte(tc.body)
			}
			if !tc.now.IsZero() {
				at = tc.now
			}
			err := Verify(secret, h, b, at, tc.tol)
			require.ErrorIs(t, err, tc.want)
			assert.NotContains(t, err.Error(), string(testSecret))
		})
	}
}

// TestNotifierSecret: an empty, short or padded secret is refused, never quoted; a good one is copied
// (the caller may clear its own).
func TestNotifierSecret(t *testing.T) {
	for _, tc := range []struct {
		secret, err string
	}{
		{"", "it is empty"},
		{"short-secret-15", "it has 15 bytes; it needs at least 16"},
		{string(testSecret) + "\n", "white space"},
		{" " + string(testSecret), "white space"},
	} {
		_, err := NewNotifier("https://hooks.example.com/"+secretPath, []byte(tc.secret), Options{})
		var se *SecretError
		require.True(t, errors.As(err, &se), "%q: %v", tc.secret, err)
		assert.Contains(t, err.Error(), tc.err)
		assert.NotEmpty(t, se.Hint)
		if tc.secret != "" {
			assert.NotContains(t, err.Error()+se.Hint, strings.TrimSpace(tc.secret))
		}
	}
	_, err := NewNotifier("http://hooks.example.com/"+secretPath, testSecret, Options{})
	var ue *URLError
	require.True(t, errors.As(err, &ue), "%v", err)
	assert.Equal(t, "notify URL http://hooks.example.com/…: plain http:// is allowed only to this machine (127.0.0.1, ::1, localhost)", err.Error())

	srv := newRecorder(t)
	secret := append([]byte(nil), testSecret...)
	n, err := NewNotifier(srv.URL, secret, Options{Clock: newFakeClock()})
	require.NoError(t, err)
	clear(secret)
	require.NoError(t, n.Notify(context.Background(), []byte(`{}`)))
	require.NoError(t, Verify(testSecret, srv.requests()[0].Header, []byte(`{}`), time.Unix(1796090400, 0), 0))
}

// TestNotifyRefusesWhatIsNotJSON: a body that is not JSON is not sent.
func TestNotifyRefusesWhatIsNotJSON(t *testing.T) {
	srv := newRecorder(t)
	n, err := NewNotifier(srv.URL, testSecret, Options{Clock: newFakeClock()})
	require.NoError(t, err)
	err = n.Notify(context.Background(), []byte(`{"exit_code":`))
	require.ErrorContains(t, err, "not a JSON document")
	assert.Empty(t, srv.requests())
}

// TestNotifyFails: a notification that does not get through is a *SendError without the secret or the
// URL's path; the attempts are those of the ping's policy.
func TestNotifyFails(t *testing.T) {
	srv := newRecorder(t, 500)
	n, err := NewNotifier(srv.URL+"/"+secretPath, testSecret, Options{Clock: newFakeClock()})
	require.NoError(t, err)
	err = n.Notify(context.Background(), []byte(`{}`))
	var se *SendError
	require.True(t, errors.As(err, &se), "%v", err)
	assert.Equal(t, 3, se.Attempts)
	assert.Equal(t, "notify to "+srv.URL+"/… failed after 3 attempts: answered 500 Internal Server Error", err.Error())
	for _, verb := range []string{"%v", "%+v", "%#v"} {
		for _, v := range []any{n, *n} {
			s := fmt.Sprintf(verb, v)
			assert.NotContains(t, s, string(testSecret))
			assert.NotContains(t, s, secretPath)
		}
	}
}
