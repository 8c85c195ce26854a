package ledger

import (
	"context"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestRecordRules: what a confirmation does to the entry the ledger has for its reference.
func TestRecordRules(t *testing.T) {
	t1, t2 := t0.Add(24*time.Hour), t0.Add(48*time.Hour)
	type step struct {
		job  string
		at   time.Time
		seed bool
		id   string
		out  Outcome
		dig  bool // with a digest
	}
	type want struct {
		id, job string
		at      time.Time
		out     Outcome
		digest  bool
		others  []string // other ids, oldest first
		clashes int      // conflicts returned, over all steps
	}
	for _, tc := range []struct {
		name  string
		steps []step
		want  want
	}{
		{"a new reference", []step{{"/j1", t0, false, "cus_1", Created, true}},
			want{"cus_1", "/j1", t0, Created, true, nil, 0}},
		{"the same outcome twice is one entry", []step{{"/j1", t0, false, "cus_1", Created, true}, {"/j1", t0, false, "cus_1", Created, true}},
			want{"cus_1", "/j1", t0, Created, true, nil, 0}},
		{"a newer confirmation, same id, moves when and by which job",
			[]step{{"/j1", t0, false, "cus_1", Created, true}, {"/j2", t1, false, "cus_1", Existing, true}},
			want{"cus_1", "/j2", t1, Existing, true, nil, 0}},
		{"a newer confirmation without a digest keeps the digest",
			[]step{{"/j1", t0, false, "cus_1", Created, true}, {"/j2", t1, false, "cus_1", Existing, false}},
			want{"cus_1", "/j2", t1, Existing, true, nil, 0}},
		{"an older confirmation, same id, changes nothing",
			[]step{{"/j2", t1, false, "cus_1", Existing, true}, {"/j1", t0, false, "cus_1", Created, true}},
			want{"cus_1", "/j2", t1, Existing, true, nil, 0}},
		{"an older confirmation adds a digest the entry lacks",
			[]step{{"/j2", t1, false, "cus_1", Existing, false}, {"/j1", t0, false, "cus_1", Created, true}},
			want{"cus_1", "/j2", t1, Existing, true, nil, 0}},
		{"a seed never moves an entry",
			[]step{{"/j1", t0, false, "cus_1", Created, false}, {"/import.csv", t2, true, "cus_1", Existing, false}},
			want{"cus_1", "/j1", t0, Created, false, nil, 0}},
		{"a seed fills the missing",
			[]step{{"/import.csv", t2, true, "cus_1", Existing, false}},
			want{"cus_1", "/import.csv", t2, Existing, false, nil, 0}},
		{"a newer, other id replaces the entry; the old one is kept",
			[]step{{"/j1", t0, false, "cus_1", Created, true}, {"/j2", t1, false, "cus_2", Created, false}},
			want{"cus_2", "/j2", t1, Created, false, []string{"cus_1"}, 1}},
		{"an older, other id is kept beside the entry",
			[]step{{"/j2", t1, false, "cus_2", Created, true}, {"/j1", t0, false, "cus_1", Created, true}},
			want{"cus_2", "/j2", t1, Created, true, []string{"cus_1"}, 1}},
		{"a seed's other id is kept beside the entry, however new",
			[]step{{"/j1", t0, false, "cus_1", Created, true}, {"/import.csv", t2, true, "cus_9", Existing, false}},
			want{"cus_1", "/j1", t0, Created, true, []string{"cus_9"}, 1}},
		{"an id that comes back leaves other_ids",
			[]step{{"/j1", t0, false, "cus_1", Created, true}, {"/j2", t1, false, "cus_2", Created, true}, {"/j3", t2, false, "cus_1", Existing, true}},
			want{"cus_1", "/j3", t2, Existing, true, []string{"cus_2"}, 2}},
		{"the same conflict twice is one other id",
			[]step{{"/j2", t1, false, "cus_2", Created, true}, {"/j1", t0, false, "cus_1", Created, true}, {"/j1", t0, false, "cus_1", Created, true}},
			want{"cus_2", "/j2", t1, Created, true, []string{"cus_1"}, 2}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			l := newLedger(t)
			clashes := 0
			for _, s := range tc.steps {
				c := Confirmed{Ref: "R", CustomerID: s.id, Outcome: s.out}
				if s.dig {
					c.Digest = digestT(t, l, "m1", body("R", s.id+"@example.com"))
				}
				got := recordT(t, l, Batch{API: testAPI, Job: s.job, At: s.at, Seed: s.seed, Outcomes: []Confirmed{c}})
				for _, k := range got {
					assert.Equal(t, "R", k.Ref)
					assert.NotEqual(t, k.Kept.CustomerID, k.Other.CustomerID)
				}
				clashes += len(got)
			}
			k := lookupOne(t, l, testAPI, "R")
			require.True(t, k.Found)
			assert.Equal(t, tc.want.id, k.CustomerID)
			assert.Equal(t, tc.want.job, k.Job)
			assert.Equal(t, tc.want.at, k.ConfirmedAt)
			assert.Equal(t, tc.want.out, k.Outcome)
			assert.Equal(t, tc.want.digest, k.Mapping() != "")
			shown, err := l.Show(t.Context(), testAPI, []string{"R"})
			require.NoError(t, err)
			var others []string
			for _, o := range shown[0].OtherIDs {
				others = append(others, o.CustomerID)
			}
			assert.Equal(t, tc.want.others, others)
			assert.Equal(t, tc.want.clashes, clashes)
		})
	}
}

