package sandbox

import (
	"encoding/json"
	"net/http"
	"testing"
	"time"
)

// FuzzCreateBody sends arbitrary bodies and keys to the create route, twice: the sandbox must never
// panic, must always answer JSON with a status from the contract, and a key sent again with the same
// body must get the same answer.
func FuzzCreateBody(f *testing.F) {
	for _, seed := range []struct{ body, key string }{
		{body("fuzz-1"), "k1"},
		{`{"external_reference":"r","email":"e","metadata":{"source":"s"}}`, ""},
		{`{"external_reference":""}`, "k"},
		{`{"external_reference":12}`, ""},
		{`{"external_reference":"r","id":"x","data":{"id":"y"}}`, "k"},
		{`[1,2,3]`, ""},
		{`null`, "k"},
		{`{"external_reference":"\u0000\ud800"}`, "k"},
		{"{\"external_reference\":\"r\",\"metadata\":{\"source\":\"\\u00e9\"}}\n", "\xff"},
		{`{"external_reference":"r","external_reference":"s"}`, "k"},
		{`{"a":` + "1e999999" + `}`, ""},
		{``, ""},
		{"\xef\xbb\xbf{}", ""},
	} {
		f.Add([]byte(seed.body), seed.key)
	}
	s := newServer(f, Config{Required: []string{"email", "metadata.source"}, Limit: 1 << 30, Lookup: true})
	f.Fuzz(func(t *testing.T, b []byte, key string) {
		first := check(t, s, b, key)
		second := check(t, s, b, key)
		if key != "" && first.Status < 300 && second.Raw != first.Raw {
			t.Fatalf("same key and body: %d %s, then %d %s", first.Status, first.Raw, second.Status, second.Raw)
		}
	})
}

func check(t *testing.T, s *Server, b []byte, key string) answer {
	a := serve(t, s, post(string(b), key))
	switch a.Status {
	case http.StatusCreated, http.StatusBadRequest, http.StatusConflict, http.StatusRequestEntityTooLarge,
		http.StatusUnprocessableEntity:
	default:
		t.Fatalf("status %d for %q: %s", a.Status, b, a.Raw)
	}
	if a.Header.Get("Content-Type") != "application/json" || !json.Valid([]byte(a.Raw)) || a.JSON == nil {
		t.Fatalf("answer is not a JSON object: %q", a.Raw)
	}
	if a.Status == http.StatusCreated {
		var in struct {
			ExternalReference string `json:"external_reference"`
		}
		if err := json.Unmarshal(b, &in); err != nil {
			t.Fatalf("201 for a body the sandbox should not have parsed: %v", err)
		}
		if got := a.path("data.external_reference"); got != in.ExternalReference {
			t.Fatalf("echoed external_reference %q, sent %q", got, in.ExternalReference)
		}
	} else if a.errCode() == "" {
		t.Fatalf("error without a code: %s", a.Raw)
	}
	return a
}

func FuzzParseLimit(f *testing.F) {
	for _, s := range []string{"100/min", "60/2s", "10/s", "5000/h", "0", "off", "90/1m30s", "1/999999999h", "7/ minute"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		n, w, err := ParseLimit(s)
		if err != nil {
			if n != 0 || w != 0 {
				t.Fatalf("error with values %d, %v", n, w)
			}
			return
		}
		if n < 0 || (n == 0) != (w == 0) || (n > 0 && (w < time.Millisecond || w > maxWindow)) {
			t.Fatalf("ParseLimit(%q) = %d, %v", s, n, w)
		}
		if n > 0 {
			if _, err := New(Config{Key: testKey, Limit: n, Window: w}); err != nil {
				t.Fatalf("a parsed limit is refused by New: %v", err)
			}
		}
	})
}
