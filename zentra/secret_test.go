package zentra_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"
	"unicode"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/zentra/zentra-import/zentra"
)

const secretPart = "t3stS3cretValue0123456789"

// printed is every way a value is commonly shown: fmt verbs, both slog handlers, JSON.
func printed(t *testing.T, v any) string {
	t.Helper()
	var b bytes.Buffer
	for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%q", "%x", "%X", "%T"} {
		fmt.Fprintf(&b, verb+"\n", v)
	}
	fmt.Fprintln(&b, v)
	slog.New(slog.NewTextHandler(&b, nil)).Info("value", "v", v)
	slog.New(slog.NewJSONHandler(&b, nil)).Info("value", "v", v)
	if j, err := json.Marshal(v); err == nil {
		b.Write(j)
	}
	if e, ok := v.(error); ok {
		b.WriteString(e.Error())
	}
	return b.String()
}

func assertNoKey(t *testing.T, name string, v any) {
	t.Helper()
	out := printed(t, v)
	assert.NotContains(t, out, secretPart, "%s shows the key:\n%s", name, out)
}

func TestKeyNeverShown(t *testing.T) {
	cfg := zentra.Config{Key: testKey, BaseURL: "http://127.0.0.1:1", Observe: func(zentra.RateLimit) {}}
	c, err := zentra.New(cfg)
	require.NoError(t, err)

	assertNoKey(t, "Secret", cfg.Key)
	assertNoKey(t, "Config", cfg)
	assertNoKey(t, "*Config", &cfg)
	assertNoKey(t, "*Client", c)
	assertNoKey(t, "Client", *c)
	assertNoKey(t, "Client in an unexported field", struct{ c zentra.Client }{*c})
	assertNoKey(t, "struct holding a Config", struct{ Z zentra.Config }{cfg})
	assert.Equal(t, "[redacted]", fmt.Sprint(cfg.Key))
	assert.Equal(t, `zentra.Secret("[redacted]")`, fmt.Sprintf("%#v", cfg.Key))
	assert.Equal(t, "[none]", zentra.Secret("").String())
	j, err := json.Marshal(struct{ K zentra.Secret }{cfg.Key})
	require.NoError(t, err)
	assert.JSONEq(t, `{"K":"[redacted]"}`, string(j))

	// Errors of every type, from a server that echoes the key (and the request) in its messages.
	echo := func(status int, ctype string) http.HandlerFunc {
		return func(w http.ResponseWriter, r *http.Request) {
			body, _ := io.ReadAll(r.Body)
			auth := r.Header.Get("Authorization")
			w.Header().Set("Content-Type", ctype)
			w.Header().Set("Location", "https://x.example/?k="+strings.TrimPrefix(auth, "Bearer "))
			w.WriteHeader(status)
			msg, _ := json.Marshal("bad " + auth + " for " + string(body))
			fmt.Fprintf(w, `{"error":{"code":"c_%s","field":"%s","message":%s}}`, strings.TrimPrefix(auth, "Bearer "), strings.TrimPrefix(auth, "Bearer "), msg)
		}
	}
	for _, status := range []int{200, 301, 400, 401, 403, 404, 409, 422, 429, 500, 503} {
		t.Run(fmt.Sprint(status), func(t *testing.T) {
			srv := httptest.NewServer(echo(status, jsonCT))
			defer srv.Close()
			c, _ := newClient(t, srv.URL, nil)
			_, err := c.Create(context.Background(), "k", []byte(`{"key":"`+testKey+`"}`))
			if status == 409 { // a conflict on another field: a row error
				require.Error(t, err)
			}
			if err != nil {
				assertNoKey(t, fmt.Sprintf("%T", err), err)
				var fatal *zentra.FatalError
				if errors.As(err, &fatal) {
					assert.NotContains(t, fatal.Hint, secretPart)
				}
			}
		})
	}
	// A transport failing with the key in its text.
	c2, _ := newClient(t, "https://api.example.invalid", func(c *zentra.Config) {
		c.Transport = failingDial(errors.New("proxy refused Authorization: Bearer " + testKey))
	})
	_, err = c2.Create(context.Background(), "k", []byte(`{}`))
	require.Error(t, err)
	assertNoKey(t, "transport error", err)
	// The key's own shape need not be Zentra's: the client still removes it.
	odd := "custom-gateway-token-" + secretPart
	c3, err := zentra.New(zentra.Config{Key: zentra.Secret(odd), BaseURL: "https://api.example.invalid",
		Transport: failingDial(errors.New("bad token " + odd))})
	require.NoError(t, err)
	_, err = c3.Create(context.Background(), "k", []byte(`{}`))
	require.Error(t, err)
	assertNoKey(t, "transport error with an unprefixed key", err)
	assertNoKey(t, "client with an unprefixed key", c3)

	// An unprefixed key echoed where no API text is: the Content-Type of an unreadable answer, the path of
	// a redirect's Location (a review found both shown whole).
	for _, tc := range []struct {
		status int
		header string
	}{{502, "Content-Type"}, {200, "Content-Type"}, {301, "Location"}, {503, "Content-Type"}} {
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			token := strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer ")
			if tc.header == "Location" {
				w.Header().Set("Location", "https://x.example/"+token)
			} else {
				w.Header().Set("Content-Type", "text/"+token)
			}
			w.WriteHeader(tc.status)
			fmt.Fprint(w, "<html>"+token+"</html>")
		}))
		c4, err := zentra.New(zentra.Config{Key: zentra.Secret(odd), BaseURL: srv.URL, Observe: func(zentra.RateLimit) {}})
		require.NoError(t, err)
		_, err = c4.Create(context.Background(), "k", []byte(`{}`))
		require.Error(t, err, "%d", tc.status)
		assertNoKey(t, fmt.Sprintf("%d with the key in %s", tc.status, tc.header), err)
		var fatal *zentra.FatalError
		if errors.As(err, &fatal) {
			assert.NotContains(t, fatal.Hint, secretPart)
		}
		_, _, err = c4.Lookup(context.Background(), "r")
		if err != nil {
			assertNoKey(t, fmt.Sprintf("lookup: %d with the key in %s", tc.status, tc.header), err)
		}
		srv.Close()
	}
}