// TestRecordConflictSays: a Conflict names both confirmations, by job and time.
func TestRecordConflictSays(t *testing.T) {
	l := newLedger(t)
	recordT(t, l, Batch{API: testAPI, Job: "/jobs/night-1", At: t0, Outcomes: []Confirmed{{Ref: "R", CustomerID: "cus_1", Outcome: Created}}})
	got := recordT(t, l, Batch{API: testAPI, Job: "/jobs/night-2", At: t0.Add(time.Hour), Outcomes: []Confirmed{{Ref: "R", CustomerID: "cus_2", Outcome: Created}}})
	assert.Equal(t, []Conflict{{Ref: "R",
		Kept:  Confirmation{CustomerID: "cus_2", Outcome: Created, Job: "/jobs/night-2", At: t0.Add(time.Hour)},
		Other: Confirmation{CustomerID: "cus_1", Outcome: Created, Job: "/jobs/night-1", At: t0}}}, got)
}

// TestRecordKeysByAPI: the same reference at two APIs is two entries.
func TestRecordKeysByAPI(t *testing.T) {
	l := newLedger(t)
	recordT(t, l, Batch{API: "https://api.zentra.example", Job: "/j", At: t0, Outcomes: []Confirmed{{Ref: "R", CustomerID: "cus_live", Outcome: Created}}})
	recordT(t, l, Batch{API: testAPI, Job: "/j", At: t0, Outcomes: []Confirmed{{Ref: "R", CustomerID: "cus_sandbox", Outcome: Created}}})
	assert.Equal(t, "cus_live", lookupOne(t, l, "https://api.zentra.example", "R").CustomerID)
	assert.Equal(t, "cus_sandbox", lookupOne(t, l, testAPI, "R").CustomerID)
	assert.False(t, lookupOne(t, l, "http://127.0.0.1:8080", "R").Found)
	shown, err := l.Show(t.Context(), "", []string{"R"})
	require.NoError(t, err)
	assert.Len(t, shown[0].Entries, 2)
}

