// Package inputfile reads the files a run is configured by (deploy.yml
// and its destination overlay, secrets and .env files, Starlark scripts,
// files ERB reads) the one bounded way: only regular files, only up to
// MaxSize bytes, with failures worded as Ruby's File.read words them.
//
// The bound exists because every one of these paths is the user's to
// point anywhere: a deploy.yml symlinked to /dev/zero or a --script=/dev/zero
// would otherwise be read into memory without end, and a FIFO would block
// the run before it can be interrupted.
//
// The functions are safe for concurrent use.
package inputfile

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"syscall"

	"github.com/kamal-go/kamal/runtime/kamalerr"
)

// MaxSize is the largest input read, 16 MiB: real deploy files are a few
// kilobytes, and a 60,000-variable env section is under one megabyte.
const MaxSize = 16 << 20

// ReadFile returns the contents of path, which must name a regular file
// (after symlinks) of at most MaxSize bytes. name is the path as the
// messages show it (Kamal shows some paths absolute, some as configured).
//
// A missing file is returned as an error satisfying errors.Is(err,
// fs.ErrNotExist), for callers that skip or word it themselves. Every
// other failure is a *kamalerr.Error: an errno as Ruby's File.read reports
// it (Errno::EACCES "Permission denied @ rb_sysopen - NAME",
// Errno::EISDIR "Is a directory @ io_fread - NAME"), or a RuntimeError
// for a file that is not regular or is larger than MaxSize.
func ReadFile(path, name string) ([]byte, error) {
	return read(path, name, MaxSize)
}

func read(path, name string, limit int64) ([]byte, error) {
	// O_NONBLOCK: opening a FIFO must not wait for a writer; the file is
	// refused as not regular right after.
	f, err := os.OpenFile(path, os.O_RDONLY|syscall.O_NONBLOCK|syscall.O_CLOEXEC, 0)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, err
		}
		return nil, rubyErrno(err, "rb_sysopen", name)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, rubyErrno(err, "rb_sysopen", name)
	}
	switch {
	case st.IsDir():
		return nil, kamalerr.Errorf(kamalerr.ClassEISDIR, "Is a directory @ io_fread - %s", name)
	case !st.Mode().IsRegular():
		return nil, kamalerr.Errorf(kamalerr.ClassRuntime, "%s is not a regular file (%s): kamal-go reads configuration, secrets and scripts only from regular files", name, kind(st.Mode()))
	case st.Size() > limit:
		return nil, tooLarge(name, limit)
	}
	// The file may grow between Stat and the read: read one byte past the
	// limit to notice.
	data, err := io.ReadAll(io.LimitReader(f, limit+1))
	if err != nil {
		return nil, rubyErrno(err, "io_fread", name)
	}
	if int64(len(data)) > limit {
		return nil, tooLarge(name, limit)
	}
	return data, nil
}

func tooLarge(name string, limit int64) error {
	return kamalerr.Errorf(kamalerr.ClassRuntime, "%s is larger than %d MiB, the most kamal-go reads from a configuration, secrets or script file", name, limit>>20)
}

// rubyErrno words err as Ruby's SystemCallError for the errno in it, as
// raised by the C function fn ("Permission denied @ rb_sysopen - NAME").
func rubyErrno(err error, fn, name string) error {
	var errno syscall.Errno
	if !errors.As(err, &errno) {
		return kamalerr.Errorf(kamalerr.ClassRuntime, "%s: %v", name, err)
	}
	class, text := errnoName(errno)
	return kamalerr.Errorf(class, "%s @ %s - %s", text, fn, name)
}

// errnoName is Ruby's class name and strerror text for the errnos reading
// a file can meet.
func errnoName(e syscall.Errno) (class, text string) {
	switch e {
	case syscall.EACCES:
		return kamalerr.ClassEACCES, "Permission denied"
	case syscall.EPERM:
		return "Errno::EPERM", "Operation not permitted"
	case syscall.EISDIR:
		return kamalerr.ClassEISDIR, "Is a directory"
	case syscall.ENOTDIR:
		return "Errno::ENOTDIR", "Not a directory"
	case syscall.ELOOP:
		return "Errno::ELOOP", "Too many levels of symbolic links"
	case syscall.ENAMETOOLONG:
		return "Errno::ENAMETOOLONG", "File name too long"
	case syscall.EIO:
		return "Errno::EIO", "Input/output error"
	}
	return kamalerr.ClassSystemCall, fmt.Sprintf("%s (errno %d)", e.Error(), int(e))
}

func kind(m fs.FileMode) string {
	switch {
	case m&fs.ModeCharDevice != 0:
		return "a character device"
	case m&fs.ModeDevice != 0:
		return "a block device"
	case m&fs.ModeNamedPipe != 0:
		return "a named pipe"
	case m&fs.ModeSocket != 0:
		return "a socket"
	}
	return "mode " + m.Type().String()
}
