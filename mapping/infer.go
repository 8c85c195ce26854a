package mapping

import (
	"bytes"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"unicode"

	"github.com/zentra/zentra-import/csvfile"
)

// Infer proposes a starter mapping for a file from its header and a sample of its rows (the first few
// hundred are plenty). It returns the mapping and its YAML text, annotated with comments that say what was
// guessed from what: the text parses back to the same mapping.
//
// Columns are recognised by their names (First Name, firstname, Given name and Forename are all
// first_name; E-mail and Email Address are email; Mobile, Phone Number, MSISDN and Tel are phone; Customer
// ID, Ref, Account No and Client Code are candidates for external_reference; Date of Birth and DOB;
// Country; City, State and Address under address.), then by their values: a column of email addresses or
// of phone numbers is mapped as such whatever its name. The samples also decide the phone region (the
// one in which most numbers are valid), the date layouts, which fields are optional (those with empty
// samples) and the external_reference: the first column named like an id (Customer ID, Ref, Account
// No…) whose samples are present but for a few (2% at most, which the comment counts: those rows would
// be rejected), however often they repeat (a repeat is a second row of the same customer, which the
// duplicate check rejects; the comment counts them), else the first column whose name ends like an id's
// (Member Code) and whose samples are all present, distinct and shaped like ids. When there is none, the
// example in the comment is built from a column the file has. Columns that are not recognised stay unmapped: they are listed, commented out, as
// metadata.<name> fields, because sending personal data the API does not need is a choice to make on
// purpose.
//
// d is what the reader decided about the file (its Dialect), said in comments beside csv: auto, so that
// a user sees what auto chose; the zero Dialect says nothing.
//
// When the header ends in columns without a name (d.Unnamed), a comment beside csv: says that they are
// ignored.
//
// f is the framing csvfile.DetectFraming saw (the zero Framing: none): the csv: section proposes its
// skip_lines and skip_footer, each with a comment saying what was seen. The header and the samples are
// those read with them (f.Options).
//
// When no column can be the external_reference, Infer still returns the annotated text (with a comment
// saying what to write) but no mapping, and an error that says so.
func Infer(d csvfile.Dialect, f csvfile.Framing, header []string, samples [][]string) (*Mapping, []byte, error) {
	in := &inference{header: header, dialect: d, framing: f}
	in.profile(samples)
	in.byName()
	in.byValues()
	in.chooseReference()
	text := in.annotated(len(samples))
	if in.refColumn < 0 {
		return nil, text, MappingErrors{{
			Msg:  "no column looks like a unique customer reference, so external_reference cannot be inferred",
			Hint: `write a mapping with external_reference: {column: …} or {template: "…"} built from columns that identify a customer`,
		}}
	}
	m, err := Parse("inferred mapping", text)
	if err != nil {
		return nil, text, fmt.Errorf("inferred mapping does not parse: %w", err)
	}
	return m, text, nil
}

// inferRule recognises a target by column names (loose spelling: lower case, letters and digits only).
type inferRule struct {
	target   string
	exact    []string // whole names
	partial  []string // parts of names: "Customer E-mail" is an email
	optional bool     // optional even when every sample has a value (contact details, addresses)
}

