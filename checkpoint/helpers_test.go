package checkpoint

import (
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"sort"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestMain lets the test binary act as a child process: a journal writer to be killed, or one that
// compacts, rebinds or reads outcomes.
func TestMain(m *testing.M) {
	switch os.Getenv(childEnv) {
	case "":
		os.Exit(m.Run())
	case "writer":
		os.Exit(childWriter())
	case "outcomes":
		os.Exit(ChildOutcomes())
	case "compactor":
		os.Exit(childCompactor())
	case "rebinder":
		os.Exit(childRebinder())
	default:
		fmt.Fprintln(os.Stderr, "unknown child mode", os.Getenv(childEnv))
		os.Exit(2)
	}
}

const childEnv = "ZI_CHECKPOINT_CHILD"

var testBinding = Binding{
	InputSize:   123456,
	InputSHA256: "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08",
	MappingHash: "2c26b46b68ffc68ff99b453c1d30413413422d706483bfa0f98a5e886266e7ae",
	APIURL:      "https://sandbox.api.usezentra.com",
}

// Row r of the test input starts at 100*r and ends where row r+1 starts.
func rowOffset(r int) int64 { return int64(100 * r) }

// testOutcome is a deterministic outcome for a row, varied by a seed.
func testOutcome(row int, st Status, seed int) Outcome {
	o := Outcome{Row: row, Offset: rowOffset(row), End: rowOffset(row + 1), Ref: fmt.Sprintf("crm-%d", row), Status: st, Attempts: 1 + seed%3}
	switch st {
	case StatusCreated:
		o.CustomerID, o.HTTPStatus = fmt.Sprintf("cus_%d_%d", row, seed), 201
	case StatusExisting:
		o.CustomerID, o.HTTPStatus = fmt.Sprintf("cus_%d", row), 409
	case StatusFailed:
		o.HTTPStatus, o.Error = 503, fmt.Sprintf("service unavailable (try %d)", seed)
	case StatusRejected:
		o.Attempts, o.Error = 0, "email: not an address"
		if seed%2 == 1 {
			o.Ref = "" // a row whose reference could not be built
		}
	}
	return o
}

// op is one journal call, for the model.
type op struct {
	kind        recType
	row         int
	o           Outcome
	total, code int
}

func startOp(row int) op          { return op{kind: recStart, row: row} }
func outcomeOp(o Outcome) op      { return op{kind: recOutcome, row: o.Row, o: o} }
func finishOp(total, code int) op { return op{kind: recFinish, total: total, code: code} }

// model computes what a journal holding ops in this order must say, the plain way.
type model struct {
	latest   map[int]Outcome
	inFlight map[int]bool // an in-flight record after the latest outcome (or no outcome)
	finish   *op
	stale    bool // an outcome after the latest finish
	records  int
	refs     []string
}

func newModel(ops []op) *model {
	m := &model{latest: map[int]Outcome{}, inFlight: map[int]bool{}}
	for i := range ops {
		m.apply(ops[i])
	}
	return m
}

func (m *model) apply(o op) {
	m.records++
	switch o.kind {
	case recStart:
		m.inFlight[o.row] = true
	case recOutcome:
		m.latest[o.row] = o.o
		m.inFlight[o.row] = false
		m.stale = m.finish != nil
		if o.o.Ref != "" {
			m.refs = append(m.refs, fmt.Sprintf("%s@%d", o.o.Ref, o.row))
		}
	case recFinish:
		m.finish = &o
		m.stale = false
	}
}

func (m *model) done(row int, retryFailed bool) bool {
	o, ok := m.latest[row]
	return ok && !m.inFlight[row] && (o.Status != StatusFailed || !retryFailed)
}

// check compares a State with the model.
func (m *model) check(t *testing.T, st *State, retryFailed bool) {
	t.Helper()
	maxRow := 0
	for r := range m.inFlight {
		maxRow = max(maxRow, r)
	}
	counts := map[Status]int{}
	inFlight, resume := 0, 0
	for r := 1; r <= maxRow+1; r++ {
		if m.inFlight[r] {
			inFlight++
		}
		if m.done(r, retryFailed) {
			counts[m.latest[r].Status]++
		} else if resume == 0 {
			resume = r
		}
		require.Equal(t, m.done(r, retryFailed), st.Done(r), "Done(%d)", r)
	}
	assert.Equal(t, resume, st.ResumeRow, "ResumeRow")
	wantOffset := int64(-1)
	if resume > 1 {
		wantOffset = rowOffset(resume)
	}
	assert.Equal(t, wantOffset, st.ResumeOffset, "ResumeOffset")
	assert.Equal(t, inFlight, st.InFlight, "InFlight")
	assert.Equal(t, counts, st.Counts, "Counts")
	assert.Equal(t, m.records == 0, st.Fresh, "Fresh")
	if m.finish != nil {
		assert.Equal(t, m.finish.total, st.TotalRows, "TotalRows")
		assert.Equal(t, m.finish.code, st.ExitCode, "ExitCode")
		assert.Equal(t, !m.stale && resume > m.finish.total, st.Complete, "Complete")
	} else {
		assert.False(t, st.Complete, "Complete")
	}
}

// checkOutcomes compares Outcomes with the model's latest outcomes.
func (m *model) checkOutcomes(t *testing.T, j *Journal) {
	t.Helper()
	var want []Outcome
	for _, o := range m.latest {
		want = append(want, o)
	}
	sort.Slice(want, func(a, b int) bool { return want[a].Row < want[b].Row })
	assert.Equal(t, want, collect(t, j))
}

func collect(t *testing.T, j *Journal) []Outcome {
	t.Helper()
	var got []Outcome
	require.NoError(t, j.Outcomes(func(o Outcome) error {
		got = append(got, o)
		return nil
	}))
	return got
}

// apply performs ops on a journal in order.
func apply(t *testing.T, j *Journal, ops []op) {
	t.Helper()
	for _, o := range ops {
		switch o.kind {
		case recStart:
			require.NoError(t, j.Start(o.row, rowOffset(o.row), rowOffset(o.row+1)))
		case recOutcome:
			require.NoError(t, j.Record(o.o))
		case recFinish:
			require.NoError(t, j.Finish(o.total, o.code))
		}
	}
}

// noCompaction keeps a journal's records in the order written, for tests that look at bytes.
var noCompaction = func() tuning { t := defaultTuning; t.compactRatio = 1e9; return t }()

// tinyTuning forces every memory bound to be hit: index pages evicted to the temporary file, read
// windows reloaded, records larger than a window, backpressure.
var tinyTuning = tuning{flushBytes: 64, maxPending: 256, maxOutcomes: 3, pageRows: 4, cachePages: 2, windowBytes: 96, windows: 2, compactRatio: 1.5}

func openT(t *testing.T, dir string, opts Options, tn tuning) (*Journal, *State) {
	t.Helper()
	j, st, err := open(dir, testBinding, opts, tn)
	require.NoError(t, err)
	t.Cleanup(func() { j.Close() })
	return j, st
}

// writeJournal writes ops to a new journal in dir and closes it.
func writeJournal(t *testing.T, dir string, ops []op) {
	t.Helper()
	j, _, err := open(dir, testBinding, Options{CommitEvery: time.Hour}, noCompaction)
	require.NoError(t, err)
	apply(t, j, ops)
	require.NoError(t, j.Close())
}

// randomOps makes a plausible history: runs over rows 1..n that start rows, record them (sometimes out of
// order, sometimes not at all), retry failed ones, and sometimes finish.
func randomOps(rng *rand.Rand, n, runs int) []op {
	var ops []op
	statuses := []Status{StatusCreated, StatusCreated, StatusCreated, StatusExisting, StatusFailed, StatusRejected}
	for run := 0; run < runs; run++ {
		var open []int
		for r := 1 + rng.IntN(n/2+1); r <= n; r++ {
			if rng.IntN(10) == 0 {
				continue // left for a later run
			}
			st := statuses[rng.IntN(len(statuses))]
			if st != StatusRejected {
				ops = append(ops, startOp(r))
			}
			if rng.IntN(8) == 0 {
				continue // interrupted: in flight, no outcome
			}
			open = append(open, r)
			// Workers finish out of order: record a random earlier-started row now and then.
			if len(open) > 3 || rng.IntN(2) == 0 {
				i := rng.IntN(len(open))
				row := open[i]
				open = append(open[:i], open[i+1:]...)
				ops = append(ops, outcomeOp(testOutcome(row, statuses[rng.IntN(len(statuses))], run)))
			}
		}
		for _, row := range open {
			ops = append(ops, outcomeOp(testOutcome(row, statuses[rng.IntN(len(statuses))], run)))
		}
		if rng.IntN(2) == 0 {
			ops = append(ops, finishOp(n, rng.IntN(2)))
		}
	}
	return ops
}

func fileMode(t *testing.T, path string) os.FileMode {
	t.Helper()
	fi, err := os.Stat(path)
	require.NoError(t, err)
	return fi.Mode().Perm()
}

func journalPath(dir string) string { return filepath.Join(dir, JournalFile) }
