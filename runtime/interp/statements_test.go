package interp

import (
	"testing"

	"go.starlark.net/starlark"
)

func TestMarkStatements(t *testing.T) {
	const src = `def f(n):
    """Doc of f."""
    total = 0
    for i in range(n):
        if i % 2:
            total += i
        elif i == 2:
            pass
        else:
            total -= 1
    a = 1; b = 2
    return total + a + b

result = f(5)
`
	f, err := fileOptions.Parse("m.star", src, 0)
	if err != nil {
		t.Fatal(err)
	}
	starts := markStatements(f)
	predeclared := starlark.StringDict{stmtMark: starlark.None}
	prog, err := starlark.FileProgram(f, predeclared.Has)
	if err != nil {
		t.Fatal(err)
	}
	g, err := prog.Init(&starlark.Thread{}, predeclared)
	if err != nil {
		t.Fatal(err)
	}

	t.Run("the program computes what it did unmarked", func(t *testing.T) {
		want, err := starlark.ExecFileOptions(fileOptions, &starlark.Thread{}, "m.star", src, nil)
		if err != nil {
			t.Fatal(err)
		}
		if g["result"].String() != want["result"].String() {
			t.Errorf("result = %s, want %s", g["result"], want["result"])
		}
	})
	t.Run("a function's docstring stays its doc", func(t *testing.T) {
		if doc := g["f"].(*starlark.Function).Doc(); doc != "Doc of f." {
			t.Errorf("doc = %q", doc)
		}
	})
	t.Run("every statement's first token is recorded, and nothing else", func(t *testing.T) {
		want := [][2]int32{{1, 1}, {3, 5}, {4, 5}, {5, 9}, {6, 13}, {7, 9}, {8, 13}, {10, 13}, {11, 5}, {11, 12}, {12, 5}, {14, 1}}
		for _, p := range want {
			if !starts[p] {
				t.Errorf("no start recorded at line %d col %d", p[0], p[1])
			}
		}
		if len(starts) != len(want) {
			t.Errorf("%d starts recorded, want %d: %v", len(starts), len(want), starts)
		}
	})
}
