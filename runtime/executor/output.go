package executor

import (
	"fmt"
	"io"
	"reflect"
	"sync"
)

// stream wraps one caller writer. It serializes calls to the writer,
// stops calling it once detached (so no write can happen after Run
// returns), and swallows the writer's first error so that the producer
// keeps draining the command's output instead of blocking it; the error is
// reported by Err.
type stream struct {
	mu       sync.Mutex
	w        io.Writer
	err      error
	detached bool
}

func (s *stream) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.detached || s.err != nil || s.w == nil {
		return len(p), nil
	}
	if _, err := s.w.Write(p); err != nil {
		s.err = err
	}
	return len(p), nil
}

// copyBuffer is the buffer a stream reads a command's output with. It is
// held for as long as the command runs (the read waits for output), once
// per stream, so it is small: io.Copy's 32 KiB for both streams was
// 64 KiB per running command, 64 MB on 1000 hosts (2 KiB: 4 MB). A read
// only copies out of the channel's own buffer, so a large output costs a
// few more of them, not round trips.
const copyBuffer = 512

// maxCopyBuffer is where a stream's buffer stops growing. A command whose
// output keeps filling the buffer (`docker image save` for --serve: 200 MB
// went through 512-byte reads, each a write to the caller, and took 1.5 s
// more than the save itself) gets a buffer that doubles with every full
// read up to this size; a command that prints a line now and then keeps
// copyBuffer.
const maxCopyBuffer = 64 << 10

// ReadFrom copies r to the writer with a copyBuffer-sized buffer (io.Copy,
// which x/crypto/ssh uses for a session's output, prefers it), grown up to
// maxCopyBuffer while reads fill it. Like Write, it keeps draining r after
// the writer failed or the stream was detached.
func (s *stream) ReadFrom(r io.Reader) (int64, error) {
	buf := make([]byte, copyBuffer)
	var total int64
	for {
		n, err := r.Read(buf)
		if n > 0 {
			total += int64(n)
			s.Write(buf[:n])
		}
		if n == len(buf) && len(buf) < maxCopyBuffer {
			buf = make([]byte, 2*len(buf))
		}
		if err == io.EOF {
			return total, nil
		}
		if err != nil {
			return total, err
		}
	}
}

// detach waits for an in-flight Write and makes every later one a no-op.
func (s *stream) detach() {
	s.mu.Lock()
	s.detached = true
	s.mu.Unlock()
}

// Err returns the writer's first error, if any.
func (s *stream) Err() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.err
}

// outputs are the two guarded streams of one command. When the caller gave
// the same writer for stdout and stderr, both fields hold one stream.
type outputs struct {
	stdout, stderr *stream
}

func newOutputs(stdout, stderr io.Writer) outputs {
	o := outputs{stdout: &stream{w: stdout}}
	if sameWriter(stdout, stderr) {
		o.stderr = o.stdout
	} else {
		o.stderr = &stream{w: stderr}
	}
	return o
}

// detach stops all further writes; see stream.detach.
func (o outputs) detach() {
	o.stdout.detach()
	o.stderr.detach()
}

// err returns the first writer error, stdout's first.
func (o outputs) err() error {
	if err := o.stdout.Err(); err != nil {
		return err
	}
	return o.stderr.Err()
}

// sameWriter reports whether a and b are the same non-nil writer, without
// panicking on writers of uncomparable types.
func sameWriter(a, b io.Writer) bool {
	if a == nil || b == nil {
		return false
	}
	ta, tb := reflect.TypeOf(a), reflect.TypeOf(b)
	if ta != tb || !ta.Comparable() {
		return false
	}
	return a == b
}

// finish ends a command's output once its status is known: no write
// reaches the caller's writers after it, and a failed write is reported
// with the status.
func (o outputs) finish(status int) (int, error) {
	o.detach()
	if err := o.err(); err != nil {
		return status, fmt.Errorf("writing command output: %w", err)
	}
	return status, nil
}
