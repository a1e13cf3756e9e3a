package thor

import (
	"errors"
	"strings"
	"testing"
)

// fuzzGrammar is a namespace with every kind of option and command the
// parser knows: class options with and without aliases and defaults, a
// repeatable, a numeric, a required option, arities, a handed-off
// command, and a subcommand namespace.
func fuzzGrammar() *Namespace {
	class := []*Option{
		{Name: "verbose", Aliases: []string{"-v"}, Type: Boolean},
		{Name: "version", Type: String},
		{Name: "hosts", Aliases: []string{"-h"}, Type: String},
		{Name: "config_file", Aliases: []string{"-c"}, Type: String, Default: "config/deploy.yml"},
		{Name: "skip_hooks", Aliases: []string{"-H"}, Type: Boolean, Default: false},
		{Name: "lock_wait_timeout", Type: Numeric, Default: 900.0},
		{Name: "break", Type: String, Repeatable: true},
	}
	sub := &Namespace{Name: "lock", Options: class, Commands: []*Command{
		{Name: "acquire", Options: []*Option{{Name: "message", Aliases: []string{"-m"}, Type: String, Required: true}}},
		{Name: "status"},
		{Name: "fetch", Usage: "fetch [SECRETS...]", MaxArgs: -1},
		{Name: "push", Options: []*Option{{Name: "no_cache", Type: Boolean, Default: false}, {Name: "output", Type: String, Default: "registry"}}},
	}}
	return &Namespace{Options: class, Commands: []*Command{
		{Name: "deploy", HandedOff: true},
		{Name: "rollback", Usage: "rollback [VERSION]", MinArgs: 1, MaxArgs: 1},
		{Name: "version"},
		{Name: "lock", MaxArgs: -1, Sub: func(Values, string) (*Namespace, error) { return sub, nil }},
	}}
}

// FuzzParse parses any command line: it must end in a command or an
// error, never a panic, and an error must be Thor's (one or more lines)
// or Ruby's for bytes that are not UTF-8.
func FuzzParse(f *testing.F) {
	for _, seed := range []string{
		"lock acquire -m hotfix", "lock acquire -mhotfix", "-xyz", "--foo=", "lock push --version --dry-run",
		"lock push -qv staging", "rollback", "help lock", "lock --help", "-- -v", "lock push --output= -H t",
		"lock push --lock-wait-timeout=1.5 --break a --break", "d", "", "lock push -v\n-d", "\xff",
	} {
		f.Add(seed)
	}
	top := fuzzGrammar()
	f.Fuzz(func(t *testing.T, line string) {
		argv := strings.Split(line, " ")
		res, err := Parse(argv, top)
		switch {
		case err != nil:
			var te *Error
			if !errors.As(err, &te) && !errors.As(err, new(InvalidBytesError)) {
				t.Fatalf("Parse(%q): error of type %T: %v", argv, err, err)
			}
			if errors.As(err, &te) && te.Msg == "" {
				t.Fatalf("Parse(%q): empty error", argv)
			}
		case res == nil || len(res.Path) == 0:
			t.Fatalf("Parse(%q) = %+v: no command", argv, res)
		case res.HandedOff && strings.Join(res.Argv, " ") != line:
			t.Fatalf("Parse(%q): handed off %q, not the command line as given", argv, res.Argv)
		}
	})
}
