package csvfile

import (
	"errors"
	"fmt"
	"io"
	"regexp"
	"regexp/syntax"
	"strings"
)

// The framing of a table: title lines above the header (csv.skip_lines) and a footer below the data
// (csv.skip_footer, csv.footer), which are not rows.

const (
	SkipFooterHint = "csv.skip_footer is the number of footer records at the end of the file (\"Total records: 5000\"), at most 100; " +
		"or give csv.footer, a pattern that the footer lines match"
	FooterHint = `csv.footer is an RE2 pattern matched against each record at the end of the file (its values joined by the delimiter), for example footer: "^Total records:"`
)

// checkFraming checks the framing options and compiles csv.footer: the reader's own check of what the
// mapping parser checks with line numbers.
func checkFraming(opts CSVOptions) (*regexp.Regexp, *sniffProblem) {
	if p := SkipLinesProblem(opts.SkipLines); p != "" {
		return nil, &sniffProblem{msg: "csv.skip_lines " + p, hint: SkipLinesHint}
	}
	if p := SkipFooterProblem(opts.SkipFooter); p != "" {
		return nil, &sniffProblem{msg: "csv.skip_footer " + p, hint: SkipFooterHint}
	}
	if opts.Footer == "" {
		return nil, nil
	}
	if opts.SkipFooter > 0 {
		return nil, &sniffProblem{msg: "csv.skip_footer and csv.footer are both given", hint: BothFootersHint}
	}
	re, p := FooterPattern(opts.Footer)
	if p != "" {
		return nil, &sniffProblem{msg: "csv.footer " + p, hint: FooterHint}
	}
	return re, nil
}

const BothFootersHint = "give one of them: skip_footer for a footer of a fixed number of records, footer for a pattern its lines match"

// SkipLinesProblem says what is wrong with a csv.skip_lines value, or "".
func SkipLinesProblem(n int) string {
	if n < 0 || n > MaxSkipLines {
		return fmt.Sprintf("is %d: it must be from 0 to %d", n, MaxSkipLines)
	}
	return ""
}

// SkipFooterProblem says what is wrong with a csv.skip_footer value, or "".
func SkipFooterProblem(n int) string {
	if n < 0 || n > MaxSkipFooter {
		return fmt.Sprintf("is %d: it must be from 0 to %d (the reader holds that many records to find the footer)", n, MaxSkipFooter)
	}
	return ""
}

// FooterPattern compiles a csv.footer pattern, or says what is wrong with it: not RE2, or matching an
// empty line, and so every record (the last 100 would all be taken for the footer).
func FooterPattern(s string) (*regexp.Regexp, string) {
	re, err := regexp.Compile(s)
	if err != nil {
		return nil, "is not a valid pattern: " + patternError(err)
	}
	if re.MatchString("") {
		return nil, fmt.Sprintf("%q matches an empty line, so it would match any record: anchor it to the footer's text, as in \"^Total records:\"", s)
	}
	return re, ""
}

// hasFooter reports whether the file is read with a footer option.
func (r *Reader) hasFooter() bool { return r.skipFooter > 0 || r.footerRE != nil }

// readRow returns the next record that is a row, as readRaw does. With a footer option it reads ahead:
// a record is a row once enough records follow it that it cannot be in the footer — csv.skip_footer
// more, or, with csv.footer, one the pattern does not match after it (or more than MaxSkipFooter that it
// does). The records read ahead are held, MaxSkipFooter at most, so memory stays bounded. At the end of
// the file the ones held are the footer. keep says whether the caller keeps the record's values: when
// counting, the parser reuses them, and only the spans are held.
func (r *Reader) readRow(keep bool) (rawRecord, error) {
	if !r.hasFooter() {
		return r.readRaw()
	}
	if r.ended {
		return rawRecord{}, io.EOF
	}
	for !r.rowAhead() {
		raw, err := r.readRaw()
		if err == io.EOF {
			r.footer, r.ahead, r.head, r.ended = r.ahead[r.head:], nil, 0, true
			return rawRecord{}, io.EOF
		}
		if err != nil {
			return rawRecord{}, err
		}
		raw.nfields, raw.nvalues = len(raw.fields), 0
		for _, v := range raw.fields {
			if !isBlank(v) {
				raw.nvalues++
			}
		}
		if r.footerRE != nil {
			raw.match = r.footerRE.MatchString(r.recordText(raw.fields))
		}
		if !keep {
			raw.fields = nil
		}
		r.ahead = append(r.ahead, raw)
	}
	raw := r.ahead[r.head]
	r.ahead[r.head] = rawRecord{} // its values belong to the caller now
	if r.head++; r.head > MaxSkipFooter {
		// Move the records held to the front, once in a while: memory stays bounded, and a row costs
		// no more than a copy of one record.
		r.ahead = r.ahead[:copy(r.ahead, r.ahead[r.head:])]
		r.head = 0
	}
	return raw, nil
}

