package ledger

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"
)

// Outcome is how the API confirmed a customer: the only two outcomes that enter the ledger. A row that
// failed, or that the API rejected, is not known: the next run sends it again.
type Outcome uint8

const (
	Created  Outcome = 1 // the API created the customer (2xx with its id)
	Existing Outcome = 2 // the API said it exists (409 with its id, or a replayed or refused key proven by an id)
)

func (o Outcome) String() string {
	switch o {
	case Created:
		return "created"
	case Existing:
		return "existing"
	}
	return fmt.Sprintf("Outcome(%d)", uint8(o))
}

// ParseOutcome reads "created" or "existing", as results.csv writes them.
func ParseOutcome(s string) (Outcome, error) {
	switch s {
	case "created":
		return Created, nil
	case "existing":
		return Existing, nil
	}
	return 0, fmt.Errorf("outcome %q: only created and existing outcomes enter the ledger", s)
}

// Confirmed is one outcome the API confirmed, durable in the job's journal.
type Confirmed struct {
	Ref        string
	CustomerID string
	Outcome    Outcome
	// Digest of the body the API confirmed, from the ledger's Hasher; nil when it is not known (ledger
	// import, a journal written to the ledger after its job stopped): the reference is then known by
	// itself, and never reported as drift.
	Digest *Digest
}

// Batch is what one call of Record writes, in one transaction: outcomes of one job for one API, made
// durable in the job's journal by the time At.
type Batch struct {
	API string    // the API's identity: its base URL, never a key
	Job string    // the job directory (absolute), or, for an import, the file it came from
	At  time.Time // when the outcomes became durable; stored to the second
	// Seed: the outcomes fill what the ledger lacks and change nothing it holds (an import, or a
	// journal written to the ledger after its job stopped, whose outcomes' times are not known): an
	// entry with the same id keeps its job and time (it gains the digest if it had none), and another
	// id is kept beside the entry's as a Conflict, never in its place.
	Seed     bool
	Outcomes []Confirmed
}

// Confirmation is one id the API confirmed for a reference, by which job and when.
type Confirmation struct {
	CustomerID string
	Outcome    Outcome
	Job        string
	At         time.Time
}

// Conflict is a reference for which the API confirmed two different ids. Kept is the ledger's entry
// after the batch (the newest confirmation); Other is kept in other_ids (ledger show lists it). Neither
// is lost.
type Conflict struct {
	Ref   string
	Kept  Confirmation
	Other Confirmation
}

