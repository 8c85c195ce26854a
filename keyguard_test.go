package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestKeyWhereAPathOrURLBelongsIsRefused: a key given where a path, a URL or another value belongs, on
// the command line or in a variable, is refused with exit 2 and a message naming the place, never the
// key, in text and in JSON logs; nothing is created.
func TestKeyWhereAPathOrURLBelongsIsRefused(t *testing.T) {
	const part = "Hq7Zp2Xk9Rv4Wm8s"
	live, sandboxKey := "sk_live_"+part, "sk_sandbox_"+part
	odd := "gateway-token-" + part // a key of another shape, allowed with an explicit --api-url
	dir := t.TempDir()
	input := writeFile(t, dir, "in.csv", "id,email\n1,a@example.com\n")
	oddFile := writeFile(t, dir, "odd.key", odd+"\n")
	namedByItself := writeFile(t, dir, strings.ToUpper(odd), odd+"\n")
	require.NoError(t, os.Chmod(namedByItself, 0o644)) // its warning would quote the path
	out := filepath.Join(dir, "job")
	api := []string{"--api-url", "http://127.0.0.1:9"}
	cases := []struct {
		name string
		vars map[string]string
		args []string
		want string
	}{
		{name: "the key as --secret-key-file", vars: map[string]string{},
			args: []string{"run", "--secret-key-file", live, input}, want: "--secret-key-file is given a secret key, not the path of a file holding one"},
		{name: "the key as --secret-key-file=", args: []string{"run", "--secret-key-file=" + strings.ToUpper(live), input},
			want: "--secret-key-file is given a secret key, not the path of a file holding one"},
		{name: "the key as ZENTRA_SECRET_KEY_FILE", vars: map[string]string{"ZENTRA_SECRET_KEY_FILE": live},
			args: []string{"run", input}, want: "ZENTRA_SECRET_KEY_FILE is given a secret key, not the path of a file holding one"},
		{name: "the key as the API URL's user", args: []string{"run", "--api-url", "http://" + live + "@127.0.0.1:8080", input},
			want: "--api-url holds a secret key: the key never goes in the URL"},
		{name: "the key as the API URL's password, bad port", args: []string{"run", "--api-url", "http://x:" + sandboxKey + "@127.0.0.1:99999", input},
			want: "--api-url holds a secret key"},
		{name: "the key in ZENTRA_API_URL", vars: map[string]string{"ZENTRA_SECRET_KEY": sandboxKey, "ZENTRA_API_URL": "http://" + sandboxKey + ":@127.0.0.1:1"},
			args: []string{"run", input}, want: "ZENTRA_API_URL holds a secret key"},
		{name: "the key as --mapping", args: []string{"run", "--mapping", live, input}, want: "--mapping is given a secret key, not the path of a mapping file"},
		{name: "the key as --out", args: []string{"validate", "--out", "/tmp/" + live, input}, want: "--out is given a secret key, not the path of a job directory"},
		{name: "the key as the input file", args: []string{"run", "--sandbox", live}, want: "the input file argument is given a secret key, not the path of a CSV file"},
		{name: "the key as validate's input", args: []string{"validate", "./" + live + ".csv"}, want: "the input file argument is given a secret key"},
		{name: "the key as mapping's input", args: []string{"mapping", live}, want: "the input file argument is given a secret key"},
		{name: "the key as a count (cobra would quote it)", args: []string{"run", "--workers", live, input}, want: "--workers is given a secret key"},
		{name: "the key in ZENTRA_WORKERS", vars: map[string]string{"ZENTRA_WORKERS": live}, args: []string{"run", "--sandbox", input},
			want: "ZENTRA_WORKERS is given a secret key"},
		{name: "the key as a command", args: []string{live}, want: "an argument is given a secret key"},
		{name: "the key as the sandbox's address", args: []string{"sandbox", "--addr", live}, want: "--addr is given a secret key, not an address to listen on"},
		{name: "ZENTRA_SECRET_KEY's key, of another shape, as --out", vars: map[string]string{"ZENTRA_SECRET_KEY": odd},
			args: append(append([]string{"run"}, api...), "--out", filepath.Join(dir, strings.ToUpper(odd)), input), want: "--out is given a secret key"},
		{name: "ZENTRA_SECRET_KEY's key as the input file", vars: map[string]string{"ZENTRA_SECRET_KEY": odd},
			args: []string{"validate", odd}, want: "the input file argument is given a secret key"},
		{name: "a key file named by its own key", args: append(append([]string{"run", "--secret-key-file", namedByItself}, api...), input),
			want: "the path given to --secret-key-file holds the key itself"},
		{name: "the key file's key as --mapping", args: append(append([]string{"run", "--secret-key-file", oddFile}, api...), "--mapping", "/srv/"+odd+".yaml", input),
			want: "--mapping is given a secret key"},
		{name: "the key file's key as --rate (whose error would quote it)", args: append(append([]string{"run", "--secret-key-file", oddFile}, api...), "--rate", odd, input),
			want: "--rate is given a secret key"},
		{name: "the key file's key in ZENTRA_RATE", vars: map[string]string{"ZENTRA_RATE": odd, "ZENTRA_SECRET_KEY_FILE": oddFile},
			args: append(append([]string{"run"}, api...), input), want: "ZENTRA_RATE is given a secret key"},
	}
	for _, tc := range cases {
		for _, format := range []string{"text", "json"} {
			t.Run(tc.name+" "+format, func(t *testing.T) {
				args := tc.args
				if format == "json" {
					args = append([]string{args[0], "--log-format", "json"}, args[1:]...)
					if args[0] != "run" { // only run has --log-format; its variable is read for run only
						t.Skip("no --log-format on " + args[0])
					}
				}
				code, stderr := runInProcess(t, tc.vars, args...)
				assert.Equal(t, exitUsage, code, stderr)
				assert.Contains(t, stderr, tc.want)
				assert.NotContains(t, strings.ToLower(stderr), strings.ToLower(part), "the key is never shown")
				if format == "json" {
					var rec map[string]any
					require.NoError(t, json.Unmarshal([]byte(strings.TrimSpace(stderr)), &rec), stderr)
					assert.NotEmpty(t, rec["hint"])
				} else {
					assert.Contains(t, stderr, "\nhint: ")
				}
				_, err := os.Stat(out)
				assert.True(t, os.IsNotExist(err), "nothing was created")
			})
		}
	}
}

