package importer

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/zentra/zentra-import/mapping"
)

// source is the input file opened with its mapping: the reader positioned after the header, the compiled
// mapper, and where the mapping came from.
type source struct {
	path     string
	m        *mapping.Mapping
	mapper   *mapping.Mapper
	rd       *mapping.Reader
	inferred []byte // the annotated inferred mapping, when no mapping file was given
}

// inferSample is how many data rows the inference looks at.
const inferSample = 500

// openSource opens the input with the mapping file, or with a mapping inferred from the input when
// mappingFile is "". Every problem is an input error reported before any row is sent.
func openSource(input, mappingFile string) (*source, error) {
	if err := checkInputFile(input); err != nil {
		return nil, err
	}
	s := &source{path: input}
	if mappingFile != "" {
		m, err := mapping.Load(mappingFile)
		if err != nil {
			return nil, wrapInput(err, "fix the mapping file at the line named above; `zentra-import mapping "+input+"` prints a starter mapping")
		}
		s.m = m
	} else {
		m, annotated, err := inferMapping(input)
		if err != nil {
			return nil, err
		}
		s.m, s.inferred = m, annotated
	}
	rd, err := mapping.Open(input, s.m.CSV())
	if err != nil {
		return nil, wrapInput(err, "")
	}
	mapper, err := s.m.Compile(rd.Header())
	if err != nil {
		_ = rd.Close()
		return nil, wrapInput(err, "column names must match the input's header (case and surrounding spaces are ignored)")
	}
	s.rd, s.mapper = rd, mapper
	return s, nil
}

func (s *source) Close() error {
	if s.rd == nil {
		return nil
	}
	return s.rd.Close()
}

func checkInputFile(input string) error {
	fi, err := os.Stat(input)
	switch {
	case errors.Is(err, os.ErrNotExist):
		return inputError("check the path; the input is the CSV file to import", "input %s: no such file", input)
	case err != nil:
		return inputError("", "input %s: %v", input, err)
	case fi.IsDir():
		return inputError("give the CSV file itself, not a directory", "input %s is a directory", input)
	}
	return nil
}

// inferMapping proposes a mapping from the input's header and first rows, as `zentra-import mapping` prints it.
func inferMapping(input string) (*mapping.Mapping, []byte, error) {
	rd, err := mapping.Open(input, mapping.CSVOptions{})
	if err != nil {
		return nil, nil, wrapInput(err, "")
	}
	defer rd.Close()
	var samples [][]string
	for len(samples) < inferSample {
		rec, err := rd.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, nil, wrapInput(err, "")
		}
		if rec.Err == nil {
			samples = append(samples, rec.Fields)
		}
	}
	m, annotated, err := mapping.Infer(rd.Header(), samples)
	if err != nil {
		return nil, annotated, wrapInput(err, "write the mapping yourself: `zentra-import mapping "+input+" > mapping.yaml`, edit its external_reference, then pass --mapping mapping.yaml")
	}
	return m, annotated, nil
}

// Infer prints a starter mapping for input: the `mapping` command.
func Infer(w io.Writer, input string) error {
	if err := checkInputFile(input); err != nil {
		return err
	}
	_, annotated, err := inferMapping(input)
	if annotated != nil {
		if _, werr := w.Write(annotated); werr != nil && err == nil {
			err = werr
		}
	}
	return err
}

// resolveCarry finds the --carry columns in the header.
func resolveCarry(header []string, carry []string) ([]int, error) {
	idx := make([]int, 0, len(carry))
	for _, name := range carry {
		i, err := mapping.ResolveColumn(header, name)
		if err != nil {
			return nil, wrapInput(fmt.Errorf("--carry: %w", err), "name columns of the input's header, separated by commas")
		}
		idx = append(idx, i)
	}
	return idx, nil
}

// JobDir is the default job directory of an input: FILE with .csv replaced by .import, beside it.
func JobDir(input, out string) string {
	if out != "" {
		return out
	}
	base := input
	if ext := filepath.Ext(base); strings.EqualFold(ext, ".csv") || strings.EqualFold(ext, ".txt") {
		base = strings.TrimSuffix(base, ext)
	}
	return base + ".import"
}
