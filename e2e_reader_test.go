package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/zentra/zentra-import/jobdir"
	"github.com/zentra/zentra-import/sandbox"
)

// readerMapping maps the e2e columns and a Notes column to metadata.notes.
var readerMapping = strings.Replace(e2eMapping, "require_one_of:", "  metadata.notes: {column: Notes, optional: true}\nrequire_one_of:", 1)

// readerJob writes an input (its bytes as given) and readerMapping in a temporary directory.
func readerJob(t *testing.T, input []byte) *job {
	t.Helper()
	dir := t.TempDir()
	j := &job{dir: dir, input: filepath.Join(dir, "customers.csv"), mapping: filepath.Join(dir, "mapping.yaml"), out: filepath.Join(dir, "job")}
	require.NoError(t, os.WriteFile(j.input, input, 0o600))
	require.NoError(t, os.WriteFile(j.mapping, []byte(readerMapping), 0o600))
	return j
}

// readerRow is a data row of the e2e header plus Notes.
func readerRow(id, first, notes string) string {
	return fmt.Sprintf("%s,%s,Okafor,%s@example.ng,08031234%s,NG,%s\n", id, first, strings.ToLower(first), id[len(id)-3:], notes)
}

// readerValidate runs validate on the job's input, into a directory of its own, and expects exit 1 (some
// rows rejected); it returns the directory, the run and the summary.
func readerValidate(t *testing.T, j *job) (string, result, *jobdir.Summary) {
	t.Helper()
	out := filepath.Join(j.dir, "validate")
	v := run(t, nil, "validate", "--mapping", j.mapping, "--out", out, j.input)
	require.Equal(t, 1, v.code, v.stderr)
	sum, err := jobdir.ReadSummary(out)
	require.NoError(t, err)
	return out, v, sum
}

const readerHeader = "Customer Id,First Name,Last Name,E-mail,Mobile,Country,Notes\n"

// TestE2EReaderLongQuotedNotes: a 3-row file whose middle row's quoted Notes value is a 1.2 MB paste of
// another export (17,000 lines that look like rows) creates exactly the 2 other customers; the middle
// row is rejected whole, its reason naming its lines, and rejects.csv holds its bytes exactly as the
// input has them; validate counts 3 rows. Before, each line inside the value was read as a row, and
// became a customer.
func TestE2EReaderLongQuotedNotes(t *testing.T) {
	t.Parallel()
	var paste strings.Builder
	for i := range 17000 {
		note := "pasted from the old CRM export"
		if i%50 == 0 {
			note = `""a note, quoted""`
		}
		fmt.Fprintf(&paste, "%06d,Pasted,Person,pasted.person%d@example.ng,0803%07d,NG,%s\n", 500000+i, i, i, note)
	}
	record := `100002,Bola,Okafor,bola@example.ng,08031234002,NG,"` + paste.String() + `"`
	input := []byte(readerHeader + readerRow("100001", "Ada", "short") + record + "\n" + readerRow("100003", "Chidi", "x"))
	require.Greater(t, len(record), 1_200_000)
	j := readerJob(t, input)

	sb := startSandbox(t, sandbox.Config{})
	r := run(t, keyEnv(sb), j.args(sb, "--rate", "1000/s")...)
	require.Equal(t, 1, r.code, r.stderr)
	var refs []string
	for _, c := range sb.Server.Customers() {
		refs = append(refs, c.ExternalReference)
	}
	assert.ElementsMatch(t, []string{"crm-100001", "crm-100003"}, refs, "exactly the two rows around the long one")
	assert.Equal(t, 2, sb.Server.Stats().Creates)

	const reason = "line 3: record longer than 1 MiB (lines 3 to 17003): shorten the value that makes it so long"
	lines := j.results(t)
	require.Len(t, lines, 3)
	assert.Equal(t, []string{"created", "rejected", "created"}, []string{lines[0].Status, lines[1].Status, lines[2].Status})
	assert.Equal(t, reason, lines[1].Error)
	assert.Contains(t, r.stderr, "line 3: record longer than 1 MiB")

	rejects, err := os.ReadFile(filepath.Join(j.out, "rejects.csv"))
	require.NoError(t, err)
	want := strings.TrimSuffix(readerHeader, "\n") + ",error\n" + record + `,"` + reason + "\"\n"
	assert.True(t, string(rejects) == want, "rejects.csv: the header, then the row's bytes as the input has them and its reason (%d bytes, want %d)", len(rejects), len(want))

	out, v, sum := readerValidate(t, j)
	assert.Equal(t, 3, sum.Rows)
	assert.Equal(t, 1, sum.Counts["rejected"])
	assert.Contains(t, v.stderr, "row 2")
	vrejects, err := os.ReadFile(filepath.Join(out, "rejects.csv"))
	require.NoError(t, err)
	assert.True(t, bytes.Equal(rejects, vrejects), "validate writes the same rejects.csv")
}

