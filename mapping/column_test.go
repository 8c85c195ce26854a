package mapping

import (
	"strings"

	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestResolveColumn(t *testing.T) {
	header := []string{"Customer Id", " E-mail ", "Mobile", "mobile", "First Name", "Surname", "Ward"}
	tests := []struct {
		name, col string
		want      int
		closest   string // for an unknown column
		ambiguous []string
	}{
		{"exact", "Customer Id", 0, "", nil},
		{"case and spaces", "  customer ID ", 0, "", nil},
		{"header spaces", "e-mail", 1, "", nil},
		{"exact spelling wins over case", "mobile", 3, "", nil},
		{"ambiguous", "MOBILE", -1, "", []string{"Mobile", "mobile"}},
		{"typo", "Frist Name", -1, "First Name", nil},
		{"punctuation", "Email", -1, " E-mail ", nil},
		{"synonym", "Last Name", -1, "Surname", nil},
		{"nothing close", "Balance", -1, "", nil},
		{"too different to be a typo", "Word Count", -1, "", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			i, err := ResolveColumn(header, tt.col)
			assert.Equal(t, tt.want, i)
			if tt.want >= 0 {
				require.NoError(t, err)
				return
			}
			var ce *ColumnError
			require.ErrorAs(t, err, &ce)
			assert.Equal(t, tt.col, ce.Name)
			assert.Equal(t, tt.closest, ce.Closest)
			assert.Equal(t, tt.ambiguous, ce.Ambiguous)
			if tt.ambiguous == nil {
				assert.Contains(t, ce.Hint(), `"Customer Id", " E-mail ", "Mobile"`)
			}
		})
	}
	_, err := ResolveColumn(header, "Frist Name")
	assert.EqualError(t, err, `unknown column "Frist Name" (did you mean "First Name"?)`)
	_, err = ResolveColumn(header, "Balance")
	assert.EqualError(t, err, `unknown column "Balance"`)
}

func TestEditDistance(t *testing.T) {
	for _, tt := range []struct {
		a, b string
		want int
	}{
		{"", "", 0}, {"abc", "", 3}, {"", "abc", 3}, {"titel", "title", 1}, {"kitten", "sitting", 3},
		{"ca", "abc", 3}, {"adélé", "adele", 2}, {"email", "emial", 1},
	} {
		assert.Equal(t, tt.want, editDistance(tt.a, tt.b), "%q %q", tt.a, tt.b)
		assert.Equal(t, tt.want, editDistance(tt.b, tt.a), "%q %q", tt.b, tt.a)
	}
}

// TestColumnNamesOneRule: the names the reader accepts as different are the names ResolveColumn tells
// apart (a review found "I,İ" refused as duplicates by the reader, yet "İ" unknown to ResolveColumn).
func TestColumnNamesOneRule(t *testing.T) {
	r, err := NewReader(strings.NewReader("I,İ,ı\n1,2,3\n"), "t.csv", CSVOptions{})
	require.NoError(t, err)
	for i, h := range r.Header() {
		col, err := ResolveColumn(r.Header(), h)
		require.NoError(t, err)
		assert.Equal(t, i, col, h)
	}
}
