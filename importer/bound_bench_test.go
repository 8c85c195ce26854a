package importer

import (
	"bufio"
	"crypto/sha256"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"testing"
)

// benchInput writes a million-row input of 79 MiB (BENCHMARKS.md's is 71 MiB, with shorter rows) once per benchmark.
func benchInput(b *testing.B) (*os.File, os.FileInfo) {
	b.Helper()
	path := filepath.Join(b.TempDir(), "million.csv")
	f, err := os.Create(path)
	if err != nil {
		b.Fatal(err)
	}
	w := bufio.NewWriter(f)
	fmt.Fprintln(w, "Customer Id,First Name,Last Name,E-mail,Mobile,Country")
	for i := 1; i <= 1_000_000; i++ {
		fmt.Fprintf(w, "%07d,Oluwaseun,Okonkwo-Eze,oluwaseun.okonkwo%d@example.ng,+234803%07d,NG\n", i, i, i)
	}
	if err := w.Flush(); err != nil {
		b.Fatal(err)
	}
	fi, err := f.Stat()
	if err != nil {
		b.Fatal(err)
	}
	return f, fi
}

// BenchmarkBoundInput: what binding an input to its bytes costs, on a million rows (79 MiB): the pass at
// open (the whole SHA-256 and one per 64 KiB block), a read through the blocks' check, and the plain read
// it replaces.
func BenchmarkBoundInput(b *testing.B) {
	f, fi := benchInput(b)
	defer f.Close()
	s := &source{path: f.Name(), f: f, size: fi.Size(), opened: fi}
	b.Run("bind at open", func(b *testing.B) {
		b.SetBytes(s.size)
		for b.Loop() {
			if err := s.bind(); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("the whole SHA-256 alone (the fingerprint before)", func(b *testing.B) {
		b.SetBytes(s.size)
		for b.Loop() {
			if _, err := io.CopyBuffer(sha256.New(), io.NewSectionReader(f, 0, s.size), make([]byte, 1<<20)); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("checked read", func(b *testing.B) {
		b.SetBytes(s.size)
		for b.Loop() {
			if _, err := io.Copy(io.Discard, bufio.NewReaderSize(s.bound(), 64<<10)); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("unchecked read", func(b *testing.B) {
		b.SetBytes(s.size)
		for b.Loop() {
			if _, err := io.Copy(io.Discard, bufio.NewReaderSize(io.NewSectionReader(f, 0, s.size), 64<<10)); err != nil {
				b.Fatal(err)
			}
		}
	})
}