var inferRules = []inferRule{
	{target: "external_reference",
		exact: []string{"customerid", "custid", "customerref", "customerreference", "customerno", "customernumber",
			"customercode", "customerkey", "clientid", "clientcode", "clientref", "clientreference", "clientno",
			"clientnumber", "accountno", "accountnumber", "acctno", "accno", "accountid", "ref", "reference", "refno",
			"referenceno", "externalreference", "externalref", "externalid", "legacyid", "memberid", "memberno",
			"membernumber", "crmid", "id", "uniqueid", "uid"},
		partial: []string{"customerid", "clientid", "accountno", "accountnumber", "reference"}},
	{target: "first_name",
		exact:   []string{"firstname", "fname", "givenname", "givennames", "forename", "forenames", "first", "christianname"},
		partial: []string{"firstname", "givenname", "forename"}},
	{target: "last_name",
		exact:   []string{"lastname", "lname", "surname", "familyname", "last"},
		partial: []string{"lastname", "surname", "familyname"}},
	{target: "middle_name", optional: true,
		exact:   []string{"middlename", "middlenames", "mname", "middle", "othername", "othernames"},
		partial: []string{"middlename", "othername"}},
	{target: "email", optional: true,
		exact:   []string{"email", "emailaddress", "emailaddr", "mail", "emailid", "eaddress", "contactemail"},
		partial: []string{"email"}},
	{target: "phone", optional: true,
		exact: []string{"phone", "phonenumber", "phoneno", "mobile", "mobilenumber", "mobileno", "mobilephone", "msisdn",
			"tel", "telephone", "telephoneno", "telephonenumber", "cell", "cellphone", "cellnumber", "gsm", "gsmno",
			"contactnumber", "contactphone", "phone1", "mobile1"},
		partial: []string{"phone", "mobile", "msisdn", "telephone", "gsm"}},
	{target: "date_of_birth", optional: true,
		exact:   []string{"dob", "dateofbirth", "birthdate", "birthday", "birthdt", "dtofbirth"},
		partial: []string{"birth"}},
	{target: "gender", optional: true, exact: []string{"gender", "sex"}},
	{target: "country", exact: []string{"country", "countrycode", "countryofresidence", "countryiso"}},
	{target: "address.line1", optional: true,
		exact: []string{"address", "address1", "addressline1", "street", "streetaddress", "homeaddress", "residentialaddress", "addr"}},
	{target: "address.line2", optional: true, exact: []string{"address2", "addressline2"}},
	{target: "address.city", optional: true, exact: []string{"city", "town", "cityname"}, partial: []string{"city"}},
	{target: "address.state", optional: true, exact: []string{"state", "province", "stateofresidence"}},
	{target: "address.postal_code", optional: true, exact: []string{"postcode", "postalcode", "zip", "zipcode"},
		partial: []string{"postcode", "postalcode", "zipcode"}},
}

// inferTarget returns the rule that recognises a column name, and whether by the whole name.
func inferTarget(name string) (rule *inferRule, exact bool) {
	key := inferKey(name)
	if key == "" {
		return nil, false
	}
	for i := range inferRules {
		if slices.Contains(inferRules[i].exact, key) {
			return &inferRules[i], true
		}
	}
	for i := range inferRules {
		for _, p := range inferRules[i].partial {
			if strings.Contains(key, p) {
				return &inferRules[i], false
			}
		}
	}
	return nil, false
}

// inferKey is a column name in lower case with only its letters and digits: "E-mail" → "email".
func inferKey(name string) string {
	var b strings.Builder
	for _, r := range name {
		if unicode.IsLetter(r) || unicode.IsDigit(r) {
			b.WriteRune(unicode.ToLower(r))
		}
	}
	return b.String()
}

// inferColumn is what the samples say about one column, and what was decided for it.
type inferColumn struct {
	name     string
	values   []string // non-empty sample values, trimmed
	empty    int      // samples with no value
	distinct int      // different non-empty values

	target  string // "" when unmapped
	how     string // why, for the comment
	rule    *inferRule
	field   inferField
	comment []string
}

// inferField is the mapping of one column, before it is written out.
type inferField struct {
	transforms []string // YAML of each transform
	validate   string
	region     string
	optional   bool
	def        string
}

type inference struct {
	dialect   csvfile.Dialect
	framing   csvfile.Framing
	header    []string
	cols      []*inferColumn
	targets   map[string]bool // the targets columns are mapped to
	refColumn int
	refNotes  []string
}

func (in *inference) profile(samples [][]string) {
	for i, name := range in.header {
		c := &inferColumn{name: name}
		seen := map[string]bool{}
		for _, row := range samples {
			v := ""
			if i < len(row) {
				v = trimFieldValue(row[i])
			}
			if v == "" {
				c.empty++
				continue
			}
			if !seen[v] {
				c.distinct++
			}
			seen[v] = true
			c.values = append(c.values, v)
		}
		in.cols = append(in.cols, c)
	}
}

// taken reports whether a column already maps to target.
func (in *inference) taken(target string) bool { return in.targets[target] }

// assign maps column c to target.
func (in *inference) assign(c *inferColumn, target string) {
	c.target = target
	if in.targets == nil {
		in.targets = map[string]bool{}
	}
	in.targets[target] = true
}