func TestRowErrorLogOmitsMessage(t *testing.T) {
	err := &zentra.RowError{HTTPStatus: 422, Code: "invalid_format", Field: "email", Message: "jane@example.com is not an email"}
	var b bytes.Buffer
	slog.New(slog.NewJSONHandler(&b, nil)).Info("row rejected", "row", 7, "err", err)
	slog.New(slog.NewTextHandler(&b, nil)).Info("row rejected", "row", 7, "err", err)
	assert.NotContains(t, b.String(), "jane")
	assert.Contains(t, b.String(), "invalid_format")
	assert.Contains(t, b.String(), "email")
	retry := &zentra.RetryableError{HTTPStatus: 503, Code: "service_unavailable", Message: "down for jane@example.com", RetryAt: time.Now()}
	b.Reset()
	slog.New(slog.NewJSONHandler(&b, nil)).Info("retry", "err", retry)
	assert.NotContains(t, b.String(), "jane")
	assert.Contains(t, b.String(), "service_unavailable")
}

func TestBaseURLForKey(t *testing.T) {
	tests := []struct {
		name, key, want, err string
	}{
		{"sandbox", "sk_sandbox_abc", zentra.SandboxURL, ""},
		{"live", "sk_live_abc", zentra.LiveURL, ""},
		{"empty", "", "", "no secret key"},
		{"publishable", "pk_live_" + secretPart, "", "publishable key"},
		{"test prefix", "sk_test_" + secretPart, "", "sk_test_ is not a Zentra prefix"},
		{"other", secretPart, "", "neither sk_sandbox_ nor sk_live_"},
		{"trailing newline", "sk_live_" + secretPart + "\n", "", "white space"},
		{"control character", "sk_live_\x01" + secretPart, "", "control or non-ASCII character at byte 9"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := zentra.BaseURLForKey(zentra.Secret(tt.key))
			if tt.err != "" {
				require.Error(t, err)
				assert.Contains(t, err.Error(), tt.err)
				assert.NotContains(t, err.Error(), secretPart)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tt.want, got)
		})
	}
}

