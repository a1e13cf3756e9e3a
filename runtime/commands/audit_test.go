package commands

import (
	"testing"

	"github.com/kamal-go/kamal/runtime/config"
)

func TestAuditMatchesTranscripts(t *testing.T) {
	tests := []struct {
		name, performer, ts, version string
		cfg                          *config.Config
		want                         string
	}{
		{
			// kamal-1.5.2 build-pull-v.txt
			name: "Kamal 1 unquoted echo", cfg: seedV1(), performer: "root", ts: "2026-11-25T17:37:57Z", version: seedVersion,
			want: "/usr/bin/env echo [2026-11-25T17:37:57Z] [root] Pulled image with version 24b6e0d8d17159f4bc57db8ced6f87bc2f6e2127 >> .kamal/app-audit.log",
		},
		{
			// kamal-2.12.0 build-pull-v.txt
			name: "Kamal 2 mkdir and escaped line", cfg: rigV2(), performer: "rig@localhost", ts: "2026-11-25T17:17:32Z", version: rigVersion,
			want: `/usr/bin/env mkdir -p .kamal && echo "[2026-11-25T17:17:32Z] [rig@localhost] Pulled image with version 28b352e33ce29611e6d9c421fb0c8cbe332d9657" >> .kamal/app-audit.log`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			line := AuditLine(tt.cfg, tt.performer, tt.ts, "Pulled image with version "+tt.version)
			cmd := Audit(tt.cfg, line)
			assertCommand(t, cmd, tt.want, tt.want)
			if cmd.Debug() != tt.want {
				t.Errorf("Debug() = %s", cmd.Debug())
			}
		})
	}
}

func TestAuditWithDestination(t *testing.T) {
	tests := []struct {
		name string
		cfg  *config.Config
		want string
	}{
		{
			name: "Kamal 1 honours run_directory",
			cfg:  &config.Config{Generation: config.Kamal1, Service: "app", Destination: "staging", RunDirectory: "/var/kamal"},
			want: "/usr/bin/env echo [2024-05-01T10:00:00Z] [dhh@example.com] [staging] Pulled image with version 999 >> /var/kamal/app-staging-audit.log",
		},
		{
			name: "Kamal 2",
			cfg:  &config.Config{Generation: config.Kamal2, Service: "app", Destination: "staging"},
			want: `/usr/bin/env mkdir -p .kamal && echo "[2024-05-01T10:00:00Z] [dhh@example.com] [staging] Pulled image with version 999" >> .kamal/app-staging-audit.log`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			line := AuditLine(tt.cfg, "dhh@example.com", "2024-05-01T10:00:00Z", "Pulled image with version 999")
			assertCommand(t, Audit(tt.cfg, line), tt.want, tt.want)
		})
	}
}

func TestAuditV2EscapesTheLine(t *testing.T) {
	cfg := rigV2()
	line := AuditLine(cfg, `Jöe "$USER"`, "2024-05-01T10:00:00Z", "Pulled image with version 999")
	const want = `/usr/bin/env mkdir -p .kamal && echo "[2024-05-01T10:00:00Z] [J"ö"e \"\$USER\"] Pulled image with version 999" >> .kamal/app-audit.log`
	assertCommand(t, Audit(cfg, line), want, want)
}

// Kamal 1.9 logs the audit line as Kamal does (1.9.2 dry-run references),
// and runs it after creating the run directory, which a server that never
// had `kamal deploy` lacks (Kamal 1.9.2's pull fails there).
func TestKamal19AuditCreatesTheRunDirectoryUnlogged(t *testing.T) {
	cfg := &config.Config{Generation: config.Kamal1, Release: config.Kamal19, Service: "app", RunDirectory: ".kamal"}
	cmd := Audit(cfg, AuditLine(cfg, "dhh@example.com", "2024-05-01T10:00:00Z", "Pulled image with version 999"))
	logged := "/usr/bin/env echo [2024-05-01T10:00:00Z] [dhh@example.com] Pulled image with version 999 >> .kamal/app-audit.log"
	assertCommand(t, cmd, logged, "/usr/bin/env mkdir -p .kamal && "+logged)
	if cmd.Debug() != logged {
		t.Errorf("Debug() = %s, want %s", cmd.Debug(), logged)
	}
}
