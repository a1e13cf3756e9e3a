// Package secrets is `kamal secrets`: fetching secrets from a password
// manager through its own CLI, as Kamal 2.12's adapters do (the same
// vendor commands, arguments, sign-in checks and errors), extracting one
// from the JSON a fetch prints, and Ruby's shellescape that wraps it.
//
// Vendor CLIs are run through a Runner, so that tests can check every
// argument list without the vendor's program.
package secrets

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"

	"github.com/kamal-go/kamal/runtime/kamalerr"
)

// Call is one run of a vendor CLI. As with Ruby's backticks, its standard
// input and error are the user's (sign-in prompts appear there) and its
// standard output is captured.
type Call struct {
	Argv []string
	// Env is added to the process environment (KEY=VALUE): session
	// tokens travel there, never in Argv.
	Env []string
	// QuietStderr discards standard error (Kamal's `2> /dev/null`).
	QuietStderr bool
}

func (c Call) String() string {
	return strings.Join(append(append([]string(nil), c.Env...), c.Argv...), " ")
}

// Runner runs c and returns its standard output and whether it exited
// 0. A program that cannot be found or started is not ok, with no error:
// the adapters' dependency checks turn that into "... CLI is not
// installed". err is for the context ending.
type Runner func(ctx context.Context, c Call) (stdout string, ok bool, err error)

// ExecRunner runs calls as processes with stdin and stderr as given.
func ExecRunner(stdin io.Reader, stderr io.Writer) Runner {
	return func(ctx context.Context, c Call) (string, bool, error) {
		cmd := exec.CommandContext(ctx, c.Argv[0], c.Argv[1:]...)
		cmd.Env = append(os.Environ(), c.Env...)
		cmd.Stdin = stdin
		if !c.QuietStderr {
			cmd.Stderr = stderr
		}
		var out bytes.Buffer
		cmd.Stdout = &out
		err := cmd.Run()
		if ctx.Err() != nil {
			return "", false, ctx.Err()
		}
		var ee *exec.ExitError
		if err != nil && !errors.As(err, &ee) {
			return "", false, nil // not found, not executable: as a shell's 127
		}
		return out.String(), err == nil, nil
	}
}

// Error is an error Kamal raises with its Ruby class (RuntimeError,
// ArgumentError, JSON::ParserError).
type Error struct{ class, msg string }

func (e *Error) Error() string { return e.msg }

// Class is the Ruby class Kamal names in its error line.
func (e *Error) Class() string { return e.class }

func runtimeErrorf(format string, args ...any) error {
	return &Error{kamalerr.ClassRuntime, fmt.Sprintf(format, args...)}
}

// Results are fetched secrets in the order the vendor gave them, as a
// Ruby hash keeps them. Values are JSON values (almost always strings).
type Results struct {
	keys []string
	vals map[string]any
}

// Set sets key, keeping its first position.
func (r *Results) Set(key string, v any) {
	if r.vals == nil {
		r.vals = map[string]any{}
	}
	if _, ok := r.vals[key]; !ok {
		r.keys = append(r.keys, key)
	}
	r.vals[key] = v
}

// Keys returns the keys in order.
func (r *Results) Keys() []string { return append([]string(nil), r.keys...) }

// Get returns the value of key.
func (r *Results) Get(key string) (any, bool) { v, ok := r.vals[key]; return v, ok }

// Strings returns every value that is a string (for redaction).
func (r *Results) Strings() []string {
	var out []string
	for _, k := range r.keys {
		if s, ok := r.vals[k].(string); ok && s != "" {
			out = append(out, s)
		}
	}
	return out
}

// MarshalJSON writes the object in key order, as Ruby's JSON.dump does
// (no HTML escaping).
func (r *Results) MarshalJSON() ([]byte, error) {
	var b bytes.Buffer
	b.WriteByte('{')
	for i, k := range r.keys {
		if i > 0 {
			b.WriteByte(',')
		}
		b.Write(dump(k))
		b.WriteByte(':')
		b.Write(dump(r.vals[k]))
	}
	b.WriteByte('}')
	return b.Bytes(), nil
}

func dump(v any) []byte {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	enc.Encode(v)
	return bytes.TrimRight(b.Bytes(), "\n")
}

// parseJSON decodes s keeping numbers as written.
func parseJSON(s string, v any) error {
	d := json.NewDecoder(strings.NewReader(s))
	d.UseNumber()
	if err := d.Decode(v); err != nil {
		return parserError(s)
	}
	if d.More() {
		return parserError(s)
	}
	return nil
}

// parserError is Ruby's JSON::ParserError for source s.
func parserError(s string) error {
	if strings.TrimSpace(s) == "" {
		return &Error{kamalerr.ClassJSONParser, "unexpected end of input"}
	}
	return &Error{kamalerr.ClassJSONParser, fmt.Sprintf("unexpected token at '%s'", strings.TrimSpace(s))}
}

