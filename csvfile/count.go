package csvfile

import "io"

// CountRows counts the data records of the file at path read in dialect d, by the same rules as Next
// (blank lines and lines without data are not rows; a quoted field may span lines; a record with broken
// quoting, or too long, is one row however many lines it spans, as Next delimits it; the title lines and
// the footer that d's SkipLines, SkipFooter and Footer say are not rows), without decoding the values:
// a fast total for progress. A zero Delimiter or an empty
// Encoding is decided from the file, as "auto" would.
func CountRows(path string, d Dialect) (int, error) {
	opts := CSVOptions{Delimiter: "auto", Encoding: d.Encoding, SkipLines: d.SkipLines, SkipFooter: d.SkipFooter, Footer: d.Footer}
	if d.Delimiter != 0 {
		opts.Delimiter = string(d.Delimiter)
	}
	r, err := Open(path, opts)
	if err != nil {
		return 0, err
	}
	defer r.Close()
	return r.CountRest()
}

// CountRest counts the records from the reader's position to the end, by the rules of CountRows, and
// leaves the reader there.
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