// byName maps columns whose names are recognised; whole-name matches first, then partial ones. The
// external_reference is chosen later, from the candidates, by its values.
func (in *inference) byName() {
	for _, exactPass := range []bool{true, false} {
		for _, c := range in.cols {
			rule, exact := inferTarget(c.name)
			if rule == nil || exact != exactPass || c.target != "" || c.rule != nil {
				continue
			}
			if rule.target == "external_reference" {
				c.rule = rule
				continue
			}
			if in.taken(rule.target) {
				c.comment = append(c.comment, fmt.Sprintf("also looks like %s, which is mapped from another column", rule.target))
				continue
			}
			c.rule = rule
			in.assign(c, rule.target)
			c.how = "by its name"
			in.configure(c)
		}
	}
}

// byValues maps unrecognised columns whose values are email addresses or phone numbers.
func (in *inference) byValues() {
	for _, c := range in.cols {
		if c.target != "" || c.rule != nil || len(c.values) == 0 {
			continue
		}
		switch {
		case !in.taken("email") && countValid(c.values, isEmail)*10 >= len(c.values)*9:
			in.assign(c, "email")
			c.how = "from its values (email addresses)"
		case !in.taken("phone") && looksLikePhones(c.values):
			if _, n := guessRegion(c.values); n*10 >= len(c.values)*9 {
				in.assign(c, "phone")
				c.how = "from its values (phone numbers)"
			}
		}
		if c.target != "" {
			c.rule = ruleFor(c.target)
			in.configure(c)
		}
	}
}

func ruleFor(target string) *inferRule {
	for i := range inferRules {
		if inferRules[i].target == target {
			return &inferRules[i]
		}
	}
	return nil
}

// configure decides a mapped column's transforms and rules from its target and samples.
func (in *inference) configure(c *inferColumn) {
	f := &c.field
	total := c.empty + len(c.values)
	switch {
	case c.rule.optional:
		f.optional = true
	case c.empty > 0 && !rare(c.empty, total):
		f.optional = true
		c.comment = append(c.comment, fmt.Sprintf("optional: %s empty", countOf(c.empty, total)))
	case c.empty > 0:
		c.comment = append(c.comment, fmt.Sprintf("required: %s empty and would be rejected", countOf(c.empty, total)))
	}
	switch c.target {
	case "first_name", "last_name", "middle_name":
		// Names go as written: KYC needs legal names as given, and capitalising changes some (van der
		// Berg, DE LA CRUZ, MacDonald). title is offered, not chosen.
		f.transforms = []string{"trim"}
		c.comment = append(c.comment, "sent as written, as KYC needs legal names; to capitalise, use transform: [trim, title]")
	case "email":
		f.transforms = []string{"trim", "lower"}
		f.validate = "email"
		if n := countValid(lowerAll(c.values), isEmail); n < len(c.values) {
			c.comment = append(c.comment, countOf(len(c.values)-n, len(c.values))+" not a valid email address")
		}
	case "phone":
		f.transforms = []string{"phone"}
		region, n := guessRegion(c.values)
		f.region = region
		c.comment = append(c.comment, fmt.Sprintf("region %s: valid there in %d of %d samples", region, n, len(c.values)))
	case "date_of_birth":
		layouts, n := guessDateLayouts(c.values)
		if len(layouts) == 0 {
			f.transforms = []string{"trim"}
			c.comment = append(c.comment, `no date layout fits the samples: add for example {date: "DD/MM/YYYY"} to transform`)
			break
		}
		// A date of birth is never in the future and rarely before 1900: a two-digit year is read in the
		// past (45 is 1945, not 2045), and a range refuses what no living customer has.
		f.transforms = []string{"trim", dateTransformYAML(layouts, true)}
		f.validate = "{range: {min: 1900-01-01, max: today}}"
		c.comment = append(c.comment, fmt.Sprintf("date layout from the samples: %d of %d match %s", n, len(c.values), strings.Join(layouts, " or ")))
		if strings.Contains(f.transforms[1], "pivot: past") {
			c.comment = append(c.comment, "two-digit years are read as past years (pivot: past)")
		}
		c.comment = append(c.comment, "dates before 1900 or after today are rejected")
	case "country":
		f.transforms = []string{"trim"}
		if allCodes(c.values) {
			f.transforms = append(f.transforms, "upper")
			if common := sharedValue(c.values); c.empty > 0 && common != "" {
				f.def, f.optional = strings.ToUpper(common), false
				c.comment = append(c.comment, fmt.Sprintf("default %s: every non-empty sample is %s", f.def, f.def))
			}
		}
	default:
		f.transforms = []string{"trim", "collapse_spaces"}
	}
}

