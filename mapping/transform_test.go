package mapping

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestTransforms(t *testing.T) {
	tests := []struct {
		name      string
		transform transformKind
		in, want  string
	}{
		{"trim spaces", transformTrim, "  Ade  ", "Ade"},
		{"trim tabs, newlines, no-break and zero-width spaces, BOM", transformTrim, "\t\u00a0\u200b\ufeffAde\r\n", "Ade"},
		{"trim keeps inner spaces", transformTrim, " Ade  Bola ", "Ade  Bola"},
		{"trim nothing", transformTrim, "Ade", "Ade"},
		{"lower", transformLower, "ADÉLÉ@Example.COM", "adélé@example.com"},
		{"upper", transformUpper, "ng", "NG"},
		{"upper Unicode", transformUpper, "zoë", "ZOË"},
		{"title upper case", transformTitle, "ADEBAYO OKAFOR", "Adebayo Okafor"},
		{"title lower case", transformTitle, "adebayo okafor", "Adebayo Okafor"},
		{"title accents", transformTitle, "ADÉLÉ ZOË MÜLLER", "Adélé Zoë Müller"},
		{"title combining marks", transformTitle, "ADÉBÁYỌ̀ Ọ̀KÀFỌ̀", "Adébáyọ̀ Ọ̀kàfọ̀"},
		{"title keeps mixed case", transformTitle, "McDonald DeShawn van der Berg", "McDonald DeShawn van der Berg"},
		{"title particles inside a name", transformTitle, "DE LA CRUZ", "De la Cruz"},
		{"title particles after a first name", transformTitle, "LUDWIG VAN BEETHOVEN", "Ludwig van Beethoven"},
		{"title particle first", transformTitle, "van der berg", "Van der Berg"},
		{"title Arabic and Malay links", transformTitle, "AHMAD BIN ALI AL RASHID", "Ahmad bin Ali al Rashid"},
		{"title particle as the last word", transformTitle, "JOHN DE", "John De"},
		{"title particle written in mixed case", transformTitle, "Maria Del Carmen", "Maria Del Carmen"},
		{"title Le and El keep their capital", transformTitle, "MARINE LE PEN HAMID EL AMRANI", "Marine Le Pen Hamid El Amrani"},
		{"title hyphen", transformTitle, "OKAFOR-NWOSU", "Okafor-Nwosu"},
		{"title O'", transformTitle, "O'BRIEN", "O'Brien"},
		{"title D' with a typographic apostrophe", transformTitle, "d’angelo", "D’Angelo"},
		{"title possessive", transformTitle, "ADEBAYO'S", "Adebayo's"},
		{"title Mc", transformTitle, "MCCARTHY mcdonald", "McCarthy McDonald"},
		{"title short Mc word", transformTitle, "MCX", "Mcx"},
		{"title initials", transformTitle, "J.O. ADEYEMI", "J.O. Adeyemi"},
		{"title digits", transformTitle, "3RD AVENUE", "3rd Avenue"},
		{"title keeps spacing", transformTitle, " ade  bola\t", " Ade  Bola\t"},
		{"title suffix with comma", transformTitle, "ADEYEMI, JR.", "Adeyemi, Jr."},
		{"title Roman numeral suffix", transformTitle, "JOHN III", "John III"},
		{"title Roman numerals in lower case", transformTitle, "john adeyemi iv", "John Adeyemi IV"},
		{"title Roman numeral before a comma", transformTitle, "ADEYEMI XIV, JOHN", "Adeyemi XIV, John"},
		{"title Roman numeral as the first word", transformTitle, "IV ADEYEMI", "Iv Adeyemi"},
		{"title Roman numerals that are names", transformTitle, "JINPING XI ANNA VI", "Jinping Xi Anna Vi"},
		{"title not a numeral", transformTitle, "JOHN IIII LIV", "John Iiii Liv"},
		{"title mixed-case numeral kept", transformTitle, "John Iii", "John Iii"},
		{"title Greek final sigma", transformTitle, "ΟΔΥΣΣΕΑΣ", "Οδυσσεας"},
		{"title Greek final sigma in each part", transformTitle, "ΠΑΠΑΣ-ΚΩΣΤΑΣ ΣΑΣ", "Παπας-Κωστας Σας"},
		{"title Greek lone sigma", transformTitle, "Σ. ΣΙΣΥΦΟΣ", "Σ. Σισυφος"},
		{"title sharp s in an upper-case word", transformTitle, "STRAßE", "Straße"},
		{"title sharp s in a lower-case word", transformTitle, "straße", "Straße"},
		{"collapse spaces", transformCollapseSpaces, "  12   Allen\tAvenue,\r\n Ikeja  ", "12 Allen Avenue, Ikeja"},
		{"collapse no-break space", transformCollapseSpaces, "a\u00a0\u00a0b", "a b"},
		{"collapse nothing to do", transformCollapseSpaces, "12 Allen Avenue", "12 Allen Avenue"},
		{"collapse only spaces", transformCollapseSpaces, "   ", ""},
		{"digits", transformDigits, "+234 (803) 123-4567", "2348031234567"},
		{"digits nothing to do", transformDigits, "0803", "0803"},
		{"digits ASCII only", transformDigits, "١٢3", "3"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			step := transformStep{kind: tt.transform}
			got, reason := step.apply(tt.in, "", "2026-12-04")
			assert.Empty(t, reason)
			assert.Equal(t, tt.want, got)
		})
	}
}

