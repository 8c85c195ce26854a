package csvfile

import "io"

// CountRest counts the data records from the reader's position to the end, by the same rules as Next
// (blank lines and lines without data are not rows; a quoted field may span lines; a record with broken
// quoting, or too long, is one row however many lines it spans, as Next delimits it; the footer that
// SkipFooter or Footer says is not rows), without decoding the values: a fast total for progress. It
// leaves the reader at the end.
func (r *Reader) CountRest() (int, error) { return r.countRest() }

// countRest counts the records from the current position to the end, the footer left out.
func (r *Reader) countRest() (int, error) {
	r.reuse, r.cr.ReuseRecord = true, true
	n := 0
	for {
		_, err := r.readRow(false)
		if err == io.EOF {
			return n, nil
		}
		if err != nil {
			return n, err
		}
		n++
	}
}
