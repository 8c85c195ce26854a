//go:build unix && !linux

package main

import (
	"fmt"
	"syscall"
)

// noCoreDumps keeps the secret key out of core dumps: the process's core size limit, soft and hard,
// becomes 0. (Linux also makes the process not dumpable; see coredump_linux.go.)
func noCoreDumps() error {
	if err := syscall.Setrlimit(syscall.RLIMIT_CORE, &syscall.Rlimit{Cur: 0, Max: 0}); err != nil {
		return fmt.Errorf("set RLIMIT_CORE to 0: %w", err)
	}
	return nil
}
