package csvfile

import (
	"bufio"
	"encoding/csv"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"
)

const benchRows = 200_000

// benchFile writes a file of benchRows rows and 8 columns in enc, a tenth of them with a quoted
// field over two lines, with accented names, CRLF line ends.
func benchFile(b *testing.B, enc string) string {
	b.Helper()
	path := filepath.Join(b.TempDir(), "bench.csv")
	f, err := os.Create(path)
	if err != nil {
		b.Fatal(err)
	}
	w := bufio.NewWriter(f)
	write := func(s string) {
		switch enc {
		case "windows-1252":
			w.Write(to1252(s))
		case "utf-16le":
			w.Write(toUTF16(s, false, false))
		default:
			w.WriteString(s)
		}
	}
	switch enc {
	case "utf-16le":
		w.Write(bom16LE)
	case "utf-8":
		w.Write(bom8)
	}
	write("Customer Id,First Name,Last Name,E-mail,Mobile,City,Notes,Balance\r\n")
	rng := rand.New(rand.NewPCG(1, 2))
	first := []string{"Adaeze", "Chloé", "Emeka", "Zoë", "Ngozi", "Tunde", "Renée", "Bisi"}
	cities := []string{"Lagos", "Abuja", "Enugu", "Kano", "Ibadan", "Port Harcourt"}
	for i := 1; i <= benchRows; i++ {
		notes := "regular customer"
		if rng.IntN(10) == 0 {
			notes = "\"moved in 2021,\r\nsee the \"\"old\"\" file\""
		}
		write(fmt.Sprintf("C%07d,%s,Okafor,user%d@example.com,0803 %03d %04d,%s,%s,%d.%02d\r\n",
			i, first[rng.IntN(len(first))], i, rng.IntN(1000), rng.IntN(10000), cities[rng.IntN(len(cities))],
			notes, rng.IntN(100000), rng.IntN(100)))
	}
	if err := w.Flush(); err != nil {
		b.Fatal(err)
	}
	if err := f.Close(); err != nil {
		b.Fatal(err)
	}
	return path
}

// BenchmarkReader measures Next over a generated file: one op is one row, so ns/op and allocs/op are
// per row; rows/s is reported too.
func BenchmarkReader(b *testing.B) {
	type run struct {
		name, enc string
		opts      CSVOptions
	}
	runs := []run{{"utf-8", "utf-8", CSVOptions{}}, {"windows-1252", "windows-1252", CSVOptions{}}, {"utf-16le", "utf-16le", CSVOptions{}},
		// The footer's look-ahead at its largest: 100 records held, one copied per row.
		{"utf-8-skip_footer-100", "utf-8", CSVOptions{SkipFooter: 100}}}
	for _, bench := range runs {
		enc := bench.enc
		b.Run(bench.name, func(b *testing.B) {
			r, err := Open(benchFile(b, enc), bench.opts)
			if err != nil {
				b.Fatal(err)
			}
			defer r.Close()
			if got := r.Dialect().Encoding; got != enc {
				b.Fatalf("decided %s", got)
			}
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				rec, err := r.Next()
				if err == io.EOF {
					if err := r.SeekRecord(-1, 1); err != nil {
						b.Fatal(err)
					}
					rec, err = r.Next()
				}
				if err != nil || rec.Err != nil {
					b.Fatal(err, rec.Err)
				}
			}
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "rows/s")
		})
	}
	// The floor: encoding/csv alone over the same UTF-8 file, nothing decoded, positioned or checked.
	b.Run("encoding-csv-alone", func(b *testing.B) {
		f, err := os.Open(benchFile(b, "utf-8"))
		if err != nil {
			b.Fatal(err)
		}
		defer f.Close()
		cr := csv.NewReader(bufio.NewReaderSize(f, bufSize))
		cr.FieldsPerRecord = -1
		b.ReportAllocs()
		b.ResetTimer()
		for i := 0; i < b.N; i++ {
			_, err := cr.Read()
			if err == io.EOF {
				if _, err := f.Seek(0, io.SeekStart); err != nil {
					b.Fatal(err)
				}
				cr = csv.NewReader(bufio.NewReaderSize(f, bufSize))
				cr.FieldsPerRecord = -1
				_, err = cr.Read()
			}
			if err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "rows/s")
	})
}

// BenchmarkCountRows measures CountRest (countRows) over the generated file: one op is the whole file.
func BenchmarkCountRows(b *testing.B) {
	for _, enc := range []string{"utf-8", "windows-1252"} {
		b.Run(enc, func(b *testing.B) {
			path := benchFile(b, enc)
			d := Dialect{Delimiter: ',', Encoding: enc}
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				n, err := countRows(path, d)
				if err != nil || n != benchRows {
					b.Fatal(n, err)
				}
			}
			b.ReportMetric(float64(b.N*benchRows)/b.Elapsed().Seconds(), "rows/s")
		})
	}
}

// BenchmarkSeek measures SeekRecord to the last record, which counts the line breaks before it.
func BenchmarkSeek(b *testing.B) {
	r, err := Open(benchFile(b, "utf-8"), CSVOptions{})
	if err != nil {
		b.Fatal(err)
	}
	defer r.Close()
	var last *Record
	for {
		rec, err := r.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			b.Fatal(err)
		}
		last = rec
	}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if err := r.SeekRecord(last.Offset, last.Row); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(last.Offset)/(1<<20), "MiB-counted")
}
