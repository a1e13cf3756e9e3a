package builtins

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestContextFilesHonourDockerignore(t *testing.T) {
	dir := t.TempDir()
	for _, f := range []string{"Dockerfile", "app/main.go", "app/main_test.go", "log/dev.log", "log/keep.log", "tmp/x", "node_modules/a/b.js", "a.env", "sub/b.env", "README.md"} {
		p := filepath.Join(dir, f)
		os.MkdirAll(filepath.Dir(p), 0o755)
		os.WriteFile(p, nil, 0o644)
	}
	os.WriteFile(filepath.Join(dir, ".dockerignore"), []byte("# comment\n/tmp\nlog\n!log/keep.log\n**/*_test.go\nnode_modules/\n*.env\nREADME.m?\n"), 0o644)
	got, err := contextFiles(dir)
	if err != nil {
		t.Fatal(err)
	}
	want := ".dockerignore Dockerfile app/main.go log/keep.log sub/b.env"
	if strings.Join(got, " ") != want {
		t.Errorf("files %q\nwant %q", strings.Join(got, " "), want)
	}
}
