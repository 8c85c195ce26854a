package main

import (
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/zentra/zentra-import/jobdir"
	"github.com/zentra/zentra-import/sandbox"
)

// headerNote is the note, before any row, about the header's two unnamed columns at its end.
const headerNote = "the header ends in 2 columns without a name, columns 7 to 8 (a spreadsheet leaves such columns): they are ignored, and a row with a value in one is rejected"

// headerRejected is the reason of a row with a value under column 7, which has no name.
const headerRejected = "line 4, column 7: a value in a column the header does not name (columns 7 to 8 have no name and are ignored): name the column in the header, or move the value to the column it belongs to"

// headerFramed rewrites the job's input with a title line above its header and a footer below its rows,
// as a report export writes them, CRLF when crlf.
func headerFramed(t *testing.T, j *job, footer string, crlf bool) {
	t.Helper()
	data, err := os.ReadFile(j.input)
	require.NoError(t, err)
	text := "Customer export 2026-11-30 (Lagos branch)\n" + string(data) + footer + "\n"
	if crlf {
		text = strings.ReplaceAll(text, "\n", "\r\n")
	}
	require.NoError(t, os.WriteFile(j.input, []byte(text), 0o600))
}

// headerMapping writes the job's mapping with the csv: options given.
func headerMapping(t *testing.T, j *job, csvOptions string) {
	t.Helper()
	m := strings.Replace(e2eMapping, "csv: {delimiter: auto, encoding: auto}", "csv: {delimiter: auto, encoding: auto, "+csvOptions+"}", 1)
	require.NoError(t, os.WriteFile(j.mapping, []byte(m), 0o600))
}

// TestE2EHeaderUnnamedColumns: a spreadsheet export whose header ends in two empty names (a,b,c,,) is
// read: mapping, validate and run each say once, before any row, that those columns are ignored; every
// row is created but the one with a value under column 7, which is rejected naming the column; and
// rejects.csv, whose header ends in its error column, is read back. Before, mapping and run refused the
// file with exit 2, advising to delete the columns in a spreadsheet.
func TestE2EHeaderUnnamedColumns(t *testing.T) {
	t.Parallel()
	j := newJob(t, 6)
	data, err := os.ReadFile(j.input)
	require.NoError(t, err)
	lines := strings.SplitAfter(strings.TrimSuffix(string(data), "\n"), "\n")
	for i := range lines {
		lines[i] = strings.TrimSuffix(lines[i], "\n") + ",,\n"
	}
	lines[3] = strings.TrimSuffix(lines[3], ",,\n") + ",VIP,\n" // row 3, line 4: a value under column 7
	require.NoError(t, os.WriteFile(j.input, []byte(strings.Join(lines, "")), 0o600))

	m := run(t, nil, "mapping", j.input)
	require.Equal(t, 0, m.code, m.stderr)
	assert.Contains(t, m.stdout, "  # T"+headerNote[1:]+".\n")
	assert.Contains(t, m.stdout, "external_reference: {column: Customer Id")

	out := filepath.Join(j.dir, "validate")
	v := run(t, nil, "validate", "--mapping", j.mapping, "--out", out, j.input)
	require.Equal(t, 1, v.code, v.stderr)
	assert.Equal(t, 1, strings.Count(v.stderr, headerNote), v.stderr)
	assert.Less(t, strings.Index(v.stderr, "warning: "+headerNote), strings.Index(v.stderr, "row 3"), "the note comes before any row")
	assert.Contains(t, v.stderr, "row 3: "+headerRejected)

	sb := startSandbox(t, sandbox.Config{})
	r := run(t, keyEnv(sb), j.args(sb, "--rate", "1000/s")...)
	require.Equal(t, 1, r.code, r.stderr)
	assert.Equal(t, 1, strings.Count(r.stderr, headerNote), "the note, once: %s", r.stderr)
	assert.Len(t, sb.Server.Customers(), 5, "every row but the one with a value under an unnamed column")
	results := j.results(t)
	require.Len(t, results, 6)
	for _, l := range results {
		if l.Row == 3 {
			assert.Equal(t, "rejected", l.Status)
			assert.Equal(t, headerRejected, l.Error)
			continue
		}
		assert.Equal(t, "created", l.Status, "row %d: %s", l.Row, l.Error)
	}
	rejects, err := os.ReadFile(filepath.Join(j.out, "rejects.csv"))
	require.NoError(t, err)
	assert.Equal(t, "Customer Id,First Name,Last Name,E-mail,Mobile,Country,error\n"+
		strings.TrimSuffix(lines[3], "\n")+`,"`+headerRejected+"\"\n", string(rejects),
		"the header ends in the error column; the row keeps its value, so that it stays rejected until it is fixed")

	// Without --mapping, the inferred mapping reads it the same way.
	inferred := filepath.Join(j.dir, "inferred")
	r = run(t, keyEnv(sb), "run", "--api-url", sb.URL, "--out", inferred, "--rate", "1000/s", j.input)
	require.Equal(t, 1, r.code, r.stderr)
	assert.Equal(t, 1, strings.Count(r.stderr, headerNote), r.stderr)
}