// inferMaxRefNotes bounds the columns the mapping says were not taken for the external_reference.
const inferMaxRefNotes = 10

// chooseReference picks the external_reference as Infer describes it.
func (in *inference) chooseReference() {
	in.refColumn = -1
	defer func() {
		if n := len(in.refNotes) - inferMaxRefNotes; n > 0 {
			in.refNotes = append(in.refNotes[:inferMaxRefNotes], fmt.Sprintf("%d other columns named like ids, for the same reasons", n))
		}
	}()
	var candidates []*inferColumn
	for _, c := range in.cols {
		if c.rule != nil && c.rule.target == "external_reference" {
			candidates = append(candidates, c)
		}
	}
	for _, c := range in.cols {
		if c.target == "" && c.rule == nil && idLikeName(c.name) && idLike(c.values) {
			candidates = append(candidates, c)
		}
	}
	for _, c := range candidates {
		total := c.empty + len(c.values)
		repeats := len(c.values) - c.distinct
		byName := c.rule != nil
		switch {
		case total == 0:
			in.refNotes = append(in.refNotes, fmt.Sprintf("%s: no sample rows show whether its values are distinct", strconv.Quote(c.name)))
		case len(c.values) == 0:
			in.refNotes = append(in.refNotes, fmt.Sprintf("%s: empty in every sample", strconv.Quote(c.name)))
		// A column named like an id is the reference however often its values repeat: a repeat is a
		// second row for the same customer (a customer with two accounts), which the duplicate check
		// rejects, not a reason to pick another column (one customer per account would be wrong).
		case !byName && (c.empty > 0 || repeats > 0), !rare(c.empty, total):
			in.refNotes = append(in.refNotes, fmt.Sprintf("%s: %s", strconv.Quote(c.name), gaps(c.empty, repeats, total)))
		default:
			in.assign(c, "external_reference")
			if byName {
				c.how = "by its name"
			} else {
				c.how = "its values look like ids"
				c.rule = ruleFor("external_reference")
			}
			switch {
			case c.empty == 0 && repeats == 0:
				c.how += fmt.Sprintf(", present and distinct in all %d samples", total)
			case repeats > 0:
				c.how += "; " + gaps(c.empty, repeats, total) + ": validate and run reject a repeated reference as a duplicate of its first row"
			default:
				c.how += "; " + gaps(c.empty, repeats, total) + ": those rows would be rejected"
			}
			c.field = inferField{transforms: []string{"trim"}}
			in.refColumn = slices.Index(in.cols, c)
			return
		}
	}
}

// exampleColumn is the column an example reference is built from, when none could be chosen: the
// first that was a candidate, else the first that is not mapped to anything else, else the first.
func (in *inference) exampleColumn() string {
	for _, c := range in.cols {
		if c.rule != nil && c.rule.target == "external_reference" {
			return c.name
		}
	}
	for _, c := range in.cols {
		if c.target == "" {
			return c.name
		}
	}
	return in.header[0]
}

// rare reports whether n of total is few enough (2% at most) to be a problem of those rows rather than
// a property of the column.
func rare(n, total int) bool { return n*50 <= total }

// gaps says how many samples of an id column are empty or repeat an earlier value.
func gaps(empty, repeats, total int) string {
	var parts []string
	if empty > 0 {
		parts = append(parts, countOf(empty, total)+" empty")
	}
	if repeats > 0 {
		parts = append(parts, countOf(repeats, total)+" a repeat of an earlier value")
	}
	return strings.Join(parts, ", ")
}

// countOf says "1 of 200 samples is" or "3 of 200 samples are".
func countOf(n, total int) string {
	if n == 1 {
		return fmt.Sprintf("1 of %d samples is", total)
	}
	return fmt.Sprintf("%d of %d samples are", n, total)
}

// idLikeName reports whether a column's name ends the way names of identifiers do ("Member Code",
// "Legacy Number", "CRM Key").
func idLikeName(name string) bool {
	key := inferKey(name)
	for _, end := range []string{"id", "no", "number", "code", "ref", "key", "num"} {
		if strings.HasSuffix(key, end) {
			return true
		}
	}
	return false
}