// TestE2EReaderQuoteNeverClosed: a quote opened on row 2 and never closed makes the rest of the file one
// rejected row, named by its first line and the file's last; nothing inside it is created, and
// rejects.csv holds the rest of the file with the reason after it. Before, only row 2's first line was
// rejected and each line after it became a customer.
func TestE2EReaderQuoteNeverClosed(t *testing.T) {
	t.Parallel()
	var rest strings.Builder
	rest.WriteString(`100002,Bola,Okafor,bola@example.ng,08031234002,NG,"an open quote` + "\r\n")
	for i := 3; i <= 52; i++ {
		rest.WriteString(strings.ReplaceAll(readerRow(fmt.Sprintf("1000%02d", i), "Row", "plain"), "\n", "\r\n"))
	}
	crlf := func(s string) string { return strings.ReplaceAll(s, "\n", "\r\n") }
	input := []byte(crlf(readerHeader+readerRow("100001", "Ada", "short")) + rest.String())
	j := readerJob(t, input)

	sb := startSandbox(t, sandbox.Config{})
	r := run(t, keyEnv(sb), j.args(sb, "--rate", "1000/s")...)
	require.Equal(t, 1, r.code, r.stderr)
	require.Len(t, sb.Server.Customers(), 1)
	assert.Equal(t, "crm-100001", sb.Server.Customers()[0].ExternalReference)

	const reason = "line 3: the quote opened here is never closed: the rest of the file, to line 53, is this one record (close the quote where the value ends)"
	lines := j.results(t)
	require.Len(t, lines, 2)
	assert.Equal(t, "rejected", lines[1].Status)
	assert.Equal(t, reason, lines[1].Error)

	rejects, err := os.ReadFile(filepath.Join(j.out, "rejects.csv"))
	require.NoError(t, err)
	// The line break that ends the file is inside the open quote, so part of the value, and kept.
	assert.Equal(t, crlf(strings.TrimSuffix(readerHeader, "\n")+",error\n")+rest.String()+`,"`+reason+"\"\r\n", string(rejects))

	_, v, sum := readerValidate(t, j)
	assert.Equal(t, 2, sum.Rows)
	assert.Contains(t, v.stderr, "row 2")
	assert.Contains(t, v.stderr, "the rest of the file, to line 53")
}

// TestE2EReaderDeepTarget: a mapping whose target is 10,000 levels deep is refused by validate and by run
// with exit 2 and a message naming its line, before anything is sent. Before, validate passed it, the
// API created the customers, and their ids were lost in answers too deep to decode.
func TestE2EReaderDeepTarget(t *testing.T) {
	t.Parallel()
	j := newJob(t, 3)
	deep := strings.Replace(e2eMapping, "require_one_of:", "  "+strings.Repeat("metadata.", 9999)+"x: {column: Country}\nrequire_one_of:", 1)
	require.NoError(t, os.WriteFile(j.mapping, []byte(deep), 0o600))
	const want = `line 11: target "metadata.metadata.metadata.metadata.meta…" is 10000 levels deep: at most 32 are allowed`
	v := run(t, nil, "validate", "--mapping", j.mapping, "--out", filepath.Join(j.dir, "v"), j.input)
	assert.Equal(t, 2, v.code, v.stderr)
	assert.Contains(t, v.stderr, want)
	assert.Contains(t, v.stderr, "hint:")
	assert.Less(t, len(v.stderr), 2000, "the message does not repeat the whole target")

	sb := startSandbox(t, sandbox.Config{})
	r := run(t, keyEnv(sb), j.args(sb)...)
	assert.Equal(t, 2, r.code, r.stderr)
	assert.Contains(t, r.stderr, want)
	assert.Zero(t, sb.Server.Stats().Requests)
}

