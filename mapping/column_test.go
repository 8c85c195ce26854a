package mapping

import (
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/zentra/zentra-import/csvfile"
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
	r, err := csvfile.NewReader(strings.NewReader("I,İ,ı\n1,2,3\n"), "t.csv", csvfile.CSVOptions{})
	require.NoError(t, err)
	for i, h := range r.Header() {
		col, err := ResolveColumn(r.Header(), h)
		require.NoError(t, err)
		assert.Equal(t, i, col, h)
	}
}

// columnKeyNames are the names whose folding is tricky that csvfile's TestColumnKeyIsSameColumnName
// holds ColumnKey to, for the index built on it.
var columnKeyNames = []string{
	"", " ", "id", "ID", " Id ", "Iḍ", "k", "K", "\u212a", "ſ", "s", "S", "σ", "ς", "Σ", "I", "i", "İ", "ı",
	"ǅ", "ǆ", "Ǆ", "ß", "ẞ", "SS", "ﬀ", "ff", "Ω", "ω", "\u2126", "é", "É", "e\u0301", "\xff", "\xfe", "\uFFFD",
	"a\xffb", "A\uFFFDB", "E-mail", "e-MAIL", "\u00a0x", "x", "\tX\n", "Straße", "STRASSE", "ǰ", "J̌",
}

// TestColumnIndexIsResolveColumn: Compile's index finds each name where ResolveColumn finds it, with
// the same error, in a header with names equal but for case (which the reader refuses, but
// ResolveColumn is given any header).
func TestColumnIndexIsResolveColumn(t *testing.T) {
	header := []string{"Customer Id", " E-mail ", "Mobile", "mobile", "MOBILE ", "\u212aey", "key", "σ", "Σ"}
	ix := newColumnIndex(header)
	for _, name := range append(slices.Clone(columnKeyNames), append(header, "KEY", "ς", "mObIlE", "Frist Name", "Balance")...) {
		i, err := ResolveColumn(header, name)
		j, err2 := ix.resolve(name)
		assert.Equal(t, i, j, name)
		assert.Equal(t, err, err2, name)
	}
}

// TestColumnHintIsBounded: the hint of an unknown column lists the first 50 columns of a wide header.
func TestColumnHintIsBounded(t *testing.T) {
	header := wideHeader(100_000)
	_, err := ResolveColumn(header, "Phone")
	var ce *ColumnError
	require.ErrorAs(t, err, &ce)
	assert.Less(t, len(ce.Hint()), 1000)
	assert.True(t, strings.HasPrefix(ce.Hint(), `the header's first 50 columns (of 100000) are: "Customer Id", "First Name", "Email", "c3"`), ce.Hint())
	assert.True(t, strings.HasSuffix(ce.Hint(), `"c49", …`), ce.Hint())
}
