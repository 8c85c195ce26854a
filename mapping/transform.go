package mapping

import (
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"unicode"
	"unicode/utf8"

	"github.com/nyaruka/phonenumbers"
)

// transformKind names one transform of a field's transform: list.
type transformKind uint8

const (
	transformTrim transformKind = iota + 1
	transformLower
	transformUpper
	transformTitle
	transformCollapseSpaces
	transformDigits
	transformPhone
	transformDate
	transformPadLeft
	transformStripLeading
	transformReplace
)

var transformNames = [...]string{
	transformTrim:           "trim",
	transformLower:          "lower",
	transformUpper:          "upper",
	transformTitle:          "title",
	transformCollapseSpaces: "collapse_spaces",
	transformDigits:         "digits",
	transformPhone:          "phone",
	transformDate:           "date",
	transformPadLeft:        "pad_left",
	transformStripLeading:   "strip_leading",
	transformReplace:        "replace",
}

// kindByName returns the index of name in names, a table indexed by kind whose index 0 is unused.
func kindByName(names []string, name string) (int, bool) {
	i := slices.Index(names, name)
	return i, i > 0
}

// transformStep is one transform with its arguments.
type transformStep struct {
	kind    transformKind
	layouts []dateLayout // date
	pivot   datePivot    // date

	width int    // pad_left: the width in characters
	chars string // pad_left: the one character it pads with; strip_leading: the characters it strips

	pattern string         // replace: the RE2 pattern, as written
	re      *regexp.Regexp // replace
	with    string         // replace: the replacement, with $1 or ${name} for the pattern's groups
}

// apply transforms s; region is the field's phone region and today the date of the run (YYYY-MM-DD), for
// a date pivot. On failure it returns the row problem's reason, which never contains s.
func (t *transformStep) apply(s, region, today string) (string, string) {
	switch t.kind {
	case transformTrim:
		return trimFieldValue(s), ""
	case transformLower:
		return strings.ToLower(s), ""
	case transformUpper:
		return strings.ToUpper(s), ""
	case transformTitle:
		return titleCase(s), ""
	case transformCollapseSpaces:
		return collapseSpaces(s), ""
	case transformDigits:
		return onlyDigits(s), ""
	case transformPadLeft:
		if n := utf8.RuneCountInString(s); n < t.width {
			return strings.Repeat(t.chars, t.width-n) + s, ""
		}
		return s, ""
	case transformStripLeading:
		return strings.TrimLeft(s, t.chars), ""
	case transformReplace:
		return t.re.ReplaceAllString(s, t.with), ""
	case transformPhone:
		e164, ok := phoneE164(s, region)
		if !ok {
			if phoneExtension.MatchString(phoneText(s)) {
				return "", "has an extension, which E.164 cannot hold: put it in another field"
			}
			if region == "" {
				return "", "not a valid international phone number (set region: to read numbers without a country code)"
			}
			return "", "not a valid phone number for region " + region
		}
		return e164, ""
	default: // transformDate
		for i := range t.layouts {
			if d, ok := t.layouts[i].parse(s, t.pivot, today); ok {
				return d, ""
			}
		}
		return "", dateReason(t.layouts)
	}
}

func dateReason(layouts []dateLayout) string {
	if len(layouts) == 1 {
		return "not a valid date in the form " + layouts[0].text
	}
	forms := make([]string, len(layouts))
	for i, l := range layouts {
		forms[i] = l.text
	}
	return "not a valid date in any of the forms " + strings.Join(forms, ", ")
}

// isValueSpace reports the characters trim removes: Unicode white space, and the zero-width space and
// byte-order mark that copy-pasted and re-encoded data carries.
func isValueSpace(r rune) bool {
	return unicode.IsSpace(r) || r == '\u200b' || r == '\ufeff'
}

