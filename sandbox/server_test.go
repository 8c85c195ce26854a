package sandbox

import (
	"context"
	"errors"
	"math"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestAuthentication(t *testing.T) {
	tests := []struct {
		name   string
		auth   string
		status int
		code   string
	}{
		{"no header", "", 401, CodeUnauthorized},
		{"basic scheme", "Basic dXNlcjpwYXNz", 401, CodeInvalidAPIKey},
		{"bearer without key", "Bearer ", 401, CodeInvalidAPIKey},
		{"bare key", testKey, 401, CodeInvalidAPIKey},
		{"other sandbox key", "Bearer sk_sandbox_ffffffffffffffffffffffff", 401, CodeInvalidAPIKey},
		{"key prefix only", "Bearer " + testKey[:len(testKey)-1], 401, CodeInvalidAPIKey},
		{"live key", "Bearer sk_live_0123456789abcdef", 401, CodeWrongEnvironment},
		{"right key", "Bearer " + testKey, 201, ""},
		{"scheme in lowercase", "bearer " + testKey, 201, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newServer(t, Config{Limit: 10})
			r := post(body("ref-1"), "")
			r.auth = tt.auth
			a := serve(t, s, r)
			require.Equal(t, tt.status, a.Status, a.Raw)
			assert.Equal(t, tt.code, a.errCode())
			assert.NotEmpty(t, a.Header.Get(HeaderLimit), "every answer carries the rate-limit headers")
			st := s.Stats()
			if tt.status == 401 {
				assert.Equal(t, "Bearer", strings.Fields(a.Header.Get("WWW-Authenticate"))[0])
				assert.Equal(t, false, a.JSON["success"])
				assert.Equal(t, 1, st.Unauthorized)
				assert.Equal(t, 0, st.Creates)
				assert.Equal(t, "10", a.Header.Get(HeaderRemaining), "a 401 does not count against the limit")
				if _, tok, _ := strings.Cut(tt.auth, " "); len(tok) > 10 {
					assert.NotContains(t, a.Raw, tok, "the message never repeats a key")
				}
			} else {
				assert.Equal(t, 1, st.Creates)
				assert.Equal(t, "9", a.Header.Get(HeaderRemaining))
			}
		})
	}
}

func TestGated(t *testing.T) {
	s := newServer(t, Config{Gated: true, Limit: 5, Lookup: true})
	for _, r := range []request{post(body("r"), ""), {method: "GET", path: CustomersPath + "?external_reference=r", auth: "Bearer " + testKey}} {
		a := serve(t, s, r)
		require.Equal(t, http.StatusForbidden, a.Status)
		assert.Equal(t, CodeInsufficientPermissions, a.errCode())
		assert.Equal(t, 403.0, a.path("error.status"))
		assert.Equal(t, "5", a.Header.Get(HeaderRemaining))
	}
	bad := post(body("r"), "")
	bad.auth = "Bearer sk_live_x"
	assert.Equal(t, http.StatusUnauthorized, serve(t, s, bad).Status, "authentication comes before the gate")
	st := s.Stats()
	assert.Equal(t, 2, st.Forbidden)
	assert.Equal(t, 1, st.Unauthorized)
	assert.Equal(t, 3, st.Requests)
	assert.Empty(t, s.Customers())
}

func TestCreateShapes(t *testing.T) {
	tests := []struct {
		envelope, idField string
		want              map[string]any // paths that must hold these values ("<id>": the customer id)
		absent            []string
	}{
		{"", "", map[string]any{"status": "success", "data.id": "<id>"}, []string{"success", "id", "data.customer_id"}},
		{EnvelopeStatus, IDDataCustomerID, map[string]any{"status": "success", "data.customer_id": "<id>"}, []string{"data.id"}},
		{EnvelopeSuccess, IDDataID, map[string]any{"success": true, "data.id": "<id>"}, []string{"status"}},
		{EnvelopeSuccess, IDTopID, map[string]any{"success": true, "id": "<id>"}, []string{"data.id"}},
		{EnvelopeData, IDDataID, map[string]any{"data.id": "<id>"}, []string{"status", "success"}},
		{EnvelopeData, IDTopCustomerID, map[string]any{"customer_id": "<id>"}, []string{"data.id", "id"}},
		{EnvelopeData, IDNone, map[string]any{}, []string{"data.id", "data.customer_id", "id", "customer_id"}},
	}
	for _, tt := range tests {
		t.Run(tt.envelope+"/"+tt.idField, func(t *testing.T) {
			s := newServer(t, Config{Envelope: tt.envelope, IDField: tt.idField})
			a := serve(t, s, post(body("ref-7"), ""))
			require.Equal(t, http.StatusCreated, a.Status, a.Raw)
			cs := s.Customers()
			require.Len(t, cs, 1)
			assert.Regexp(t, `^cus_[0-9A-Za-z]{11}$`, cs[0].ID)
			for p, v := range tt.want {
				if v == "<id>" {
					v = cs[0].ID
				}
				assert.Equal(t, v, a.path(p), p)
			}
			for _, p := range tt.absent {
				assert.Nil(t, a.path(p), p)
			}
			// The data object echoes the request as the API would.
			assert.Equal(t, "ref-7", a.path("data.external_reference"))
			assert.Equal(t, "customer", a.path("data.object"))
			assert.Equal(t, "ada@example.com", a.path("data.email"))
			assert.Equal(t, "legacy", a.path("data.metadata.source"))
			assert.Equal(t, 2.0, a.path("data.metadata.tier"))
			assert.Equal(t, cs[0].Created.UTC().Format("2006-01-02T15:04:05.000Z"), a.path("data.created_at"))
			assert.Equal(t, "application/json", a.Header.Get("Content-Type"))
			assert.Empty(t, a.Header.Get(HeaderLimit), "no rate-limit headers without a limit")
		})
	}
}

