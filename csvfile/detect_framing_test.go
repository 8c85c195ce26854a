package csvfile

import (
	"bytes"
	"io"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const framingHeader = "Customer Id,First Name,Last Name,E-mail,Mobile,Country\n"

// framingRows is n data rows of framingHeader.
func framingRows(n int) string {
	var b strings.Builder
	for i := 1; i <= n; i++ {
		b.WriteString("10000" + string(rune('0'+i%10)) + ",Ada,Okafor,ada@example.ng,08031234567,NG\n")
	}
	return b.String()
}

// TestDetectFraming: title lines above the header and footer lines below the data are seen, and nothing
// is seen in files without them, however their last rows look.
func TestDetectFraming(t *testing.T) {
	rows := framingRows(5)
	tests := []struct {
		name         string
		data         []byte
		lines        int
		footer       int
		title, foot  string // parts of the notes
		notTitle     bool
		wholeFooterQ string
	}{
		{name: "no framing", data: []byte(framingHeader + rows)},
		{name: "a title and a footer", data: []byte("Customer export 2026-01-01\n" + framingHeader + rows + "Total records: 5\n"), lines: 1, footer: 1,
			title: `line 1 is a title, not the header: "Customer export 2026-01-01" (the header is line 2, with 6 names)`,
			foot:  `the last line is a footer, not a row: "Total records: 5" (the header names 6 columns); or footer: "^Total records:" skips it only when it is there`},
		{name: "padded by a spreadsheet", data: []byte("Customer export,,,,,\n" + strings.ReplaceAll(framingHeader+rows, "\n", ",,\n") + "Total records: 5,,,,,,,\n"),
			lines: 1, footer: 1, title: `"Customer export"`, foot: `"Total records: 5"`},
		{name: "two title lines and a blank one, CRLF", data: []byte(strings.ReplaceAll("Report\nLagos branch\n\n"+framingHeader+rows+"Total,5\nEnd of report\n", "\n", "\r\n")),
			lines: 2, footer: 2, title: `lines 1 to 2 are a title, not the header: "Report", "Lagos branch" (the header is line 4`,
			foot: `the last 2 lines are a footer, not rows: "Total,5", "End of report"`},
		{name: "a title with commas", data: []byte("Exported: 2026-01-01, by: admin\n" + framingHeader + rows), lines: 1, title: `"Exported: 2026-01-01, by: admin"`},
		{name: "a title that would be a bad header", data: []byte("Report: a,,b\n" + framingHeader + rows), lines: 1},
		{name: "sep= line, then a title", data: []byte("sep=;\nKundenliste\n" + strings.ReplaceAll(framingHeader+rows, ",", ";")), lines: 1,
			title: `line 2 is a title, not the header: "Kundenliste" (the header is line 3`},
		{name: "UTF-16LE", data: toUTF16("Liste des clients – été\r\n"+strings.ReplaceAll(framingHeader+rows, "\n", "\r\n")+"Total : 5\r\n", false, true),
			lines: 1, footer: 1, title: `"Liste des clients – été"`, foot: `"Total : 5"`},
		{name: "Windows-1252", data: to1252("Liste des clients – été\n" + framingHeader + rows), lines: 1, title: `"Liste des clients – été"`},
		{name: "the last row spans lines", data: []byte(framingHeader + rows + "100009,Ada,Okafor,ada@example.ng,0803,\"Lagos\nIkeja\"\n")},
		{name: "the last row is short but full", data: []byte(framingHeader + rows + "100009,Ada,Okafor,ada@example.ng\n")},
		{name: "the last row is one value", data: []byte(framingHeader + rows + "100009\n"), footer: 1, foot: `"100009"`},
		{name: "a footer word in a row", data: []byte(framingHeader + rows + "Total,Ada,Okafor,ada@example.ng,0803,NG\n")},
		{name: "lines without data after the footer", data: []byte(framingHeader + rows + "Count: 5\n,,,,,\n\n"), footer: 1, foot: `"Count: 5"`},
		{name: "a single column", data: []byte("Report\nemail\na@example.ng\nb@example.ng\n")},
		{name: "a header and no rows", data: []byte(framingHeader)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fr, err := DetectFraming(bytes.NewReader(tt.data), "test.csv", CSVOptions{})
			require.NoError(t, err)
			assert.Equal(t, tt.lines, fr.SkipLines, "skip_lines: %s", fr.Title)
			assert.Equal(t, tt.footer, fr.SkipFooter, "skip_footer: %s", fr.FooterSeen)
			assert.Contains(t, fr.Title, tt.title)
			assert.Contains(t, fr.FooterSeen, tt.foot)
			if fr.SkipLines+fr.SkipFooter == 0 {
				return
			}
			// What it proposes reads the file: the header is the real one, and the footer is no row.
			r, recs, err := readAll(t, tt.data, fr.Options(CSVOptions{}), 0)
			require.NoError(t, err)
			assert.Contains(t, []int{6, 1}, len(r.Header()))
			for _, rec := range recs {
				assert.NoError(t, rec.Err, "row %d", rec.Row)
			}
		})
	}
}

// countingReader counts the bytes read through it.
type countingReader struct {
	io.ReadSeeker
	n int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.ReadSeeker.Read(p)
	c.n += int64(n)
	return n, err
}

// TestDetectFramingReadsOnlyTheEnds: in a 10 MB file, the footer is found from the last 64 KiB, and
// little more than the first and last 64 KiB are read.
func TestDetectFramingReadsOnlyTheEnds(t *testing.T) {
	data := []byte("Customer export\n" + framingHeader + framingRows(250_000) + "Total records: 250000\n")
	require.Greater(t, len(data), 10<<20)
	c := &countingReader{ReadSeeker: bytes.NewReader(data)}
	fr, err := DetectFraming(c, "big.csv", CSVOptions{})
	require.NoError(t, err)
	assert.Equal(t, Framing{SkipLines: 1, SkipFooter: 1, Title: fr.Title, FooterSeen: fr.FooterSeen}, fr)
	assert.Less(t, c.n, int64(8*sniffSize), "read %d bytes of %d", c.n, len(data))
}
