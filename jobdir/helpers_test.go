package jobdir

import (
	"fmt"
	"os"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/zentra/zentra-import/checkpoint"
)

// TestMain lets the test binary act as a child process that holds a job directory's lock.
func TestMain(m *testing.M) {
	if os.Getenv(childEnv) == "locker" {
		os.Exit(childLocker())
	}
	os.Exit(m.Run())
}

const childEnv = "ZI_JOBDIR_CHILD"

// journalMagic is how every journal begins, and recordMarker how each of its records does (checkpoint's
// format, version 1).
const (
	journalMagic = "ZIJRNL"
	recordMarker = "\xF7ZJ\x1E"
)

// testBinding is the job the tests' journals are bound to.
var testBinding = checkpoint.Binding{InputSize: 4242, InputSHA256: fmt.Sprintf("%064x", 1), MappingHash: fmt.Sprintf("%064x", 2),
	APIURL: "https://sandbox.api.usezentra.com"}

// created is row's outcome when the API created its customer.
func created(row int) checkpoint.Outcome {
	return checkpoint.Outcome{Row: row, Offset: int64(100 * row), End: int64(100 * (row + 1)), Ref: fmt.Sprint("crm-", row),
		Status: checkpoint.StatusCreated, CustomerID: fmt.Sprint("cus_", row), HTTPStatus: 201, Attempts: 1}
}

// writeJournal writes the journal of a job in dir in which rows were created (each in flight first, with
// started), through checkpoint's own API.
func writeJournal(t testing.TB, dir string, started bool, rows ...int) {
	t.Helper()
	j, _, err := checkpoint.Open(dir, testBinding, checkpoint.Options{})
	require.NoError(t, err)
	for _, r := range rows {
		o := created(r)
		if started {
			require.NoError(t, j.Start(r, o.Offset, o.End))
		}
		require.NoError(t, j.Record(o))
	}
	require.NoError(t, j.Close())
}

func fileMode(t *testing.T, path string) os.FileMode {
	fi, err := os.Lstat(path)
	require.NoError(t, err)
	return fi.Mode().Perm()
}
