package jobdir

import (
	"bytes"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/zentra/zentra-import/checkpoint"
)

// FuzzReset feeds arbitrary bytes to Reset as the journal, beside a sound checkpoint.previous. Reset
// refuses a file that is not a journal (as checkpoint.Recognize tells one) and otherwise forgets the job,
// never losing a kept id: a journal can only add ids or give newer ones.
func FuzzReset(f *testing.F) {
	seedDir := f.TempDir()
	journalPath := func(dir string) string { return filepath.Join(dir, checkpoint.JournalFile) }
	writeJ := func(b checkpoint.Binding, rows ...int) []byte {
		os.Remove(journalPath(seedDir))
		j, _, err := checkpoint.Open(seedDir, b, checkpoint.Options{})
		if err != nil {
			f.Fatal(err)
		}
		for _, r := range rows {
			o := created(r)
			j.Start(r, o.Offset, o.End)
			j.Record(o)
		}
		j.Close()
		raw, err := os.ReadFile(journalPath(seedDir))
		if err != nil {
			f.Fatal(err)
		}
		return raw
	}
	writeJ(testBinding, 1, 2, 3)
	if err := Reset(seedDir); err != nil {
		f.Fatal(err)
	}
	kept, err := os.ReadFile(filepath.Join(seedDir, checkpoint.PreviousFile))
	if err != nil {
		f.Fatal(err)
	}
	other := testBinding
	other.APIURL = "https://api.usezentra.com"
	same := writeJ(testBinding, 2, 4)
	f.Add(same)
	f.Add(same[:len(same)-7])
	f.Add(writeJ(other, 5))
	f.Add([]byte("email\nx@example.com\n"))
	f.Add([]byte{})

	f.Fuzz(func(t *testing.T, data []byte) {
		dir := t.TempDir()
		if err := os.WriteFile(filepath.Join(dir, checkpoint.PreviousFile), kept, 0o600); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(journalPath(dir), data, 0o600); err != nil {
			t.Fatal(err)
		}
		journal, lost, rerr := checkpoint.Recognize(journalPath(dir), int64(len(data)))
		if rerr != nil {
			t.Fatal(rerr)
		}
		notJournal := !journal
		err := Reset(dir)
		if notJournal && !lost {
			var de *DirError
			if !errors.As(err, &de) {
				t.Fatalf("Reset of a file that is not a journal: %v", err)
			}
			return
		}
		if err != nil {
			t.Fatalf("Reset: %v", err)
		}
		if notJournal { // a journal whose start was destroyed: kept aside, byte for byte
			kept, err := os.ReadFile(filepath.Join(dir, checkpoint.DamagedFile))
			if err != nil || !bytes.Equal(kept, data) {
				t.Fatalf("a journal damaged at its start was not kept as %s: %v", checkpoint.DamagedFile, err)
			}
		}
		if _, err := os.Stat(journalPath(dir)); !errors.Is(err, fs.ErrNotExist) {
			t.Fatalf("the journal is still there: %v", err)
		}
		x, err := checkpoint.PreviousIDs(dir, testBinding.APIURL)
		if err != nil {
			t.Fatal(err)
		}
		if x.Note() != "" {
			return // the ids of another API replaced them
		}
		for _, ref := range []string{"crm-1", "crm-2", "crm-3"} {
			if _, ok := x.Lookup(ref); !ok {
				t.Fatalf("%s lost its id", ref)
			}
		}
	})
}

// FuzzScanResults feeds arbitrary text to the results reader: an error or lines, never a panic.
func FuzzScanResults(f *testing.F) {
	f.Add("row,external_reference,status,customer_id,http_status,attempts,error,Legacy\n1,r,created,c,201,1,,L1\n")
	f.Add("row,external_reference,status,customer_id,http_status,attempts,error\n1,r,created\n")
	f.Add("row,external_reference,status,customer_id,http_status,attempts,error\n0x10,r,failed,,,1.5,\"x\ny\"\n")
	f.Add("")
	f.Fuzz(func(t *testing.T, in string) {
		_, _ = ScanResults(strings.NewReader(in), func(l ResultLine) error {
			if l.Row < 1 {
				t.Fatalf("row %d accepted", l.Row)
			}
			if _, err := checkpoint.ParseStatus(l.Status); err != nil {
				t.Fatalf("status %q accepted", l.Status)
			}
			return nil
		})
	})
}
