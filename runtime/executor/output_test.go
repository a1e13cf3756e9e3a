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

// A command's output is copied with a small buffer, held per running
// stream, and all of it reaches the writer, or is drained after the writer
// failed.
func TestStreamCopiesWithASmallBuffer(t *testing.T) {
	data := strings.Repeat("0123456789abcdef", 10000)
	tests := []struct {
		name string
		w    io.Writer
		want string // what the writer got ("" for a failing one)
	}{
		{"all output reaches the writer", &bytes.Buffer{}, data},
		{"output after a failed write is drained", failingWriter{}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			src := &readSizes{r: strings.NewReader(data)}
			s := &stream{w: tt.w}
			n, err := io.Copy(s, src)
			if err != nil || n != int64(len(data)) {
				t.Fatalf("copied %d, %v; want %d, nil", n, err, len(data))
			}
			if src.max > copyBuffer {
				t.Fatalf("read with a %d-byte buffer, want at most %d", src.max, copyBuffer)
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
