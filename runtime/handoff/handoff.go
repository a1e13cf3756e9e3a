// Package handoff finds the app's own Ruby Kamal and runs it in kamal-go's
// place: for the commands kamal-go does not implement (deploy, app, proxy,
// …), with the same arguments, working directory, environment, standard
// streams, exit status and signals.
//
// Find looks in this order: the command line in KAMAL_GO_HANDOFF, the
// app's bin/kamal binstub, `bundle exec kamal` when the app's lock file has
// kamal, a kamal on the PATH that is not this binary. A hand-off marks the
// environment it passes on (Marker): a kamal-go started with the mark is a
// copy of kamal-go standing in for Kamal, and refuses to hand off again
// (a loop through copies of itself otherwise).
//
// Find and Run are safe for concurrent use; Run waits for the program.
package handoff

import (
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"

	"golang.org/x/sys/unix"

	"github.com/kamal-go/kamal/runtime/config"
	"github.com/kamal-go/kamal/runtime/kamalerr"
	"github.com/kamal-go/kamal/runtime/ruby"
)

// Override is the environment variable naming the app's Kamal as a
// command line ("bundle exec kamal", "/opt/kamal/bin/kamal").
const Override = "KAMAL_GO_HANDOFF"

// Marker is set in the environment of the program a hand-off runs; its
// value says where that program was found.
const Marker = "KAMAL_GO_HANDED_OFF"

// Kamal is the app's own Kamal: the words that start it, and where it was
// found (for messages: "bin/kamal", "kamal on the PATH (/usr/bin/kamal)").
type Kamal struct {
	Argv  []string
	Found string
}

// Finder looks for the app's Kamal.
type Finder struct {
	// Dir is the app directory (the working directory Kamal runs in).
	Dir string
	// Getenv reads the environment (os.LookupEnv when nil).
	Getenv func(string) (string, bool)
	// Self is this program's file (os.Executable when empty): a kamal on
	// the PATH that is this file is not the app's Kamal.
	Self string
}

// Find returns the app's Kamal for command (the name the user typed, for
// messages). A kamal-go started by a hand-off gets an error instead: it
// would hand off to itself again. None found is one error of at most
// three lines naming the places looked at and how to get Kamal.
func (f Finder) Find(command string) (*Kamal, error) {
	getenv := f.Getenv
	if getenv == nil {
		getenv = os.LookupEnv
	}
	if from, ok := getenv(Marker); ok {
		return nil, kamalerr.Errorf(kamalerr.ClassRuntime,
			"kamal-go was started as the app's Kamal (found as %s) by a hand-off of %q: it would hand %q off again, to itself; set %s to the app's Ruby Kamal (for example \"bundle exec kamal\")",
			from, command, command, Override)
	}
	self := f.Self
	if self == "" {
		if exe, err := os.Executable(); err == nil {
			self = exe
		}
	}
	if line, ok := getenv(Override); ok && strings.TrimSpace(line) != "" {
		return f.fromOverride(line, self, getenv)
	}
	var looked []string
	binstub := filepath.Join(f.Dir, "bin", "kamal")
	switch {
	case !isExecutable(binstub):
		looked = append(looked, "bin/kamal (none)")
	case sameFile(binstub, self):
		looked = append(looked, "bin/kamal (this kamal-go)")
	default:
		return &Kamal{Argv: []string{binstub}, Found: "bin/kamal"}, nil
	}
	_, lockFile, locked, err := config.LockedKamal(f.Dir, getenv)
	if err != nil {
		return nil, err
	}
	bundle := lookPath("bundle", getenv, "")
	switch {
	case !locked:
		looked = append(looked, lockFile+" (no kamal)")
	case bundle == "":
		looked = append(looked, lockFile+" (has kamal, but no bundle on the PATH)")
	default:
		return &Kamal{Argv: []string{bundle, "exec", "kamal"}, Found: "bundle exec kamal (" + lockFile + " has kamal)"}, nil
	}
	if p := lookPath("kamal", getenv, self); p != "" {
		return &Kamal{Argv: []string{p}, Found: "kamal on the PATH (" + p + ")"}, nil
	}
	looked = append(looked, "kamal on the PATH (none but this kamal-go)")
	return nil, &NotFound{Command: command, Looked: looked}
}