// idLike reports whether values look like record ids: present, short, without spaces, with a digit.
func idLike(values []string) bool {
	if len(values) == 0 {
		return false
	}
	for _, v := range values {
		if len(v) > 40 || strings.ContainsAny(v, " @") || !strings.ContainsAny(v, "0123456789") {
			return false
		}
	}
	return true
}

// annotated writes the inferred mapping, with its comments.
func (in *inference) annotated(samples int) []byte {
	var b bytes.Buffer
	fmt.Fprintf(&b, "# Starter mapping inferred by zentra-import from the header and %d sample rows.\n", samples)
	b.WriteString("# Every line is a guess: check it, and the API fields your tenant accepts, before a live import.\n")
	if in.dialect.Delimiter != 0 {
		fmt.Fprintf(&b, "csv:\n  delimiter: auto  # read as %s\n  encoding: auto   # read as %s\n",
			in.dialect.DelimiterName(), in.dialect.EncodingName())
	} else {
		b.WriteString("csv:\n  delimiter: auto\n  encoding: auto\n")
	}
	if f := in.framing; f.SkipLines > 0 {
		fmt.Fprintf(&b, "  skip_lines: %d  # %s\n", f.SkipLines, f.Title)
	}
	if f := in.framing; f.SkipFooter > 0 {
		fmt.Fprintf(&b, "  skip_footer: %d  # %s\n", f.SkipFooter, f.FooterSeen)
	}
	if n := in.dialect.Unnamed; n > 0 {
		note := csvfile.UnnamedNote(len(in.header), n)
		fmt.Fprintf(&b, "  # %s%s.\n", strings.ToUpper(note[:1]), note[1:])
	}
	b.WriteString("fields:\n")
	if in.refColumn >= 0 {
		c := in.cols[in.refColumn]
		fmt.Fprintf(&b, "  # %s: %s.\n", strconv.Quote(c.name), c.how)
		for _, n := range in.refNotes {
			fmt.Fprintf(&b, "  # Not %s.\n", n)
		}
		fmt.Fprintf(&b, "  # A prefix keeps references apart from other sources: {template: %s}\n", yamlQuoted("crm-{"+c.name+"}"))
		fmt.Fprintf(&b, "  external_reference: %s\n", c.field.yaml(c.name))
	} else {
		b.WriteString("  # external_reference: no column is an id present and distinct in every sample")
		if len(in.refNotes) > 0 {
			b.WriteString(" (" + strings.Join(in.refNotes, "; ") + ")")
		}
		b.WriteString(".\n  # Write one from the columns that identify a customer, for example:\n")
		fmt.Fprintf(&b, "  #   external_reference: {template: %s}\n", yamlQuoted("crm-{"+in.exampleColumn()+"}"))
	}
	mapped := map[string]bool{}
	for _, rule := range inferRules {
		for _, c := range in.cols {
			if c.target != rule.target || c.target == "external_reference" {
				continue
			}
			mapped[c.target] = true
			fmt.Fprintf(&b, "  # %s: %s", strconv.Quote(c.name), c.how)
			for _, n := range c.comment {
				b.WriteString("; " + n)
			}
			b.WriteString(".\n")
			fmt.Fprintf(&b, "  %s: %s\n", c.target, c.field.yaml(c.name))
		}
	}
	in.writeUnmapped(&b)
	if mapped["email"] && mapped["phone"] && in.optional("email") && in.optional("phone") {
		b.WriteString("# A customer needs a way to be reached: rows with neither are rejected.\n")
		b.WriteString("require_one_of: [email, phone]\n")
	}
	return b.Bytes()
}

func (in *inference) optional(target string) bool {
	for _, c := range in.cols {
		if c.target == target {
			return c.field.optional
		}
	}
	return false
}

// Bounds of the list of columns left out: a file of thousands of columns gets a mapping that stays a
// page or two, well within what a mapping file may be (maxMappingSize), and says how many it left out.
const (
	inferMaxUnmapped      = 100
	inferMaxUnmappedBytes = 32 << 10
)

