package commands

import (
	"slices"
	"strings"
	"testing"

	"github.com/kamal-go/kamal/runtime/config"
)

const seedVersion = "24b6e0d8d17159f4bc57db8ced6f87bc2f6e2127"

// seedV1 is the Kamal 1 config of the seed rig: multiarch false, one build
// arg, a registry on 127.0.0.1:5000.
func seedV1() *config.Config {
	return &config.Config{
		Generation: config.Kamal1,
		Service:    "app",
		Image:      "app",
		Registry:   config.Registry{Server: "127.0.0.1:5000"},
		Builder: config.Builder{
			Multiarch: ptr(false),
			Args:      []config.KV{{Key: "COMMIT_SHA", Value: seedVersion}},
		},
	}
}

func TestV1NativePushPipesGitArchiveLikeKamal152(t *testing.T) {
	b := mustBuilder(t, seedV1(), "")
	cmd := mustPush(t, b, PushOptions{Version: seedVersion, Dir: appDir(t, "Dockerfile"), GitArchive: true})
	// Transcript kamal-1.5.2 build-push-v.txt, Running and Command lines.
	const logged = `/usr/bin/env git archive --format=tar HEAD | docker build -t 127.0.0.1:5000/app:24b6e0d8d17159f4bc57db8ced6f87bc2f6e2127 -t 127.0.0.1:5000/app:latest --label service="app" --build-arg [REDACTED] --file Dockerfile - && docker push 127.0.0.1:5000/app:24b6e0d8d17159f4bc57db8ced6f87bc2f6e2127 && docker push 127.0.0.1:5000/app:latest`
	const executed = `/usr/bin/env git archive --format=tar HEAD | docker build -t 127.0.0.1:5000/app:24b6e0d8d17159f4bc57db8ced6f87bc2f6e2127 -t 127.0.0.1:5000/app:latest --label service="app" --build-arg COMMIT_SHA="24b6e0d8d17159f4bc57db8ced6f87bc2f6e2127" --file Dockerfile - && docker push 127.0.0.1:5000/app:24b6e0d8d17159f4bc57db8ced6f87bc2f6e2127 && docker push 127.0.0.1:5000/app:latest`
	assertCommand(t, cmd, logged, executed)
	if got := cmd.Debug(); got != logged {
		t.Errorf("Debug() = %s", got)
	}
	if got := cmd.Name(); got != "git" {
		t.Errorf("Name() = %q, want git", got)
	}
	if len(cmd.Env) != 0 {
		t.Errorf("Kamal 1 push carries env %v", cmd.Env)
	}
}

func TestV1NativeBuilderCommands(t *testing.T) {
	b := mustBuilder(t, seedV1(), "")
	if b.Type() != "native" || b.Name() != "" || b.LoginsLocally() {
		t.Errorf("Type=%q Name=%q LoginsLocally=%v", b.Type(), b.Name(), b.LoginsLocally())
	}
	// Transcript: "Running docker --version on localhost".
	assertCommand(t, b.EnsureInstalled(), "docker --version", "docker --version")
	assertEmpty(t, b.Create())
	assertEmpty(t, b.Remove())
	assertEmpty(t, b.Info())
	assertCommand(t, b.Inspect(), "/usr/bin/env true", "/usr/bin/env true")
	if b.ContextHosts() != nil {
		t.Errorf("ContextHosts = %v", b.ContextHosts())
	}
}