// fromOverride is the Kamal KAMAL_GO_HANDOFF names: its words as a shell
// would split them, the program looked up on the PATH.
func (f Finder) fromOverride(line, self string, getenv func(string) (string, bool)) (*Kamal, error) {
	words, err := ruby.Shellsplit(line)
	if err != nil || len(words) == 0 {
		return nil, kamalerr.Errorf(kamalerr.ClassArgument, "%s=%q: not a command line (%v)", Override, line, err)
	}
	prog := words[0]
	path := prog
	if !strings.Contains(prog, "/") {
		path = lookPath(prog, getenv, "")
	} else if !filepath.IsAbs(prog) {
		path = filepath.Join(f.Dir, prog)
	}
	if path == "" || !isExecutable(path) {
		return nil, kamalerr.Errorf(kamalerr.ClassArgument, "%s=%q: %s is not an executable program", Override, line, prog)
	}
	if sameFile(path, self) {
		return nil, kamalerr.Errorf(kamalerr.ClassArgument, "%s=%q: %s is this kamal-go, not the app's Ruby Kamal", Override, line, prog)
	}
	return &Kamal{Argv: append([]string{path}, words[1:]...), Found: Override + " (" + line + ")"}, nil
}

// NotFound is the error when no Kamal was found.
type NotFound struct {
	Command string
	Looked  []string
}

func (e *NotFound) Error() string {
	return fmt.Sprintf("%q is run by the app's own Kamal, and none was found\n"+
		"looked at: %s=unset, %s\n"+
		"install it with `gem install kamal`, or add `gem \"kamal\"` to the app's Gemfile and run `bundle install`",
		e.Command, Override, strings.Join(e.Looked, ", "))
}

// lookPath finds name in the PATH that getenv gives, skipping the file
// skip (this binary): "" when there is none.
func lookPath(name string, getenv func(string) (string, bool), skip string) string {
	path, _ := getenv("PATH")
	for _, dir := range filepath.SplitList(path) {
		if dir == "" {
			dir = "."
		}
		p := filepath.Join(dir, name)
		if !isExecutable(p) || (skip != "" && sameFile(p, skip)) {
			continue
		}
		if abs, err := filepath.Abs(p); err == nil {
			p = abs
		}
		return p
	}
	return ""
}

func isExecutable(p string) bool {
	fi, err := os.Stat(p)
	return err == nil && fi.Mode().IsRegular() && fi.Mode()&0o111 != 0
}

// sameFile reports whether a and b are one file (after symlinks).
func sameFile(a, b string) bool {
	if a == "" || b == "" {
		return false
	}
	fa, err := os.Stat(a)
	if err != nil {
		return false
	}
	fb, err := os.Stat(b)
	if err != nil {
		return false
	}
	return os.SameFile(fa, fb)
}

// Command returns the process that runs k with args (the command line
// after "kamal") in dir, with env plus the hand-off mark, on the given
// streams. It is in this process's process group, so a Ctrl-C on the
// terminal reaches it as it reaches kamal-go.
func (k *Kamal) Command(dir string, args, env []string, stdin io.Reader, stdout, stderr io.Writer) *exec.Cmd {
	argv := append(append([]string{}, k.Argv...), args...)
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Dir = dir
	cmd.Env = append(append([]string{}, env...), Marker+"="+k.Found)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = stdin, stdout, stderr
	return cmd
}

// ExitStatus is the status a finished (or failed to start) hand-off gives
// kamal-go: the program's own, 128+N when a signal N ended it.
func ExitStatus(err error) (int, error) {
	if err == nil {
		return 0, nil
	}
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		if ws, ok := ee.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
			return 128 + int(ws.Signal()), nil
		}
		return ee.ExitCode(), nil
	}
	return 1, kamalerr.Errorf(kamalerr.ClassRuntime, "the app's Kamal could not start: %v", err)
}

// Run starts cmd and waits for it, passing on every signal from sigs
// (SIGINT, SIGTERM as the caller subscribed them) except one the terminal
// already sent to the whole foreground process group, cmd included: a
// Ctrl-C reaches Kamal once. It returns the status ExitStatus gives.
func Run(cmd *exec.Cmd, sigs <-chan os.Signal) (int, error) {
	if err := cmd.Start(); err != nil {
		return ExitStatus(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	for {
		select {
		case err := <-done:
			return ExitStatus(err)
		case s := <-sigs:
			if !(isTerminalSignal(s) && inForeground(cmd.Stdin, cmd.Stderr)) {
				_ = cmd.Process.Signal(s)
			}
		}
	}
}

// isTerminalSignal: the signals a terminal's keys send.
func isTerminalSignal(s os.Signal) bool {
	return s == syscall.SIGINT || s == syscall.SIGQUIT
}

// inForeground reports whether one of the streams is a terminal whose
// foreground process group is this process's: then the terminal's
// signals reach every process of the group by themselves.
func inForeground(streams ...any) bool {
	for _, s := range streams {
		f, ok := s.(*os.File)
		if !ok {
			continue
		}
		pgrp, err := unix.IoctlGetInt(int(f.Fd()), unix.TIOCGPGRP)
		if err == nil {
			return pgrp == syscall.Getpgrp()
		}
	}
	return false
}