// writeUnmapped lists the columns left out, as commented metadata fields ready to be uncommented: the
// first inferMaxUnmapped of them, in inferMaxUnmappedBytes at most, then how many more there are.
func (in *inference) writeUnmapped(b *bytes.Buffer) {
	used := map[string]bool{}
	next := map[string]int{}
	first, listed, start := true, 0, b.Len()
	var left []*inferColumn
	for i, c := range in.cols {
		if c.target != "" {
			continue
		}
		if listed == inferMaxUnmapped || b.Len()-start > inferMaxUnmappedBytes {
			left = append(left, c)
			continue
		}
		if first {
			b.WriteString("  # Not mapped. Uncomment a line to send the column too; send only what the API needs.\n")
			first = false
		}
		listed++
		name := metadataName(c.name, i, used, next)
		f := inferField{transforms: []string{"trim"}, optional: true}
		notes := c.comment
		if layouts, n := guessDateLayouts(c.values); len(layouts) > 0 && n*10 >= len(c.values)*9 {
			f.transforms = append(f.transforms, dateTransformYAML(layouts, false))
			notes = append(notes, fmt.Sprintf("dates: %d of %d samples match %s", n, len(c.values), strings.Join(layouts, " or ")))
		}
		note := ""
		if len(notes) > 0 {
			note = " (" + strings.Join(notes, "; ") + ")"
		}
		fmt.Fprintf(b, "  # metadata.%s: %s%s\n", name, f.yaml(c.name), note)
	}
	switch len(left) {
	case 0:
	case 1:
		fmt.Fprintf(b, "  # And 1 more column not mapped, not listed: %s.\n", inferShortName(left[0].name))
	default:
		fmt.Fprintf(b, "  # And %d more columns not mapped, not listed: %s to %s. Map them the same way if the API needs them.\n",
			len(left), inferShortName(left[0].name), inferShortName(left[len(left)-1].name))
	}
}

// inferShortName quotes a column name for a comment, cut if it is long.
func inferShortName(name string) string {
	if r := []rune(name); len(r) > 40 {
		name = string(r[:40]) + "…"
	}
	return strconv.Quote(name)
}

// metadataName turns a column name into a target segment: "Date Joined" → "date_joined", or
// "date_joined_2" when that is used already; next remembers, for each name, the number to try next.
func metadataName(column string, index int, used map[string]bool, next map[string]int) string {
	var b strings.Builder
	underscore := false
	for _, r := range strings.ToLower(column) {
		if (r >= 'a' && r <= 'z') || (r >= '0' && r <= '9') {
			if underscore && b.Len() > 0 {
				b.WriteByte('_')
			}
			b.WriteRune(r)
			underscore = false
			continue
		}
		underscore = true
	}
	name := b.String()
	if name == "" {
		name = fmt.Sprintf("column_%d", index+1)
	}
	base := name
	n := max(next[base], 2)
	for ; used[name]; n++ {
		name = fmt.Sprintf("%s_%d", base, n)
	}
	next[base] = n
	used[name] = true
	return name
}

func (f inferField) yaml(column string) string {
	kv := []string{"column: " + yamlText(column)}
	if f.def != "" {
		kv = append(kv, "default: "+yamlText(f.def))
	}
	if f.optional {
		kv = append(kv, "optional: true")
	}
	if f.region != "" {
		kv = append(kv, "region: "+f.region)
	}
	if len(f.transforms) > 0 {
		kv = append(kv, "transform: ["+strings.Join(f.transforms, ", ")+"]")
	}
	if f.validate != "" {
		kv = append(kv, "validate: "+f.validate)
	}
	return "{" + strings.Join(kv, ", ") + "}"
}

func countValid(values []string, valid func(string) bool) int {
	n := 0
	for _, v := range values {
		if valid(v) {
			n++
		}
	}
	return n
}

func lowerAll(values []string) []string {
	out := make([]string, len(values))
	for i, v := range values {
		out[i] = strings.ToLower(v)
	}
	return out
}

// looksLikePhones reports whether most values are written like phone numbers: 7 to 15 digits, with
// nothing but spaces, dots, dashes, brackets and a leading + around them.
func looksLikePhones(values []string) bool {
	n := 0
	for _, v := range values {
		digits := 0
		ok := true
		for i, r := range v {
			switch {
			case r >= '0' && r <= '9':
				digits++
			case r == '+' && i == 0, r == ' ', r == '-', r == '.', r == '(', r == ')':
			default:
				ok = false
			}
		}
		if ok && digits >= 7 && digits <= 15 {
			n++
		}
	}
	return n*10 >= len(values)*9
}

