package mapping

import (
	"testing"
)

// BenchmarkMapRow maps the rows of samples/customers.csv with samples/mapping.yaml: names title-cased,
// emails validated, phones to E.164, dates converted, nested objects built, JSON written.
func BenchmarkMapRow(b *testing.B) {
	m, err := Load("../samples/mapping.yaml")
	if err != nil {
		b.Fatal(err)
	}
	header, rows := readSample(b, sampleFiles[0])
	mp, err := m.Compile(header)
	if err != nil {
		b.Fatal(err)
	}
	b.Run("sample", func(b *testing.B) {
		benchmarkRows(b, mp, rows)
	})
	// Without the phone transform, which is most of the work: the cost of the rest of the plan.
	noPhone := *m
	noPhone.fields = nil
	for _, f := range m.fields {
		if f.target != "phone" {
			noPhone.fields = append(noPhone.fields, f)
		}
	}
	noPhone.requireOneOf = nil
	mp, err = noPhone.Compile(header)
	if err != nil {
		b.Fatal(err)
	}
	b.Run("no-phone", func(b *testing.B) {
		benchmarkRows(b, mp, rows)
	})
}

func benchmarkRows(b *testing.B, mp *Mapper, rows [][]string) {
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		_, _ = mp.Map(rows[i%len(rows)])
		i++
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "rows/s")
}