func TestV1PushContext(t *testing.T) {
	dir := appDir(t, "Dockerfile")
	tests := []struct {
		name       string
		context    *string
		gitArchive bool
		want       string
	}{
		{
			name:       "configured context replaces git archive",
			context:    ptr("."),
			gitArchive: true,
			want:       `docker build -t 127.0.0.1:5000/app:999 -t 127.0.0.1:5000/app:latest --label service="app" --build-arg [REDACTED] --file Dockerfile . && docker push 127.0.0.1:5000/app:999 && docker push 127.0.0.1:5000/app:latest`,
		},
		{
			name:       "configured subdirectory context",
			context:    ptr("web"),
			gitArchive: true,
			want:       `docker build -t 127.0.0.1:5000/app:999 -t 127.0.0.1:5000/app:latest --label service="app" --build-arg [REDACTED] --file Dockerfile web && docker push 127.0.0.1:5000/app:999 && docker push 127.0.0.1:5000/app:latest`,
		},
		{
			name: "no git: current directory",
			want: `docker build -t 127.0.0.1:5000/app:999 -t 127.0.0.1:5000/app:latest --label service="app" --build-arg [REDACTED] --file Dockerfile . && docker push 127.0.0.1:5000/app:999 && docker push 127.0.0.1:5000/app:latest`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := seedV1()
			if tt.context != nil {
				cfg.Builder.Context, cfg.Builder.HasContext = *tt.context, true
			}
			cmd := mustPush(t, mustBuilder(t, cfg, ""), PushOptions{Version: "999", Dir: dir, GitArchive: tt.gitArchive})
			if got := cmd.Logged(); got != tt.want {
				t.Errorf("got  %s\nwant %s", got, tt.want)
			}
		})
	}
}

func TestV1BuilderTypeSelection(t *testing.T) {
	remote := &config.ArchHost{Arch: "arm64", Host: "ssh://root@192.168.0.1"}
	local := &config.ArchHost{Arch: "amd64", Host: "unix:///var/run/docker.sock"}
	tests := []struct {
		name    string
		builder config.Builder
		typ     string
		bname   string
	}{
		{"default is multiarch", config.Builder{}, "multiarch", "kamal-app-multiarch"},
		{"multiarch with local only", config.Builder{LocalHost: local}, "multiarch", "kamal-app-multiarch"},
		{"remote only is native/remote", config.Builder{RemoteHost: remote}, "native/remote", "kamal-app-native-remote"},
		{"remote and local is multiarch/remote", config.Builder{RemoteHost: remote, LocalHost: local}, "multiarch/remote", "kamal-app-multiarch-remote"},
		{"multiarch false", config.Builder{Multiarch: ptr(false)}, "native", ""},
		{"multiarch false ignores remote", config.Builder{Multiarch: ptr(false), RemoteHost: remote, LocalHost: local}, "native", ""},
		{"multiarch false with cache", config.Builder{Multiarch: ptr(false), Cache: &config.Cache{Type: "gha"}}, "native/cached", "kamal-app-native-cached"},
		{"multiarch true explicitly", config.Builder{Multiarch: ptr(true)}, "multiarch", "kamal-app-multiarch"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := &config.Config{Generation: config.Kamal1, Service: "app", Image: "dhh/app", Builder: tt.builder}
			b := mustBuilder(t, cfg, "arm64")
			if b.Type() != tt.typ || b.Name() != tt.bname {
				t.Errorf("got %q/%q, want %q/%q", b.Type(), b.Name(), tt.typ, tt.bname)
			}
		})
	}
}

func v1Config(b config.Builder) *config.Config {
	return &config.Config{Generation: config.Kamal1, Service: "app", Image: "dhh/app", Builder: b}
}