func TestPhoneTransform(t *testing.T) {
	tests := []struct {
		name, in, region, want, reason string
	}{
		{"spaced national", "0803 123 4567", "NG", "+2348031234567", ""},
		{"country code without +", "2348031234567", "NG", "+2348031234567", ""},
		{"international spaced", "+234 803 123 4567", "NG", "+2348031234567", ""},
		{"brackets and dash", "(0803) 123-4567", "NG", "+2348031234567", ""},
		{"dashed with country code", "234-803-123-4567", "NG", "+2348031234567", ""},
		{"no leading zero", "8031234567", "NG", "+2348031234567", ""},
		{"another country's number", "+233 24 123 4567", "NG", "+233241234567", ""},
		{"national in another region", "024 123 4567", "GH", "+233241234567", ""},
		{"international without region", "+2348031234567", "", "+2348031234567", ""},
		{"too short", "0803 123 45", "NG", "", "not a valid phone number for region NG"},
		{"too long", "0803 123 45678", "NG", "", "not a valid phone number for region NG"},
		{"letters", "0803-CALL-NOW", "NG", "", "not a valid phone number for region NG"},
		{"extension", "0803 123 4567 ext 12", "NG", "", "has an extension, which E.164 cannot hold: put it in another field"},
		{"extension x", "08031234567 x12", "NG", "", "has an extension, which E.164 cannot hold: put it in another field"},
		{"extension x without a space", "+234 803 123 4567x12", "", "", "has an extension, which E.164 cannot hold: put it in another field"},
		{"extension ext.", "08031234567 ext. 5", "NG", "", "has an extension, which E.164 cannot hold: put it in another field"},
		{"extension spelled out", "(0803) 123-4567, Extension 204", "NG", "", "has an extension, which E.164 cannot hold: put it in another field"},
		{"extension #", "08031234567 #5", "NG", "", "has an extension, which E.164 cannot hold: put it in another field"},
		{"extension after an Excel apostrophe", "'08031234567 ext 12", "NG", "", "has an extension, which E.164 cannot hold: put it in another field"},
		{"letters after a number are not an extension", "08031234567 mobile", "NG", "", "not a valid phone number for region NG"},
		{"x alone is not an extension", "x12", "NG", "", "not a valid phone number for region NG"},
		{"Excel's leading apostrophe", "'08031234567", "NG", "+2348031234567", ""},
		{"Excel's text formula", `="08031234567"`, "NG", "+2348031234567", ""},
		{"Excel's text formula with spaces", `=" 0803 123 4567 "`, "NG", "+2348031234567", ""},
		{"tel: URI", "tel:+234-803-123-4567", "", "+2348031234567", ""},
		{"TEL: URI, national", "TEL:08031234567", "NG", "+2348031234567", ""},
		{"an unclosed formula is not a number", `="08031234567`, "NG", "", "not a valid phone number for region NG"},
		{"two apostrophes are not a number", "''08031234567", "NG", "", "not a valid phone number for region NG"},
		{"not a number", "n/a", "NG", "", "not a valid phone number for region NG"},
		{"national without region", "08031234567", "", "", "not a valid international phone number (set region: to read numbers without a country code)"},
		{"00 international prefix in a region that dials 009", "0044 20 7946 0000", "NG", "+442079460000", ""},
		{"00 international prefix without region", "00234 803 123 4567", "", "+2348031234567", ""},
		{"00 and a number valid nowhere", "0099 123", "NG", "", "not a valid phone number for region NG"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			step := transformStep{kind: transformPhone}
			got, reason := step.apply(tt.in, tt.region, "2026-12-04")
			assert.Equal(t, tt.want, got)
			assert.Equal(t, tt.reason, reason)
		})
	}
}

