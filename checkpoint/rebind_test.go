package checkpoint

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// grownBinding is testBinding's job on an input that grew.
var grownBinding = func() Binding {
	b := testBinding
	b.InputSize, b.InputSHA256 = testBinding.InputSize+4096, "1111111111111111111111111111111111111111111111111111111111111111"
	return b
}()

func TestGrowsInto(t *testing.T) {
	edit := func(f func(*Binding)) Binding {
		b := grownBinding
		f(&b)
		return b
	}
	tests := []struct {
		name string
		b    Binding
		want bool
	}{
		{"a longer input, the rest the same", grownBinding, true},
		{"the API URL with a trailing slash", edit(func(b *Binding) { b.APIURL += "/" }), true},
		{"the same size", edit(func(b *Binding) { b.InputSize = testBinding.InputSize }), false},
		{"a shorter input", edit(func(b *Binding) { b.InputSize = testBinding.InputSize - 1 }), false},
		{"another mapping", edit(func(b *Binding) { b.MappingHash = "ff" }), false},
		{"another API", edit(func(b *Binding) { b.APIURL = "https://api.usezentra.com" }), false},
		{"other reading rules", edit(func(b *Binding) { b.Rules = "9" }), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.Equal(t, tt.want, testBinding.GrowsInto(tt.b))
		})
	}
}

// TestRebindReopensAFinishedJob: a finished job rebound to a grown input is open again, every row keeping
// its latest outcome and the resume point after the last one; the journal then belongs to the new
// binding only, and finishing it makes it complete again.
func TestRebindReopensAFinishedJob(t *testing.T) {
	dir := t.TempDir()
	var ops []op
	for r := 1; r <= 40; r++ {
		ops = append(ops, startOp(r), outcomeOp(testOutcome(r, statusFor(r), 0)))
	}
	ops = append(ops, outcomeOp(testOutcome(13, StatusCreated, 1)))
	m := newModel(ops) // what the job is once rebound: the same, without the finish record
	writeJournal(t, dir, append(ops, finishOp(40, 1)))

	b, ok := JournalBinding(dir)
	require.True(t, ok)
	assert.Equal(t, testBinding, b)

	j, st, err := Open(dir, testBinding, Options{})
	require.NoError(t, err)
	require.True(t, st.Complete)
	assert.Equal(t, 40, st.LastRow)
	assert.Equal(t, rowOffset(40), st.LastOffset)
	assert.Equal(t, rowOffset(41), st.LastEnd)
	require.NoError(t, j.Rebind(grownBinding))
	assert.False(t, st.Complete, "the State that Open returned is open again")
	assert.Zero(t, st.TotalRows)
	m.checkOutcomes(t, j)
	require.NoError(t, j.Record(testOutcome(41, StatusCreated, 0)))
	require.NoError(t, j.Close())

	b, ok = JournalBinding(dir)
	require.True(t, ok)
	assert.Equal(t, grownBinding, b)
	_, _, err = Open(dir, testBinding, Options{})
	var be *BindingError
	require.ErrorAs(t, err, &be, "bound to the grown input only")

	j, st, err = Open(dir, grownBinding, Options{})
	require.NoError(t, err)
	assert.False(t, st.Complete)
	assert.Equal(t, 42, st.ResumeRow)
	assert.Equal(t, 41, st.LastRow)
	m.apply(outcomeOp(testOutcome(41, StatusCreated, 0)))
	m.check(t, st, false)
	m.checkOutcomes(t, j)
	require.NoError(t, j.Finish(41, 0))
	require.NoError(t, j.Close())
	_, st, err = Open(dir, grownBinding, Options{})
	require.NoError(t, err)
	assert.True(t, st.Complete)
}

// TestRebindOnlyRightAfterOpen: once something is recorded, Rebind refuses, changing nothing.
func TestRebindOnlyRightAfterOpen(t *testing.T) {
	dir := t.TempDir()
	writeJournal(t, dir, []op{startOp(1), outcomeOp(testOutcome(1, StatusCreated, 0))})
	j, _, err := Open(dir, testBinding, Options{})
	require.NoError(t, err)
	require.NoError(t, j.Record(testOutcome(2, StatusCreated, 0)))
	require.ErrorContains(t, j.Rebind(grownBinding), "right after Open")
	require.NoError(t, j.Close())
	b, _ := JournalBinding(dir)
	assert.Equal(t, testBinding, b)
}