func TestV1BuildxBuilderCommands(t *testing.T) {
	remote := &config.ArchHost{Arch: "arm64", Host: "ssh://app@host"}
	local := &config.ArchHost{Arch: "amd64", Host: "unix:///var/run/docker.sock"}
	const ctxInspect = `--format '{{.Endpoints.docker.Host}}'`
	tests := []struct {
		name                                string
		builder                             config.Builder
		create, remove, inspect, info, push string
		contextHosts                        []string
	}{
		{
			name:    "multiarch",
			builder: config.Builder{},
			create:  "docker buildx create --use --name kamal-app-multiarch",
			remove:  "docker buildx rm kamal-app-multiarch",
			inspect: "docker buildx inspect kamal-app-multiarch > /dev/null",
			info:    "docker context ls && docker buildx ls",
			push:    `/usr/bin/env git archive --format=tar HEAD | docker buildx build --push --platform linux/amd64,linux/arm64 --builder kamal-app-multiarch -t dhh/app:123 -t dhh/app:latest --label service="app" --file Dockerfile -`,
		},
		{
			name:    "multiarch with local arch builds that arch only",
			builder: config.Builder{LocalHost: &config.ArchHost{Arch: "amd64"}},
			create:  "docker buildx create --use --name kamal-app-multiarch",
			remove:  "docker buildx rm kamal-app-multiarch",
			inspect: "docker buildx inspect kamal-app-multiarch > /dev/null",
			info:    "docker context ls && docker buildx ls",
			push:    `/usr/bin/env git archive --format=tar HEAD | docker buildx build --push --platform linux/amd64 --builder kamal-app-multiarch -t dhh/app:123 -t dhh/app:latest --label service="app" --file Dockerfile -`,
		},
		{
			name:         "native/remote",
			builder:      config.Builder{RemoteHost: remote},
			create:       "docker context create kamal-app-native-remote-arm64 --description 'kamal-app-native-remote arm64 native host' --docker 'host=ssh://app@host' ; docker buildx create --name kamal-app-native-remote kamal-app-native-remote-arm64 --platform linux/arm64",
			remove:       "docker buildx rm kamal-app-native-remote ; docker context rm kamal-app-native-remote-arm64",
			inspect:      "docker context inspect kamal-app-native-remote-arm64 " + ctxInspect,
			info:         "docker context ls ; docker buildx ls",
			push:         `/usr/bin/env git archive --format=tar HEAD | docker buildx build --push --platform linux/arm64 --builder kamal-app-native-remote -t dhh/app:123 -t dhh/app:latest --label service="app" --file Dockerfile -`,
			contextHosts: []string{"ssh://app@host"},
		},
		{
			name:         "multiarch/remote",
			builder:      config.Builder{RemoteHost: remote, LocalHost: local},
			create:       "docker context create kamal-app-multiarch-remote-amd64 --description 'kamal-app-multiarch-remote amd64 native host' --docker 'host=unix:///var/run/docker.sock' && docker context create kamal-app-multiarch-remote-arm64 --description 'kamal-app-multiarch-remote arm64 native host' --docker 'host=ssh://app@host' && docker buildx create --name kamal-app-multiarch-remote kamal-app-multiarch-remote-amd64 --platform linux/amd64 && docker buildx create --append --name kamal-app-multiarch-remote kamal-app-multiarch-remote-arm64 --platform linux/arm64",
			remove:       "docker buildx rm kamal-app-multiarch-remote ; docker context rm kamal-app-multiarch-remote-amd64 && docker context rm kamal-app-multiarch-remote-arm64",
			inspect:      "docker context inspect kamal-app-multiarch-remote-amd64 " + ctxInspect + " ; docker context inspect kamal-app-multiarch-remote-arm64 " + ctxInspect,
			info:         "docker context ls && docker buildx ls",
			push:         `/usr/bin/env git archive --format=tar HEAD | docker buildx build --push --platform linux/amd64,linux/arm64 --builder kamal-app-multiarch-remote -t dhh/app:123 -t dhh/app:latest --label service="app" --file Dockerfile -`,
			contextHosts: []string{"unix:///var/run/docker.sock", "ssh://app@host"},
		},
		{
			name:         "multiarch/remote without local host",
			builder:      config.Builder{RemoteHost: remote, LocalHost: &config.ArchHost{Arch: "amd64"}},
			create:       "docker context create kamal-app-multiarch-remote-amd64 --description 'kamal-app-multiarch-remote amd64 native host' --docker 'host=' && docker context create kamal-app-multiarch-remote-arm64 --description 'kamal-app-multiarch-remote arm64 native host' --docker 'host=ssh://app@host' && docker buildx create --name kamal-app-multiarch-remote kamal-app-multiarch-remote-amd64 --platform linux/amd64 && docker buildx create --append --name kamal-app-multiarch-remote kamal-app-multiarch-remote-arm64 --platform linux/arm64",
			remove:       "docker buildx rm kamal-app-multiarch-remote ; docker context rm kamal-app-multiarch-remote-amd64 && docker context rm kamal-app-multiarch-remote-arm64",
			inspect:      "docker context inspect kamal-app-multiarch-remote-amd64 " + ctxInspect + " ; docker context inspect kamal-app-multiarch-remote-arm64 " + ctxInspect,
			info:         "docker context ls && docker buildx ls",
			push:         `/usr/bin/env git archive --format=tar HEAD | docker buildx build --push --platform linux/amd64,linux/arm64 --builder kamal-app-multiarch-remote -t dhh/app:123 -t dhh/app:latest --label service="app" --file Dockerfile -`,
			contextHosts: []string{"ssh://app@host"},
		},
		{
			name:    "native/cached",
			builder: config.Builder{Multiarch: ptr(false), Cache: &config.Cache{Type: "registry", Options: "mode=max"}},
			create:  "docker buildx create --name kamal-app-native-cached --use --driver=docker-container",
			remove:  "docker buildx rm kamal-app-native-cached",
			inspect: "docker buildx inspect kamal-app-native-cached > /dev/null",
			push:    `/usr/bin/env git archive --format=tar HEAD | docker buildx build --push -t dhh/app:123 -t dhh/app:latest --cache-to type=registry,mode=max,ref=dhh/app-build-cache --cache-from type=registry,ref=dhh/app-build-cache --label service="app" --file Dockerfile -`,
		},
	}
	dir := appDir(t, "Dockerfile")
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := mustBuilder(t, v1Config(tt.builder), "")
			assertCommand(t, b.EnsureInstalled(), "docker --version && docker buildx version", "docker --version && docker buildx version")
			assertCommand(t, b.Create(), tt.create, tt.create)
			assertCommand(t, b.Remove(), tt.remove, tt.remove)
			assertCommand(t, b.Inspect(), tt.inspect, tt.inspect)
			if tt.info == "" {
				assertEmpty(t, b.Info())
			} else {
				assertCommand(t, b.Info(), tt.info, tt.info)
			}
			assertCommand(t, mustPush(t, b, PushOptions{Version: "123", Dir: dir, GitArchive: true}), tt.push, tt.push)
			if got := b.ContextHosts(); !slices.Equal(got, tt.contextHosts) {
				t.Errorf("ContextHosts = %q, want %q", got, tt.contextHosts)
			}
		})
	}
}