func TestRecordRefusesWhatMustNotEnter(t *testing.T) {
	l := newLedger(t)
	other := newLedger(t)
	ok := Confirmed{Ref: "R", CustomerID: "cus_1", Outcome: Created}
	for _, tc := range []struct {
		name string
		b    Batch
		msg  string
	}{
		{"no API", Batch{Job: "/j", At: t0, Outcomes: []Confirmed{ok}}, "API"},
		{"a key for an API", Batch{API: "https://x/?key=SK_LIVE_abc123", Job: "/j", At: t0, Outcomes: []Confirmed{ok}}, "secret key"},
		{"no job", Batch{API: testAPI, At: t0, Outcomes: []Confirmed{ok}}, "job"},
		{"no time", Batch{API: testAPI, Job: "/j", Outcomes: []Confirmed{ok}}, "time"},
		{"no reference", Batch{API: testAPI, Job: "/j", At: t0, Outcomes: []Confirmed{{CustomerID: "cus_1", Outcome: Created}}}, "external_reference"},
		{"no id", Batch{API: testAPI, Job: "/j", At: t0, Outcomes: []Confirmed{{Ref: "R", Outcome: Created}}}, "customer id"},
		{"a failed row", Batch{API: testAPI, Job: "/j", At: t0, Outcomes: []Confirmed{{Ref: "R", CustomerID: "cus_1", Outcome: 3}}}, "only created and existing"},
		{"a NUL", Batch{API: testAPI, Job: "/j", At: t0, Outcomes: []Confirmed{{Ref: "R\x00", CustomerID: "cus_1", Outcome: Created}}}, "NUL"},
		{"another ledger's digest", Batch{API: testAPI, Job: "/j", At: t0, Outcomes: []Confirmed{{Ref: "R", CustomerID: "cus_1", Outcome: Created,
			Digest: digestT(t, other, "m1", body("R", "e"))}}}, "another ledger's key"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := l.Record(t.Context(), tc.b)
			require.Error(t, err)
			assert.Contains(t, err.Error(), tc.msg)
			assert.False(t, IsUnusable(err), "a caller's mistake, not the ledger's")
		})
	}
	// Nothing of a refused batch entered, not even its first, good outcome.
	_, err := l.Record(t.Context(), Batch{API: testAPI, Job: "/j", At: t0, Outcomes: []Confirmed{ok, {Ref: "S", Outcome: Created}}})
	require.Error(t, err)
	assert.False(t, lookupOne(t, l, testAPI, "R").Found)
	stats, err := l.Stats(t.Context())
	require.NoError(t, err)
	assert.Empty(t, stats.APIs, "no API row either")
}

// TestRecordCancelledKeepsNothing: a batch whose context ends half-way leaves nothing of itself.
func TestRecordCancelledKeepsNothing(t *testing.T) {
	l := newLedger(t)
	b := Batch{API: testAPI, Job: "/j", At: t0}
	for i := range 20000 {
		b.Outcomes = append(b.Outcomes, Confirmed{Ref: "R" + strconv.Itoa(i), CustomerID: "cus_" + strconv.Itoa(i), Outcome: Created})
	}
	ctx, cancel := context.WithCancel(t.Context())
	go func() { time.Sleep(20 * time.Millisecond); cancel() }()
	_, err := l.Record(ctx, b)
	if err == nil {
		t.Skip("the batch was written before the cancel")
	}
	require.ErrorIs(t, err, context.Canceled)
	n := 0
	require.NoError(t, l.Export(t.Context(), "", func(Entry) error { n++; return nil }))
	assert.Zero(t, n)
}

