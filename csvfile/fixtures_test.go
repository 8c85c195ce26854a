package csvfile

import (
	"bytes"
	"flag"
	"strings"
	"unicode/utf16"

	"golang.org/x/text/encoding/charmap"
)

// updateGolden rewrites testdata/reader/*.csv from fixtures and the .golden files from what the reader
// makes of them: go test ./csvfile -run TestReaderGolden -update-reader (then review the diff).
var updateGolden = flag.Bool("update-reader", false, "rewrite testdata/reader fixtures and golden files")

// fixture is one input file of testdata/reader, defined here so that its bytes (Windows-1252, UTF-16,
// invalid sequences) are reviewable.
type fixture struct {
	name string
	opts CSVOptions
	data []byte
}

// to1252 encodes UTF-8 text as Windows-1252 (every character of it must exist there).
func to1252(s string) []byte {
	b, err := charmap.Windows1252.NewEncoder().Bytes([]byte(s))
	if err != nil {
		panic(err)
	}
	return b
}

// toUTF16 encodes UTF-8 text as UTF-16, with a byte-order mark if bom is set.
func toUTF16(s string, bigEndian, bom bool) []byte {
	var units []uint16
	if bom {
		units = append(units, 0xFEFF)
	}
	units = append(units, utf16.Encode([]rune(s))...)
	return unitBytes(units, bigEndian)
}

func unitBytes(units []uint16, bigEndian bool) []byte {
	var b []byte
	for _, u := range units {
		if bigEndian {
			b = append(b, byte(u>>8), byte(u))
		} else {
			b = append(b, byte(u), byte(u>>8))
		}
	}
	return b
}

func cat(parts ...[]byte) []byte { return bytes.Join(parts, nil) }

