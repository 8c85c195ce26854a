package zentra

import (
	"net/http"
	"strings"
)

// class is what the caller should do with an answer.
type class uint8

const (
	classCreated  class = iota + 1 // a 2xx: success, provided the body names the customer's id
	classExisting                  // a 409 for the reference: the customer exists already
	classRow                       // give up on this row; the run goes on
	classRetry                     // try this row again later
	classFatal                     // stop the run: no other row can succeed either
)

func (c class) String() string {
	switch c {
	case classCreated:
		return "created"
	case classExisting:
		return "existing"
	case classRow:
		return "row"
	case classRetry:
		return "retry"
	case classFatal:
		return "fatal"
	}
	return "invalid"
}

// Error codes whose meaning holds whatever the status beside them (below 500): the key or the tenant is
// refused, or the rate limit is hit.
var (
	fatalCodes = map[string]bool{
		"unauthorized": true, "invalid_api_key": true, "expired_api_key": true, "wrong_environment": true,
		"insufficient_permissions": true, "forbidden": true, "revoked_api_key": true,
	}
	rateCodes = map[string]bool{"rate_limit_exceeded": true, "too_many_requests": true, "rate_limited": true}
	// busyCodes on a 409 say that a request with the same idempotency key is still being processed:
	// the answer will exist, it is not a duplicate yet.
	busyCodes = map[string]bool{
		"idempotency_key_in_use": true, "request_in_progress": true, "concurrent_request": true,
		"idempotency_request_in_progress": true,
	}
)

// classify is the one table from an answer to what to do with it. status is the HTTP status; code is the
// API's error code, normalised by normCode ("" when none); field is error.field; failed says a 2xx body
// declared failure ("success": false or "status": "error"). The customer id is checked by the caller: a
// created answer without one is a row failure.
//
//	2xx                             created (a failed 2xx body: by its code, else row)
//	409                             existing; busy codes retry; a field other than external_reference: row
//	401, 403, 407                   fatal (the key, the tenant, the proxy)
//	404, 405, 410, 501, 505, 3xx    fatal (no such route at this URL)
//	408, 425, 429, other 5xx        retry
//	other 4xx, anything else        row
//	fatal codes (any status < 500)  fatal; rate-limit codes (any status < 500) retry
func classify(status int, code, field string, failed bool) class {
	if status >= 200 && status < 300 && !failed {
		return classCreated
	}
	if status < 500 {
		switch {
		case fatalCodes[code]:
			return classFatal
		case rateCodes[code]:
			return classRetry
		}
	}
	switch status {
	case 409:
		switch {
		case busyCodes[code]:
			return classRetry
		case field != "" && !strings.HasSuffix(field, "external_reference"):
			return classRow
		}
		return classExisting
	case 401, 403, 407, 404, 405, 410, 501, 505:
		return classFatal
	case 408, 425, 429:
		return classRetry
	}
	switch {
	case status >= 300 && status < 400:
		return classFatal
	case status >= 500 && status < 600:
		return classRetry
	}
	return classRow
}

// unanswered says whether a failure means that the API itself gave no answer, rather than an answer that
// refuses or fails this one request. status and code are those of a [RetryableError].
//
//	status 0 (refused, reset, closed, timed out, any network error)   no answer
//	502, 504 (a gateway got no answer from the API behind it)          no answer
//	503 without an error code in the API's shape (a load balancer's
//	    or proxy's page, an empty body, a bare message)                no answer
//	503 with the API's error code, 500, other 5xx, 408, 425, 429      an answer
//
// A 503 that carries the API's own error envelope is the API speaking (shedding load, or in trouble with
// this request): it keeps the row's retry policy, as a 500 does, since it may well concern this row only.
func unanswered(status int, code string) bool {
	switch status {
	case 0, http.StatusBadGateway, http.StatusGatewayTimeout:
		return true
	case http.StatusServiceUnavailable:
		return code == ""
	}
	return false
}

// normCode normalises an error code for matching: lower case, with '-', '.' and spaces as '_'.
func normCode(code string) string {
	return strings.Map(func(r rune) rune {
		switch r {
		case '-', '.', ' ':
			return '_'
		}
		return r
	}, strings.ToLower(strings.TrimSpace(code)))
}
