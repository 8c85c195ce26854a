package csvfile

import (
	"bufio"
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math"
	"regexp"
	"slices"
	"strings"
)

const (
	// maxRecordSize bounds the bytes of one record that the reader keeps, and so its memory: a longer record
	// (a value pasted from another file, a quote that is never closed, a file that is not CSV) is read
	// through to its end without being kept, and rejected whole.
	maxRecordSize = 1 << 20
	sniffSize     = 64 << 10 // bytes looked at to decide the dialect
	bufSize       = 64 << 10
)

// Record is one data record of the input.
//
// When Err is nil, Fields holds exactly len(Header()) values. When Err is set the row is rejected: Fields
// holds what could be decoded (invalid bytes as U+FFFD, maybe another number of values) and Raw what the
// file says, for rejects.csv. Fields and Raw may share their backing array: treat both as read-only.
type Record struct {
	Row    int      // 1-based data record number: the header, blank lines and lines without data are not rows
	Line   int      // 1-based line of the file the record starts on
	Offset int64    // where the record starts in the file (SeekRecord(Offset, Row) reads it again)
	End    int64    // where the next one starts (SeekRecord(End, Row+1) reads on from there)
	Fields []string // the values as UTF-8
	// Raw holds the values as written in the file, in its encoding, unquoted (a quoted line break
	// written CRLF reads as "\n", as encoding/csv gives it), less the empty ones under the header's
	// unnamed columns, which Fields leaves out too. For UTF-16 files they are decoded to UTF-8, except that an unpaired surrogate keeps its code point (WTF-8), so that RejectsWriter
	// writes back the same code units. A record whose quoting is broken has its whole text here, as
	// the file has it (its line breaks included, the one that ends it excluded), split at each
	// delimiter with its quotes as they are. A record longer than the record limit (1 MiB) has
	// neither Fields nor Raw: RejectsWriter copies its bytes from the file, through the Reader that
	// read it, which must then still be open and not in use by another goroutine.
	Raw []string
	Err error // the row's own problem (a *RecordError), or nil

	// For a record too long to keep: the Reader that read it, and where its text is in the file.
	src              *Reader
	textFrom, textTo int64
}

