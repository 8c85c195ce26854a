package ledger

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// docSection returns the indented (code) lines of a section of doc.go, without the comment marks.
func docSection(t *testing.T, heading string) []string {
	t.Helper()
	src, err := os.ReadFile("doc.go")
	require.NoError(t, err)
	var lines []string
	in := false
	for _, line := range strings.Split(string(src), "\n") {
		if strings.HasPrefix(line, "// # ") {
			in = line == "// # "+heading
			continue
		}
		if code, ok := strings.CutPrefix(line, "//\t"); in && ok {
			lines = append(lines, code)
		}
	}
	require.NotEmpty(t, lines, "section %q of doc.go", heading)
	return lines
}

// TestDocumentedSchemaIsTheSchema: the schema doc.go shows is the one the ledger is made with, and the
// one an existing ledger has (sqlite_schema keeps each statement's text).
func TestDocumentedSchemaIsTheSchema(t *testing.T) {
	documented := strings.Join(docSection(t, "Schema, version 1"), "\n")
	var code []string
	for _, line := range strings.Split(strings.TrimSpace(schemaSQL), "\n") {
		if line != "" { // blank lines are bare "//" lines in doc.go
			code = append(code, line)
		}
	}
	assert.Equal(t, strings.Join(code, "\n"), documented)

	l := newLedger(t)
	rows, err := l.db.Query("SELECT sql FROM sqlite_schema WHERE sql IS NOT NULL")
	require.NoError(t, err)
	defer rows.Close()
	n := 0
	for rows.Next() {
		var s string
		require.NoError(t, rows.Scan(&s))
		assert.Contains(t, documented, s)
		n++
	}
	require.NoError(t, rows.Err())
	assert.Equal(t, strings.Count(documented, "CREATE "), n)
}

// seededForDocs is a ledger with the reference the documented queries ask for, an other id and a
// pending job.
func seededForDocs(t *testing.T) string {
	path := filepath.Join(t.TempDir(), "ledger.db")
	l := openT(t, path, Options{Now: func() time.Time { return t0 }})
	ctx := t.Context()
	recordT(t, l, Batch{API: testAPI, Job: "/jobs/night-1.import", At: time.Date(2026, 11, 30, 23, 0, 0, 0, time.UTC), Outcomes: []Confirmed{
		{Ref: "CRM-000123", CustomerID: "cus_0000000123", Outcome: Created, Digest: digestT(t, l, "m1", body("CRM-000123", "ada@example.com"))},
		{Ref: "CRM-000124", CustomerID: "cus_0000000124", Outcome: Existing},
	}})
	recordT(t, l, Batch{API: testAPI, Job: "/jobs/night-2.import", At: time.Date(2026, 12, 1, 23, 0, 0, 0, time.UTC), Outcomes: []Confirmed{
		{Ref: "CRM-000124", CustomerID: "cus_0000000999", Outcome: Created},
	}})
	require.NoError(t, l.SetRateLimit(ctx, testAPI, RateLimit{Limit: 1000, Window: time.Minute, Seen: t0}))
	require.NoError(t, l.BeginJob(ctx, "/jobs/night-3.import", testAPI))
	return path
}

// docQueries are the queries doc.go shows, and what each answers on seededForDocs's ledger (rows as the
// sqlite3 shell prints them, columns separated by |).
var docQueries = map[string][]string{
	"SELECT * FROM ledger WHERE external_reference = 'CRM-000123';": {
		testAPI + "|CRM-000123|cus_0000000123|created|2026-11-30T23:00:00Z|/jobs/night-1.import|m1"},
	"SELECT api, outcome, count(*) FROM ledger GROUP BY api, outcome;": {testAPI + "|created|2"},
	"SELECT job, count(*), min(confirmed_at), max(confirmed_at) FROM ledger GROUP BY job ORDER BY 3;": {
		"/jobs/night-1.import|1|2026-11-30T23:00:00Z|2026-11-30T23:00:00Z",
		"/jobs/night-2.import|1|2026-12-01T23:00:00Z|2026-12-01T23:00:00Z"},
	"SELECT external_reference, customer_id FROM ledger WHERE confirmed_at >= '2026-12-01' ORDER BY 1;": {"CRM-000124|cus_0000000999"},
	"SELECT * FROM ledger_other_ids ORDER BY external_reference;": {
		testAPI + "|CRM-000124|cus_0000000124|existing|2026-11-30T23:00:00Z|/jobs/night-1.import|2026-12-01T02:00:00Z"},
	"SELECT identity, rate_limit, rate_window_seconds FROM apis;": {testAPI + "|1000|60"},
	"SELECT j.name, a.identity, datetime(j.since, 'unixepoch') FROM jobs j JOIN apis a ON a.id = j.api WHERE j.pending;": {
		"/jobs/night-3.import|" + testAPI + "|2026-12-01 02:00:00"},
}

// TestDocumentedQueries runs every query doc.go shows, through the driver and, when it is installed
// (Debian's sqlite3), through the sqlite3 shell opened read-only as the documentation says, and checks
// their answers.
func TestDocumentedQueries(t *testing.T) {
	shown := docSection(t, "Asking the ledger with the sqlite3 shell")
	require.Len(t, shown, len(docQueries), "every documented query has its expected answer here")
	path := seededForDocs(t)
	db := rawDB(t, path)
	shell, shellErr := exec.LookPath("sqlite3")
	if shellErr != nil {
		t.Log("sqlite3 is not installed: the queries run through the driver only")
	}
	for _, q := range shown {
		want, ok := docQueries[q]
		require.True(t, ok, "documented query without an expected answer: %s", q)
		rows, err := db.Query(q)
		require.NoError(t, err, q)
		cols, err := rows.Columns()
		require.NoError(t, err)
		var got []string
		for rows.Next() {
			vals := make([]any, len(cols))
			ptrs := make([]any, len(cols))
			for i := range vals {
				ptrs[i] = &vals[i]
			}
			require.NoError(t, rows.Scan(ptrs...))
			cells := make([]string, len(vals))
			for i, v := range vals {
				switch v := v.(type) {
				case nil:
				case []byte:
					cells[i] = string(v)
				default:
					cells[i] = fmt.Sprint(v)
				}
			}
			got = append(got, strings.Join(cells, "|"))
		}
		require.NoError(t, rows.Err())
		rows.Close()
		assert.Equal(t, want, got, "driver: %s", q)
		if shellErr == nil {
			out, err := exec.Command(shell, "-readonly", path, q).CombinedOutput()
			require.NoError(t, err, "sqlite3 %s: %s", q, out)
			assert.Equal(t, want, strings.Split(strings.TrimSpace(string(out)), "\n"), "sqlite3: %s", q)
		}
	}
}
