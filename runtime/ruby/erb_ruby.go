package ruby

import (
	"errors"
	"io"
	"os"
	"os/exec"
	"strings"

	"github.com/kamal-go/kamal/runtime/kamalerr"
)

// External renders a whole file with Ruby's own ERB, for the code the Go
// evaluator does not cover. It runs `ruby` from PATH in the app directory
// with the environment commands get, with Kamal 2.12's trim mode "-";
// ERB's binding is the top level, as in Kamal. Kamal has uri, time, json,
// dotenv and ActiveSupport loaded when it renders, so they are required
// (the gems when installed). Ruby's stderr (and that of the commands the ERB runs) goes to
// stderr; a Ruby exception becomes the Kamal error line of its class.
type External struct {
	Dir string
	// Env is the process environment for ruby, with extra (what
	// Dotenv.load set) added.
	Env    func(extra map[string]string) []string
	Stderr io.Writer // nil: os.Stderr
}

// rubyRenderScript reads the template from file descriptor 3 and writes
// to descriptor 4 "ok\n" and the result, or "error\n", the exception's
// class, "\n" and its message. Standard input, output and error stay the
// user's, as in Kamal: for the commands the ERB runs, and for a `puts`.
const rubyRenderScript = `
require "erb"
require "uri"
require "time"
require "json"
%w[dotenv active_support active_support/core_ext].each { |lib| begin; require lib; rescue LoadError; end }
tmpl = IO.new(3)
out = IO.new(4, "w")
[tmpl, out].each { |io| io.close_on_exec = true } # not for the ERB's commands
src = tmpl.read.force_encoding(Encoding::UTF_8)
begin
  result = ERB.new(src, trim_mode: "-").result
  out.write "ok\n", result
rescue Exception => e
  out.write "error\n", e.class.name, "\n", e.message
end
`

// Render renders src; it returns ErrNoRuby when there is no ruby on PATH.
func (r *External) Render(src string, extra map[string]string) (string, error) {
	bin, err := exec.LookPath("ruby")
	if err != nil {
		return "", ErrNoRuby
	}
	fail := func(err error) (string, error) {
		return "", newError(kamalerr.ClassRuntime, "running ruby to render the ERB: %v", err)
	}
	tmplR, tmplW, err := os.Pipe()
	if err != nil {
		return fail(err)
	}
	defer tmplR.Close()
	resR, resW, err := os.Pipe()
	if err != nil {
		tmplW.Close()
		return fail(err)
	}
	defer resR.Close()
	cmd := exec.Command(bin, "-e", rubyRenderScript)
	cmd.Dir = r.Dir
	cmd.Env = r.Env(extra)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = os.Stdin, os.Stdout, r.Stderr
	if cmd.Stderr == nil {
		cmd.Stderr = os.Stderr
	}
	cmd.ExtraFiles = []*os.File{tmplR, resW}
	err = cmd.Start()
	resW.Close()
	if err != nil {
		tmplW.Close()
		return fail(err)
	}
	go func() {
		io.WriteString(tmplW, src) // an early exit of ruby ends it with EPIPE
		tmplW.Close()
	}()
	res, readErr := io.ReadAll(resR)
	runErr := cmd.Wait()
	if readErr != nil {
		return fail(readErr)
	}
	status, rest, _ := strings.Cut(string(res), "\n")
	switch status {
	case "ok":
		return rest, nil
	case "error":
		class, msg, _ := strings.Cut(rest, "\n")
		return "", newError(class, "%s", msg)
	}
	var exit *exec.ExitError
	if errors.As(runErr, &exit) {
		return "", newError(kamalerr.ClassRuntime, "ruby rendering the ERB exited with status %d", exit.ExitCode())
	}
	return fail(runErr)
}
