package importer

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/zentra/zentra-import/sandbox"
)

// readAll reads every record of a source's reader, returning their fields and the error that ended it.
func readAll(t *testing.T, s *source) ([][]string, error) {
	t.Helper()
	var rows [][]string
	for {
		rec, err := s.rd.Next()
		if errors.Is(err, io.EOF) {
			return rows, nil
		}
		if err != nil {
			return rows, err
		}
		rows = append(rows, rec.Fields)
	}
}

// TestSourceNoticesEveryChange changes an opened input in each way a file changes under a reader, then
// reads it all and settles: every row read is one of the bytes the source was bound to, whatever the
// change; a change that makes those bytes unreadable stops the reading, named; and settle names every
// change, except a touch that left the bytes as they were.
func TestSourceNoticesEveryChange(t *testing.T) {
	other := func(b []byte) []byte { return bytes.ReplaceAll(b, []byte("user"), []byte("resu")) }
	tests := []struct {
		name     string
		change   func(t *testing.T, input string, b []byte)
		readErr  string // "" when every row reads
		settle   changeKind
		settleIs string
	}{
		{"unchanged", func(*testing.T, string, []byte) {}, "", 0, ""},
		{"touched, its bytes the same", func(t *testing.T, input string, _ []byte) {
			later := time.Now().Add(time.Hour)
			require.NoError(t, os.Chtimes(input, later, later))
		}, "", 0, ""},
		{"truncated", func(t *testing.T, input string, b []byte) {
			require.NoError(t, os.Truncate(input, int64(len(b)/2)))
		}, "(it shrank from ", changeShrank, "it shrank from "},
		{"truncated and rewritten to the same size (a re-upload)", func(t *testing.T, input string, b []byte) {
			require.NoError(t, os.WriteFile(input, other(b), 0o600))
		}, "(it was rewritten in place: bytes 65536 to ", changeRewritten, "it was rewritten in place"},
		{"one byte changed in place", func(t *testing.T, input string, b []byte) {
			f, err := os.OpenFile(input, os.O_WRONLY, 0)
			require.NoError(t, err)
			_, err = f.WriteAt([]byte("X"), int64(len(b)-10))
			require.NoError(t, err)
			require.NoError(t, f.Close())
		}, "(it was rewritten in place: bytes 65536 to ", changeRewritten, "no longer hold what they held"},
		{"appended to", func(t *testing.T, input string, b []byte) {
			f, err := os.OpenFile(input, os.O_WRONLY|os.O_APPEND, 0)
			require.NoError(t, err)
			_, err = f.WriteString("9999,late,late@example.com,\n")
			require.NoError(t, err)
			require.NoError(t, f.Close())
		}, "", changeGrew, "it grew from "},
		{"replaced by another file moved over it", func(t *testing.T, input string, b []byte) {
			require.NoError(t, os.WriteFile(input+".new", other(b), 0o600))
			require.NoError(t, os.Rename(input+".new", input))
		}, "", changeReplaced, "another file took its place"},
		{"removed", func(t *testing.T, input string, _ []byte) {
			require.NoError(t, os.Remove(input))
		}, "", changeReplaced, "it was removed or moved away"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, input, m := testInput(t, 3000, nil)
			b, err := os.ReadFile(input)
			require.NoError(t, err)
			require.Greater(t, len(b), boundBlock, "more than one block")
			want, err := openSource(input, m)
			require.NoError(t, err)
			wantRows, err := readAll(t, want)
			require.NoError(t, err)
			require.NoError(t, want.Close())

			s, err := openSource(input, m)
			require.NoError(t, err)
			defer s.Close()
			tt.change(t, input, b)
			rows, err := readAll(t, s)
			for i, r := range rows {
				require.Equal(t, wantRows[i], r, "row %d is the bound bytes' row", i+1)
			}
			if tt.readErr == "" {
				require.NoError(t, err)
				assert.Len(t, rows, 3000)
			} else {
				var ce *changedError
				require.ErrorAs(t, err, &ce)
				assert.Contains(t, err.Error(), "the input "+input+" changed while it was read "+tt.readErr)
				assert.Less(t, len(rows), 3000)
			}
			c := s.settle()
			if tt.settle == 0 {
				assert.Nil(t, c)
				return
			}
			require.NotNil(t, c)
			assert.Equal(t, tt.settle, c.kind)
			assert.Contains(t, c.Error(), tt.settleIs)
		})
	}
}

func TestSourceEndsInLineBreak(t *testing.T) {
	utf16 := func(s string, bigEndian bool) []byte {
		b := []byte{0xFF, 0xFE}
		if bigEndian {
			b = []byte{0xFE, 0xFF}
		}
		for _, r := range s {
			if bigEndian {
				b = append(b, 0, byte(r))
			} else {
				b = append(b, byte(r), 0)
			}
		}
		return b
	}
	const rows = "Customer Id,First Name,E-mail,Note\n1,a,a@example.com,\n2,b,b@example.com,x"
	tests := []struct {
		name string
		b    []byte
		want bool
	}{
		{"utf-8 with a final line break", []byte(rows + "\n"), true},
		{"utf-8, CRLF", []byte(strings.ReplaceAll(rows, "\n", "\r\n") + "\r\n"), true},
		{"utf-8 without", []byte(rows), false},
		{"utf-8, the last line blank", []byte(rows + "\n\n"), true},
		{"utf-16le with", utf16(rows+"\n", false), true},
		{"utf-16le without", utf16(rows, false), false},
		{"utf-16le, a byte cut off its last line break", utf16(rows+"\n", false)[:len(utf16(rows+"\n", false))-1], false},
		{"utf-16be with", utf16(rows+"\n", true), true},
		{"utf-16be without", utf16(rows, true), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir, _, m := testInput(t, 1, nil)
			input := filepath.Join(dir, "end.csv")
			require.NoError(t, os.WriteFile(input, tt.b, 0o600))
			s, err := openSource(input, m)
			require.NoError(t, err)
			defer s.Close()
			assert.Equal(t, tt.want, s.endsInLineBreak(s.rd.Dialect()))
		})
	}
}

