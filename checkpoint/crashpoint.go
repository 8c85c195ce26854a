//go:build crashpoint

package checkpoint

import (
	"os"
	"syscall"
)

// Built with -tags crashpoint (end-to-end tests only), the binary kills itself with SIGKILL at the
// rewrite step that ZI_CRASHPOINT names, such as "rebind:synced": a crash exactly there.
func init() {
	at := os.Getenv("ZI_CRASHPOINT")
	if at == "" {
		return
	}
	crashHook = func(stage string) {
		if stage == at {
			_ = syscall.Kill(os.Getpid(), syscall.SIGKILL)
			select {} // the signal is on its way
		}
	}
}
