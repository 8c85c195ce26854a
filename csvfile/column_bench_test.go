package csvfile

import (
	"bytes"
	"fmt"
	"io"
	"strings"
	"testing"
)

// BenchmarkColumns measures each step of the reader that handles every column of a wide file, at
// 10,000, 100,000 and 200,000 columns: reading the header (with a record limit that lets 200,000 names
// through) and starting a rejects file (mapping's BenchmarkColumns measures the mapping's steps). Each
// must grow linearly with the columns:
//
//	go test -run '^$' -bench Columns -benchtime 3x ./csvfile/ ./mapping/
func BenchmarkColumns(b *testing.B) {
	for _, n := range []int{10_000, 100_000, 200_000} {
		header := []string{"Customer Id", "First Name", "Email"}
		for i := 3; i < n; i++ {
			header = append(header, fmt.Sprint("c", i))
		}
		file := []byte(strings.Join(header, ",") + "\n1,Ada,ada@example.com" + strings.Repeat(",", n-3) + "\n")
		b.Run(fmt.Sprintf("header/%d", n), func(b *testing.B) {
			for b.Loop() {
				if _, err := newReader(bytes.NewReader(file), "wide.csv", CSVOptions{}, 4<<20); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run(fmt.Sprintf("rejects/%d", n), func(b *testing.B) {
			for b.Loop() {
				if _, err := NewRejectsWriter(io.Discard, Dialect{Delimiter: ',', Encoding: "utf-8"}, header); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
