package commands

import (
	"fmt"
	"strings"
	"testing"

	"github.com/kamal-go/kamal/runtime/config"
)

const rigVersion = "28b352e33ce29611e6d9c421fb0c8cbe332d9657"

// rigV2 is the Kamal 2 config of the recorded rig: arch amd64, driver
// docker, registry 127.0.0.1:5556.
func rigV2() *config.Config {
	return &config.Config{
		Generation: config.Kamal2,
		Service:    "app",
		Image:      "app",
		Registry:   config.Registry{Server: "127.0.0.1:5556"},
		Builder:    config.Builder{Arches: []string{"amd64"}, Driver: "docker"},
	}
}

func v2Config(b config.Builder) *config.Config {
	return &config.Config{Generation: config.Kamal2, Service: "app", Image: "dhh/app", Builder: b}
}

func TestV2DockerDriverMatchesTranscript(t *testing.T) {
	b := mustBuilder(t, rigV2(), "")
	if b.Type() != "local" || b.Name() != "" || !b.LoginsLocally() || b.Env() != nil {
		t.Errorf("Type=%q Name=%q LoginsLocally=%v Env=%v", b.Type(), b.Name(), b.LoginsLocally(), b.Env())
	}
	// kamal-2.12.0 build-push-v.txt and build-details-v.txt.
	assertCommand(t, b.EnsureInstalled(), "docker --version && docker buildx version", "docker --version && docker buildx version")
	assertCommand(t, b.Info(), "docker context ls && docker buildx ls", "docker context ls && docker buildx ls")
	assertEmpty(t, b.Create())
	assertEmpty(t, b.Remove())
	assertEmpty(t, b.Inspect())
	const push = `docker buildx build --output=type=registry --platform linux/amd64 -t 127.0.0.1:5556/app:28b352e33ce29611e6d9c421fb0c8cbe332d9657 -t 127.0.0.1:5556/app:latest --label service="app" --file Dockerfile . 2>&1`
	cmd := mustPush(t, b, PushOptions{Version: rigVersion, Dir: appDir(t, "Dockerfile")})
	assertCommand(t, cmd, push, push)
	if cmd.Debug() != push {
		t.Errorf("Debug() = %s", cmd.Debug())
	}
}

func TestV2LocalDockerContainerCommands(t *testing.T) {
	tests := []struct {
		name                           string
		registry                       config.Registry
		create, remove, inspect, bname string
		loginsLocally                  bool
	}{
		{
			name:          "hub registry",
			create:        "docker buildx create --name kamal-local-docker-container --driver=docker-container",
			remove:        "docker buildx rm kamal-local-docker-container",
			inspect:       "docker buildx inspect kamal-local-docker-container",
			bname:         "kamal-local-docker-container",
			loginsLocally: true,
		},
		{
			name:     "local registry uses host networking and its own name",
			registry: config.Registry{Server: "localhost:5000", Local: true, LocalPort: 5000},
			create:   "docker buildx create --name kamal-local-registry-docker-container --driver=docker-container --driver-opt network=host",
			remove:   "docker buildx rm kamal-local-registry-docker-container",
			inspect:  "docker buildx inspect kamal-local-registry-docker-container",
			bname:    "kamal-local-registry-docker-container",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := v2Config(config.Builder{Arches: []string{"amd64"}})
			cfg.Registry = tt.registry
			b := mustBuilder(t, cfg, "")
			if b.Type() != "local" || b.Name() != tt.bname || b.LoginsLocally() != tt.loginsLocally {
				t.Errorf("Type=%q Name=%q LoginsLocally=%v", b.Type(), b.Name(), b.LoginsLocally())
			}
			assertCommand(t, b.Create(), tt.create, tt.create)
			assertCommand(t, b.Remove(), tt.remove, tt.remove)
			assertCommand(t, b.Inspect(), tt.inspect, tt.inspect)
			assertCommand(t, b.Info(), "docker context ls && docker buildx ls", "docker context ls && docker buildx ls")
		})
	}
}

