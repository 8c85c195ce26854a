package csvfile

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestSniffDelimiter(t *testing.T) {
	tests := []struct {
		name     string
		text     string
		complete bool
		want     byte
		problem  string
	}{
		{name: "comma", text: "a,b,c\n1,2,3\n", complete: true, want: ','},
		{name: "semicolon with decimal commas", text: "name;amount;price\nx;1,5;2,25\ny;3;4,5\n", complete: true, want: ';'},
		{name: "tab with commas and semicolons in values", text: "a\tb\n1, 2; 3\tx\n", complete: true, want: '\t'},
		{name: "pipe", text: "a|b\n1|2\n", complete: true, want: '|'},
		{name: "quoted delimiters do not count", text: "a;b\n\"1,2,3\";x\n\"4,5,6\";y\n", complete: true, want: ';'},
		{name: "quoted line breaks do not end records", text: "a;b\n\"x\ny,z\";1\n2;3\n", complete: true, want: ';'},
		{name: "consistency beats the header's count", text: "a,b;c;d\n1,2\n3,4\n5,6\n", complete: true, want: ','},
		{name: "more columns break a tie of consistency", text: "a;b,c;d\n1;2,3;4\n", complete: true, want: ';'},
		{name: "header only", text: "a;b;c\n", complete: true, want: ';'},
		{name: "header without newline", text: "a|b", complete: true, want: '|'},
		{name: "single column", text: "email\nx@example.com\n", complete: true, want: ','},
		{name: "a cut last record is left out", text: "a,b\n1,2\n3,4,5,6,7", complete: false, want: ','},
		{name: "a cut header still counts", text: "a;b;c;d", complete: false, want: ';'},
		{name: "blank lines skipped", text: "\n\na;b\n\n1;2\n", complete: true, want: ';'},
		{name: "tie", text: "a,b;c\n1,2;3\n", complete: true, problem: `cannot tell whether the delimiter is ',' or ';'`},
		{name: "tie with a tab", text: "a\tb|c\n", complete: true, problem: `is tab or '|'`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, p := sniffDelimiter([]byte(tt.text), tt.complete)
			if tt.problem != "" {
				require.NotNil(t, p)
				assert.Contains(t, p.msg, tt.problem)
				assert.Contains(t, p.hint, "csv.delimiter")
				return
			}
			require.Nil(t, p)
			assert.Equal(t, string(tt.want), string(got))
		})
	}
}