func TestCreateEchoesWithoutOverridingServerFields(t *testing.T) {
	s := newServer(t, Config{})
	a := serve(t, s, post(`{"external_reference":"r","id":"mine","object":"x","created_at":"never","custom":{"a":[1,2]}}`, ""))
	require.Equal(t, http.StatusCreated, a.Status, a.Raw)
	assert.Equal(t, s.Customers()[0].ID, a.path("data.id"))
	assert.Equal(t, "customer", a.path("data.object"))
	assert.NotEqual(t, "never", a.path("data.created_at"))
	assert.Equal(t, []any{1.0, 2.0}, a.path("data.custom.a"))
}

func TestValidation(t *testing.T) {
	tests := []struct {
		name     string
		required []string
		body     string
		status   int
		code     string
		field    string
	}{
		{"not json", nil, `first_name=Ada`, 400, CodeInvalidFormat, ""},
		{"empty body", nil, ``, 400, CodeInvalidFormat, ""},
		{"truncated json", nil, `{"external_reference":"r"`, 400, CodeInvalidFormat, ""},
		{"array", nil, `[{"external_reference":"r"}]`, 400, CodeInvalidFormat, ""},
		{"null", nil, `null`, 400, CodeInvalidFormat, ""},
		{"string", nil, `"r"`, 400, CodeInvalidFormat, ""},
		{"reference absent", nil, `{"email":"a@b.c"}`, 422, CodeMissingRequiredField, "external_reference"},
		{"reference empty", nil, `{"external_reference":""}`, 422, CodeMissingRequiredField, "external_reference"},
		{"reference blank", nil, `{"external_reference":"  "}`, 422, CodeMissingRequiredField, "external_reference"},
		{"reference null", nil, `{"external_reference":null}`, 422, CodeMissingRequiredField, "external_reference"},
		{"reference number", nil, `{"external_reference":42}`, 422, CodeInvalidFormat, "external_reference"},
		{"reference object", nil, `{"external_reference":{"id":1}}`, 422, CodeInvalidFormat, "external_reference"},
		{"required absent", []string{"email"}, `{"external_reference":"r"}`, 422, CodeMissingRequiredField, "email"},
		{"required empty", []string{"email"}, `{"external_reference":"r","email":""}`, 422, CodeMissingRequiredField, "email"},
		{"first of several", []string{"email", "phone"}, `{"external_reference":"r","phone":null}`, 422, CodeMissingRequiredField, "email"},
		{"nested absent", []string{"metadata.source"}, `{"external_reference":"r","metadata":{}}`, 422, CodeMissingRequiredField, "metadata.source"},
		{"nested parent not object", []string{"metadata.source"}, `{"external_reference":"r","metadata":"x"}`, 422, CodeMissingRequiredField, "metadata.source"},
		{"required present", []string{"email", "metadata.source"}, body("r"), 201, "", ""},
		{"required number counts", []string{"age"}, `{"external_reference":"r","age":0}`, 201, "", ""},
		{"unknown and nested fields", nil, `{"external_reference":"r","x":{"y":{"z":[true,null]}},"program":"kyc-lite"}`, 201, "", ""},
		{"whitespace around", nil, " \n{\"external_reference\" : \"r\"}\n", 201, "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newServer(t, Config{Required: tt.required})
			a := serve(t, s, post(tt.body, "k1"))
			require.Equal(t, tt.status, a.Status, a.Raw)
			assert.Equal(t, tt.code, a.errCode())
			st := s.Stats()
			if tt.status >= 400 {
				if tt.field == "" {
					assert.Nil(t, a.path("error.field"))
				} else {
					assert.Equal(t, tt.field, a.path("error.field"))
				}
				assert.Equal(t, float64(tt.status), a.path("error.status"))
				assert.NotEmpty(t, a.path("error.message"))
				assert.Equal(t, 1, st.Invalid)
				assert.Equal(t, 0, st.Creates)
				// A rejected request leaves no idempotency record: fixed, the same key creates.
				b := serve(t, s, post(`{"external_reference":"fixed","email":"e","phone":"p","metadata":{"source":"s"}}`, "k1"))
				assert.Equal(t, http.StatusCreated, b.Status, b.Raw)
			} else {
				assert.Equal(t, 1, st.Creates)
			}
		})
	}
}