func fixtures() []fixture {
	crlf := func(s string) string { return strings.ReplaceAll(s, "\n", "\r\n") }
	utf16Unpaired := cat(
		toUTF16("id,name,city\r\n1,Ngozi,Enugu\r\n2,", false, true),
		unitBytes([]uint16{0xD83D}, false), // a high surrogate with no low one after it
		toUTF16(",Kano\r\n3,", false, false),
		unitBytes([]uint16{'O', 0xDE00, 'k'}, false), // a low surrogate alone
		toUTF16(",Jos\r\n4,Emeka,Aba\r\n", false, false),
	)
	return []fixture{
		{name: "utf8-bom-crlf.csv", data: []byte("\uFEFF" + crlf(
			"Customer Id,First Name,Last Name,E-mail,Mobile,Address\n"+
				"C001,Adaeze,Okafor,ada@example.com,0803 123 4567,\"12 Allen Avenue, Ikeja\"\n"+
				"C002,José,Ñúñez,jose@example.com,+234 803 123 4568,\"Flat 3\nBlock B\"\n"+
				"C003,Chukwuemeka,Nwosu,emeka@example,2348031234569,Lekki\n"))},
		{name: "semicolon-1252.csv", data: to1252(crlf(
			"Customer Id;First Name;Last Name;E-mail;Balance\n" +
				"C001;Chloé;Müller;chloe@example.com;1 250,50 €\n" +
				"C002;Zoë;O'Brien;zoe@example.com;\"0,5\"\n" +
				"C003;Ade;Bello;ade@example.com;12,00\n"))},
		{name: "tab.tsv", data: []byte(
			"Customer Id\tName\tNotes\n" +
				"C001\tBisi Ade\tcalls on Mon, Tue; not Wed\n" +
				"C002\t\"Tunde \"\"TJ\"\" Bakare\"\tprefers e-mail, SMS\n")},
		{name: "pipe.csv", data: []byte(
			"Customer Id|Name|Phone\n" +
				"C001|Amaka, Obi|0803 123 4567\n" +
				"C002|Kemi; Ola|+234 803 123 4568\n")},
		{name: "utf16le-bom.csv", data: toUTF16(crlf(
			"Customer Id,Name,City\n"+
				"C001,Adébáyọ̀ Ògúnlésì,Ìbàdàn\n"+
				"C002,\"Ngozi 😀\nOkonjo\",Abuja\n"), false, true)},
		{name: "utf16be-bom.csv", data: toUTF16(
			"Customer Id;Name;City\n"+
				"C001;Chiamaka Ụzọ;Ọnịtsha\n"+
				"C002;\"Femi; \"\"FK\"\" Kuti\";Lagos\n", true, true)},
		{name: "latin1.csv", opts: CSVOptions{Encoding: "latin1"}, data: cat(
			[]byte("id,name,note\n"),
			[]byte("1,Ol\xe1,\xa3 5\n"),
			[]byte("2,Ren\xe9e,\x85 is a control character here\n"))},
		{name: "quoted-newlines.csv", data: []byte(
			"id,address,note\n" +
				"1,\"12 Allen Avenue\nIkeja\nLagos\",plain\n" +
				"2,\"She said \"\"hi\"\"\",\"\"\n" +
				"3,\"a, b\",\"ends with newline\n\"\n" +
				"4,\"\",\"\"\n")},
		{name: "ragged.csv", data: []byte(
			"id,name,email\n" +
				"1,Ada,ada@example.com\n" +
				"2,Bola\n" +
				"3,Chidi,chidi@example.com,extra\n" +
				"4,Dayo,dayo@example.com\n")},
		{name: "invalid-utf8.csv", data: []byte(
			"id,name,city\n" +
				"1,Adébáyọ̀,Ìbàdàn\n" +
				"2,Ren\xe9e,Lagos\n" +
				"3,Ngozi,Ọnịtsha\n")},
		{name: "invalid-1252.csv", data: cat(
			to1252("id;name;city\n1;Chloé;Paris\n2;x"), []byte{0x81},
			to1252("y;Lyon\n3;Zoë;Nice\n4;Ab"), []byte{0x9D}, to1252(";Metz\n"))},
		{name: "utf16le-unpaired.csv", data: utf16Unpaired},
		{name: "blank-lines.csv", data: []byte(
			"\n\r\nid,name\n\n" +
				"1,Ada\r\n\r\n\n" +
				"2,Bola\n" +
				"   \n" +
				"3,Chidi\n\n\n")},
		{name: "no-data-lines.csv", data: []byte(crlf(
			"id,name,email,phone,city\n"+
				",,,,\n"+
				"1,Ada,ada@example.com,,Lagos\n"+
				" \t \n"+
				",,,,\n"+
				"2,\"Bola\nAde\",,,\n"+
				"\"\",\" \",,,\n"+
				"3,Chidi,,,\n"+
				",,,,\n,,,,\n") + "\x1a")},
		{name: "no-data-lines-1252.csv", opts: CSVOptions{Delimiter: ";"}, data: cat(to1252(
			"id;name\n;\n1;Zoë\n  ;  \n2;Chloé\n"), []byte("\x1a\n"))},
		{name: "no-data-lines-utf16le.csv", data: toUTF16(crlf("id,name\n , \n1,Adébáyọ̀\n,\n\n2,Ngozi\n")+"\x1a", false, true)},
		{name: "no-final-newline.csv", data: []byte("id,name\n1,Ada\n2,Bola")},
		{name: "no-final-newline-cr.csv", data: []byte("id,name\r\n1,Ada\r\n2,Bola\r")},
		{name: "bad-quotes.csv", data: []byte(
			"id,name,note\n" +
				"1,Ada \"Queen\" Obi,bare quote\n" +
				"2,\"Bola\" Ade,text after the closing quote\n" +
				"3,\"Chidi,quote never closed on this line\n" +
				"4,Dayo,fine\n" +
				"5,Emeka,\"fine, quoted\"\n")},
		{name: "unclosed-quote-eof.csv", data: []byte(
			"id,name\n" +
				"1,Ada\n" +
				"2,\"Bola\n" +
				"3,Chidi\n" +
				"4,Dayo\n")},
		{name: "header-only.csv", data: []byte("id,name,email\r\n")},
		{name: "single-column.csv", data: []byte("email\nada@example.com\n\nbola@example.com\n")},
		{name: "explicit-delimiter.csv", opts: CSVOptions{Delimiter: "semicolon", Encoding: "UTF8"}, data: []byte(
			"id,code;name\n1,A;Ada\n")},
		{name: "excel-sep.csv", data: []byte(crlf("sep=;\nid;name;note\n1;Ada;a, b\n2;\"Bola\nAde\";\n"))},
		{name: "excel-sep-bom-comma.csv", data: []byte("\uFEFFSEP=,\nid,name\n1,Ada;Obi\n")},
		{name: "excel-sep-utf16le.csv", data: toUTF16(crlf("sep=\t\nid\tname\n1\tAdébáyọ̀\n"), false, true)},
		{name: "nul-in-values.csv", data: []byte("id,name\n1,Ada\x00\x00\x00\n2,\x00\n")},
		// Columns without a name at the end of the header, as a spreadsheet leaves them: ignored, and
		// their values too when empty; a value in one is its row's problem.
		{name: "header-trailing-empty.csv", data: []byte("id;name;;;\r\n1;Ada;;;\r\n")},
		{name: "header-trailing-empty-lf.csv", data: []byte("id,name,\n1,Ada,\n2,Bola\n")},
		{name: "unnamed-columns.csv", data: []byte(crlf(
			"Customer Id;Name; ;\n" +
				"1;Ada;;\n" +
				"2;Bola\n" +
				"3;Chidi;;x\n" +
				"4;Dayo;; \n" +
				"5;Emeka;;;\n" +
				"6;\"Femi\";\"\";\n" +
				"7;Gbenga;\"a\nb\";\n" +
				"8\n"))},
		{name: "unnamed-columns-utf16be.csv", data: toUTF16("id\tname\t\t\n1\tỌla\t\t\n2\tỌla\tx\t\n", true, true)},
		// Title lines above the header (csv.skip_lines) and a footer below the data (csv.skip_footer,
		// csv.footer): not rows; the lines keep their numbers in the file.
		{name: "title-footer.csv", opts: CSVOptions{SkipLines: 2, SkipFooter: 1}, data: []byte(crlf(
			"Customer export\n" +
				"Lagos branch, \"Q1\n" + // a quote never closed: the title is lines, not records
				"id,name,city\n" +
				"1,Ada,Lagos\n" +
				"2,\"Bola\nAde\",Abuja\n" +
				"\n" +
				"3,Chidi,Enugu\n" +
				",,\n" +
				"Total records: 3\n" +
				"\n"))},
		{name: "title-footer-utf16le.csv", opts: CSVOptions{SkipLines: 1, SkipFooter: 2}, data: toUTF16(crlf(
			"sep=;\n"+
				"Liste des clients – été\n"+
				"id;name\n"+
				"1;Adébáyọ̀\n"+
				"2;\"Ngozi\nOkonjo\"\n"+
				";\n"+
				"Total;2\n"+
				"End of report"), false, true)},
		{name: "title-1252.csv", opts: CSVOptions{SkipLines: 1}, data: to1252("Liste des clients – été; 2026\n\nid;nom\n1;Zoë\n2;Chloé\n")},
		{name: "footer-pattern.csv", opts: CSVOptions{Footer: "^(Total|Count)"}, data: []byte(
			"id,name\n" +
				"1,Ada\n" +
				"Total,not the end\n" +
				"2,Bola\n" +
				"Count: 2\n" +
				"\n" +
				"Total: 2")},
		{name: "footer-broken-quote.csv", opts: CSVOptions{SkipFooter: 1}, data: []byte("id,name\n1,Ada\n\"Total\" rows: 1\n")},
		{name: "footer-takes-every-record.csv", opts: CSVOptions{SkipFooter: 3}, data: []byte("id,name\n1,Ada\n2,Bola\n")},
		{name: "excel-sep-single-column.csv", data: []byte("sep=;\nemail\nada@example.com\nbola@example.com\n")},
		{name: "excel-sep-lookalike.csv", data: []byte("sep=;x,name\n1,Ada\n")},
		// Problems with the file as a whole.
		{name: "empty.csv", data: []byte{}},
		{name: "bom-only.csv", data: []byte("\uFEFF")},
		{name: "blank-only.csv", data: []byte("\n\r\n\n")},
		{name: "header-duplicate.csv", data: []byte("id,Email,name, email \n1,a,b,c\n")},
		{name: "header-empty-name.csv", data: []byte("id,,name\n1,Ada,Obi\n")},
		{name: "excel-sep-conflict.csv", opts: CSVOptions{Delimiter: "|"}, data: []byte("sep=;\nid;name\n")},
		{name: "xlsx.csv", data: []byte("PK\x03\x04\x14\x00\x06\x00\x08\x00\x00\x00!\x00b\xee\x9dh^\x01\x00\x00\x90\x04\x00\x00\x13\x00[Content_Types].xml")},
		{name: "nul-bytes.csv", data: []byte("id\x00,\x00name\x00\n1,Ada\n")},
		{name: "header-bad-quote.csv", data: []byte("id,\"name\n1,Ada\n")},
		{name: "header-invalid-utf8.csv", opts: CSVOptions{Encoding: "utf-8"}, data: []byte("id,n\xe9m\n1,a\n")},
		{name: "undecidable.csv", data: []byte("id,code;name\n1,A;Ada\n")},
		{name: "utf16le-no-bom.csv", data: toUTF16("id,name\n1,Ada\n", false, false)},
		{name: "utf16-no-bom.csv", opts: CSVOptions{Encoding: "utf-16"}, data: toUTF16("id,name\n1,Ada\n", true, false)},
		{name: "utf32.csv", data: []byte{0xFF, 0xFE, 0, 0, 'i', 0, 0, 0}},
		{name: "bom-conflict.csv", opts: CSVOptions{Encoding: "windows-1252"}, data: []byte("\uFEFFid,name\n1,Ada\n")},
		{name: "unknown-encoding.csv", opts: CSVOptions{Encoding: "utf9"}, data: []byte("id,name\n")},
		{name: "unknown-delimiter.csv", opts: CSVOptions{Delimiter: ":"}, data: []byte("id:name\n")},
	}
}
