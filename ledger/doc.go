// Package ledger is zentra-import's memory across jobs: for each API and external_reference, the customer
// id the API confirmed, how (created or existing), by which job and when, and keyed hashes of the body
// that was confirmed, so that a nightly full drop sends only its new customers and names the fields of
// the ones that changed. It imports nothing of ours.
//
// # Storage
//
// One SQLite database (modernc.org/sqlite, pure Go) in WAL mode, so that several processes use it at
// once: two feeds' jobs writing, and ledger show reading while a run writes (a reader sees a snapshot,
// never half a batch; writers take turns, each holding the lock for one batch). Not on a network file
// system: WAL needs shared memory between the processes. [DefaultPath] is
// $XDG_STATE_HOME/zentra-import/ledger.db, or ~/.local/state/zentra-import/ledger.db. [Open] makes the
// missing directories 0700 and the file 0600 whatever the umask (SQLite gives its -wal and -shm files
// the database file's mode, and makes no file itself: the file is created by Open, and SQLite opens it
// with mode=rw); an existing file or -wal or -shm file with a wider mode is narrowed to 0600, an existing
// directory is left as it is. Every wait for another process's lock is bounded ([Options.BusyTimeout],
// 10 s by default).
//
// A ledger that cannot be used is an [*Error] whose [Kind] says why — unreadable, not a ledger (not an
// SQLite database, or another program's), damaged, locked past the bound, another schema version — and
// whose Hint says what to do. Open refuses it before anything is read from it; with [Options.Check] it
// also reads every page (PRAGMA quick_check, about 0.4 s for a million entries), so that damage deep in
// the file stops a run before it sends anything rather than at the row that reaches it. Every later
// failure of the storage is an *Error too. A file that is not a ledger is never written.
//
// # Durability
//
// The journal of each job is the source of truth; the ledger is written from it, after it: the importer
// records a batch once the journal's fsync has made it durable. The ledger therefore never claims what a
// journal lacks, whatever the moment of a kill -9 or a power loss. The converse is allowed and repaired:
// outcomes durable in a journal but not yet in the ledger are written by the next run of the job, or by
// the next job that opens the ledger (see [Ledger.BeginJob] and [Ledger.PendingJobs]).
//
// Each [Ledger.Record] is one transaction: after any crash the ledger holds the whole batch or none of
// it. synchronous=NORMAL: in WAL mode a committed transaction survives the death of the process at once
// (it is in the log, in the kernel's cache), and the log is synced before each checkpoint; a power loss
// can lose the last transactions, never corrupt the file, and what it loses is always the latest ones
// (the log's frames are checksummed in a chain, read up to the first that fails). Losing those is safe,
// since their outcomes are in a journal, provided the ledger still knows that the journal holds outcomes
// it lacks: [Ledger.BeginJob], which says so before the job sends anything, commits with
// synchronous=FULL (the log synced, this transaction and every one before it durable), as does
// [Ledger.Sync], which ledger import calls at its end. FULL for every batch would add an fsync per batch
// and buy nothing: the journal already made those outcomes durable.
//
// # What enters
//
// Only outcomes the API confirmed, with an id: created (a 2xx with the id) or existing (a 409 with it, or
// a refused or replayed key proven by an id). A row that failed or that the API rejected is not in the
// ledger, and the next run sends it again. Rows are keyed by the API's identity (its base URL, or the
// in-process sandbox's name; never a key) and the external_reference, stored as is: it is an identifier,
// and ledger show looks it up. No name, email, phone or other mapped value is ever stored: of the body,
// only keyed hashes, and the names of its fields.
//
// A reference confirmed again with the same id updates the entry's outcome, job and time when the new
// confirmation is as new or newer; recording the same outcome twice changes nothing. A reference
// confirmed with another id is a fact worth keeping: the newer confirmation becomes the entry, the other
// is kept in other_ids, and Record returns the pair as a [Conflict] for the caller to report. A
// [Batch.Seed] batch (ledger import, or a stopped job's journal written by another run, whose times are
// not known) fills what the ledger lacks and moves nothing it holds.
//
// # Hashes
//
// The key is 32 random bytes made with the ledger and kept in it (meta.hash_key): hashes copied out of
// the ledger (a query pasted into a ticket) cannot be tested against guessed values without the file,
// and two ledgers' hashes cannot be joined. Whoever holds the file holds the key too: the file's
// permissions are what protects it. A [Digest] ([Hasher.Digest]) holds:
//
//   - the mapping's identity (the caller's: the mapping's SHA-256 and the reading rules' version);
//   - HMAC-SHA256(key, "zentra-import ledger v1 body\x00" ‖ body) truncated to 16 bytes, where body is
//     the JSON object exactly as the request sends it;
//   - for each field of the body — each member whose value is not an object, and each member of a
//     nested object, named by its path (metadata.source) — HMAC-SHA256(key, "zentra-import ledger v1
//     field\x00" ‖ uvarint(len(name)) ‖ name ‖ uvarint(len(value)) ‖ value) truncated to 8 bytes, where
//     value is the field's JSON bytes as they stand in the body (a string with its quotes and escapes, a
//     number as written, an array whole; an empty object is a field whose value is {}; a name that
//     occurs twice is one field hashed over its values in order).
//
// [Hasher.Compare] takes a row's body for the Same when its hash is equal, and otherwise compares the
// fields: those added, removed or changed are named (Drift); bodies whose bytes differ and whose fields
// do not (members reordered) are the Same. Entries made with another mapping, or whose body is not known,
// are compared by reference alone (OtherMapping, BodyUnknown), never reported as drift.
//
// Why the truncations suffice: a hash is only ever compared with the hash of the same reference's
// earlier body (or field), never searched among all entries, so what matters is the chance that one
// comparison of two different values finds the hashes equal: 2⁻¹²⁸ for a body, 2⁻⁶⁴ for a field, for a
// keyed hash whose key nobody choosing the values knows. A million rows a night for ten years is 3.7·10⁹
// body comparisons: a chance of 10⁻²⁹ that one changed body passes for the same, and of about 2·10⁻⁹
// that one changed field, among ten per row, is not named. 16 + 8 bytes per field keeps an entry near
// 150 bytes; the full 32 bytes per hash would double it for no gain a user could see.
//
// # Schema, version 1
//
// The file's user_version is 1 and its application_id 0x5A494C47 ("ZILG"); a file with another
// user_version is refused, never converted. Times are unix seconds (UTC); the views render them as
// ISO 8601. The tables:
//
//	CREATE TABLE meta (
//	    name  TEXT PRIMARY KEY,      -- 'hash_key' (32 random bytes), 'created' (unix seconds)
//	    value ANY NOT NULL
//	) STRICT, WITHOUT ROWID;
//
//	CREATE TABLE apis (
//	    id                  INTEGER PRIMARY KEY,
//	    identity            TEXT NOT NULL UNIQUE,  -- the API's base URL, or the in-process sandbox's name
//	    rate_limit          INTEGER,               -- the last X-RateLimit-Limit it announced, or NULL
//	    rate_window_seconds INTEGER,               -- the window of that limit
//	    rate_seen_at        INTEGER                -- when it was announced (unix seconds)
//	) STRICT;
//
//	CREATE TABLE jobs (
//	    id      INTEGER PRIMARY KEY,
//	    name    TEXT NOT NULL UNIQUE,           -- the job directory, or the source of a ledger import
//	    pending INTEGER NOT NULL DEFAULT 0,     -- 1: its journal may hold outcomes not yet here
//	    api     INTEGER REFERENCES apis(id),    -- the API it imports into (pending jobs)
//	    since   INTEGER                         -- when it last began (unix seconds)
//	) STRICT;
//
//	CREATE TABLE mappings (
//	    id   INTEGER PRIMARY KEY,
//	    hash TEXT NOT NULL UNIQUE               -- the mapping's identity (SHA-256 and rules version)
//	) STRICT;
//
//	CREATE TABLE fieldsets (
//	    id    INTEGER PRIMARY KEY,
//	    names TEXT NOT NULL UNIQUE              -- JSON array of the body's field names, sorted
//	) STRICT;
//
//	CREATE TABLE entries (
//	    api          INTEGER NOT NULL REFERENCES apis(id),
//	    ref          TEXT NOT NULL,             -- external_reference, as the API was sent it
//	    customer_id  TEXT NOT NULL,             -- the id the API confirmed
//	    outcome      INTEGER NOT NULL CHECK (outcome IN (1, 2)), -- 1 created, 2 existing
//	    job          INTEGER NOT NULL REFERENCES jobs(id),       -- the job that confirmed it
//	    confirmed_at INTEGER NOT NULL,          -- when (unix seconds)
//	    mapping      INTEGER REFERENCES mappings(id),   -- NULL: the body is not known
//	    body_hash    BLOB,                      -- 16 bytes: HMAC-SHA256 of the body sent
//	    fieldset     INTEGER REFERENCES fieldsets(id),
//	    field_hashes BLOB,                      -- 8 bytes per name of the fieldset, in its order
//	    PRIMARY KEY (api, ref)
//	) STRICT, WITHOUT ROWID;
//
//	CREATE TABLE other_ids (
//	    api          INTEGER NOT NULL REFERENCES apis(id),
//	    ref          TEXT NOT NULL,
//	    customer_id  TEXT NOT NULL,             -- an id the API confirmed besides the entry's
//	    outcome      INTEGER NOT NULL CHECK (outcome IN (1, 2)),
//	    job          INTEGER NOT NULL REFERENCES jobs(id),
//	    confirmed_at INTEGER NOT NULL,
//	    noticed_at   INTEGER NOT NULL,          -- when the ledger first saw the two ids disagree
//	    PRIMARY KEY (api, ref, customer_id)
//	) STRICT, WITHOUT ROWID;
//
//	CREATE VIEW ledger AS
//	SELECT a.identity AS api, e.ref AS external_reference, e.customer_id,
//	       CASE e.outcome WHEN 1 THEN 'created' ELSE 'existing' END AS outcome,
//	       strftime('%Y-%m-%dT%H:%M:%SZ', e.confirmed_at, 'unixepoch') AS confirmed_at,
//	       j.name AS job, m.hash AS mapping
//	FROM entries e JOIN apis a ON a.id = e.api JOIN jobs j ON j.id = e.job
//	LEFT JOIN mappings m ON m.id = e.mapping;
//
//	CREATE VIEW ledger_other_ids AS
//	SELECT a.identity AS api, o.ref AS external_reference, o.customer_id,
//	       CASE o.outcome WHEN 1 THEN 'created' ELSE 'existing' END AS outcome,
//	       strftime('%Y-%m-%dT%H:%M:%SZ', o.confirmed_at, 'unixepoch') AS confirmed_at,
//	       j.name AS job, strftime('%Y-%m-%dT%H:%M:%SZ', o.noticed_at, 'unixepoch') AS noticed_at
//	FROM other_ids o JOIN apis a ON a.id = o.api JOIN jobs j ON j.id = o.job;
//
// The REFERENCES clauses say how the tables join; they are not enforced (this package is the only
// writer). SQLite's own statistics (sqlite_stat1, sqlite_stat4, kept by PRAGMA optimize when a writer
// closes the ledger) let the shell find a reference across APIs by key. Entries are stored in key order (api, ref) in one B-tree holding the whole row; field names
// are stored once per set of names (fieldsets), job names and mapping identities once each.
//
// # Asking the ledger with the sqlite3 shell
//
// Open it read-only, so that nothing is written by mistake (a run may be writing at the same time; the
// shell sees its batches whole): sqlite3 -readonly ~/.local/state/zentra-import/ledger.db, then for
// example:
//
//	SELECT * FROM ledger WHERE external_reference = 'CRM-000123';
//	SELECT api, outcome, count(*) FROM ledger GROUP BY api, outcome;
//	SELECT job, count(*), min(confirmed_at), max(confirmed_at) FROM ledger GROUP BY job ORDER BY 3;
//	SELECT external_reference, customer_id FROM ledger WHERE confirmed_at >= '2026-12-01' ORDER BY 1;
//	SELECT * FROM ledger_other_ids ORDER BY external_reference;
//	SELECT identity, rate_limit, rate_window_seconds FROM apis;
//	SELECT j.name, a.identity, datetime(j.since, 'unixepoch') FROM jobs j JOIN apis a ON a.id = j.api WHERE j.pending;
//
// confirmed_at in the views is text (ISO 8601, UTC), so it compares with a date written the same way.
// The hashes (entries.body_hash, field_hashes) tell nothing without the key; the key (meta) is in the
// file.
//
// # Use by the importer
//
// The API identity is the job binding's: the base URL (a sandbox server's loopback URL included). Not
// "sandbox (in-process)" as it stands: that sandbox forgets its customers when its process ends, so a
// second run --sandbox would take customers that no longer exist for known; it needs an identity of its
// own each run (or no ledger). The mapping identity is the mapping's hash with the reading rules'
// version ("<sha256>/r3"), so that rows mapped under other rules are compared by reference alone rather
// than taken for drift.
//
// run, before it sends anything: [Open] the path of --ledger, ZENTRA_LEDGER or [DefaultPath], with
// Options{Check: true}; an *Error is exit 2 with its Hint (--no-ledger skips all of this). Then for each
// of [Ledger.PendingJobs] whose job directory's lock can be taken (a job that runs is locked; this run's
// own directory, which it holds, counts as taken): read its journal's outcomes (checkpoint) and
// [Ledger.Record] the created and existing ones that carry an id, as Batches of at most a few thousand
// with Seed set, At its Since and no Digest, then [Ledger.EndJob] it; a job directory that is gone has
// nothing left to write and is ended with a warning. Then [Ledger.BeginJob] (this job, its API), and
// [Ledger.Mappings] for the note on entries another mapping made.
//
// For each chunk of mapped rows (hundreds), [Ledger.Lookup] the references; for a row Found, unless
// --resend, [Hasher.Compare] its body: Same, BodyUnknown or OtherMapping is not sent (existing, the
// entry's id, attempts 0, a note naming Known.Job and Known.ConfirmedAt); Drift is not sent either, and
// names the fields (drift.csv; rejected under --on-drift reject). The Known of a row sent anyway stays
// with it: a 422 idempotency_key_reused, or a 409 without an id, is then existing with the ledger's id.
// For each row sent, [Hasher.Digest] of the body it sends goes with the row until its outcome is
// durable; checkpoint's OnDurable hands those outcomes (created or existing with an id, from an answer of
// the API, not the ledger's own "not sent" rows) to one goroutine that records them, a Batch per commit
// (At: now); a Record error stops the run, resumable; a [Conflict] is a warning and a count in the
// summary. At the end: [Ledger.SetRateLimit] with the limit the pacer saw, [Ledger.EndJob] once the last
// batch is recorded, [Ledger.Close].
//
// plan: Open with Options{ReadOnly: true} (a [KindMissing] error means nothing is known: every row is
// new), Lookup and Compare exactly as run does, and read the pending jobs' journals as run would write
// them, so that plan predicts what run then does; [Ledger.RateLimit] gives the limit for the estimate.
// ledger show, export and stats open read-only and call [Ledger.Show], [Ledger.Export] and
// [Ledger.Stats]; ledger import parses the CSV itself and records Seed batches (Job: the file's absolute
// path, At: now), then calls [Ledger.Sync].
package ledger
