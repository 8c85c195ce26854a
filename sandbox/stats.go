package sandbox

import (
	"bytes"
	"encoding/json"
	"net/http"
)

// Stats are the sandbox's counters since it started (or was reset), as [Server.Stats] returns them and
// GET /_sandbox/stats serves them (JSON names in the tags). Requests counts every API request; each
// other counter counts one kind of answer or event. A dropped create counts in Creates and Dropped.
type Stats struct {
	// Requests counts every request outside /_sandbox/, whatever its answer.
	Requests int `json:"requests"`
	// Creates counts customers committed (201 answered, or dropped after the commit).
	Creates int `json:"creates"`
	// Replays counts answers replayed for an Idempotency-Key (header Idempotent-Replayed: true).
	Replays int `json:"replays"`
	// Existing counts repeated references answered 200 with the existing record (DuplicateOK).
	Existing int `json:"existing"`
	// Conflicts counts 409s: a repeated external_reference.
	Conflicts int `json:"conflicts"`
	// KeyReused counts 422 idempotency_key_reused (an Idempotency-Key sent again with another body).
	KeyReused int `json:"key_reused"`
	// RateLimited counts 429s.
	RateLimited int `json:"rate_limited"`
	// Unauthorized counts 401s; Forbidden counts 403s.
	Unauthorized int `json:"unauthorized"`
	Forbidden    int `json:"forbidden"`
	// Invalid counts 400s, 413s and 422s (KeyReused included).
	Invalid int `json:"invalid"`
	// NotFound counts 404s: unknown routes and lookup misses.
	NotFound int `json:"not_found"`
	// Lookups counts GET lookups that passed authentication and the rate limit (the Lookup extension).
	Lookups int `json:"lookups"`
	// Injected5xx counts the 503s injected by FailRate.
	Injected5xx int `json:"injected_5xx"`
	// Dropped counts creates committed whose connection was then closed without an answer (DropRate).
	Dropped int `json:"dropped"`
	// DuplicateCustomers counts customers created beyond the first for their external_reference. Only
	// NoUnique lets it rise above 0; an importer that creates nothing twice keeps it at 0.
	DuplicateCustomers int `json:"duplicate_customers"`

	// Limit and WindowSeconds repeat the rate limit in force (Limit 0: none).
	Limit         int     `json:"limit"`
	WindowSeconds float64 `json:"window_seconds"`
	// Windows are the rate limiter's counts per Window-aligned interval, oldest first (the last 10,000
	// intervals that saw a request; none without a limit).
	Windows []Window `json:"windows"`
}

// Stats returns a snapshot of the counters.
func (s *Server) Stats() Stats {
	st := s.st.Load()
	out := Stats{
		Requests:           int(st.requests.Load()),
		Creates:            int(st.creates.Load()),
		Replays:            int(st.replays.Load()),
		Existing:           int(st.existing.Load()),
		Conflicts:          int(st.conflicts.Load()),
		KeyReused:          int(st.keyReused.Load()),
		RateLimited:        int(st.rateLimited.Load()),
		Unauthorized:       int(st.unauthorized.Load()),
		Forbidden:          int(st.forbidden.Load()),
		Invalid:            int(st.invalid.Load()),
		NotFound:           int(st.notFound.Load()),
		Lookups:            int(st.lookups.Load()),
		Injected5xx:        int(st.injected5xx.Load()),
		Dropped:            int(st.dropped.Load()),
		DuplicateCustomers: int(st.duplicates.Load()),
		Windows:            []Window{},
	}
	if st.lim != nil {
		out.Limit = s.cfg.Limit
		out.WindowSeconds = s.cfg.Window.Seconds()
		out.Windows = st.lim.snapshot()
	}
	return out
}

// Customers returns every customer created, in the order they were committed: id, external_reference
// and creation time only.
func (s *Server) Customers() []Customer {
	all := s.st.Load().customers.all()
	out := make([]Customer, len(all))
	for i, c := range all {
		out[i] = c.Customer
	}
	return out
}

// serveControl answers the /_sandbox/ extensions. They need no key: the sandbox serves loopback.
func (s *Server) serveControl(w http.ResponseWriter, r *http.Request) {
	var method string
	switch r.URL.Path {
	case StatsPath, CustomersListing:
		method = http.MethodGet
	case ResetPath:
		method = http.MethodPost
	default:
		s.writeError(w, apiError{Code: CodeNotFound, Status: http.StatusNotFound,
			Message: "no route " + r.URL.Path + "; the sandbox offers GET " + StatsPath + ", GET " + CustomersListing +
				" and POST " + ResetPath})
		return
	}
	if r.Method != method && !(method == http.MethodGet && r.Method == http.MethodHead) {
		w.Header().Set("Allow", method)
		s.writeError(w, apiError{Code: CodeMethodNotAllowed, Status: http.StatusMethodNotAllowed,
			Message: "use " + method + " " + r.URL.Path})
		return
	}
	var v any
	switch r.URL.Path {
	case StatsPath:
		v = s.Stats()
	case CustomersListing:
		v = s.Customers()
	default:
		s.Reset()
		w.WriteHeader(http.StatusNoContent)
		return
	}
	var b bytes.Buffer
	if err := json.NewEncoder(&b).Encode(v); err != nil { // plain structs always encode
		panic("sandbox: encode " + r.URL.Path + ": " + err.Error())
	}
	writeBody(w, http.StatusOK, jsonType, b.Bytes())
}
