package mapping

import (
	"bytes"
	"fmt"
	"io"
	"strconv"
	"strings"
	"testing"
)

// rdWideHeader is a header of n columns: an id, a name, an email, then c3, c4, …
func rdWideHeader(n int) []string {
	h := []string{"Customer Id", "First Name", "Email"}
	for i := 3; i < n; i++ {
		h = append(h, "c"+strconv.Itoa(i))
	}
	return h
}

// BenchmarkColumns measures each step that handles every column of a wide file, at 10,000, 100,000 and
// 200,000 columns: reading the header (with a record limit that lets 200,000 names through), inferring a
// mapping, compiling one, resolving a --carry column, and starting a rejects file. Each must grow
// linearly with the columns:
//
//	go test -run '^$' -bench Columns -benchtime 3x ./mapping/
func BenchmarkColumns(b *testing.B) {
	for _, n := range []int{10_000, 100_000, 200_000} {
		header := rdWideHeader(n)
		file := []byte(strings.Join(header, ",") + "\n1,Ada,ada@example.com" + strings.Repeat(",", n-3) + "\n")
		samples := [][]string{append([]string{"1", "Ada", "ada@example.com"}, make([]string, n-3)...)}
		m, err := Parse("m.yaml", []byte("fields:\n  external_reference: {column: Customer Id}\n  first_name: {column: First Name}\n  email: {column: email}\n  metadata.last: {column: c"+strconv.Itoa(n-1)+"}\n"))
		if err != nil {
			b.Fatal(err)
		}
		b.Run(fmt.Sprintf("header/%d", n), func(b *testing.B) {
			for b.Loop() {
				if _, err := rdNewReader(bytes.NewReader(file), "wide.csv", CSVOptions{}, 4<<20); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run(fmt.Sprintf("infer/%d", n), func(b *testing.B) {
			for b.Loop() {
				if _, _, err := Infer(Dialect{}, header, samples); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run(fmt.Sprintf("compile/%d", n), func(b *testing.B) {
			for b.Loop() {
				if _, err := m.Compile(header); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run(fmt.Sprintf("resolve/%d", n), func(b *testing.B) {
			for b.Loop() {
				if _, err := ResolveColumn(header, "C"+strconv.Itoa(n/2)); err != nil {
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
