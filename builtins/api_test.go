package builtins

import (
	"os"
	"strings"
	"testing"

	"go.starlark.net/starlarkstruct"
)

// documented returns the names API covers: the part of each signature
// before "(".
func documented() map[string]bool {
	m := map[string]bool{}
	for _, d := range API {
		name, _, _ := strings.Cut(d.Signature, "(")
		m[name] = true
	}
	return m
}

func TestEveryBuiltinIsDocumented(t *testing.T) {
	docs := documented()
	pre := Predeclared(&Env{})
	pre["steps"] = nil // added by the runtime
	for name, v := range pre {
		if mod, ok := v.(*starlarkstruct.Module); ok {
			for member := range mod.Members {
				if !docs[name+"."+member] {
					t.Errorf("%s.%s has no entry in API", name, member)
				}
			}
			continue
		}
		if !docs[name] {
			t.Errorf("%s has no entry in API", name)
		}
	}
	for name := range docs {
		base, member, dotted := strings.Cut(name, ".")
		v, ok := pre[base]
		if !ok {
			t.Errorf("API documents %s, which does not exist", name)
			continue
		}
		if dotted {
			if mod, ok := v.(*starlarkstruct.Module); !ok || mod.Members[member] == nil {
				t.Errorf("API documents %s, which does not exist", name)
			}
		}
	}
}

func TestDocsMatchTheAPICommand(t *testing.T) {
	b, err := os.ReadFile("../docs/builtins.md")
	if err != nil {
		t.Fatal(err)
	}
	if string(b) != Reference() {
		if os.Getenv("UPDATE_DOCS") != "" {
			os.WriteFile("../docs/builtins.md", []byte(Reference()), 0o644)
			return
		}
		t.Fatal("docs/builtins.md differs from `kamal build api`; regenerate with UPDATE_DOCS=1 go test ./builtins -run TestDocsMatch")
	}
}
