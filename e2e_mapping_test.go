package main

// End-to-end tests of what the mapping makes of legacy values: names, dates. A recorder in front of a
// real sandbox keeps the bodies the binary sent, which the sandbox itself never stores.

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/zentra/zentra-import/sandbox"
)

// bodyRecorder is a sandbox behind a recorder of the create bodies it received.
type bodyRecorder struct {
	url, key string
	mu       sync.Mutex
	bodies   map[string]map[string]any // by external_reference
}

func startBodyRecorder(t *testing.T) *bodyRecorder {
	t.Helper()
	key := "sk_sandbox_e2e_recorder"
	sb, err := sandbox.New(sandbox.Config{Key: key})
	require.NoError(t, err)
	rec := &bodyRecorder{key: key, bodies: map[string]map[string]any{}}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodPost {
			data, err := io.ReadAll(r.Body)
			if err != nil {
				http.Error(w, "read", http.StatusBadRequest)
				return
			}
			var body map[string]any
			if json.Unmarshal(data, &body) == nil {
				ref, _ := body["external_reference"].(string)
				rec.mu.Lock()
				rec.bodies[ref] = body
				rec.mu.Unlock()
			}
			r.Body = io.NopCloser(bytes.NewReader(data))
		}
		sb.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	rec.url = srv.URL
	return rec
}

func (b *bodyRecorder) body(t *testing.T, ref string) map[string]any {
	t.Helper()
	b.mu.Lock()
	defer b.mu.Unlock()
	body, ok := b.bodies[ref]
	require.True(t, ok, "a request was sent for %s", ref)
	return body
}

func (b *bodyRecorder) sent(ref string) bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	_, ok := b.bodies[ref]
	return ok
}

// TestInferredNamesAreSentAsWritten: a run without --mapping sends legal names as the export wrote them,
// while title, asked for, keeps the particles inside a name in lower case.
func TestInferredNamesAreSentAsWritten(t *testing.T) {
	t.Parallel()
	rec := startBodyRecorder(t)
	dir := t.TempDir()
	input := filepath.Join(dir, "names.csv")
	require.NoError(t, os.WriteFile(input, []byte("Customer Id,First Name,Last Name,E-mail\n"+
		"N1,Johanna,van der Berg,johanna@example.com\nN2,JUAN,DE LA CRUZ,juan@example.com\nN3,Ahmad,bin Ali,ahmad@example.com\n"), 0o600))
	env := []string{"ZENTRA_SECRET_KEY=" + rec.key}
	r := run(t, env, "run", "--api-url", rec.url, "--out", filepath.Join(dir, "inferred"), input)
	require.Equal(t, 0, r.code, r.stderr)
	assert.Contains(t, r.stderr, "to capitalise, use transform: [trim, title]", "the shown mapping says how")
	assert.Equal(t, "van der Berg", rec.body(t, "N1")["last_name"])
	assert.Equal(t, "DE LA CRUZ", rec.body(t, "N2")["last_name"])
	assert.Equal(t, "JUAN", rec.body(t, "N2")["first_name"])

	mapping := filepath.Join(dir, "title.yaml")
	require.NoError(t, os.WriteFile(mapping, []byte("fields:\n  external_reference: {template: \"t-{Customer Id}\"}\n"+
		"  first_name: {column: First Name, transform: [trim, title]}\n  last_name: {column: Last Name, transform: [trim, title]}\n"), 0o600))
	r = run(t, env, "run", "--api-url", rec.url, "--mapping", mapping, "--out", filepath.Join(dir, "title"), input)
	require.Equal(t, 0, r.code, r.stderr)
	assert.Equal(t, "Van der Berg", rec.body(t, "t-N1")["last_name"])
	assert.Equal(t, "De la Cruz", rec.body(t, "t-N2")["last_name"])
	assert.Equal(t, "Juan", rec.body(t, "t-N2")["first_name"])
	assert.Equal(t, "Bin Ali", rec.body(t, "t-N3")["last_name"], "a particle that begins the field is capitalised")
}

