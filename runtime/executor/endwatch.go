package executor

import (
	"net"
	"sync"
)

// endWatch is a connection's transport socket that notices the end of the
// connection itself: the first failed read (the peer closed it, it broke,
// a keepalive timeout closed it) or a Close from this side. It replaces a
// goroutine per connection blocked in ssh.Client.Wait, which on a
// thousand pooled connections was a thousand stacks doing nothing.
//
// The function given to onEnd runs once, on x/crypto's reading goroutine
// or the closer's, so it must not block, and in particular must not close
// the ssh.Client (whose Close waits for that reading goroutine).
type endWatch struct {
	net.Conn
	mu    sync.Mutex
	ended bool
	fn    func()
}

func (w *endWatch) Read(p []byte) (int, error) {
	n, err := w.Conn.Read(p)
	if err != nil {
		w.end()
	}
	return n, err
}

func (w *endWatch) Close() error {
	err := w.Conn.Close()
	w.end()
	return err
}

func (w *endWatch) end() {
	w.mu.Lock()
	fn := w.fn
	first := !w.ended
	w.ended, w.fn = true, nil
	w.mu.Unlock()
	if first && fn != nil {
		fn()
	}
}

// onEnd has fn called when the connection ends, at once if it already has.
func (w *endWatch) onEnd(fn func()) {
	w.mu.Lock()
	if w.ended {
		w.mu.Unlock()
		fn()
		return
	}
	w.fn = fn
	w.mu.Unlock()
}