// Reader reads the data records of a CSV file, one at a time, in flat memory: it keeps at most about
// 1 MiB of a record, however long the record is.
//
// # Dialect
//
// Open and NewReader decide the delimiter and the encoding from the first 64 KiB unless CSVOptions
// names them (see Dialect), and read the header. Header names are decoded and trimmed of surrounding
// spaces; an empty name before another name, or two names equal when compared ignoring case and
// surrounding spaces, is an *InputError, as is a file that is empty or holds only blank lines. Empty
// names at the end of the header (a,b,c,,), which a spreadsheet export leaves, are not an error: those
// columns are ignored. Header leaves them out and Dialect.Unnamed counts them; a record's values under
// them are dropped when empty or white space (a row may also end before them), and a record with a
// value under one is rejected (ErrUnnamedValue, naming the column), since that value would be lost.
//
// A csv.encoding of windows-1252 or iso-8859-1 on a file whose first 64 KiB are valid UTF-8 with
// multi-byte characters is an *InputError naming the line of the first: read in a single-byte
// encoding, each such character would be sent as two or three others ("José" as "JosÃ©").
//
// A first line "sep=X" (after any byte-order mark; sep in any case, X one character, nothing else on the
// line) is Excel's hint of the delimiter: X is the delimiter, and the line is neither the header nor a
// row, so the header is line 2. A csv.delimiter other than X is an *InputError, as is an X that is not
// one of , ; tab |, and so is a line whose X the header does not have while another delimiter splits the
// header and the rows. Dialect.Sep records the line, and the rejects file has it too.
//
// A file whose lines end in CR alone (classic Mac OS: a CR and no LF in the first 64 KiB) is an
// *InputError saying how to convert it: records read with CR line ends would not keep the byte offsets
// that resuming relies on.
//
// A file that is not text is refused before anything else, with an *InputError saying what it looks
// like: an Excel .xlsx (any ZIP archive) or .xls file, a gzip file or a PDF by their first bytes, and
// any other file with a NUL byte where its header should be, within the first KiB (no text has one
// there; UTF-16 text is told apart by its byte-order mark, or by the pattern of its zero bytes when
// csv.encoding is auto). A NUL in a value further on is read as a character, as legacy exports pad with
// them.
//
// # Title and footer
//
// An export may have a title above its header and a footer below its data, which are not rows.
// CSVOptions.SkipLines skips that many lines before the header: the first lines of the file after any
// byte-order mark and after a sep= line (Excel writes sep= as the very first line; a title comes after
// it), counted at each line feed whatever they hold — blank lines, quotes and delimiters included — so
// that they are lines, not records. The dialect is decided from the file after them, and line numbers
// stay the file's own: the header of a file with one title line is line 2.
//
// CSVOptions.SkipFooter makes the last N records that hold data (as Next delimits records: blank lines
// and lines without data do not count) the footer; CSVOptions.Footer, an RE2 pattern, makes the footer
// the records at the end of the file whose text, the values joined by the delimiter, it matches. Either
// way the footer is at most MaxSkipFooter records. A stream cannot know a record is not in the footer
// until it has read the records after it: Next and CountRest read ahead — N records, or with a pattern
// the run of matching records up to the first that does not match — and hold them, MaxSkipFooter at
// most, so memory stays bounded. A record the pattern matches followed by one it does not is a row like
// any other. Footer says what was left out once the end is reached.
//
// # Records
//
// Next yields one Record per data record: blank lines are skipped and are not rows; a quoted field may
// span lines; the last line need not end in a line break. A record that holds no data is skipped like a
// blank line: every field empty or white space (a line of spaces, or of delimiters only, as a
// spreadsheet leaves below its data), or a DOS end-of-file mark (Ctrl-Z, 0x1A) alone on the last line.
// CountRest and SeekRecord skip them alike, so row numbers do not depend on where reading started. A record that cannot be read cleanly is still
// a Record, rejected through its Err and never the end of the file:
//
//   - a number of fields other than the header's (ErrFieldCount), its unnamed columns allowed for;
//   - a value under one of the header's unnamed columns (ErrUnnamedValue);
//   - bytes not valid in the encoding: invalid UTF-8, the five bytes Windows-1252 leaves undefined
//     (0x81, 0x8D, 0x8F, 0x90, 0x9D), an unpaired UTF-16 surrogate (ErrEncoding);
//   - broken quoting (ErrQuote): a quote inside a value that is not quoted, or a closing quote
//     followed by something other than the delimiter or a line break, or a quote never closed;
//   - a record longer than 1 MiB (ErrRecordTooLong), a value pasted from another file for one.
//
// A record with broken quoting, or too long, is rejected whole, and what is inside its quoted values
// is never read as rows. Its end is found the way RFC 4180 readers that tolerate broken quotes find it
// (Python's csv module, with strict=False): a quote opens a quoted value only as the value's first
// character; in a quoted value, "" is a quote, and a quote followed by the delimiter or a line break
// closes it; a quote followed by anything else closes the quoted part too, and the value goes on
// unquoted, its quotes then being text. The record ends at the first line break outside a quoted
// value. So a quote that is never closed makes the rest of the file one rejected record, whose reason
// names the line the quote opened on and the last line of the file: the rows after it cannot be told
// from text inside the value, and are not sent. The record is kept, as its text split at each delimiter
// (Raw), when it is at most 1 MiB long; a longer one is read through to its end in flat memory, and
// RejectsWriter copies its bytes from the file. A record without data by the same reading (every value
// empty or white space) is skipped like a blank line. As a result, the rows Next yields, rejected ones
// included, are exactly the records Python's csv module reads from the file, less the header and the
// records without data; the one difference is a CR alone outside quotes, which Python reads as a line
// break and this reader, as encoding/csv does, as text.
//
// # Positions
//
// Offset and End are byte offsets in the file, whatever the encoding, and End is the next record's
// Offset. SeekRecord(rec.End, rec.Row+1) on any Reader of the same file, with the same options, yields
// exactly the records a reader that went on would have yielded: same rows, lines, positions and values. For
// UTF-8, Windows-1252 and ISO-8859-1 the raw bytes are parsed as they are (the delimiter, quote and line
// breaks are the same bytes in all three) and each field is decoded afterwards, so positions are simply
// the parser's. For UTF-16 the file is decoded as it is read, and the decoder notes the file position
// after each line break, which is where a record ends; positions are file offsets there too.
//
// Line numbers survive a SeekRecord: it counts the line breaks before the position (one pass over that
// part of the file, without parsing it), so messages after a resumed read name the same lines. The
// footer is found from the end of the file, whatever the position: a resumed read leaves out the same
// footer, and CountRest from any record boundary counts the rows Next yields from there.
//
// A Reader is not safe for concurrent use. Each Record it returns belongs to the caller.
type Reader struct {
	f         io.ReadSeeker
	closer    io.Closer
	name      string
	d         Dialect
	enc       Encoding
	bomLen    int64
	header    []string
	dataStart int64 // where the first data record starts
	maxRecord int64

	// The parser, started at file offset base, whose line 1 is line lineBase+1 of the file.
	u16      utf16Decoder
	lim      limitedReader
	br       *bufio.Reader
	cr       *csv.Reader
	base     int64
	lineBase int
	reuse    bool // the parser may reuse its record slice: only counting, nothing kept

	pos    int64 // where the next record starts
	row    int   // its row number
	err    error // io.EOF or an I/O error, returned from then on
	closed bool

	// Framing (csv.skip_lines, csv.skip_footer, csv.footer): where the title lines are in the file, and
	// the records read ahead to tell the footer from rows (see readRow).
	titleFrom, titleTo int64
	skipFooter         int
	footerRE           *regexp.Regexp
	ahead              []rawRecord // from head on
	footer             []rawRecord // once the end is reached: the footer's records (their spans)
	head               int
	ended              bool // the end was reached, and footer holds the footer
}

// Open opens the file at path and reads its dialect and header. Problems with the file itself are
// returned as an *InputError (anything but a regular file is refused before it is opened: see
// OpenRegular); I/O errors as they are.
func Open(path string, opts CSVOptions) (*Reader, error) {
	f, err := OpenRegular(path)
	if err != nil {
		return nil, err
	}
	r, err := newReader(f, path, opts, maxRecordSize)
	if err != nil {
		f.Close()
		return nil, err
	}
	r.closer = f
	return r, nil
}

func openError(path string, err error) error {
	e := &InputError{File: path, Msg: "cannot open the file", Err: err}
	var pe *fs.PathError
	if errors.As(err, &pe) {
		e.Msg += ": " + pe.Err.Error()
	}
	switch {
	case errors.Is(err, fs.ErrNotExist):
		e.Fix = "check the path and the file name"
	case errors.Is(err, fs.ErrPermission):
		e.Fix = "check that you may read the file"
	}
	return e
}

// NewReader reads the dialect and the header of the CSV file in r, which starts at offset 0; name is what
// messages call it. The Reader does not close r.
func NewReader(r io.ReadSeeker, name string, opts CSVOptions) (*Reader, error) {
	return newReader(r, name, opts, maxRecordSize)
}

