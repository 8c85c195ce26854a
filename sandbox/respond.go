package sandbox

import (
	"bytes"
	"encoding/json"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Error codes the sandbox answers, lowercase (UpperCodes writes them in capitals).
const (
	CodeUnauthorized            = "unauthorized"             // 401: no Authorization header
	CodeInvalidAPIKey           = "invalid_api_key"          // 401: not Bearer, or not the sandbox's key
	CodeWrongEnvironment        = "wrong_environment"        // 401: an sk_live_ key
	CodeInsufficientPermissions = "insufficient_permissions" // 403: Gated
	CodeNotFound                = "not_found"                // 404: unknown route, lookup miss
	CodeMethodNotAllowed        = "method_not_allowed"       // 405: known path, other method
	CodeConflict                = "conflict"                 // 409: the external_reference exists
	CodePayloadTooLarge         = "payload_too_large"        // 413: body over 1 MiB
	CodeInvalidFormat           = "invalid_format"           // 400: not a JSON object; 422: a field of the wrong type
	CodeMissingRequiredField    = "missing_required_field"   // 422: external_reference or a Required field absent or empty
	CodeIdempotencyKeyReused    = "idempotency_key_reused"   // 422: the key came first with another body
	CodeRateLimitExceeded       = "rate_limit_exceeded"      // 429
	CodeServiceUnavailable      = "service_unavailable"      // 503: FailRate, or a request cut short
)

// Response header names.
const (
	HeaderIdempotencyKey     = "Idempotency-Key"
	HeaderIdempotentReplayed = "Idempotent-Replayed"
	HeaderLimit              = "X-RateLimit-Limit"
	HeaderRemaining          = "X-RateLimit-Remaining"
	HeaderReset              = "X-RateLimit-Reset"
)

// The header names in the canonical form net/http keys them by.
var (
	limitKey     = http.CanonicalHeaderKey(HeaderLimit)
	remainingKey = http.CanonicalHeaderKey(HeaderRemaining)
	resetKey     = http.CanonicalHeaderKey(HeaderReset)
)

var (
	jsonType = []string{"application/json"}
	htmlType = []string{"text/html"}
	trueVal  = []string{"true"}
)

// apiError is the documented error shape: {"success":false,"error":{code,message,field,status,details}}.
type apiError struct {
	Code    string         `json:"code"`
	Message string         `json:"message"`
	Field   string         `json:"field,omitempty"`
	Status  int            `json:"status"`
	Details map[string]any `json:"details,omitempty"`
}

func (s *Server) writeError(w http.ResponseWriter, e apiError) {
	if s.cfg.UpperCodes {
		e.Code = strings.ToUpper(e.Code)
	}
	body, err := json.Marshal(struct {
		Success bool     `json:"success"`
		Error   apiError `json:"error"`
	}{Error: e})
	if err != nil { // details hold only strings, numbers and string slices
		panic("sandbox: marshal error body: " + err.Error())
	}
	writeBody(w, e.Status, jsonType, body)
}

func writeBody(w http.ResponseWriter, status int, ctype []string, body []byte) {
	h := w.Header()
	h["Content-Type"] = ctype
	h["Content-Length"] = []string{strconv.Itoa(len(body))}
	w.WriteHeader(status)
	_, _ = w.Write(body) // a client that went away is not the sandbox's error
}

func setRateHeaders(h http.Header, d decision) {
	h[limitKey] = []string{strconv.Itoa(d.limit)}
	h[remainingKey] = []string{strconv.Itoa(d.remaining)}
	h[resetKey] = []string{strconv.FormatInt(d.reset, 10)}
}

// proxyPage is what a reverse proxy in front of an API answers when the API is away (HTMLErrors).
const proxyPage = "<html>\r\n<head><title>503 Service Temporarily Unavailable</title></head>\r\n<body>\r\n" +
	"<center><h1>503 Service Temporarily Unavailable</h1></center>\r\n<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n"

// reserved are the data fields the sandbox writes itself; a request field of the same name is not echoed.
var reserved = map[string]bool{"id": true, "customer_id": true, "object": true, "created_at": true, "external_reference": true}

// successBody builds the complete success body of a created customer: the configured envelope around a
// data object holding the id (where IDField puts it), "object":"customer", the request's fields echoed
// back (sorted by name, nested values as sent) and created_at.
func (s *Server) successBody(c *customer, fields map[string]json.RawMessage) []byte {
	b := bufPool.Get().(*bytes.Buffer)
	defer putBuf(b)
	b.Reset()
	switch s.cfg.Envelope {
	case EnvelopeStatus:
		b.WriteString(`{"status":"success",`)
	case EnvelopeSuccess:
		b.WriteString(`{"success":true,`)
	default:
		b.WriteByte('{')
	}
	switch s.cfg.IDField {
	case IDTopID:
		b.WriteString(`"id":"` + c.ID + `",`)
	case IDTopCustomerID:
		b.WriteString(`"customer_id":"` + c.ID + `",`)
	}
	b.WriteString(`"data":{`)
	switch s.cfg.IDField {
	case IDDataID:
		b.WriteString(`"id":"` + c.ID + `",`)
	case IDDataCustomerID:
		b.WriteString(`"customer_id":"` + c.ID + `",`)
	}
	b.WriteString(`"object":"customer","external_reference":`)
	writeJSONString(b, c.ExternalReference)
	names := make([]string, 0, len(fields))
	for k := range fields {
		if !reserved[k] {
			names = append(names, k)
		}
	}
	slices.Sort(names)
	for _, k := range names {
		b.WriteByte(',')
		writeJSONString(b, k)
		b.WriteByte(':')
		if err := json.Compact(b, fields[k]); err != nil { // cannot happen: the body was parsed
			panic("sandbox: compact a parsed value: " + err.Error())
		}
	}
	b.WriteString(`,"created_at":"`)
	b.WriteString(c.Created.UTC().Format("2006-01-02T15:04:05.000Z"))
	b.WriteString(`"}}`)
	return bytes.Clone(b.Bytes()) // kept for the customer's life: exactly its size
}

func writeJSONString(b *bytes.Buffer, s string) {
	q, _ := json.Marshal(s) // a string always marshals
	b.Write(q)
}

// windowText says a rate-limit window in words for messages: "minute", "2s".
func windowText(d time.Duration) string {
	switch d {
	case time.Second:
		return "second"
	case time.Minute:
		return "minute"
	case time.Hour:
		return "hour"
	}
	return d.String()
}
