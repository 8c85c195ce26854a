package mapping

import (
	"fmt"
	"strconv"
	"testing"

	"github.com/zentra/zentra-import/csvfile"
)

// wideHeader is a header of n columns: an id, a name, an email, then c3, c4, …
func wideHeader(n int) []string {
	h := []string{"Customer Id", "First Name", "Email"}
	for i := 3; i < n; i++ {
		h = append(h, "c"+strconv.Itoa(i))
	}
	return h
}

// BenchmarkColumns measures each step of the mapping that handles every column of a wide file, at 10,000,
// 100,000 and 200,000 columns: inferring a mapping, compiling one and resolving a --carry column (reading
// the header and starting a rejects file are csvfile's BenchmarkColumns). Each must grow linearly with the
// columns:
//
//	go test -run '^$' -bench Columns -benchtime 3x ./mapping/ ./csvfile/
func BenchmarkColumns(b *testing.B) {
	for _, n := range []int{10_000, 100_000, 200_000} {
		header := wideHeader(n)
		samples := [][]string{append([]string{"1", "Ada", "ada@example.com"}, make([]string, n-3)...)}
		m, err := Parse("m.yaml", []byte("fields:\n  external_reference: {column: Customer Id}\n  first_name: {column: First Name}\n  email: {column: email}\n  metadata.last: {column: c"+strconv.Itoa(n-1)+"}\n"))
		if err != nil {
			b.Fatal(err)
		}
		b.Run(fmt.Sprintf("infer/%d", n), func(b *testing.B) {
			for b.Loop() {
				if _, _, err := Infer(csvfile.Dialect{}, csvfile.Framing{}, header, samples); err != nil {
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
	}
}
