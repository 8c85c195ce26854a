package main

import (
	"fmt"

	"golang.org/x/sys/unix"
)

// noCoreDumps keeps the secret key out of core dumps, whatever `ulimit -c` or the system's core pattern
// say: the process's core size limit, soft and hard, becomes 0 (no core file, and a child cannot raise it
// back), and the process becomes not dumpable, so that no core is written even through a core_pattern
// pipe (systemd-coredump, apport) or after someone with CAP_SYS_RESOURCE raised the limit again. Not
// dumpable also means: its /proc/<pid> files belong to root, and a debugger of the same user cannot
// attach (ptrace). main calls it first, before the key is read, for every command (the sandbox's key is
// a secret too).
func noCoreDumps() error {
	if err := unix.Setrlimit(unix.RLIMIT_CORE, &unix.Rlimit{Cur: 0, Max: 0}); err != nil {
		return fmt.Errorf("set RLIMIT_CORE to 0: %w", err)
	}
	if err := unix.Prctl(unix.PR_SET_DUMPABLE, 0, 0, 0, 0); err != nil {
		return fmt.Errorf("prctl(PR_SET_DUMPABLE, 0): %w", err)
	}
	return nil
}
