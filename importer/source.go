package importer

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/zentra/zentra-import/csvfile"
	"github.com/zentra/zentra-import/jobdir"
	"github.com/zentra/zentra-import/mapping"
)

// source is the input file opened with its mapping: the reader positioned after the header, the compiled
// mapper, and where the mapping came from. The job is bound to the bytes the file had when it was opened
// and reads only those, each block checked against the hash taken at the start (see bound.go): a file
// that changes meanwhile is noticed, never read as if it were the same.
type source struct {
	path     string
	f        *os.File
	size     int64       // the bound bytes
	opened   os.FileInfo // the open file's metadata when it was opened
	sum      string      // SHA-256 (hex) of the bound bytes
	blocks   []byte      // SHA-256 of each boundBlock bytes of them, concatenated
	tail     [2]byte     // their last two bytes
	watched  time.Time   // the producer's last look at the metadata
	m        *mapping.Mapping
	mapper   *mapping.Mapper
	rd       *csvfile.Reader
	inferred []byte // the annotated inferred mapping, when no mapping file was given
}

// inferSample is how many data rows the inference looks at, and inferSampleCells how many values at
// most: a file of 100,000 columns is inferred from 50 rows, in tens of MiB rather than gigabytes.
const (
	inferSample      = 500
	inferSampleCells = 5_000_000
)

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
			return nil, wrapInput(err, mappingHint(err, input))
		}
		s.m = m
	} else {
		m, annotated, err := inferMapping(input)
		if err != nil {
			return nil, err
		}
		s.m, s.inferred = m, annotated
	}
	f, err := csvfile.OpenRegular(input)
	if err != nil {
		return nil, wrapInput(err, "")
	}
	fi, err := f.Stat()
	if err != nil {
		_ = f.Close()
		return nil, wrapInput(err, "")
	}
	s.f, s.size, s.opened = f, fi.Size(), fi
	if err := s.bind(); err != nil {
		_ = f.Close()
		return nil, err
	}
	rd, err := s.reader()
	if err != nil {
		_ = f.Close()
		return nil, wrapInput(err, "")
	}
	mapper, err := s.m.Compile(rd.Header())
	if err != nil {
		_ = f.Close()
		err = wrapInput(err, "column names must match the input's header (case and surrounding spaces are ignored)")
		var e *Error
		if title := titleHint(input, s.m.CSV()); title != "" && errors.As(err, &e) {
			e.Hint = title // what is wrong: the header read is a title
		}
		return nil, err
	}
	s.rd, s.mapper = rd, mapper
	return s, nil
}

// mappingHint says how to fix a mapping file that did not load: its contents, at the line the error names,
// or, when the file itself could not be read, the path given to --mapping.
func mappingHint(err error, input string) string {
	starter := "`zentra-import mapping " + input + " > mapping.yaml` writes a starter one"
	var pathErr *fs.PathError
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return "check the path given to --mapping; " + starter
	case errors.Is(err, syscall.EISDIR):
		return "give --mapping the mapping file itself, not a directory; " + starter
	case errors.Is(err, fs.ErrPermission):
		return "the mapping file must be readable by the user running the import: check its permissions and the path given to --mapping"
	case errors.As(err, &pathErr):
		return "check the file given to --mapping; " + starter
	}
	return "fix the mapping file at the line named above; `zentra-import mapping " + input + "` prints a starter mapping"
}

// reader reads the input from its start, within the bytes it is bound to, checking them as it goes.
func (s *source) reader() (*csvfile.Reader, error) {
	return csvfile.NewReader(s.bound(), s.path, s.m.CSV())
}

func (s *source) Close() error {
	if s.f == nil {
		return nil
	}
	return s.f.Close()
}

// checkInputFile refuses, before anything opens it, an input that is missing or not a regular file: a
// named pipe would block the open until a writer came, and none of them can be read twice.
// CheckInput makes sure that input names a regular file that exists, without opening it: what run,
// validate and mapping check first, so that a missing file is said before anything else (the key).
func CheckInput(input string) error { return checkInputFile(input) }

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
	return wrapInput(csvfile.NotRegularError(input, fi.Mode()), "")
}