// TestE2EReaderDeepAnswer: an API answering each create with the id beside a value nested 20,000 levels
// deep (an echo of a deep request) still gives created rows with their ids. Before, the answers could
// not be decoded, the ids were lost and the run exited 3.
func TestE2EReaderDeepAnswer(t *testing.T) {
	t.Parallel()
	deep := strings.Repeat("[", 20000) + strings.Repeat("]", 20000)
	var mu sync.Mutex
	ids := map[string]string{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		var body struct {
			Ref string `json:"external_reference"`
		}
		if req.Method != http.MethodPost || json.NewDecoder(req.Body).Decode(&body) != nil {
			http.Error(w, `{"error":{"code":"invalid_format"}}`, http.StatusBadRequest)
			return
		}
		mu.Lock()
		id, seen := ids[body.Ref]
		if !seen {
			id = fmt.Sprintf("cus_deep%d", len(ids)+1)
			ids[body.Ref] = id
		}
		mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusCreated)
		fmt.Fprintf(w, `{"status":"success","data":{"id":%q,"echo":%s}}`, id, deep)
	}))
	t.Cleanup(srv.Close)

	j := newJob(t, 5)
	r := run(t, []string{"ZENTRA_SECRET_KEY=sk_sandbox_e2e_deep_answer"},
		"run", "--api-url", srv.URL, "--mapping", j.mapping, "--out", j.out, "--rate", "1000/s", j.input)
	require.Equal(t, 0, r.code, r.stderr)
	lines := j.results(t)
	require.Len(t, lines, 5)
	for i, l := range lines {
		assert.Equal(t, "created", l.Status, "row %d: %s", l.Row, l.Error)
		assert.Equal(t, ids["crm-"+j.rows[i][0]], l.CustomerID, "row %d", l.Row)
		assert.NotEmpty(t, l.CustomerID)
	}
}

// TestE2EReaderWideFile: a file of 100,000 columns gets a starter mapping from `mapping` (a page, listing
// the first columns left out and how many more there are) that `run --mapping` then accepts and imports
// with, in a few seconds. Before, both took a minute (column handling grew with the square of the
// columns), and `mapping` refused its own output as larger than a mapping file may be.
func TestE2EReaderWideFile(t *testing.T) {
	t.Parallel()
	const n = 100_000
	var b strings.Builder
	b.WriteString("Customer Id,First Name,Email")
	for i := 3; i < n; i++ {
		fmt.Fprintf(&b, ",c%d", i)
	}
	b.WriteString("\n")
	for r := 1; r <= 3; r++ {
		fmt.Fprintf(&b, "10000%d,Ada,ada%d@example.com%s\n", r, r, strings.Repeat(",", n-3))
	}
	dir := t.TempDir()
	input := filepath.Join(dir, "wide.csv")
	require.NoError(t, os.WriteFile(input, []byte(b.String()), 0o600))

	m := run(t, nil, "mapping", input)
	require.Equal(t, 0, m.code, m.stderr)
	assert.Contains(t, m.stdout, `# And 99897 more columns not mapped, not listed: "c103" to "c99999".`)
	mapping := filepath.Join(dir, "mapping.yaml")
	require.NoError(t, os.WriteFile(mapping, []byte(m.stdout), 0o600))

	sb := startSandbox(t, sandbox.Config{})
	r := run(t, keyEnv(sb), "run", "--api-url", sb.URL, "--mapping", mapping, "--out", filepath.Join(dir, "job"), "--rate", "1000/s", "--carry", "c99999", input)
	require.Equal(t, 0, r.code, r.stderr)
	assert.Len(t, sb.Server.Customers(), 3)
}