func TestValidationListsEveryMissingField(t *testing.T) {
	s := newServer(t, Config{Required: []string{"email", " phone ", "metadata.source"}})
	a := serve(t, s, post(`{"external_reference":"r"}`, ""))
	require.Equal(t, 422, a.Status)
	assert.Equal(t, "email", a.path("error.field"))
	assert.Equal(t, []any{"email", "phone", "metadata.source"}, a.path("error.details.fields"))
}

func TestBodyTooLarge(t *testing.T) {
	s := newServer(t, Config{})
	big := `{"external_reference":"r","notes":"` + strings.Repeat("x", MaxBody) + `"}`
	a := serve(t, s, post(big, ""))
	require.Equal(t, http.StatusRequestEntityTooLarge, a.Status)
	assert.Equal(t, CodePayloadTooLarge, a.errCode())
	assert.Equal(t, 1, s.Stats().Invalid)
}

func TestUpperCodes(t *testing.T) {
	s := newServer(t, Config{UpperCodes: true})
	a := serve(t, s, post(`{}`, ""))
	assert.Equal(t, "MISSING_REQUIRED_FIELD", a.errCode())
	r := post(body("r"), "")
	r.auth = "Bearer sk_live_abc"
	assert.Equal(t, "WRONG_ENVIRONMENT", serve(t, s, r).errCode())
}

func TestDuplicates(t *testing.T) {
	tests := []struct {
		name     string
		cfg      Config
		status   int
		code     string
		withID   bool // the answer carries the first customer's id
		replayed bool
		want     Stats // the counters that matter after the second request
	}{
		{"409 with id", Config{}, 409, CodeConflict, true, false, Stats{Creates: 1, Conflicts: 1}},
		{"409 without id", Config{ConflictWithoutID: true}, 409, CodeConflict, false, false, Stats{Creates: 1, Conflicts: 1}},
		{"200 existing", Config{DuplicateOK: true}, 200, "", true, false, Stats{Creates: 1, Existing: 1}},
		{"second customer", Config{NoUnique: true}, 201, "", false, false, Stats{Creates: 2, DuplicateCustomers: 1}},
		{"keys ignored: 409", Config{NoIdempotency: true}, 409, CodeConflict, true, false, Stats{Creates: 1, Conflicts: 1}},
	}
	for _, tt := range tests {
		for _, keys := range [][2]string{{"", ""}, {"k1", "k2"}, {"k1", ""}} {
			t.Run(tt.name+"/keys "+keys[0]+","+keys[1], func(t *testing.T) {
				s := newServer(t, tt.cfg)
				first := serve(t, s, post(body("dup"), keys[0]))
				require.Equal(t, http.StatusCreated, first.Status)
				firstID := s.Customers()[0].ID
				a := serve(t, s, post(body("dup"), keys[1]))
				require.Equal(t, tt.status, a.Status, a.Raw)
				assert.Equal(t, tt.code, a.errCode())
				assert.Empty(t, a.Header.Get(HeaderIdempotentReplayed))
				switch {
				case tt.status == 409 && tt.withID:
					assert.Equal(t, firstID, a.path("error.details.customer_id"))
					assert.Equal(t, "dup", a.path("error.details.external_reference"))
					assert.Equal(t, "external_reference", a.path("error.field"))
				case tt.status == 409:
					assert.NotContains(t, a.Raw, firstID)
				case tt.status == 200:
					assert.Equal(t, first.Raw, a.Raw, "the existing record, as first answered")
				case tt.status == 201:
					assert.NotEqual(t, firstID, a.path("data.id"))
				}
				st := s.Stats()
				assert.Equal(t, tt.want.Creates, st.Creates)
				assert.Equal(t, tt.want.Conflicts, st.Conflicts)
				assert.Equal(t, tt.want.Existing, st.Existing)
				assert.Equal(t, tt.want.DuplicateCustomers, st.DuplicateCustomers)
				assert.Len(t, s.Customers(), tt.want.Creates)
			})
		}
	}
}