func newReader(f io.ReadSeeker, name string, opts CSVOptions, maxRecord int64) (*Reader, error) {
	delim, autoDelim, ok := ParseDelimiter(opts.Delimiter)
	if !ok {
		return nil, &InputError{File: name, Msg: fmt.Sprintf("unsupported csv.delimiter %q", opts.Delimiter), Fix: DelimiterHint}
	}
	want, autoEnc, ok := ParseEncoding(opts.Encoding)
	if !ok {
		return nil, &InputError{File: name, Msg: fmt.Sprintf("unsupported csv.encoding %q", opts.Encoding), Fix: EncodingHint}
	}
	footer, problem := checkFraming(opts)
	if problem != nil {
		return nil, &InputError{File: name, Msg: problem.msg, Fix: problem.hint}
	}
	r := &Reader{f: f, name: name, maxRecord: maxRecord, br: bufio.NewReaderSize(nil, bufSize)}
	text, eof, sepDelim, sepLen, err := r.prelude(want, autoEnc)
	if err != nil {
		return nil, err
	}
	enc, bomLen := r.enc, int(r.bomLen)

	// The title lines come after the sep= line, if there is one, and the header after them. rest is the
	// start of the file from there, in an ASCII-compatible form; the dialect is decided from it.
	sepRaw := int64(sepLen)
	if !enc.asciiCompatible() {
		sepRaw *= 2 // the line is ASCII: one code unit per byte
	}
	lineBase := 0
	if sepLen > 0 {
		lineBase = 1
	}
	rest, restEOF := text[sepLen:], eof
	r.titleFrom, r.titleTo = r.bomLen+sepRaw, r.bomLen+sepRaw
	if opts.SkipLines > 0 {
		to, lines, err := r.lineEnds(r.titleFrom, opts.SkipLines)
		if err != nil {
			return nil, err
		}
		if lines < opts.SkipLines {
			return nil, &InputError{File: name, Msg: fmt.Sprintf("csv.skip_lines is %d but the file has only %s%s", opts.SkipLines, plural(lines, "line"), titleAfter(sepLen > 0)),
				Fix: SkipLinesHint}
		}
		r.titleTo, lineBase = to, lineBase+opts.SkipLines
		if rest, restEOF, err = r.textAt(to); err != nil {
			return nil, err
		}
	}
	if enc.asciiCompatible() {
		if line, ok := nulInHeader(rest, 0); ok {
			return nil, &InputError{File: name, Line: lineBase + line, Msg: "the file has NUL bytes where its header should be: it is not CSV text",
				Fix: "export or save the data as CSV (if it is UTF-16 text without a byte-order mark, set csv.encoding to utf-16le or utf-16be)"}
		}
	}
	switch {
	case sepLen > 0 && !autoDelim && delim != rune(sepDelim):
		return nil, &InputError{File: name, Line: 1,
			Msg: fmt.Sprintf("the file's first line says the delimiter is %s (sep=%c) but csv.delimiter is %s", delimName(sepDelim), sepDelim, delimName(byte(delim))),
			Fix: fmt.Sprintf("set csv.delimiter to auto or %s", delimName(sepDelim))}
	case sepLen > 0:
		if problem := sepContradicted(rest, sepDelim, restEOF); problem != nil {
			return nil, &InputError{File: name, Line: 1, Msg: problem.msg, Fix: problem.hint}
		}
		delim = rune(sepDelim)
	case autoDelim:
		d, problem := sniffDelimiter(rest, restEOF)
		if problem != nil {
			return nil, &InputError{File: name, Msg: problem.msg, Fix: problem.hint}
		}
		delim = rune(d)
	}
	crlf := sniffCRLF(rest)
	if lineBase > 0 && !bytes.Contains(bytes.TrimLeft(rest, "\r\n"), []byte{'\n'}) {
		crlf = sniffCRLF(text) // no other line has a line end: the sep= line's, or the first title line's
	}
	r.d = Dialect{Delimiter: delim, Encoding: enc.String(), BOM: bomLen > 0, Sep: sepLen > 0, CRLF: crlf,
		SkipLines: opts.SkipLines, SkipFooter: opts.SkipFooter, Footer: opts.Footer}
	r.skipFooter, r.footerRE = opts.SkipFooter, footer

	if err := r.restart(r.titleTo, lineBase); err != nil {
		return nil, err
	}
	if err := r.readHeader(); err != nil {
		return nil, err
	}
	return r, nil
}

// prelude reads the start of the file: it refuses what is not text, decides the encoding (want, or
// from the file when auto), sets r.enc and r.bomLen, and recognises Excel's sep= line. It returns the
// start of the file after any byte-order mark in an ASCII-compatible form (UTF-16 decoded), whether that
// is the whole file, and the sep= line's delimiter and length (0 when there is none).
func (r *Reader) prelude(want Encoding, autoEnc bool) (text []byte, eof bool, sepDelim byte, sepLen int, err error) {
	name := r.name
	if _, err := r.f.Seek(0, io.SeekStart); err != nil {
		return nil, false, 0, 0, fmt.Errorf("read %s: %w", name, err)
	}
	prefix := make([]byte, sniffSize)
	n, err := io.ReadFull(r.f, prefix)
	eof = err == io.EOF || err == io.ErrUnexpectedEOF
	if err != nil && !eof {
		return nil, false, 0, 0, fmt.Errorf("read %s: %w", name, err)
	}
	prefix = prefix[:n]
	if problem := notText(prefix); problem != nil {
		return nil, false, 0, 0, &InputError{File: name, Msg: problem.msg, Fix: problem.hint}
	}
	enc, bomLen, problem := detectEncoding(prefix, eof, want, autoEnc)
	if problem != nil {
		return nil, false, 0, 0, &InputError{File: name, Line: problem.line, Msg: problem.msg, Fix: problem.hint}
	}
	body := prefix[bomLen:]
	if len(body) == 0 {
		return nil, false, 0, 0, &InputError{File: name, Msg: "the file is empty", Fix: "the first line must be the header, naming the columns"}
	}
	text = body
	if !enc.asciiCompatible() {
		if !eof {
			body = body[:len(body)&^1]
		}
		var d utf16Decoder
		d.reset(bytes.NewReader(body), 0, enc == UTF16BE)
		text, _ = io.ReadAll(&d) // reading a bytes.Reader cannot fail
	}
	if crOnly(text) {
		// Reading it would need CR as the line end, and Offset/End would then no longer be where the
		// records of a resumed run start: refused, with how to convert it.
		return nil, false, 0, 0, &InputError{File: name, Msg: "the file uses CR-only line endings (classic Mac OS), which are not supported",
			Fix: `convert it to LF or CRLF (e.g. tr '\r' '\n' < FILE.csv > FIXED.csv)`}
	}
	sepDelim, sepLen, problem = excelSep(text, eof)
	if problem != nil {
		return nil, false, 0, 0, &InputError{File: name, Line: 1, Msg: problem.msg, Fix: problem.hint}
	}
	r.enc, r.bomLen = enc, int64(bomLen)
	return text, eof, sepDelim, sepLen, nil
}

