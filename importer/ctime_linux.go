package importer

import (
	"os"
	"syscall"
)

// changeTime is a file's status-change time (ctime) in nanoseconds: every write moves it, and unlike the
// modification time no one can set it back.
func changeTime(fi os.FileInfo) int64 {
	if st, ok := fi.Sys().(*syscall.Stat_t); ok {
		return st.Ctim.Nano()
	}
	return 0
}