// otherIDs is another version of a testInput: rows 1000 to 1999 are 9000 to 9999, references the
// original does not have.
func otherIDs(b []byte) []byte { return bytes.ReplaceAll(b, []byte("\n1"), []byte("\n9")) }

// changeAt is a transport that changes the input once, when the API has answered n requests.
type changeAt struct {
	next   http.RoundTripper
	n      int64
	seen   atomic.Int64
	change func()
}

func (c *changeAt) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := c.next.RoundTrip(req)
	if c.seen.Add(1) == c.n {
		c.change()
	}
	return resp, err
}

// TestRunStopsWhenItsInputChanges changes the input while a run sends its rows: the run stops with an
// aborted error (exit 3) naming the change, the job is not complete (its journal has no finish) and
// holds no customer of bytes that were not the job's; with the input back to the job's bytes, or
// extended by them, the same run finishes the job, every row once.
func TestRunStopsWhenItsInputChanges(t *testing.T) {
	tests := []struct {
		name   string
		cut    bool // the input's last row is cut short (a file still being written)
		change func(t *testing.T, input string, b []byte)
		cause  string
		sent   func(t *testing.T, n int) // checks how many customers the stopped run made
		after  func(b []byte) []byte     // the input the second run has
	}{
		{name: "truncated and rewritten with other rows", change: func(t *testing.T, input string, b []byte) {
			require.NoError(t, os.WriteFile(input, otherIDs(b)[:len(b)/2], 0o600))
		}, cause: "(it shrank from ", after: func(b []byte) []byte { return b }},
		{name: "replaced", change: func(t *testing.T, input string, b []byte) {
			require.NoError(t, os.WriteFile(input+".new", otherIDs(b), 0o600))
			require.NoError(t, os.Rename(input+".new", input))
		}, cause: "(another file took its place", after: func(b []byte) []byte { return b }},
		{name: "grown, its last row cut", cut: true, change: func(t *testing.T, input string, b []byte) {
			f, err := os.OpenFile(input, os.O_WRONLY|os.O_APPEND, 0)
			require.NoError(t, err)
			_, err = f.WriteString("note\n3001,n,user3001@example.com,\n")
			require.NoError(t, err)
			require.NoError(t, f.Close())
		}, cause: "(it grew from ", sent: func(t *testing.T, n int) { assert.Equal(t, 2999, n, "all but the cut row") },
			after: func(b []byte) []byte { return append(b, "note\n3001,n,user3001@example.com,\n"...) }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			api := newTestAPI(t, sandbox.Config{})
			dir, input, m := testInput(t, 3000, map[int][]string{3000: {"3000", "n", "user3000@example.com", "a long "}})
			b, err := os.ReadFile(input)
			require.NoError(t, err)
			if tt.cut {
				b = bytes.TrimSuffix(b, []byte("\n"))
				require.NoError(t, os.WriteFile(input, b, 0o600))
			}
			out := filepath.Join(dir, "job")
			o := api.options(input, m, out)
			o.Workers = 2
			o.Transport = &changeAt{next: http.DefaultTransport, n: 5, change: func() { tt.change(t, input, b) }}
			sum, err := Run(context.Background(), o)
			require.Error(t, err)
			assert.Equal(t, KindAborted, KindOf(err))
			var ce *changedError
			require.ErrorAs(t, err, &ce)
			assert.Contains(t, err.Error(), "changed while it was read "+tt.cause)
			assert.Contains(t, HintOf(err), "run the same command again")
			require.NotNil(t, sum)
			assert.False(t, sum.Complete)
			assert.Equal(t, 3, sum.ExitCode)
			for _, c := range api.sb.Customers() {
				ref := c.ExternalReference
				assert.False(t, len(ref) == len("crm-9000") && strings.HasPrefix(ref, "crm-9"), "a row of the new bytes was sent: %s", ref)
				assert.NotEqual(t, "crm-3000", ref, "the cut row was sent")
			}
			if tt.sent != nil {
				tt.sent(t, len(api.sb.Customers()))
			}
			whole := tt.after(b)
			require.NoError(t, os.WriteFile(input, whole, 0o600))
			o.Transport = nil
			sum, err = Run(context.Background(), o)
			require.NoError(t, err)
			assert.True(t, sum.Complete)
			assert.False(t, sum.AlreadyComplete, "not 'already complete'")
			lines := readResults(t, out)
			perRef := map[string]int{}
			for _, c := range api.sb.Customers() {
				perRef[c.ExternalReference]++
			}
			for i, l := range lines {
				assert.Equal(t, i+1, l.Row)
				assert.Equal(t, 1, perRef[l.ExternalReference], "row %d once", l.Row)
			}
			assert.Len(t, perRef, len(lines))
		})
	}
}