func TestIdempotency(t *testing.T) {
	t.Run("replay", func(t *testing.T) {
		s := newServer(t, Config{})
		first := serve(t, s, post(body("r1"), "key-1"))
		require.Equal(t, http.StatusCreated, first.Status)
		assert.Empty(t, first.Header.Get(HeaderIdempotentReplayed))
		again := serve(t, s, post(body("r1"), "key-1"))
		require.Equal(t, http.StatusCreated, again.Status, "the stored status")
		assert.Equal(t, "true", again.Header.Get(HeaderIdempotentReplayed))
		assert.Equal(t, first.Raw, again.Raw, "the stored body, same id")
		st := s.Stats()
		assert.Equal(t, 1, st.Creates)
		assert.Equal(t, 1, st.Replays)
		assert.Equal(t, 0, st.Conflicts)
	})
	t.Run("same key other body", func(t *testing.T) {
		s := newServer(t, Config{})
		require.Equal(t, 201, serve(t, s, post(body("r1"), "key-1")).Status)
		a := serve(t, s, post(body("r2"), "key-1"))
		require.Equal(t, http.StatusUnprocessableEntity, a.Status)
		assert.Equal(t, CodeIdempotencyKeyReused, a.errCode())
		assert.Equal(t, HeaderIdempotencyKey, a.path("error.field"))
		st := s.Stats()
		assert.Equal(t, 1, st.KeyReused)
		assert.Equal(t, 1, st.Invalid)
		assert.Len(t, s.Customers(), 1)
	})
	t.Run("byte-identical bodies only", func(t *testing.T) {
		s := newServer(t, Config{})
		require.Equal(t, 201, serve(t, s, post(`{"external_reference":"r"}`, "k")).Status)
		assert.Equal(t, 422, serve(t, s, post(`{"external_reference": "r"}`, "k")).Status)
	})
	t.Run("replay of an existing answer", func(t *testing.T) {
		s := newServer(t, Config{DuplicateOK: true})
		require.Equal(t, 201, serve(t, s, post(body("r"), "")).Status)
		a := serve(t, s, post(body("r"), "k"))
		require.Equal(t, 200, a.Status)
		b := serve(t, s, post(body("r"), "k"))
		assert.Equal(t, 200, b.Status)
		assert.Equal(t, "true", b.Header.Get(HeaderIdempotentReplayed))
		assert.Equal(t, a.Raw, b.Raw)
	})
	t.Run("conflicts are not stored", func(t *testing.T) {
		s := newServer(t, Config{})
		require.Equal(t, 201, serve(t, s, post(body("r"), "")).Status)
		for range 2 {
			a := serve(t, s, post(body("r"), "k"))
			assert.Equal(t, 409, a.Status)
			assert.Empty(t, a.Header.Get(HeaderIdempotentReplayed))
		}
		assert.Equal(t, 2, s.Stats().Conflicts)
	})
	t.Run("ignored", func(t *testing.T) {
		s := newServer(t, Config{NoIdempotency: true, NoUnique: true})
		a := serve(t, s, post(body("r"), "k"))
		b := serve(t, s, post(body("r"), "k"))
		require.Equal(t, 201, b.Status)
		assert.Empty(t, b.Header.Get(HeaderIdempotentReplayed))
		assert.NotEqual(t, a.path("data.id"), b.path("data.id"))
		assert.Equal(t, 1, s.Stats().DuplicateCustomers)
		assert.Equal(t, 0, s.Stats().Replays)
	})
	t.Run("key protects even without unique references", func(t *testing.T) {
		s := newServer(t, Config{NoUnique: true})
		a := serve(t, s, post(body("r"), "k"))
		b := serve(t, s, post(body("r"), "k"))
		assert.Equal(t, a.Raw, b.Raw)
		assert.Equal(t, 0, s.Stats().DuplicateCustomers)
	})
	t.Run("bad key", func(t *testing.T) {
		s := newServer(t, Config{})
		for _, k := range []string{strings.Repeat("k", maxIdemKey+1), "tab\there", "ünï"} {
			a := serve(t, s, post(body("r"), k))
			assert.Equal(t, 400, a.Status)
			assert.Equal(t, CodeInvalidFormat, a.errCode())
			assert.Equal(t, HeaderIdempotencyKey, a.path("error.field"))
		}
		assert.Empty(t, s.Customers())
	})
	t.Run("waits for the first request", func(t *testing.T) {
		s := newServer(t, Config{})
		st := s.st.Load()
		rec, owner, err := st.idem.begin(context.Background(), "k", [32]byte{1})
		require.NoError(t, err)
		require.True(t, owner)
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		_, _, err = st.idem.begin(ctx, "k", [32]byte{1})
		assert.ErrorIs(t, err, context.Canceled, "a waiter gives up when its request ends")
		got := make(chan *idemRecord)
		go func() {
			r, owner, err := st.idem.begin(context.Background(), "k", [32]byte{1})
			assert.NoError(t, err)
			assert.False(t, owner)
			got <- r
		}()
		c := &customer{Customer: Customer{ID: "cus_x"}}
		st.idem.finish("k", rec, 201, c)
		r := <-got
		assert.Equal(t, 201, r.status)
		assert.Same(t, c, r.cust)
	})
	t.Run("a failed first request leaves the key free", func(t *testing.T) {
		s := newServer(t, Config{})
		st := s.st.Load()
		rec, _, _ := st.idem.begin(context.Background(), "k", [32]byte{1})
		st.idem.finish("k", rec, 0, nil)
		_, owner, err := st.idem.begin(context.Background(), "k", [32]byte{2})
		require.NoError(t, err)
		assert.True(t, owner)
	})
}

