package csvfile

import (
	"fmt"
	"io/fs"
	"os"
	"syscall"
)

// notRegularFix is the hint for an input that is not a regular file: why one is needed.
const notRegularFix = "save it to a file first: the input is read more than once (to resume from the middle, " +
	"to write the job files), so it must be a regular file that can be read again from any point"

// NotRegularError is the *InputError for an input whose mode is not a regular file's, naming what it is
// ("is a named pipe (FIFO)", "is a character device", …), or nil for a regular file.
func NotRegularError(path string, mode fs.FileMode) error {
	var what string
	switch {
	case mode.IsRegular():
		return nil
	case mode.IsDir():
		return &InputError{File: path, Msg: "is a directory, not a CSV file", Fix: "give the path of the CSV file to import"}
	case mode&fs.ModeNamedPipe != 0:
		what = "a named pipe (FIFO)"
	case mode&fs.ModeSocket != 0:
		what = "a socket"
	case mode&fs.ModeCharDevice != 0:
		what = "a character device"
	case mode&fs.ModeDevice != 0:
		what = "a block device"
	case mode&fs.ModeSymlink != 0:
		what = "a symbolic link" // only from Lstat: Stat follows links
	default:
		what = "not a regular file"
		return &InputError{File: path, Msg: "is " + what, Fix: notRegularFix}
	}
	return &InputError{File: path, Msg: "is " + what + ", not a regular file", Fix: notRegularFix}
}

// OpenRegular opens an input for reading, refusing anything but a regular file (a symbolic link to one
// is fine) with an *InputError that names what it is. It asks the file system before it opens anything:
// opening a named pipe without a writer would wait for one forever. The open itself does not wait either
// (O_NONBLOCK), and what was opened is checked again, so a path swapped for a pipe in between is refused
// too.
func OpenRegular(path string) (*os.File, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return nil, openError(path, err)
	}
	if err := NotRegularError(path, fi.Mode()); err != nil {
		return nil, err
	}
	f, err := os.OpenFile(path, os.O_RDONLY|syscall.O_NONBLOCK, 0)
	if err != nil {
		return nil, openError(path, err)
	}
	fi, err = f.Stat()
	if err == nil {
		err = NotRegularError(path, fi.Mode())
	}
	if err != nil {
		f.Close()
		if _, ok := err.(*InputError); !ok {
			err = fmt.Errorf("read %s: %w", path, err)
		}
		return nil, err
	}
	return f, nil
}