// TestViews: show, export, stats and mappings say what the ledger holds, never a hash.
func TestViews(t *testing.T) {
	l := newLedger(t)
	ctx := t.Context()
	recordT(t, l, Batch{API: testAPI, Job: "/jobs/night-1", At: t0, Outcomes: []Confirmed{
		{Ref: "B", CustomerID: "cus_b", Outcome: Created, Digest: digestT(t, l, "m1", body("B", "b@example.com"))},
		{Ref: "A", CustomerID: "cus_a", Outcome: Existing, Digest: digestT(t, l, "m1", body("A", "a@example.com"))},
	}})
	recordT(t, l, Batch{API: testAPI, Job: "/jobs/night-2", At: t0.Add(24 * time.Hour), Outcomes: []Confirmed{
		{Ref: "C", CustomerID: "cus_c", Outcome: Created, Digest: digestT(t, l, "m2", body("C", "c@example.com"))},
		{Ref: "A", CustomerID: "cus_a2", Outcome: Created},
	}})
	recordT(t, l, Batch{API: "http://127.0.0.1:9999", Job: "/results.csv", At: t0, Seed: true, Outcomes: []Confirmed{{Ref: "A", CustomerID: "cus_x", Outcome: Existing}}})

	var exported []Entry
	require.NoError(t, l.Export(ctx, testAPI, func(e Entry) error { exported = append(exported, e); return nil }))
	assert.Equal(t, []Entry{
		{API: testAPI, Ref: "A", CustomerID: "cus_a2", Outcome: Created, Job: "/jobs/night-2", ConfirmedAt: t0.Add(24 * time.Hour)},
		{API: testAPI, Ref: "B", CustomerID: "cus_b", Outcome: Created, Job: "/jobs/night-1", ConfirmedAt: t0},
		{API: testAPI, Ref: "C", CustomerID: "cus_c", Outcome: Created, Job: "/jobs/night-2", ConfirmedAt: t0.Add(24 * time.Hour)},
	}, exported)
	n := 0
	require.NoError(t, l.Export(ctx, "", func(Entry) error { n++; return nil }))
	assert.Equal(t, 4, n, "every API")
	stop := context.Canceled
	assert.Equal(t, stop, l.Export(ctx, "", func(Entry) error { return stop }), "the callback's error, as is")

	shown, err := l.Show(ctx, "", []string{"A", "Z"})
	require.NoError(t, err)
	assert.Equal(t, []Shown{
		{Ref: "A", Entries: []Entry{
			{API: "http://127.0.0.1:9999", Ref: "A", CustomerID: "cus_x", Outcome: Existing, Job: "/results.csv", ConfirmedAt: t0},
			{API: testAPI, Ref: "A", CustomerID: "cus_a2", Outcome: Created, Job: "/jobs/night-2", ConfirmedAt: t0.Add(24 * time.Hour)},
		}, OtherIDs: []Entry{
			{API: testAPI, Ref: "A", CustomerID: "cus_a", Outcome: Existing, Job: "/jobs/night-1", ConfirmedAt: t0},
		}},
		{Ref: "Z"},
	}, shown)

	stats, err := l.Stats(ctx)
	require.NoError(t, err)
	assert.Equal(t, l.Path(), stats.Path)
	assert.Positive(t, stats.Bytes)
	assert.Equal(t, SchemaVersion, stats.Schema)
	assert.Equal(t, []APIStats{
		{API: "http://127.0.0.1:9999", Entries: 1, Existing: 1, BodyUnknown: 1, Oldest: t0, Newest: t0},
		{API: testAPI, Entries: 3, Created: 3, BodyUnknown: 1, OtherIDs: 1, Oldest: t0, Newest: t0.Add(24 * time.Hour)},
	}, stats.APIs)

	maps, err := l.Mappings(ctx, testAPI)
	require.NoError(t, err)
	assert.Equal(t, map[string]int{"m1": 1, "m2": 1, "": 1}, maps)
}

func TestRateLimit(t *testing.T) {
	l := newLedger(t)
	ctx := t.Context()
	rl, err := l.RateLimit(ctx, testAPI)
	require.NoError(t, err)
	assert.Nil(t, rl, "none seen")
	require.NoError(t, l.SetRateLimit(ctx, testAPI, RateLimit{Limit: 1000, Window: time.Minute, Seen: t0}))
	require.NoError(t, l.SetRateLimit(ctx, testAPI, RateLimit{Limit: 600, Window: time.Minute, Seen: t0.Add(time.Hour)}))
	rl, err = l.RateLimit(ctx, testAPI)
	require.NoError(t, err)
	assert.Equal(t, &RateLimit{Limit: 600, Window: time.Minute, Seen: t0.Add(time.Hour)}, rl, "the last one")
	other, err := l.RateLimit(ctx, "https://api.zentra.example")
	require.NoError(t, err)
	assert.Nil(t, other, "per API")
	assert.Error(t, l.SetRateLimit(ctx, testAPI, RateLimit{Limit: 0, Window: time.Minute}))
	stats, err := l.Stats(ctx)
	require.NoError(t, err)
	require.Len(t, stats.APIs, 1)
	assert.Equal(t, rl, stats.APIs[0].RateLimit)
}