func TestV1BuildOptions(t *testing.T) {
	dir := appDir(t, "Dockerfile", "Dockerfile.prod")
	tests := []struct {
		name     string
		builder  config.Builder
		server   string
		logged   string
		executed string
	}{
		{
			name: "args, secrets, dockerfile, target and ssh in Kamal's order",
			builder: config.Builder{
				Multiarch:  ptr(false),
				Args:       []config.KV{{Key: "a", Value: "1"}, {Key: "b", Value: "two words"}},
				Secrets:    []string{"GITHUB_TOKEN", "NPM"},
				Dockerfile: "Dockerfile.prod",
				Target:     "prod",
				SSH:        "default=$SSH_AUTH_SOCK",
			},
			logged:   `docker build -t dhh/app:123 -t dhh/app:latest --label service="app" --build-arg [REDACTED] --build-arg [REDACTED] --secret id="GITHUB_TOKEN" --secret id="NPM" --file Dockerfile.prod --target prod --ssh default=$SSH_AUTH_SOCK . && docker push dhh/app:123 && docker push dhh/app:latest`,
			executed: `docker build -t dhh/app:123 -t dhh/app:latest --label service="app" --build-arg a="1" --build-arg b="two words" --secret id="GITHUB_TOKEN" --secret id="NPM" --file Dockerfile.prod --target prod --ssh default=$SSH_AUTH_SOCK . && docker push dhh/app:123 && docker push dhh/app:latest`,
		},
		{
			name: "false and empty args are bare keys",
			builder: config.Builder{
				Multiarch: ptr(false),
				Args:      []config.KV{{Key: "OFF", Value: "false", IsFalse: true}, {Key: "PASS", IsEmpty: true}},
			},
			logged:   `docker build -t dhh/app:123 -t dhh/app:latest --label service="app" --build-arg OFF --build-arg PASS --file Dockerfile . && docker push dhh/app:123 && docker push dhh/app:latest`,
			executed: `docker build -t dhh/app:123 -t dhh/app:latest --label service="app" --build-arg OFF --build-arg PASS --file Dockerfile . && docker push dhh/app:123 && docker push dhh/app:latest`,
		},
		{
			name:     "non-ASCII build arg is a \\u escape",
			builder:  config.Builder{Multiarch: ptr(false), Args: []config.KV{{Key: "GREETING", Value: "héllo"}}},
			logged:   `docker build -t dhh/app:123 -t dhh/app:latest --label service="app" --build-arg [REDACTED] --file Dockerfile . && docker push dhh/app:123 && docker push dhh/app:latest`,
			executed: `docker build -t dhh/app:123 -t dhh/app:latest --label service="app" --build-arg GREETING="h\u00E9llo" --file Dockerfile . && docker push dhh/app:123 && docker push dhh/app:latest`,
		},
		{
			name:     "gha cache keeps options on cache-to only",
			builder:  config.Builder{Multiarch: ptr(false), Cache: &config.Cache{Type: "gha", Options: "mode=max,scope=test"}},
			logged:   `docker buildx build --push -t dhh/app:123 -t dhh/app:latest --cache-to type=gha,mode=max,scope=test --cache-from type=gha --label service="app" --file Dockerfile .`,
			executed: `docker buildx build --push -t dhh/app:123 -t dhh/app:latest --cache-to type=gha,mode=max,scope=test --cache-from type=gha --label service="app" --file Dockerfile .`,
		},
		{
			name:     "registry cache with server and image",
			server:   "ghcr.io",
			builder:  config.Builder{Multiarch: ptr(false), Cache: &config.Cache{Type: "registry", Image: "dhh/cache"}},
			logged:   `docker buildx build --push -t ghcr.io/dhh/app:123 -t ghcr.io/dhh/app:latest --cache-to type=registry,ref=ghcr.io/dhh/cache --cache-from type=registry,ref=ghcr.io/dhh/cache --label service="app" --file Dockerfile .`,
			executed: `docker buildx build --push -t ghcr.io/dhh/app:123 -t ghcr.io/dhh/app:latest --cache-to type=registry,ref=ghcr.io/dhh/cache --cache-from type=registry,ref=ghcr.io/dhh/cache --label service="app" --file Dockerfile .`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := v1Config(tt.builder)
			cfg.Registry.Server = tt.server
			assertCommand(t, mustPush(t, mustBuilder(t, cfg, ""), PushOptions{Version: "123", Dir: dir}), tt.logged, tt.executed)
		})
	}
}

