package config

import (
	"bytes"
	"errors"
	"io"
	"os"
	"os/exec"
	"strings"
)

// rubyERB renders a whole file with Ruby's own ERB, for the code the Go
// evaluator does not cover. It runs `ruby` from PATH in the app directory
// with the environment commands get, with Kamal 2.12's trim mode "-";
// ERB's binding is the top level, as in Kamal. Kamal has dotenv and
// ActiveSupport loaded when it renders, so they are required when
// installed. Ruby's stderr (and that of the commands the ERB runs) goes to
// stderr; a Ruby exception becomes the Kamal error line of its class.
type rubyERB struct {
	dir    string
	env    func(extra map[string]string) []string
	stderr io.Writer
}

// rubyRenderScript reads the template from file descriptor 3 (standard
// input stays the user's, for the commands the ERB runs) and writes
// "ok\n" and the result, or "error\n", the exception's class, "\n" and
// its message.
const rubyRenderScript = `
require "erb"
require "uri"
require "time"
%w[dotenv active_support active_support/core_ext].each { |lib| begin; require lib; rescue LoadError; end }
src = IO.new(3).read.force_encoding(Encoding::UTF_8)
out = $stdout
begin
  result = ERB.new(src, trim_mode: "-").result
  out.write "ok\n", result
rescue Exception => e
  out.write "error\n", e.class.name, "\n", e.message
end
`

func (r *rubyERB) render(src string, extra map[string]string) (string, error) {
	bin, err := exec.LookPath("ruby")
	if err != nil {
		return "", errNoRuby
	}
	cmd := exec.Command(bin, "-e", rubyRenderScript)
	cmd.Dir = r.dir
	cmd.Env = r.env(extra)
	cmd.Stdin = os.Stdin
	tr, tw, err := os.Pipe()
	if err != nil {
		return "", newError(ClassRuntime, "running ruby to render the ERB: %v", err)
	}
	defer tr.Close()
	cmd.ExtraFiles = []*os.File{tr}
	go func() {
		io.WriteString(tw, src)
		tw.Close()
	}()
	var out bytes.Buffer
	cmd.Stdout = &out
	cmd.Stderr = r.stderr
	if cmd.Stderr == nil {
		cmd.Stderr = os.Stderr
	}
	runErr := cmd.Run()
	status, rest, _ := strings.Cut(out.String(), "\n")
	switch status {
	case "ok":
		return rest, nil
	case "error":
		class, msg, _ := strings.Cut(rest, "\n")
		return "", newError(class, "%s", msg)
	}
	var exit *exec.ExitError
	if errors.As(runErr, &exit) {
		return "", newError(ClassRuntime, "ruby rendering the ERB exited with status %d", exit.ExitCode())
	}
	return "", newError(ClassRuntime, "running ruby to render the ERB: %v", runErr)
}
