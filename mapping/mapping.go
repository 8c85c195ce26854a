package mapping

import (
	"errors"
	"io"
	"io/fs"
	"os"

	"github.com/zentra/zentra-import/csvfile"
)

// Mapping is a parsed, checked mapping file: how to read the input (its csv: section) and how each field
// of the JSON body is made from a row. It is immutable; [Mapping.Compile] binds it to a header.
//
// # The file
//
//	csv:
//	  delimiter: auto        # or "," ";" "\t" (also: tab, comma, semicolon, pipe) "|"
//	  encoding: auto         # or utf-8, utf-16 (with a BOM), utf-16le, utf-16be, windows-1252, iso-8859-1
//	  skip_lines: 1          # title lines above the header (none by default)
//	  skip_footer: 1         # footer records below the data; or footer: "^Total records:" (RE2)
//	fields:
//	  external_reference: {template: "crm-{Customer Id}"}
//	  first_name:  {column: First Name, transform: [trim, title]}
//	  email:       {column: E-mail, transform: [trim, lower], validate: email, optional: true}
//	  phone:       {column: Mobile, transform: [phone], region: NG, optional: true}
//	  date_of_birth: {column: DOB, transform: [trim, {date: [DD/MM/YYYY, YYYY-MM-DD]}], optional: true}
//	  country:     {column: Country, transform: [trim, upper], default: NG}
//	  metadata.source: {value: legacy_crm}
//	  metadata.legacy_id: {column: Customer Id, type: integer}
//	require_one_of: [email, phone]
//
// The csv: names are those the [csvfile.Reader] accepts, with their aliases (tab, semicolon; cp1252, latin1…).
// skip_lines (0 to 1000), skip_footer (0 to 100) and footer (an RE2 pattern that does not match an empty
// line; not with skip_footer) say which records are not rows (see csvfile.Reader): they are part of the
// mapping's Hash, as every rule is.
// Unknown keys anywhere are errors (with the closest known key), so a typo never silently drops a rule.
// YAML anchors and aliases may be used to repeat a transform list; tags and merge keys (<<) may not.
//
// # Fields
//
// fields is an ordered mapping from a target to how it is made. A target is a dotted path into the JSON body:
// metadata.legacy_id builds {"metadata": {"legacy_id": …}}. Path segments are letters, digits, _ and -;
// a target may not be both a value and an object (address and address.city). The body's keys are written
// in sorted order, so the order of fields in the file does not change the requests.
//
// Each field has exactly one source:
//
//   - column: the value of a header column, matched case-insensitively, ignoring surrounding spaces.
//   - template: text with columns in braces, "crm-{Customer Id}"; each column's value is inserted with
//     surrounding spaces removed; {{ and }} write a literal brace. If any column in it is empty, the
//     template's result is empty (a reference "crm-" would be worse than a rejected row).
//   - value: a constant, any YAML value, written as the JSON of its YAML type: text ("5" and "null" are
//     text), a number (5, -12.5, 0x1F; JSON has no infinity or NaN, so .inf and .nan are refused), true
//     or false, null (or ~), a list ([sms, email], or a block list) and an object ({opt_in: true,
//     channels: [sms]}, or a block mapping), nested up to 32 levels deep, with up to 10,000 parts. An
//     object's keys are written in sorted order, as the body's own. value: with nothing after it is a
//     mistake, not null: write null. (The YAML library reads 1e5, without a dot, as text: write 1.0e5.)
//
// and, for column and template sources:
//
//   - transform: one transform or a list, applied in order (see below). A value that is empty (or only
//     spaces) is not transformed.
//   - default: the text used when the value is empty after the transforms. It is checked against the
//     field's validators and type when the mapping is loaded.
//   - optional: true leaves the field out of the body when it is empty. Without it (and without a
//     default) an empty value is the row's problem "required but empty".
//   - validate: one validator or a list, each checked on the non-empty value after the transforms.
//   - type: string (the default), integer, number or boolean: how the text is written into the JSON.
//     integer is an optional sign and decimal digits; number is a decimal such as -12.50 or 1.5e3 (written
//     as given, without rounding); boolean reads true/false, yes/no, y/n, 1/0 and on/off in any case.
//     Text that does not convert is the row's problem.
//   - region: the default region (ISO 3166 code such as NG) for the phone transform: the country of
//     numbers written without a country code.
//   - split: TEXT makes the field a JSON list: the value is cut at each TEXT, and each item goes
//     through the transforms, validators and type on its own, as a single value would ({column: Tags,
//     split: ";", transform: [trim, lower]} sends " VIP; Gold;" as ["vip", "gold"]; with type: integer,
//     "1,2" is [1, 2]). Items empty after the transforms are dropped, so a value with no item left is
//     empty (default, optional and required apply as to any value). A problem names the item by its
//     place: "item 2: not a valid email address". A default is split the same way, without transforms.
//
// external_reference is required and is the row's identity: the request's idempotency key derives from
// it. It must come from a column or template and may have neither a default nor optional: true, since a
// row without a reference must be rejected, not given a shared one (or none). It is always trimmed of
// surrounding white space, whatever its source, so that " 7 " and "7" are one reference (and a
// duplicate); other fields keep their spaces unless a trim says otherwise. require_one_of names
// fields of which at least one must be present in each row (for example a contact: email or phone).
//
// Targets are free-form, since a tenant may accept any field; but a target a typo away from a field
// Zentra documents (external_reference, first_name, last_name, email, phone, metadata), or from an
// earlier target of the same mapping, is reported by [Mapping.Warnings] ("fields.firstname (line 4):
// not a documented field; did you mean first_name?"), before any row. allow_unknown: [firstname] lists
// the targets meant as written, which silences it. It does not change the mapping's meaning (or hash).
//
// A value read from the file that holds a control character other than tab, CR and LF (a NUL, an
// escape, a C1 control U+0080 to U+009F) is the field's problem, named by the character's code point;
// an external_reference may hold no control character at all, tabs and line breaks included.
//
// # Transforms
//
//   - trim: removes surrounding white space, including no-break and zero-width spaces and a stray BOM.
//   - lower, upper: Unicode case mapping.
//   - title: capitalises each word of a name. Words already in mixed case (McDonald, DeShawn) are kept as
//     written; others are lowercased and the first letter of each part is capitalised, parts being
//     separated by spaces, hyphens, dots, slashes and brackets: "ADÉLÉ OKAFOR-NWOSU" → "Adélé
//     Okafor-Nwosu". An apostrophe after a single letter starts a part ("o'brien" → "O'Brien", "d'angelo"
//     → "D'Angelo") but not elsewhere ("ADEBAYO'S" → "Adebayo's"); a leading Mc does too ("MCCARTHY" →
//     "McCarthy"). A particle after the first word and before another, written in one case, stays in
//     lower case: van, von, der, den, ter, ten, de, del, della, di, da, dos, das, la, bin, binti, bint,
//     ibn, al ("DE LA CRUZ" → "De la Cruz", "LUDWIG VAN BEETHOVEN" → "Ludwig van Beethoven"). A word after the
//     first that is a Roman numeral from II to XX in one case, maybe followed by a comma or a dot, is
//     written in upper case ("JOHN III" → "John III"), except VI and XI, which are also names (Vi, Xi).
//     A Greek sigma that ends a word is written ς ("ΟΔΥΣΣΕΑΣ" → "Οδυσσεας"), and ß, which has no
//     upper case of its own, does not make a word mixed case ("STRAßE" → "Straße").
//   - collapse_spaces: turns each run of white space (tabs and newlines included) into one space and
//     removes it around the value.
//   - digits: keeps only the ASCII digits 0-9.
//   - phone: the number in E.164 (+2348031234567) via libphonenumber. Numbers written without a country
//     code ("0803 123 4567", "(0803) 123-4567", and in Nigeria "2348031234567") are read in the field's
//     region; "+…" numbers in any. Excel's text markers ('08031234567 and ="08031234567") and a tel:
//     prefix are removed first. A number that begins with 00 and is not valid in the region as it is
//     is read with + for the 00, the international prefix of most countries ("0044 20 7946 0000" →
//     +442079460000). A number that is not valid for its region, or that has letters in it
//     (a vanity number, an extension), is the row's problem; an extension ("ext 12", "x12") is named
//     as such, since E.164 cannot hold it.
//   - {date: LAYOUT} or {date: [LAYOUT, …]}: a date written in one of the layouts (tried in order, the
//     first that matches wins) becomes YYYY-MM-DD. A layout is written with DD (day), MM (month), YYYY
//     (year), YY (two-digit year: 69-99 are 1969-1999, 00-68 are 2000-2068) and MMM (month name such as Jan
//     or January, any case), separated by spaces, / - . or ",": DD/MM/YYYY, MM/DD/YY, YYYY-MM-DD,
//     D MMM YYYY. DD and MM accept one or two digits (D and M are the same). A time after the date, as
//     database exports write (1985-03-12 00:00:00), is ignored. Impossible dates (31/02/1990) are the
//     row's problem. {date: {layout: LAYOUT or [LAYOUT, …], pivot: past}} reads two-digit years so that
//     no date is after the day of the run (in 2026, 1.2.45 is 1945-02-01 and 4.12.26 is 2026-12-04): what
//     a date of birth needs. pivot: YYYY reads them into the hundred years from YYYY (pivot: 1930: 30-99
//     are 1930-1999, 00-29 are 2000-2029).
//   - {pad_left: {width: N, char: C}}: pads the value on the left with C (one character; "0" when left
//     out) to N characters (1 to 256): 1085 → 0001085. A longer value is left as it is.
//   - {strip_leading: CHARS}: removes every leading character that is in CHARS: "0" makes 0001085 1085.
//   - {replace: {regex: PATTERN, with: TEXT}}: replaces every match of the RE2 pattern with TEXT, in
//     which $1 or ${name} stands for a group of the match (Go's Regexp.ReplaceAllString).
//
// These three, like every transform, may shape the external_reference too: references that a
// spreadsheet stripped of leading zeros (0001085 and 1085) become one again, so the second is a
// duplicate rather than a second customer.
//
// # Validators
//
//   - email: one address (net/mail syntax) without a display name, comment or space, whose domain has
//     at least two labels and does not end in a number. A leading mailto: (any case) is removed, and
//     the address is sent without it.
//   - {regex: PATTERN}: RE2 syntax (https://golang.org/s/re2syntax); the whole value must match, as in
//     HTML's pattern attribute, so ^ and $ are not needed.
//   - {length: {min: N, max: M}}: the number of characters (Unicode code points); either bound may be left out.
//   - {one_of: [A, B, …]}: exactly one of the values, case-sensitively; {one_of: {values: [A, B], ignore_case:
//     true}} compares without regard to case and sends the value as the list spells it ("m" → "M").
//   - {range: {min: A, max: B}}: either bound may be left out. Bounds that are dates (YYYY-MM-DD, or
//     today, the day of the run) need the value to be a date in YYYY-MM-DD, as the date transform writes
//     it: {range: {min: 1900-01-01, max: today}} refuses a date of birth in the future or before 1900.
//     Bounds that are numbers need a number.
type Mapping struct {
	name         string
	csv          csvfile.CSVOptions
	fields       []*fieldSpec // in the order of the file
	requireOneOf []string
	allowUnknown []string        // targets meant as written, which Warnings leaves out
	warnings     []TargetWarning // targets that look like typos
}