func TestV2LocalPush(t *testing.T) {
	dir := appDir(t, "Dockerfile", "Dockerfile.xyz")
	const pre = "docker buildx build --output=type=registry --platform linux/amd64,linux/arm64 --builder kamal-local-docker-container -t dhh/app:123 -t dhh/app:latest "
	tests := []struct {
		name     string
		builder  config.Builder
		opts     PushOptions
		logged   string
		executed string
	}{
		{
			name:     "defaults",
			logged:   pre + `--label service="app" --file Dockerfile . 2>&1`,
			executed: pre + `--label service="app" --file Dockerfile . 2>&1`,
		},
		{
			name: "every option in Kamal's order",
			builder: config.Builder{
				Cache:      &config.Cache{Type: "registry", Options: "mode=max", Image: "dhh/app-cache"},
				Args:       []config.KV{{Key: "a", Value: "1"}, {Key: "b", Value: "2"}},
				Secrets:    []string{"GITHUB_TOKEN"},
				Dockerfile: "Dockerfile.xyz",
				Target:     "prod",
				SSH:        "default=$SSH_AUTH_SOCK",
				Provenance: ptr("mode=max"),
				SBOM:       ptr(true),
				Context:    "..", HasContext: true,
			},
			opts:     PushOptions{NoCache: true},
			logged:   pre + `--cache-to type=registry,ref=dhh/app-cache,mode=max --cache-from type=registry,ref=dhh/app-cache --label service="app" --build-arg [REDACTED] --build-arg [REDACTED] --secret id="GITHUB_TOKEN" --file Dockerfile.xyz --target prod --ssh default=$SSH_AUTH_SOCK --provenance mode=max --sbom true --no-cache .. 2>&1`,
			executed: pre + `--cache-to type=registry,ref=dhh/app-cache,mode=max --cache-from type=registry,ref=dhh/app-cache --label service="app" --build-arg a="1" --build-arg b="2" --secret id="GITHUB_TOKEN" --file Dockerfile.xyz --target prod --ssh default=$SSH_AUTH_SOCK --provenance mode=max --sbom true --no-cache .. 2>&1`,
		},
		{
			name:     "provenance false and sbom false are rendered",
			builder:  config.Builder{Provenance: ptr("false"), SBOM: ptr(false)},
			logged:   pre + `--label service="app" --file Dockerfile --provenance false --sbom false . 2>&1`,
			executed: pre + `--label service="app" --file Dockerfile --provenance false --sbom false . 2>&1`,
		},
		{
			name:     "false build arg is KEY=false, empty is a bare key",
			builder:  config.Builder{Args: []config.KV{{Key: "OFF", Value: "false", IsFalse: true}, {Key: "PASS", IsEmpty: true}, {Key: "BLANK", Value: "  "}}},
			logged:   pre + `--label service="app" --build-arg OFF=false --build-arg PASS --build-arg BLANK --file Dockerfile . 2>&1`,
			executed: pre + `--label service="app" --build-arg OFF=false --build-arg PASS --build-arg BLANK --file Dockerfile . 2>&1`,
		},
		{
			name:     "gha cache: cache-from keeps only url, url_v2, token, scope and timeout",
			builder:  config.Builder{Cache: &config.Cache{Type: "gha", Options: "mode=max,scope=test,url=http://x,timeout=10m,ignore-error=true"}},
			logged:   pre + `--cache-to type=gha,mode=max,scope=test,url=http://x,timeout=10m,ignore-error=true --cache-from type=gha,scope=test,url=http://x,timeout=10m --label service="app" --file Dockerfile . 2>&1`,
			executed: pre + `--cache-to type=gha,mode=max,scope=test,url=http://x,timeout=10m,ignore-error=true --cache-from type=gha,scope=test,url=http://x,timeout=10m --label service="app" --file Dockerfile . 2>&1`,
		},
		{
			name:     "gha cache without options",
			builder:  config.Builder{Cache: &config.Cache{Type: "gha"}},
			logged:   pre + `--cache-to type=gha --cache-from type=gha --label service="app" --file Dockerfile . 2>&1`,
			executed: pre + `--cache-to type=gha --cache-from type=gha --label service="app" --file Dockerfile . 2>&1`,
		},
		{
			name:     "registry cache defaults to <image>-build-cache",
			builder:  config.Builder{Cache: &config.Cache{Type: "registry"}},
			logged:   pre + `--cache-to type=registry,ref=dhh/app-build-cache --cache-from type=registry,ref=dhh/app-build-cache --label service="app" --file Dockerfile . 2>&1`,
			executed: pre + `--cache-to type=registry,ref=dhh/app-build-cache --cache-from type=registry,ref=dhh/app-build-cache --label service="app" --file Dockerfile . 2>&1`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			bc := tt.builder
			bc.Arches = []string{"amd64", "arm64"}
			b := mustBuilder(t, v2Config(bc), "")
			o := tt.opts
			o.Version, o.Dir = "123", dir
			assertCommand(t, mustPush(t, b, o), tt.logged, tt.executed)
		})
	}
}

