package csvfile

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

// columnKeyNames are names whose folding is tricky: the Kelvin and long-s signs, Greek sigma forms,
// Turkish dotted and dotless i, ligatures, upper-case forms longer than their lower case, invalid UTF-8.
var columnKeyNames = []string{
	"", " ", "id", "ID", " Id ", "Iḍ", "k", "K", "\u212a", "ſ", "s", "S", "σ", "ς", "Σ", "I", "i", "İ", "ı",
	"ǅ", "ǆ", "Ǆ", "ß", "ẞ", "SS", "ﬀ", "ff", "Ω", "ω", "\u2126", "é", "É", "e\u0301", "\xff", "\xfe", "\uFFFD",
	"a\xffb", "A\uFFFDB", "E-mail", "e-MAIL", "\u00a0x", "x", "\tX\n", "Straße", "STRASSE", "ǰ", "J̌",
}

// TestColumnKeyIsSameColumnName: ColumnKey(a) == ColumnKey(b) exactly when SameColumnName(a, b), for every
// pair of tricky names (FuzzColumnKey tries others).
func TestColumnKeyIsSameColumnName(t *testing.T) {
	for _, a := range columnKeyNames {
		for _, b := range columnKeyNames {
			assert.Equal(t, SameColumnName(a, b), ColumnKey(a) == ColumnKey(b), "%q %q", a, b)
		}
	}
}

func FuzzColumnKey(f *testing.F) {
	for i, a := range columnKeyNames {
		f.Add(a, columnKeyNames[(i*7+3)%len(columnKeyNames)])
	}
	f.Fuzz(func(t *testing.T, a, b string) {
		if SameColumnName(a, b) != (ColumnKey(a) == ColumnKey(b)) {
			t.Fatalf("SameColumnName(%q, %q) = %v, keys %q and %q", a, b, SameColumnName(a, b), ColumnKey(a), ColumnKey(b))
		}
		if !SameColumnName(a, ColumnKey(a)) {
			t.Fatalf("%q is not the same name as its key %q", a, ColumnKey(a))
		}
	})
}