// TestBirthDatesInThePastOnly: two-digit years under pivot: past are never in the future, and a range
// rejects what no customer's birth date can be; the inferred mapping does both for a date of birth.
func TestBirthDatesInThePastOnly(t *testing.T) {
	t.Parallel()
	rec := startBodyRecorder(t)
	dir := t.TempDir()
	input := filepath.Join(dir, "dob.csv")
	require.NoError(t, os.WriteFile(input, []byte("Customer Id,Last Name,Date of Birth\n"+
		"D1,Okafor,1.2.45\nD2,Eze,12.11.03\nD3,Obi,30.06.78\nD4,Ade,7.3.51\n"), 0o600))
	env := []string{"ZENTRA_SECRET_KEY=" + rec.key}

	// Without a pivot, 45 is 2045: the range refuses it as after today, naming the field, never the value.
	noPivot := filepath.Join(dir, "no-pivot.yaml")
	require.NoError(t, os.WriteFile(noPivot, []byte("fields:\n  external_reference: {template: \"np-{Customer Id}\"}\n"+
		"  date_of_birth: {column: Date of Birth, transform: [{date: D.M.YY}], validate: {range: {min: 1900-01-01, max: today}}}\n"), 0o600))
	r := run(t, env, "run", "--api-url", rec.url, "--mapping", noPivot, "--out", filepath.Join(dir, "np"), input)
	require.Equal(t, 1, r.code, r.stderr)
	assert.Contains(t, r.stderr, "date_of_birth (column Date of Birth): after today (")
	assert.False(t, rec.sent("np-D1"), "2045-02-01 is not sent")
	assert.False(t, rec.sent("np-D4"), "2051-03-07 is not sent")
	assert.Equal(t, "2003-11-12", rec.body(t, "np-D2")["date_of_birth"])

	// The inferred mapping reads them in the past.
	r = run(t, env, "run", "--api-url", rec.url, "--out", filepath.Join(dir, "inferred"), input)
	require.Equal(t, 0, r.code, r.stderr)
	assert.Contains(t, r.stderr, "pivot: past")
	assert.Contains(t, r.stderr, "{range: {min: 1900-01-01, max: today}}")
	for ref, want := range map[string]string{"D1": "1945-02-01", "D2": "2003-11-12", "D3": "1978-06-30", "D4": "1951-03-07"} {
		assert.Equal(t, want, rec.body(t, ref)["date_of_birth"], ref)
	}

	// A four-digit year before 1900 is rejected by the range; validate says so before anything is sent.
	old := filepath.Join(dir, "old.csv")
	require.NoError(t, os.WriteFile(old, []byte("Customer Id,Last Name,Date of Birth\nO1,Okafor,01.01.1850\nO2,Eze,01.01.1950\n"), 0o600))
	m := filepath.Join(dir, "old.yaml")
	require.NoError(t, os.WriteFile(m, []byte("fields:\n  external_reference: {column: Customer Id}\n"+
		"  date_of_birth: {column: Date of Birth, transform: [{date: DD.MM.YYYY}], validate: {range: {min: 1900-01-01, max: today}}}\n"), 0o600))
	v := run(t, nil, "validate", "--mapping", m, "--out", filepath.Join(dir, "v"), old)
	require.Equal(t, 1, v.code, v.stderr)
	assert.Contains(t, v.stderr, "row 1")
	assert.Contains(t, v.stderr, "before 1900-01-01")
	assert.NotContains(t, v.stderr, "1850", "the reason never holds the value")
	assert.False(t, strings.Contains(v.stderr, "row 2"), "1950 is fine: %s", v.stderr)
}

// TestReferencesWithLostLeadingZeros: a spreadsheet turned 0001085 into 1085; pad_left makes them one
// reference again, so the second is a duplicate and not a second customer. The same run strips mailto:
// from an email copied from a link and reads a 00-prefixed international number.
func TestReferencesWithLostLeadingZeros(t *testing.T) {
	t.Parallel()
	rec := startBodyRecorder(t)
	dir := t.TempDir()
	input := filepath.Join(dir, "refs.csv")
	require.NoError(t, os.WriteFile(input, []byte("Account,Name,Email,Phone\n"+
		"0001085,Ada,mailto:ada@example.com,0044 20 7946 0000\n1085,Ada,ada@example.com,\n0002001,Bola,bola@example.com,\n"), 0o600))
	m := filepath.Join(dir, "m.yaml")
	require.NoError(t, os.WriteFile(m, []byte("fields:\n"+
		"  external_reference: {column: Account, transform: [trim, {pad_left: {width: 7, char: \"0\"}}, {replace: {regex: \"^\", with: \"acct-\"}}]}\n"+
		"  first_name: {column: Name}\n"+
		"  email: {column: Email, transform: [trim], validate: email}\n"+
		"  phone: {column: Phone, transform: [phone], region: NG, optional: true}\n"), 0o600))
	r := run(t, []string{"ZENTRA_SECRET_KEY=" + rec.key}, "run", "--api-url", rec.url, "--mapping", m, "--out", filepath.Join(dir, "job"), input)
	require.Equal(t, 1, r.code, r.stderr)
	assert.Contains(t, r.stderr, "row=2 external_reference=acct-0001085")
	assert.Contains(t, r.stderr, "external_reference: duplicate of row 1")
	body := rec.body(t, "acct-0001085")
	assert.Equal(t, "ada@example.com", body["email"], "mailto: is not sent")
	assert.Equal(t, "+442079460000", body["phone"])
	assert.True(t, rec.sent("acct-0002001"))
	rec.mu.Lock()
	assert.Len(t, rec.bodies, 2, "two customers, not three")
	rec.mu.Unlock()
}