func TestV1LatestTagCarriesDestination(t *testing.T) {
	cfg := seedV1()
	cfg.Destination = "staging"
	cfg.Builder.Args = nil
	cmd := mustPush(t, mustBuilder(t, cfg, ""), PushOptions{Version: "123", Dir: appDir(t, "Dockerfile")})
	const want = `docker build -t 127.0.0.1:5000/app:123 -t 127.0.0.1:5000/app:latest-staging --label service="app" --file Dockerfile . && docker push 127.0.0.1:5000/app:123 && docker push 127.0.0.1:5000/app:latest-staging`
	assertCommand(t, cmd, want, want)
}

func TestV1PushIntoTheLocalStoreOnlyForServe(t *testing.T) {
	cfg := seedV1()
	b := mustBuilder(t, cfg, "")
	native := mustPush(t, b, PushOptions{Version: seedVersion, Output: "docker", Dir: appDir(t, "Dockerfile"), GitArchive: true}).Logged()
	if strings.Contains(native, "docker push") || !strings.Contains(native, "| docker build -t 127.0.0.1:5000/app:"+seedVersion) {
		t.Errorf("native build for --serve: %s", native)
	}
	cfg.Builder.Multiarch = ptr(true)
	multi := mustPush(t, mustBuilder(t, cfg, "amd64"), PushOptions{Version: seedVersion, Output: "docker", Dir: appDir(t, "Dockerfile")}).Logged()
	if strings.Contains(multi, "--push") || !strings.HasPrefix(multi, "docker buildx build --load ") {
		t.Errorf("buildx build for --serve: %s", multi)
	}
}
