package sandbox

import (
	"bytes"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"math/rand/v2"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Routes.
const (
	CustomersPath    = "/api/v1/identity/customers"
	ControlPrefix    = "/_sandbox/"
	StatsPath        = ControlPrefix + "stats"
	CustomersListing = ControlPrefix + "customers"
	ResetPath        = ControlPrefix + "reset"
)

// MaxBody is the largest request body the sandbox reads; a larger one is answered 413.
const MaxBody = 1 << 20

// maxIdemKey bounds an Idempotency-Key's length.
const maxIdemKey = 255

// Server is the sandbox API. It is an http.Handler, safe for any number of concurrent requests.
type Server struct {
	cfg      Config
	required [][]string // Config.Required split at dots

	st      atomic.Pointer[state]
	seq     atomic.Uint64 // customer ids and commit order, never reset
	draws   atomic.Uint64 // fault and jitter draws
	idKey   uint64
	drawKey uint64
}

// state is everything Reset forgets.
type state struct {
	counters
	customers customers
	idem      idempotency
	lim       *limiter // nil without a limit
}

type counters struct {
	requests, creates, replays, existing, conflicts, keyReused, rateLimited, unauthorized, forbidden,
	invalid, notFound, injected5xx, dropped, duplicates, lookups atomic.Int64
}

// New validates cfg (see [ConfigError]) and returns a sandbox that plays it.
func New(cfg Config) (*Server, error) {
	c, err := cfg.normalize()
	if err != nil {
		return nil, err
	}
	s := &Server{cfg: c}
	for _, f := range c.Required {
		s.required = append(s.required, strings.Split(f, "."))
	}
	seed := uint64(c.Seed)
	if seed == 0 {
		seed = rand.Uint64() | 1
	}
	s.idKey, s.drawKey = mix64(seed), mix64(seed+0x9e3779b97f4a7c15)
	s.Reset()
	return s, nil
}

// Key returns the secret key the sandbox accepts.
func (s *Server) Key() string { return s.cfg.Key }

// Config returns the configuration in force, defaults filled in.
func (s *Server) Config() Config { return s.cfg }

// Reset forgets every customer, idempotency record, counter and rate-limit window (POST /_sandbox/reset).
// Requests in progress finish against the state they started with. Ids stay unique across resets.
func (s *Server) Reset() {
	st := &state{customers: newCustomers(), idem: newIdempotency()}
	if s.cfg.Limit > 0 {
		st.lim = newLimiter(s.cfg)
	}
	s.st.Store(st)
}

// ServeHTTP answers the API routes and the /_sandbox/ extensions.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if strings.HasPrefix(r.URL.Path, ControlPrefix) {
		s.serveControl(w, r)
		return
	}
	st := s.st.Load()
	st.requests.Add(1)
	if s.cfg.Latency > 0 || s.cfg.Jitter > 0 {
		d := s.cfg.Latency
		if s.cfg.Jitter > 0 {
			d += time.Duration(s.uniform() * float64(s.cfg.Jitter))
		}
		s.cfg.Sleep(r.Context(), d)
		if r.Context().Err() != nil {
			s.interrupted(w)
			return
		}
	}
	// Date on the sandbox's own clock (net/http would write the machine's), so that a client reading the
	// rate-limit headers against it sees one consistent clock, injected or not.
	w.Header().Set("Date", s.cfg.Now().UTC().Format(http.TimeFormat))
	switch {
	case r.URL.Path != CustomersPath:
		s.notFound(w, st, "no route "+r.Method+" "+r.URL.Path+"; the API's route is POST "+CustomersPath)
	case r.Method == http.MethodPost:
		s.create(w, r, st)
	case r.Method == http.MethodGet && s.cfg.Lookup:
		s.lookup(w, r, st)
	case r.Method == http.MethodGet:
		s.notFound(w, st, "the API offers no lookup of customers; start the sandbox with Lookup to use its extension")
	default:
		allow := "POST"
		if s.cfg.Lookup {
			allow = "GET, POST"
		}
		w.Header().Set("Allow", allow)
		s.peekHeaders(w, st)
		s.writeError(w, apiError{Code: CodeMethodNotAllowed, Status: http.StatusMethodNotAllowed,
			Message: "method " + r.Method + " is not allowed on " + CustomersPath + " (allowed: " + allow + ")"})
	}
}