// TestE2EHeaderTitleAndFooter: a report export with a title line above its header and a `Total records:
// 40` footer below its rows: mapping proposes skip_lines: 1 and skip_footer: 1, saying what it saw; run
// with the printed mapping creates exactly the 40 customers, the footer is no rejected row, and the
// log says what was left out; validate counts 40 valid rows; rejects.csv has the title and the footer,
// so that fed back with the same mapping it imports its fixed rows and nothing else. Before, mapping took
// the title for the header (one column, and every row rejected), and the footer was a rejected row.
func TestE2EHeaderTitleAndFooter(t *testing.T) {
	t.Parallel()
	const n = 40
	j := newJob(t, n)
	headerFramed(t, j, fmt.Sprintf("Total records: %d", n), true)

	m := run(t, nil, "mapping", j.input)
	require.Equal(t, 0, m.code, m.stderr)
	assert.Contains(t, m.stdout, `  skip_lines: 1  # line 1 is a title, not the header: "Customer export 2026-11-30 (Lagos branch)" (the header is line 2, with 6 names)`+"\n")
	assert.Contains(t, m.stdout, `  skip_footer: 1  # the last line is a footer, not a row: "Total records: 40" (the header names 6 columns); or footer: "^Total records:"`)
	assert.Contains(t, m.stdout, "external_reference: {column: Customer Id")
	printed := filepath.Join(j.dir, "printed.yaml")
	require.NoError(t, os.WriteFile(printed, []byte(m.stdout), 0o600))

	sb := startSandbox(t, sandbox.Config{})
	r := run(t, keyEnv(sb), "run", "--api-url", sb.URL, "--mapping", printed, "--out", j.out, "--rate", "1000/s", j.input)
	require.Equal(t, 0, r.code, r.stderr)
	assert.Len(t, sb.Server.Customers(), n, "exactly the data rows")
	assert.Equal(t, n, sb.Server.Stats().Creates)
	results := j.results(t)
	require.Len(t, results, n, "no line for the title or the footer")
	for i, l := range results {
		assert.Equal(t, "created", l.Status, "row %d: %s", l.Row, l.Error)
		assert.Equal(t, j.rows[i][0], l.ExternalReference)
	}
	assert.Contains(t, r.stderr, fmt.Sprintf("left out the footer, not rows: line %d (csv: skip_footer: 1)", n+3))
	assert.NotContains(t, r.stderr, "rejected 1")
	rejects, err := os.ReadFile(filepath.Join(j.out, "rejects.csv"))
	require.NoError(t, err)
	assert.Equal(t, "Customer export 2026-11-30 (Lagos branch)\r\nCustomer Id,First Name,Last Name,E-mail,Mobile,Country,error\r\nTotal records: 40\r\n", string(rejects))

	v := run(t, nil, "validate", "--mapping", printed, "--out", filepath.Join(j.dir, "validate"), j.input)
	require.Equal(t, 0, v.code, v.stderr)
	sum, err := jobdir.ReadSummary(filepath.Join(j.dir, "validate"))
	require.NoError(t, err)
	assert.Equal(t, n, sum.Rows)
	assert.Equal(t, n, sum.Counts["valid"])

	// A row broken in a second file of the same export is rejected; its rejects.csv, fixed and fed back
	// with the same mapping, creates that customer and nothing else: the footer is not taken for a row,
	// nor the last row for the footer.
	second := newJob(t, 3)
	data, err := os.ReadFile(second.input)
	require.NoError(t, err)
	broken := strings.ReplaceAll(string(data), "\n10000", "\n20000") // references of their own
	broken = strings.ReplaceAll(broken, "@example.ng,", "@,")        // every email invalid; the phones are valid
	require.NoError(t, os.WriteFile(second.input, []byte(broken), 0o600))
	headerFramed(t, second, "Total records: 3", false)
	r = run(t, keyEnv(sb), "run", "--api-url", sb.URL, "--mapping", printed, "--out", second.out, "--rate", "1000/s", second.input)
	require.Equal(t, 1, r.code, r.stderr)
	fixed := filepath.Join(second.dir, "fixed.csv")
	rejects, err = os.ReadFile(filepath.Join(second.out, "rejects.csv"))
	require.NoError(t, err)
	require.Equal(t, 3, strings.Count(string(rejects), "not a valid email address"), string(rejects))
	require.NoError(t, os.WriteFile(fixed, []byte(strings.ReplaceAll(string(rejects), "@,", "@example.ng,")), 0o600))
	before := len(sb.Server.Customers())
	r = run(t, keyEnv(sb), "run", "--api-url", sb.URL, "--mapping", printed, "--out", filepath.Join(second.dir, "fixed"), "--rate", "1000/s", fixed)
	require.Equal(t, 0, r.code, r.stderr)
	assert.Len(t, sb.Server.Customers(), before+3, "the three fixed rows, and no footer")
}

