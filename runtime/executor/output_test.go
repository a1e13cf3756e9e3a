package executor

import (
	"bytes"
	"io"
	"strings"
	"testing"
)

// readSizes is a reader of data that records the largest buffer it was
// given.
type readSizes struct {
	r   io.Reader
	max int
}

func (r *readSizes) Read(p []byte) (int, error) {
	r.max = max(r.max, len(p))
	return r.r.Read(p)
}

// trickle returns at most 100 bytes a read: a command that prints a line
// now and then.
type trickle struct{ r io.Reader }

func (t trickle) Read(p []byte) (int, error) { return t.r.Read(p[:min(len(p), 100)]) }

// A command's output is copied with a small buffer, held per running
// stream, that grows only while the output keeps filling it (a bulk
// output such as docker image save's), and all of it reaches the writer,
// or is drained after the writer failed.
func TestStreamBufferStaysSmallUnlessTheOutputFillsIt(t *testing.T) {
	data := strings.Repeat("0123456789abcdef", 10000)
	tests := []struct {
		name    string
		w       io.Writer
		wrap    func(io.Reader) io.Reader
		want    string // what the writer got ("" for a failing one)
		wantMax int    // the largest buffer a read was given
	}{
		{"a trickle keeps the small buffer", &bytes.Buffer{}, func(r io.Reader) io.Reader { return trickle{r} }, data, copyBuffer},
		{"a bulk output grows it to its bound", &bytes.Buffer{}, func(r io.Reader) io.Reader { return r }, data, maxCopyBuffer},
		{"output after a failed write is drained", failingWriter{}, func(r io.Reader) io.Reader { return r }, "", maxCopyBuffer},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			src := &readSizes{r: tt.wrap(strings.NewReader(data))}
			s := &stream{w: tt.w}
			n, err := io.Copy(s, src)
			if err != nil || n != int64(len(data)) {
				t.Fatalf("copied %d, %v; want %d, nil", n, err, len(data))
			}
			if src.max != tt.wantMax {
				t.Fatalf("read with at most a %d-byte buffer, want %d", src.max, tt.wantMax)
			}
			if b, ok := tt.w.(*bytes.Buffer); ok && b.String() != tt.want {
				t.Fatalf("writer got %d bytes, want %d", b.Len(), len(tt.want))
			}
			if _, ok := tt.w.(failingWriter); ok && s.Err() == nil {
				t.Fatal("the writer's error is not reported")
			}
		})
	}
}