// TestPendingJobs: a job that began and did not end is pending, until it ends; it begins again when it
// runs again.
func TestPendingJobs(t *testing.T) {
	clock := t0
	l := openT(t, t.TempDir()+"/ledger.db", Options{Now: func() time.Time { return clock }})
	ctx := t.Context()
	require.NoError(t, l.BeginJob(ctx, "/jobs/a", testAPI))
	clock = t0.Add(time.Minute)
	require.NoError(t, l.BeginJob(ctx, "/jobs/b", "http://127.0.0.1:8080"))
	got, err := l.PendingJobs(ctx)
	require.NoError(t, err)
	assert.Equal(t, []PendingJob{{Job: "/jobs/a", API: testAPI, Since: t0}, {Job: "/jobs/b", API: "http://127.0.0.1:8080", Since: t0.Add(time.Minute)}}, got)

	require.NoError(t, l.EndJob(ctx, "/jobs/a"))
	got, err = l.PendingJobs(ctx)
	require.NoError(t, err)
	assert.Equal(t, []PendingJob{{Job: "/jobs/b", API: "http://127.0.0.1:8080", Since: t0.Add(time.Minute)}}, got)
	stats, err := l.Stats(ctx)
	require.NoError(t, err)
	assert.Equal(t, 1, stats.PendingJobs)

	clock = t0.Add(time.Hour)
	require.NoError(t, l.BeginJob(ctx, "/jobs/a", testAPI))
	got, err = l.PendingJobs(ctx)
	require.NoError(t, err)
	assert.Equal(t, []PendingJob{{Job: "/jobs/b", API: "http://127.0.0.1:8080", Since: t0.Add(time.Minute)}, {Job: "/jobs/a", API: testAPI, Since: t0.Add(time.Hour)}}, got)
	assert.Error(t, l.BeginJob(ctx, "", testAPI))
	assert.ErrorContains(t, l.BeginJob(ctx, "/jobs/c", "sk_sandbox_0123456789"), "secret key")
	require.NoError(t, l.Sync(ctx))
}

// TestLookupBatches: a batch larger than a chunk, in any order, with references repeated and unknown,
// gets one answer per reference in its order.
func TestLookupBatches(t *testing.T) {
	l := newLedger(t)
	b := Batch{API: testAPI, Job: "/j", At: t0}
	for i := range 1234 {
		if i%3 == 0 {
			continue // unknown
		}
		b.Outcomes = append(b.Outcomes, Confirmed{Ref: "R" + strconv.Itoa(i), CustomerID: "cus_" + strconv.Itoa(i), Outcome: Created})
	}
	recordT(t, l, b)
	var refs []string
	for i := 1233; i >= 0; i-- {
		refs = append(refs, "R"+strconv.Itoa(i))
		if i%100 == 0 {
			refs = append(refs, "R"+strconv.Itoa(i+1), "R"+strconv.Itoa(i+1)) // repeated
		}
	}
	ks, err := l.Lookup(t.Context(), testAPI, refs)
	require.NoError(t, err)
	require.Len(t, ks, len(refs))
	for i, ref := range refs {
		n, _ := strconv.Atoi(ref[1:])
		if n%3 == 0 {
			assert.False(t, ks[i].Found, ref)
			continue
		}
		require.True(t, ks[i].Found, ref)
		assert.Equal(t, "cus_"+strconv.Itoa(n), ks[i].CustomerID, ref)
		assert.Equal(t, "/j", ks[i].Job)
	}
	empty, err := l.Lookup(t.Context(), testAPI, nil)
	require.NoError(t, err)
	assert.Empty(t, empty)
}
