package ledger

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
)

// Known is what the ledger knows of one reference for one API.
type Known struct {
	Found       bool
	CustomerID  string
	Outcome     Outcome
	Job         string    // the job that confirmed it
	ConfirmedAt time.Time // when, to the second (UTC)

	mapping string // the mapping identity of its digest; "" when the body is not known
	body    [BodyHashLen]byte
	fields  *fieldSet
	hashes  []byte

	jobID, mapID, setID int64
}

// Mapping is the identity of the mapping the confirmed body was made with, or "" when the ledger does not
// know the body (the reference is known by itself).
func (k *Known) Mapping() string { return k.mapping }

// lookupChunk is how many references one query asks for (SQLite binds at most 32,766 parameters; the
// benchmark found little difference from 250 to 1,000).
const lookupChunk = 500

// Lookup says what the ledger knows of each reference for one API: the result has one Known per
// reference, in the order given (Found false for a reference the ledger does not know). It asks the
// database for lookupChunk references at a time, each chunk in key order, so that a batch of any size
// costs one index walk per chunk and memory for the batch alone.
func (l *Ledger) Lookup(ctx context.Context, api string, refs []string) ([]Known, error) {
	out := make([]Known, len(refs))
	apiID, ok, err := l.apiID(ctx, api)
	if err != nil || !ok {
		return out, err
	}
	order := make([]int, len(refs))
	for i := range order {
		order[i] = i
	}
	for start := 0; start < len(refs); start += lookupChunk {
		chunk := order[start:min(start+lookupChunk, len(refs))]
		if err := l.lookupChunk(ctx, apiID, refs, chunk, out); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// apiID is the id of an API's row, if the ledger has one.
func (l *Ledger) apiID(ctx context.Context, api string) (int64, bool, error) {
	l.mu.Lock()
	id, ok := l.apis[api]
	l.mu.Unlock()
	if ok {
		return id, true, nil
	}
	err := l.db.QueryRowContext(ctx, "SELECT id FROM apis WHERE identity = ?", api).Scan(&id)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, false, nil
	}
	if err != nil {
		return 0, false, l.wrap(err)
	}
	l.mu.Lock()
	l.apis[api] = id
	l.mu.Unlock()
	return id, true, nil
}

// lookupQuery is the statement for n references.
func lookupQuery(n int) string {
	return "SELECT ref, customer_id, outcome, job, confirmed_at, mapping, body_hash, fieldset, field_hashes FROM entries " +
		"WHERE api = ? AND ref IN (?" + strings.Repeat(", ?", n-1) + ") ORDER BY ref"
}

// lookupChunk looks up refs[i] for each i in chunk (which it sorts by reference) and fills out.
func (l *Ledger) lookupChunk(ctx context.Context, api int64, refs []string, chunk []int, out []Known) error {
	slices.SortFunc(chunk, func(a, b int) int { return strings.Compare(refs[a], refs[b]) })
	args := make([]any, 0, len(chunk)+1)
	args = append(args, api)
	for _, i := range chunk {
		args = append(args, refs[i])
	}
	stmt, done, err := l.lookupStmt(ctx, len(chunk))
	if err != nil {
		return err
	}
	defer done()
	rows, err := stmt.QueryContext(ctx, args...)
	if err != nil {
		return l.wrap(err)
	}
	defer rows.Close()
	next := 0 // in chunk: the first reference not yet matched
	for rows.Next() {
		var (
			ref          sql.RawBytes
			k            Known
			outcome      int
			at           int64
			mapID, setID sql.NullInt64
			body         sql.RawBytes
		)
		if err := rows.Scan(&ref, &k.CustomerID, &outcome, &k.jobID, &at, &mapID, &body, &setID, &k.hashes); err != nil {
			return l.wrap(err)
		}
		for next < len(chunk) && refs[chunk[next]] < string(ref) {
			next++
		}
		if next == len(chunk) || refs[chunk[next]] != string(ref) {
			return l.wrap(fmt.Errorf("the ledger answered a reference it was not asked for"))
		}
		k.Found, k.Outcome, k.ConfirmedAt = true, Outcome(outcome), time.Unix(at, 0).UTC()
		if mapID.Valid && setID.Valid && len(body) == BodyHashLen && len(k.hashes)%FieldHashLen == 0 {
			k.mapID, k.setID = mapID.Int64, setID.Int64
			copy(k.body[:], body)
		} else {
			k.hashes = nil
		}
		for ; next < len(chunk) && refs[chunk[next]] == string(ref); next++ { // the same reference twice
			out[chunk[next]] = k
		}
	}
	if err := rows.Err(); err != nil {
		return l.wrap(err)
	}
	rows.Close()
	// Names after the rows are closed: a query inside the loop would need a second connection.
	for _, i := range chunk {
		if err := l.names(ctx, &out[i]); err != nil {
			return err
		}
	}
	return nil
}

// names fills in a Known's job name, mapping and fieldset from their ids.
func (l *Ledger) names(ctx context.Context, k *Known) error {
	if !k.Found {
		return nil
	}
	var err error
	if k.Job, err = l.nameOf(ctx, l.db, "jobs", k.jobID, l.jobNames); err != nil {
		return l.wrap(err)
	}
	if k.mapID == 0 {
		return nil
	}
	if k.mapping, err = l.nameOf(ctx, l.db, "mappings", k.mapID, l.mapHashes); err != nil {
		return l.wrap(err)
	}
	if k.fields, err = l.setOf(ctx, l.db, k.setID); err != nil {
		return l.wrap(err)
	}
	if len(k.hashes) != len(k.fields.names)*FieldHashLen {
		return &Error{Path: l.path, Kind: KindCorrupt, Reason: fmt.Sprintf("an entry of job %s has %d field hashes for %d fields", k.Job, len(k.hashes)/FieldHashLen, len(k.fields.names))}
	}
	return nil
}

// lookupStmt is the prepared statement for n references: the full chunk's is kept, a shorter last
// chunk's is made for the call (done closes it).
func (l *Ledger) lookupStmt(ctx context.Context, n int) (stmt *sql.Stmt, done func(), err error) {
	if n != lookupChunk {
		s, err := l.db.PrepareContext(ctx, lookupQuery(n))
		if err != nil {
			return nil, nil, l.wrap(err)
		}
		return s, func() { s.Close() }, nil
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.chunkStmt == nil {
		s, err := l.db.PrepareContext(ctx, lookupQuery(n))
		if err != nil {
			return nil, nil, l.wrap(err)
		}
		l.chunkStmt = s
	}
	return l.chunkStmt, func() {}, nil
}