func TestDateTransform(t *testing.T) {
	tests := []struct {
		name    string
		layouts []string
		in      string
		want    string // "" for a problem
	}{
		{"DD/MM/YYYY", []string{"DD/MM/YYYY"}, "01/02/1990", "1990-02-01"},
		{"one-digit day and month", []string{"DD/MM/YYYY"}, "1/2/1990", "1990-02-01"},
		{"surrounding spaces", []string{"DD/MM/YYYY"}, " 01/02/1990 ", "1990-02-01"},
		{"lower-case layout", []string{"dd/mm/yyyy"}, "31/12/1999", "1999-12-31"},
		{"MM/DD/YY old", []string{"MM/DD/YY"}, "02/01/85", "1985-02-01"},
		{"MM/DD/YY new", []string{"MM/DD/YY"}, "02/01/05", "2005-02-01"},
		{"YY pivot 68", []string{"DD/MM/YY"}, "01/01/68", "2068-01-01"},
		{"YY pivot 69", []string{"DD/MM/YY"}, "01/01/69", "1969-01-01"},
		{"ISO", []string{"YYYY-MM-DD"}, "1990-02-01", "1990-02-01"},
		{"month name", []string{"D MMM YYYY"}, "1 Feb 1990", "1990-02-01"},
		{"full month name, any case", []string{"D MMM YYYY"}, "1 FEBRUARY 1990", "1990-02-01"},
		{"Sept", []string{"D MMM YYYY"}, "9 Sept 1990", "1990-09-09"},
		{"several spaces", []string{"D MMM YYYY"}, "9  Sep   1990", "1990-09-09"},
		{"month first with comma", []string{"MMM D, YYYY"}, "Feb 1, 1990", "1990-02-01"},
		{"dashed month name", []string{"DD-MMM-YY"}, "01-feb-90", "1990-02-01"},
		{"compact", []string{"YYYYMMDD"}, "19900201", "1990-02-01"},
		{"compact day first", []string{"DDMMYYYY"}, "01021990", "1990-02-01"},
		{"dotted", []string{"DD.MM.YYYY"}, "01.02.1990", "1990-02-01"},
		{"with a midnight time", []string{"YYYY-MM-DD"}, "1985-03-12 00:00:00.000", "1985-03-12"},
		{"with an ISO time", []string{"YYYY-MM-DD"}, "1985-03-12T10:30:00Z", "1985-03-12"},
		{"with a 12-hour time", []string{"MM/DD/YYYY"}, "3/12/1985 12:00 AM", "1985-03-12"},
		{"second layout", []string{"DD/MM/YYYY", "YYYY-MM-DD"}, "1990-02-01", "1990-02-01"},
		{"first matching layout wins", []string{"DD/MM/YYYY", "MM/DD/YYYY"}, "01/02/1990", "1990-02-01"},
		{"later layout when the first fails", []string{"DD/MM/YYYY", "MM/DD/YYYY"}, "12/31/1990", "1990-12-31"},
		{"leap day", []string{"DD/MM/YYYY"}, "29/02/2000", "2000-02-29"},
		{"no leap day in 1900", []string{"DD/MM/YYYY"}, "29/02/1900", ""},
		{"31 February", []string{"DD/MM/YYYY"}, "31/02/1988", ""},
		{"month 13", []string{"DD/MM/YYYY"}, "01/13/1990", ""},
		{"day 0", []string{"DD/MM/YYYY"}, "00/01/1990", ""},
		{"year 0", []string{"DD/MM/YYYY"}, "01/01/0000", ""},
		{"three-digit day", []string{"DD/MM/YYYY"}, "001/01/1990", ""},
		{"two-digit year for YYYY", []string{"DD/MM/YYYY"}, "01/01/90", ""},
		{"wrong separator", []string{"DD/MM/YYYY"}, "01-02-1990", ""},
		{"trailing text", []string{"DD/MM/YYYY"}, "01/02/1990 approx", ""},
		{"unknown month", []string{"D MMM YYYY"}, "1 Foo 1990", ""},
		{"month name too long", []string{"D MMM YYYY"}, "1 Febr 1990", ""},
		{"not a date", []string{"DD/MM/YYYY"}, "unknown", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			step := transformStep{kind: transformDate}
			for _, text := range tt.layouts {
				l, msg := parseDateLayout(text)
				require.Empty(t, msg)
				step.layouts = append(step.layouts, l)
			}
			got, reason := step.apply(tt.in, "", "2026-12-04")
			assert.Equal(t, tt.want, got)
			if tt.want == "" {
				assert.Contains(t, reason, "not a valid date in ")
				assert.NotContains(t, reason, tt.in)
			}
		})
	}
}

