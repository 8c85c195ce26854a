package csvfile

import (
	"bytes"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/stretchr/testify/require"
)

// The options the fuzz targets choose among, by index.
var (
	fuzzDelimiters = []string{"auto", ",", ";", "\t", "|"}
	fuzzEncodings  = []string{"auto", "utf-8", "windows-1252", "iso-8859-1", "utf-16le", "utf-16be", "utf-16"}
)

// fuzzFramings are the framings (csv.skip_lines, skip_footer, footer) the fuzz targets choose among:
// none for a delimiter choice below 128 (every corpus file before the framing options existed), else
// fuzzFramings[1+(delim-128)/5%(len-1)].
var fuzzFramings = []CSVOptions{{}, {SkipLines: 1}, {SkipFooter: 1}, {SkipLines: 2, SkipFooter: 1}, {SkipLines: 1, SkipFooter: 2},
	{Footer: "^(Total|Count)"}, {SkipFooter: 3}, {SkipLines: 3, Footer: `(?i)^\W*end\b`}}

// fuzzSetup turns the fuzzed choices into options and a record limit (a small one reaches the
// too-long paths with small inputs).
func fuzzSetup(delim, enc uint8, small bool) (CSVOptions, int64) {
	opts := CSVOptions{
		Delimiter: fuzzDelimiters[int(delim)%len(fuzzDelimiters)],
		Encoding:  fuzzEncodings[int(enc)%len(fuzzEncodings)],
	}
	if delim >= 128 {
		fr := fuzzFramings[1+int(delim-128)/len(fuzzDelimiters)%(len(fuzzFramings)-1)]
		opts.SkipLines, opts.SkipFooter, opts.Footer = fr.SkipLines, fr.SkipFooter, fr.Footer
	}
	if small {
		return opts, 40
	}
	return opts, maxRecordSize
}

// fuzzSeeds adds the fixtures and the csv-spectrum files, with their options and with a small limit.
func fuzzSeeds(f *testing.F, add func(data []byte, delim, enc uint8, small bool)) {
	index := func(list []string, s string) uint8 {
		for i, v := range list {
			if strings.EqualFold(v, s) {
				return uint8(i)
			}
		}
		return 0
	}
	for _, fx := range fixtures() {
		d, e := index(fuzzDelimiters, fx.opts.Delimiter), index(fuzzEncodings, fx.opts.Encoding)
		for i, fr := range fuzzFramings[1:] {
			if fr.SkipLines == fx.opts.SkipLines && fr.SkipFooter == fx.opts.SkipFooter && fr.Footer == fx.opts.Footer {
				d += 128 + uint8(i*len(fuzzDelimiters))
			}
		}
		if fx.opts.SkipLines+fx.opts.SkipFooter > 0 || fx.opts.Footer != "" {
			// Each fixture's framing is one the fuzz targets choose among.
			if d < 128 {
				f.Fatalf("fixture %s: its framing is not in fuzzFramings", fx.name)
			}
		}
		add(fx.data, d, e, false)
		add(fx.data, d, e, true)
	}
	files, _ := filepath.Glob(filepath.Join(testdataDir, "csv-spectrum", "*.csv"))
	for _, path := range files {
		data, err := os.ReadFile(path)
		if err != nil {
			f.Fatal(err)
		}
		add(data, 0, 0, false)
	}
}

