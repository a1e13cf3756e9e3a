package commands

import (
	"encoding/base64"
	"strings"
	"testing"

	"github.com/kamal-go/kamal/runtime/config"
)

func TestLockAcquireMatchesKamal152Transcript(t *testing.T) {
	// kamal-1.5.2 build-push-v.txt: the base64 body decodes to these inputs.
	details := LockDetails("Seed Rig", "2026-11-25T17:37:53Z", seedVersion, AutomaticLockMessage)
	const want = "/usr/bin/env mkdir .kamal/locks/app && echo \"TG9ja2VkIGJ5OiBTZWVkIFJpZyBhdCAyMDI2LTExLTI1VDE3OjM3OjUzWgpW\n" +
		"ZXJzaW9uOiAyNGI2ZTBkOGQxNzE1OWY0YmM1N2RiOGNlZDZmODdiYzJmNmUy\n" +
		"MTI3Ck1lc3NhZ2U6IEF1dG9tYXRpYyBkZXBsb3kgbG9jaw==\n" +
		"\" > .kamal/locks/app/details"
	cmd := LockAcquire(seedV1(), details)
	assertCommand(t, cmd, want, want)
	if cmd.Debug() != want {
		t.Errorf("Debug() = %q", cmd.Debug())
	}
}

func TestLockDetailsText(t *testing.T) {
	const want = "Locked by: Seed Rig at 2026-11-25T17:37:53Z\nVersion: 24b6e0d8d17159f4bc57db8ced6f87bc2f6e2127\nMessage: Automatic deploy lock"
	got := LockDetails("Seed Rig", "2026-11-25T17:37:53Z", seedVersion, "Automatic deploy lock")
	if got != want {
		t.Errorf("got %q", got)
	}
	enc := "TG9ja2VkIGJ5OiBTZWVkIFJpZyBhdCAyMDI2LTExLTI1VDE3OjM3OjUzWgpWZXJzaW9uOiAyNGI2ZTBkOGQxNzE1OWY0YmM1N2RiOGNlZDZmODdiYzJmNmUyMTI3Ck1lc3NhZ2U6IEF1dG9tYXRpYyBkZXBsb3kgbG9jaw=="
	if dec, _ := base64.StdEncoding.DecodeString(enc); string(dec) != want {
		t.Errorf("transcript decodes to %q", dec)
	}
}

func TestMimeBase64(t *testing.T) {
	tests := []struct{ name, in, want string }{
		{"empty", "", ""},
		{"short line ends with a newline", "abc", "YWJj\n"},
		{"exactly 60 characters", strings.Repeat("a", 45), strings.Repeat("YWFh", 15) + "\n"},
		{"non-ASCII names stay ASCII", "Jürgen", "SsO8cmdlbg==\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := mimeBase64(tt.in); got != tt.want {
				t.Errorf("got %q, want %q", got, tt.want)
			}
		})
	}
}

func TestLockCommands(t *testing.T) {
	tests := []struct {
		name                       string
		cfg                        *config.Config
		dir, mkdirLocks            string
		release, status, acquireTo string
	}{
		{
			name:       "Kamal 1",
			cfg:        seedV1(),
			dir:        ".kamal/locks/app",
			mkdirLocks: "/usr/bin/env mkdir -p .kamal/locks",
			release:    "/usr/bin/env rm .kamal/locks/app/details && rm -r .kamal/locks/app",
			status:     "/usr/bin/env stat .kamal/locks/app > /dev/null && cat .kamal/locks/app/details | base64 -d",
		},
		{
			name:       "Kamal 1 with destination and run directory",
			cfg:        &config.Config{Generation: config.Kamal1, Service: "app", Destination: "staging", RunDirectory: "/var/run/kamal/"},
			dir:        "/var/run/kamal/locks/app-staging",
			mkdirLocks: "/usr/bin/env mkdir -p /var/run/kamal/locks",
			release:    "/usr/bin/env rm /var/run/kamal/locks/app-staging/details && rm -r /var/run/kamal/locks/app-staging",
			status:     "/usr/bin/env stat /var/run/kamal/locks/app-staging > /dev/null && cat /var/run/kamal/locks/app-staging/details | base64 -d",
		},
		{
			name:    "Kamal 2 ignores run_directory",
			cfg:     &config.Config{Generation: config.Kamal2, Service: "app", Destination: "staging", RunDirectory: "other"},
			dir:     ".kamal/lock-app-staging",
			release: "/usr/bin/env rm .kamal/lock-app-staging/details && rm -r .kamal/lock-app-staging",
			status:  "/usr/bin/env stat .kamal/lock-app-staging > /dev/null && cat .kamal/lock-app-staging/details | base64 -d",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := LockDir(tt.cfg); got != tt.dir {
				t.Errorf("LockDir = %q, want %q", got, tt.dir)
			}
			if tt.mkdirLocks == "" {
				assertEmpty(t, MkdirLocks(tt.cfg))
			} else {
				assertCommand(t, MkdirLocks(tt.cfg), tt.mkdirLocks, tt.mkdirLocks)
			}
			assertCommand(t, LockRelease(tt.cfg), tt.release, tt.release)
			assertCommand(t, LockStatus(tt.cfg), tt.status, tt.status)
			acquire := "/usr/bin/env mkdir " + tt.dir + " && echo \"YQ==\n\" > " + tt.dir + "/details"
			assertCommand(t, LockAcquire(tt.cfg, "a"), acquire, acquire)
		})
	}
	k2 := &config.Config{Generation: config.Kamal2, Service: "app", RunDirectory: "other"}
	assertCommand(t, MkdirRunDirectory(k2), "/usr/bin/env mkdir -p .kamal", "/usr/bin/env mkdir -p .kamal")
	k1 := &config.Config{Generation: config.Kamal1, Service: "app", RunDirectory: "/var/kamal"}
	assertCommand(t, MkdirRunDirectory(k1), "/usr/bin/env mkdir -p /var/kamal", "/usr/bin/env mkdir -p /var/kamal")
}
