package ledger

// SchemaVersion is the version of the ledger's tables, kept in the file's user_version. A ledger of
// another version is refused (KindVersion), never converted in place by a version that does not know it.
const SchemaVersion = 1

// applicationID is kept in the file's application_id ("ZILG"): what tells a ledger from another SQLite
// database.
const applicationID = 0x5A494C47

// hashKeyLen is the length of the HMAC-SHA256 key each ledger makes when it is created.
const hashKeyLen = 32

// schemaSQL makes the ledger's tables (version 1). doc.go shows the same text, and a test keeps them
// equal. The REFERENCES clauses say how the tables join; they are not enforced (the package is the only
// writer).
const schemaSQL = `
CREATE TABLE meta (
    name  TEXT PRIMARY KEY,      -- 'hash_key' (32 random bytes), 'created' (unix seconds)
    value ANY NOT NULL
) STRICT, WITHOUT ROWID;

CREATE TABLE apis (
    id                  INTEGER PRIMARY KEY,
    identity            TEXT NOT NULL UNIQUE,  -- the API's base URL, or the in-process sandbox's name
    rate_limit          INTEGER,               -- the last X-RateLimit-Limit it announced, or NULL
    rate_window_seconds INTEGER,               -- the window of that limit
    rate_seen_at        INTEGER                -- when it was announced (unix seconds)
) STRICT;

CREATE TABLE jobs (
    id      INTEGER PRIMARY KEY,
    name    TEXT NOT NULL UNIQUE,           -- the job directory, or the source of a ledger import
    pending INTEGER NOT NULL DEFAULT 0,     -- 1: its journal may hold outcomes not yet here
    api     INTEGER REFERENCES apis(id),    -- the API it imports into (pending jobs)
    since   INTEGER                         -- when it last began (unix seconds)
) STRICT;

CREATE TABLE mappings (
    id   INTEGER PRIMARY KEY,
    hash TEXT NOT NULL UNIQUE               -- the mapping's identity (SHA-256 and rules version)
) STRICT;

CREATE TABLE fieldsets (
    id    INTEGER PRIMARY KEY,
    names TEXT NOT NULL UNIQUE              -- JSON array of the body's field names, sorted
) STRICT;

CREATE TABLE entries (
    api          INTEGER NOT NULL REFERENCES apis(id),
    ref          TEXT NOT NULL,             -- external_reference, as the API was sent it
    customer_id  TEXT NOT NULL,             -- the id the API confirmed
    outcome      INTEGER NOT NULL CHECK (outcome IN (1, 2)), -- 1 created, 2 existing
    job          INTEGER NOT NULL REFERENCES jobs(id),       -- the job that confirmed it
    confirmed_at INTEGER NOT NULL,          -- when (unix seconds)
    mapping      INTEGER REFERENCES mappings(id),   -- NULL: the body is not known
    body_hash    BLOB,                      -- 16 bytes: HMAC-SHA256 of the body sent
    fieldset     INTEGER REFERENCES fieldsets(id),
    field_hashes BLOB,                      -- 8 bytes per name of the fieldset, in its order
    PRIMARY KEY (api, ref)
) STRICT, WITHOUT ROWID;

CREATE TABLE other_ids (
    api          INTEGER NOT NULL REFERENCES apis(id),
    ref          TEXT NOT NULL,
    customer_id  TEXT NOT NULL,             -- an id the API confirmed besides the entry's
    outcome      INTEGER NOT NULL CHECK (outcome IN (1, 2)),
    job          INTEGER NOT NULL REFERENCES jobs(id),
    confirmed_at INTEGER NOT NULL,
    noticed_at   INTEGER NOT NULL,          -- when the ledger first saw the two ids disagree
    PRIMARY KEY (api, ref, customer_id)
) STRICT, WITHOUT ROWID;

CREATE VIEW ledger AS
SELECT a.identity AS api, e.ref AS external_reference, e.customer_id,
       CASE e.outcome WHEN 1 THEN 'created' ELSE 'existing' END AS outcome,
       strftime('%Y-%m-%dT%H:%M:%SZ', e.confirmed_at, 'unixepoch') AS confirmed_at,
       j.name AS job, m.hash AS mapping
FROM entries e JOIN apis a ON a.id = e.api JOIN jobs j ON j.id = e.job
LEFT JOIN mappings m ON m.id = e.mapping;

CREATE VIEW ledger_other_ids AS
SELECT a.identity AS api, o.ref AS external_reference, o.customer_id,
       CASE o.outcome WHEN 1 THEN 'created' ELSE 'existing' END AS outcome,
       strftime('%Y-%m-%dT%H:%M:%SZ', o.confirmed_at, 'unixepoch') AS confirmed_at,
       j.name AS job, strftime('%Y-%m-%dT%H:%M:%SZ', o.noticed_at, 'unixepoch') AS noticed_at
FROM other_ids o JOIN apis a ON a.id = o.api JOIN jobs j ON j.id = o.job;
`