// TestCheckBaseURLNeverQuotesAKey: a key in the URL, where a user name goes, where a password goes, in its
// path, or in a URL that does not parse, is refused and never quoted.
func TestCheckBaseURLNeverQuotesAKey(t *testing.T) {
	const part = "Zq8Kx3Vb7Nw2"
	for _, tc := range []struct{ url, err string }{
		{"http://sk_live_" + part + "@127.0.0.1:8080", "carries credentials"},
		{"http://sk_live_" + part + ":@127.0.0.1:8080", "carries credentials"},
		{"http://x:sk_live_" + part + "@127.0.0.1:8080", "carries credentials"},
		{"http://sk_live_" + part + ":@127.0.0.1:99999", "carries credentials"},
		{"http://sk_live_" + part + ":@127.0.0.1:80\x7f", "carries credentials"},
		{"https://" + part + "@api.usezentra.com", "carries credentials"},
		{"sk_live_" + part + "@127.0.0.1:8080", "carries credentials"},
		{"https://gw.example.com/SK_LIVE_" + part, "holds a secret key"},
		{"sk_sandbox_" + part, "holds a secret key"},
		{"http://[::1/sk_live_" + part, "holds a secret key"},
		{"http://[::1]:8\x7f0/sk_live_" + part, "holds a secret key"},
	} {
		t.Run(tc.url, func(t *testing.T) {
			err := zentra.CheckBaseURL(tc.url)
			require.Error(t, err)
			assert.Contains(t, err.Error(), tc.err)
			assert.NotContains(t, strings.ToLower(err.Error()), strings.ToLower(part))
		})
	}
	// A key of another shape (allowed with an explicit URL) in the URL: the client refuses it by value.
	odd := "custom-gateway-token-" + secretPart
	for _, raw := range []string{"https://gw.example.com/" + odd, "https://gw.example.com/" + strings.ToUpper(odd)} {
		_, err := zentra.New(zentra.Config{Key: zentra.Secret(odd), BaseURL: raw})
		require.Error(t, err)
		assert.Contains(t, err.Error(), "holds the secret key")
		assert.NotContains(t, strings.ToLower(err.Error()), strings.ToLower(secretPart))
	}
}

func TestCheckBaseURL(t *testing.T) {
	tests := []struct {
		url string
		err string // "" means accepted
	}{
		{"https://api.usezentra.com", ""},
		{"https://sandbox.api.usezentra.com/", ""},
		{"https://gateway.example.com:8443/zentra", ""},
		{"HTTPS://API.USEZENTRA.COM", ""},
		{"http://127.0.0.1:8080", ""},
		{"http://127.1.2.3", ""},
		{"http://localhost", ""},
		{"http://LOCALHOST:9000/", ""},
		{"http://[::1]:8080", ""},
		{"http://[::ffff:127.0.0.1]:8080", ""},
		{"http://example.com", "plain http:// is allowed only to this machine"},
		{"http://10.0.0.5:8080", "would travel unencrypted"},
		{"http://localhost.example.com", "only to this machine"},
		{"http://[fe80::1%25eth0]:80", "only to this machine"},
		{"ftp://api.usezentra.com", "the scheme must be https"},
		{"api.usezentra.com", "no scheme; write it as https://api.usezentra.com"},
		{"localhost:8080", "no scheme"},
		{"https://", "names no host"},
		{"https://user:hunter2@api.usezentra.com", "carries credentials"},
		{"https://api.usezentra.com/?x=1", "has a query"},
		{"https://api.usezentra.com/#top", "has a fragment"},
		{"https://api.usezentra.com/api/v1/identity/customers", "includes the API path"},
		{"https://api.usezentra.com/api/v1/", "includes the API path"},
		{"https://api.usezentra.com/API/V1/identity", "includes the API path"},
		{"https://gateway.example.com/api", ""},
		{"http://localhost.:1", "only to this machine"},
		{"http://LocalHost:1", ""},
		{"http://localhost.localdomain:1", "only to this machine"},
		{"http://foo.localhost:1", "only to this machine"},
		{"http://[::1%25eth0]:1", "only to this machine"},
		{"http://[::1%25lo]:1", "only to this machine"},
		{"http://127.1:1", "shorthand"},
		{"http://0x7f.1:1", "shorthand"},
		{"http://0x7f000001:1", "shorthand"},
		{"http://2130706433:1", "shorthand"},
		{"http://0177.0.0.1:1", "shorthand"},
		{"https://127.1", "shorthand"},
		{"https://1.2.3.4.", "shorthand"},
		{"https://api.usezentra.com.", ""},
		{"https://[fe80::1%25eth0]:443", ""},
		{"http://user@127.0.0.1:8080", "carries credentials"},
		{"http://:hunter2@127.0.0.1:8080", "carries credentials"},
		{"http://[::1", "is not a URL"},
		{"%zz", "is not a URL"},
		{"", "no scheme"},
	}
	for _, tt := range tests {
		t.Run(tt.url, func(t *testing.T) {
			err := zentra.CheckBaseURL(tt.url)
			if tt.err == "" {
				assert.NoError(t, err)
				return
			}
			require.Error(t, err)
			assert.Contains(t, err.Error(), tt.err)
			assert.NotContains(t, err.Error(), "hunter2")
		})
	}
}

