package sandbox

import (
	"cmp"
	"context"
	"hash/maphash"
	"slices"
	"sync"
	"time"
)

// Customer is what the sandbox lets a test see of a customer it created: no other field of the request
// (they are personal data).
type Customer struct {
	ID                string    `json:"id"`
	ExternalReference string    `json:"external_reference"`
	Created           time.Time `json:"created_at"`
}

// customer is a committed customer. body is the complete success body of its creation: it is answered
// again, byte for byte, to an idempotent replay and (with DuplicateOK) to a repeated reference, so the
// request itself is never kept.
type customer struct {
	Customer
	seq  uint64
	body []byte
}

// shards spreads a map over independently locked parts so that concurrent requests for different
// references or keys rarely meet on a lock.
const shards = 64

type part[V any] struct {
	mu sync.Mutex
	m  map[string]V
}

type sharded[V any] struct {
	seed  maphash.Seed
	parts [shards]part[V]
}

func newSharded[V any]() *sharded[V] {
	s := &sharded[V]{seed: maphash.MakeSeed()}
	for i := range s.parts {
		s.parts[i].m = make(map[string]V)
	}
	return s
}

func (s *sharded[V]) part(key string) *part[V] {
	return &s.parts[maphash.String(s.seed, key)%shards]
}

// customers holds every committed customer by external_reference: the first is the one answered for
// the reference; more than one only with NoUnique.
type customers struct{ *sharded[[]*customer] }

func newCustomers() customers { return customers{newSharded[[]*customer]()} }

// commit adds c unless its reference exists and unique is set, in which case it returns the existing
// customer. n is how many customers now carry the reference.
func (cs customers) commit(c *customer, unique bool) (existing *customer, n int) {
	p := cs.part(c.ExternalReference)
	p.mu.Lock()
	defer p.mu.Unlock()
	list := p.m[c.ExternalReference]
	if len(list) > 0 && unique {
		return list[0], len(list)
	}
	p.m[c.ExternalReference] = append(list, c)
	return nil, len(list) + 1
}

func (cs customers) find(ref string) *customer {
	p := cs.part(ref)
	p.mu.Lock()
	defer p.mu.Unlock()
	if list := p.m[ref]; len(list) > 0 {
		return list[0]
	}
	return nil
}

// all returns every customer in commit order.
func (cs customers) all() []*customer {
	var out []*customer
	for i := range cs.parts {
		p := &cs.parts[i]
		p.mu.Lock()
		for _, list := range p.m {
			out = append(out, list...)
		}
		p.mu.Unlock()
	}
	slices.SortFunc(out, func(a, b *customer) int { return cmp.Compare(a.seq, b.seq) })
	return out
}

// idemRecord is the stored result of one Idempotency-Key: the SHA-256 of the body first sent with it,
// and the answer given (status and the customer whose body was answered). While done is open the first
// request is still being processed.
type idemRecord struct {
	hash   [32]byte
	done   chan struct{}
	status int
	cust   *customer
}

// idempotency holds the records of Idempotency-Keys, kept for the life of the server (or until reset).
// Only successful answers (201, and 200 under DuplicateOK) are stored: a request answered with an error
// leaves no record, so its retry is processed afresh.
type idempotency struct{ *sharded[*idemRecord] }

func newIdempotency() idempotency { return idempotency{newSharded[*idemRecord]()} }

// begin claims key for a request whose body hashes to hash. It returns either a finished record to
// answer from (replay, or reuse with another body when rec.hash differs), or owner=true: the caller
// processes the request and must call finish. A request arriving while the key's first request is in
// progress waits for it (processing holds no lock and never blocks, so the wait is short) and then sees
// its result; it returns ctx's error if ctx ends first.
func (id idempotency) begin(ctx context.Context, key string, hash [32]byte) (rec *idemRecord, owner bool, err error) {
	p := id.part(key)
	for {
		p.mu.Lock()
		r := p.m[key]
		if r == nil {
			r = &idemRecord{hash: hash, done: make(chan struct{})}
			p.m[key] = r
			p.mu.Unlock()
			return r, true, nil
		}
		if r.cust != nil {
			p.mu.Unlock()
			return r, false, nil
		}
		wait := r.done
		p.mu.Unlock()
		select {
		case <-wait:
		case <-ctx.Done():
			return nil, false, ctx.Err()
		}
	}
}

// finish completes the record that begin handed to its owner: stored when the answer was a success
// (cust != nil), forgotten otherwise. Requests waiting on the key then proceed.
func (id idempotency) finish(key string, r *idemRecord, status int, cust *customer) {
	p := id.part(key)
	p.mu.Lock()
	if cust != nil {
		r.status, r.cust = status, cust
	} else {
		delete(p.m, key)
	}
	close(r.done)
	r.done = nil // waiters hold their own reference; a finished record needs none
	p.mu.Unlock()
}