func trimFieldValue(s string) string {
	// Fast path: nothing to trim at either end in ASCII.
	if s == "" || (s[0] > ' ' && s[0] < utf8.RuneSelf && s[len(s)-1] > ' ' && s[len(s)-1] < utf8.RuneSelf) {
		return s
	}
	return strings.TrimFunc(s, isValueSpace)
}

// isBlankValue reports whether s is empty or only white space: such a value counts as empty.
func isBlankValue(s string) bool {
	for _, r := range s {
		if !isValueSpace(r) {
			return false
		}
	}
	return true
}

func collapseSpaces(s string) string {
	clean := true
	prevSpace := true // a space at the start needs removing too
	for i := 0; i < len(s) && clean; i++ {
		c := s[i]
		switch {
		case c == ' ':
			clean = !prevSpace
			prevSpace = true
		case c < ' ' || c >= utf8.RuneSelf:
			clean = false
		default:
			prevSpace = false
		}
	}
	if clean && !prevSpace {
		return s
	}
	var b strings.Builder
	b.Grow(len(s))
	pending := false
	for _, r := range s {
		if isValueSpace(r) {
			pending = b.Len() > 0
			continue
		}
		if pending {
			b.WriteByte(' ')
			pending = false
		}
		b.WriteRune(r)
	}
	return b.String()
}

func onlyDigits(s string) string {
	n := 0
	for i := 0; i < len(s); i++ {
		if s[i] >= '0' && s[i] <= '9' {
			n++
		}
	}
	if n == len(s) {
		return s
	}
	b := make([]byte, 0, n)
	for i := 0; i < len(s); i++ {
		if s[i] >= '0' && s[i] <= '9' {
			b = append(b, s[i])
		}
	}
	return string(b)
}

// titleCase capitalises names as documented on [Mapping]: words already in mixed case are kept, others
// are lowercased with the first letter of each part capitalised; a Roman numeral after the first word
// stays upper case (John III).
func titleCase(s string) string {
	var b strings.Builder
	b.Grow(len(s))
	for first := true; len(s) > 0; first = false {
		// Copy the white space before the next word, then the word.
		i := strings.IndexFunc(s, func(r rune) bool { return !unicode.IsSpace(r) })
		if i < 0 {
			b.WriteString(s)
			break
		}
		b.WriteString(s[:i])
		s = s[i:]
		end := strings.IndexFunc(s, unicode.IsSpace)
		if end < 0 {
			end = len(s)
		}
		w, rest := s[:end], s[end:]
		switch {
		case !first && isRomanSuffix(w):
			b.WriteString(strings.ToUpper(w))
		case !first && isParticle(w) && strings.IndexFunc(rest, func(r rune) bool { return !unicode.IsSpace(r) }) >= 0:
			b.WriteString(strings.ToLower(w))
		default:
			titleWord(&b, w)
		}
		s = rest
	}
	return b.String()
}

// nameParticles are the words that stay in lower case inside a name (Ludwig van Beethoven, Juan de la
// Cruz, Ahmad bin Ali): the prepositions and articles of Dutch, German, Spanish, Portuguese and Italian
// names, and the Arabic and Malay patronymic links. Le, Du and El are left out: names such as Le Pen and
// El Amrani are written with capitals.
var nameParticles = []string{"van", "von", "der", "den", "ter", "ten", "de", "del", "della", "di", "da", "dos", "das", "la", "bin", "binti", "bint", "ibn", "al"}

// isParticle reports whether w is one of nameParticles in one case (DE or de, not De, which is kept as
// written like any mixed-case word).
func isParticle(w string) bool {
	lower := strings.ToLower(w)
	return len(w) <= 5 && (w == lower || w == strings.ToUpper(w)) && slices.Contains(nameParticles, lower)
}

// romanSuffixes are the numerals II to XX that follow a name (John Adeyemi III), except VI and XI, which
// are also names (Vi, Xi). A lone V or X is capitalised as any one-letter word is.
var romanSuffixes = []string{"ii", "iii", "iv", "vii", "viii", "ix", "xii", "xiii", "xiv", "xv", "xvi", "xvii", "xviii", "xix", "xx"}