const SkipLinesHint = "csv.skip_lines is the number of title lines above the header (after any sep= line): set it to that number, or remove it"

// titleAfter says where the lines csv.skip_lines counts start, when it is not the file's start.
func titleAfter(sep bool) string {
	if sep {
		return " after its sep= line"
	}
	return ""
}

// lineEnds finds where the n lines that start at file offset from end: after the n-th line feed. It
// returns that offset and n, or, when the file ends first, the number of line feeds it has.
func (r *Reader) lineEnds(from int64, n int) (int64, int, error) {
	if _, err := r.f.Seek(from, io.SeekStart); err != nil {
		return 0, 0, fmt.Errorf("read %s: %w", r.name, err)
	}
	buf := make([]byte, bufSize) // even: UTF-16 code units never straddle two reads
	pos, lines := from, 0
	for lines < n {
		k, err := io.ReadFull(r.f, buf)
		if err != nil && err != io.EOF && err != io.ErrUnexpectedEOF {
			return 0, 0, fmt.Errorf("read %s: %w", r.name, err)
		}
		chunk := buf[:k]
		for i := 0; i < len(chunk) && lines < n; {
			j := bytes.IndexByte(chunk[i:], '\n')
			if j < 0 {
				break
			}
			j += i
			i = j + 1
			switch r.enc {
			case UTF16LE:
				if j&1 == 1 || j+1 >= len(chunk) || chunk[j+1] != 0 {
					continue
				}
				i = j + 2
			case UTF16BE:
				if j&1 == 0 || chunk[j-1] != 0 {
					continue
				}
			}
			lines++
			pos = from + int64(i)
		}
		if err != nil {
			break
		}
		from += int64(k)
	}
	return pos, lines, nil
}

// textAt reads up to sniffSize bytes of the file from offset pos, in an ASCII-compatible form (UTF-16
// decoded), and reports whether that is the rest of the file.
func (r *Reader) textAt(pos int64) ([]byte, bool, error) {
	if _, err := r.f.Seek(pos, io.SeekStart); err != nil {
		return nil, false, fmt.Errorf("read %s: %w", r.name, err)
	}
	b := make([]byte, sniffSize)
	n, err := io.ReadFull(r.f, b)
	eof := err == io.EOF || err == io.ErrUnexpectedEOF
	if err != nil && !eof {
		return nil, false, fmt.Errorf("read %s: %w", r.name, err)
	}
	b = b[:n]
	if r.enc.asciiCompatible() {
		return b, eof, nil
	}
	if !eof {
		b = b[:len(b)&^1]
	}
	var d utf16Decoder
	d.reset(bytes.NewReader(b), 0, r.enc == UTF16BE)
	text, _ := io.ReadAll(&d) // reading a bytes.Reader cannot fail
	return text, eof, nil
}

// readHeader reads and checks the header record.
func (r *Reader) readHeader() error {
	raw, err := r.readRaw()
	if err == io.EOF && r.d.SkipLines > 0 {
		return &InputError{File: r.name, Msg: fmt.Sprintf("the file has no header: it holds only blank lines after the %s that csv.skip_lines skips", plural(r.d.SkipLines, "line")),
			Fix: SkipLinesHint}
	}
	if err == io.EOF && r.d.Sep {
		return &InputError{File: r.name, Msg: "the file has no header: it holds only its sep= line and blank lines", Fix: "the line after sep= must be the header, naming the columns"}
	}
	if err == io.EOF {
		return &InputError{File: r.name, Msg: "the file has no header: it holds only blank lines", Fix: "the first line must be the header, naming the columns"}
	}
	if err != nil {
		return err
	}
	if p := raw.problem; p != nil {
		return &InputError{File: r.name, Line: raw.line, Msg: "cannot read the header: " + p.Reason,
			Fix: "the first line must be the header, naming the columns, with any quotes in a name doubled inside a quoted name"}
	}
	names := make([]string, len(raw.fields))
	for i, f := range raw.fields {
		s, ok := r.enc.decode(f)
		if !ok {
			return &InputError{File: r.name, Line: raw.line,
				Msg: fmt.Sprintf("column %d of the header has bytes not valid %s", i+1, r.enc.label()),
				Fix: encodingFix(r.enc, r.d.BOM)}
		}
		names[i] = strings.TrimSpace(s)
	}
	named, e := unnamedColumn(names)
	if e != nil {
		e.File, e.Line = r.name, raw.line
		return e
	}
	r.d.Unnamed = len(names) - named
	names = names[:named]
	seen := make(map[string]int, len(names)) // ColumnKey: SameColumnName in one pass
	for i, n := range names {
		k := ColumnKey(n)
		if j, dup := seen[k]; dup {
			return &InputError{File: r.name, Line: raw.line, Msg: fmt.Sprintf("duplicate column name %q (columns %d and %d)", n, j+1, i+1),
				Fix: "rename one of them: column names are compared ignoring case and surrounding spaces"}
		}
		seen[k] = i
	}
	r.header, r.dataStart, r.pos, r.row = names, raw.end, raw.end, 1
	return nil
}

// unnamedColumn returns how many of the header's names come before the empty ones at its end, and an
// error for an empty name before another: only the columns at the end may have none. Those are what a
// spreadsheet exports when cells right of the data were once used or formatted, and are ignored.
func unnamedColumn(names []string) (int, *InputError) {
	named := len(names)
	for named > 0 && names[named-1] == "" {
		named--
	}
	if named == 0 {
		return 0, &InputError{Msg: "column 1 has no name, nor has any other: the header names no column", Fix: "the first line must be the header, naming the columns"}
	}
	if i := slices.Index(names[:named], ""); i >= 0 {
		return 0, &InputError{Msg: fmt.Sprintf("column %d has no name", i+1),
			Fix: "name every column in the header (only columns at its end may have no name, as a spreadsheet leaves them: those are ignored)"}
	}
	return named, nil
}

