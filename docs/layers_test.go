// Package docs holds the test that keeps the layer table of
// architecture.md true.
package docs

import (
	"bufio"
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

const module = "github.com/kamal-go/kamal"

// layerRow is a row of architecture.md's layer table: "| 3 | `a` `b` | job |".
var layerRow = regexp.MustCompile("^\\|\\s*(\\d+)\\s*\\|([^|]*)\\|")

var backticked = regexp.MustCompile("`([^`]+)`")

// readLayers returns the layer of each package (or "prefix/..." pattern)
// the table names.
func readLayers(t *testing.T) map[string]int {
	t.Helper()
	f, err := os.Open("architecture.md")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	layers := map[string]int{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		m := layerRow.FindStringSubmatch(sc.Text())
		if m == nil {
			continue
		}
		n, _ := strconv.Atoi(m[1])
		for _, p := range backticked.FindAllStringSubmatch(m[2], -1) {
			if _, dup := layers[p[1]]; dup {
				t.Errorf("architecture.md puts %s in two layers", p[1])
			}
			layers[p[1]] = n
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	if len(layers) == 0 {
		t.Fatal("architecture.md has no layer table")
	}
	return layers
}

// layerOf finds pkg's layer: its own row, else a "prefix/..." row.
func layerOf(layers map[string]int, pkg string) (int, bool) {
	if n, ok := layers[pkg]; ok {
		return n, true
	}
	for p, n := range layers {
		if prefix, ok := strings.CutSuffix(p, "/..."); ok && (pkg == prefix || strings.HasPrefix(pkg, prefix+"/")) {
			return n, true
		}
	}
	return 0, false
}

// imports returns, for every directory of the module with non-test Go
// files, the module's packages those files import.
func imports(t *testing.T, root string) map[string]map[string]bool {
	t.Helper()
	out := map[string]map[string]bool{}
	fset := token.NewFileSet()
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		name := d.Name()
		if d.IsDir() {
			if path != root && (strings.HasPrefix(name, ".") || strings.HasPrefix(name, "_") || name == "testdata" || name == "vendor") {
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(name, ".go") || strings.HasSuffix(name, "_test.go") {
			return nil
		}
		f, err := parser.ParseFile(fset, path, nil, parser.ImportsOnly)
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(root, filepath.Dir(path))
		if err != nil {
			return err
		}
		pkg := filepath.ToSlash(rel)
		if out[pkg] == nil {
			out[pkg] = map[string]bool{}
		}
		for _, imp := range f.Imports {
			p, _ := strconv.Unquote(imp.Path.Value)
			if own, ok := strings.CutPrefix(p, module+"/"); ok {
				out[pkg][own] = true
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// TestLayers: every package imports only packages of lower layers, every
// package has a layer, and every package the table names exists.
func TestLayers(t *testing.T) {
	layers := readLayers(t)
	pkgs := imports(t, "..")
	for pkg, imps := range pkgs {
		n, ok := layerOf(layers, pkg)
		if !ok {
			t.Errorf("%s has no layer: add it to the table in docs/architecture.md", pkg)
			continue
		}
		for imp := range imps {
			m, ok := layerOf(layers, imp)
			if ok && m >= n {
				t.Errorf("%s (layer %d) imports %s (layer %d): a package imports only lower layers", pkg, n, imp, m)
			}
		}
	}
	for p := range layers {
		if strings.HasSuffix(p, "/...") {
			continue
		}
		if _, ok := pkgs[p]; !ok {
			t.Errorf("docs/architecture.md names %s, which has no Go files", p)
		}
	}
}