func TestV2PushOutputAndDevTags(t *testing.T) {
	dir := appDir(t, "Dockerfile")
	tests := []struct {
		name string
		dest string
		opts PushOptions
		want string
	}{
		{"custom output", "", PushOptions{Output: "docker"},
			`docker buildx build --output=type=docker --platform linux/amd64 --builder kamal-local-docker-container -t dhh/app:123 -t dhh/app:latest --label service="app" --file Dockerfile . 2>&1`},
		{"serve's layer cache instead of the docker output", "", PushOptions{Output: "docker", LayerCache: "/home/u/.cache/kamal-go/layers"},
			`docker buildx build --output=type=oci,dest=/home/u/.cache/kamal-go/layers,tar=false,compression=uncompressed,force-compression=true --platform linux/amd64 --builder kamal-local-docker-container -t dhh/app:123 -t dhh/app:latest --label service="app" --file Dockerfile . 2>&1`},
		{"dev defaults to docker output and dirty tags", "", PushOptions{Dev: true},
			`docker buildx build --output=type=docker --platform linux/amd64 --builder kamal-local-docker-container -t dhh/app:123-dirty -t dhh/app:latest-dirty --label service="app" --file Dockerfile . 2>&1`},
		{"dev with destination and no cache", "staging", PushOptions{Dev: true, NoCache: true, Output: "registry"},
			`docker buildx build --output=type=registry --platform linux/amd64 --builder kamal-local-docker-container -t dhh/app:123-dirty -t dhh/app:latest-staging-dirty --label service="app" --file Dockerfile --no-cache . 2>&1`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := v2Config(config.Builder{Arches: []string{"amd64"}})
			cfg.Destination = tt.dest
			o := tt.opts
			o.Version, o.Dir = "123", dir
			assertCommand(t, mustPush(t, mustBuilder(t, cfg, ""), o), tt.want, tt.want)
		})
	}
}

