package jobdir

import (
	"bufio"
	"bytes"
	"os"
	"strconv"
	"syscall"
)

// dirLockHolder finds, in the kernel's table of locks (/proc/locks), the process holding a flock on dir.
// It returns 0 when there is none it can see (another pid namespace shows 0 or nothing).
func dirLockHolder(dir string) int {
	var st syscall.Stat_t
	if err := syscall.Stat(dir, &st); err != nil {
		return 0
	}
	dev := uint64(st.Dev)
	major := (dev>>8)&0xfff | (dev>>32)&^uint64(0xfff)
	minor := dev&0xff | (dev>>12)&^uint64(0xff)
	b, err := os.ReadFile("/proc/locks")
	if err != nil {
		return 0
	}
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		// "1: FLOCK  ADVISORY  WRITE 1234 fe:00:10085218 0 EOF"; a waiter's line has "->" after the number.
		f := bytes.Fields(sc.Bytes())
		if len(f) > 1 && string(f[1]) == "->" {
			f = append(f[:1], f[2:]...)
		}
		if len(f) < 6 || string(f[1]) != "FLOCK" {
			continue
		}
		id := bytes.Split(f[5], []byte(":"))
		if len(id) != 3 {
			continue
		}
		maj, err1 := strconv.ParseUint(string(id[0]), 16, 32)
		mnr, err2 := strconv.ParseUint(string(id[1]), 16, 32)
		ino, err3 := strconv.ParseUint(string(id[2]), 10, 64)
		if err1 != nil || err2 != nil || err3 != nil || maj != major || mnr != minor || ino != uint64(st.Ino) {
			continue
		}
		if pid, err := strconv.Atoi(string(f[4])); err == nil && pid > 0 {
			return pid
		}
	}
	return 0
}
