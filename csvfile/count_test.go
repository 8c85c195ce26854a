package csvfile

// countRows counts the data records of the file at path read again in dialect d, through CountRest: the
// tests' and the benchmark's way to hold the count to what Next reads. A zero Delimiter or an empty
// Encoding is decided from the file, as "auto" would.
func countRows(path string, d Dialect) (int, error) {
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
