// Package mapping owns the source side of an import: reading what legacy systems export, and turning each
// row into the JSON body of one create-customer request.
//
// # Reading
//
// [Reader] streams a CSV file over encoding/csv with flat memory. It decides the [Dialect] (delimiter and
// encoding, or Excel's "sep=" first line) from the first bytes unless told, refuses what is not CSV text
// (an Excel workbook, a binary file) with a message saying so, and yields one [Record] per data row with
// its 1-based row number, its line, its byte positions in the file (so that a resumed import can seek
// instead of re-reading) and its values both decoded and as written. A row that cannot be read cleanly (a
// wrong number of fields, bytes invalid in the encoding, broken quoting, a record longer than 1 MiB)
// carries its own error and is rejected; it never ends the file. Columns without a name at the end of
// the header, as a spreadsheet leaves them, are ignored (a value under one rejects its row), and title
// lines above the header and a footer below the data are not rows when CSVOptions says so (skip_lines,
// skip_footer, footer). A record with broken quoting, or too
// long, is rejected whole, delimited as RFC 4180 readers delimit it (Python's csv module): the inside of
// a quoted value is never read as rows, and the reader's rows are exactly Python's records. A quote never
// closed makes the rest of the file one rejected row. [RejectsWriter] writes rejected rows back in the
// input's own dialect and encoding — a record with broken quoting or too long byte for byte as it was,
// however long, so that nothing is lost and it stays rejected until fixed — with the input's title and
// footer, and replaces, rather than adds to, the error column of a rejects file fed back.
//
// # Mapping
//
// A [Mapping] is read from YAML and says how each API field is made from the row: from a column, a
// template, a constant (any YAML value: text, number, boolean, null, list or object) or a default,
// through transforms and validators, as a single value or a list (split:). Every problem in the file is
// reported with its line before any row is read. [Mapping.Compile] binds it to a header; [Mapper.Map]
// builds the JSON body of a row or a [RowError] naming every problem, without repeating the row's values
// (they are personal data). [Seen] detects a repeated external_reference in fixed-size memory per row.
// [Infer] proposes a starter mapping from a header and sample values, and [DetectFraming] the title
// lines and the footer it should skip ([InferFramed]).
package mapping
