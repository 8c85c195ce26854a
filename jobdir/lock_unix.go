//go:build unix

package jobdir

import (
	"errors"
	"syscall"
)

// dirLockUnsupported reports whether an error from locking a directory means that its file system cannot
// do it, rather than a real failure: a network file system that emulates flock with byte-range locks wants
// a file open for writing (EBADF, and EISDIR when flock's retry reopens the directory for writing).
func dirLockUnsupported(err error) bool {
	for _, e := range []syscall.Errno{syscall.EBADF, syscall.EISDIR, syscall.ENOLCK, syscall.EOPNOTSUPP, syscall.ENOTSUP, syscall.EINVAL} {
		if errors.Is(err, e) {
			return true
		}
	}
	return false
}