// Header returns the column names: decoded, trimmed of surrounding spaces.
func (r *Reader) Header() []string { return slices.Clone(r.header) }

// Dialect returns the delimiter, encoding, byte-order mark and line ends of the file.
func (r *Reader) Dialect() Dialect { return r.d }

// Next returns the next record, or io.EOF after the last one. Any other error is an I/O error, after
// which the Reader is unusable; a record's own problems are in its Err.
func (r *Reader) Next() (*Record, error) {
	if r.err != nil {
		return nil, r.err
	}
	raw, err := r.readRow(true)
	if err != nil {
		r.err = err
		return nil, err
	}
	rec := &Record{Row: r.row, Line: raw.line, Offset: raw.off, End: raw.end, Raw: raw.fields}
	if raw.long {
		rec.src, rec.textFrom, rec.textTo = r, raw.textFrom, raw.textTo
	}
	r.row++
	fields, bad := r.decodeFields(raw.fields)
	rec.Fields = fields
	if raw.problem == nil {
		r.dropUnnamed(rec)
	}
	switch {
	case raw.problem != nil:
		raw.problem.Row = rec.Row
		rec.Err = raw.problem
	case r.truncatedUTF16(raw.fields):
		// Before the count of fields: a lone byte after the last line break is a record of one field.
		p := &RecordError{Row: rec.Row, Line: rec.Line, Kind: ErrEncoding,
			Reason: "the file ends in half a UTF-16 character (an odd number of bytes): it was cut short; export or copy it again"}
		if len(fields) == len(r.header) {
			p.Column, p.Name = len(fields), r.header[len(fields)-1]
		}
		rec.Err = p
	case len(rec.Fields) != len(r.header):
		rec.Err = r.widthProblem(rec)
	case bad > 0:
		rec.Err = &RecordError{Row: rec.Row, Line: rec.Line, Column: bad, Name: r.header[bad-1], Kind: ErrEncoding,
			Reason: encodingReason(r.enc, r.d.BOM)}
	}
	return rec, nil
}

// dropUnnamed drops a record's values under the header's unnamed columns at its end, from Fields and
// Raw, when they are all empty (or white space): they are no data, and a row of a spreadsheet export has
// them. A record that ends before those columns, or goes past them, keeps its values: its number of
// fields is wrong.
func (r *Reader) dropUnnamed(rec *Record) {
	named := len(r.header)
	if n := len(rec.Fields); n <= named || n > named+r.d.Unnamed {
		return
	}
	for _, v := range rec.Fields[named:] {
		if !isBlank(v) {
			return
		}
	}
	rec.Fields, rec.Raw = rec.Fields[:named], rec.Raw[:named]
}

// noValues reports whether every value is empty or white space.
func noValues(fields []string) bool {
	for _, v := range fields {
		if !isBlank(v) {
			return false
		}
	}
	return true
}

// isBlank reports whether a value is empty or white space.
func isBlank(v string) bool {
	for i := 0; i < len(v); i++ {
		if !isSpace(v[i]) {
			return false
		}
	}
	return true
}

// widthProblem says why a record whose number of values is not the header's is rejected: a value under
// an unnamed column (which would not be sent, and would be lost), or another number of fields.
func (r *Reader) widthProblem(rec *Record) *RecordError {
	named, n := len(r.header), len(rec.Fields)
	p := &RecordError{Row: rec.Row, Line: rec.Line, Kind: ErrFieldCount}
	if r.d.Unnamed == 0 {
		p.Reason = fmt.Sprintf("%s, header has %d", plural(n, "field"), named)
		return p
	}
	if n <= named+r.d.Unnamed {
		for i := named; i < n; i++ {
			if !isBlank(rec.Fields[i]) {
				p.Column, p.Kind = i+1, ErrUnnamedValue
				p.Reason = fmt.Sprintf("a value in a column the header does not name (%s): name the column in the header, or move the value to the column it belongs to",
					r.unnamedColumns())
				return p
			}
		}
	}
	p.Reason = fmt.Sprintf("%s, header has %d named columns and %d without a name after them", plural(n, "field"), named, r.d.Unnamed)
	return p
}

// unnamedColumns describes the header's unnamed columns: "column 4 has no name and is ignored",
// "columns 4 to 5 have no name and are ignored".
func (r *Reader) unnamedColumns() string {
	span := columnSpan(len(r.header)+1, r.d.Unnamed)
	if r.d.Unnamed == 1 {
		return span + " has no name and is ignored"
	}
	return span + " have no name and are ignored"
}

// truncatedUTF16 reports whether a record of a UTF-16 file holds the byte the decoder puts for a lone
// byte at the end of the file (no UTF-16 text decodes to it).
func (r *Reader) truncatedUTF16(raw []string) bool {
	if r.enc.asciiCompatible() || len(raw) == 0 {
		return false
	}
	last := raw[len(raw)-1]
	return len(last) > 0 && last[len(last)-1] == badUTF16
}

func plural(n int, what string) string {
	if n == 1 {
		return "1 " + what
	}
	return fmt.Sprintf("%d %ss", n, what)
}

// decodeFields decodes a record's values. It returns raw itself when no value changes (valid UTF-8, or
// ASCII in a single-byte encoding), and the 1-based column of the first invalid value, or 0.
func (r *Reader) decodeFields(raw []string) ([]string, int) {
	i := 0
	for ; i < len(raw); i++ {
		if !r.enc.plain(raw[i]) {
			break
		}
	}
	if i == len(raw) {
		return raw, 0
	}
	out := make([]string, len(raw))
	copy(out, raw[:i])
	bad := 0
	for ; i < len(raw); i++ {
		s, ok := r.enc.decode(raw[i])
		out[i] = s
		if !ok && bad == 0 {
			bad = i + 1
		}
	}
	return out, bad
}

// mixedEncodings is the advice for bytes not valid UTF-8 in a file that begins with a UTF-8 byte-order
// mark: the mark says UTF-8 (and another csv.encoding is refused), so the file mixes encodings.
const mixedEncodings = "the file begins with a UTF-8 byte-order mark, so it mixes encodings: export it again as UTF-8, or fix these bytes"

