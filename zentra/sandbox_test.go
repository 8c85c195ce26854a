package zentra_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/zentra/zentra-import/sandbox"
	"github.com/zentra/zentra-import/zentra"
)

// step is one call of the client against the sandbox and what it must give.
type step struct {
	lookup    bool   // Lookup(ref) instead of Create
	ref       string // external_reference (and, unless key is set, the idempotency key's seed)
	key       string // idempotency key; "" means "idem-" + ref
	body      string // "" means {"external_reference":ref,"email":…}
	want      result
	sameAs    int  // the ID must equal that of the step with this 1-based number (0: no check)
	differ    int  // the ID must differ from that of the step with this 1-based number (0: no check)
	notFound  bool // a lookup that finds nothing
	observe   int  // Observe calls this step must cause
	remaining int  // with observe: the Remaining reported
}

func (s step) idemKey() string {
	if s.key != "" {
		return s.key
	}
	return "idem-" + s.ref
}

func (s step) payload() []byte {
	if s.body != "" {
		return []byte(s.body)
	}
	return []byte(`{"external_reference":"` + s.ref + `","first_name":"Ada","email":"ada@example.com"}`)
}

// TestAgainstSandbox drives the client against the sandbox in each of its modes and reaches every
// outcome class: created (each envelope and id location, replayed), existing (with and without id, 200
// duplicate), row (422 with field, 2xx without id, a reused key), retry (429 both ways, 503 JSON and
// HTML, timeouts, dropped connections), fatal (401 each code, 403), and lookups.
func TestAgainstSandbox(t *testing.T) {
	now := func() time.Time { return t0 } // aligned to a minute: the window ends at t0+60s
	windowEnd := t0.Add(time.Minute)
	tests := []struct {
		name  string
		cfg   sandbox.Config
		tweak func(*zentra.Config)
		steps []step
		check func(t *testing.T, st sandbox.Stats)
	}{
		{name: "documented default: created, replayed, 409 with id",
			steps: []step{
				{ref: "r1", want: result{Kind: "created", HTTPStatus: 201}},
				{ref: "r1", want: result{Kind: "created", HTTPStatus: 201, Replayed: true}, sameAs: 1},
				{ref: "r1", key: "another-key", want: result{Kind: "existing", HTTPStatus: 409}, sameAs: 1},
				{ref: "r2", want: result{Kind: "created", HTTPStatus: 201}, differ: 1},
			},
			check: func(t *testing.T, st sandbox.Stats) {
				assert.Equal(t, 2, st.Creates)
				assert.Equal(t, 1, st.Replays)
				assert.Equal(t, 1, st.Conflicts)
			}},
		{name: "success envelope", cfg: sandbox.Config{Envelope: sandbox.EnvelopeSuccess},
			steps: []step{{ref: "r1", want: result{Kind: "created", HTTPStatus: 201}}}},
		{name: "data envelope, data.customer_id", cfg: sandbox.Config{Envelope: sandbox.EnvelopeData, IDField: sandbox.IDDataCustomerID},
			steps: []step{{ref: "r1", want: result{Kind: "created", HTTPStatus: 201}}}},
		{name: "top-level id", cfg: sandbox.Config{IDField: sandbox.IDTopID},
			steps: []step{{ref: "r1", want: result{Kind: "created", HTTPStatus: 201}}}},
		{name: "top-level customer_id", cfg: sandbox.Config{Envelope: sandbox.EnvelopeSuccess, IDField: sandbox.IDTopCustomerID},
			steps: []step{{ref: "r1", want: result{Kind: "created", HTTPStatus: 201}}}},
		{name: "2xx without an id", cfg: sandbox.Config{IDField: sandbox.IDNone},
			steps: []step{
				{ref: "r1", want: result{Kind: "row", HTTPStatus: 201, Code: zentra.CodeNoCustomerID, Message: "may have been created"}},
				{ref: "r1", want: result{Kind: "row", HTTPStatus: 201, Code: zentra.CodeNoCustomerID}},
			}},
		{name: "conflict without id", cfg: sandbox.Config{ConflictWithoutID: true},
			steps: []step{
				{ref: "r1", want: result{Kind: "created", HTTPStatus: 201}},
				{ref: "r1", key: "k2", want: result{Kind: "existing", HTTPStatus: 409}},
			}},
		{name: "duplicate answered 200 with the existing record", cfg: sandbox.Config{DuplicateOK: true},
			steps: []step{
				{ref: "r1", want: result{Kind: "created", HTTPStatus: 201}},
				{ref: "r1", key: "k2", want: result{Kind: "created", HTTPStatus: 200}, sameAs: 1},
			}},
		{name: "no idempotency: the same key gets 409", cfg: sandbox.Config{NoIdempotency: true},
			steps: []step{
				{ref: "r1", want: result{Kind: "created", HTTPStatus: 201}},
				{ref: "r1", want: result{Kind: "existing", HTTPStatus: 409}, sameAs: 1},
			}},
		{name: "no idempotency, no unique: a second customer", cfg: sandbox.Config{NoIdempotency: true, NoUnique: true},
			steps: []step{
				{ref: "r1", want: result{Kind: "created", HTTPStatus: 201}},
				{ref: "r1", want: result{Kind: "created", HTTPStatus: 201}, differ: 1},
			},
			check: func(t *testing.T, st sandbox.Stats) { assert.Equal(t, 1, st.DuplicateCustomers) }},
		{name: "no unique, but idempotency replays", cfg: sandbox.Config{NoUnique: true},
			steps: []step{
				{ref: "r1", want: result{Kind: "created", HTTPStatus: 201}},
				{ref: "r1", want: result{Kind: "created", HTTPStatus: 201, Replayed: true}, sameAs: 1},
			},
			check: func(t *testing.T, st sandbox.Stats) { assert.Equal(t, 0, st.DuplicateCustomers) }},
		{name: "a key reused with another body", steps: []step{
			{ref: "r1", want: result{Kind: "created", HTTPStatus: 201}},
			{ref: "r1", body: `{"external_reference":"r1","email":"other@example.com"}`,
				want: result{Kind: "row", HTTPStatus: 422, Code: "idempotency_key_reused", Field: "Idempotency-Key"}},
		}},
		{name: "required field", cfg: sandbox.Config{Required: []string{"phone"}},
			steps: []step{{ref: "r1", want: result{Kind: "row", HTTPStatus: 422, Code: "missing_required_field", Field: "phone", Message: "phone is required"}}}},
		{name: "uppercase codes", cfg: sandbox.Config{UpperCodes: true, Required: []string{"metadata.source"}},
			steps: []step{
				{ref: "r1", want: result{Kind: "row", HTTPStatus: 422, Code: "missing_required_field", Field: "metadata.source"}},
				{ref: "r2", body: `{"external_reference":"r2","metadata":{"source":"crm"}}`, want: result{Kind: "created", HTTPStatus: 201}},
				{ref: "r2", key: "k3", body: `{"external_reference":"r2","metadata":{"source":"crm"}}`, want: result{Kind: "existing", HTTPStatus: 409}, sameAs: 2},
			}},
		{name: "not a JSON object", steps: []step{{ref: "r1", body: `[1]`, want: result{Kind: "row", HTTPStatus: 400, Code: "invalid_format"}}}},
		{name: "gated tenant", cfg: sandbox.Config{Gated: true, Limit: 100, Now: now},
			steps: []step{{ref: "r1", observe: 1, remaining: 100,
				want: result{Kind: "fatal", HTTPStatus: 403, Code: "insufficient_permissions", Hint: "enable the identity product"}}}},
		{name: "a key the sandbox does not know", tweak: func(c *zentra.Config) { c.Key = "sk_sandbox_someoneelse" },
			steps: []step{{ref: "r1", want: result{Kind: "fatal", HTTPStatus: 401, Code: "invalid_api_key", Hint: "refused the secret key"}}}},
		{name: "a live key on the sandbox", tweak: func(c *zentra.Config) { c.Key = "sk_live_0123456789" },
			steps: []step{{ref: "r1", want: result{Kind: "fatal", HTTPStatus: 401, Code: "wrong_environment", Hint: "is a live key (sk_live_…)"}}}},
		{name: "no Authorization at all", tweak: func(c *zentra.Config) { c.Transport = stripAuth{} },
			steps: []step{{ref: "r1", want: result{Kind: "fatal", HTTPStatus: 401, Code: "unauthorized"}}}},
		{name: "fixed window: 429 at the window's reset", cfg: sandbox.Config{Limit: 2, Now: now},
			steps: []step{
				{ref: "r1", observe: 1, remaining: 1, want: result{Kind: "created", HTTPStatus: 201}},
				{ref: "r2", observe: 1, remaining: 0, want: result{Kind: "created", HTTPStatus: 201}},
				{ref: "r3", observe: 1, remaining: 0, want: result{Kind: "retry", HTTPStatus: 429, Code: "rate_limit_exceeded", RateLimited: true,
					RetryAt: windowEnd, ResetAt: windowEnd, RetryAfter: time.Minute, Message: "rate limit exceeded"}},
			}},
		{name: "fixed window, Retry-After to the window's end", cfg: sandbox.Config{Limit: 1, RetryAfter: -1, Now: func() time.Time { return t0.Add(45 * time.Second) }},
			steps: []step{
				{ref: "r1", observe: 1, remaining: 0, want: result{Kind: "created", HTTPStatus: 201}},
				{ref: "r2", observe: 1, remaining: 0, want: result{Kind: "retry", HTTPStatus: 429, Code: "rate_limit_exceeded", RateLimited: true,
					RetryAt: windowEnd, ResetAt: windowEnd, RetryAfter: 15 * time.Second}},
			}},
		{name: "token bucket", cfg: sandbox.Config{Limit: 60, Bucket: true, Burst: 1, Now: now},
			steps: []step{
				{ref: "r1", observe: 1, remaining: 0, want: result{Kind: "created", HTTPStatus: 201}},
				{ref: "r2", observe: 1, remaining: 0, want: result{Kind: "retry", HTTPStatus: 429, Code: "rate_limit_exceeded", RateLimited: true,
					RetryAt: t0.Add(time.Second), ResetAt: t0.Add(time.Second), RetryAfter: time.Minute}},
			}},
		{name: "503 before anything is committed", cfg: sandbox.Config{FailRate: 1},
			steps: []step{{ref: "r1", want: result{Kind: "retry", HTTPStatus: 503, Code: "service_unavailable", Message: "nothing was created"}}},
			check: func(t *testing.T, st sandbox.Stats) { assert.Equal(t, 0, st.Creates) }},
		{name: "503 from a proxy page", cfg: sandbox.Config{FailRate: 1, HTMLErrors: true},
			steps: []step{{ref: "r1", want: result{Kind: "retry", HTTPStatus: 503, Message: "non-JSON answer (text/html)"}}}},
		{name: "committed, then the connection dropped; the retry is replayed", cfg: sandbox.Config{DropRate: 1, Lookup: true},
			steps: []step{
				{ref: "r1", want: result{Kind: "retry", Code: zentra.CodeConnectionClosed, Sent: true}},
				{ref: "r1", want: result{Kind: "created", HTTPStatus: 201, Replayed: true}},
				{ref: "r1", lookup: true, want: result{Kind: "created"}, sameAs: 2},
			},
			check: func(t *testing.T, st sandbox.Stats) {
				assert.Equal(t, 1, st.Creates)
				assert.Equal(t, 1, st.Dropped)
			}},
		{name: "dropped without idempotency: the retry conflicts and names the customer", cfg: sandbox.Config{DropRate: 1, NoIdempotency: true, Lookup: true},
			steps: []step{
				{ref: "r1", want: result{Kind: "retry", Code: zentra.CodeConnectionClosed, Sent: true}},
				{ref: "r1", want: result{Kind: "existing", HTTPStatus: 409}},
				{ref: "r1", lookup: true, want: result{Kind: "created"}, sameAs: 2},
			}},
		{name: "latency beyond the timeout", cfg: sandbox.Config{Latency: time.Hour},
			tweak: func(c *zentra.Config) { c.Timeout = 50 * time.Millisecond },
			steps: []step{{ref: "r1", want: result{Kind: "retry", Code: zentra.CodeTimeout, Sent: true}}},
			check: func(t *testing.T, st sandbox.Stats) { assert.Equal(t, 0, st.Creates) }},
		{name: "lookup", cfg: sandbox.Config{Lookup: true},
			steps: []step{
				{ref: "r1", want: result{Kind: "created", HTTPStatus: 201}},
				{ref: "r1", lookup: true, want: result{Kind: "created"}, sameAs: 1},
				{ref: "nobody", lookup: true, notFound: true, want: result{Kind: "created"}},
				{ref: "", lookup: true, want: result{Kind: "row", HTTPStatus: 422, Code: "missing_required_field", Field: "external_reference"}},
			}},
		{name: "lookup with an unusual envelope", cfg: sandbox.Config{Lookup: true, Envelope: sandbox.EnvelopeData, IDField: sandbox.IDTopCustomerID},
			steps: []step{
				{ref: "r 1/ü&x=y", key: "ascii-only", want: result{Kind: "created", HTTPStatus: 201}},
				{ref: "r 1/ü&x=y", want: result{Kind: "fatal", Code: zentra.CodeInvalidRequest, Hint: "printable ASCII"}},
				{ref: "r 1/ü&x=y", lookup: true, want: result{Kind: "created"}, sameAs: 1},
			}},
		{name: "lookup on a sandbox without it", steps: []step{{ref: "r1", lookup: true, notFound: true, want: result{Kind: "created"}}}},
		{name: "lookup on a gated tenant", cfg: sandbox.Config{Lookup: true, Gated: true},
			steps: []step{{ref: "r1", lookup: true, want: result{Kind: "fatal", HTTPStatus: 403, Code: "insufficient_permissions"}}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.cfg.Seed = 1
			release := make(chan struct{})
			if tt.cfg.Latency > 0 {
				tt.cfg.Sleep = func(ctx context.Context, _ time.Duration) {
					select {
					case <-ctx.Done():
					case <-release:
					}
				}
			}
			sb, err := sandbox.New(tt.cfg)
			require.NoError(t, err)
			srv := httptest.NewServer(sb)
			defer srv.Close()
			defer close(release) // before srv.Close, which waits for the handlers
			c, obs := newClient(t, srv.URL, func(c *zentra.Config) {
				c.Key = zentra.Secret(sb.Key())
				if tt.tweak != nil {
					tt.tweak(c)
				}
			})
			ids := make([]string, len(tt.steps))
			for i, s := range tt.steps {
				before := len(obs.all())
				var res result
				if s.lookup {
					id, found, err := c.Lookup(context.Background(), s.ref)
					if err == nil {
						assert.Equal(t, !s.notFound, found, "step %d: found", i+1)
						assert.Equal(t, found, id != "", "step %d: an id exactly when found", i+1)
						res = result{Kind: "created", ID: id}
					} else {
						res = flatten(nil, err)
					}
				} else {
					cr, err := c.Create(context.Background(), s.idemKey(), s.payload())
					res = flatten(cr, err)
				}
				ids[i] = res.ID
				if res.Kind == "created" && !s.notFound || res.Kind == "existing" && tt.cfg.ConflictWithoutID == false {
					assert.Regexp(t, `^cus_[0-9A-Za-z]{11}$`, res.ID, "step %d: id", i+1)
				}
				if s.sameAs > 0 {
					assert.Equal(t, ids[s.sameAs-1], res.ID, "step %d: the same customer as step %d", i+1, s.sameAs)
				}
				if s.differ > 0 {
					assert.NotEqual(t, ids[s.differ-1], res.ID, "step %d: another customer than step %d", i+1, s.differ)
				}
				res.ID = ""
				assertResult(t, s.want, res)
				seen := obs.all()[before:]
				require.Len(t, seen, s.observe, "step %d: Observe calls", i+1)
				for _, rl := range seen {
					assert.Equal(t, s.remaining, rl.Remaining, "step %d: Remaining", i+1)
					assert.Equal(t, tt.cfg.Limit, rl.Limit, "step %d: Limit", i+1)
					assert.False(t, rl.Reset.IsZero(), "step %d: Reset", i+1)
				}
			}
			if tt.check != nil {
				tt.check(t, sb.Stats())
			}
		})
	}
}

