// Command delayproxy puts a simulated network round trip in front of TCP
// servers on this machine (the kernel here has no netem):
//
//	delayproxy -rtt 50ms -map FILE [-ready FILE]
//
// FILE has one "LISTEN UPSTREAM" pair of host:port addresses a line (# starts
// a comment). For every connection accepted on LISTEN the proxy behaves like
// a link with a one-way delay of RTT/2 in each direction:
//
//   - set-up: the upstream connection is opened 1.5 RTT after the accept: the
//     SYN/SYN-ACK round trip the client would have waited for before sending,
//     plus the half trip of its first segment (with which a server's accept
//     returns). The client's first bytes reach the server then; the server's
//     first bytes (an SSH banner) reach the client RTT/2 later, 2 RTT after
//     the connect, as on a real link.
//   - data: every chunk read from one side is written to the other RTT/2
//     after it was read, in the order read (never earlier, never reordered);
//     an end of stream (FIN) travels the same way, as a half close.
//   - reset: a read error other than end of stream on one side (a reset)
//     closes both sides at once, the other with a reset (SO_LINGER 0), so a
//     server dropping a start is seen by the client instead of a hang. A
//     failed upstream dial resets the client connection RTT/2 later.
//
// Bandwidth is not limited. With -ready, the proxy writes FILE once every
// listener is open. It runs until SIGINT or SIGTERM. Used by tests/bench;
// not a test.
package main

import (
	"bufio"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"os/signal"
	"strings"
	"sync"
	"syscall"
	"time"
)

func main() {
	rtt := flag.Duration("rtt", 50*time.Millisecond, "simulated round-trip time")
	mapFile := flag.String("map", "", `file of "LISTEN UPSTREAM" lines`)
	ready := flag.String("ready", "", "file written once every listener is open")
	flag.Parse()
	if *mapFile == "" || *rtt < 0 || flag.NArg() != 0 {
		fmt.Fprintln(os.Stderr, "usage: delayproxy -rtt DURATION -map FILE [-ready FILE]")
		os.Exit(2)
	}
	pairs, err := readMap(*mapFile)
	if err != nil {
		fmt.Fprintln(os.Stderr, "delayproxy:", err)
		os.Exit(1)
	}
	var lns []net.Listener
	for _, p := range pairs {
		ln, err := net.Listen("tcp", p[0])
		if err != nil {
			fmt.Fprintln(os.Stderr, "delayproxy:", err)
			os.Exit(1)
		}
		lns = append(lns, ln)
		px := &Proxy{RTT: *rtt, Upstream: p[1]}
		go px.Serve(ln)
	}
	if *ready != "" {
		if err := os.WriteFile(*ready, []byte(fmt.Sprintf("%d listeners, rtt %s\n", len(lns), *rtt)), 0o644); err != nil {
			fmt.Fprintln(os.Stderr, "delayproxy:", err)
			os.Exit(1)
		}
	}
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGINT, syscall.SIGTERM)
	<-sig
	for _, ln := range lns {
		ln.Close()
	}
}

// readMap reads "LISTEN UPSTREAM" pairs, one a line.
func readMap(path string) ([][2]string, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var pairs [][2]string
	sc := bufio.NewScanner(f)
	for n := 1; sc.Scan(); n++ {
		line, _, _ := strings.Cut(sc.Text(), "#")
		fields := strings.Fields(line)
		if len(fields) == 0 {
			continue
		}
		if len(fields) != 2 {
			return nil, fmt.Errorf("%s:%d: want \"LISTEN UPSTREAM\", got %q", path, n, sc.Text())
		}
		pairs = append(pairs, [2]string{fields[0], fields[1]})
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	if len(pairs) == 0 {
		return nil, fmt.Errorf("%s: no addresses", path)
	}
	return pairs, nil
}

// Proxy forwards connections to Upstream through a link of round trip RTT
// (see the command's doc for the model).
type Proxy struct {
	RTT      time.Duration
	Upstream string
}

// Serve accepts connections on ln until it is closed.
func (p *Proxy) Serve(ln net.Listener) error {
	for {
		c, err := ln.Accept()
		if err != nil {
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				continue
			}
			return err
		}
		go p.handle(c.(*net.TCPConn))
	}
}