func encodingReason(e Encoding, bom bool) string {
	switch {
	case e == Windows1252:
		return "bytes not valid Windows-1252 (0x81, 0x8D, 0x8F, 0x90 and 0x9D are undefined; is the file UTF-8 or ISO-8859-1?)"
	case !e.asciiCompatible():
		return "bytes not valid " + e.label() + " (an unpaired surrogate, or a character cut by the end of the file)"
	case bom:
		return "bytes not valid UTF-8 (" + mixedEncodings + ")"
	}
	return "bytes not valid UTF-8 (set csv.encoding: windows-1252 if the file is Windows-1252)"
}

func encodingFix(e Encoding, bom bool) string {
	if e == UTF8 && bom {
		return mixedEncodings
	}
	if e == UTF8 {
		return "set csv.encoding to the file's encoding (windows-1252 or iso-8859-1 for a Windows export)"
	}
	return "set csv.encoding to the file's encoding, or save the file as UTF-8"
}

// SeekRecord makes the next record the one at pos, a Record's Offset or End from an earlier read of the
// same file with the same options, and numbers it nextRow. A negative pos means the first data record.
// It counts the line breaks before pos, so that Line stays right. (It is not called Seek because it is
// not io.Seeker's Seek: go vet holds that name to io.Seeker's signature.)
func (r *Reader) SeekRecord(pos int64, nextRow int) error {
	if pos < 0 {
		pos = r.dataStart
	}
	if nextRow < 1 {
		return fmt.Errorf("seek %s: row %d: rows start at 1", r.name, nextRow)
	}
	if pos < r.dataStart {
		return fmt.Errorf("seek %s: offset %d is inside the header, which ends at %d", r.name, pos, r.dataStart)
	}
	size, err := r.f.Seek(0, io.SeekEnd)
	if err != nil {
		return fmt.Errorf("seek %s: %w", r.name, err)
	}
	if pos > size {
		return fmt.Errorf("seek %s: offset %d is beyond the end of the file (%d bytes): has the file changed?", r.name, pos, size)
	}
	if !r.enc.asciiCompatible() && (pos-r.bomLen)%2 != 0 && pos != size { // the end may follow a lone byte
		return fmt.Errorf("seek %s: offset %d is not a record boundary of a UTF-16 file", r.name, pos)
	}
	lines, err := r.linesBefore(pos)
	if err != nil {
		return err
	}
	if err := r.restart(pos, lines); err != nil {
		return err
	}
	r.pos, r.row, r.err = pos, nextRow, nil
	r.ahead, r.head, r.footer, r.ended = nil, 0, nil, false
	return nil
}

// linesBefore counts the line breaks in the file before pos.
func (r *Reader) linesBefore(pos int64) (int, error) {
	if _, err := r.f.Seek(0, io.SeekStart); err != nil {
		return 0, fmt.Errorf("seek %s: %w", r.name, err)
	}
	buf := make([]byte, bufSize)
	lines := 0
	for left := pos; left > 0; {
		n, err := io.ReadFull(r.f, buf[:min(int64(len(buf)), left)])
		if err != nil {
			return 0, fmt.Errorf("seek %s: %w", r.name, err)
		}
		left -= int64(n)
		switch r.enc {
		case UTF16LE, UTF16BE:
			lines += countUTF16Newlines(buf[:n], r.enc == UTF16BE)
		default:
			lines += bytes.Count(buf[:n], []byte{'\n'})
		}
	}
	return lines, nil
}

// countUTF16Newlines counts the code units U+000A in b, which starts on a code unit.
func countUTF16Newlines(b []byte, bigEndian bool) int {
	n := 0
	for i := 0; ; {
		j := bytes.IndexByte(b[i:], '\n')
		if j < 0 {
			return n
		}
		j += i
		if bigEndian {
			if j&1 == 1 && b[j-1] == 0 {
				n++
			}
		} else if j&1 == 0 && j+1 < len(b) && b[j+1] == 0 {
			n++
		}
		i = j + 1
	}
}

// copyText copies the bytes [from, to) of the file to w, leaving the file where it was: the text of a
// record too long to keep, for the rejects file.
func (r *Reader) copyText(w io.Writer, from, to int64) error {
	if r.closed {
		return fmt.Errorf("read %s: the reader is closed: a record too long to keep is copied from the file, so write it before closing the reader", r.name)
	}
	cur, err := r.f.Seek(0, io.SeekCurrent)
	if err != nil {
		return fmt.Errorf("read %s: %w", r.name, err)
	}
	if _, err := r.f.Seek(from, io.SeekStart); err != nil {
		return fmt.Errorf("read %s: %w", r.name, err)
	}
	_, err = io.CopyN(w, r.f, to-from)
	if _, serr := r.f.Seek(cur, io.SeekStart); err == nil && serr != nil {
		err = serr
	}
	if errors.Is(err, io.EOF) {
		err = fmt.Errorf("the file is shorter than it was: has it changed? (%w)", io.ErrUnexpectedEOF)
	}
	if err != nil {
		return fmt.Errorf("read %s: bytes %d to %d: %w", r.name, from, to, err)
	}
	return nil
}

// Close closes the file if Open opened it.
func (r *Reader) Close() error {
	r.closed = true
	r.err = errors.New("read " + r.name + ": reader closed")
	if r.closer == nil {
		return nil
	}
	err := r.closer.Close()
	r.closer = nil
	return err
}

// restart starts a fresh parser at file offset pos, whose line is line lineBase+1 of the file.
func (r *Reader) restart(pos int64, lineBase int) error {
	if _, err := r.f.Seek(pos, io.SeekStart); err != nil {
		return fmt.Errorf("read %s: %w", r.name, err)
	}
	var src io.Reader = r.f
	if !r.enc.asciiCompatible() {
		r.u16.reset(r.f, pos, r.enc == UTF16BE)
		src = &r.u16
	}
	r.lim = limitedReader{r: src, limit: math.MaxInt64}
	r.br.Reset(&r.lim)
	r.cr = csv.NewReader(r.br) // uses r.br as it is: it is a large enough bufio.Reader
	r.cr.Comma = r.d.Delimiter
	r.cr.FieldsPerRecord = -1
	// Next keeps every record, so a reused slice would have to be copied: as costly as a new one.
	r.cr.ReuseRecord = r.reuse
	r.base, r.lineBase = pos, lineBase
	return nil
}