func TestRoutes(t *testing.T) {
	tests := []struct {
		name   string
		lookup bool
		r      request
		status int
		code   string
		allow  string
	}{
		{"unknown path", false, request{method: "POST", path: "/api/v1/customers", auth: "Bearer " + testKey}, 404, CodeNotFound, ""},
		{"trailing slash", false, request{method: "POST", path: CustomersPath + "/", auth: "Bearer " + testKey}, 404, CodeNotFound, ""},
		{"root", false, request{method: "GET", path: "/"}, 404, CodeNotFound, ""},
		{"get without lookup", false, request{method: "GET", path: CustomersPath + "?external_reference=r", auth: "Bearer " + testKey}, 404, CodeNotFound, ""},
		{"delete", false, request{method: "DELETE", path: CustomersPath, auth: "Bearer " + testKey}, 405, CodeMethodNotAllowed, "POST"},
		{"put with lookup", true, request{method: "PUT", path: CustomersPath, auth: "Bearer " + testKey}, 405, CodeMethodNotAllowed, "GET, POST"},
		{"unknown control", false, request{method: "GET", path: "/_sandbox/nope"}, 404, CodeNotFound, ""},
		{"stats by post", false, request{method: "POST", path: StatsPath}, 405, CodeMethodNotAllowed, "GET"},
		{"reset by get", false, request{method: "GET", path: ResetPath}, 405, CodeMethodNotAllowed, "POST"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newServer(t, Config{Lookup: tt.lookup, Limit: 3})
			a := serve(t, s, tt.r)
			require.Equal(t, tt.status, a.Status, a.Raw)
			assert.Equal(t, tt.code, a.errCode())
			assert.Equal(t, tt.allow, a.Header.Get("Allow"))
			assert.Equal(t, "application/json", a.Header.Get("Content-Type"))
			if !strings.HasPrefix(tt.r.path, ControlPrefix) {
				assert.Equal(t, "3", a.Header.Get(HeaderRemaining), "headers present, nothing counted")
			}
		})
	}
}

func TestInjectedFailures(t *testing.T) {
	t.Run("json", func(t *testing.T) {
		s := newServer(t, Config{FailRate: 1, Limit: 10})
		a := serve(t, s, post(body("r"), "k"))
		require.Equal(t, http.StatusServiceUnavailable, a.Status)
		assert.Equal(t, CodeServiceUnavailable, a.errCode())
		assert.Equal(t, "9", a.Header.Get(HeaderRemaining), "the 503 came from the API: it counted")
		st := s.Stats()
		assert.Equal(t, 1, st.Injected5xx)
		assert.Equal(t, 0, st.Creates)
		assert.Empty(t, s.Customers())
	})
	t.Run("html proxy page", func(t *testing.T) {
		s := newServer(t, Config{FailRate: 1, HTMLErrors: true, Limit: 10})
		a := serve(t, s, post(body("r"), "k"))
		require.Equal(t, http.StatusServiceUnavailable, a.Status)
		assert.Equal(t, "text/html", a.Header.Get("Content-Type"))
		assert.Contains(t, a.Raw, "<title>503 Service Temporarily Unavailable</title>")
		assert.Empty(t, a.Header.Get(HeaderLimit), "a proxy's page carries no API headers")
		assert.Equal(t, 1, s.Stats().Injected5xx)
	})
	t.Run("rate", func(t *testing.T) {
		s := newServer(t, Config{FailRate: 0.3, Seed: 7})
		const n = 2000
		for i := range n {
			serve(t, s, post(body("r"+string(rune('a'+i%26))+strings.Repeat("x", i/26)), ""))
		}
		st := s.Stats()
		assert.InDelta(t, 0.3*n, st.Injected5xx, 0.05*n)
		assert.Equal(t, n, st.Injected5xx+st.Creates)
	})
	t.Run("lookups never fail", func(t *testing.T) {
		s := newServer(t, Config{FailRate: 1, Lookup: true})
		a := serve(t, s, request{method: "GET", path: CustomersPath + "?external_reference=r", auth: "Bearer " + testKey})
		assert.Equal(t, 404, a.Status)
	})
}

