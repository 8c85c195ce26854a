package monitor

import (
	"context"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// secretPath stands for the part of a ping or webhook URL that is a secret: no message may quote it.
const secretPath = "0f3c9a7e-hunter2-b1d2"

// TestCheckURL is the URL rule, table by table: the cases of zentra's TestCheckBaseURL that apply to a
// URL with a path (the API URL's own ones — no query, no /api/v1 — do not), and the cases of a ping or a
// webhook URL. No message quotes what follows the host, nor credentials.
func TestCheckURL(t *testing.T) {
	tests := []struct {
		url  string
		err  string // "" means accepted
		hint string // a part of the hint, when it matters
	}{
		{"https://hc-ping.com/" + secretPath, "", ""},
		{"https://hc-ping.com/" + secretPath + "/", "", ""},
		{"https://hc-ping.com/ping-key/nightly-import?create=1", "", ""},
		{"https://hooks.example.com:8443/zentra/" + secretPath + "?token=" + secretPath, "", ""},
		{"HTTPS://HC-PING.COM/" + secretPath, "", ""},
		{"http://127.0.0.1:8080/ping/" + secretPath, "", ""},
		{"http://127.1.2.3/" + secretPath, "", ""},
		{"http://localhost/" + secretPath, "", ""},
		{"http://LOCALHOST:9000/" + secretPath, "", ""},
		{"http://LocalHost:1", "", ""},
		{"http://[::1]:8080/" + secretPath, "", ""},
		{"http://[::ffff:127.0.0.1]:8080/" + secretPath, "", ""},
		{"https://hc-ping.com./" + secretPath, "", ""},
		{"https://[fe80::1%25eth0]:443/" + secretPath, "", ""},
		{"http://hc-ping.com/" + secretPath, "plain http:// is allowed only to this machine", "use https://"},
		{"http://10.0.0.5:8080/" + secretPath, "only to this machine", ""},
		{"http://localhost.example.com/" + secretPath, "only to this machine", ""},
		{"http://localhost.:1/" + secretPath, "only to this machine", ""},
		{"http://localhost.localdomain:1/" + secretPath, "only to this machine", ""},
		{"http://foo.localhost:1/" + secretPath, "only to this machine", ""},
		{"http://[fe80::1%25eth0]:80/" + secretPath, "only to this machine", ""},
		{"http://[::1%25lo]:1/" + secretPath, "only to this machine", ""},
		{"http://127.1:1/" + secretPath, "shorthand", "127.0.0.1"},
		{"http://0x7f.1:1/" + secretPath, "shorthand", ""},
		{"http://0x7f000001:1/" + secretPath, "shorthand", ""},
		{"http://2130706433:1/" + secretPath, "shorthand", ""},
		{"http://0177.0.0.1:1/" + secretPath, "shorthand", ""},
		{"https://127.1/" + secretPath, "shorthand", ""},
		{"https://1.2.3.4./" + secretPath, "shorthand", ""},
		{"ftp://hc-ping.com/" + secretPath, "the scheme must be https", ""},
		{"hc-ping.com/" + secretPath, "no scheme", "https://hc-ping.com/…"},
		{"localhost:8080/" + secretPath, "no scheme", "http://localhost:8080/…"},
		{"127.0.0.1:8080/" + secretPath, "no scheme", "http://127.0.0.1:8080/…"},
		{"https://", "names no host", ""},
		{"https:///" + secretPath, "names no host", ""},
		{"https://user:" + secretPath + "@hc-ping.com/x", "carries credentials", ""},
		{"https://" + secretPath + "@hc-ping.com/x", "carries credentials", ""},
		{"http://user@127.0.0.1:8080/x", "carries credentials", ""},
		{"http://:" + secretPath + "@127.0.0.1:8080", "carries credentials", ""},
		{secretPath + "@127.0.0.1:8080", "carries credentials", ""},
		{"https://hc-ping.com/" + secretPath + "#top", "has a fragment", ""},
		{"https://hc-ping.com/" + secretPath + "#", "has a fragment", ""},
		{"http://[::1/" + secretPath, "is not a URL", ""},
		{"https://hc-ping.com:x/" + secretPath, "is not a URL", ""},
		{"%zz/" + secretPath, "is not a URL", ""},
		{"", "it is empty", ""},
		{"   ", "it is empty", ""},
	}
	for _, tt := range tests {
		t.Run(tt.url, func(t *testing.T) {
			u, err := CheckURL("ping URL", tt.url)
			if tt.err == "" {
				require.NoError(t, err)
				assert.Equal(t, strings.ToLower(u.Host), u.Host)
				return
			}
			require.Error(t, err)
			var ue *URLError
			require.True(t, errors.As(err, &ue), "%T", err)
			assert.Contains(t, err.Error(), tt.err)
			assert.True(t, strings.HasPrefix(err.Error(), "ping URL"), err.Error())
			assert.NotEmpty(t, ue.Hint)
			assert.Contains(t, ue.Hint, tt.hint)
			for _, text := range []string{err.Error(), ue.Hint} {
				assert.NotContains(t, text, secretPath)
				assert.NotContains(t, text, "hunter2")
			}
		})
	}
}

// TestShowURL: a URL is quoted by scheme and host only, whatever follows.
func TestShowURL(t *testing.T) {
	for raw, want := range map[string]string{
		"https://hc-ping.com/" + secretPath:          "https://hc-ping.com/…",
		"https://hc-ping.com":                        "https://hc-ping.com",
		"https://hc-ping.com?key=" + secretPath:      "https://hc-ping.com/…",
		"HTTP://LocalHost:8080/" + secretPath:        "http://LocalHost:8080/…",
		"https://u:" + secretPath + "@h.example/x":   "https://…@h.example/…",
		"hc-ping.com/" + secretPath:                  "hc-ping.com/…",
		"https://" + strings.Repeat("a", 300) + "/x": "https://" + strings.Repeat("a", 92) + "…",
	} {
		assert.Equal(t, want, showURL(raw), raw)
	}
}

// TestIsLoopback decides loopback without a resolver: a name other than localhost is never loopback,
// even one that every resolver maps there.
func TestIsLoopback(t *testing.T) {
	for host, want := range map[string]bool{
		"localhost": true, "LOCALHOST": true, "127.0.0.1": true, "127.255.0.9": true, "::1": true,
		"::ffff:127.0.0.1": true, "localhost.": false, "ip6-localhost": false, "128.0.0.1": false,
		"::1%lo": false, "0.0.0.0": false, "::": false, "": false,
	} {
		assert.Equal(t, want, isLoopback(host), host)
	}
}

// TestDialLocalhostNeverResolves: the name localhost is dialed at 127.0.0.1 (then ::1) by the package
// itself; every other address goes to the dialer as it is.
func TestDialLocalhostNeverResolves(t *testing.T) {
	var dialed []string
	dial := dialLocalhost(func(_ context.Context, network, addr string) (net.Conn, error) {
		dialed = append(dialed, network+" "+addr)
		return nil, errors.New("refused")
	})
	_, err := dial(context.Background(), "tcp", "LocalHost:8080")
	require.Error(t, err)
	assert.Contains(t, err.Error(), "refused")
	_, _ = dial(context.Background(), "tcp6", "localhost:8080")
	_, _ = dial(context.Background(), "tcp4", "localhost:8080")
	_, _ = dial(context.Background(), "tcp", "hc-ping.com:443")
	assert.Equal(t, []string{"tcp 127.0.0.1:8080", "tcp [::1]:8080", "tcp6 [::1]:8080", "tcp4 127.0.0.1:8080", "tcp hc-ping.com:443"}, dialed)
}

// TestSenderReachesLocalhost: a ping to http://localhost:PORT reaches a server listening on 127.0.0.1,
// through the package's own transport (no resolver involved).
func TestSenderReachesLocalhost(t *testing.T) {
	got := make(chan string, 1)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { got <- r.URL.Path }))
	defer srv.Close()
	_, port, err := net.SplitHostPort(srv.Listener.Addr().String())
	require.NoError(t, err)
	p, err := NewPinger("http://localhost:"+port+"/"+secretPath, Options{Clock: newFakeClock()})
	require.NoError(t, err)
	require.NoError(t, p.Start(context.Background(), Figures{}))
	assert.Equal(t, "/"+secretPath+"/start", <-got)
}
