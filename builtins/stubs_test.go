package builtins

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"
)

// readStubs is run by python3 on a directory of stubs: it parses every
// file with ast and prints, per file, its docstring, its functions
// (parameters with their kind and literal default, docstring) and its
// assignments (with the docstring that follows them), as JSON.
const readStubs = `
import ast, json, os, sys
out = {}
d = sys.argv[1]
for name in sorted(os.listdir(d)):
    tree = ast.parse(open(os.path.join(d, name)).read(), name)
    f = {"doc": ast.get_docstring(tree, clean=False), "defs": [], "values": []}
    body = tree.body
    for i, node in enumerate(body):
        if isinstance(node, ast.FunctionDef):
            a = node.args
            params = []
            pos = a.posonlyargs + a.args
            defaults = [None] * (len(pos) - len(a.defaults)) + a.defaults
            for p, dflt in zip(pos, defaults):
                params.append({"name": p.arg, "default": None if dflt is None else ast.literal_eval(dflt), "has_default": dflt is not None})
            if a.vararg:
                params.append({"name": "*" + a.vararg.arg})
            for p, dflt in zip(a.kwonlyargs, a.kw_defaults):
                params.append({"name": p.arg, "default": None if dflt is None else ast.literal_eval(dflt), "has_default": dflt is not None})
            if a.kwarg:
                params.append({"name": "**" + a.kwarg.arg})
            f["defs"].append({"name": node.name, "params": params, "doc": ast.get_docstring(node, clean=False)})
        elif isinstance(node, ast.Assign):
            doc = None
            if i + 1 < len(body) and isinstance(body[i+1], ast.Expr) and isinstance(body[i+1].value, ast.Constant):
                doc = body[i+1].value.value
            f["values"].append({"name": node.targets[0].id, "doc": doc})
    out[name] = f
json.dump(out, sys.stdout)
`

type stubParam struct {
	Name       string `json:"name"`
	Default    any    `json:"default"`
	HasDefault bool   `json:"has_default"`
}

type stubDef struct {
	Name   string      `json:"name"`
	Params []stubParam `json:"params"`
	Doc    string      `json:"doc"`
}

type parsedFile struct {
	Doc    string    `json:"doc"`
	Defs   []stubDef `json:"defs"`
	Values []struct {
		Name string `json:"name"`
		Doc  string `json:"doc"`
	} `json:"values"`
}

// parsedStubs writes the stubs to a directory and reads them back with
// Python's own parser.
func parsedStubs(t *testing.T) map[string]parsedFile {
	t.Helper()
	py, err := exec.LookPath("python3")
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal("python3 is needed to check the stubs (tests/run installs it)")
		}
		t.Skip("no python3 to parse the stubs with")
	}
	dir := t.TempDir()
	for name, text := range Stubs() {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	out, err := exec.Command(py, "-c", readStubs, dir).Output()
	if err != nil {
		if ee, ok := err.(*exec.ExitError); ok {
			t.Fatalf("python3 cannot read the stubs: %v\n%s", err, ee.Stderr)
		}
		t.Fatal(err)
	}
	files := map[string]parsedFile{}
	if err := json.Unmarshal(out, &files); err != nil {
		t.Fatal(err)
	}
	return files
}

// wantParams reads a registration signature's parameters as the stub
// should declare them.
func wantParams(t *testing.T, sig string) []stubParam {
	t.Helper()
	_, params, _ := strings.Cut(strings.TrimSuffix(sig, ")"), "(")
	out := []stubParam{}
	for _, p := range splitParams(params) {
		name, def, hasDef := strings.Cut(p, "=")
		stars := name[:len(name)-len(strings.TrimLeft(name, "*"))]
		sp := stubParam{Name: stars + StubParam(strings.TrimLeft(name, "*")), HasDefault: hasDef}
		if hasDef {
			switch def {
			case "True", "False":
				sp.Default = def == "True"
			case "None":
				sp.Default = nil
			default:
				if s, err := strconv.Unquote(def); err == nil {
					sp.Default = s
				} else if err := json.Unmarshal([]byte(def), &sp.Default); err != nil {
					t.Fatalf("%s: default %s is neither a string, a bool, None nor a number", sig, def)
				}
			}
		}
		out = append(out, sp)
	}
	return out
}

// TestStubsMatchTheRegistrationTable: Python parses every stub file, and
// what it reads is exactly the table: each module a file with its doc,
// each function a def with the registered parameters, defaults and
// contract, each value an assignment with its doc, nothing more.
func TestStubsMatchTheRegistrationTable(t *testing.T) {
	files := parsedStubs(t)
	want := map[string]parsedFile{"__init__.py": {Doc: "kamal-go's predeclared names: the builtins every script (stock, user, REPL) can call."}}
	add := func(file string, b Builtin) {
		f := want[file]
		f.Defs = append(f.Defs, stubDef{Name: b.Name(), Params: wantParams(t, b.Sig), Doc: b.Doc})
		want[file] = f
	}
	for _, g := range globals {
		switch {
		case g.Members != nil:
			want[g.Name()+".py"] = parsedFile{Doc: g.Doc}
			for _, m := range g.Members {
				add(g.Name()+".py", m)
			}
		case g.Fn != nil:
			add("__init__.py", g)
		default:
			f := want["__init__.py"]
			f.Values = append(f.Values, struct {
				Name string `json:"name"`
				Doc  string `json:"doc"`
			}{g.Name(), g.Doc})
			want["__init__.py"] = f
		}
	}
	if len(files) != len(want) {
		t.Errorf("%d stub files, want %d (one per module and __init__.py)", len(files), len(want))
	}
	for name, w := range want {
		got, ok := files[name]
		if !ok {
			t.Errorf("no stub file %s", name)
			continue
		}
		if got.Doc != w.Doc {
			t.Errorf("%s: docstring %q, want %q", name, got.Doc, w.Doc)
		}
		if (len(got.Values) > 0 || len(w.Values) > 0) && !reflect.DeepEqual(got.Values, w.Values) {
			t.Errorf("%s: values\n got %+v\nwant %+v", name, got.Values, w.Values)
		}
		if len(got.Defs) != len(w.Defs) {
			t.Errorf("%s: %d functions, want %d", name, len(got.Defs), len(w.Defs))
		}
		for i := range min(len(got.Defs), len(w.Defs)) {
			if !reflect.DeepEqual(got.Defs[i], w.Defs[i]) {
				t.Errorf("%s: function %d\n got %+v\nwant %+v", name, i, got.Defs[i], w.Defs[i])
			}
		}
	}
}

// TestDocstringKeepsEveryCharacter: quotes, backslashes and a closing
// quote survive the trip through Python's parser.
func TestDocstringKeepsEveryCharacter(t *testing.T) {
	py, err := exec.LookPath("python3")
	if err != nil {
		t.Skip("no python3")
	}
	for _, doc := range []string{`plain`, `ends with "quote"`, `a """ triple`, `back\slash \n`, `"`, `\`} {
		cmd := exec.Command(py, "-c", "import ast,sys; sys.stdout.write(ast.literal_eval(sys.stdin.read()))")
		cmd.Stdin = strings.NewReader(docstring(doc, ""))
		got, err := cmd.Output()
		if err != nil {
			t.Fatalf("%q: %v", doc, err)
		}
		if string(got) != doc {
			t.Errorf("docstring(%q) reads back as %q", doc, got)
		}
	}
}