// isRomanSuffix reports whether w is one of romanSuffixes in one case (III or iii, not Iii), maybe
// followed by a comma or a dot.
func isRomanSuffix(w string) bool {
	w = strings.TrimSuffix(strings.TrimSuffix(w, ","), ".")
	if len(w) > 5 || w != strings.ToLower(w) && w != strings.ToUpper(w) {
		return false
	}
	return slices.Contains(romanSuffixes, strings.ToLower(w))
}

func titleWord(b *strings.Builder, w string) {
	hasUpper, hasLower := false, false
	for _, r := range w {
		hasUpper = hasUpper || unicode.IsUpper(r)
		// ß has no upper-case letter of its own: STRAßE is an upper-case word.
		hasLower = hasLower || unicode.IsLower(r) && unicode.ToUpper(r) != r
	}
	if hasUpper && hasLower {
		b.WriteString(w)
		return
	}
	runes := []rune(strings.ToLower(w))
	capNext := true
	partLetters := 0 // letters since the start of the part
	for i, r := range runes {
		switch {
		case unicode.IsLetter(r):
			if capNext {
				r = unicode.ToTitle(r)
				capNext = false
			} else if r == 'σ' && finalSigma(runes[i+1:]) {
				r = 'ς' // Greek writes a word-final sigma differently: ΟΔΥΣΣΕΑΣ → Οδυσσεας
			}
			partLetters++
			// A leading Mc starts a new part when a name follows: McCarthy.
			if partLetters == 2 && r == 'c' && i >= 1 && unicode.ToLower(runes[i-1]) == 'm' && lettersFollow(runes[i+1:], 2) {
				capNext = true
				partLetters = 0
			}
		case unicode.IsDigit(r):
			capNext = false
			partLetters++
		case r == '\'' || r == '\u2019':
			// O'Brien, D'Angelo, N'Dour; not Adebayo's.
			if partLetters == 1 && lettersFollow(runes[i+1:], 2) {
				capNext = true
				partLetters = 0
			}
		case r == '-' || r == '\u2010' || r == '.' || r == '/' || r == '(' || r == '[':
			capNext = true
			partLetters = 0
		}
		b.WriteRune(r)
	}
}

// finalSigma reports whether a sigma followed by rest ends its word: no letter follows it, combining
// marks aside. (It is only asked about a sigma after the first letter of a part.)
func finalSigma(rest []rune) bool {
	for _, r := range rest {
		if !unicode.Is(unicode.Mn, r) {
			return !unicode.IsLetter(r)
		}
	}
	return true
}

// lettersFollow reports whether rs starts with at least n letters.
func lettersFollow(rs []rune, n int) bool {
	if len(rs) < n {
		return false
	}
	for _, r := range rs[:n] {
		if !unicode.IsLetter(r) {
			return false
		}
	}
	return true
}

// phoneExtension matches a number followed by an extension: "0803 123 4567 ext 12", "…x12", "…ext. 5",
// "…#5".
var phoneExtension = regexp.MustCompile(`(?i)^[0-9+()./\s-]*[0-9][\s,;]*(ext(ension)?\.?|x\.?|#)\s*[0-9]{1,7}$`)

// phoneText strips what spreadsheets and links wrap a number in: a tel: URI scheme and Excel's text
// markers, a leading apostrophe ('08031234567) and a formula of a string (="08031234567"), which keep
// a spreadsheet from dropping the leading zero.
func phoneText(s string) string {
	s = trimFieldValue(s)
	if len(s) > 3 && strings.HasPrefix(s, `="`) && strings.HasSuffix(s, `"`) {
		s = trimFieldValue(s[2 : len(s)-1])
	}
	s = strings.TrimPrefix(s, "'")
	if len(s) > 4 && strings.EqualFold(s[:4], "tel:") {
		s = s[4:]
	}
	return s
}