// maxMappingSize bounds what Load and Parse read: a mapping file is a page or two of YAML (a hundred
// fields take about 10 KiB), not a data file, and the YAML library slows down on very large documents.
const maxMappingSize = 128 << 10

// Load reads and checks the mapping file at path. Problems in the file come back together as
// [MappingErrors], each with its line; a file that cannot be read is an *os.PathError.
func Load(path string) (*Mapping, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, mappingPathError("open mapping", path, err)
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, maxMappingSize+1))
	if err != nil {
		return nil, mappingPathError("read mapping", path, err)
	}
	return Parse(path, data)
}

// mappingPathError says which file operation on the mapping failed, once: "read mapping /tmp: is a
// directory", not "read mapping: read /tmp: is a directory". errors.Is still finds the cause.
func mappingPathError(op, path string, err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		err = pe.Err
	}
	return &fs.PathError{Op: op, Path: path, Err: err}
}

// CSV returns the csv: section, with canonical names ("auto" where the file did not say).
func (m *Mapping) CSV() csvfile.CSVOptions { return m.csv }

// mappingPos is a place in the mapping file, for messages.
type mappingPos struct{ line, col int }

// sourceKind says where a field's value comes from.
type sourceKind uint8

const (
	fromColumn sourceKind = iota + 1
	fromTemplate
	fromValue
)

// valueType is how a field's text is written into the JSON body.
type valueType uint8

const (
	typeString valueType = iota
	typeInteger
	typeNumber
	typeBoolean
)

var valueTypeNames = [...]string{typeString: "string", typeInteger: "integer", typeNumber: "number", typeBoolean: "boolean"}

func (t valueType) String() string { return valueTypeNames[t] }

// fieldSpec is one entry of fields:, as written and checked.
type fieldSpec struct {
	target string
	pos    mappingPos // of the target key

	source    sourceKind
	sourcePos mappingPos     // of the column or template value
	column    string         // fromColumn: the name as written, trimmed
	template  []templatePart // fromTemplate
	constant  constValue     // fromValue

	def        string // used when the value is empty; hasDefault says whether there is one
	hasDefault bool
	defPos     mappingPos // of the default's value
	optional   bool
	typ        valueType
	split      string // the text between a list's items, or "" for a single value
	region     string // upper-case region for the phone transform, or ""
	transforms []transformStep
	validators []validator
}

// templatePart is a literal piece of a template or, when column is set, a {column} placeholder.
type templatePart struct {
	literal string
	column  string
}
