// Package mapping turns each row of an input into the JSON body of one create-customer request: the
// mapping file, its checks, and the plan it compiles to. The rows come from package csvfile, which
// mapping imports (never the other way round).
//
// A [Mapping] is read from YAML and says how each API field is made from the row: from a column, a
// template, a constant (any YAML value: text, number, boolean, null, list or object) or a default,
// through transforms and validators, as a single value or a list (split:). Its csv: section is the
// [csvfile.CSVOptions] the input is read with. Every problem in the file is reported with its line before
// any row is read. [Mapping.Compile] binds it to a header (columns matched by [csvfile.SameColumnName]'s
// rule); [Mapper.Map] builds the JSON body of a row or a [RowError] naming every problem, without
// repeating the row's values (they are personal data). [Seen] detects a repeated external_reference in
// fixed-size memory per row. [Infer] proposes a starter mapping from a header and sample values, one
// that skips the title lines and the footer [csvfile.DetectFraming] saw.
package mapping
