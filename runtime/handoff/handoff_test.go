package handoff

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

func writeExe(t *testing.T, path string) string {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte("#!/bin/sh\nexit 0\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	return path
}

const lock = "GEM\n  remote: https://rubygems.org/\n  specs:\n    kamal (2.12.0)\n\nDEPENDENCIES\n  kamal\n"

func TestFindLooksInOrder(t *testing.T) {
	type setup struct {
		override, binstub, lock, bundle, pathKamal, selfOnPath bool
	}
	tests := []struct {
		name      string
		s         setup
		wantFound string // prefix of Kamal.Found; "" means NotFound
	}{
		{"override_first", setup{override: true, binstub: true, lock: true, bundle: true, pathKamal: true}, "KAMAL_GO_HANDOFF (bundle exec kamal)"},
		{"binstub_before_bundle", setup{binstub: true, lock: true, bundle: true, pathKamal: true}, "bin/kamal"},
		{"bundle_when_the_lock_has_kamal", setup{lock: true, bundle: true, pathKamal: true}, "bundle exec kamal (Gemfile.lock has kamal)"},
		{"path_kamal_last", setup{pathKamal: true, bundle: true}, "kamal on the PATH ("},
		{"lock_without_bundle_goes_on_to_the_path", setup{lock: true, pathKamal: true}, "kamal on the PATH ("},
		{"this_binary_on_the_path_is_skipped", setup{selfOnPath: true}, ""},
		{"nothing", setup{}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			root := t.TempDir()
			app := filepath.Join(root, "app")
			self := writeExe(t, filepath.Join(root, "self", "kamal-go"))
			if err := os.MkdirAll(app, 0o755); err != nil {
				t.Fatal(err)
			}
			env := map[string]string{}
			var path []string
			if tt.s.override {
				env[Override] = "bundle exec kamal"
			}
			if tt.s.binstub {
				writeExe(t, filepath.Join(app, "bin", "kamal"))
			}
			if tt.s.lock {
				os.WriteFile(filepath.Join(app, "Gemfile.lock"), []byte(lock), 0o644)
			}
			if tt.s.bundle || tt.s.override {
				writeExe(t, filepath.Join(root, "rubybin", "bundle"))
				path = append(path, filepath.Join(root, "rubybin"))
			}
			if tt.s.selfOnPath {
				os.MkdirAll(filepath.Join(root, "selflink"), 0o755)
				os.Symlink(self, filepath.Join(root, "selflink", "kamal"))
				path = append([]string{filepath.Join(root, "selflink")}, path...)
			}
			if tt.s.pathKamal {
				writeExe(t, filepath.Join(root, "gems", "kamal"))
				path = append(path, filepath.Join(root, "gems"))
			}
			env["PATH"] = strings.Join(path, ":")
			k, err := Finder{Dir: app, Self: self, Getenv: func(k string) (string, bool) { v, ok := env[k]; return v, ok }}.Find("deploy")
			if tt.wantFound == "" {
				var nf *NotFound
				if !errors.As(err, &nf) {
					t.Fatalf("got %v, %v; want NotFound", k, err)
				}
				if lines := strings.Count(err.Error(), "\n") + 1; lines > 3 {
					t.Fatalf("NotFound has %d lines:\n%s", lines, err)
				}
				return
			}
			if err != nil {
				t.Fatalf("Find: %v", err)
			}
			if !strings.HasPrefix(k.Found, tt.wantFound) {
				t.Fatalf("Found = %q, want %q...", k.Found, tt.wantFound)
			}
			if _, err := os.Stat(k.Argv[0]); err != nil {
				t.Fatalf("Argv[0] %q: %v", k.Argv[0], err)
			}
		})
	}
}

func TestFindRefusesInsideAHandOff(t *testing.T) {
	env := map[string]string{Marker: "kamal on the PATH (/x/kamal)", Override: "kamal"}
	_, err := Finder{Dir: t.TempDir(), Getenv: func(k string) (string, bool) { v, ok := env[k]; return v, ok }}.Find("deploy")
	if err == nil || !strings.Contains(err.Error(), "it would hand \"deploy\" off again, to itself") {
		t.Fatalf("got %v, want the loop error", err)
	}
}

func TestFindRefusesAnOverrideNamingThisBinary(t *testing.T) {
	root := t.TempDir()
	self := writeExe(t, filepath.Join(root, "kamal"))
	env := map[string]string{Override: self}
	_, err := Finder{Dir: root, Self: self, Getenv: func(k string) (string, bool) { v, ok := env[k]; return v, ok }}.Find("deploy")
	if err == nil || !strings.Contains(err.Error(), "is this kamal-go") {
		t.Fatalf("got %v", err)
	}
}

func TestRunGivesTheProgramsStatusAndPassesSignalsOn(t *testing.T) {
	k := &Kamal{Argv: []string{"/bin/sh", "-c"}, Found: "test"}
	if code, err := Run(k.Command(t.TempDir(), []string{"exit 3"}, os.Environ(), nil, nil, nil), nil); code != 3 || err != nil {
		t.Fatalf("exit 3: got %d, %v", code, err)
	}
	out := filepath.Join(t.TempDir(), "out")
	cmd := k.Command(t.TempDir(), []string{`trap 'echo "$KAMAL_GO_HANDED_OFF" > ` + out + `; exit 7' INT; echo ready > ` + out + `.ready; while :; do sleep 0.05; done`}, os.Environ(), nil, nil, nil)
	sigs := make(chan os.Signal, 1)
	go func() {
		for i := 0; i < 200; i++ {
			if _, err := os.Stat(out + ".ready"); err == nil {
				break
			}
			time.Sleep(10 * time.Millisecond)
		}
		sigs <- syscall.SIGINT
	}()
	code, err := Run(cmd, sigs)
	if code != 7 || err != nil {
		t.Fatalf("after SIGINT: got %d, %v; want 7", code, err)
	}
	if b, _ := os.ReadFile(out); strings.TrimSpace(string(b)) != "test" {
		t.Fatalf("the program saw %s=%q, want %q", Marker, b, "test")
	}
	if code, _ := Run(exec.Command("/bin/sh", "-c", "kill -TERM $$"), nil); code != 128+15 {
		t.Fatalf("killed by SIGTERM: got %d, want 143", code)
	}
}