// mangle is a key as a server that echoes it may have changed it: upper case, re-spaced, wrapped.
func mangle(key string) map[string]string {
	up := strings.ToUpper(key)
	return map[string]string{
		"upper case":  up,
		"re-spaced":   strings.Join(strings.Split(up, ""), " "),
		"wrapped":     key[:len(key)/2] + "\r\n\t" + key[len(key)/2:],
		"url-encoded": strings.ReplaceAll(url.QueryEscape(key), "_", "%5F"),
		"zero-width":  strings.Join(strings.Split(key, ""), "\u200b"),
	}
}

// TestKeyEchoedInAnyCaseOrSpacing: a server that echoes the Authorization header changed (upper case,
// re-spaced, wrapped, encoded) in every text the client reads, for a Zentra key and for a key of another
// shape: no error's text holds the key in any form, and nothing is redacted twice ("[redacted]]").
func TestKeyEchoedInAnyCaseOrSpacing(t *testing.T) {
	for _, key := range []string{testKey, "custom-gateway-token-" + secretPart} {
		for form, echoed := range mangle(key) {
			t.Run(form+" "+key[:6], func(t *testing.T) {
				for _, status := range []int{200, 301, 401, 422, 500, 503} {
					srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
						require.Equal(t, "Bearer "+key, r.Header.Get("Authorization"))
						w.Header().Set("Location", "https://x.example/"+echoed)
						w.Header().Set("Content-Type", jsonCT)
						w.WriteHeader(status)
						msg, _ := json.Marshal("BEARER " + echoed + " is not allowed [Bearer " + echoed + "]")
						code, _ := json.Marshal("C_" + echoed)
						fmt.Fprintf(w, `{"success":false,"error":{"code":%s,"field":%s,"message":%s}}`, code, code, msg)
					}))
					c, err := zentra.New(zentra.Config{Key: zentra.Secret(key), BaseURL: srv.URL})
					require.NoError(t, err)
					_, err = c.Create(context.Background(), "k", []byte(`{}`))
					srv.Close()
					require.Error(t, err, "%d", status)
					text := printed(t, err)
					var fatal *zentra.FatalError
					if errors.As(err, &fatal) {
						text += fatal.Hint
					}
					requireNoKeyIn(t, key, text)
					assert.NotContains(t, text, "]]]", "redacted once: %s", text)
					assert.NotContains(t, text, "[redacted]] is", "redacted once: %s", text)
				}
			})
		}
	}
}

// requireNoKeyIn fails if text holds key, in any case, with or without the separators a server may have
// put between its characters.
func requireNoKeyIn(t *testing.T, key, text string) {
	t.Helper()
	squeezed := strings.Map(func(r rune) rune {
		if unicode.IsSpace(r) || unicode.IsControl(r) || unicode.Is(unicode.Cf, r) {
			return -1
		}
		return unicode.ToLower(r)
	}, text)
	unescaped, _ := url.QueryUnescape(squeezed)
	for _, s := range []string{squeezed, unescaped, strings.ToLower(text)} {
		require.NotContains(t, s, strings.ToLower(key), "the key shows in %q", text)
	}
	// Nor any 8 characters of it, past its Zentra prefix: half a key is a leak too.
	body := strings.ToLower(strings.TrimPrefix(strings.TrimPrefix(key, "sk_sandbox_"), "sk_live_"))
	for i := 0; i+8 <= len(body); i++ {
		require.NotContains(t, squeezed, body[i:i+8], "part of the key shows in %q", text)
	}
}
