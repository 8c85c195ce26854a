// Package csvfile turns the bytes of a CSV file into records: it reads what legacy systems export, and
// writes rejected records back in the file's own dialect. It imports nothing of this module's.
//
// [Reader] streams a CSV file over encoding/csv with flat memory. It decides the [Dialect] (delimiter and
// encoding, or Excel's "sep=" first line) from the first bytes unless [CSVOptions] names them, refuses
// what is not CSV text (an Excel workbook, a binary file) with an [InputError] saying so, and yields one
// [Record] per data row with its 1-based row number, its line, its byte positions in the file (so that a
// resumed import can seek instead of re-reading: [Reader.SeekRecord]) and its values both decoded and as
// written. A row that cannot be read cleanly (a wrong number of fields, bytes invalid in the encoding,
// broken quoting, a record longer than 1 MiB) carries its own [RecordError] and is rejected; it never ends
// the file. Columns without a name at the end of the header, as a spreadsheet leaves them, are ignored (a
// value under one rejects its row), and title lines above the header and a footer below the data are not
// rows when CSVOptions says so (skip_lines, skip_footer, footer); [DetectFraming] proposes them for a
// file. A record with broken quoting, or too long, is rejected whole, delimited as RFC 4180 readers
// delimit it (Python's csv module): the inside of a quoted value is never read as rows, and the reader's
// rows are exactly Python's records. A quote never closed makes the rest of the file one rejected row.
// [Reader.CountRest] counts the rows by the same rules without decoding them.
//
// Header names are the same when [SameColumnName] says so (case and surrounding spaces aside); the
// reader refuses a header with two such names, and [ColumnKey] gives the rule as a map key, for the
// mapping's column matching. [OpenRegular] refuses anything but a regular file before opening it.
//
// [RejectsWriter] writes rejected rows back in the input's own dialect and encoding — a record with
// broken quoting or too long byte for byte as it was, however long, so that nothing is lost and it stays
// rejected until fixed — with the input's title and footer, and replaces, rather than adds to, the error
// column of a rejects file fed back, unless that column is data ([WithData]).
package csvfile