// rawOffset maps an offset of the parser's input to the file; -1 if it cannot.
func (r *Reader) rawOffset(dec int64) int64 {
	if r.enc.asciiCompatible() {
		return r.base + dec
	}
	return r.u16.rawAt(dec)
}

func (r *Reader) lostPosition() error {
	return fmt.Errorf("read %s: internal error: lost track of the position in the file", r.name)
}

// rawRecord is a record as parsed, before decoding.
type rawRecord struct {
	fields   []string
	line     int
	off, end int64
	problem  *RecordError // a problem found while parsing (quoting, length)
	nfields  int          // len(fields), kept when fields is not (a record read ahead while counting)
	nvalues  int          // how many of them are not empty or white space
	match    bool         // csv.footer matches its text
	// A record too long to keep: no fields, and where its text is in the file (without its line break).
	long             bool
	textFrom, textTo int64
}

// readRaw parses the next record. It returns io.EOF at the end and an error only for I/O.
func (r *Reader) readRaw() (rawRecord, error) {
	start := r.pos // the record's Offset
	from := start  // where the parser started on it: after blank lines, when a retry skipped them
	for {
		r.lim.limit = r.cr.InputOffset() + r.maxRecord
		fields, err := r.cr.Read()
		if r.lim.hit {
			raw, retryAt, err := r.tooLong(start, from, fields, err)
			if retryAt >= 0 {
				from = retryAt
				continue
			}
			return raw, err
		}
		switch {
		case err == nil:
			line, _ := r.cr.FieldPos(0)
			end := r.rawOffset(r.cr.InputOffset())
			if end < 0 {
				return rawRecord{}, r.lostPosition()
			}
			if r.header != nil {
				skip, err := r.noData(fields, end)
				if err != nil {
					return rawRecord{}, err
				}
				if skip {
					from = end // like a blank line: not a row, and part of the next record's span
					continue
				}
			}
			r.pos = end
			return rawRecord{fields: fields, line: r.lineBase + line, off: start, end: end}, nil
		case err == io.EOF:
			return rawRecord{}, io.EOF
		}
		var pe *csv.ParseError
		if errors.As(err, &pe) && (pe.Err == csv.ErrQuote || pe.Err == csv.ErrBareQuote) {
			raw, retryAt, err := r.rejectRecord(start, from, r.lineBase+pe.StartLine, pe, len(fields))
			if retryAt >= 0 {
				from = retryAt // a record without data: like a blank line
				continue
			}
			return raw, err
		}
		return rawRecord{}, fmt.Errorf("read %s: %w", r.name, err)
	}
}

// noData reports whether a data record holds no data, and so is skipped like a blank line: every field
// empty or white space (a line of spaces, or of delimiters only, as a spreadsheet leaves below its
// data), or a DOS end-of-file mark (Ctrl-Z) alone on the last line. end is where the record ends.
func (r *Reader) noData(fields []string, end int64) (bool, error) {
	if len(fields) == 1 && fields[0] == "\x1a" {
		return r.atEnd(end)
	}
	return noValues(fields), nil
}

// atEnd reports whether file offset end is the end of the file, leaving the file where it was.
func (r *Reader) atEnd(end int64) (bool, error) {
	cur, err := r.f.Seek(0, io.SeekCurrent)
	if err != nil {
		return false, fmt.Errorf("read %s: %w", r.name, err)
	}
	size, err := r.f.Seek(0, io.SeekEnd)
	if err == nil {
		_, err = r.f.Seek(cur, io.SeekStart)
	}
	if err != nil {
		return false, fmt.Errorf("read %s: %w", r.name, err)
	}
	return end == size, nil
}

// quoteProblem describes a csv.ParseError about quotes, met on line brk in field nField (0-based) of
// the record that starts on line line and ends on line end; text is the record's first line when it is
// kept.
func (r *Reader) quoteProblem(pe *csv.ParseError, nField, line, brk, end int, text []byte) *RecordError {
	p := &RecordError{Kind: ErrQuote}
	if brk > line {
		p.Reason = fmt.Sprintf("quoted field not closed properly (the record that starts here breaks on line %d", brk)
		if end > brk {
			p.Reason += fmt.Sprintf(" and ends on line %d", end)
		}
		p.Reason += `; double each quote inside a quoted field: "a ""b"" c")`
		return p
	}
	p.Column = nField + 1
	if nField < len(r.header) {
		p.Name = r.header[nField]
	}
	var space string
	if text != nil {
		space = spaceByQuote(pe, text, byte(r.d.Delimiter))
	}
	switch {
	case space != "":
		p.Reason = space
	case pe.Err == csv.ErrBareQuote:
		p.Reason = `quote inside a field that is not quoted (quote the whole field and double the quotes inside: "a ""b"" c")`
	default:
		p.Reason = `quoted field not closed properly (double each quote inside a quoted field: "a ""b"" c")`
	}
	if end > line {
		p.Reason += fmt.Sprintf("; the record runs to line %d", end)
	}
	return p
}

// tooLong handles a record that reached the length limit, the parser having started on it at from,
// fields and err being what the parser made of it. If only blank lines made it long, it restarts the
// parser on the first line after them and returns that position to retry from; otherwise it scans the
// record to its end and rejects it whole (see rejectScanned).
func (r *Reader) tooLong(start, from int64, fields []string, err error) (rawRecord, int64, error) {
	line := 0 // the record's first line, 0 when unknown
	var pe *csv.ParseError
	switch {
	case errors.As(err, &pe):
		line = r.lineBase + pe.StartLine
	case err == nil && len(fields) > 0:
		l, _ := r.cr.FieldPos(0)
		line = r.lineBase + l
	case err != nil && err != io.EOF:
		return rawRecord{}, -1, fmt.Errorf("read %s: %w", r.name, err)
	}
	s, err := r.scanRecord(from, true)
	if err != nil {
		return rawRecord{}, -1, err
	}
	if s.eof {
		return rawRecord{}, -1, io.EOF
	}
	if line == 0 {
		n, err := r.linesBefore(s.p)
		if err != nil {
			return rawRecord{}, -1, err
		}
		line = n + 1
	}
	if s.blanks > 0 {
		return rawRecord{}, s.p, r.restart(s.p, line-1)
	}
	return r.rejectScanned(start, line, s, nil)
}

