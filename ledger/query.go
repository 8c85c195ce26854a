package ledger

import (
	"cmp"
	"context"
	"database/sql"
	"errors"
	"os"
	"time"
)

// Entry is one confirmed reference as ledger show and ledger export give it: never a hash or a key.
type Entry struct {
	API         string
	Ref         string
	CustomerID  string
	Outcome     Outcome
	Job         string
	ConfirmedAt time.Time
}

// entryColumns and entryFrom select an Entry (or an other id) with its API and job by name.
const (
	entryColumns = "a.identity, e.ref, e.customer_id, e.outcome, j.name, e.confirmed_at"
	entryFrom    = " JOIN apis a ON a.id = e.api JOIN jobs j ON j.id = e.job"
)

type scanner interface{ Scan(dest ...any) error }

func scanEntry(s scanner) (Entry, error) {
	var e Entry
	var outcome int
	var at int64
	err := s.Scan(&e.API, &e.Ref, &e.CustomerID, &outcome, &e.Job, &at)
	e.Outcome, e.ConfirmedAt = Outcome(outcome), time.Unix(at, 0).UTC()
	return e, err
}

// Shown is what ledger show says of one reference.
type Shown struct {
	Ref      string
	Entries  []Entry // one per API that knows it (at most one when Show is given an API)
	OtherIDs []Entry // other ids the API confirmed for it (see Conflict), oldest first
}