// TestE2EHeaderFooterResume: kill -9 a job reading a file with a title and a footer, several times, and
// run it again until it finishes: every data row once, with the sandbox's id, the footer never a row,
// whether skip_footer or a footer pattern says where it is. A resumed run finds the footer from where
// it starts reading.
func TestE2EHeaderFooterResume(t *testing.T) {
	t.Parallel()
	for i, framing := range []string{"skip_lines: 1, skip_footer: 1", `skip_lines: 1, footer: "^Total records:"`} {
		t.Run(framing, func(t *testing.T) {
			t.Parallel()
			sb := startSandbox(t, sandbox.Config{Latency: time.Millisecond, Jitter: 2 * time.Millisecond, Seed: int64(i + 1)})
			const rows = 300
			j := newJob(t, rows)
			headerFramed(t, j, fmt.Sprintf("Total records: %d", rows), i == 0)
			headerMapping(t, j, framing)
			args := j.args(sb, "--rate", "5000/s", "--workers", "6")
			// Kill at 2 to 4 moments, each after some more creates, leaving the last run rows to do.
			var moments []int
			rng := rand.New(rand.NewPCG(uint64(i), 41))
			for at := 10 + rng.IntN(rows/6); at < rows-60 && len(moments) < 4; at += 10 + rng.IntN(rows/6) {
				moments = append(moments, at)
			}
			require.GreaterOrEqual(t, len(moments), 2)
			for _, at := range moments {
				p := start(t, keyEnv(sb), args...)
				p.waitFor(t, func() bool { return sb.Server.Stats().Creates >= at })
				p.signal(t, syscall.SIGKILL)
				require.Equal(t, -1, p.exitCode(), "killed at %d creates", at)
			}
			r := run(t, keyEnv(sb), args...)
			require.Equal(t, 0, r.code, r.stderr)
			requireExactlyOnce(t, j, sb)
			assert.Contains(t, r.stderr, fmt.Sprintf("left out the footer, not rows: line %d", rows+3))
			sum, err := jobdir.ReadSummary(j.out)
			require.NoError(t, err)
			assert.Equal(t, rows, sum.Rows, "the footer is no row of the job")
		})
	}
}