// phoneE164 returns s in E.164 if it is a valid number, read in region when it has no country code.
func phoneE164(s, region string) (e164 string, ok bool) {
	s = phoneText(s)
	defer func() {
		// The library is a port of a large codebase; an input it cannot cope with is an invalid number,
		// never a crashed import.
		if recover() != nil {
			e164, ok = "", false
		}
	}()
	// Keep the digits and a leading +, dropping the separators people write; anything else (letters of a
	// vanity number or an extension, which libphonenumber would accept) makes the number invalid. The
	// library is also several times faster on the bare digits.
	var buf [32]byte
	digits := buf[:0]
	for i, r := range s {
		switch {
		case r >= '0' && r <= '9':
			digits = append(digits, byte(r))
		case r == '+' && len(digits) == 0 && !strings.ContainsRune(s[:i], '+'):
			digits = append(digits, '+')
		case r == ' ' || r == '-' || r == '.' || r == '(' || r == ')' || r == '/' || r == '\u00a0' || r == '\t':
		default:
			return "", false
		}
		if len(digits) == cap(buf) {
			return "", false // longer than any number
		}
	}
	num, err := phonenumbers.Parse(string(digits), region)
	if (err != nil || !phonenumbers.IsValidNumber(num)) && len(digits) > 2 && digits[0] == '0' && digits[1] == '0' {
		// 00 is the international prefix of most of the world (0044 20 7946 0000), but not of every
		// region's (Nigeria dials 009): read it as the + it stands for.
		digits = append([]byte{'+'}, digits[2:]...)
		num, err = phonenumbers.Parse(string(digits), region)
	}
	if err != nil || !phonenumbers.IsValidNumber(num) {
		return "", false
	}
	return phonenumbers.Format(num, phonenumbers.E164), true
}

// phoneRegionOf returns the region of a valid E.164 number.
func phoneRegionOf(e164 string) string {
	num, err := phonenumbers.Parse(e164, "")
	if err != nil {
		return ""
	}
	return phonenumbers.GetRegionCodeForNumber(num)
}

var phoneRegions = sync.OnceValue(func() map[string]bool {
	regions := map[string]bool{}
	for r := range phonenumbers.GetSupportedRegions() {
		regions[r] = true
	}
	return regions
})

// supportedPhoneRegion reports whether region (upper case) is a region libphonenumber knows.
func supportedPhoneRegion(region string) bool { return phoneRegions()[region] }

// dateLayout is a user-friendly date layout (DD/MM/YYYY), compiled.
type dateLayout struct {
	text  string // as written, for messages
	canon string // the same meaning, one spelling (for the mapping's hash)
	items []dateItem
}

type dateItemKind uint8

const (
	dateLiteral   dateItemKind = iota // one separator character
	dateSpace                         // one or more spaces
	dateDay                           // DD or D
	dateMonth                         // MM or M
	dateMonthName                     // MMM or MMMM
	dateYear4                         // YYYY
	dateYear2                         // YY
)

type dateItem struct {
	kind  dateItemKind
	lit   byte // dateLiteral's character
	fixed bool // a number read at its full width, because another number follows it directly
}

func (it dateItem) numeric() bool { return it.kind >= dateDay && it.kind != dateMonthName }