// Show says, for each reference, its id, outcome, and when and by which job it was confirmed, for the
// API given, or for every API when api is "". It reads one snapshot: a run writing meanwhile is seen
// before or after a batch, never in the middle of one.
func (l *Ledger) Show(ctx context.Context, api string, refs []string) ([]Shown, error) {
	out := make([]Shown, len(refs))
	err := l.read(ctx, func(tx *sql.Tx) error {
		apis, err := apiIDs(ctx, tx, api)
		if err != nil {
			return err
		}
		for i, ref := range refs {
			out[i].Ref = ref
			for _, id := range apis { // by key: (api, ref) is the tables' key's prefix
				if out[i].Entries, err = appendEntries(ctx, tx, out[i].Entries, "entries", id, ref); err != nil {
					return err
				}
				if out[i].OtherIDs, err = appendEntries(ctx, tx, out[i].OtherIDs, "other_ids", id, ref); err != nil {
					return err
				}
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// apiIDs lists the ids of the API named, or of every API when api is "", by identity.
func apiIDs(ctx context.Context, tx *sql.Tx, api string) ([]int64, error) {
	var ids []int64
	err := eachRow(ctx, tx, func(r *sql.Rows) error {
		var id int64
		err := r.Scan(&id)
		ids = append(ids, id)
		return err
	}, "SELECT id FROM apis WHERE ? = '' OR identity = ? ORDER BY identity", api, api)
	return ids, err
}

// eachRow runs a query and calls fn for each row of its result, which it closes; fn's first error
// stops it and is returned as is.
func eachRow(ctx context.Context, tx *sql.Tx, fn func(*sql.Rows) error, query string, args ...any) error {
	rows, err := tx.QueryContext(ctx, query, args...)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		if err := fn(rows); err != nil {
			return err
		}
	}
	return cmp.Or(rows.Err(), rows.Close())
}

// appendEntries appends the rows of entries or other_ids for one API and reference, oldest first.
func appendEntries(ctx context.Context, tx *sql.Tx, dst []Entry, table string, api int64, ref string) ([]Entry, error) {
	err := eachRow(ctx, tx, func(r *sql.Rows) error {
		e, err := scanEntry(r)
		dst = append(dst, e)
		return err
	}, "SELECT "+entryColumns+" FROM "+table+" e"+entryFrom+" WHERE e.api = ? AND e.ref = ? ORDER BY e.confirmed_at", api, ref)
	return dst, err
}

// Export calls fn for every entry of the API given, or of every API when api is "", by API and then by
// reference (byte order), from one snapshot, in memory for one entry at a time. An error from fn stops
// it and is returned as is.
func (l *Ledger) Export(ctx context.Context, api string, fn func(Entry) error) error {
	var fnErr error
	err := l.read(ctx, func(tx *sql.Tx) error {
		apis, err := apiIDs(ctx, tx, api)
		if err != nil {
			return err
		}
		for _, id := range apis {
			err := eachRow(ctx, tx, func(r *sql.Rows) error {
				e, err := scanEntry(r)
				if err != nil {
					return err
				}
				fnErr = fn(e)
				return fnErr
			}, "SELECT "+entryColumns+" FROM entries e"+entryFrom+" WHERE e.api = ? ORDER BY e.ref", id)
			if err != nil {
				return err
			}
		}
		return nil
	})
	if fnErr != nil {
		return fnErr
	}
	return err
}

// Stats is what ledger stats says.
type Stats struct {
	Path    string
	Bytes   int64 // the file and its write-ahead log
	Schema  int
	Created time.Time
	APIs    []APIStats
	// PendingJobs is how many jobs may have outcomes in their journals that are not yet here.
	PendingJobs int
}

// APIStats is one API's part of the ledger.
type APIStats struct {
	API               string
	Entries           int
	Created, Existing int
	BodyUnknown       int // entries known by reference alone (imported, or written after their job stopped)
	OtherIDs          int // ids kept beside the entries' (see Conflict)
	Oldest, Newest    time.Time
	RateLimit         *RateLimit // the last the API announced, or nil
}

// Stats counts the entries per API (a read of the whole ledger: about half a second for a million).
func (l *Ledger) Stats(ctx context.Context) (Stats, error) {
	s := Stats{Path: l.path, Schema: SchemaVersion}
	for _, p := range []string{l.path, l.path + "-wal"} {
		if fi, err := os.Stat(p); err == nil {
			s.Bytes += fi.Size()
		}
	}
	err := l.read(ctx, func(tx *sql.Tx) error {
		var created int64
		if err := tx.QueryRowContext(ctx, "SELECT value FROM meta WHERE name = 'created'").Scan(&created); err != nil {
			return err
		}
		s.Created = time.Unix(created, 0).UTC()
		if err := tx.QueryRowContext(ctx, "SELECT count(*) FROM jobs WHERE pending").Scan(&s.PendingJobs); err != nil {
			return err
		}
		return eachRow(ctx, tx, func(r *sql.Rows) error {
			var a APIStats
			var limit, window, seen, oldest, newest sql.NullInt64
			if err := r.Scan(&a.API, &limit, &window, &seen, &a.Entries, &a.Created, &a.Existing, &a.BodyUnknown,
				&oldest, &newest, &a.OtherIDs); err != nil {
				return err
			}
			if oldest.Valid {
				a.Oldest, a.Newest = time.Unix(oldest.Int64, 0).UTC(), time.Unix(newest.Int64, 0).UTC()
			}
			a.RateLimit = rateLimitOf(limit, window, seen)
			s.APIs = append(s.APIs, a)
			return nil
		}, "SELECT a.identity, a.rate_limit, a.rate_window_seconds, a.rate_seen_at, "+
			"count(e.ref), coalesce(sum(e.outcome = 1), 0), coalesce(sum(e.outcome = 2), 0), coalesce(sum(e.mapping IS NULL), 0), "+
			"min(e.confirmed_at), max(e.confirmed_at), (SELECT count(*) FROM other_ids o WHERE o.api = a.id) "+
			"FROM apis a LEFT JOIN entries e ON e.api = a.id GROUP BY a.id ORDER BY a.identity")
	})
	return s, err
}

// Mappings counts one API's entries by the mapping identity of their digest ("" for those whose body is
// not known): a run can say at its start how many entries another mapping made.
func (l *Ledger) Mappings(ctx context.Context, api string) (map[string]int, error) {
	out := map[string]int{}
	err := l.read(ctx, func(tx *sql.Tx) error {
		return eachRow(ctx, tx, func(r *sql.Rows) error {
			var h string
			var n int
			err := r.Scan(&h, &n)
			out[h] += n
			return err
		}, "SELECT coalesce(m.hash, ''), count(*) FROM entries e JOIN apis a ON a.id = e.api "+
			"LEFT JOIN mappings m ON m.id = e.mapping WHERE a.identity = ? GROUP BY e.mapping", api)
	})
	return out, err
}

// RateLimit is the limit an API last announced (X-RateLimit-Limit) and the window it is for: what plan
// estimates a run's time from.
type RateLimit struct {
	Limit  int
	Window time.Duration // to the second
	Seen   time.Time
}

func rateLimitOf(limit, window, seen sql.NullInt64) *RateLimit {
	if !limit.Valid || !window.Valid {
		return nil
	}
	return &RateLimit{Limit: int(limit.Int64), Window: time.Duration(window.Int64) * time.Second, Seen: time.Unix(seen.Int64, 0).UTC()}
}

// SetRateLimit keeps the limit the API announced (the last one wins).
func (l *Ledger) SetRateLimit(ctx context.Context, api string, rl RateLimit) error {
	if err := checkAPI(api); err != nil {
		return err
	}
	if rl.Limit <= 0 || rl.Window < time.Second {
		return errors.New("ledger: a rate limit needs a positive limit and a window of a second or more")
	}
	return l.writeMaking(ctx, false, func(tx *sql.Tx, fresh *made) error {
		id, err := l.ensureName(ctx, tx, "apis", api, fresh)
		if err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, "UPDATE apis SET rate_limit = ?, rate_window_seconds = ?, rate_seen_at = ? WHERE id = ?",
			rl.Limit, int64(rl.Window/time.Second), rl.Seen.Unix(), id)
		return err
	})
}

// RateLimit returns the limit the API last announced, if the ledger has seen one.
func (l *Ledger) RateLimit(ctx context.Context, api string) (*RateLimit, error) {
	var limit, window, seen sql.NullInt64
	err := l.db.QueryRowContext(ctx, "SELECT rate_limit, rate_window_seconds, rate_seen_at FROM apis WHERE identity = ?", api).Scan(&limit, &window, &seen)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, l.wrap(err)
	}
	return rateLimitOf(limit, window, seen), nil
}

// read runs fn in one read transaction: one snapshot, which no writer blocks.
func (l *Ledger) read(ctx context.Context, fn func(*sql.Tx) error) error {
	tx, err := l.db.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return l.wrap(err)
	}
	defer tx.Rollback()
	return l.wrap(fn(tx))
}
