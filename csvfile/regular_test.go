//go:build unix

package csvfile

import (
	"net"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestOpenRegular(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "in.csv")
	require.NoError(t, os.WriteFile(file, []byte("a\n1\n"), 0o600))
	fifo := filepath.Join(dir, "fifo.csv")
	require.NoError(t, syscall.Mkfifo(fifo, 0o600))
	sock := filepath.Join(dir, "sock.csv")
	l, err := net.Listen("unix", sock)
	require.NoError(t, err)
	defer l.Close()
	linkToFile, linkToFifo := filepath.Join(dir, "file-link.csv"), filepath.Join(dir, "fifo-link.csv")
	require.NoError(t, os.Symlink(file, linkToFile))
	require.NoError(t, os.Symlink(fifo, linkToFifo))

	tests := []struct {
		name, path, msg string // msg "": opened
	}{
		{"a regular file", file, ""},
		{"a link to a regular file", linkToFile, ""},
		{"a named pipe without a writer", fifo, "is a named pipe (FIFO), not a regular file"},
		{"a link to a named pipe", linkToFifo, "is a named pipe (FIFO), not a regular file"},
		{"a character device", os.DevNull, "is a character device, not a regular file"},
		{"a socket", sock, "is a socket, not a regular file"},
		{"a directory", dir, "is a directory, not a CSV file"},
		{"nothing", filepath.Join(dir, "missing.csv"), "cannot open the file: no such file or directory"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			type opened struct {
				f   *os.File
				err error
			}
			c := make(chan opened, 1)
			go func() { f, err := OpenRegular(tt.path); c <- opened{f, err} }()
			var got opened
			select {
			case got = <-c:
			case <-time.After(time.Minute): // a hang detector, not a speed bound
				t.Fatal("OpenRegular waits (for a writer?)")
			}
			if tt.msg == "" {
				require.NoError(t, got.err)
				require.NoError(t, got.f.Close())
				return
			}
			assert.Nil(t, got.f)
			var ie *InputError
			require.ErrorAs(t, got.err, &ie)
			assert.Equal(t, tt.path+": "+tt.msg, got.err.Error())
			assert.NotEmpty(t, ie.Hint())
		})
	}
}

func TestNotRegularErrorNamesEveryKind(t *testing.T) {
	for mode, what := range map[os.FileMode]string{
		os.ModeNamedPipe:                  "a named pipe (FIFO)",
		os.ModeDevice | os.ModeCharDevice: "a character device",
		os.ModeDevice:                     "a block device",
		os.ModeSocket:                     "a socket",
		os.ModeSymlink:                    "a symbolic link",
	} {
		err := NotRegularError("x.csv", mode)
		require.Error(t, err, what)
		assert.Equal(t, "x.csv: is "+what+", not a regular file", err.Error())
		assert.Contains(t, err.(*InputError).Hint(), "save it to a file first")
	}
	assert.NoError(t, NotRegularError("x.csv", 0o600))
	assert.EqualError(t, NotRegularError("x.csv", os.ModeIrregular), "x.csv: is not a regular file")
}