// Record writes a batch of confirmed outcomes in one transaction: after a crash, the ledger holds all of
// it or none. It is idempotent: the same outcome recorded again is the same entry. For a reference the
// ledger knows:
//
//   - the same id: a newer (or as new) confirmation replaces the entry's outcome, job and time, and its
//     digest when it carries one; an older one only adds a digest the entry lacks;
//   - another id: the newer confirmation is the entry, the older goes to other_ids, and the pair is
//     returned as a Conflict, for the caller to report.
//
// A Seed batch never counts as newer. Record writes only what the caller says is durable in its job's
// journal: call it after the journal's fsync (checkpoint's OnDurable), never before.
func (l *Ledger) Record(ctx context.Context, b Batch) ([]Conflict, error) {
	if err := b.check(l); err != nil {
		return nil, err
	}
	if len(b.Outcomes) == 0 {
		return nil, nil
	}
	at := b.At.Unix()
	var conflicts []Conflict
	err := l.writeMaking(ctx, false, func(tx *sql.Tx, fresh *made) error {
		conflicts = nil
		api, err := l.ensureName(ctx, tx, "apis", b.API, fresh)
		if err != nil {
			return err
		}
		job, err := l.ensureName(ctx, tx, "jobs", b.Job, fresh)
		if err != nil {
			return err
		}
		ins, err := tx.PrepareContext(ctx, "INSERT INTO entries(api, ref, customer_id, outcome, job, confirmed_at, mapping, body_hash, fieldset, field_hashes) "+
			"VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (api, ref) DO NOTHING")
		if err != nil {
			return err
		}
		defer ins.Close()
		for _, o := range b.Outcomes {
			var mapping, set any
			var body, hashes []byte
			if d := o.Digest; d != nil {
				m, err := l.ensureName(ctx, tx, "mappings", d.mapping, fresh)
				if err != nil {
					return err
				}
				s, err := l.ensureSet(ctx, tx, d.fields, fresh)
				if err != nil {
					return err
				}
				mapping, set, body, hashes = m, s, d.body[:], d.hashes
			}
			res, err := ins.ExecContext(ctx, api, o.Ref, o.CustomerID, int(o.Outcome), job, at, mapping, body, set, hashes)
			if err != nil {
				return err
			}
			if n, err := res.RowsAffected(); err != nil || n == 1 {
				if err != nil {
					return err
				}
				continue
			}
			c, err := l.merge(ctx, tx, b, api, job, at, o, mapping, body, set, hashes)
			if err != nil {
				return err
			}
			if c != nil {
				conflicts = append(conflicts, *c)
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return conflicts, nil
}

// merge applies a confirmation to the entry the ledger already has for its reference.
func (l *Ledger) merge(ctx context.Context, tx *sql.Tx, b Batch, api, job, at int64, o Confirmed, mapping any, body []byte, set any, hashes []byte) (*Conflict, error) {
	var x struct {
		id        string
		outcome   int
		job, at   int64
		hasDigest bool
	}
	err := tx.QueryRowContext(ctx, "SELECT customer_id, outcome, job, confirmed_at, mapping IS NOT NULL FROM entries WHERE api = ? AND ref = ?",
		api, o.Ref).Scan(&x.id, &x.outcome, &x.job, &x.at, &x.hasDigest)
	if err != nil {
		return nil, err
	}
	newer := !b.Seed && at >= x.at
	const setDigest = ", mapping = ?, body_hash = ?, fieldset = ?, field_hashes = ?"
	digest := []any{mapping, body, set, hashes}
	where := []any{api, o.Ref}
	switch {
	case x.id == o.CustomerID && newer:
		q, args := "UPDATE entries SET outcome = ?, job = ?, confirmed_at = ?", []any{int(o.Outcome), job, at}
		if o.Digest != nil {
			q, args = q+setDigest, append(args, digest...)
		}
		_, err = tx.ExecContext(ctx, q+" WHERE api = ? AND ref = ?", append(args, where...)...)
		return nil, err
	case x.id == o.CustomerID:
		if o.Digest != nil && !x.hasDigest {
			_, err = tx.ExecContext(ctx, "UPDATE entries SET"+setDigest[1:]+" WHERE api = ? AND ref = ?", append(digest, where...)...)
		}
		return nil, err
	}
	old := Confirmation{CustomerID: x.id, Outcome: Outcome(x.outcome), Job: b.Job, At: time.Unix(x.at, 0).UTC()}
	if x.job != job { // another job's row, committed before this transaction: safe to cache
		if old.Job, err = l.nameOf(ctx, tx, "jobs", x.job, l.jobNames); err != nil {
			return nil, err
		}
	}
	cur := Confirmation{CustomerID: o.CustomerID, Outcome: o.Outcome, Job: b.Job, At: time.Unix(at, 0).UTC()}
	noticed := l.opts.now().Unix()
	keepOther := func(c Confirmation, cjob, cat int64) error {
		_, err := tx.ExecContext(ctx, "INSERT INTO other_ids(api, ref, customer_id, outcome, job, confirmed_at, noticed_at) VALUES (?, ?, ?, ?, ?, ?, ?) "+
			"ON CONFLICT (api, ref, customer_id) DO UPDATE SET outcome = excluded.outcome, job = excluded.job, confirmed_at = excluded.confirmed_at "+
			"WHERE excluded.confirmed_at >= other_ids.confirmed_at", api, o.Ref, c.CustomerID, int(c.Outcome), cjob, cat, noticed)
		return err
	}
	if !newer {
		return &Conflict{Ref: o.Ref, Kept: old, Other: cur}, keepOther(cur, job, at)
	}
	if err := keepOther(old, x.job, x.at); err != nil {
		return nil, err
	}
	// The entry's id is never also among its other ids.
	if _, err := tx.ExecContext(ctx, "DELETE FROM other_ids WHERE api = ? AND ref = ? AND customer_id = ?", api, o.Ref, o.CustomerID); err != nil {
		return nil, err
	}
	_, err = tx.ExecContext(ctx, "UPDATE entries SET customer_id = ?, outcome = ?, job = ?, confirmed_at = ?"+setDigest+" WHERE api = ? AND ref = ?",
		append(append([]any{o.CustomerID, int(o.Outcome), job, at}, digest...), where...)...)
	return &Conflict{Ref: o.Ref, Kept: cur, Other: old}, err
}

// check refuses a batch that the ledger must not hold: a caller's mistake, not a ledger's problem.
func (b *Batch) check(l *Ledger) error {
	if err := checkAPI(b.API); err != nil {
		return err
	}
	switch {
	case b.Job == "":
		return errors.New("ledger: a batch needs its job")
	case b.At.IsZero():
		return errors.New("ledger: a batch needs the time its outcomes became durable")
	case strings.ContainsRune(b.Job, 0):
		return errors.New("ledger: a NUL byte in the job")
	}
	for i, o := range b.Outcomes {
		switch {
		case o.Ref == "" || strings.ContainsRune(o.Ref, 0):
			return fmt.Errorf("ledger: outcome %d: the external_reference is empty or holds a NUL byte", i+1)
		case o.CustomerID == "" || strings.ContainsRune(o.CustomerID, 0):
			return fmt.Errorf("ledger: outcome %d (%s): the customer id is empty or holds a NUL byte", i+1, o.Ref)
		case o.Outcome != Created && o.Outcome != Existing:
			return fmt.Errorf("ledger: outcome %d (%s): %v: only created and existing outcomes enter the ledger", i+1, o.Ref, o.Outcome)
		case o.Digest != nil && o.Digest.owner != l.hasher:
			return fmt.Errorf("ledger: outcome %d (%s): its digest was made with another ledger's key", i+1, o.Ref)
		}
	}
	return nil
}

// made holds the ids of the rows a write transaction made, cached only once it commits: a rolled-back
// row's id may be given to another row.
type made struct {
	names map[string]map[string]int64 // table → name → id
	sets  map[*fieldSet]int64
}

func newMade() *made {
	return &made{names: map[string]map[string]int64{"apis": {}, "jobs": {}, "mappings": {}}, sets: map[*fieldSet]int64{}}
}

// nameColumn is the unique column that names a row of the small tables.
var nameColumn = map[string]string{"apis": "identity", "jobs": "name", "mappings": "hash"}

// ids is the cache of a small table's ids by name.
func (l *Ledger) ids(table string) map[string]int64 {
	switch table {
	case "apis":
		return l.apis
	case "jobs":
		return l.jobIDs
	}
	return l.mapIDs
}

// ensureName returns the id of a row of apis, jobs or mappings by its name, making the row if needed.
func (l *Ledger) ensureName(ctx context.Context, tx *sql.Tx, table, name string, fresh *made) (int64, error) {
	l.mu.Lock()
	id, ok := l.ids(table)[name]
	l.mu.Unlock()
	if ok {
		return id, nil
	}
	if id, ok := fresh.names[table][name]; ok {
		return id, nil
	}
	col := nameColumn[table]
	if _, err := tx.ExecContext(ctx, "INSERT INTO "+table+"("+col+") VALUES (?) ON CONFLICT ("+col+") DO NOTHING", name); err != nil {
		return 0, err
	}
	if err := tx.QueryRowContext(ctx, "SELECT id FROM "+table+" WHERE "+col+" = ?", name).Scan(&id); err != nil {
		return 0, err
	}
	fresh.names[table][name] = id
	return id, nil
}

// ensureSet returns the id of a fieldset's row, making it if needed.
func (l *Ledger) ensureSet(ctx context.Context, tx *sql.Tx, s *fieldSet, fresh *made) (int64, error) {
	l.mu.Lock()
	id, ok := l.setIDs[s]
	l.mu.Unlock()
	if ok {
		return id, nil
	}
	if id, ok := fresh.sets[s]; ok {
		return id, nil
	}
	names, err := json.Marshal(s.names)
	if err != nil {
		return 0, err
	}
	if _, err := tx.ExecContext(ctx, "INSERT INTO fieldsets(names) VALUES (?) ON CONFLICT (names) DO NOTHING", string(names)); err != nil {
		return 0, err
	}
	if err := tx.QueryRowContext(ctx, "SELECT id FROM fieldsets WHERE names = ?", string(names)).Scan(&id); err != nil {
		return 0, err
	}
	fresh.sets[s] = id
	return id, nil
}

// writeMaking is write (writeSynced when synced) for a transaction that may make rows of the small
// tables: fn gets where to note their ids, cached once the transaction commits.
func (l *Ledger) writeMaking(ctx context.Context, synced bool, fn func(*sql.Tx, *made) error) error {
	var fresh *made
	w := l.write
	if synced {
		w = l.writeSynced
	}
	err := w(ctx, func(tx *sql.Tx) error {
		fresh = newMade() // afresh at each attempt
		return fn(tx, fresh)
	})
	if err == nil {
		l.remember(fresh)
	}
	return err
}

// remember caches the ids a committed transaction made.
func (l *Ledger) remember(m *made) {
	l.mu.Lock()
	defer l.mu.Unlock()
	for n, id := range m.names["apis"] {
		l.apis[n] = id
	}
	for n, id := range m.names["jobs"] {
		l.jobIDs[n], l.jobNames[id] = id, n
	}
	for h, id := range m.names["mappings"] {
		l.mapIDs[h], l.mapHashes[id] = id, h
	}
	for s, id := range m.sets {
		l.setIDs[s], l.sets[id] = id, s
	}
}

// queryer is what reads run on: the database, a connection or a transaction.
type queryer interface {
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// nameOf returns the name of a committed row of jobs or mappings by id, through the cache.
func (l *Ledger) nameOf(ctx context.Context, q queryer, table string, id int64, cache map[int64]string) (string, error) {
	l.mu.Lock()
	name, ok := cache[id]
	l.mu.Unlock()
	if ok {
		return name, nil
	}
	if err := q.QueryRowContext(ctx, "SELECT "+nameColumn[table]+" FROM "+table+" WHERE id = ?", id).Scan(&name); err != nil {
		return "", err
	}
	l.mu.Lock()
	cache[id] = name
	l.mu.Unlock()
	return name, nil
}

// setOf returns a fieldset by id, through the cache.
func (l *Ledger) setOf(ctx context.Context, q queryer, id int64) (*fieldSet, error) {
	l.mu.Lock()
	s, ok := l.sets[id]
	l.mu.Unlock()
	if ok {
		return s, nil
	}
	var raw string
	if err := q.QueryRowContext(ctx, "SELECT names FROM fieldsets WHERE id = ?", id).Scan(&raw); err != nil {
		return nil, err
	}
	var names []string
	if err := json.Unmarshal([]byte(raw), &names); err != nil {
		return nil, fmt.Errorf("fieldset %d: %w", id, err)
	}
	s = l.hasher.set(names)
	l.mu.Lock()
	l.sets[id], l.setIDs[s] = s, id
	l.mu.Unlock()
	return s, nil
}

// checkAPI refuses an API identity the ledger must not keep: none, or one that holds what looks like a
// secret key (the identity is the base URL; a key in it would be written to the file).
func checkAPI(identity string) error {
	lower := strings.ToLower(identity)
	switch {
	case identity == "":
		return errors.New("ledger: the API's identity is missing")
	case strings.Contains(lower, "sk_live_") || strings.Contains(lower, "sk_sandbox_"):
		return errors.New("ledger: the API's identity holds a secret key: it must be the base URL")
	case strings.ContainsRune(identity, 0):
		return errors.New("ledger: a NUL byte in the API's identity")
	}
	return nil
}
