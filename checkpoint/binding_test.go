package checkpoint

import (
	"os"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestBindingChangeIsRefusedAndNamed(t *testing.T) {
	other := func(edit func(*Binding)) Binding {
		b := testBinding
		edit(&b)
		return b
	}
	tests := []struct {
		name  string
		b     Binding
		what  []string
		names []string // short forms the message must show
	}{
		{"input content", other(func(b *Binding) { b.InputSHA256 = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef" }),
			[]string{"input"}, []string{"sha256 9f86d081884c", "sha256 0123456789ab", "123456 bytes"}},
		{"input size", other(func(b *Binding) { b.InputSize = 99 }),
			[]string{"input"}, []string{"123456 bytes", "99 bytes"}},
		{"mapping", other(func(b *Binding) { b.MappingHash = "ffffffffffff0000" }),
			[]string{"mapping"}, []string{"was 2c26b46b68ff", "now ffffffffffff"}},
		{"API URL", other(func(b *Binding) { b.APIURL = "https://api.usezentra.com" }),
			[]string{"API URL"}, []string{"was https://sandbox.api.usezentra.com", "now https://api.usezentra.com"}},
		{"reading rules: a journal from before they were recorded", other(func(b *Binding) { b.Rules = "2" }),
			[]string{"zentra-import's reading rules"}, []string{"was those of an earlier version, now version 2"}},
		{"everything", Binding{InputSize: 1, InputSHA256: "aa", MappingHash: "bb", APIURL: "http://127.0.0.1:9"},
			[]string{"input", "mapping", "API URL"}, []string{"http://127.0.0.1:9"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			writeJournal(t, dir, []op{startOp(1), outcomeOp(testOutcome(1, StatusCreated, 0))})
			before, err := os.ReadFile(journalPath(dir))
			require.NoError(t, err)

			_, _, err = Open(dir, tt.b, Options{})
			var be *BindingError
			require.ErrorAs(t, err, &be)
			var what []string
			for _, c := range be.Changes {
				what = append(what, c.What)
			}
			assert.Equal(t, tt.what, what)
			for _, s := range tt.names {
				assert.Contains(t, err.Error(), s)
			}
			assert.Contains(t, err.Error(), dir)
			assert.Contains(t, be.Hint(), "--out")
			assert.Contains(t, be.Hint(), "--restart")

			after, err := os.ReadFile(journalPath(dir))
			require.NoError(t, err)
			assert.Equal(t, before, after, "a refused journal is not touched")
		})
	}
}

// TestBindingRulesRoundTrip: a journal records the reading rules it was started under, and is resumed
// only under the same ones (a review resumed an old job with a binary that numbered rows differently, and
// a row was never sent).
func TestBindingRulesRoundTrip(t *testing.T) {
	dir := t.TempDir()
	b := testBinding
	b.Rules = "2"
	j, _, err := Open(dir, b, Options{})
	require.NoError(t, err)
	require.NoError(t, j.Close())
	j, _, err = Open(dir, b, Options{})
	require.NoError(t, err, "the same rules resume")
	require.NoError(t, j.Close())
	b.Rules = "3"
	_, _, err = Open(dir, b, Options{})
	var be *BindingError
	require.ErrorAs(t, err, &be)
	assert.Equal(t, []Change{{"zentra-import's reading rules", "version 2", "version 3"}}, be.Changes)
	assert.Contains(t, be.Hint(), "the zentra-import that started it")
}

func TestBindingToleratesTrailingSlashAndHexCase(t *testing.T) {
	dir := t.TempDir()
	writeJournal(t, dir, nil)
	b := testBinding
	b.APIURL += "/"
	b.InputSHA256 = "9F86D081884C7D659A2FEAA0C55AD015A3BF4F1B2B0B822CD15D6C15B0F00A08"
	j, _, err := Open(dir, b, Options{})
	require.NoError(t, err)
	require.NoError(t, j.Close())
}

func TestStatusNames(t *testing.T) {
	for st := StatusCreated; st <= StatusRejected; st++ {
		got, err := ParseStatus(st.String())
		require.NoError(t, err)
		assert.Equal(t, st, got)
	}
	assert.Equal(t, "created", StatusCreated.String())
	assert.Equal(t, "rejected", StatusRejected.String())
	assert.Equal(t, "status(0)", Status(0).String())
	_, err := ParseStatus("Created")
	assert.Error(t, err)
}
