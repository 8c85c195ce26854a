//go:build !unix

package main

// noCoreDumps does nothing where there is no core size limit to set.
func noCoreDumps() error { return nil }