func (p *Proxy) handle(client *net.TCPConn) {
	accepted := time.Now()
	half := p.RTT / 2
	// The client may already be sending: its bytes are queued with their
	// read time while the upstream connection is being set up.
	up := newLink(client, accepted.Add(p.RTT+half))
	go up.read()
	time.Sleep(time.Until(accepted.Add(p.RTT + half)))
	sc, err := net.DialTimeout("tcp", p.Upstream, 10*time.Second)
	if err != nil {
		fmt.Fprintf(os.Stderr, "delayproxy: %s: %v\n", p.Upstream, err)
		// The refusal travels back like anything else (a server that
		// resets right after its accept can fail the dial itself).
		time.Sleep(half)
		reset(client)
		up.abort()
		return
	}
	server := sc.(*net.TCPConn)
	down := newLink(server, time.Time{})
	go down.read()
	var once sync.Once
	kill := func() {
		once.Do(func() {
			reset(client)
			reset(server)
			up.abort()
			down.abort()
		})
	}
	var wg sync.WaitGroup
	wg.Add(2)
	go func() { defer wg.Done(); up.deliver(server, half, kill) }()
	go func() { defer wg.Done(); down.deliver(client, half, kill) }()
	wg.Wait()
	client.Close()
	server.Close()
}

// chunk is what one read returned, with when it was read; eof marks the end
// of the stream, err a reset.
type chunk struct {
	data []byte
	at   time.Time
	eof  bool
	err  error
}

// link is one direction: a reader queuing chunks in order, delivered later.
type link struct {
	from     *net.TCPConn
	notEarly time.Time // nothing is delivered before this (the set-up)
	q        chan chunk
	done     chan struct{}
	stop     sync.Once
}

func newLink(from *net.TCPConn, notEarly time.Time) *link {
	// The queue bounds what is in flight: a full queue stops the reader,
	// as a full window would.
	return &link{from: from, notEarly: notEarly, q: make(chan chunk, 256), done: make(chan struct{})}
}

func (l *link) abort() { l.stop.Do(func() { close(l.done) }) }

func (l *link) read() {
	buf := make([]byte, 32*1024)
	for {
		n, err := l.from.Read(buf)
		at := time.Now()
		if n > 0 {
			c := chunk{data: append([]byte(nil), buf[:n]...), at: at}
			select {
			case l.q <- c:
			case <-l.done:
				return
			}
		}
		if err != nil {
			c := chunk{at: at, eof: errors.Is(err, io.EOF), err: err}
			select {
			case l.q <- c:
			case <-l.done:
			}
			return
		}
	}
}

// deliver writes each chunk to to at its read time plus delay (and not
// before notEarly), in order. An end of stream half-closes to; a reset or a
// failed write calls kill.
func (l *link) deliver(to *net.TCPConn, delay time.Duration, kill func()) {
	for {
		var c chunk
		select {
		case c = <-l.q:
		case <-l.done:
			return
		}
		when := c.at.Add(delay)
		if when.Before(l.notEarly) {
			when = l.notEarly
		}
		if d := time.Until(when); d > 0 {
			t := time.NewTimer(d)
			select {
			case <-t.C:
			case <-l.done:
				t.Stop()
				return
			}
		}
		switch {
		case c.eof:
			_ = to.CloseWrite()
			return
		case c.err != nil:
			// A reset travels without waiting for what is queued behind it
			// (there is nothing), but after what was read before it.
			kill()
			return
		}
		if _, err := to.Write(c.data); err != nil {
			kill()
			return
		}
	}
}

// reset closes c with an RST rather than a FIN.
func reset(c *net.TCPConn) {
	_ = c.SetLinger(0)
	_ = c.Close()
}
