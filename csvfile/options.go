package csvfile

// CSVOptions is the csv: section of a mapping file: how to read the input.
// Empty fields and "auto" mean "decide from the file".
type CSVOptions struct {
	Delimiter string // "auto", ",", ";", "\t" or "|"
	Encoding  string // "auto", "utf-8", "utf-16", "windows-1252" or "iso-8859-1"
	// SkipLines is how many lines above the header are not part of the table (a title): the first lines
	// of the file, after any byte-order mark and Excel "sep=" line, whatever they hold, blank ones included.
	SkipLines int
	// SkipFooter is how many records at the end of the file are a footer ("Total records: 5000"), not rows:
	// the last ones that hold data, as Next delimits records. At most MaxSkipFooter.
	SkipFooter int
	// Footer is an RE2 pattern: the records at the end of the file whose text (the values joined by the
	// delimiter) it matches are a footer, not rows; at most MaxSkipFooter of them. "" for none. A record
	// it matches that is followed by one it does not is a row like any other.
	Footer string
}

// Bounds of the csv: framing options. A footer is found by reading that many records ahead, which the
// reader holds in memory: a few are plenty.
const (
	MaxSkipLines  = 1000
	MaxSkipFooter = 100
)

// Dialect is what the reader decided about a file: the delimiter, the encoding, whether the file began
// with a byte-order mark, whether its first line is Excel's delimiter hint "sep=X" and whether its lines
// end in CRLF. The rejects file is written in the same dialect, so that it can be fed back to the importer
// unchanged.
type Dialect struct {
	Delimiter rune
	Encoding  string // canonical: "utf-8", "utf-16le", "utf-16be", "windows-1252" or "iso-8859-1"
	BOM       bool
	Sep       bool // the file begins (after any byte-order mark) with the line "sep=" and the delimiter
	CRLF      bool
	// Unnamed is how many columns at the end of the header have no name (a,b,c,, has 2): a spreadsheet
	// leaves them. The reader ignores them: Header leaves them out, and so do the records' values.
	Unnamed int
	// The framing options the file was read with (see CSVOptions), so that it can be read again the same way.
	SkipLines  int
	SkipFooter int
	Footer     string
}

// DelimiterName names the delimiter for people: "," (comma), ";" (semicolon), tab, "|" (pipe).
func (d Dialect) DelimiterName() string {
	switch d.Delimiter {
	case ',':
		return `"," (comma)`
	case ';':
		return `";" (semicolon)`
	case '\t':
		return "tab"
	case '|':
		return `"|" (pipe)`
	}
	return delimName(byte(d.Delimiter))
}

// EncodingName names the encoding for people, with its byte-order mark when it has one: "UTF-8 with a
// byte-order mark", "windows-1252".
func (d Dialect) EncodingName() string {
	name := d.Encoding
	switch d.Encoding {
	case "utf-8":
		name = "UTF-8"
	case "utf-16le":
		name = "UTF-16LE"
	case "utf-16be":
		name = "UTF-16BE"
	}
	if d.BOM {
		name += " with a byte-order mark"
	}
	return name
}