func TestLatency(t *testing.T) {
	var mu sync.Mutex
	var slept []time.Duration
	sleep := func(_ context.Context, d time.Duration) {
		mu.Lock()
		defer mu.Unlock()
		slept = append(slept, d)
	}
	s := newServer(t, Config{Latency: 100 * time.Millisecond, Jitter: 50 * time.Millisecond, Sleep: sleep, Seed: 3})
	for i := range 200 {
		serve(t, s, post(body(strings.Repeat("r", i+1)), ""))
	}
	serve(t, s, request{method: "GET", path: "/nope"})
	require.Len(t, slept, 201, "every API request is delayed")
	lo, hi := slept[0], slept[0]
	for _, d := range slept {
		lo, hi = min(lo, d), max(hi, d)
	}
	assert.GreaterOrEqual(t, lo, 100*time.Millisecond)
	assert.Less(t, hi, 150*time.Millisecond)
	assert.Greater(t, hi-lo, 40*time.Millisecond, "jitter spreads the delays")

	serve(t, s, request{method: "GET", path: StatsPath})
	assert.Len(t, slept, 201, "the control routes are not delayed")
}

func TestLatencyCutShort(t *testing.T) {
	s := newServer(t, Config{Latency: time.Hour})
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	req := httptest.NewRequestWithContext(ctx, "POST", CustomersPath, strings.NewReader(body("r")))
	req.Header.Set("Authorization", "Bearer "+testKey)
	rec := httptest.NewRecorder()
	s.ServeHTTP(rec, req)
	assert.Equal(t, http.StatusServiceUnavailable, rec.Code)
	assert.Empty(t, s.Customers(), "nothing is committed when the delay is cut short")
	assert.Equal(t, 0, s.Stats().Injected5xx)
}

func TestLookup(t *testing.T) {
	s := newServer(t, Config{Lookup: true, Envelope: EnvelopeSuccess, Limit: 10})
	created := serve(t, s, post(body("look me up"), ""))
	require.Equal(t, 201, created.Status)
	get := func(q string) answer {
		return serve(t, s, request{method: "GET", path: CustomersPath + q, auth: "Bearer " + testKey})
	}
	a := get("?external_reference=look+me+up")
	require.Equal(t, 200, a.Status, a.Raw)
	assert.Equal(t, created.Raw, a.Raw)
	assert.Equal(t, true, a.JSON["success"])
	assert.Equal(t, "8", a.Header.Get(HeaderRemaining), "lookups count against the limit")

	miss := get("?external_reference=nobody")
	assert.Equal(t, 404, miss.Status)
	assert.Equal(t, CodeNotFound, miss.errCode())
	empty := get("")
	assert.Equal(t, 422, empty.Status)
	assert.Equal(t, "external_reference", empty.path("error.field"))
	noKey := serve(t, s, request{method: "GET", path: CustomersPath + "?external_reference=look+me+up"})
	assert.Equal(t, 401, noKey.Status)

	st := s.Stats()
	assert.Equal(t, 3, st.Lookups)
	assert.Equal(t, 1, st.NotFound)
	assert.Equal(t, 1, st.Invalid)
}

