//go:build race

package ledger

// raceEnabled: the race detector slows SQLite (pure Go) about tenfold, so the tests that write a lot
// write less.
const raceEnabled = true