// admit runs the checks every customers request passes in order: authentication (401), the tenant gate
// (403), then the rate limiter (429). Only requests that pass authentication and the gate reach the
// limiter and count against the limit; the others still carry the limiter's current headers.
func (s *Server) admit(w http.ResponseWriter, r *http.Request, st *state) (now time.Time, ok bool) {
	if code, msg := s.authenticate(r.Header.Get("Authorization")); code != "" {
		st.unauthorized.Add(1)
		w.Header().Set("WWW-Authenticate", `Bearer realm="zentra-sandbox"`)
		s.peekHeaders(w, st)
		s.writeError(w, apiError{Code: code, Message: msg, Status: http.StatusUnauthorized})
		return now, false
	}
	if s.cfg.Gated {
		st.forbidden.Add(1)
		s.peekHeaders(w, st)
		s.writeError(w, apiError{Code: CodeInsufficientPermissions, Status: http.StatusForbidden,
			Message: "the identity customer surface is not enabled for this tenant; ask Zentra to enable it"})
		return now, false
	}
	now = s.cfg.Now()
	if st.lim == nil {
		return now, true
	}
	d := st.lim.take(now)
	setRateHeaders(w.Header(), d)
	if d.allowed {
		return now, true
	}
	st.rateLimited.Add(1)
	wait := s.cfg.RetryAfter
	if wait < 0 {
		wait = d.wait
	}
	w.Header()["Retry-After"] = []string{strconv.Itoa(wait)}
	s.writeError(w, apiError{Code: CodeRateLimitExceeded, Status: http.StatusTooManyRequests,
		Message: "rate limit exceeded: " + strconv.Itoa(s.cfg.Limit) + " requests per " + windowText(s.cfg.Window) +
			"; retry after " + strconv.Itoa(wait) + " seconds",
		Details: map[string]any{"retry_after": wait, "limit": s.cfg.Limit}})
	return now, false
}

// authenticate returns the 401 code and message for an Authorization header, or "" when it carries the
// sandbox's key. Messages never repeat the key sent.
func (s *Server) authenticate(h string) (code, msg string) {
	if h == "" {
		return CodeUnauthorized, "missing Authorization header; send Authorization: Bearer <secret key>"
	}
	scheme, tok, _ := strings.Cut(h, " ")
	tok = strings.TrimSpace(tok)
	switch {
	case !strings.EqualFold(scheme, "Bearer") || tok == "":
		return CodeInvalidAPIKey, "the Authorization header is not Bearer <secret key>"
	case strings.HasPrefix(tok, LivePrefix):
		return CodeWrongEnvironment, "a live key (sk_live_…) was sent to the sandbox; use an sk_sandbox_… key here"
	case subtle.ConstantTimeCompare([]byte(tok), []byte(s.cfg.Key)) != 1:
		return CodeInvalidAPIKey, "the API key is not valid for this sandbox"
	}
	return "", ""
}

func (s *Server) peekHeaders(w http.ResponseWriter, st *state) {
	if st.lim != nil {
		setRateHeaders(w.Header(), st.lim.peek(s.cfg.Now()))
	}
}

func (s *Server) notFound(w http.ResponseWriter, st *state, msg string) {
	st.notFound.Add(1)
	s.peekHeaders(w, st)
	s.writeError(w, apiError{Code: CodeNotFound, Message: msg, Status: http.StatusNotFound})
}

// interrupted answers a request whose context ended before it was processed (the client left, or the
// server is shutting down). Nothing was committed.
func (s *Server) interrupted(w http.ResponseWriter) {
	w.Header().Set("Connection", "close")
	s.writeError(w, apiError{Code: CodeServiceUnavailable, Status: http.StatusServiceUnavailable,
		Message: "the request was cut short before it was processed; nothing was created"})
}

var bufPool = sync.Pool{New: func() any { return new(bytes.Buffer) }}

// putBuf returns a buffer to the pool unless a rare large body grew it.
func putBuf(b *bytes.Buffer) {
	if b.Cap() <= 64<<10 {
		bufPool.Put(b)
	}
}