func TestControlRoutes(t *testing.T) {
	s := newServer(t, Config{Limit: 100})
	serve(t, s, post(body("a"), ""))
	serve(t, s, post(body("b"), ""))
	serve(t, s, post(body("a"), ""))

	st := serve(t, s, request{method: "GET", path: StatsPath})
	require.Equal(t, 200, st.Status)
	for k, v := range map[string]float64{"requests": 3, "creates": 2, "conflicts": 1, "duplicate_customers": 0, "limit": 100, "window_seconds": 60} {
		assert.Equal(t, v, st.JSON[k], k)
	}
	assert.Len(t, st.JSON["windows"], 1)
	for _, k := range []string{"replays", "existing", "key_reused", "rate_limited", "unauthorized", "forbidden", "invalid", "not_found", "lookups", "injected_5xx", "dropped"} {
		assert.Contains(t, st.JSON, k)
	}

	firstID := s.Customers()[0].ID
	cs := serve(t, s, request{method: "GET", path: CustomersListing})
	require.Equal(t, 200, cs.Status)
	assert.JSONEq(t, `[{"id":"`+s.Customers()[0].ID+`","external_reference":"a","created_at":"`+
		s.Customers()[0].Created.Format(time.RFC3339Nano)+`"},{"id":"`+s.Customers()[1].ID+
		`","external_reference":"b","created_at":"`+s.Customers()[1].Created.Format(time.RFC3339Nano)+`"}]`, cs.Raw)
	assert.NotContains(t, cs.Raw, "example.com", "no personal data")

	assert.Equal(t, 204, serve(t, s, request{method: "POST", path: ResetPath}).Status)
	assert.Empty(t, s.Customers())
	assert.Equal(t, 0, s.Stats().Requests)
	assert.Empty(t, s.Stats().Windows)
	again := serve(t, s, post(body("a"), ""))
	assert.Equal(t, 201, again.Status)
	assert.NotEqual(t, firstID, again.path("data.id"), "ids stay unique across resets")
	empty := serve(t, newServer(t, Config{}), request{method: "GET", path: StatsPath})
	assert.Equal(t, []any{}, empty.JSON["windows"])
}

func TestCustomersInCommitOrder(t *testing.T) {
	s := newServer(t, Config{})
	var refs []string
	for i := range 300 {
		ref := "ref-" + strings.Repeat("z", i%7) + string(rune('A'+i%26)) + string(rune('a'+i/26))
		refs = append(refs, ref)
		require.Equal(t, 201, serve(t, s, post(body(ref), "")).Status)
	}
	var got []string
	seen := map[string]bool{}
	for _, c := range s.Customers() {
		got = append(got, c.ExternalReference)
		assert.False(t, seen[c.ID], "ids are unique")
		seen[c.ID] = true
	}
	assert.Equal(t, refs, got)
}

func TestSeedMakesRunsReproducible(t *testing.T) {
	run := func(seed int64) (ids []string, statuses []int) {
		s := newServer(t, Config{Seed: seed, FailRate: 0.5})
		for i := range 40 {
			a := serve(t, s, post(body(strings.Repeat("q", i+1)), ""))
			statuses = append(statuses, a.Status)
		}
		for _, c := range s.Customers() {
			ids = append(ids, c.ID)
		}
		return ids, statuses
	}
	ids1, st1 := run(42)
	ids2, st2 := run(42)
	ids3, st3 := run(43)
	assert.Equal(t, ids1, ids2)
	assert.Equal(t, st1, st2)
	assert.NotEqual(t, st1, st3)
	assert.NotEqual(t, ids1[:1], ids3[:1])
}

func TestErrorsCarryNoKeyOrPersonalData(t *testing.T) {
	s := newServer(t, Config{Required: []string{"country"}, Limit: 1, Window: time.Hour})
	secret := "Bearer sk_sandbox_this_is_not_the_key"
	answers := []answer{
		serve(t, s, request{method: "POST", path: CustomersPath, auth: secret, body: body("r")}),
		serve(t, s, post(body("r"), "")),                                  // 422: no country
		serve(t, s, post(body("r2"), "")),                                 // 429
		serve(t, s, request{method: "POST", path: "/x", body: body("r")}), // 404
	}
	for _, a := range answers {
		assert.GreaterOrEqual(t, a.Status, 400)
		for _, pii := range []string{"sk_sandbox_this", "ada@example.com", "+2348012345678", "Obi"} {
			assert.NotContains(t, a.Raw, pii)
		}
	}
}