// FuzzReader reads arbitrary bytes with arbitrary options: no panic; a file is refused only with an
// *InputError; rows are numbered 1, 2, … and positioned end to end; a record without Err has the
// header's number of values; all values are UTF-8; the rows are the file's records as RFC 4180 readers
// delimit them (checkRFC4180: no row begins inside a quoted value of an earlier one, whatever the
// record limit); Seek to any record boundary resumes exactly; and counting gives the number of records.
func FuzzReader(f *testing.F) {
	fuzzSeeds(f, func(data []byte, delim, enc uint8, small bool) { f.Add(data, delim, enc, small) })
	f.Fuzz(func(t *testing.T, data []byte, delim, enc uint8, small bool) {
		opts, limit := fuzzSetup(delim, enc, small)
		r, err := newReader(bytes.NewReader(data), "fuzz.csv", opts, limit)
		if err != nil {
			var ie *InputError
			require.ErrorAs(t, err, &ie)
			return
		}
		header := r.Header()
		for i, h := range header {
			require.NotEmpty(t, h)
			require.Equal(t, strings.TrimSpace(h), h)
			for _, earlier := range header[:i] {
				require.False(t, SameColumnName(earlier, h), "duplicate header name %q", h)
			}
			// Every header name resolves, unambiguously, to its own column: mapping.ResolveColumn finds the
			// columns that SameColumnName takes for the name.
			var same []int
			for j, other := range header {
				if SameColumnName(other, h) {
					same = append(same, j)
				}
			}
			require.Equal(t, []int{i}, same, "every header name resolves, unambiguously")
		}
		recs, err := readRest(r)
		require.NoError(t, err)
		end, line := r.dataStart, 0
		for i, rec := range recs {
			require.Equal(t, i+1, rec.Row)
			require.Equal(t, end, rec.Offset, "row %d starts where the previous one ends", rec.Row)
			require.Greater(t, rec.End, rec.Offset)
			require.LessOrEqual(t, rec.End, int64(len(data)))
			require.Greater(t, rec.Line, line)
			if !strings.HasPrefix(r.Dialect().Encoding, "utf-16") {
				// The line is counted independently of the reader's bookkeeping: it is a line of the
				// record's own bytes (a review's oracle).
				require.GreaterOrEqual(t, rec.Line, 1+bytes.Count(data[:rec.Offset], []byte("\n")), "row %d", rec.Row)
				require.LessOrEqual(t, rec.Line, 1+bytes.Count(data[:rec.End-1], []byte("\n")), "row %d", rec.Row)
			}
			for _, v := range rec.Fields {
				require.True(t, utf8.ValidString(v))
			}
			if rec.Err == nil {
				require.Len(t, rec.Fields, len(header))
			} else {
				var re *RecordError
				require.ErrorAs(t, rec.Err, &re)
				require.Equal(t, rec.Row, re.Row)
				require.Equal(t, rec.Line, re.Line)
			}
			end, line = rec.End, rec.Line
		}
		checkRFC4180(t, r, data, recs)
		checkResume(t, data, opts, limit, recs, 16)

		r2, err := newReader(bytes.NewReader(data), "fuzz.csv", opts, limit)
		require.NoError(t, err)
		n, err := r2.countRest()
		require.NoError(t, err)
		require.Equal(t, len(recs), n, "count")
	})
}

// FuzzRejectsRoundTrip writes every record of an arbitrary file to a rejects file, with an arbitrary
// reason, and reads it back in the dialect the reader decided (checkRejects): the header plus the
// error column (or with it replaced, for a rejects file), then for each record its raw values and the
// reason, or the line that could not be read, as it was and rejected again. The rejects file fed back
// gives the same rejects file again, save for the lines that could not be read.
func FuzzRejectsRoundTrip(f *testing.F) {
	fuzzSeeds(f, func(data []byte, delim, enc uint8, small bool) {
		f.Add(data, delim, enc, small, "line 3: 2 fields, header has 3")
	})
	f.Add([]byte("a\n1\n"), uint8(0), uint8(0), false, "=HYPERLINK(\"x\")")
	f.Add([]byte("a\n1\n"), uint8(0), uint8(2), false, "ü € Ọ")
	f.Add([]byte("a,b\n1,\"x\n2,y\n"), uint8(0), uint8(0), false, "")
	f.Add([]byte("a;b\n1;\"x\"y\n"), uint8(0), uint8(0), false, "\";\r\n\"")
	f.Add([]byte("id,error\n1,\"x\n2,old\n3\n"), uint8(0), uint8(0), false, "new")
	f.Add([]byte("sep=|\r\nid|n\r\n1|\"a\r\n"), uint8(0), uint8(0), true, "\"")
	f.Fuzz(func(t *testing.T, data []byte, delim, enc uint8, small bool, reason string) {
		opts, limit := fuzzSetup(delim, enc, small)
		r, err := newReader(bytes.NewReader(data), "fuzz.csv", opts, limit)
		if err != nil {
			return
		}
		recs, err := readRest(r)
		require.NoError(t, err)
		reason = strings.ToValidUTF8(reason, "\uFFFD")
		d := r.Dialect()
		same := func(*Record) string { return reason }
		out := writeInputRejects(t, r, recs, same)
		readBack := CSVOptions{Delimiter: string(d.Delimiter), Encoding: d.Encoding, SkipLines: d.SkipLines, SkipFooter: d.SkipFooter, Footer: d.Footer}
		checkRejects(t, r, recs, out, readBack, limit, same)

		r2, recs2, err := readAll(t, out, readBack, 0)
		require.NoError(t, err)
		again := writeInputRejects(t, r2, recs2, same)
		checkRejects(t, r2, recs2, again, readBack, 0, same)
		if !slices.ContainsFunc(recs, unreadable) && r.enc.asciiCompatible() {
			require.Equal(t, string(out), string(again), "a rejects file fed back gives itself")
		}
	})
}
