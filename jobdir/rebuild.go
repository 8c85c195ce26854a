package jobdir

import (
	"errors"
	"fmt"
	"io"
	"path/filepath"

	"github.com/zentra/zentra-import/atomicfile"
	"github.com/zentra/zentra-import/checkpoint"
	"github.com/zentra/zentra-import/csvfile"
)

// Input is the job's input as the rebuild reads it again, alongside the journal.
type Input struct {
	Reader *csvfile.Reader    // from its first data record, under the job's options; it stays open until Rebuild returns
	Name   string             // what messages call it: the path the job was given
	IsData func(col int) bool // the header's columns the mapping reads (see csvfile.WithData)
	Carry  []string           // results.csv's --carry columns, after its fixed ones
	From   []int              // each carry column's position in the input's header
	BOM    bool               // results.csv begins with a UTF-8 byte-order mark (--excel)
}

// Tally counts a job's rows by their latest outcomes, as results.csv lists them.
type Tally struct {
	Counts            map[checkpoint.Status]int // rows by the status of their latest outcome
	Outcomes          int                       // rows with an outcome
	ExistingWithoutID int                       // existing rows whose customer id the API did not give
}

func (t *Tally) count(o checkpoint.Outcome) {
	if t.Counts == nil {
		t.Counts = map[checkpoint.Status]int{}
	}
	t.Counts[o.Status]++
	t.Outcomes++
	if o.Status == checkpoint.StatusExisting && o.CustomerID == "" {
		t.ExistingWithoutID++
	}
}

// Rebuild writes results.csv and rejects.csv in dir from the journal's outcomes, in row order, reading the
// input again alongside for the --carry columns and the rows' own values: each journal row must be the
// input's row of that number, starting at the same byte, or the job was read under other rules. rejects.csv
// is csvfile's RejectsWriter, in the input's own dialect, with its title and footer: it is the input's
// rows, to be fixed and fed back. Both files are replaced atomically: a crash leaves the previous
// versions, never a half-written file. The tally counts the outcomes written, so far as they went when
// an error stopped it.
func Rebuild(dir string, j *checkpoint.Journal, in Input) (t Tally, err error) {
	rd := in.Reader
	header := rd.Header()

	results, err := atomicfile.Create(filepath.Join(dir, ResultsFile))
	if err != nil {
		return t, err
	}
	defer results.AbortOnError(&err)
	rejects, err := atomicfile.Create(filepath.Join(dir, RejectsFile))
	if err != nil {
		return t, err
	}
	defer rejects.AbortOnError(&err)

	rw, err := NewResultsWriter(results, in.Carry, in.BOM)
	if err != nil {
		return t, err
	}
	jw, err := csvfile.NewRejectsWriter(rejects, rd.Dialect(), header, csvfile.WithData(in.IsData), csvfile.WithInput(rd))
	if err != nil {
		return t, err
	}
	carry := make([]string, len(in.From))
	var rec *csvfile.Record
	err = j.Outcomes(func(o checkpoint.Outcome) error {
		for rec == nil || rec.Row < o.Row {
			next, err := rd.Next()
			if errors.Is(err, io.EOF) {
				return fmt.Errorf("the journal has row %d but %s ends before it", o.Row, in.Name)
			}
			if err != nil {
				return err
			}
			rec = next
		}
		if rec.Row != o.Row {
			return fmt.Errorf("the journal has row %d that %s does not", o.Row, in.Name)
		}
		if rec.Offset != o.Offset {
			// The same number, another row: the job was read under rules that numbered rows otherwise.
			return fmt.Errorf("the journal's row %d starts at byte %d of %s, but the input's row %d starts at byte %d: the job was read under other rules; start it again with --restart",
				o.Row, o.Offset, in.Name, rec.Row, rec.Offset)
		}
		for i, idx := range in.From {
			carry[i] = ""
			if idx < len(rec.Fields) {
				carry[i] = rec.Fields[idx]
			}
		}
		if err := rw.Write(o, carry); err != nil {
			return err
		}
		if o.Status.NeedsAttention() {
			if err := jw.Write(rec, SafeCell(o.Error)); err != nil {
				return err
			}
		}
		t.count(o)
		return nil
	})
	if err != nil {
		return t, fmt.Errorf("rebuild job files: %w", err)
	}
	if err := rw.Flush(); err != nil {
		return t, err
	}
	if err := jw.Close(); err != nil {
		return t, err
	}
	if err := results.Commit(); err != nil {
		return t, err
	}
	return t, rejects.Commit()
}

// Count counts the journal's outcomes as Rebuild does, without reading the input or writing a file.
func Count(j *checkpoint.Journal) (Tally, error) {
	var t Tally
	err := j.Outcomes(func(o checkpoint.Outcome) error {
		t.count(o)
		return nil
	})
	return t, err
}