func TestNew(t *testing.T) {
	bad := []struct {
		name  string
		cfg   Config
		field string
	}{
		{"live key", Config{Key: "sk_live_abc"}, "Key"},
		{"foreign key", Config{Key: "pk_test_abc"}, "Key"},
		{"prefix only", Config{Key: KeyPrefix}, "Key"},
		{"key with space", Config{Key: KeyPrefix + "a b"}, "Key"},
		{"negative limit", Config{Limit: -1}, "Limit"},
		{"negative window", Config{Limit: 1, Window: -time.Second}, "Window"},
		{"tiny window", Config{Limit: 1, Window: time.Microsecond}, "Window"},
		{"huge window", Config{Limit: 1, Window: 48 * time.Hour}, "Window"},
		{"bucket without limit", Config{Bucket: true}, "Bucket"},
		{"burst without bucket", Config{Limit: 1, Burst: 2}, "Burst"},
		{"negative burst", Config{Limit: 1, Bucket: true, Burst: -2}, "Burst"},
		{"negative latency", Config{Latency: -1}, "Latency"},
		{"negative jitter", Config{Jitter: -1}, "Jitter"},
		{"fail rate above 1", Config{FailRate: 1.5}, "FailRate"},
		{"negative drop rate", Config{DropRate: -0.1}, "DropRate"},
		{"NaN rate", Config{FailRate: math.NaN()}, "FailRate"},
		{"unique and ok", Config{NoUnique: true, DuplicateOK: true}, "DuplicateOK"},
		{"unique and no id", Config{NoUnique: true, ConflictWithoutID: true}, "ConflictWithoutID"},
		{"ok and no id", Config{DuplicateOK: true, ConflictWithoutID: true}, "ConflictWithoutID"},
		{"envelope", Config{Envelope: "wrapped"}, "Envelope"},
		{"id field", Config{IDField: "data.uuid"}, "IDField"},
		{"required empty", Config{Required: []string{"email", " "}}, "Required"},
		{"required dots", Config{Required: []string{"metadata..source"}}, "Required"},
	}
	for _, tt := range bad {
		t.Run(tt.name, func(t *testing.T) {
			_, err := New(tt.cfg)
			ce, ok := errors.AsType[*ConfigError](err)
			require.True(t, ok, "%v", err)
			assert.Equal(t, tt.field, ce.Field)
			if len(tt.cfg.Key) > len(KeyPrefix) {
				assert.NotContains(t, err.Error(), tt.cfg.Key, "the key is never quoted")
			}
		})
	}

	s, err := New(Config{})
	require.NoError(t, err)
	assert.Regexp(t, `^sk_sandbox_[0-9a-f]{24}$`, s.Key())
	c := s.Config()
	assert.Equal(t, time.Minute, c.Window)
	assert.Equal(t, 60, c.RetryAfter)
	assert.Equal(t, EnvelopeStatus, c.Envelope)
	assert.Equal(t, IDDataID, c.IDField)
	s2, _ := New(Config{})
	assert.NotEqual(t, s.Key(), s2.Key())
	b, err := New(Config{Limit: 100, Bucket: true})
	require.NoError(t, err)
	assert.Equal(t, 100, b.Config().Burst)
}

// TestOrderOfChecks pins which check answers when several would: auth, gate, limit, failure, body,
// idempotency, duplicate.
func TestOrderOfChecks(t *testing.T) {
	clk := newClock(time.Unix(t0, 0))
	tests := []struct {
		name   string
		cfg    Config
		seed   bool // "dup" was created first with key "used"
		r      request
		status int
	}{
		{"auth before gate", Config{Gated: true}, false, request{method: "POST", path: CustomersPath, body: body("a")}, 401},
		{"gate before limit", Config{Gated: true, Limit: 1}, false, post(body("a"), ""), 403},
		{"limit before failure", Config{Limit: 1, FailRate: 1}, false, post(body("a"), ""), 429},
		{"failure before body", Config{FailRate: 1}, false, post(`not json`, ""), 503},
		{"body before idempotency", Config{}, true, post(`{}`, "used"), 422},
		{"idempotency before duplicate", Config{}, true, post(body("dup"), "used"), 201},
		{"duplicate", Config{}, true, post(body("dup"), "other"), 409},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.cfg.Now = clk.Now
			s := newServer(t, tt.cfg)
			if tt.cfg.Limit > 0 {
				serve(t, s, post(body("spend the limit"), "")) // 403 when gated: nothing spent
			}
			if tt.seed {
				require.Equal(t, 201, serve(t, s, post(body("dup"), "used")).Status)
			}
			assert.Equal(t, tt.status, serve(t, s, tt.r).Status)
		})
	}
}

func TestDateFollowsTheSandboxClock(t *testing.T) {
	at := time.Date(2031, 5, 6, 7, 8, 9, 0, time.UTC)
	s, err := New(Config{Key: "sk_sandbox_date", Limit: 10, Now: func() time.Time { return at }})
	require.NoError(t, err)
	rec := httptest.NewRecorder()
	req := httptest.NewRequest(http.MethodPost, CustomersPath, strings.NewReader(`{"external_reference":"d-1"}`))
	req.Header.Set("Authorization", "Bearer sk_sandbox_date")
	s.ServeHTTP(rec, req)
	require.Equal(t, http.StatusCreated, rec.Code)
	assert.Equal(t, "Tue, 06 May 2031 07:08:09 GMT", rec.Header().Get("Date"))
}