// Fetch fetches secrets with the named adapter, as `kamal secrets fetch
// --adapter NAME [--account A] [--from F] SECRETS...` does: the account
// check, the vendor CLI's presence, sign-in, then the secrets.
func Fetch(ctx context.Context, run Runner, adapterName string, secrets []string, account, from string) (*Results, error) {
	a, err := Lookup(adapterName)
	if err != nil {
		return nil, err
	}
	if a.requiresAccount() && account == "" {
		return nil, runtimeErrorf("Missing required option '--account'")
	}
	v := &vendor{ctx: ctx, run: run}
	if err := a.checkInstalled(v); err != nil {
		return nil, err
	}
	session, err := a.login(v, account)
	if err != nil {
		return nil, err
	}
	return a.fetch(v, secrets, from, account, session)
}

// RequiresAccount reports whether the named adapter needs --account.
func RequiresAccount(adapterName string) (bool, error) {
	a, err := Lookup(adapterName)
	if err != nil {
		return false, err
	}
	return a.requiresAccount(), nil
}

// adapter is one password manager, as Kamal's Kamal::Secrets::Adapters::*.
type adapter interface {
	requiresAccount() bool
	checkInstalled(v *vendor) error
	// login signs in if needed and returns the session (Env entries for
	// later calls; nil for none).
	login(v *vendor, account string) ([]string, error)
	fetch(v *vendor, secrets []string, from, account string, session []string) (*Results, error)
}

// Lookup returns the adapter named name, with Kamal's aliases (1password,
// lastpass, gcp, bitwarden-sm). An unknown name is Kamal's
// "Unknown secrets adapter: NAME".
func Lookup(name string) (adapter, error) {
	switch strings.ToLower(name) {
	case "1password":
		name = "one_password"
	case "lastpass":
		name = "last_pass"
	case "gcp":
		name = "gcp_secret_manager"
	case "bitwarden-sm":
		name = "bitwarden_secrets_manager"
	}
	// Ruby's camelize then const_get: the snake_case name, any case of
	// its first letter.
	switch strings.ToLower(name[:min(1, len(name))]) + name[min(1, len(name)):] {
	case "one_password":
		return onePassword{}, nil
	case "bitwarden":
		return bitwarden{}, nil
	case "bitwarden_secrets_manager":
		return bitwardenSM{}, nil
	case "aws_secrets_manager":
		return awsSecretsManager{}, nil
	case "gcp_secret_manager":
		return gcpSecretManager{}, nil
	case "last_pass":
		return lastPass{}, nil
	case "doppler":
		return doppler{}, nil
	case "passbolt":
		return passbolt{}, nil
	case "enpass":
		return enpass{}, nil
	}
	return nil, runtimeErrorf("Unknown secrets adapter: %s", name)
}

// vendor runs one fetch's vendor calls; the first context error stops
// everything.
type vendor struct {
	ctx context.Context
	run Runner
}

func (v *vendor) call(c Call) (string, bool, error) {
	return v.run(v.ctx, c)
}

// installed runs `NAME ARGS... 2> /dev/null` and reports success.
func (v *vendor) installed(argv ...string) (bool, error) {
	_, ok, err := v.call(Call{Argv: argv, QuietStderr: true})
	return ok, err
}

// prefixed is Kamal's prefixed_secrets: FROM/SECRET for each secret.
func prefixed(secrets []string, from string) []string {
	if from == "" {
		return secrets
	}
	out := make([]string, len(secrets))
	for i, s := range secrets {
		out[i] = from + "/" + s
	}
	return out
}

// Extract is `kamal secrets extract NAME SECRETS`: the value of NAME in
// the JSON object secrets, else of the first key ending in /NAME.
func Extract(name, secrets string) (string, error) {
	var obj map[string]any
	var order []string
	if err := parseObject(secrets, &obj, &order); err != nil {
		return "", err
	}
	if v, ok := obj[name]; ok && v != nil {
		return rubyPuts(v), nil
	}
	for _, k := range order {
		if strings.HasSuffix(k, "/"+name) {
			if v := obj[k]; v != nil {
				return rubyPuts(v), nil
			}
		}
	}
	return "", runtimeErrorf("Could not find secret %s", name)
}

// parseObject decodes a JSON object, recording its keys in order.
func parseObject(s string, obj *map[string]any, order *[]string) error {
	var raw any
	if err := parseJSON(s, &raw); err != nil {
		return err
	}
	m, ok := raw.(map[string]any)
	if !ok {
		// Kamal indexes the parsed value by name: an array or a string
		// fails there.
		return &Error{kamalerr.ClassType, "no implicit conversion of String into Integer"}
	}
	*obj = m
	d := json.NewDecoder(strings.NewReader(s))
	d.Token() // {
	for d.More() {
		t, err := d.Token()
		if err != nil {
			break
		}
		*order = append(*order, t.(string))
		var skip json.RawMessage
		if d.Decode(&skip) != nil {
			break
		}
	}
	return nil
}

// rubyPuts is the text Ruby's puts prints for a parsed JSON value
// (without the newline).
func rubyPuts(v any) string {
	switch v := v.(type) {
	case string:
		return v
	case json.Number:
		return v.String()
	case bool:
		return fmt.Sprint(v)
	}
	return string(dump(v))
}