// create is POST /api/v1/identity/customers: admit (401/403/429), inject a failure (503), read and
// validate the body (400/413/422), settle the Idempotency-Key (replay or 422), then commit or answer the
// duplicate (201, or 409 / 200 / another customer by the configured reading), and maybe drop the answer.
func (s *Server) create(w http.ResponseWriter, r *http.Request, st *state) {
	now, ok := s.admit(w, r, st)
	if !ok {
		return
	}
	if s.chance(s.cfg.FailRate) {
		st.injected5xx.Add(1)
		if s.cfg.HTMLErrors {
			h := w.Header()
			delete(h, limitKey)
			delete(h, remainingKey)
			delete(h, resetKey)
			writeBody(w, http.StatusServiceUnavailable, htmlType, []byte(proxyPage))
			return
		}
		s.writeError(w, apiError{Code: CodeServiceUnavailable, Status: http.StatusServiceUnavailable,
			Message: "the service is temporarily unavailable; nothing was created, retry later"})
		return
	}

	buf := bufPool.Get().(*bytes.Buffer)
	buf.Reset()
	defer putBuf(buf)
	if _, err := buf.ReadFrom(http.MaxBytesReader(w, r.Body, MaxBody)); err != nil {
		if _, tooBig := errors.AsType[*http.MaxBytesError](err); tooBig {
			st.invalid.Add(1)
			s.writeError(w, apiError{Code: CodePayloadTooLarge, Status: http.StatusRequestEntityTooLarge,
				Message: "the request body is larger than " + strconv.Itoa(MaxBody) + " bytes"})
			return
		}
		s.interrupted(w)
		return
	}
	body := buf.Bytes()
	fields, ref, bad := s.validate(body)
	if bad != nil {
		st.invalid.Add(1)
		s.writeError(w, *bad)
		return
	}

	key := ""
	if !s.cfg.NoIdempotency {
		key = r.Header.Get(HeaderIdempotencyKey)
	}
	if key == "" {
		s.commit(w, st, now, ref, fields, "", nil)
		return
	}
	if len(key) > maxIdemKey || !printable(key) {
		st.invalid.Add(1)
		s.writeError(w, apiError{Code: CodeInvalidFormat, Status: http.StatusBadRequest, Field: HeaderIdempotencyKey,
			Message: "the Idempotency-Key header must be at most " + strconv.Itoa(maxIdemKey) + " printable ASCII characters"})
		return
	}
	hash := sha256.Sum256(body)
	rec, owner, err := st.idem.begin(r.Context(), key, hash)
	switch {
	case err != nil:
		s.interrupted(w)
	case owner:
		s.commit(w, st, now, ref, fields, key, rec)
	case rec.hash != hash:
		st.invalid.Add(1)
		st.keyReused.Add(1)
		s.writeError(w, apiError{Code: CodeIdempotencyKeyReused, Status: http.StatusUnprocessableEntity,
			Field:   HeaderIdempotencyKey,
			Message: "this Idempotency-Key was first used with a different request body; use a new key for a different request"})
	default:
		st.replays.Add(1)
		w.Header()[HeaderIdempotentReplayed] = trueVal
		writeBody(w, rec.status, jsonType, rec.cust.body)
	}
}

// commit creates the customer or answers the duplicate. With an idempotency record (rec != nil) it
// stores a success in the record before answering, so that a dropped answer can be replayed.
func (s *Server) commit(w http.ResponseWriter, st *state, now time.Time, ref string, fields map[string]json.RawMessage, key string, rec *idemRecord) {
	seq := s.seq.Add(1)
	c := &customer{Customer: Customer{ID: s.customerID(seq), ExternalReference: ref, Created: now.Round(0)}, seq: seq}
	c.body = s.successBody(c, fields)

	existing, n := st.customers.commit(c, !s.cfg.NoUnique)
	if existing != nil {
		if s.cfg.DuplicateOK {
			st.existing.Add(1)
			s.finish(st, key, rec, http.StatusOK, existing)
			writeBody(w, http.StatusOK, jsonType, existing.body)
			return
		}
		s.finish(st, key, rec, 0, nil)
		st.conflicts.Add(1)
		details := map[string]any{"external_reference": ref}
		if !s.cfg.ConflictWithoutID {
			details["customer_id"] = existing.ID
		}
		s.writeError(w, apiError{Code: CodeConflict, Status: http.StatusConflict, Field: "external_reference",
			Message: "conflicts with current state: a customer with this external_reference already exists",
			Details: details})
		return
	}
	st.creates.Add(1)
	if n > 1 {
		st.duplicates.Add(1)
	}
	s.finish(st, key, rec, http.StatusCreated, c)
	if s.chance(s.cfg.DropRate) {
		st.dropped.Add(1)
		panic(http.ErrAbortHandler) // net/http closes the connection without writing anything
	}
	writeBody(w, http.StatusCreated, jsonType, c.body)
}

func (s *Server) finish(st *state, key string, rec *idemRecord, status int, c *customer) {
	if rec != nil {
		st.idem.finish(key, rec, status, c)
	}
}

