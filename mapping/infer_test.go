package mapping

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/zentra/zentra-import/csvfile"
)

// TestInfer compares Infer's annotated mapping with the golden files in testdata/mapping/ (rewritten by
// -update), and checks that the text parses back to the same mapping, which compiles for the header.
func TestInfer(t *testing.T) {
	header, rows := readSample(t, sampleFiles[0])
	tests := []struct {
		name    string
		header  []string
		samples [][]string
		dialect csvfile.Dialect
		err     string // when no mapping can be inferred
	}{
		{name: "customers", header: header, samples: rows[:200], dialect: csvfile.Dialect{Delimiter: ',', Encoding: "utf-8"}},
		{name: "synonyms", header: []string{"Ref", "Given name", "Family name", "Other Names", "Email Address", "Phone Number", "DOB", "Sex", "Town", "State", "Zip", "Country"},
			samples: [][]string{
				{"A-1", "ade", "OKAFOR", "", "ade@example.com", "+233 24 123 4567", "1 Feb 1990", "M", "Accra", "Greater Accra", "", "gh"},
				{"A-2", "Bola", "Eze", "Ngozi", "", "024 765 4321", "12 Mar 1985", "F", "Kumasi", "Ashanti", "", ""},
				{"A-3", "Chidi", "Obi", "", "chidi@example.com", "0201234567", "", "M", "Accra", "", "", "GH"},
			}},
		{name: "values", header: []string{"Member Code", "Name", "Col A", "Contact", "Joined", "Notes"},
			samples: [][]string{
				{"M001", "Ade Okafor", "ade@example.com", "0803 123 4567", "2020-01-02", "vip"},
				{"M002", "Bola Eze", "bola@example.com", "2348061234567", "2021-03-04", ""},
				{"M003", "Chidi Obi", "chidi@example.ng", "+234 701 234 5678", "2022-05-06", "call after 5pm"},
			}},
		{name: "repeated ids", header: []string{"Customer Id", "Account No", "First Name", "Last Name", "Mobile", "Mobile 2", "Date of Birth"},
			samples: [][]string{
				{"1", "0012345678", "Ade", "Okafor", "08031234567", "", "01/02/1990"},
				{"1", "0012345679", "Bola", "Eze", "08061234567", "", "13/02/1990"},
				{"2", "0012345680", "Chidi", "Obi", "", "07012345678", "1990-02-14"},
			}},
		{name: "two-digit birth years", header: []string{"Customer Id", "Surname", "Birth Date"},
			samples: [][]string{
				{"C1", "Okafor", "1.2.45"}, {"C2", "Eze", "12.11.03"}, {"C3", "Obi", "30.06.78"}, {"C4", "Ade", "7.3.51"},
			}},
		{name: "no reference", header: []string{"Name", "Balance", "Email"},
			samples: [][]string{{"Ade Okafor", "100.50", "ade@example.com"}, {"Bola Eze", "7.25", ""}},
			err:     "no column looks like a unique customer reference"},
		{name: "no samples", header: []string{"Customer Id", "First Name", "E-mail"},
			err: "no column looks like a unique customer reference"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, text, err := Infer(tt.dialect, csvfile.Framing{}, tt.header, tt.samples)
			golden := filepath.Join("testdata", "mapping", "infer-"+strings.ReplaceAll(tt.name, " ", "-")+".yaml")
			if updating() {
				require.NoError(t, os.MkdirAll(filepath.Dir(golden), 0o755))
				require.NoError(t, os.WriteFile(golden, text, 0o644))
			}
			want, rerr := os.ReadFile(golden)
			require.NoError(t, rerr)
			assert.Equal(t, string(want), string(text), "run go test ./mapping -run TestInfer -update to accept")
			if tt.err != "" {
				assert.ErrorContains(t, err, tt.err)
				assert.Nil(t, m)
				var list MappingErrors
				require.ErrorAs(t, err, &list)
				assert.NotEmpty(t, list[0].Hint)
				return
			}
			require.NoError(t, err)
			back, err := Parse("inferred.yaml", text)
			require.NoError(t, err)
			assert.Equal(t, m.Hash(), back.Hash())
			mp, err := m.Compile(tt.header)
			require.NoError(t, err)
			for _, row := range tt.samples {
				_, _ = mp.Map(row)
			}
		})
	}
}

func TestInferDoesNotEchoValues(t *testing.T) {
	header := []string{"Customer Id", "Secret Column", "E-mail"}
	_, text, err := Infer(csvfile.Dialect{}, csvfile.Framing{}, header, [][]string{{"C1", "PRIVATE-VALUE", "private@example.com"}, {"C2", "x", "y@example.com"}})
	require.NoError(t, err)
	assert.NotContains(t, string(text), "PRIVATE")
	assert.NotContains(t, string(text), "private@")
}