// rejectRecord rejects the record at start (the parser began on it at from), which starts on line line
// and has the quoting problem pe in field nField: it scans the record to its end, the way RFC 4180
// readers that tolerate broken quotes (Python's csv) delimit it, and rejects it whole (rejectScanned).
func (r *Reader) rejectRecord(start, from int64, line int, pe *csv.ParseError, nField int) (rawRecord, int64, error) {
	q := &quoteError{pe: pe, field: nField, line: r.lineBase + pe.Line} // before the parser restarts
	s, err := r.scanRecord(from, false)
	if err != nil {
		return rawRecord{}, -1, err
	}
	if s.eof {
		return rawRecord{}, -1, r.lostPosition()
	}
	return r.rejectScanned(start, line, s, q)
}

// quoteError is what the parser said of a record's broken quoting: the error, met in field field
// (0-based) on line line of the file.
type quoteError struct {
	pe    *csv.ParseError
	field int
	line  int
}

// byteSize writes a byte count for messages.
func byteSize(n int64) string {
	if n%(1<<20) == 0 {
		return fmt.Sprintf("%d MiB", n>>20)
	}
	return fmt.Sprintf("%d bytes", n)
}

// spaceByQuote recognises the commonest broken quoting, a space between a quote and the delimiter
// (1, "Ada, Jr",Obi or 2,"Bo" ,Obi), from the error pe on line text, and returns its reason; "" when it
// is something else. pe.Column is the 1-based byte of the quote that the parser stopped at.
func spaceByQuote(pe *csv.ParseError, text []byte, delim byte) string {
	q := pe.Column - 1
	if q < 0 || q >= len(text) || text[q] != '"' {
		return ""
	}
	blank := func(b []byte) bool { return len(b) > 0 && len(bytes.Trim(b, " \t")) == 0 }
	const fix = ` (remove it: write the quote right next to the delimiter, ,"a, b",)`
	switch pe.Err {
	case csv.ErrBareQuote: // a quote after other text in a field: is that text white space only?
		if blank(text[bytes.LastIndexByte(text[:q], delim)+1 : q]) {
			return "a space before the opening quote" + fix
		}
	case csv.ErrQuote: // the closing quote is followed by something other than the delimiter
		rest := text[q+1:]
		if i := bytes.IndexByte(rest, delim); i >= 0 {
			rest = rest[:i]
		}
		if blank(rest) {
			return "a space after the closing quote" + fix
		}
	}
	return ""
}

// rejectScanned makes the record that scanRecord found, which starts on line line, a rejected record:
// for a quote that never closes, else for the quoting problem q, or, when q is nil, for its length. The
// parser goes on after it. A record that holds no data is skipped instead, like a blank line (as
// readRaw skips one that parses): the returned position is then where to read on from.
func (r *Reader) rejectScanned(start int64, line int, s recordScan, q *quoteError) (rawRecord, int64, error) {
	if err := r.restart(s.e, line-1+s.newlines); err != nil {
		return rawRecord{}, -1, err
	}
	if r.header != nil && s.noData {
		skip := !s.ctrlZ
		if s.ctrlZ {
			end, err := r.atEnd(s.e)
			if err != nil {
				return rawRecord{}, -1, err
			}
			skip = end
		}
		if skip {
			return rawRecord{}, s.e, nil
		}
	}
	end := s.lastLine(line)
	var first []byte // the record's first line, for the message
	if !s.long {
		first = s.text
		if i := bytes.IndexByte(first, '\n'); i >= 0 {
			first = first[:i]
		}
	}
	var p *RecordError
	switch {
	case s.unclosed:
		p = &RecordError{Kind: ErrQuote, Reason: "the quote opened here is never closed"}
		if s.openLine > 0 {
			p.Reason = fmt.Sprintf("the quote opened on line %d is never closed", line+s.openLine)
		}
		p.Reason += fmt.Sprintf(": the rest of the file, to line %d, is this one record (close the quote where the value ends)", end)
	case q != nil:
		p = r.quoteProblem(q.pe, q.field, line, q.line, end, first)
	default:
		p = &RecordError{Kind: ErrRecordTooLong, Reason: "record longer than " + byteSize(r.maxRecord)}
		if end > line {
			p.Reason += fmt.Sprintf(" (lines %d to %d): shorten the value that makes it so long", line, end)
		} else {
			p.Reason += " on one line (is this a CSV file?)"
		}
	}
	p.Line = line
	r.pos = s.e
	raw := rawRecord{line: line, off: start, end: s.e, problem: p}
	if s.long {
		raw.long, raw.textFrom, raw.textTo = true, s.p, s.textEnd
	} else {
		raw.fields = strings.Split(string(s.text), string(r.d.Delimiter))
	}
	return raw, -1, nil
}

// limitedReader passes the parser's input through, up to limit bytes; past it, it says the input has ended
// and notes the hit — unless the input really ends there.
type limitedReader struct {
	r     io.Reader
	n     int64 // bytes passed
	limit int64
	hit   bool
}

func (l *limitedReader) Read(p []byte) (int, error) {
	if l.n >= l.limit {
		var one [1]byte
		if _, err := io.ReadFull(l.r, one[:]); err != nil {
			return 0, err // io.EOF: the input ends right at the limit
		}
		l.hit = true // the byte is lost: the parser is restarted after a hit
		return 0, io.EOF
	}
	if rest := l.limit - l.n; int64(len(p)) > rest {
		p = p[:rest]
	}
	k, err := l.r.Read(p)
	l.n += int64(k)
	return k, err
}