// TestReferenceTransforms: the transforms that mend references whose leading zeros a spreadsheet lost.
func TestReferenceTransforms(t *testing.T) {
	tests := []struct {
		name, rule, in, want string
	}{
		{"pad_left pads to the width", `{pad_left: {width: 7}}`, "1085", "0001085"},
		{"pad_left leaves a long value", `{pad_left: {width: 3}}`, "1085", "1085"},
		{"pad_left counts characters", `{pad_left: {width: 4, char: "·"}}`, "é", "···é"},
		{"pad_left with another char", `{pad_left: {width: 5, char: "X"}}`, "12", "XXX12"},
		{"strip_leading zeros", `{strip_leading: "0"}`, "0001085", "1085"},
		{"strip_leading a set", `{strip_leading: "0 "}`, " 0 01085", "1085"},
		{"strip_leading nothing to do", `{strip_leading: "0"}`, "1085", "1085"},
		{"replace a prefix", `{replace: {regex: "^CRM-", with: ""}}`, "CRM-1085", "1085"},
		{"replace with a group", `{replace: {regex: "^([A-Z]+)-0*([0-9]+)$", with: "$1$2"}}`, "AB-0012", "AB12"},
		{"replace every match", `{replace: {regex: "[^0-9]", with: ~}}`, "12-34/56", "123456"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, err := Parse("m.yaml", []byte("fields:\n  external_reference: {column: Id, transform: [trim, "+tt.rule+"]}\n"))
			require.NoError(t, err)
			mp, err := m.Compile([]string{"Id"})
			require.NoError(t, err)
			p, err := mp.Map([]string{tt.in})
			require.NoError(t, err)
			assert.Equal(t, tt.want, p.Ref)
		})
	}
}

func TestDatePivot(t *testing.T) {
	const today = "2026-12-04"
	tests := []struct {
		name  string
		pivot datePivot
		in    string
		want  string
	}{
		{"no pivot: 00-68 are 20xx", datePivot{}, "1.2.45", "2045-02-01"},
		{"no pivot: 69-99 are 19xx", datePivot{}, "1.2.69", "1969-02-01"},
		{"past: a future year is the century before", datePivot{past: true}, "1.2.45", "1945-02-01"},
		{"past: this century when not in the future", datePivot{past: true}, "1.2.05", "2005-02-01"},
		{"past: this year, earlier today", datePivot{past: true}, "4.12.26", "2026-12-04"},
		{"past: this year, tomorrow", datePivot{past: true}, "5.12.26", "1926-12-05"},
		{"past: 99", datePivot{past: true}, "31.12.99", "1999-12-31"},
		{"past: 00", datePivot{past: true}, "1.1.00", "2000-01-01"},
		{"past: leap day in a leap year", datePivot{past: true}, "29.2.28", "1928-02-29"},
		{"window from 1930: 30 is 1930", datePivot{start: 1930}, "1.2.30", "1930-02-01"},
		{"window from 1930: 29 is 2029", datePivot{start: 1930}, "1.2.29", "2029-02-01"},
		{"past: still an impossible date", datePivot{past: true}, "31.2.45", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			l, msg := parseDateLayout("D.M.YY")
			require.Empty(t, msg)
			step := transformStep{kind: transformDate, layouts: []dateLayout{l}, pivot: tt.pivot}
			got, reason := step.apply(tt.in, "", today)
			assert.Equal(t, tt.want, got)
			if tt.want == "" {
				assert.Equal(t, "not a valid date in the form D.M.YY", reason)
			}
		})
	}
}

func TestDateLayoutCanonical(t *testing.T) {
	for text, canon := range map[string]string{
		"DD/MM/YYYY": "DD/MM/YYYY", "d/m/yyyy": "DD/MM/YYYY", "D MMMM YYYY": "DD MMM YYYY", "YYYYMMDD": "YYYYMMDD", "mm-dd-yy": "MM-DD-YY",
	} {
		l, msg := parseDateLayout(text)
		require.Empty(t, msg, text)
		assert.Equal(t, canon, l.canon, text)
	}
	for text, msg := range map[string]string{
		"DD//MM/YYYY":   "a separator is written once",
		"DD/MM/YYY":     "unknown element 'Y'",
		"DD/MM/YYYY/DD": "exactly one day",
		"DD_MM_YYYY":    "unknown element '_'",
		"2006-01-02":    "digits in a layout",
	} {
		_, got := parseDateLayout(text)
		assert.Contains(t, got, msg, text)
	}
}