// parseDateLayout compiles a layout such as "DD/MM/YYYY" or "D MMM YYYY" (letters in any case). It
// returns a message when the layout is not one it can read.
func parseDateLayout(text string) (dateLayout, string) {
	l := dateLayout{text: strings.TrimSpace(text)}
	s := strings.ToUpper(l.text)
	var canon strings.Builder
	var have [dateYear2 + 1]int
	for i := 0; i < len(s); {
		c := s[i]
		run := 1
		for i+run < len(s) && s[i+run] == c {
			run++
		}
		var it dateItem
		switch {
		case c == 'D' && run <= 2:
			it.kind = dateDay
			canon.WriteString("DD")
		case c == 'M' && run <= 2:
			it.kind = dateMonth
			canon.WriteString("MM")
		case c == 'M' && run <= 4:
			it.kind = dateMonthName
			canon.WriteString("MMM")
		case c == 'Y' && run == 4:
			it.kind = dateYear4
			canon.WriteString("YYYY")
		case c == 'Y' && run == 2:
			it.kind = dateYear2
			canon.WriteString("YY")
		case c == ' ':
			it.kind = dateSpace
			canon.WriteByte(' ')
		case c == '/' || c == '-' || c == '.' || c == ',':
			if run > 1 {
				return l, "a separator is written once"
			}
			it = dateItem{kind: dateLiteral, lit: c}
			canon.WriteByte(c)
		case c >= '0' && c <= '9':
			return l, "digits in a layout: write the form of the dates, such as DD/MM/YYYY (not an example date or a Go layout)"
		default:
			r, _ := utf8.DecodeRuneInString(s[i:])
			return l, fmt.Sprintf("unknown element %q: use DD, MM, MMM, YY, YYYY and separators / - . , or space", r)
		}
		have[it.kind]++
		l.items = append(l.items, it)
		i += run
	}
	// A number directly followed by another (DDMMYYYY) has its full width: it cannot end where a separator is.
	for i := range l.items {
		l.items[i].fixed = i+1 < len(l.items) && l.items[i+1].numeric()
	}
	months := have[dateMonth] + have[dateMonthName]
	years := have[dateYear4] + have[dateYear2]
	if have[dateDay] != 1 || months != 1 || years != 1 {
		return l, "a layout needs exactly one day (DD), one month (MM or MMM) and one year (YYYY or YY)"
	}
	l.canon = canon.String()
	return l, ""
}

var monthNames = [...]string{"january", "february", "march", "april", "may", "june", "july", "august", "september", "october", "november", "december"}

// datePivot says which century a two-digit year (YY) is in.
type datePivot struct {
	past  bool // the latest year that puts the date not after the run's date
	start int  // else, when not 0: the first year of the hundred years YY reads into (1930: 30 → 1930, 29 → 2029)
}

// pivotYear returns the year of a two-digit year yy under the pivot, given the date's month and day and
// today (YYYY-MM-DD). Without a pivot, 00 to 68 are 2000 to 2068 and 69 to 99 are 1969 to 1999, as POSIX
// strptime reads them.
func (pv datePivot) pivotYear(yy, month, day int, today string) int {
	switch {
	case pv.past:
		ty, _ := strconv.Atoi(today[:4])
		year := ty - ty%100 + yy
		if year > ty || year == ty && fmt.Sprintf("%02d-%02d", month, day) > today[5:] {
			year -= 100
		}
		return year
	case pv.start != 0:
		year := pv.start - pv.start%100 + yy
		if year < pv.start {
			year += 100
		}
		return year
	}
	year := 2000 + yy
	if year >= 2069 {
		year -= 100
	}
	return year
}

// String writes the pivot as the mapping file does; "" without one.
func (pv datePivot) String() string {
	switch {
	case pv.past:
		return "past"
	case pv.start != 0:
		return strconv.Itoa(pv.start)
	}
	return ""
}

// hasYY reports whether the layout reads a two-digit year.
func (l *dateLayout) hasYY() bool {
	return slices.ContainsFunc(l.items, func(it dateItem) bool { return it.kind == dateYear2 })
}

