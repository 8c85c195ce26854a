package zentra

import (
	"errors"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"
)

const fuzzKey = "sk_sandbox_fuzzsecret0123456789"

// FuzzAnswer feeds arbitrary answers to the client's reading of them: it must never panic, must always
// give exactly one typed result, and must never let the key through.
func FuzzAnswer(f *testing.F) {
	seeds := []struct {
		status                             int
		ctype, retryAfter, reset, replayed string
		body                               string
	}{
		{201, "application/json", "", "1800000030", "", `{"status":"success","data":{"id":"cus_1"}}`},
		{200, "application/json", "", "", "true", `{"success":true,"data":{"customer_id":"cus_2"}}`},
		{201, "application/json", "", "", "", `{"data":{"id":12}}`},
		{201, "application/json", "", "", "", `{"data":{}}`},
		{201, "text/html", "", "", "", `<html>ok</html>`},
		{201, "application/json", "", "", "", `{"data":{"id":"cus`},
		{200, "application/json", "", "", "", `{"success":false,"error":{"code":"INVALID_API_KEY"}}`},
		{409, "application/json", "", "", "", `{"success":false,"error":{"code":"conflict","field":"external_reference","details":{"customer_id":"cus_3"}}}`},
		{409, "text/html", "", "", "", `<h1>409</h1>`},
		{422, "application/json", "", "", "", `{"error":{"code":"MISSING_REQUIRED_FIELD","field":"email","message":"email is required"}}`},
		{400, "application/json", "", "", "", `{"message":"bad ` + fuzzKey + `"}`},
		{422, "application/json", "", "", "", `{"error":{"code":"E_` + strings.ToUpper(fuzzKey) + `","message":"BEARER ` + strings.Join(strings.Split(strings.ToUpper(fuzzKey), ""), " ") + `"}}`},
		{500, "text/" + strings.ToUpper(fuzzKey), "", "", "", `<html></html>`},
		{429, "application/json", "60", "1800000030", "", `{"error":{"code":"rate_limit_exceeded","details":{"retry_after":60}}}`},
		{429, "", "Wed, 21 Oct 2015 07:28:00 GMT", "garbage", "", ``},
		{502, "text/html; charset=utf-8", "", "", "", `<html><body>Bad gateway</body></html>`},
		{503, "application/problem+json", "7", "", "", `{"title":"down","detail":"maintenance"}`},
		{401, "application/json", "", "", "", `{"error":"wrong_environment"}`},
		{401, "application/json", "", "", "", `{"errors":[{"code":"expired_api_key","message":"expired"}]}`},
		{302, "", "", "", "", ``},
		{404, "application/json", "", "", "", `[1,2,3]`},
		{200, "application/json", "", "", "", `{"data":[{"id":"cus_4"}]}`},
		{200, "application/json", "", "", "", `{"a":1} {"b":2}`},
		{200, "application/json", "", "", "", strings.Repeat("[", 20000)},
	}
	for _, s := range seeds {
		f.Add(s.status, s.ctype, s.retryAfter, s.reset, s.replayed, []byte(s.body))
	}
	c, err := New(Config{Key: fuzzKey, BaseURL: "http://127.0.0.1:1", IdempotencyHeader: IdempotencyKeyHeader,
		Now: func() time.Time { return t0 }})
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, status int, ctype, retryAfter, reset, replayed string, body []byte) {
		status = 100 + abs(status)%900 // net/http hands on any three-digit status
		h := http.Header{}
		for name, v := range map[string]string{"Content-Type": ctype, "Retry-After": retryAfter,
			"X-RateLimit-Reset": reset, "X-RateLimit-Remaining": reset, "Idempotent-Replayed": replayed} {
			if v != "" {
				h.Set(name, v)
			}
		}
		for _, tooLarge := range []bool{false, true} {
			a := &answer{status: status, header: h, received: t0}
			a.decode(body, tooLarge, false, c.rd)
			cr, err := c.created(a)
			checkResult(t, cr, err)
			checkText(t, err)
			id, found, err := c.found(a)
			if found != (id != "") || err != nil && found {
				t.Fatalf("lookup gave id %q, found %v, err %v", id, found, err)
			}
			if err != nil {
				checkResult(t, nil, err)
			}
			checkText(t, err)
		}
	})
}

// checkResult fails unless exactly one of cr and err is set and err is one of the three typed errors.
func checkResult(t *testing.T, cr *Created, err error) {
	t.Helper()
	var (
		row   *RowError
		retry *RetryableError
		fatal *FatalError
	)
	switch {
	case cr != nil && err != nil, cr == nil && err == nil:
		t.Fatalf("want exactly one of a result and an error, got %+v and %v", cr, err)
	case cr != nil && cr.ID == "" && !cr.Existing:
		t.Fatalf("created without an id: %+v", cr)
	case cr != nil && cr.HTTPStatus != 409 && (cr.HTTPStatus < 200 || cr.HTTPStatus > 299):
		t.Fatalf("created from status %d", cr.HTTPStatus)
	case err != nil && !errors.As(err, &row) && !errors.As(err, &retry) && !errors.As(err, &fatal):
		t.Fatalf("untyped error %T: %v", err, err)
	}
}

// checkText fails if an error's text shows the key or is not in the package's format.
func checkText(t *testing.T, err error) {
	t.Helper()
	if err == nil {
		return
	}
	if msg := err.Error(); strings.Contains(strings.ToLower(msg), fuzzKey) || !errorFormat.MatchString(msg) {
		t.Fatalf("bad error text %q", msg)
	}
}

func abs(n int) int {
	if n < 0 {
		if n = -n; n < 0 { // the smallest int
			return 0
		}
	}
	return n
}

// errorFormat is the package's error format: the answer's status, or the client's code, first.
var errorFormat = regexp.MustCompile(`^([1-9][0-9]{2}($|[ :;(])|[a-z][a-z0-9_]*($|[:;( ]))`)