func TestInferDecisions(t *testing.T) {
	m, _, err := Infer(csvfile.Dialect{}, csvfile.Framing{}, sampleHeader, nil)
	assert.Nil(t, m)
	assert.Error(t, err, "without samples nothing shows that ids are unique")

	layouts, n := guessDateLayouts([]string{"01/02/1990", "13/02/1990", "1990-02-14", "nope"})
	assert.Equal(t, []string{"DD/MM/YYYY", "YYYY-MM-DD"}, layouts)
	assert.Equal(t, 3, n)
	layouts, _ = guessDateLayouts([]string{"01/02/1990", "12/31/1990"})
	assert.Equal(t, []string{"MM/DD/YYYY"}, layouts, "a day above 12 decides")
	layouts, _ = guessDateLayouts([]string{"01/02/1990", "02/03/1990"})
	assert.Equal(t, []string{"DD/MM/YYYY"}, layouts, "day first when both fit")

	region, n := guessRegion([]string{"0803 123 4567", "2348061234567", "+234 701 234 5678"})
	assert.Equal(t, "NG", region)
	assert.Equal(t, 3, n)
	region, _ = guessRegion([]string{"024 123 4567", "+233 20 123 4567"})
	assert.Equal(t, "GH", region)

	assert.Equal(t, "date_joined", metadataName("Date Joined", 0, map[string]bool{}, map[string]int{}))
	assert.Equal(t, "column_3", metadataName("***", 2, map[string]bool{}, map[string]int{}))
	assert.Equal(t, "notes_2", metadataName("Notes", 0, map[string]bool{"notes": true}, map[string]int{}))
}

// TestInferWideHeader: a file of 100,000 columns gets a mapping that lists the first 100 columns left
// out and says how many more there are, small enough to be read back as a mapping file.
func TestInferWideHeader(t *testing.T) {
	header := wideHeader(100_000)
	samples := [][]string{append([]string{"1", "Ada", "ada@example.com"}, make([]string, len(header)-3)...)}
	m, text, err := Infer(csvfile.Dialect{}, csvfile.Framing{}, header, samples)
	require.NoError(t, err)
	require.NotNil(t, m)
	assert.Less(t, len(text), 16<<10)
	assert.Equal(t, 100, strings.Count(string(text), "  # metadata.c"))
	assert.Contains(t, string(text), "  # metadata.c102: {column: c102,")
	assert.Contains(t, string(text), `  # And 99897 more columns not mapped, not listed: "c103" to "c99999". Map them the same way if the API needs them.`+"\n")
	again, err := Parse("m.yaml", text)
	require.NoError(t, err)
	_, err = again.Compile(header)
	require.NoError(t, err)
}

// TestInferFramed compares the mapping inferred for a file with a title, a footer and unnamed columns
// with its golden file (testdata/mapping/infer-framed.yaml, rewritten by -update): the csv: section
// proposes skip_lines and skip_footer with what was seen, and says the unnamed columns are ignored; the
// text parses back to the same mapping, whose csv: options read the file with its real header.
func TestInferFramed(t *testing.T) {
	var table strings.Builder
	table.WriteString("Customer Id,First Name,Last Name,E-mail,Mobile,Country,,\n")
	for i := 1; i <= 9; i++ {
		fmt.Fprintf(&table, "10000%d,Ada,Okafor,ada@example.ng,08031234567,NG,,\n", i%10)
	}
	data := []byte(strings.ReplaceAll("Customer export 2026-01-01,,,,,,,\n"+table.String()+"Total records: 9,,,,,,,\n", "\n", "\r\n"))
	fr, err := csvfile.DetectFraming(bytes.NewReader(data), "export.csv", csvfile.CSVOptions{})
	require.NoError(t, err)
	r, err := csvfile.NewReader(bytes.NewReader(data), "export.csv", fr.Options(csvfile.CSVOptions{}))
	require.NoError(t, err)
	m, text, err := Infer(r.Dialect(), fr, r.Header(), readRows(t, r))
	require.NoError(t, err)
	golden := filepath.Join("testdata", "mapping", "infer-framed.yaml")
	if updating() {
		require.NoError(t, os.WriteFile(golden, text, 0o644))
	}
	want, err := os.ReadFile(golden)
	require.NoError(t, err)
	assert.Equal(t, string(want), string(text), "run go test ./mapping -run TestInferFramed -update to accept")
	back, err := Parse("inferred.yaml", text)
	require.NoError(t, err)
	assert.Equal(t, m.Hash(), back.Hash())
	assert.Equal(t, csvfile.CSVOptions{Delimiter: "auto", Encoding: "auto", SkipLines: 1, SkipFooter: 1}, back.CSV())
	_, err = back.Compile(r.Header())
	require.NoError(t, err)
}