// parse reads s in the layout and returns it as YYYY-MM-DD, a two-digit year placed by the pivot (today is
// the run's date, YYYY-MM-DD).
func (l *dateLayout) parse(s string, pv datePivot, today string) (string, bool) {
	s = trimFieldValue(s)
	year, month, day := 0, 0, 0
	yy := -1
	for _, it := range l.items {
		var ok bool
		switch it.kind {
		case dateLiteral:
			ok = len(s) > 0 && s[0] == it.lit
			if ok {
				s = s[1:]
			}
		case dateSpace:
			n := len(s) - len(strings.TrimLeft(s, " "))
			ok = n > 0
			s = s[n:]
		case dateDay:
			day, s, ok = leadingNumber(s, it.minDigits(), 2, it.fixed)
		case dateMonth:
			month, s, ok = leadingNumber(s, it.minDigits(), 2, it.fixed)
		case dateMonthName:
			month, s, ok = leadingMonthName(s)
		case dateYear4:
			year, s, ok = leadingNumber(s, 4, 4, it.fixed)
		case dateYear2:
			yy, s, ok = leadingNumber(s, 2, 2, it.fixed)
		}
		if !ok {
			return "", false
		}
	}
	if yy >= 0 {
		year = pv.pivotYear(yy, month, day, today)
	}
	if !trailingTime(s) || year < 1 || month < 1 || month > 12 || day < 1 || day > daysIn(month, year) {
		return "", false
	}
	return formatDate(year, month, day), true
}

// formatDate writes a date as YYYY-MM-DD.
func formatDate(year, month, day int) string {
	var b [10]byte
	putDigits(b[0:4], year)
	b[4] = '-'
	putDigits(b[5:7], month)
	b[7] = '-'
	putDigits(b[8:10], day)
	return string(b[:])
}

// minDigits is the fewest digits a day or month is written with: 1, or 2 when it is fixed.
func (it dateItem) minDigits() int {
	if it.fixed {
		return 2
	}
	return 1
}

// leadingNumber reads between lo and hi ASCII digits from the start of s; unless more digits may
// follow (fixed), the number must end there.
func leadingNumber(s string, lo, hi int, fixed bool) (int, string, bool) {
	n, v := 0, 0
	for n < hi && n < len(s) && s[n] >= '0' && s[n] <= '9' {
		v = v*10 + int(s[n]-'0')
		n++
	}
	if n < lo {
		return 0, s, false
	}
	if !fixed && n < len(s) && s[n] >= '0' && s[n] <= '9' {
		return 0, s, false // more digits than the layout allows
	}
	return v, s[n:], true
}

// leadingMonthName reads an English month name, full or abbreviated to three letters (or Sept), in any case.
func leadingMonthName(s string) (int, string, bool) {
	n := 0
	for n < len(s) && n < 10 && ((s[n] >= 'a' && s[n] <= 'z') || (s[n] >= 'A' && s[n] <= 'Z')) {
		n++
	}
	if n < 3 || (n < len(s) && unicode.IsLetter(rune(s[n]))) {
		return 0, s, false
	}
	word := strings.ToLower(s[:n])
	for i, name := range monthNames {
		if word == name || word == name[:3] || (i == 8 && word == "sept") {
			return i + 1, s[n:], true
		}
	}
	return 0, s, false
}

// trailingTime reports whether s is empty or a time of day after the date ("T10:00", " 00:00:00.000",
// " 12:00 AM"), which the date transform ignores.
func trailingTime(s string) bool {
	if s == "" {
		return true
	}
	if s[0] != ' ' && s[0] != 'T' {
		return false
	}
	s = strings.TrimLeft(s[1:], " ")
	if len(s) < 4 || s[0] < '0' || s[0] > '9' || !strings.Contains(s[:3], ":") {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= '0' && c <= '9') && c != ':' && c != '.' && c != ' ' && c != 'Z' && c != '+' && c != '-' &&
			c != 'A' && c != 'P' && c != 'M' && c != 'a' && c != 'p' && c != 'm' {
			return false
		}
	}
	return true
}

func daysIn(month, year int) int {
	switch month {
	case 2:
		if year%4 == 0 && (year%100 != 0 || year%400 == 0) {
			return 29
		}
		return 28
	case 4, 6, 9, 11:
		return 30
	}
	return 31
}

func putDigits(b []byte, v int) {
	for i := len(b) - 1; i >= 0; i-- {
		b[i] = byte('0' + v%10)
		v /= 10
	}
}