// validate parses a create body. It returns the top-level fields and the external_reference, or the
// error to answer: 400 invalid_format when the body is not a JSON object, 422 missing_required_field for
// an absent, null or blank external_reference or Required field, 422 invalid_format when
// external_reference is not a string.
func (s *Server) validate(body []byte) (map[string]json.RawMessage, string, *apiError) {
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(body, &fields); err != nil || fields == nil {
		msg := "the request body is not valid JSON; send one JSON object"
		if _, wrongType := errors.AsType[*json.UnmarshalTypeError](err); wrongType || err == nil {
			msg = "the request body must be a JSON object, not " + jsonKind(body)
		}
		return nil, "", &apiError{Code: CodeInvalidFormat, Status: http.StatusBadRequest, Message: msg}
	}
	raw, ok := fields["external_reference"]
	if !ok || isBlank(raw) {
		return nil, "", missing([]string{"external_reference"})
	}
	var ref string
	if err := json.Unmarshal(raw, &ref); err != nil {
		return nil, "", &apiError{Code: CodeInvalidFormat, Status: http.StatusUnprocessableEntity, Field: "external_reference",
			Message: "external_reference must be a string, not " + jsonKind(raw)}
	}
	var absent []string
	for i, path := range s.required {
		if !present(fields, path) {
			absent = append(absent, s.cfg.Required[i])
		}
	}
	if absent != nil {
		return nil, "", missing(absent)
	}
	return fields, ref, nil
}

func missing(fields []string) *apiError {
	msg := fields[0] + " is required"
	if len(fields) > 1 {
		msg = "required fields are missing: " + strings.Join(fields, ", ")
	}
	return &apiError{Code: CodeMissingRequiredField, Status: http.StatusUnprocessableEntity, Field: fields[0],
		Message: msg, Details: map[string]any{"fields": fields}}
}

// present says whether the dotted path names a value that is neither null nor a blank string.
func present(fields map[string]json.RawMessage, path []string) bool {
	for i, name := range path {
		raw, ok := fields[name]
		if !ok || isBlank(raw) {
			return false
		}
		if i == len(path)-1 {
			return true
		}
		fields = nil
		if json.Unmarshal(raw, &fields) != nil || fields == nil {
			return false
		}
	}
	return false
}

// isBlank says whether a JSON value is null or a string of only white space.
func isBlank(raw json.RawMessage) bool {
	raw = bytes.TrimSpace(raw)
	if string(raw) == "null" {
		return true
	}
	if len(raw) == 0 || raw[0] != '"' {
		return false
	}
	var str string
	return json.Unmarshal(raw, &str) == nil && strings.TrimSpace(str) == ""
}

// jsonKind names the kind of a JSON value for messages, without quoting it (it may be personal data).
func jsonKind(raw []byte) string {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 {
		return "an empty body"
	}
	switch raw[0] {
	case '[':
		return "an array"
	case '"':
		return "a string"
	case 't', 'f':
		return "a boolean"
	case 'n':
		return "null"
	case '{':
		return "an object"
	}
	return "a number"
}

func printable(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < ' ' || s[i] > '~' {
			return false
		}
	}
	return true
}

// lookup is the sandbox extension GET /api/v1/identity/customers?external_reference=X: 200 with the
// customer's creation body (the first customer of that reference), or 404 not_found.
func (s *Server) lookup(w http.ResponseWriter, r *http.Request, st *state) {
	if _, ok := s.admit(w, r, st); !ok {
		return
	}
	st.lookups.Add(1)
	ref := r.URL.Query().Get("external_reference")
	if strings.TrimSpace(ref) == "" {
		st.invalid.Add(1)
		s.writeError(w, *missing([]string{"external_reference"}))
		return
	}
	c := st.customers.find(ref)
	if c == nil {
		st.notFound.Add(1)
		s.writeError(w, apiError{Code: CodeNotFound, Status: http.StatusNotFound,
			Message: "no customer has this external_reference", Details: map[string]any{"external_reference": ref}})
		return
	}
	writeBody(w, http.StatusOK, jsonType, c.body)
}

// chance draws once and says whether an event of probability p happens.
func (s *Server) chance(p float64) bool {
	if p <= 0 {
		return false
	}
	return p >= 1 || s.uniform() < p
}

// uniform returns a draw in [0, 1) from the seeded sequence: reproducible for a given Seed and order of
// draws, lock-free.
func (s *Server) uniform() float64 {
	return float64(mix64(s.drawKey+s.draws.Add(1)*0x9e3779b97f4a7c15)>>11) / (1 << 53)
}

// mix64 is SplitMix64's finaliser, a bijection on uint64.
func mix64(x uint64) uint64 {
	x ^= x >> 30
	x *= 0xbf58476d1ce4e5b9
	x ^= x >> 27
	x *= 0x94d049bb133111eb
	x ^= x >> 31
	return x
}

const base62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"

// customerID makes "cus_" and 11 base62 digits from a sequence number: distinct sequence numbers give
// distinct ids (mix64 is a bijection), which look random and depend on Seed.
func (s *Server) customerID(seq uint64) string {
	var b [4 + 11]byte
	copy(b[:], "cus_")
	x := mix64(seq ^ s.idKey)
	for i := len(b) - 1; i >= 4; i-- {
		b[i] = base62[x%62]
		x /= 62
	}
	return string(b[:])
}
