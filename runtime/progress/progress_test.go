package progress

import (
	"strings"
	"testing"
	"time"

	"github.com/kamal-go/kamal/internal/testenv"

	"github.com/kamal-go/kamal/runtime/log"
)

// syncBuffer is the output of a run read while it runs.
type syncBuffer = testenv.SyncBuffer

func TestAStepOnFewHostsShowsNoLine(t *testing.T) {
	var out syncBuffer
	l := New(&out)
	end := l.Begin("pull_on_host", MinHosts)
	if l.Active() {
		t.Error("a step on 10 hosts is shown")
	}
	end()
	if out.String() != "" {
		t.Errorf("wrote %q", out.String())
	}
}

func TestTheLineCountsHostsAndIsClearedAtTheEnd(t *testing.T) {
	var out syncBuffer
	l := New(&out)
	clock := time.Unix(0, 0)
	l.now = func() time.Time { return clock }
	end := l.Begin("pull_on_host", 12)
	for i := 0; i < 5; i++ {
		l.HostStarted()
	}
	l.HostFinished(false)
	l.HostFinished(true)
	clock = clock.Add(1500 * time.Millisecond)
	if got, want := l.Text(), "pull_on_host: 1/12 done, 1 failed, 3 running, 1.5s"; got != want {
		t.Errorf("text %q, want %q", got, want)
	}
	end()
	s := out.String()
	if !strings.HasPrefix(s, "\r\x1b[2Kpull_on_host: 0/12 done") || !strings.HasSuffix(s, "\r\x1b[2K") {
		t.Errorf("output %q does not draw the line first and clear it last", s)
	}
	if l.Active() {
		t.Error("still active after end")
	}
}

func TestTheLogPrintsOnlyErrorsAboveTheLine(t *testing.T) {
	var out syncBuffer
	l := New(&out)
	lg := log.New(&out, false)
	lg.SetLive(l)
	lg.Infof("before")
	end := l.Begin("step", 11)
	lg.Infof("Running docker pull on server7")
	lg.Errorf("boom on server3")
	end()
	lg.Infof("after")
	s := out.String()
	if strings.Contains(s, "docker pull") {
		t.Errorf("an INFO line of the step was printed: %q", s)
	}
	if !strings.Contains(s, "\r\x1b[2K ERROR boom on server3\n\r\x1b[2Kstep: ") {
		t.Errorf("the error is not printed above a redrawn line: %q", s)
	}
	if !strings.HasPrefix(s, "  INFO before\n") || !strings.HasSuffix(s, "\r\x1b[2K  INFO after\n") {
		t.Errorf("lines outside the step: %q", s)
	}
}

func TestRedrawsAreAtMostTenASecond(t *testing.T) {
	var out syncBuffer
	l := New(&out)
	end := l.Begin("step", 20)
	time.Sleep(550 * time.Millisecond)
	end()
	if n := strings.Count(out.String(), "step: "); n > 7 || n < 2 {
		t.Errorf("%d draws in 0.55s, want 2 to 7", n)
	}
}

func TestANilLineDoesNothing(t *testing.T) {
	var l *Line
	l.Begin("x", 100)()
	l.HostStarted()
	l.HostFinished(true)
	l.Close()
	ran := false
	l.Above(func() { ran = true })
	if !ran || l.Active() {
		t.Error("a nil line must write through and never be active")
	}
}