// rowAhead reports whether the first record held is certain to be a row.
func (r *Reader) rowAhead() bool {
	n := len(r.ahead) - r.head
	if r.skipFooter > 0 {
		return n > r.skipFooter
	}
	return n > 0 && (!r.ahead[len(r.ahead)-1].match || n > MaxSkipFooter)
}

// recordText is what csv.footer is matched against: a record's values, decoded, joined by the delimiter
// (a record with broken quoting: its text as the file has it).
func (r *Reader) recordText(raw []string) string {
	var b strings.Builder
	for i, f := range raw {
		if i > 0 {
			b.WriteRune(r.d.Delimiter)
		}
		s, _ := r.enc.decode(f)
		b.WriteString(s)
	}
	return b.String()
}

// FooterRecord is a record of the footer that the reader left out: the line it starts on, its number of
// fields, and how many of them hold a value (are not empty or white space).
type FooterRecord struct {
	Line   int
	Fields int
	Values int
}

// Footer returns the records that csv.skip_footer or csv.footer made the footer, once Next or CountRest
// has reached the end of the file; nil before, and when the file has no footer.
func (r *Reader) Footer() []FooterRecord {
	var out []FooterRecord
	for _, f := range r.footer {
		out = append(out, FooterRecord{Line: f.line, Fields: f.nfields, Values: f.nvalues})
	}
	return out
}

// footerSpan returns where the footer is in the file, from the end of the last row to the end of the
// footer's last record; it reads the input to its end first if it is not there yet. from == to when
// there is none.
func (r *Reader) footerSpan() (from, to int64, err error) {
	if !r.hasFooter() {
		return 0, 0, nil
	}
	if !r.ended {
		if _, err := r.countRest(); err != nil {
			return 0, 0, err
		}
	}
	if len(r.footer) == 0 {
		return 0, 0, nil
	}
	return r.footer[0].off, r.footer[len(r.footer)-1].end, nil
}

// UnnamedNote says that the header's last n columns, after its named ones, have no name and are ignored:
// the note that mapping, validate and run give before any row.
func UnnamedNote(named, n int) string {
	if n == 1 {
		return fmt.Sprintf("the header ends in a column without a name, %s (a spreadsheet leaves such columns): it is ignored, and a row with a value in it is rejected",
			columnSpan(named+1, n))
	}
	return fmt.Sprintf("the header ends in %d columns without a name, %s (a spreadsheet leaves such columns): they are ignored, and a row with a value in one is rejected",
		n, columnSpan(named+1, n))
}

// columnSpan names n columns from the 1-based column first: "column 4", "columns 4 to 5".
func columnSpan(first, n int) string {
	if n == 1 {
		return fmt.Sprintf("column %d", first)
	}
	return fmt.Sprintf("columns %d to %d", first, first+n-1)
}

// patternError shortens a regexp compile error to what is wrong, without Go's prefix ("missing closing ):
// `(a`"), as the mapping file's messages about its own patterns say it.
func patternError(err error) string {
	if se := (*syntax.Error)(nil); errors.As(err, &se) {
		return fmt.Sprintf("%s: %q", se.Code, se.Expr)
	}
	return err.Error()
}
