// Command measure runs a command several times and prints, for each run, its
// wall time, its peak resident memory and its exit status:
//
//	measure [-n RUNS] [-out PREFIX] [-stamp] [-dir DIR] [-timeout DURATION] -- COMMAND [ARG...]
//
// Each run prints one line "wall_ms=12.345 maxrss_kb=9876 self_kb=9000 exit=0
// cpu_ms=3.2 machine_cpu_ms=40". cpu_ms is the user and system CPU time of
// the command and the children it waited for; machine_cpu_ms is the CPU time
// the whole machine was busy during the run (every process: sshd, dockerd...;
// 10 ms resolution).
// maxrss_kb is the kernel's ru_maxrss of the command: the largest of it and
// the children it waited for (a docker client, for kamal build push).
// self_kb is the command's own peak (VmHWM), sampled from /proc every
// millisecond while it runs, so 0 for a command too short to be sampled (then
// maxrss_kb, with no children, is its own peak). Output of run i goes to
// PREFIX.i (default /dev/null); with -stamp each of its lines starts with
// the seconds since the run started ("+  1.234 "), for profiling a run
// step by step from its log (the command writes into a pipe this program
// reads, so its own memory is not touched). A run still going after -timeout (default
// 10m) is killed with its process group and reported with exit=-9. Used by
// tests/bench/run; not a test.
package main

import (
	"bufio"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"time"
)

func main() {
	n := flag.Int("n", 1, "number of runs")
	out := flag.String("out", "", "write run i's stdout and stderr to PREFIX.i")
	dir := flag.String("dir", "", "working directory")
	timeout := flag.Duration("timeout", 10*time.Minute, "kill a run (and its process group) after this long")
	stamp := flag.Bool("stamp", false, "prefix each output line with the seconds since the run started")
	flag.Parse()
	args := flag.Args()
	if len(args) == 0 || *n < 1 {
		fmt.Fprintln(os.Stderr, "usage: measure [-n RUNS] [-out PREFIX] [-dir DIR] -- COMMAND [ARG...]")
		os.Exit(2)
	}
	for i := 1; i <= *n; i++ {
		cmd := exec.Command(args[0], args[1:]...)
		cmd.Dir = *dir
		cmd.Stdin = nil
		cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
		if *out != "" {
			f, err := os.Create(fmt.Sprintf("%s.%d", *out, i))
			if err != nil {
				fmt.Fprintln(os.Stderr, err)
				os.Exit(2)
			}
			cmd.Stdout, cmd.Stderr = f, f
			defer f.Close()
		}
		busy0 := machineBusy()
		start := time.Now()
		var stamped chan struct{}
		if *stamp && cmd.Stdout != nil {
			stamped = stampLines(cmd, start)
		}
		err := cmd.Start()
		if stamped != nil {
			cmd.Stdout.(*os.File).Close() // the child has its own copy
		}
		var self int64
		if err == nil {
			done := make(chan struct{})
			sampled := make(chan int64)
			go func() { sampled <- sample(cmd.Process.Pid, done) }()
			pgid := cmd.Process.Pid
			timer := time.AfterFunc(*timeout, func() { _ = syscall.Kill(-pgid, syscall.SIGKILL) })
			err = cmd.Wait()
			timer.Stop()
			close(done)
			self = <-sampled
		}
		wall := time.Since(start)
		busy := machineBusy() - busy0
		if stamped != nil {
			select { // a process the command left behind may hold the pipe
			case <-stamped:
			case <-time.After(time.Second):
			}
		}
		if cmd.ProcessState == nil {
			fmt.Fprintln(os.Stderr, "measure:", err)
			os.Exit(2)
		}
		var rss int64
		var cpu time.Duration
		if ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage); ok {
			rss = ru.Maxrss
			cpu = time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
		}
		exit := cmd.ProcessState.ExitCode()
		if ws, ok := cmd.ProcessState.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
			exit = -int(ws.Signal())
		}
		fmt.Printf("wall_ms=%.3f maxrss_kb=%d self_kb=%d exit=%d cpu_ms=%.3f machine_cpu_ms=%d\n",
			float64(wall.Microseconds())/1000, rss, self, exit, float64(cpu.Microseconds())/1000, busy)
	}
}

// stampLines makes the command write into a pipe and copies its lines to
// the command's output file, each prefixed with the seconds since start;
// the returned channel closes when the pipe has been read to its end.
func stampLines(cmd *exec.Cmd, start time.Time) chan struct{} {
	out := cmd.Stdout
	pr, pw, err := os.Pipe()
	if err != nil {
		fmt.Fprintln(os.Stderr, "measure:", err)
		os.Exit(2)
	}
	cmd.Stdout, cmd.Stderr = pw, pw
	done := make(chan struct{})
	go func() {
		defer close(done)
		defer pr.Close()
		sc := bufio.NewScanner(pr)
		sc.Buffer(make([]byte, 64<<10), 1<<20)
		for sc.Scan() {
			fmt.Fprintf(out, "+%7.3f %s\n", time.Since(start).Seconds(), sc.Text())
		}
	}()
	return done
}

// machineBusy returns the CPU time, in milliseconds, all CPUs have spent
// not idle since boot (/proc/stat; 0 if unreadable).
func machineBusy() int64 {
	data, err := os.ReadFile("/proc/stat")
	if err != nil {
		return 0
	}
	line, _, _ := strings.Cut(string(data), "\n")
	f := strings.Fields(line) // cpu user nice system idle iowait irq softirq steal ...
	var busy int64
	for i, v := range f[1:] {
		if i == 3 || i == 4 { // idle, iowait
			continue
		}
		if i >= 8 { // guest time is already in user
			break
		}
		n, _ := strconv.ParseInt(v, 10, 64)
		busy += n
	}
	return busy * 10 // USER_HZ is 100 on Linux
}

// sample returns the largest VmHWM of pid seen until done closes.
func sample(pid int, done <-chan struct{}) int64 {
	path := fmt.Sprintf("/proc/%d/status", pid)
	tick := time.NewTicker(time.Millisecond)
	defer tick.Stop()
	var peak int64
	for {
		if data, err := os.ReadFile(path); err == nil {
			for _, line := range strings.Split(string(data), "\n") {
				if v, ok := strings.CutPrefix(line, "VmHWM:"); ok {
					kb, _ := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
					peak = max(peak, kb)
				}
			}
		}
		select {
		case <-done:
			return peak
		case <-tick.C:
		}
	}
}