// TestV2BuildArgEscaping covers Kamal 2's escaping (shell.Escape) through
// build-arg values.
func TestV2BuildArgEscaping(t *testing.T) {
	dir := appDir(t, "Dockerfile")
	tests := []struct {
		name, value, want string
	}{
		{"dollar variable is escaped", "$PWD", `"\$PWD"`},
		{"dollar command is escaped", "$(PWD)", `"\$(PWD)"`},
		{"dollar group is left for the shell", "${PWD}", `"${PWD}"`},
		{"unclosed dollar group is escaped", "${PWD]", `"\${PWD]"`},
		{"backticks are escaped", "`whoami`", "\"\\`whoami\\`\""},
		{"non-ASCII runs stay raw between quoted ASCII runs", "héllo", `"h"é"llo"`},
		{"control characters are dumped", "a\tb\nc\x01\x1b\x7f", `"a\tb\nc\x01\e\x7F"`},
		{"interpolation markers are escaped", "#{x} #$y #@z", `"\#{x} \#\$y \#@z"`},
		{"quotes and backslashes", `say "hi" \o/`, `"say \"hi\" \\o/"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := v2Config(config.Builder{Arches: []string{"amd64"}, Driver: "docker", Args: []config.KV{{Key: "V", Value: tt.value}}})
			cmd := mustPush(t, mustBuilder(t, cfg, ""), PushOptions{Version: "1", Dir: dir})
			const pre = `docker buildx build --output=type=registry --platform linux/amd64 -t dhh/app:1 -t dhh/app:latest --label service="app" --build-arg `
			assertCommand(t, cmd, pre+`[REDACTED] --file Dockerfile . 2>&1`, pre+"V="+tt.want+` --file Dockerfile . 2>&1`)
		})
	}
}

func TestV2LayerCacheOutputOnlyForBuildKitBuilders(t *testing.T) {
	const oci = "--output=type=oci,dest=/c,tar=false,compression=uncompressed,force-compression=true"
	tests := []struct {
		name    string
		builder config.Builder
		want    bool
	}{
		{"docker driver: none", config.Builder{Arches: []string{"amd64"}, Driver: "docker"}, false},
		{"docker-container", config.Builder{Arches: []string{"amd64"}}, true},
		{"remote", config.Builder{Arches: []string{"arm64"}, Remote: "ssh://app@1.1.1.5"}, true},
		{"hybrid", config.Builder{Arches: []string{"amd64", "arm64"}, Remote: "ssh://app@1.1.1.5"}, true},
		{"cloud: none", config.Builder{Arches: []string{"amd64"}, Driver: "cloud org/b"}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cmd := mustPush(t, mustBuilder(t, v2Config(tt.builder), "amd64"), PushOptions{Version: "1", Dir: appDir(t, "Dockerfile"), Output: "docker", LayerCache: "/c"})
			if got := strings.Contains(cmd.Logged(), " "+oci+" "); got != tt.want {
				t.Errorf("layer cache output in %q: %v, want %v", cmd.Logged(), got, tt.want)
			}
			// The layer cache output replaces the load into the image store.
			if got := strings.Contains(cmd.Logged(), " --output=type=docker "); got == tt.want {
				t.Errorf("docker output in %q: %v, want %v", cmd.Logged(), got, !tt.want)
			}
		})
	}
}

func TestPushMissingDockerfile(t *testing.T) {
	tests := []struct {
		name       string
		cfg        *config.Config
		dockerfile string
		want       string
	}{
		{"Kamal 2 default", rigV2(), "", "Missing Dockerfile"},
		{"Kamal 2 custom", rigV2(), "Dockerfile.xyz", "Missing Dockerfile.xyz"},
		{"Kamal 1 native", seedV1(), "", "Missing Dockerfile"},
		{"Kamal 1 multiarch", v1Config(config.Builder{}), "docker/Dockerfile", "Missing docker/Dockerfile"},
	}
	dir := appDir(t, "README.md")
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.cfg.Builder.Dockerfile = tt.dockerfile
			_, err := mustBuilder(t, tt.cfg, "").Push(PushOptions{Version: "1", Dir: dir, GitArchive: true})
			assertClassError(t, err, "Kamal::Commands::Builder::Base::BuilderError", tt.want)
		})
	}
}

func TestDockerfileResolvesAgainstDir(t *testing.T) {
	dir := appDir(t, "sub/Dockerfile")
	cfg := rigV2()
	cfg.Builder.Dockerfile = "sub/Dockerfile"
	if _, err := mustBuilder(t, cfg, "").Push(PushOptions{Version: "1", Dir: dir}); err != nil {
		t.Errorf("relative: %v", err)
	}
	cfg.Builder.Dockerfile = dir + "/sub/Dockerfile"
	if _, err := mustBuilder(t, cfg, "").Push(PushOptions{Version: "1", Dir: t.TempDir()}); err != nil {
		t.Errorf("absolute: %v", err)
	}
}

func TestV2BuilderTypeSelection(t *testing.T) {
	tests := []struct {
		name      string
		builder   config.Builder
		localArch string
		typ       string
	}{
		{"plain local", config.Builder{Arches: []string{"amd64"}}, "arm64", "local"},
		{"remote matching the local arch builds locally", config.Builder{Arches: []string{"amd64"}, Remote: "ssh://app@1.1.1.5"}, "amd64", "local"},
		{"remote for a foreign arch", config.Builder{Arches: []string{"arm64"}, Remote: "ssh://app@1.1.1.5"}, "amd64", "remote"},
		{"both arches with a remote is hybrid", config.Builder{Arches: []string{"amd64", "arm64"}, Remote: "ssh://app@1.1.1.5"}, "amd64", "hybrid"},
		{"local false sends every arch to the remote", config.Builder{Arches: []string{"amd64", "arm64"}, Remote: "ssh://app@1.1.1.5", Local: ptr(false)}, "amd64", "remote"},
		{"local true changes nothing", config.Builder{Arches: []string{"amd64", "arm64"}, Remote: "ssh://app@1.1.1.5", Local: ptr(true)}, "amd64", "hybrid"},
		{"pack", config.Builder{Arches: []string{"amd64"}, Pack: &config.Pack{Builder: "heroku/builder:24"}}, "amd64", "pack"},
		{"remote beats pack", config.Builder{Arches: []string{"arm64"}, Remote: "ssh://x", Pack: &config.Pack{Builder: "b"}}, "amd64", "remote"},
		{"cloud driver", config.Builder{Arches: []string{"amd64"}, Driver: "cloud example_org/cloud_builder"}, "amd64", "cloud"},
		{"docker driver is local", config.Builder{Arches: []string{"amd64"}, Driver: "docker"}, "amd64", "local"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := mustBuilder(t, v2Config(tt.builder), tt.localArch).Type(); got != tt.typ {
				t.Errorf("Type() = %q, want %q", got, tt.typ)
			}
		})
	}
}

func TestV2RemoteBuilder(t *testing.T) {
	tests := []struct {
		name                           string
		remote                         string
		registry                       config.Registry
		create, remove, inspect, bname string
	}{
		{
			name:    "ssh remote",
			remote:  "ssh://app@1.1.1.5",
			bname:   "kamal-remote-ssh---app-1-1-1-5",
			create:  "docker context create kamal-remote-ssh---app-1-1-1-5-context --description 'kamal-remote-ssh---app-1-1-1-5 host' --docker 'host=ssh://app@1.1.1.5' ; docker buildx create --name kamal-remote-ssh---app-1-1-1-5 kamal-remote-ssh---app-1-1-1-5-context",
			remove:  "docker buildx rm kamal-remote-ssh---app-1-1-1-5 ; docker context rm kamal-remote-ssh---app-1-1-1-5-context",
			inspect: "docker buildx inspect kamal-remote-ssh---app-1-1-1-5 | grep -q Endpoint:.*kamal-remote-ssh---app-1-1-1-5-context && docker context inspect kamal-remote-ssh---app-1-1-1-5-context --format '{{.Endpoints.docker.Host}}' | grep -xq ssh://app@1.1.1.5 || (echo no compatible builder && exit 1)",
		},
		{
			name:     "port and local registry",
			remote:   "ssh://App@1.1.1.5:2122",
			registry: config.Registry{Server: "localhost:5000", Local: true, LocalPort: 5000},
			bname:    "kamal-remote-ssh----pp-1-1-1-5-2122-local-registry",
			create:   "docker context create kamal-remote-ssh----pp-1-1-1-5-2122-local-registry-context --description 'kamal-remote-ssh----pp-1-1-1-5-2122-local-registry host' --docker 'host=ssh://App@1.1.1.5:2122' ; docker buildx create --name kamal-remote-ssh----pp-1-1-1-5-2122-local-registry --driver-opt network=host kamal-remote-ssh----pp-1-1-1-5-2122-local-registry-context",
			remove:   "docker buildx rm kamal-remote-ssh----pp-1-1-1-5-2122-local-registry ; docker context rm kamal-remote-ssh----pp-1-1-1-5-2122-local-registry-context",
			inspect:  "docker buildx inspect kamal-remote-ssh----pp-1-1-1-5-2122-local-registry | grep -q Endpoint:.*kamal-remote-ssh----pp-1-1-1-5-2122-local-registry-context && docker context inspect kamal-remote-ssh----pp-1-1-1-5-2122-local-registry-context --format '{{.Endpoints.docker.Host}}' | grep -xq ssh://App@1.1.1.5:2122 || (echo no compatible builder && exit 1)",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := v2Config(config.Builder{Arches: []string{"arm64"}, Remote: tt.remote})
			cfg.Registry = tt.registry
			b := mustBuilder(t, cfg, "amd64")
			if b.Type() != "remote" || b.Name() != tt.bname || b.LoginsLocally() {
				t.Errorf("Type=%q Name=%q LoginsLocally=%v", b.Type(), b.Name(), b.LoginsLocally())
			}
			assertCommand(t, b.Create(), tt.create, tt.create)
			assertCommand(t, b.Remove(), tt.remove, tt.remove)
			assertCommand(t, b.Inspect(), tt.inspect, tt.inspect)
			assertCommand(t, b.Info(), "docker context ls ; docker buildx ls", "docker context ls ; docker buildx ls")
		})
	}
}

func TestV2RemotePushRunsWithoutClientToken(t *testing.T) {
	cfg := v2Config(config.Builder{Arches: []string{"arm64"}, Remote: "ssh://app@1.1.1.5"})
	b := mustBuilder(t, cfg, "amd64")
	cmd := mustPush(t, b, PushOptions{Version: "123", Dir: appDir(t, "Dockerfile")})
	const build = `docker buildx build --output=type=registry --platform linux/arm64 --builder kamal-remote-ssh---app-1-1-1-5 -t dhh/app:123 -t dhh/app:latest --label service="app" --file Dockerfile . 2>&1`
	assertCommand(t, cmd, build, `( export BUILDKIT_NO_CLIENT_TOKEN="1" ; `+build+` )`)
	if got := cmd.Debug(); got != `( export BUILDKIT_NO_CLIENT_TOKEN="1" ; `+build+` )` {
		t.Errorf("Debug() = %s", got)
	}
	if env := b.Env(); len(env) != 1 || env[0].Key != "BUILDKIT_NO_CLIENT_TOKEN" || env[0].Value != "1" {
		t.Errorf("Env() = %v", env)
	}
}

func TestV2HybridBuilder(t *testing.T) {
	cfg := v2Config(config.Builder{Arches: []string{"amd64", "arm64"}, Remote: "ssh://app@1.1.1.5"})
	b := mustBuilder(t, cfg, "amd64")
	const name = "kamal-hybrid-docker-container-ssh---app-1-1-1-5"
	if b.Type() != "hybrid" || b.Name() != name || b.LoginsLocally() {
		t.Errorf("Type=%q Name=%q LoginsLocally=%v", b.Type(), b.Name(), b.LoginsLocally())
	}
	create := "docker buildx create --platform linux/amd64 --name " + name + " --driver=docker-container && docker context create " + name + "-context --description '" + name + " host' --docker 'host=ssh://app@1.1.1.5' && docker buildx create --platform linux/arm64 --append --name " + name + " " + name + "-context"
	assertCommand(t, b.Create(), create, create)
	remove := "docker buildx rm " + name + " ; docker context rm " + name + "-context"
	assertCommand(t, b.Remove(), remove, remove)
	build := `docker buildx build --output=type=registry --platform linux/amd64,linux/arm64 --builder ` + name + ` -t dhh/app:123 -t dhh/app:latest --label service="app" --file Dockerfile . 2>&1`
	assertCommand(t, mustPush(t, b, PushOptions{Version: "123", Dir: appDir(t, "Dockerfile")}), build, `( export BUILDKIT_NO_CLIENT_TOKEN="1" ; `+build+` )`)

	// A local registry adds host networking to both nodes.
	cfg.Registry = config.Registry{Server: "localhost:5000", Local: true, LocalPort: 5000}
	b = mustBuilder(t, cfg, "arm64")
	const lname = "kamal-hybrid-docker-container-ssh---app-1-1-1-5-local-registry"
	create = "docker buildx create --platform linux/arm64 --name " + lname + " --driver=docker-container --driver-opt network=host && docker context create " + lname + "-context --description '" + lname + " host' --docker 'host=ssh://app@1.1.1.5' && docker buildx create --platform linux/amd64 --append --name " + lname + " --driver-opt network=host " + lname + "-context"
	assertCommand(t, b.Create(), create, create)
}

func TestV2CloudBuilder(t *testing.T) {
	b := mustBuilder(t, v2Config(config.Builder{Arches: []string{"amd64"}, Driver: "cloud example_org/cloud_builder"}), "")
	if b.Type() != "cloud" || b.Name() != "cloud-example_org-cloud_builder" || !b.LoginsLocally() {
		t.Errorf("Type=%q Name=%q LoginsLocally=%v", b.Type(), b.Name(), b.LoginsLocally())
	}
	assertCommand(t, b.Create(), "docker buildx create --driver cloud example_org/cloud_builder", "docker buildx create --driver cloud example_org/cloud_builder")
	assertCommand(t, b.Remove(), "docker buildx rm cloud-example_org-cloud_builder", "docker buildx rm cloud-example_org-cloud_builder")
	assertCommand(t, b.Inspect(), "docker buildx inspect cloud-example_org-cloud_builder", "docker buildx inspect cloud-example_org-cloud_builder")
	assertCommand(t, b.Info(), "docker context ls && docker buildx ls", "docker context ls && docker buildx ls")
	const build = `docker buildx build --output=type=registry --platform linux/amd64 --builder cloud-example_org-cloud_builder -t dhh/app:123 -t dhh/app:latest --label service="app" --file Dockerfile . 2>&1`
	assertCommand(t, mustPush(t, b, PushOptions{Version: "123", Dir: appDir(t, "Dockerfile")}), build, build)
}

func TestV2PackBuilder(t *testing.T) {
	cfg := v2Config(config.Builder{
		Arches:  []string{"amd64"},
		Pack:    &config.Pack{Builder: "heroku/builder:24", Buildpacks: []string{"heroku/ruby", "heroku/procfile"}},
		Args:    []config.KV{{Key: "RUBY", Value: "3.3"}},
		Secrets: []string{"API_KEY"},
	})
	cfg.Registry.Server = "ghcr.io"
	b := mustBuilder(t, cfg, "")
	if b.Type() != "pack" || b.Name() != "" || !b.LoginsLocally() {
		t.Errorf("Type=%q Name=%q LoginsLocally=%v", b.Type(), b.Name(), b.LoginsLocally())
	}
	assertEmpty(t, b.Create())
	assertEmpty(t, b.Remove())
	const info = "/usr/bin/env pack builder inspect heroku/builder:24"
	assertCommand(t, b.Info(), info, info)
	assertCommand(t, b.Inspect(), info, info)

	secret := func(name string) (string, error) {
		if name != "API_KEY" {
			return "", fmt.Errorf("unexpected %s", name)
		}
		return "s3cr3t", nil
	}
	// No Dockerfile: pack does not check one.
	cmd := mustPush(t, b, PushOptions{Version: "123", Dir: t.TempDir(), SecretValue: secret, NoCache: true})
	const pre = `/usr/bin/env pack build ghcr.io/dhh/app --platform linux/amd64 --creation-time now --builder heroku/builder:24 --buildpack heroku/ruby --buildpack heroku/procfile --buildpack paketo-buildpacks/image-labels -t ghcr.io/dhh/app:123 -t ghcr.io/dhh/app:latest --clear-cache --env BP_IMAGE_LABELS=service=app --env RUBY="3.3" --env `
	const post = ` --path . && docker push ghcr.io/dhh/app:123 && docker push ghcr.io/dhh/app:latest`
	assertCommand(t, cmd, pre+"[REDACTED]"+post, pre+`API_KEY="s3cr3t"`+post)

	// Exporting anywhere but the registry pushes nothing; the configured
	// buildpacks are not mutated by a previous push.
	cmd = mustPush(t, b, PushOptions{Version: "123", Output: "docker", SecretValue: secret})
	const docker = `/usr/bin/env pack build ghcr.io/dhh/app --platform linux/amd64 --creation-time now --builder heroku/builder:24 --buildpack heroku/ruby --buildpack heroku/procfile --buildpack paketo-buildpacks/image-labels -t ghcr.io/dhh/app:123 -t ghcr.io/dhh/app:latest --env BP_IMAGE_LABELS=service=app --env RUBY="3.3" --env [REDACTED] --path .`
	if got := cmd.Logged(); got != docker {
		t.Errorf("got  %s\nwant %s", got, docker)
	}

	if _, err := b.Push(PushOptions{Version: "123"}); err == nil {
		t.Error("pack secrets without SecretValue: want an error")
	}
}

func TestLocalArchHelpers(t *testing.T) {
	for in, want := range map[string]string{"x86_64\n": "amd64", "aarch64": "arm64", "arm64": "arm64", "riscv64": "riscv64"} {
		if got := NormalizeArch(in); got != want {
			t.Errorf("NormalizeArch(%q) = %q, want %q", in, got, want)
		}
	}
}
