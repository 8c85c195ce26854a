package mapping

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestTargetWarnings(t *testing.T) {
	tests := []struct {
		name   string
		fields string // lines under fields:, after external_reference (line 2)
		allow  string // allow_unknown's list, or ""
		want   []string
	}{
		{"documented fields", "  first_name: {column: A}\n  last_name: {column: B}\n  email: {column: C}\n  phone: {column: D}\n  metadata.x: {column: E}\n", "", nil},
		{"a typo of first_name", "  firstname: {column: A}\n", "",
			[]string{"fields.firstname (line 3): not a documented field; did you mean first_name?"}},
		{"a swap in email", "  emial: {column: A}\n", "", []string{"fields.emial (line 3): not a documented field; did you mean email?"}},
		{"a typo of metadata, path kept", "  metadta.source: {value: crm}\n", "",
			[]string{"fields.metadta.source (line 3): not a documented field; did you mean metadata.source?"}},
		{"another target of the mapping", "  date_of_birth: {column: A}\n  date_of_brith: {column: B}\n", "",
			[]string{"fields.date_of_brith (line 4): not a documented field, and close to date_of_birth, another target of this mapping; is one of them a typo?"}},
		{"numbered fields are not typos", "  address.line1: {column: A}\n  address.line2: {column: B}\n  phone2: {column: C}\n", "", nil},
		{"other fields a tenant may accept", "  country: {column: A}\n  date_of_birth: {column: B}\n  gender: {column: C}\n  bvn: {column: D}\n", "", nil},
		{"allow_unknown silences it", "  firstname: {column: A}\n  emial: {column: B}\n", "[firstname]",
			[]string{"fields.emial (line 4): not a documented field; did you mean email?"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			src := "fields:\n  external_reference: {column: Id}\n" + tt.fields
			if tt.allow != "" {
				src += "allow_unknown: " + tt.allow + "\n"
			}
			m, err := Parse("m.yaml", []byte(src))
			require.NoError(t, err)
			var got []string
			for _, w := range m.Warnings() {
				got = append(got, w.String())
			}
			assert.Equal(t, tt.want, got)
		})
	}
}

func TestAllowUnknownNamesTargets(t *testing.T) {
	_, err := Parse("m.yaml", []byte("fields:\n  external_reference: {column: Id}\n  firstname: {column: A}\nallow_unknown: [first_nam]\n"))
	require.Error(t, err)
	assert.Contains(t, err.Error(), `allow_unknown: first_nam is not a field (did you mean "firstname"?)`)
	a, err := Parse("m.yaml", []byte("fields:\n  external_reference: {column: Id}\n  firstname: {column: A}\n"))
	require.NoError(t, err)
	b, err := Parse("m.yaml", []byte("fields:\n  external_reference: {column: Id}\n  firstname: {column: A}\nallow_unknown: [firstname]\n"))
	require.NoError(t, err)
	assert.Equal(t, a.Hash(), b.Hash(), "allow_unknown changes no body")
	back, err := Parse("canonical.yaml", b.canonicalYAML())
	require.NoError(t, err)
	assert.Empty(t, back.Warnings(), "the canonical YAML keeps allow_unknown")
}
