package main

import (
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"net"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// The assertions are lower bounds (a loaded machine only makes things
// later) and orderings; the only upper bounds are generous hang guards.

const testRTT = 100 * time.Millisecond

// start runs a proxy with testRTT in front of upstream and returns its address.
func start(t *testing.T, upstream string) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go (&Proxy{RTT: testRTT, Upstream: upstream}).Serve(ln)
	return ln.Addr().String()
}

// server listens and hands each accepted connection, with its accept time, to the test.
type accepted struct {
	c  *net.TCPConn
	at time.Time
}

func server(t *testing.T) (string, <-chan accepted) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	ch := make(chan accepted, 4)
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			ch <- accepted{c.(*net.TCPConn), time.Now()}
		}
	}()
	return ln.Addr().String(), ch
}

func waitAccept(t *testing.T, ch <-chan accepted) accepted {
	t.Helper()
	select {
	case a := <-ch:
		t.Cleanup(func() { a.c.Close() })
		return a
	case <-time.After(10 * time.Second):
		t.Fatal("the upstream server never got the connection")
	}
	return accepted{}
}

func dial(t *testing.T, addr string) *net.TCPConn {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c.(*net.TCPConn)
}

func TestSetUpCostsAHandshakeAndTheBannerArrivesTwoRoundTripsAfterConnect(t *testing.T) {
	up, acc := server(t)
	addr := start(t, up)
	t0 := time.Now()
	c := dial(t, addr)
	a := waitAccept(t, acc)
	if d := a.at.Sub(t0); d < testRTT*3/2 {
		t.Errorf("server accepted %v after the connect, want >= 1.5 RTT (%v)", d, testRTT*3/2)
	}
	if _, err := a.c.Write([]byte("SSH-2.0-test\r\n")); err != nil {
		t.Fatal(err)
	}
	c.SetReadDeadline(time.Now().Add(10 * time.Second))
	buf := make([]byte, 64)
	n, err := c.Read(buf)
	if err != nil {
		t.Fatal(err)
	}
	if got := string(buf[:n]); got != "SSH-2.0-test\r\n" {
		t.Errorf("client read %q", got)
	}
	if d := time.Since(t0); d < 2*testRTT {
		t.Errorf("banner arrived %v after the connect, want >= 2 RTT (%v)", d, 2*testRTT)
	}
}

func TestEachWayTakesHalfARoundTripAndAnExchangeAWholeOne(t *testing.T) {
	up, acc := server(t)
	addr := start(t, up)
	c := dial(t, addr)
	// The client speaks first; wait for the server to have it, so the
	// set-up is out of the way.
	if _, err := c.Write([]byte{0}); err != nil {
		t.Fatal(err)
	}
	a := waitAccept(t, acc)
	a.c.SetReadDeadline(time.Now().Add(10 * time.Second))
	if _, err := io.ReadFull(a.c, make([]byte, 1)); err != nil {
		t.Fatal(err)
	}
	go io.Copy(a.c, a.c) // echo
	for i := 0; i < 3; i++ {
		t0 := time.Now()
		if _, err := c.Write([]byte("ping")); err != nil {
			t.Fatal(err)
		}
		c.SetReadDeadline(time.Now().Add(10 * time.Second))
		got := make([]byte, 4)
		if _, err := io.ReadFull(c, got); err != nil {
			t.Fatal(err)
		}
		if d := time.Since(t0); d < testRTT {
			t.Errorf("exchange %d took %v, want >= RTT (%v)", i, d, testRTT)
		}
		if string(got) != "ping" {
			t.Errorf("echo %q", got)
		}
	}
}

