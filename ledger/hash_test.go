package ledger

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestJSONLeaves(t *testing.T) {
	for _, tc := range []struct {
		name string
		body string
		want []leaf // in the body's order
	}{
		{"flat", `{"a":"x","b":1,"c":true,"d":null}`,
			[]leaf{{"a", []byte(`"x"`)}, {"b", []byte(`1`)}, {"c", []byte(`true`)}, {"d", []byte(`null`)}}},
		{"nested objects by path", `{"metadata":{"source":"crm","deep":{"x":-1.5e3}},"email":"a@b"}`,
			[]leaf{{"metadata.source", []byte(`"crm"`)}, {"metadata.deep.x", []byte(`-1.5e3`)}, {"email", []byte(`"a@b"`)}}},
		{"arrays whole", `{"tags":["a","b",{"c":[1,2]}],"n":[]}`,
			[]leaf{{"tags", []byte(`["a","b",{"c":[1,2]}]`)}, {"n", []byte(`[]`)}}},
		{"an empty object is a field", `{"m":{},"k":{ }}`,
			[]leaf{{"m", []byte(`{}`)}, {"k", []byte(`{ }`)}}},
		{"white space", " {\n \"a\" :\t\"x\" ,\r\n \"b\" : { \"c\" : 2 } } ",
			[]leaf{{"a", []byte(`"x"`)}, {"b.c", []byte(`2`)}}},
		{"escapes in strings and keys", `{"na\u006De":"a\"}b","q\\":"\\"}`,
			[]leaf{{"name", []byte(`"a\"}b"`)}, {`q\`, []byte(`"\\"`)}}},
		{"brackets inside strings", `{"a":["]","}",{"x":"]"}],"b":"{"}`,
			[]leaf{{"a", []byte(`["]","}",{"x":"]"}]`)}, {"b", []byte(`"{"`)}}},
		{"an empty body", `{}`, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := jsonLeaves([]byte(tc.body))
			require.NoError(t, err)
			assert.Equal(t, tc.want, got)
		})
	}
	for _, bad := range []string{``, `[1]`, `"x"`, `{"a":}`, `{"a":1`, `{"a":1}x`} {
		_, err := jsonLeaves([]byte(bad))
		assert.Error(t, err, "%q", bad)
	}
}

func TestDigest(t *testing.T) {
	l := newLedger(t)
	h := l.Hasher()
	d := digestT(t, l, "m1", body("CRM-1", "ada@example.com"))
	assert.Equal(t, "m1", d.Mapping())
	assert.Equal(t, []string{"email", "external_reference", "first_name", "last_name", "metadata.source", "metadata.tier", "phone"}, d.Fields())
	assert.Len(t, d.hashes, 7*FieldHashLen)

	// A name twice is one field, over both values in order.
	twice := digestT(t, l, "m1", []byte(`{"a":1,"a":2}`))
	assert.Equal(t, []string{"a"}, twice.Fields())
	swapped := digestT(t, l, "m1", []byte(`{"a":2,"a":1}`))
	assert.NotEqual(t, twice.hashes, swapped.hashes)

	// Two fields with the same value do not hash alike (the name is in the hash), nor a field like the
	// body.
	same := digestT(t, l, "m1", []byte(`{"x":"v","y":"v"}`))
	assert.NotEqual(t, same.hashes[:FieldHashLen], same.hashes[FieldHashLen:])

	_, err := h.Digest("", body("r", "e"))
	assert.Error(t, err, "a digest needs its mapping")
	_, err = h.Digest("m1", []byte(`not json`))
	assert.Error(t, err)
	_, err = h.Digest("m1", []byte(`[1,2]`))
	assert.Error(t, err)
}

func TestCompare(t *testing.T) {
	l := newLedger(t)
	h := l.Hasher()
	ctx := t.Context()
	confirmed := []byte(`{"email":"ada@example.com","external_reference":"R","metadata":{"source":"crm"},"phone":"+447700900123"}`)
	_, err := l.Record(ctx, Batch{API: testAPI, Job: "/jobs/1", At: t0, Outcomes: []Confirmed{
		{Ref: "R", CustomerID: "cus_R", Outcome: Created, Digest: digestT(t, l, "m1", confirmed)},
		{Ref: "imported", CustomerID: "cus_I", Outcome: Existing},
	}})
	require.NoError(t, err)
	k := lookupOne(t, l, testAPI, "R")
	require.True(t, k.Found)
	assert.Equal(t, "m1", k.Mapping())
	for _, tc := range []struct {
		name    string
		mapping string
		body    string
		verdict Verdict
		changed []string
	}{
		{"the same bytes", "m1", string(confirmed), Same, nil},
		{"members in another order", "m1", `{"phone":"+447700900123","metadata":{"source":"crm"},"external_reference":"R","email":"ada@example.com"}`, Same, nil},
		{"white space", "m1", `{ "email": "ada@example.com", "external_reference": "R", "metadata": {"source": "crm"}, "phone": "+447700900123" }`, Same, nil},
		{"an email changed", "m1", `{"email":"ada@new.example","external_reference":"R","metadata":{"source":"crm"},"phone":"+447700900123"}`, Drift, []string{"email"}},
		{"a nested field changed", "m1", `{"email":"ada@example.com","external_reference":"R","metadata":{"source":"erp"},"phone":"+447700900123"}`, Drift, []string{"metadata.source"}},
		{"a field gone, one added", "m1", `{"email":"ada@example.com","external_reference":"R","metadata":{"source":"crm"},"first_name":"Ada"}`, Drift, []string{"first_name", "phone"}},
		{"the value's spelling is the value", "m1", `{"email":"ada@example.com","external_reference":"R","metadata":{"source":"cr\u006d"},"phone":"+447700900123"}`, Drift, []string{"metadata.source"}},
		{"another mapping", "m2", `{"email":"other@example.com"}`, OtherMapping, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			v, changed, err := h.Compare(&k, tc.mapping, []byte(tc.body))
			require.NoError(t, err)
			assert.Equal(t, tc.verdict, v)
			assert.Equal(t, tc.changed, changed)
		})
	}
	imported := lookupOne(t, l, testAPI, "imported")
	require.True(t, imported.Found)
	v, _, err := h.Compare(&imported, "m1", confirmed)
	require.NoError(t, err)
	assert.Equal(t, BodyUnknown, v)

	_, _, err = h.Compare(&k, "m1", []byte(`{"email":`))
	assert.Error(t, err, "a body that is not JSON, when it has to be read")
	unknown := lookupOne(t, l, testAPI, "nobody")
	_, _, err = h.Compare(&unknown, "m1", confirmed)
	assert.Error(t, err)
}

// TestNoValueIsStored: of a body, the ledger's file holds no value (name, email, phone, any field), only
// the names of its fields; the reference and the id are stored as they are.
func TestNoValueIsStored(t *testing.T) {
	path := filepath.Join(t.TempDir(), "ledger.db")
	l := openT(t, path, Options{})
	values := []string{"Augusta", "Byron-King", "augusta.king@example.org", "+447700900999", "Analytical Engine Ltd"}
	b := []byte(`{"external_reference":"CRM-77","first_name":"Augusta","last_name":"Byron-King","email":"augusta.king@example.org",` +
		`"phone":"+447700900999","metadata":{"company":"Analytical Engine Ltd"}}`)
	recordT(t, l, Batch{API: testAPI, Job: "/jobs/1", At: t0, Outcomes: []Confirmed{
		{Ref: "CRM-77", CustomerID: "cus_77", Outcome: Created, Digest: digestT(t, l, "m1", b)}}})
	require.NoError(t, l.Sync(t.Context()))
	var file []byte
	for _, f := range []string{path, path + "-wal"} {
		data, err := os.ReadFile(f)
		require.NoError(t, err)
		file = append(file, data...)
	}
	for _, v := range values {
		assert.False(t, bytes.Contains(file, []byte(v)), "%q is in the ledger's files", v)
	}
	for _, s := range []string{"CRM-77", "cus_77", `"metadata.company"`, `"email"`} {
		assert.True(t, bytes.Contains(file, []byte(s)), "%q is stored", s)
	}
}
