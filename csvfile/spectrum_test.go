package csvfile

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestCSVSpectrum reads the csv-spectrum edge cases (testdata/reader/csv-spectrum, BSD-2-Clause) with
// "auto" options and compares the rows with the expected JSON, except where this reader means to
// differ, as listed.
func TestCSVSpectrum(t *testing.T) {
	dir := filepath.Join(testdataDir, "csv-spectrum")
	// deviations maps a file to the expected rows where they differ from the suite's, and why.
	deviations := map[string]struct {
		why  string
		rows []map[string]string
		errs []error
	}{
		"newlines_crlf.csv": {
			why: "encoding/csv reads a CRLF inside quotes as \\n (rejects.csv writes it back as CRLF)",
			rows: []map[string]string{
				{"a": "1", "b": "2", "c": "3"},
				{"a": "Once upon \na time", "b": "5", "c": "6"},
				{"a": "7", "b": "8", "c": "9"},
			},
		},
		"location_coordinates.csv": {
			why: "a quote inside an unquoted field is refused, so the row is rejected; " +
				"and the suite's JSON has another phone number than its CSV",
			rows: []map[string]string{{
				"Contact Phone Number": "2095257564", "Location Coordinates": "37\uFFFD36'37.8\"N 121\uFFFD2'17.9\"W",
				"Cities": "Modesto", "Counties": "Stanislaus",
			}},
			errs: []error{ErrQuote},
		},
	}
	files, err := filepath.Glob(filepath.Join(dir, "*.csv"))
	require.NoError(t, err)
	require.Len(t, files, 12)
	for _, path := range files {
		name := filepath.Base(path)
		t.Run(name, func(t *testing.T) {
			r, err := Open(path, CSVOptions{})
			require.NoError(t, err)
			defer r.Close()
			recs, err := readRest(r)
			require.NoError(t, err)
			header := r.Header()
			var got []map[string]string
			var errs []error
			for _, rec := range recs {
				row := map[string]string{}
				for i, v := range rec.Fields {
					row[header[i]] = v
				}
				got = append(got, row)
				errs = append(errs, rec.Err)
			}

			want, wantErrs := spectrumJSON(t, strings.TrimSuffix(path, ".csv")+".json"), make([]error, len(recs))
			if d, ok := deviations[name]; ok {
				t.Log("deviation:", d.why)
				want = d.rows
				if d.errs != nil {
					wantErrs = d.errs
				}
			}
			assert.Equal(t, want, got)
			require.Len(t, errs, len(wantErrs))
			for i := range errs {
				if wantErrs[i] == nil {
					assert.NoError(t, errs[i])
				} else {
					assert.ErrorIs(t, errs[i], wantErrs[i])
				}
			}
		})
	}
}

// spectrumJSON reads a csv-spectrum JSON file: an array of rows, or one row.
func spectrumJSON(t *testing.T, path string) []map[string]string {
	data, err := os.ReadFile(path)
	require.NoError(t, err)
	var rows []map[string]string
	if err := json.Unmarshal(data, &rows); err == nil {
		return rows
	}
	var row map[string]string
	require.NoError(t, json.Unmarshal(data, &row))
	return []map[string]string{row}
}
