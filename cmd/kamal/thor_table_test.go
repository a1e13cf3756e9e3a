package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"reflect"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/kamal-go/kamal/cmd/kamal/internal/thor"
	"github.com/kamal-go/kamal/runtime/interp"
	"github.com/kamal-go/kamal/runtime/log"
	"github.com/kamal-go/kamal/runtime/runstate"
)

// thorRow is one line of testdata/thor.jsonl (tests/thor/table): what
// Kamal 2.12's Thor made of a command line.
type thorRow struct {
	Argv   []string `json:"argv"`
	Result *struct {
		Command string          `json:"command"`
		Options json.RawMessage `json:"options"`
		Args    []string        `json:"args"`
	} `json:"result"`
	Help *struct {
		Namespace string   `json:"namespace"`
		Args      []string `json:"args"`
	} `json:"help"`
	Out    string `json:"out"`
	Err    string `json:"err"`
	Status int    `json:"status"`
}

var byteEscape = regexp.MustCompile(`\\x([0-9a-fA-F]{2})`)

// unescapeWord turns the table's \xHH back into the byte.
func unescapeWord(w string) string {
	return byteEscape.ReplaceAllStringFunc(w, func(m string) string {
		b, _ := strconv.ParseUint(m[2:], 16, 8)
		return string([]byte{byte(b)})
	})
}

// stockBuildCommands are the stock script's subcommands, loaded as kamal
// build loads them (no config, no user script).
func stockBuildCommands(t testing.TB) func(thor.Values, string) ([]buildCommand, error) {
	dir := t.TempDir()
	in := interp.New(&runstate.State{Dir: dir, Log: log.New(&bytes.Buffer{}, false)})
	if err := in.LoadStock(context.Background()); err != nil {
		t.Fatal(err)
	}
	var cmds []buildCommand
	for _, kc := range in.Commands() {
		cmds = append(cmds, toBuildCommand(kc))
	}
	cmds = append(cmds, ownBuildCommands(in.Has)...)
	return func(thor.Values, string) ([]buildCommand, error) { return cmds, nil }
}

func readThorTable(t *testing.T, path string) []thorRow {
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var rows []thorRow
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		var r thorRow
		if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		rows = append(rows, r)
	}
	return rows
}

func normalizeJSON(t *testing.T, v any) any {
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	var out any
	if err := json.Unmarshal(b, &out); err != nil {
		t.Fatal(err)
	}
	return out
}

// TestParserAnswersAsThor parses every command line of the Thor table and
// compares the command, options and arguments, or the error lines, with
// what Thor printed for Kamal 2.12's declarations. A command kamal-go
// hands off is compared by name only: the app's Kamal parses the rest.
func TestParserAnswersAsThor(t *testing.T) {
	rows := readThorTable(t, "testdata/thor.jsonl")
	if len(rows) < 200 {
		t.Fatalf("only %d rows in testdata/thor.jsonl", len(rows))
	}
	top := grammar(stockBuildCommands(t))
	for _, row := range rows {
		argv := make([]string, len(row.Argv))
		for i, w := range row.Argv {
			argv[i] = unescapeWord(w)
		}
		t.Run(strings.Join(row.Argv, " "), func(t *testing.T) {
			res, err := thor.Parse(argv, top)
			if err == nil && res.HandedOff {
				if row.Result != nil && row.Result.Command != res.Path[0] {
					t.Fatalf("handed off %q, Thor ran %q", res.Path[0], row.Result.Command)
				}
				// (The skeleton's handed-off namespaces are empty: Thor
				// shows their help.)
				if row.Help != nil && row.Help.Namespace != res.Path[0] || row.Out != "" {
					t.Fatalf("handed off %q, Thor printed help or %q", res.Path[0], row.Out)
				}
				return
			}
			switch {
			case row.Result != nil:
				if err != nil {
					t.Fatalf("error %v, Thor ran %s", err, row.Result.Command)
				}
				if got := strings.Join(res.Path, " "); got != row.Result.Command {
					t.Errorf("command %q, Thor ran %q", got, row.Result.Command)
				}
				var want any
				if err := json.Unmarshal(row.Result.Options, &want); err != nil {
					t.Fatal(err)
				}
				if got := normalizeJSON(t, res.Options); !reflect.DeepEqual(got, want) {
					t.Errorf("options\n got %v\nwant %v", got, want)
				}
				if !reflect.DeepEqual(normalizeJSON(t, res.Args), normalizeJSON(t, row.Result.Args)) {
					t.Errorf("args %q, Thor %q", res.Args, row.Result.Args)
				}
			case row.Help != nil:
				if err != nil && row.Err == "" {
					t.Fatalf("error %v, Thor printed help", err)
				}
				if err != nil {
					checkThorError(t, err, row.Err)
					return
				}
				ns := strings.Join(res.Path[:len(res.Path)-1], " ")
				if res.Path[len(res.Path)-1] != "help" || ns != row.Help.Namespace {
					t.Fatalf("ran %q, Thor printed the help of %q", res.Path, row.Help.Namespace)
				}
				// The skeleton records help's first argument (the command
				// it describes).
				if !reflect.DeepEqual(normalizeJSON(t, res.Args[:min(len(res.Args), 1)]), normalizeJSON(t, row.Help.Args)) {
					t.Errorf("help args %q, Thor %q", res.Args, row.Help.Args)
				}
			case row.Err != "":
				checkThorError(t, err, row.Err)
			case strings.Contains(row.Out, "ERROR (ArgumentError): invalid byte sequence in UTF-8"):
				if !errors.As(err, new(thor.InvalidBytesError)) {
					t.Fatalf("error %v, Ruby raised ArgumentError for the bytes", err)
				}
			default:
				t.Fatalf("unexpected row %+v", row)
			}
		})
	}
}

func checkThorError(t *testing.T, err error, want string) {
	t.Helper()
	var te *thor.Error
	if !errors.As(err, &te) {
		t.Fatalf("error %v, Thor printed %q", err, want)
	}
	if te.Msg+"\n" != want {
		t.Errorf("error\n got %q\nwant %q", te.Msg+"\n", want)
	}
}

// TestThorTableIsCurrent regenerates the table with Ruby's Thor when the
// machine has it (Debian: ruby-thor) and compares it with the committed
// one, so a change to the skeleton or the cases cannot go unnoticed.
func TestThorTableIsCurrent(t *testing.T) {
	if exec.Command("ruby", "-e", `require "thor"`).Run() != nil {
		t.Skip("no ruby with thor here (apt-get install ruby-thor); the committed table is used as is")
	}
	cmd := exec.Command("ruby", "../../tests/thor/skeleton.rb", "../../tests/thor/cases")
	cmd.Env = append(os.Environ(), "THOR_COLUMNS=200")
	got, err := cmd.Output()
	if err != nil {
		t.Fatal(err)
	}
	want, err := os.ReadFile("testdata/thor.jsonl")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Error("testdata/thor.jsonl is not what tests/thor/skeleton.rb makes of tests/thor/cases: run tests/thor/table")
	}
}