// stripAuth is a transport that removes the Authorization header, to reach the sandbox's 401
// unauthorized.
type stripAuth struct{}

func (stripAuth) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	r.Header.Del("Authorization")
	return http.DefaultTransport.RoundTrip(r)
}

// TestSandboxConcurrentCreates sends each reference from many goroutines at once: the client's
// classification never loses an id, and the sandbox never creates a reference twice.
func TestSandboxConcurrentCreates(t *testing.T) {
	run, err := sandbox.Start("", sandbox.Config{Seed: 2})
	require.NoError(t, err)
	defer func() { require.NoError(t, run.Close()) }()
	c, _ := newClient(t, run.URL, func(c *zentra.Config) { c.Key = zentra.Secret(run.Key); c.MaxConns = 8 })

	const refs, per = 50, 4
	ids := make([][per]string, refs)
	errs := make(chan error, refs*per)
	done := make(chan struct{})
	for r := range refs {
		for p := range per {
			go func() {
				defer func() { done <- struct{}{} }()
				ref := "ref-" + strconv.Itoa(r)
				key := "idem-" + ref
				if p%2 == 1 {
					key = "other-" + strconv.Itoa(p) + "-" + ref // another key: the unique reference answers
				}
				cr, err := c.Create(context.Background(), key, []byte(`{"external_reference":"`+ref+`"}`))
				if err != nil {
					errs <- err
					return
				}
				ids[r][p] = cr.ID
			}()
		}
	}
	for range refs * per {
		<-done
	}
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	for r := range refs {
		for p := range per {
			assert.Equal(t, ids[r][0], ids[r][p], "ref-%d: one customer, whichever request won", r)
		}
	}
	st := run.Server.Stats()
	assert.Equal(t, refs, st.Creates)
	assert.Equal(t, 0, st.DuplicateCustomers)
}