// inferMapping proposes a mapping from the input's header and first rows, as `zentra-import mapping` prints it.
func inferMapping(input string) (*mapping.Mapping, []byte, error) {
	fr, err := detectFraming(input)
	if err != nil {
		return nil, nil, err
	}
	rd, err := csvfile.Open(input, fr.Options(csvfile.CSVOptions{}))
	if err != nil {
		return nil, nil, wrapInput(err, "")
	}
	defer rd.Close()
	var samples [][]string
	perRow := max(len(rd.Header()), 1)
	for len(samples) < min(inferSample, max(inferSampleCells/perRow, 20)) {
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
	m, annotated, err := mapping.Infer(rd.Dialect(), fr, rd.Header(), samples)
	if err != nil {
		if saved := filepath.Join(filepath.Dir(input), jobdir.InferredMappingFile); jobdir.Proven(filepath.Dir(input)) && fileExists(saved) {
			// A rejects.csv fed back from a job that ran on an inferred mapping: its few rows may not show
			// what the whole file did. The job's own mapping reads it the same way.
			return nil, annotated, &Error{Kind: KindInput, Err: err,
				Hint: "this file lies in a job directory whose run inferred its mapping: pass --mapping " + saved + " to read it the same way"}
		}
		return nil, annotated, wrapInput(err, "write the mapping yourself: `zentra-import mapping "+input+" > mapping.yaml`, edit its external_reference, then pass --mapping mapping.yaml")
	}
	return m, annotated, nil
}

// detectFraming looks at the start and the end of the input for a title above its header and a footer
// below its data (csvfile.DetectFraming), which the inferred mapping skips.
func detectFraming(input string) (csvfile.Framing, error) {
	f, err := csvfile.OpenRegular(input)
	if err != nil {
		return csvfile.Framing{}, wrapInput(err, "")
	}
	defer f.Close()
	fr, err := csvfile.DetectFraming(f, input, csvfile.CSVOptions{})
	if err != nil {
		return fr, wrapInput(err, "")
	}
	return fr, nil
}

// titleHint says, for a mapping whose columns the header lacks, that the input has title lines above its
// header which the mapping does not skip: "" when it has none, or the mapping skips lines already.
func titleHint(input string, opts csvfile.CSVOptions) string {
	if opts.SkipLines > 0 {
		return ""
	}
	fr, err := detectFraming(input)
	if err != nil || fr.SkipLines == 0 {
		return ""
	}
	return fmt.Sprintf("in %s, %s: add skip_lines: %d to the mapping's csv: section (`zentra-import mapping %s` proposes it)",
		input, fr.Title, fr.SkipLines, input)
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

// carried is the --carry columns: where they are in the input, and their names in results.csv.
type carried struct {
	idx   []int
	names []string
}

// resultColumns are the fixed columns of results.csv; a carried column of the same name is written as
// input_<name>, so that no two columns of results.csv share a name.
var resultColumns = jobdir.ResultColumns()

// resolveCarry finds the --carry columns in the header.
func resolveCarry(header []string, carry []string) (carried, error) {
	var c carried
	seen := map[int]bool{}
	for _, name := range carry {
		i, err := mapping.ResolveColumn(header, name)
		if err != nil {
			return c, wrapInput(fmt.Errorf("--carry: %w", err), "name columns of the input's header, separated by commas")
		}
		if seen[i] {
			return c, inputError("give each column once", "--carry names the column %q twice", header[i])
		}
		seen[i] = true
		out := strings.TrimSpace(header[i])
		for _, fixed := range resultColumns {
			if strings.EqualFold(out, fixed) {
				out = "input_" + out
			}
		}
		c.idx, c.names = append(c.idx, i), append(c.names, out)
	}
	return c, nil
}

// sameResults reports whether results.csv in dir is already written as this run would write it: with
// exactly these carried columns, and a byte-order mark if and only if bom (--excel).
func sameResults(dir string, names []string, bom bool) bool {
	f, err := os.Open(filepath.Join(dir, ResultsFile))
	if err != nil {
		return false
	}
	defer f.Close()
	header, hasBOM, err := jobdir.ResultsHeader(f)
	if err != nil || hasBOM != bom || len(header) != len(resultColumns)+len(names) {
		return false
	}
	for i, n := range names {
		if header[len(resultColumns)+i] != jobdir.SafeCell(n) {
			return false
		}
	}
	return true
}

// openJobDir finds the job directory of input (see JobDir), makes sure nothing of the user's is in it, and
// locks it: what run and validate both do before they write anything.
func openJobDir(input, out string) (string, *jobdir.Lock, error) {
	dir := JobDir(input, out)
	if err := jobdir.CheckDir(dir, input); err != nil {
		return "", nil, wrapInput(err, "")
	}
	lock, err := jobdir.LockDir(dir)
	if err != nil {
		return "", nil, wrapInput(err, spaceHint(err))
	}
	return dir, lock, nil
}

// JobDir is the job directory of an input: out when given, else FILE with .csv replaced by .import, beside
// it. An input inside a job directory (a rejects.csv fed back as it lies) gets its job beside that
// directory, not inside it, where it would be a foreign entry of the first job: customers.import/rejects.csv
// → customers.rejects.import.
func JobDir(input, out string) string {
	if out != "" {
		return out
	}
	base := input
	if ext := filepath.Ext(base); strings.EqualFold(ext, ".csv") || strings.EqualFold(ext, ".txt") {
		base = strings.TrimSuffix(base, ext)
	}
	if dir := filepath.Dir(input); jobdir.Proven(dir) {
		if abs, err := filepath.Abs(dir); err == nil {
			dir = abs
		}
		return filepath.Join(filepath.Dir(dir), strings.TrimSuffix(filepath.Base(dir), ".import")+"."+filepath.Base(base)+".import")
	}
	return base + ".import"
}

func fileExists(path string) bool {
	fi, err := os.Stat(path)
	return err == nil && fi.Mode().IsRegular()
}