// inferRegions are the regions tried for numbers without a country code, in order of preference when
// they fit equally well, after those that the samples' international numbers name.
var inferRegions = []string{"NG", "GH", "KE", "ZA", "EG", "GB", "US", "IN"}

// guessRegion returns the region in which most of values are valid phone numbers, and how many are.
func guessRegion(values []string) (string, int) {
	if len(values) > 200 {
		values = values[:200]
	}
	candidates := []string{}
	for _, v := range values {
		if r := internationalRegion(v); r != "" && !slices.Contains(candidates, r) {
			candidates = append(candidates, r)
		}
	}
	for _, r := range inferRegions {
		if !slices.Contains(candidates, r) {
			candidates = append(candidates, r)
		}
	}
	best, bestN := candidates[0], -1
	for _, r := range candidates {
		n := countValid(values, func(v string) bool { _, ok := phoneE164(v, r); return ok })
		if n > bestN {
			best, bestN = r, n
		}
	}
	return best, bestN
}

// internationalRegion returns the region of a number written with its country code, or "".
func internationalRegion(v string) string {
	digits := onlyDigits(v)
	if !strings.HasPrefix(strings.TrimSpace(v), "+") && len(digits) < 11 {
		return ""
	}
	e164, ok := phoneE164("+"+digits, "")
	if !ok {
		return ""
	}
	return phoneRegionOf(e164)
}

// inferDateLayouts are the layouts tried on date columns, day-first before month-first when both fit.
var inferDateLayouts = []string{"YYYY-MM-DD", "DD/MM/YYYY", "MM/DD/YYYY", "DD-MM-YYYY", "MM-DD-YYYY", "DD.MM.YYYY",
	"YYYY/MM/DD", "D MMM YYYY", "DD-MMM-YYYY", "MMM D, YYYY", "DD/MM/YY", "MM/DD/YY", "DD.MM.YY", "DD-MMM-YY", "YYYYMMDD"}

// guessDateLayouts returns the fewest layouts (at most three) that read the most values, and how many.
func guessDateLayouts(values []string) ([]string, int) {
	left := values
	var chosen []string
	total := 0
	for len(chosen) < 3 && len(left) > 0 {
		best, bestN := "", 0
		for _, text := range inferDateLayouts {
			l, _ := parseDateLayout(text)
			n := countValid(left, func(v string) bool { _, ok := l.parse(v, datePivot{}, ""); return ok })
			if n > bestN {
				best, bestN = text, n
			}
		}
		if bestN == 0 {
			break
		}
		chosen = append(chosen, best)
		total += bestN
		l, _ := parseDateLayout(best)
		left = slices.DeleteFunc(slices.Clone(left), func(v string) bool { _, ok := l.parse(v, datePivot{}, ""); return ok })
	}
	return chosen, total
}

// dateTransformYAML writes the date transform of layouts, with pivot: past when past is set and a layout
// has a two-digit year.
func dateTransformYAML(layouts []string, past bool) string {
	step := transformStep{kind: transformDate}
	for _, text := range layouts {
		l, _ := parseDateLayout(text) // one of inferDateLayouts
		step.layouts = append(step.layouts, l)
		step.pivot.past = step.pivot.past || past && l.hasYY()
	}
	return step.yaml()
}

// allCodes reports whether every value is a two- or three-letter code such as NG or NGA.
func allCodes(values []string) bool {
	for _, v := range values {
		if len(v) < 2 || len(v) > 3 || !isLetters(v) {
			return false
		}
	}
	return len(values) > 0
}

func isLetters(s string) bool {
	for i := 0; i < len(s); i++ {
		if !(s[i] >= 'a' && s[i] <= 'z' || s[i] >= 'A' && s[i] <= 'Z') {
			return false
		}
	}
	return true
}

// sharedValue returns the value every sample has (compared case-insensitively), or "".
func sharedValue(values []string) string {
	for _, v := range values[1:] {
		if !strings.EqualFold(v, values[0]) {
			return ""
		}
	}
	return values[0]
}