// TestTargetTyposAreWarnedBeforeAnyRow: firstname instead of first_name would create customers without
// a first name; run and validate say so before any row, and allow_unknown silences it.
func TestTargetTyposAreWarnedBeforeAnyRow(t *testing.T) {
	t.Parallel()
	sb := startSandbox(t, sandbox.Config{})
	dir := t.TempDir()
	input := filepath.Join(dir, "c.csv")
	require.NoError(t, os.WriteFile(input, []byte("Id,First Name\n1,Ada\n2,Bola\n"), 0o600))
	m := filepath.Join(dir, "m.yaml")
	require.NoError(t, os.WriteFile(m, []byte("fields:\n  external_reference: {column: Id}\n  firstname: {column: First Name}\n"), 0o600))
	const warning = "fields.firstname (line 3): not a documented field; did you mean first_name?"

	v := run(t, nil, "validate", "--mapping", m, "--out", filepath.Join(dir, "v"), input)
	require.Equal(t, 0, v.code, v.stderr)
	assert.Contains(t, v.stderr, "warning: "+warning)
	assert.Contains(t, v.stderr, "allow_unknown")

	r := run(t, keyEnv(sb), "run", "--api-url", sb.URL, "--mapping", m, "--out", filepath.Join(dir, "job"), "--log-format", "json", input)
	require.Equal(t, 0, r.code, r.stderr)
	recs := requireJSONLines(t, r.stderr)
	rec := recordWith(t, recs, warning)
	assert.Equal(t, "WARN", rec["level"])
	assert.Equal(t, "firstname", rec["target"])
	assert.Equal(t, recs[0]["msg"], warning, "before anything else")

	require.NoError(t, os.WriteFile(m, []byte("fields:\n  external_reference: {column: Id}\n  firstname: {column: First Name}\nallow_unknown: [firstname]\n"), 0o600))
	v = run(t, nil, "validate", "--mapping", m, "--out", filepath.Join(dir, "v2"), input)
	require.Equal(t, 0, v.code, v.stderr)
	assert.NotContains(t, v.stderr, "warning")
}

// TestLossyExportIsNoticed: a Windows-1252 export whose system had already replaced characters it could
// not encode with "?" is valid throughout; validate says which dialect auto chose, and warns about the
// names with the count and the first rows. mapping says the dialect too.
func TestLossyExportIsNoticed(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	input := filepath.Join(dir, "export.csv")
	// Windows-1252: é is 0xE9. Two names lost a character to "?".
	data := "Customer Id;First Name;Last Name\r\nL1;Jos\xe9;?ukasiewicz\r\nL2;Chinwe?;Okafor\r\nL3;Ad\xe9;Obi\r\n"
	require.NoError(t, os.WriteFile(input, []byte(data), 0o600))
	m := run(t, nil, "mapping", input)
	require.Equal(t, 0, m.code, m.stderr)
	assert.Contains(t, m.stdout, `delimiter: auto  # read as ";" (semicolon)`)
	assert.Contains(t, m.stdout, "encoding: auto   # read as windows-1252")

	v := run(t, nil, "validate", "--out", filepath.Join(dir, "v"), input)
	require.Equal(t, 0, v.code, v.stderr)
	assert.Contains(t, v.stderr, `delimiter ";" (semicolon), encoding windows-1252 (both detected: csv: auto)`)
	assert.Contains(t, v.stderr, `warning: 2 rows have a "?" in a name (last_name, first_name; rows 1, 2)`)
	assert.Contains(t, v.stderr, "export the file again as UTF-8")
	assert.NotContains(t, v.stderr, "ukasiewicz", "no value in the warning")
}

// TestInferredReferenceWithRepeats: an id column whose values repeat is still the reference: the repeats
// are what the duplicate check is for, and validate rejects them.
func TestInferredReferenceWithRepeats(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	input := filepath.Join(dir, "accounts.csv")
	var b strings.Builder
	b.WriteString("Customer Id,Account No,First Name,E-mail\n")
	for i := 1; i <= 10; i++ {
		id := i
		if i > 7 {
			id = i - 7 // rows 8-10 are second accounts of customers 1-3
		}
		fmt.Fprintf(&b, "C%d,A%03d,Name%d,c%d@example.com\n", id, i, id, id)
	}
	require.NoError(t, os.WriteFile(input, []byte(b.String()), 0o600))
	m := run(t, nil, "mapping", input)
	require.Equal(t, 0, m.code, m.stderr)
	assert.Contains(t, m.stdout, "external_reference: {column: Customer Id")
	assert.Contains(t, m.stdout, "3 of 10 samples are a repeat of an earlier value")
	mapping := filepath.Join(dir, "m.yaml")
	require.NoError(t, os.WriteFile(mapping, []byte(m.stdout), 0o600))
	v := run(t, nil, "validate", "--mapping", mapping, "--out", filepath.Join(dir, "v"), input)
	require.Equal(t, 1, v.code, v.stderr)
	assert.Contains(t, v.stderr, "row 8 (C1): external_reference: duplicate of row 1")
	assert.Contains(t, v.stderr, "valid 7 · rejected 3")

	// No id column at all: the example names a column the file has.
	none := filepath.Join(dir, "none.csv")
	require.NoError(t, os.WriteFile(none, []byte("Full Name,Balance\nAda Obi,10\nAda Obi,12\n"), 0o600))
	m = run(t, nil, "mapping", none)
	require.Equal(t, 2, m.code, m.stderr)
	assert.Contains(t, m.stdout, `external_reference: {template: "crm-{Full Name}"}`)
	assert.NotContains(t, m.stdout, "Customer Id")
}
