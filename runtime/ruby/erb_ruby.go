package ruby

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"os"
	"os/exec"
	"strconv"
	"strings"

	"github.com/kamal-go/kamal/runtime/executor"
	"github.com/kamal-go/kamal/runtime/kamalerr"
	"github.com/kamal-go/kamal/runtime/shell"
)

// External renders a whole file with Ruby's own ERB, for the code the Go
// evaluator does not cover. It runs `ruby` from PATH in the app directory
// with the environment commands get, with Kamal 2.12's trim mode "-";
// ERB's binding is the top level, as in Kamal. Kamal has uri, time, json,
// dotenv and ActiveSupport loaded when it renders, so they are required
// (the gems when installed). Ruby's stderr (and that of the commands the ERB runs) goes to
// stderr; a Ruby exception becomes the Kamal error line of its class.
type External struct {
	// Context cuts ruby off (its whole process group) at an interrupt;
	// nil: never.
	Context context.Context
	Dir     string
	// Env is the process environment for ruby, with extra (what
	// Dotenv.load set) added.
	Env    func(extra map[string]string) []string
	Stderr io.Writer // nil: os.Stderr
	// OnFailedEnvReads, when set, gets the values the ERB read from ENV
	// when it raised: Ruby's message may quote one (the caller scrubs
	// them as secrets).
	OnFailedEnvReads func(values ...string)
}

// rubyRenderScript reads the template from file descriptor 3 and writes
// to descriptor 4 "ok\n" and the result, or "error\n" and a JSON object
// with the exception's class, its message and the values ENV[] and
// ENV.fetch returned. Standard input, output and error stay the
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
$kamal_env_reads = []
class << ENV
  %i[[] fetch].each do |m|
    orig = instance_method(m)
    define_method(m) { |*a, &b| v = orig.bind(self).call(*a, &b); $kamal_env_reads << v if v.is_a?(String); v }
  end
end
begin
  result = ERB.new(src, trim_mode: "-").result
  out.write "ok\n", result
rescue SystemExit => e
  out.write "exit\n", e.status.to_s
rescue Exception => e
  out.write "error\n", JSON.generate("class" => e.class.name, "message" => e.message.to_s.scrub, "env" => $kamal_env_reads.map(&:scrub))
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
	ctx := r.Context
	if ctx == nil {
		ctx = context.Background()
	}
	stderr := r.Stderr
	if stderr == nil {
		stderr = os.Stderr
	}
	go func() {
		io.WriteString(tmplW, src) // an early exit of ruby ends it with EPIPE
		tmplW.Close()
	}()
	type result struct {
		res []byte
		err error
	}
	read := make(chan result, 1)
	go func() {
		b, err := io.ReadAll(resR)
		read <- result{b, err}
	}()
	// The one local command runner: ruby gets its own process group,
	// ended when ctx is (an interrupt while the config loads).
	code, runErr := (&executor.Local{Grace: executor.LoadGrace}).Run(ctx, "", executor.Request{
		Script: shell.Quote(bin) + " -e " + shell.Quote(rubyRenderScript),
		Env:    r.Env(extra), WholeEnv: true, Dir: r.Dir,
		Stdin: os.Stdin, Stdout: os.Stdout, Stderr: stderr,
		ExtraFiles: []*os.File{tmplR, resW},
		Terminal:   executor.ForegroundTerminal(os.Stdin),
	})
	if errors.Is(runErr, executor.ErrTerminalInterrupt) {
		executor.InterruptSelf(ctx)
	}
	resW.Close()
	got := <-read
	if ctx.Err() != nil {
		return "", ErrInterrupted
	}
	if runErr != nil {
		return fail(runErr)
	}
	if got.err != nil {
		return fail(got.err)
	}
	res := got.res
	status, rest, _ := strings.Cut(string(res), "\n")
	switch status {
	case "ok":
		return rest, nil
	case "error":
		var e struct {
			Class, Message string
			Env            []string
		}
		if err := json.Unmarshal([]byte(rest), &e); err != nil {
			return fail(err)
		}
		if r.OnFailedEnvReads != nil {
			r.OnFailedEnvReads(e.Env...)
		}
		return "", newError(e.Class, "%s", e.Message)
	case "exit":
		// exit/abort in the ERB: Kamal's rescue => e does not catch
		// SystemExit, so Ruby exits with its status, printing nothing.
		n, _ := strconv.Atoi(strings.TrimSpace(rest))
		return "", &kamalerr.Exit{Status: n}
	}
	return "", newError(kamalerr.ClassRuntime, "ruby rendering the ERB exited with status %d", code)
}

// ErrInterrupted is returned when the run was interrupted while ruby
// rendered the ERB.
var ErrInterrupted = errors.New("interrupted while ruby rendered the ERB")