func TestChunksArriveInOrderEachNoSoonerThanHalfARoundTripAfterItWasSent(t *testing.T) {
	up, acc := server(t)
	addr := start(t, up)
	c := dial(t, addr)
	const n = 400
	sent := make([]time.Time, n)
	done := make(chan error, 1)
	go func() {
		for i := 0; i < n; i++ {
			var b [4]byte
			binary.BigEndian.PutUint32(b[:], uint32(i))
			sent[i] = time.Now()
			if _, err := c.Write(b[:]); err != nil {
				done <- err
				return
			}
			if i%50 == 0 {
				time.Sleep(5 * time.Millisecond) // several chunks, spread in time
			}
		}
		done <- c.CloseWrite()
	}()
	a := waitAccept(t, acc)
	a.c.SetReadDeadline(time.Now().Add(20 * time.Second))
	var b [4]byte
	for i := 0; i < n; i++ {
		if _, err := io.ReadFull(a.c, b[:]); err != nil {
			t.Fatalf("value %d: %v", i, err)
		}
		at := time.Now()
		if got := binary.BigEndian.Uint32(b[:]); got != uint32(i) {
			t.Fatalf("value %d arrived as number %d: out of order", got, i)
		}
		if d := at.Sub(sent[i]); d < testRTT/2 {
			t.Fatalf("value %d arrived %v after it was sent, want >= RTT/2 (%v)", i, d, testRTT/2)
		}
	}
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	// The half close came after the data, and the other way still works.
	if _, err := a.c.Read(b[:]); !errors.Is(err, io.EOF) {
		t.Fatalf("after the data: %v, want EOF", err)
	}
	if _, err := a.c.Write([]byte("bye")); err != nil {
		t.Fatal(err)
	}
	a.c.Close()
	c.SetReadDeadline(time.Now().Add(10 * time.Second))
	got, err := io.ReadAll(c)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, []byte("bye")) {
		t.Errorf("client got %q after its half close, want %q", got, "bye")
	}
}

func TestAServerResetClosesTheClient(t *testing.T) {
	up, acc := server(t)
	addr := start(t, up)
	c := dial(t, addr)
	a := waitAccept(t, acc)
	t0 := time.Now()
	reset(a.c)
	c.SetReadDeadline(time.Now().Add(10 * time.Second))
	_, err := c.Read(make([]byte, 1))
	var ne net.Error
	if err == nil || (errors.As(err, &ne) && ne.Timeout()) {
		t.Fatalf("client read after the server's reset: %v, want the connection closed", err)
	}
	if d := time.Since(t0); d < testRTT/2 {
		t.Errorf("the reset reached the client after %v, want >= RTT/2 (%v)", d, testRTT/2)
	}
}

func TestAClientResetClosesTheServer(t *testing.T) {
	up, acc := server(t)
	addr := start(t, up)
	c := dial(t, addr)
	a := waitAccept(t, acc)
	reset(c)
	a.c.SetReadDeadline(time.Now().Add(10 * time.Second))
	_, err := a.c.Read(make([]byte, 1))
	var ne net.Error
	if err == nil || (errors.As(err, &ne) && ne.Timeout()) {
		t.Fatalf("server read after the client's reset: %v, want the connection closed", err)
	}
}

func TestAnUpstreamThatRefusesResetsTheClient(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	dead := ln.Addr().String()
	ln.Close() // nothing listens there now
	c := dial(t, start(t, dead))
	c.SetReadDeadline(time.Now().Add(10 * time.Second))
	_, err = c.Read(make([]byte, 1))
	var ne net.Error
	if err == nil || (errors.As(err, &ne) && ne.Timeout()) {
		t.Fatalf("client read with a refusing upstream: %v, want the connection closed", err)
	}
}

func TestReadMap(t *testing.T) {
	dir := t.TempDir()
	for _, tc := range []struct {
		name, text string
		want       int
		ok         bool
	}{
		{"pairs and comments", "# x\n127.0.1.1:3022 127.0.1.1:22\n\n127.0.1.2:3022 127.0.1.2:22 # y\n", 2, true},
		{"a line with one address", "127.0.1.1:3022\n", 0, false},
		{"nothing", "# only a comment\n", 0, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := filepath.Join(dir, "map")
			if err := os.WriteFile(f, []byte(tc.text), 0o644); err != nil {
				t.Fatal(err)
			}
			pairs, err := readMap(f)
			if (err == nil) != tc.ok || len(pairs) != tc.want {
				t.Errorf("readMap = %v, %v; want %d pairs, ok %v", pairs, err, tc.want, tc.ok)
			}
		})
	}
}
