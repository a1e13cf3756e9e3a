package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"testing"
)

func TestSubcommandSkipsGlobalFlagsAndTheirValues(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--root", "/run/x", "--log", "/l", "--log-format", "json", "create", "--bundle", "/b", "id"}, "create"},
		{[]string{"--root=/run/x", "--systemd-cgroup", "exec", "--process", "/p", "id"}, "exec"},
		{[]string{"state", "id"}, "state"},
		{[]string{"--debug"}, ""},
	} {
		if got, _ := subcommand(tc.args); got != tc.want {
			t.Errorf("subcommand(%q) = %q, want %q", tc.args, got, tc.want)
		}
	}
}

func TestFlagValueReadsEveryForm(t *testing.T) {
	for _, args := range [][]string{{"--bundle", "/b", "id"}, {"-b", "/b"}, {"--bundle=/b"}, {"-bundle", "/b"}} {
		if got := flagValue(args, "bundle", "b"); got != "/b" {
			t.Errorf("flagValue(%q) = %q, want /b", args, got)
		}
	}
	if got := flagValue([]string{"--detach", "id"}, "bundle", "b"); got != "" {
		t.Errorf("no --bundle: got %q", got)
	}
}

// CapBnd 000001fffeffffff: every capability up to 40 except CAP_SYS_RESOURCE (24).
func TestFilterCapsDropsOnlyCapabilitiesOutsideTheBoundingSet(t *testing.T) {
	allowed := capSet(0x000001fffeffffff)
	p := map[string]any{"capabilities": map[string]any{
		"bounding":  []any{"CAP_CHOWN", "CAP_SYS_RESOURCE", "CAP_SYS_ADMIN", "CAP_FUTURE_THING"},
		"effective": []any{"CAP_SYS_RESOURCE"},
	}}
	filterCaps(p, allowed)
	want := map[string]any{
		"bounding":  []any{"CAP_CHOWN", "CAP_SYS_ADMIN", "CAP_FUTURE_THING"},
		"effective": []any{},
	}
	if got := p["capabilities"]; !reflect.DeepEqual(got, want) {
		t.Errorf("capabilities = %v, want %v", got, want)
	}
	q := map[string]any{"capabilities": map[string]any{"bounding": []any{"CAP_SYS_RESOURCE"}}}
	filterCaps(q, nil)
	if got := q["capabilities"].(map[string]any)["bounding"]; !reflect.DeepEqual(got, []any{"CAP_SYS_RESOURCE"}) {
		t.Errorf("unknown bounding set must drop nothing, got %v", got)
	}
}

func TestEditFileKeepsOtherFieldsAndAddsTheHostNetMountOnlyForBuildkit(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "config.json")
	spec := `{"ociVersion":"1.0.2","process":{"args":["/usr/bin/rig-buildkitd","--debug"],"capabilities":{"bounding":["CAP_SYS_RESOURCE","CAP_KILL"]}},"mounts":[{"destination":"/proc"}]}`
	if err := os.WriteFile(path, []byte(spec), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := editFile(path, func(s map[string]any) error {
		p := s["process"].(map[string]any)
		filterCaps(p, capSet(0x000001fffeffffff))
		if isHostNetEntrypoint(p) {
			addHostNetMount(s, 42)
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	var got map[string]any
	b, _ := os.ReadFile(path)
	if err := json.Unmarshal(b, &got); err != nil {
		t.Fatal(err)
	}
	if got["ociVersion"] != "1.0.2" {
		t.Errorf("ociVersion lost: %s", b)
	}
	mounts := got["mounts"].([]any)
	if len(mounts) != 2 || mounts[1].(map[string]any)["source"] != "/proc/42/ns/net" || mounts[1].(map[string]any)["destination"] != HostNetPath {
		t.Errorf("mounts = %v", mounts)
	}
	if caps := got["process"].(map[string]any)["capabilities"].(map[string]any)["bounding"]; !reflect.DeepEqual(caps, []any{"CAP_KILL"}) {
		t.Errorf("bounding = %v", caps)
	}
	if st, _ := os.Stat(path); st.Mode().Perm() != 0o600 {
		t.Errorf("mode changed to %v", st.Mode())
	}
	if !isHostNetEntrypoint(map[string]any{"args": []any{"/sbin/docker-init", "--", HostNetEntrypoint, "--debug"}}) {
		t.Error("BuildKit under docker-init (buildx's --init) must get the host network namespace")
	}
	if isHostNetEntrypoint(map[string]any{"args": []any{"/bin/sh"}}) || isHostNetEntrypoint(map[string]any{"args": []any{"/sbin/docker-init", "--", "/bin/sh", HostNetEntrypoint}}) {
		t.Error("a plain container must not get the host network namespace")
	}
}