func TestJournalBindingWithoutAJournal(t *testing.T) {
	dir := t.TempDir()
	_, ok := JournalBinding(dir)
	assert.False(t, ok)
	require.NoError(t, os.WriteFile(journalPath(dir), []byte("not a journal"), 0o600))
	_, ok = JournalBinding(dir)
	assert.False(t, ok)
}

// childRebinder rebinds the journal in ZI_CHECKPOINT_DIR to grownBinding, killing itself with SIGKILL at
// the step ZI_CRASHPOINT names.
func childRebinder() int {
	at := os.Getenv("ZI_CRASHPOINT")
	crashHook = func(stage string) {
		if stage == at {
			_ = syscall.Kill(os.Getpid(), syscall.SIGKILL)
			time.Sleep(time.Minute)
		}
	}
	j, _, err := Open(os.Getenv("ZI_CHECKPOINT_DIR"), testBinding, Options{})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	if err := j.Rebind(grownBinding); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	if err := j.Close(); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	return 0
}

// TestSIGKILLDuringRebind kills a rebinding child at each step of the rewrite: the journal then opens
// under the old binding or under the new one (never both, never neither), with every row's latest outcome
// and, under the new one, no finish record; under the old one it can be rebound again.
func TestSIGKILLDuringRebind(t *testing.T) {
	var ops []op
	for r := 1; r <= 3000; r++ {
		ops = append(ops, startOp(r), outcomeOp(testOutcome(r, statusFor(r), 0)))
	}
	ops = append(ops, startOp(3001))
	rebound := newModel(ops) // the same, without the finish record
	ops = append(ops, finishOp(3000, 1))
	template := t.TempDir()
	writeJournal(t, template, ops)
	journal, err := os.ReadFile(journalPath(template))
	require.NoError(t, err)
	m := newModel(ops)

	for _, tt := range []struct {
		at  string
		old bool // the old journal survives
	}{
		{"rebind:start", true}, {"rebind:synced", true}, {"rebind:renamed", false}, {"rebind:done", false},
	} {
		t.Run(tt.at, func(t *testing.T) {
			dir := t.TempDir()
			require.NoError(t, os.WriteFile(journalPath(dir), journal, 0o600))
			cmd := exec.Command(os.Args[0], "-test.run=^$")
			cmd.Env = append(os.Environ(), childEnv+"=rebinder", "ZI_CHECKPOINT_DIR="+dir, "ZI_CRASHPOINT="+tt.at)
			out, err := cmd.CombinedOutput()
			var ee *exec.ExitError
			require.True(t, errors.As(err, &ee) && ee.Sys().(syscall.WaitStatus).Signal() == syscall.SIGKILL, "killed: %v %s", err, out)

			oldJ, oldSt, oldErr := Open(dir, testBinding, Options{})
			newJ, newSt, newErr := Open(dir, grownBinding, Options{})
			if tt.old {
				require.NoError(t, oldErr)
				require.Error(t, newErr)
				assert.True(t, oldSt.Complete, "the old journal, whole")
				m.check(t, oldSt, false)
				m.checkOutcomes(t, oldJ)
				require.NoError(t, oldJ.Rebind(grownBinding), "rebound again")
				require.NoError(t, oldJ.Close())
				newJ, newSt, newErr = Open(dir, grownBinding, Options{})
			} else {
				require.Error(t, oldErr)
			}
			require.NoError(t, newErr)
			assert.False(t, newSt.Complete, "rebound: open again")
			assert.Equal(t, 3001, newSt.ResumeRow)
			assert.Equal(t, 1, newSt.InFlight, "row 3001 still in flight")
			rebound.check(t, newSt, false)
			rebound.checkOutcomes(t, newJ)
			require.NoError(t, newJ.Close())
		})
	}
}