func TestDetectEncoding(t *testing.T) {
	tests := []struct {
		name    string
		prefix  string
		eof     bool
		opt     string
		want    Encoding
		bom     int
		problem string
	}{
		{name: "ascii", prefix: "a,b\n", eof: true, want: UTF8},
		{name: "utf-8", prefix: "a,é\n", eof: true, want: UTF8},
		{name: "utf-8 BOM", prefix: "\uFEFFa\n", eof: true, want: UTF8, bom: 3},
		{name: "utf-16le BOM", prefix: "\xff\xfea\x00", eof: true, want: UTF16LE, bom: 2},
		{name: "utf-16be BOM", prefix: "\xfe\xff\x00a", eof: true, want: UTF16BE, bom: 2},
		{name: "utf-16 BOM with utf-16", prefix: "\xfe\xff\x00a", eof: true, opt: "utf-16", want: UTF16BE, bom: 2},
		{name: "windows-1252", prefix: "a;Chlo\xe9;M\xfcller\n", eof: true, want: Windows1252},
		{name: "utf-8 with one stray byte", prefix: "a,é,ü,ß\nRen\xe9e\n", eof: true, want: UTF8},
		{name: "1252 with one accidental UTF-8 pair", prefix: "\xc3\xa9 \xe9t\xe9 \xe0\n", eof: true, want: Windows1252},
		{name: "a character cut by the prefix does not count", prefix: "a,b\n\xc3", eof: false, want: UTF8},
		{name: "the same at the end of the file does", prefix: "a,b\n\xc3", eof: true, want: Windows1252},
		{name: "explicit wins without BOM", prefix: "a,b\n", eof: true, opt: "iso-8859-1", want: ISO88591},
		{name: "explicit windows-1252 on UTF-8", prefix: "a,b\n1,Jos\xc3\xa9\n", eof: true, opt: "windows-1252",
			problem: "csv.encoding is windows-1252 but the file looks like UTF-8"},
		{name: "explicit iso-8859-1 on UTF-8", prefix: "a,b\n1,\xe2\x82\xac 5\n", eof: true, opt: "latin1",
			problem: "csv.encoding is iso-8859-1 but the file looks like UTF-8"},
		{name: "explicit windows-1252 on UTF-8 cut by the prefix", prefix: "a,b\n1,Jos\xc3\xa9\n\xe2\x82", eof: false, opt: "cp1252",
			problem: "looks like UTF-8"},
		{name: "explicit windows-1252 on Windows-1252", prefix: "a,b\n1,Jos\xe9\n", eof: true, opt: "windows-1252", want: Windows1252},
		{name: "explicit windows-1252 with one accidental UTF-8 pair", prefix: "\xc3\xa9 \xe9t\xe9\n", eof: true, opt: "windows-1252", want: Windows1252},
		{name: "explicit windows-1252 on ASCII", prefix: "a,b\n1,Jose\n", eof: true, opt: "windows-1252", want: Windows1252},
		{name: "explicit utf-8 with its BOM", prefix: "\uFEFFa\n", eof: true, opt: "utf8", want: UTF8, bom: 3},
		{name: "utf-16le without BOM", prefix: "a\x00,\x00b\x00\n\x00", eof: true, problem: "looks like UTF-16LE"},
		{name: "utf-16 needs a BOM", prefix: "a\x00,\x00b\x00\n\x00", eof: true, opt: "utf-16", problem: "no byte-order mark"},
		{name: "explicit utf-16le without BOM", prefix: "a\x00,\x00b\x00\n\x00", eof: true, opt: "utf-16le", want: UTF16LE},
		{name: "BOM against the option", prefix: "\xff\xfea\x00", eof: true, opt: "windows-1252", problem: "UTF-16LE byte-order mark but csv.encoding is windows-1252"},
		{name: "utf-8 BOM against utf-16", prefix: "\uFEFFa", eof: true, opt: "utf-16", problem: "UTF-8 byte-order mark but csv.encoding is utf-16"},
		{name: "utf-32", prefix: "\xff\xfe\x00\x00a\x00\x00\x00", eof: true, problem: "UTF-32"},
		{name: "a few zero bytes are data", prefix: "a,b\n1,\x00\n2,3\n4,5\n", eof: true, want: UTF8},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			want, auto, ok := ParseEncoding(tt.opt)
			require.True(t, ok)
			got, bom, p := detectEncoding([]byte(tt.prefix), tt.eof, want, auto)
			if tt.problem != "" {
				require.NotNil(t, p)
				assert.Contains(t, p.msg, tt.problem)
				assert.NotEmpty(t, p.hint)
				return
			}
			require.Nil(t, p, "%v", p)
			assert.Equal(t, tt.want.String(), got.String())
			assert.Equal(t, tt.bom, bom)
		})
	}
}

func TestSniffCRLF(t *testing.T) {
	assert.True(t, sniffCRLF([]byte("a,b\r\n1,2\n")))
	assert.True(t, sniffCRLF([]byte("\n\r\na,b\r\n")))
	assert.False(t, sniffCRLF([]byte("a,b\n1,2\r\n")))
	assert.False(t, sniffCRLF([]byte("a,b")))
}

func TestSniffLooksAtTheFirstRecordsOnly(t *testing.T) {
	// Beyond the sniffed records, a different delimiter does not matter.
	text := "a;b\n" + strings.Repeat("1;2\n", sniffRecords) + strings.Repeat("x,y,z\n", 200)
	got, p := sniffDelimiter([]byte(text), true)
	require.Nil(t, p)
	assert.Equal(t, byte(';'), got)
}

func TestCROnly(t *testing.T) {
	tests := []struct {
		text string
		want bool
	}{
		{"Id,First Name,Email\r1,Ada,a@x.ng\r2,Bo,b@x.ng\r", true},
		{"id\r1", true},
		{"id,name\r\n1,Ada\r\n", false},
		{"id,name\n1,Ada\r", false},
		{"id,name\r", false},   // a one-line file ending in CR
		{"id,name\r\r", false}, // and blank lines
		{"id,name", false},
	}
	for _, tt := range tests {
		assert.Equal(t, tt.want, crOnly([]byte(tt.text)), "%q", tt.text)
	}
}