// TestAPIURLWithCredentialsNeverShowsThem: a user name alone (which url.Redacted keeps), or a password, in
// the API URL is refused without being quoted.
func TestAPIURLWithCredentialsNeverShowsThem(t *testing.T) {
	input := writeFile(t, t.TempDir(), "in.csv", "id,email\n1,a@example.com\n")
	for _, u := range []string{"http://ada.lovelace@127.0.0.1:8080", "https://ada.lovelace:pw@api.usezentra.com", "http://ada.lovelace@[::1"} {
		code, stderr := runInProcess(t, map[string]string{"ZENTRA_SECRET_KEY": "sk_sandbox_x"}, "run", "--api-url", u, input)
		assert.Equal(t, exitUsage, code, stderr)
		assert.Contains(t, stderr, "carries credentials before an @")
		assert.NotContains(t, stderr, "ada.lovelace")
	}
}

// TestKeyInAMappingFileIsNotQuoted: whatever quotes a key in an error (here the mapping file, with the key
// pasted in), the error as printed does not show it.
func TestKeyInAMappingFileIsNotQuoted(t *testing.T) {
	const key = "custom-gateway-token-Hq7Zp2Xk9Rv4Wm8s"
	dir := t.TempDir()
	input := writeFile(t, dir, "in.csv", "id,email\n1,a@example.com\n")
	m := writeFile(t, dir, "m.yaml", "fields:\n  external_reference: {column: id}\n  email: {column: "+key+"}\n")
	code, stderr := runInProcess(t, map[string]string{"ZENTRA_SECRET_KEY": key}, "run", "--api-url", "http://127.0.0.1:9", "--mapping", m, "--out", filepath.Join(dir, "job"), input)
	assert.Equal(t, exitUsage, code, stderr)
	assert.NotContains(t, stderr, "Hq7Zp2Xk9Rv4Wm8s")
	assert.Contains(t, stderr, "[redacted]")
}
