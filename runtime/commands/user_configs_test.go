package commands

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/kamal-go/kamal/runtime/config"
	"github.com/kamal-go/kamal/runtime/shell"
)

// Every builder, registry and SSH command string, rendered from a deploy.yml
// as a user writes it (loaded by runtime/config, validation included),
// not from hand-built structs.

// userConfig loads deploy (the lines after the common head) from a fresh
// app directory holding a Dockerfile (and Dockerfile.prod).
func userConfig(t *testing.T, deploy string) (*config.Config, string) {
	t.Helper()
	dir := appDir(t, "Dockerfile", "Dockerfile.prod")
	if err := os.MkdirAll(filepath.Join(dir, "config"), 0o755); err != nil {
		t.Fatal(err)
	}
	yml := "service: app\nimage: dhh/app\nservers:\n  - 1.1.1.1\n  - 1.1.1.2\n" + deploy
	if err := os.WriteFile(filepath.Join(dir, "config", "deploy.yml"), []byte(yml), 0o644); err != nil {
		t.Fatal(err)
	}
	cfg, err := config.Load(config.Options{Dir: dir, Path: "config/deploy.yml"})
	if err != nil {
		t.Fatalf("loading:\n%s\n%v", yml, err)
	}
	return cfg, dir
}

const hub = "registry:\n  username: dhh\n  password: secret\n"

// want lists the expected renderings; "" means an empty command, a field
// left out is not checked.
type want struct {
	typ, name                           string
	create, remove, inspect, info, push *string
	env                                 string // the push's ( export ... ) form, when it has one
	loginsLocally                       *bool
	contextHosts                        []string
}

func s(v string) *string { return &v }
func b(v bool) *bool     { return &v }

func checkBuilder(t *testing.T, bld Builder, dir string, w want, o PushOptions) {
	t.Helper()
	if w.typ != "" && bld.Type() != w.typ {
		t.Errorf("Type() = %q, want %q", bld.Type(), w.typ)
	}
	if w.name != "" && bld.Name() != w.name {
		t.Errorf("Name() = %q, want %q", bld.Name(), w.name)
	}
	check := func(what string, c *shell.Command, want *string) {
		t.Helper()
		if want == nil {
			return
		}
		if *want == "" {
			if !c.Empty() {
				t.Errorf("%s = %q, want nothing", what, c.Logged())
			}
			return
		}
		if got := c.Logged(); got != *want {
			t.Errorf("%s:\n got  %s\n want %s", what, got, *want)
		}
	}
	check("Create()", bld.Create(), w.create)
	check("Remove()", bld.Remove(), w.remove)
	check("Inspect()", bld.Inspect(), w.inspect)
	check("Info()", bld.Info(), w.info)
	if w.push != nil {
		o.Dir = dir
		if o.Version == "" {
			o.Version = "999"
		}
		c, err := bld.Push(o)
		if err != nil {
			t.Fatalf("Push: %v", err)
		}
		check("Push()", c, w.push)
		if w.env != "" && c.Debug() != w.env {
			t.Errorf("Push().Debug():\n got  %s\n want %s", c.Debug(), w.env)
		}
	}
	if w.loginsLocally != nil && bld.LoginsLocally() != *w.loginsLocally {
		t.Errorf("LoginsLocally() = %v", bld.LoginsLocally())
	}
	if w.contextHosts != nil && strings.Join(bld.ContextHosts(), ",") != strings.Join(w.contextHosts, ",") {
		t.Errorf("ContextHosts() = %q, want %q", bld.ContextHosts(), w.contextHosts)
	}
}

func TestKamal2BuildersFromUserConfigs(t *testing.T) {
	tests := []struct {
		name      string
		yml       string
		localArch string
		opts      PushOptions
		want      want
	}{
		{
			name: "local docker-container, one arch",
			yml:  hub + "builder:\n  arch: amd64\n",
			want: want{typ: "local", name: "kamal-local-docker-container",
				create:        s("docker buildx create --name kamal-local-docker-container --driver=docker-container"),
				remove:        s("docker buildx rm kamal-local-docker-container"),
				inspect:       s("docker buildx inspect kamal-local-docker-container"),
				info:          s("docker context ls && docker buildx ls"),
				push:          s(`docker buildx build --output=type=registry --platform linux/amd64 --builder kamal-local-docker-container -t dhh/app:999 -t dhh/app:latest --label service="app" --file Dockerfile . 2>&1`),
				loginsLocally: b(true)},
		},
		{
			name: "docker driver: no builder to manage, no --builder",
			yml:  hub + "builder:\n  arch: amd64\n  driver: docker\n",
			want: want{typ: "local", create: s(""), remove: s(""), inspect: s(""),
				push: s(`docker buildx build --output=type=registry --platform linux/amd64 -t dhh/app:999 -t dhh/app:latest --label service="app" --file Dockerfile . 2>&1`)},
		},
		{
			name: "multi-arch list, every option, in Kamal's order",
			yml: hub + `builder:
  arch:
    - amd64
    - arm64
  dockerfile: Dockerfile.prod
  target: production
  context: .
  ssh: default=$SSH_AUTH_SOCK
  provenance: mode=max
  sbom: true
  args:
    RUBY_VERSION: 3.3.0
    DEBUG: false
    FROM_ENV:
  secrets:
    - GITHUB_TOKEN
  cache:
    type: registry
    options: mode=max,image-manifest=true
`,
			opts: PushOptions{NoCache: true},
			want: want{typ: "local",
				push: s(`docker buildx build --output=type=registry --platform linux/amd64,linux/arm64 --builder kamal-local-docker-container -t dhh/app:999 -t dhh/app:latest --cache-to type=registry,ref=dhh/app-build-cache,mode=max,image-manifest=true --cache-from type=registry,ref=dhh/app-build-cache --label service="app" --build-arg [REDACTED] --build-arg DEBUG=false --build-arg FROM_ENV --secret id="GITHUB_TOKEN" --file Dockerfile.prod --target production --ssh default=$SSH_AUTH_SOCK --provenance mode=max --sbom true --no-cache . 2>&1`)},
		},
		{
			name: "gha cache: only url/url_v2/token/scope/timeout go to --cache-from",
			yml:  "registry:\n  server: ghcr.io\n  username: dhh\n  password: secret\nbuilder:\n  arch: amd64\n  provenance: false\n  cache:\n    type: gha\n    options: mode=max,scope=test,url=http://cache,ignore-error=true\n",
			want: want{
				push: s(`docker buildx build --output=type=registry --platform linux/amd64 --builder kamal-local-docker-container -t ghcr.io/dhh/app:999 -t ghcr.io/dhh/app:latest --cache-to type=gha,mode=max,scope=test,url=http://cache,ignore-error=true --cache-from type=gha,scope=test,url=http://cache --label service="app" --file Dockerfile --provenance false . 2>&1`)},
		},
		{
			name: "registry cache with its own image, registry server prefix",
			yml:  "registry:\n  server: registry.example.com:4443\n  username: dhh\n  password: secret\nbuilder:\n  arch: amd64\n  cache:\n    type: registry\n    image: caches/app\n",
			want: want{
				push: s(`docker buildx build --output=type=registry --platform linux/amd64 --builder kamal-local-docker-container -t registry.example.com:4443/dhh/app:999 -t registry.example.com:4443/dhh/app:latest --cache-to type=registry,ref=registry.example.com:4443/caches/app --cache-from type=registry,ref=registry.example.com:4443/caches/app --label service="app" --file Dockerfile . 2>&1`)},
		},
		{
			name: "local registry: own builder name, host networking, no login",
			yml:  "registry:\n  server: localhost:5000\nbuilder:\n  arch: amd64\n",
			want: want{typ: "local", name: "kamal-local-registry-docker-container",
				create:        s("docker buildx create --name kamal-local-registry-docker-container --driver=docker-container --driver-opt network=host"),
				push:          s(`docker buildx build --output=type=registry --platform linux/amd64 --builder kamal-local-registry-docker-container -t localhost:5000/dhh/app:999 -t localhost:5000/dhh/app:latest --label service="app" --file Dockerfile . 2>&1`),
				loginsLocally: b(false)},
		},
		{
			name:      "remote: arch the local machine lacks",
			yml:       hub + "builder:\n  arch: arm64\n  remote: ssh://app@1.1.1.5:2122\n",
			localArch: "amd64",
			want: want{typ: "remote", name: "kamal-remote-ssh---app-1-1-1-5-2122",
				create:        s("docker context create kamal-remote-ssh---app-1-1-1-5-2122-context --description 'kamal-remote-ssh---app-1-1-1-5-2122 host' --docker 'host=ssh://app@1.1.1.5:2122' ; docker buildx create --name kamal-remote-ssh---app-1-1-1-5-2122 kamal-remote-ssh---app-1-1-1-5-2122-context"),
				remove:        s("docker buildx rm kamal-remote-ssh---app-1-1-1-5-2122 ; docker context rm kamal-remote-ssh---app-1-1-1-5-2122-context"),
				inspect:       s("docker buildx inspect kamal-remote-ssh---app-1-1-1-5-2122 | grep -q Endpoint:.*kamal-remote-ssh---app-1-1-1-5-2122-context && docker context inspect kamal-remote-ssh---app-1-1-1-5-2122-context --format '{{.Endpoints.docker.Host}}' | grep -xq ssh://app@1.1.1.5:2122 || (echo no compatible builder && exit 1)"),
				info:          s("docker context ls ; docker buildx ls"),
				push:          s(`docker buildx build --output=type=registry --platform linux/arm64 --builder kamal-remote-ssh---app-1-1-1-5-2122 -t dhh/app:999 -t dhh/app:latest --label service="app" --file Dockerfile . 2>&1`),
				env:           `( export BUILDKIT_NO_CLIENT_TOKEN="1" ; docker buildx build --output=type=registry --platform linux/arm64 --builder kamal-remote-ssh---app-1-1-1-5-2122 -t dhh/app:999 -t dhh/app:latest --label service="app" --file Dockerfile . 2>&1 )`,
				loginsLocally: b(false)},
		},
		{
			name:      "remote with local: false, even for the local arch",
			yml:       hub + "builder:\n  arch: amd64\n  local: false\n  remote: ssh://docker@builder\n",
			localArch: "amd64",
			want:      want{typ: "remote", name: "kamal-remote-ssh---docker-builder"},
		},
		{
			name:      "remote set but the arch is local: a plain local builder",
			yml:       hub + "builder:\n  arch: amd64\n  remote: ssh://docker@builder\n",
			localArch: "amd64",
			want:      want{typ: "local", name: "kamal-local-docker-container"},
		},
		{
			name:      "remote with a local registry: suffix and host networking",
			yml:       "registry:\n  server: localhost:5000\nbuilder:\n  arch: arm64\n  remote: ssh://root@server1\n",
			localArch: "amd64",
			want: want{typ: "remote", name: "kamal-remote-ssh---root-server1-local-registry",
				create: s("docker context create kamal-remote-ssh---root-server1-local-registry-context --description 'kamal-remote-ssh---root-server1-local-registry host' --docker 'host=ssh://root@server1' ; docker buildx create --name kamal-remote-ssh---root-server1-local-registry --driver-opt network=host kamal-remote-ssh---root-server1-local-registry-context")},
		},
		{
			name:      "hybrid: local arch from docker info, the rest remote",
			yml:       hub + "builder:\n  arch:\n    - amd64\n    - arm64\n  remote: ssh://app@1.1.1.5\n",
			localArch: "amd64",
			want: want{typ: "hybrid", name: "kamal-hybrid-docker-container-ssh---app-1-1-1-5",
				create:  s("docker buildx create --platform linux/amd64 --name kamal-hybrid-docker-container-ssh---app-1-1-1-5 --driver=docker-container && docker context create kamal-hybrid-docker-container-ssh---app-1-1-1-5-context --description 'kamal-hybrid-docker-container-ssh---app-1-1-1-5 host' --docker 'host=ssh://app@1.1.1.5' && docker buildx create --platform linux/arm64 --append --name kamal-hybrid-docker-container-ssh---app-1-1-1-5 kamal-hybrid-docker-container-ssh---app-1-1-1-5-context"),
				remove:  s("docker buildx rm kamal-hybrid-docker-container-ssh---app-1-1-1-5 ; docker context rm kamal-hybrid-docker-container-ssh---app-1-1-1-5-context"),
				inspect: s("docker buildx inspect kamal-hybrid-docker-container-ssh---app-1-1-1-5 | grep -q Endpoint:.*kamal-hybrid-docker-container-ssh---app-1-1-1-5-context && docker context inspect kamal-hybrid-docker-container-ssh---app-1-1-1-5-context --format '{{.Endpoints.docker.Host}}' | grep -xq ssh://app@1.1.1.5 || (echo no compatible builder && exit 1)"),
				info:    s("docker context ls ; docker buildx ls"),
				push:    s(`docker buildx build --output=type=registry --platform linux/amd64,linux/arm64 --builder kamal-hybrid-docker-container-ssh---app-1-1-1-5 -t dhh/app:999 -t dhh/app:latest --label service="app" --file Dockerfile . 2>&1`),
				env:     `( export BUILDKIT_NO_CLIENT_TOKEN="1" ; docker buildx build --output=type=registry --platform linux/amd64,linux/arm64 --builder kamal-hybrid-docker-container-ssh---app-1-1-1-5 -t dhh/app:999 -t dhh/app:latest --label service="app" --file Dockerfile . 2>&1 )`},
		},
		{
			name:      "hybrid on an arm64 machine",
			yml:       hub + "builder:\n  arch:\n    - amd64\n    - arm64\n  remote: ssh://app@1.1.1.5\n",
			localArch: "arm64",
			want: want{typ: "hybrid",
				create: s("docker buildx create --platform linux/arm64 --name kamal-hybrid-docker-container-ssh---app-1-1-1-5 --driver=docker-container && docker context create kamal-hybrid-docker-container-ssh---app-1-1-1-5-context --description 'kamal-hybrid-docker-container-ssh---app-1-1-1-5 host' --docker 'host=ssh://app@1.1.1.5' && docker buildx create --platform linux/amd64 --append --name kamal-hybrid-docker-container-ssh---app-1-1-1-5 kamal-hybrid-docker-container-ssh---app-1-1-1-5-context")},
		},
		{
			name: "cloud",
			yml:  hub + "builder:\n  arch: amd64\n  driver: cloud example_org/cloud_builder\n",
			want: want{typ: "cloud", name: "cloud-example_org-cloud_builder",
				create:        s("docker buildx create --driver cloud example_org/cloud_builder"),
				remove:        s("docker buildx rm cloud-example_org-cloud_builder"),
				inspect:       s("docker buildx inspect cloud-example_org-cloud_builder"),
				info:          s("docker context ls && docker buildx ls"),
				push:          s(`docker buildx build --output=type=registry --platform linux/amd64 --builder cloud-example_org-cloud_builder -t dhh/app:999 -t dhh/app:latest --label service="app" --file Dockerfile . 2>&1`),
				loginsLocally: b(true)},
		},
		{
			name: "pack: secrets are sensitive --env, args are not",
			yml:  hub + "builder:\n  arch: amd64\n  args:\n    RAILS_ENV: production\n  secrets:\n    - API_KEY\n  pack:\n    builder: heroku/builder:24\n    buildpacks:\n      - heroku/ruby\n      - heroku/procfile\n",
			opts: PushOptions{NoCache: true, SecretValue: func(string) (string, error) { return "k3y", nil }},
			want: want{typ: "pack", name: "",
				create: s(""), remove: s(""),
				inspect:       s("/usr/bin/env pack builder inspect heroku/builder:24"),
				info:          s("/usr/bin/env pack builder inspect heroku/builder:24"),
				push:          s(`/usr/bin/env pack build dhh/app --platform linux/amd64 --creation-time now --builder heroku/builder:24 --buildpack heroku/ruby --buildpack heroku/procfile --buildpack paketo-buildpacks/image-labels -t dhh/app:999 -t dhh/app:latest --clear-cache --env BP_IMAGE_LABELS=service=app --env RAILS_ENV="production" --env [REDACTED] --path . && docker push dhh/app:999 && docker push dhh/app:latest`),
				loginsLocally: b(true)},
		},
		{
			name: "pack exporting elsewhere than the registry does not push",
			yml:  hub + "builder:\n  arch: amd64\n  pack:\n    builder: heroku/builder:24\n    buildpacks:\n      - heroku/ruby\n",
			opts: PushOptions{Output: "docker"},
			want: want{push: s(`/usr/bin/env pack build dhh/app --platform linux/amd64 --creation-time now --builder heroku/builder:24 --buildpack heroku/ruby --buildpack paketo-buildpacks/image-labels -t dhh/app:999 -t dhh/app:latest --env BP_IMAGE_LABELS=service=app --path .`)},
		},
		{
			name: "dev: dirty tags, docker output, destination latest tag",
			yml:  hub + "builder:\n  arch: amd64\n",
			opts: PushOptions{Dev: true},
			want: want{push: s(`docker buildx build --output=type=docker --platform linux/amd64 --builder kamal-local-docker-container -t dhh/app:999-dirty -t dhh/app:latest-dirty --label service="app" --file Dockerfile . 2>&1`)},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg, dir := userConfig(t, tt.yml)
			if cfg.Generation != config.Kamal2 {
				t.Fatalf("generation %v, want Kamal 2", cfg.Generation)
			}
			checkBuilder(t, mustBuilder(t, cfg, tt.localArch), dir, tt.want, tt.opts)
		})
	}
}

func TestKamal1BuildersFromUserConfigs(t *testing.T) {
	const reg = "registry:\n  username: dhh\n  password: secret\n"
	tests := []struct {
		name string
		yml  string
		want want
	}{
		{
			name: "multiarch (the default)",
			yml:  reg,
			want: want{typ: "multiarch", name: "kamal-app-multiarch",
				create: s("docker buildx create --use --name kamal-app-multiarch"), remove: s("docker buildx rm kamal-app-multiarch"),
				inspect: s("docker buildx inspect kamal-app-multiarch > /dev/null"), info: s("docker context ls && docker buildx ls"),
				push:         s(`docker buildx build --push --platform linux/amd64,linux/arm64 --builder kamal-app-multiarch -t dhh/app:999 -t dhh/app:latest --label service="app" --file Dockerfile .`),
				contextHosts: []string{}},
		},
		{
			name: "multiarch with a local arch builds that arch only",
			yml:  reg + "builder:\n  local:\n    arch: arm64\n",
			want: want{typ: "multiarch", push: s(`docker buildx build --push --platform linux/arm64 --builder kamal-app-multiarch -t dhh/app:999 -t dhh/app:latest --label service="app" --file Dockerfile .`)},
		},
		{
			name: "multiarch/remote",
			yml:  reg + "builder:\n  local:\n    arch: amd64\n    host: unix:///var/run/docker.sock\n  remote:\n    arch: arm64\n    host: ssh://root@192.168.0.1\n",
			want: want{typ: "multiarch/remote", name: "kamal-app-multiarch-remote",
				create:       s("docker context create kamal-app-multiarch-remote-amd64 --description 'kamal-app-multiarch-remote amd64 native host' --docker 'host=unix:///var/run/docker.sock' && docker context create kamal-app-multiarch-remote-arm64 --description 'kamal-app-multiarch-remote arm64 native host' --docker 'host=ssh://root@192.168.0.1' && docker buildx create --name kamal-app-multiarch-remote kamal-app-multiarch-remote-amd64 --platform linux/amd64 && docker buildx create --append --name kamal-app-multiarch-remote kamal-app-multiarch-remote-arm64 --platform linux/arm64"),
				remove:       s("docker buildx rm kamal-app-multiarch-remote ; docker context rm kamal-app-multiarch-remote-amd64 && docker context rm kamal-app-multiarch-remote-arm64"),
				inspect:      s("docker context inspect kamal-app-multiarch-remote-amd64 --format '{{.Endpoints.docker.Host}}' ; docker context inspect kamal-app-multiarch-remote-arm64 --format '{{.Endpoints.docker.Host}}'"),
				info:         s("docker context ls && docker buildx ls"),
				push:         s(`docker buildx build --push --platform linux/amd64,linux/arm64 --builder kamal-app-multiarch-remote -t dhh/app:999 -t dhh/app:latest --label service="app" --file Dockerfile .`),
				contextHosts: []string{"unix:///var/run/docker.sock", "ssh://root@192.168.0.1"}},
		},
		{
			name: "native/remote",
			yml:  reg + "builder:\n  remote:\n    arch: arm64\n    host: ssh://root@192.168.0.1\n",
			want: want{typ: "native/remote", name: "kamal-app-native-remote",
				create:       s("docker context create kamal-app-native-remote-arm64 --description 'kamal-app-native-remote arm64 native host' --docker 'host=ssh://root@192.168.0.1' ; docker buildx create --name kamal-app-native-remote kamal-app-native-remote-arm64 --platform linux/arm64"),
				remove:       s("docker buildx rm kamal-app-native-remote ; docker context rm kamal-app-native-remote-arm64"),
				inspect:      s("docker context inspect kamal-app-native-remote-arm64 --format '{{.Endpoints.docker.Host}}'"),
				info:         s("docker context ls ; docker buildx ls"),
				push:         s(`docker buildx build --push --platform linux/arm64 --builder kamal-app-native-remote -t dhh/app:999 -t dhh/app:latest --label service="app" --file Dockerfile .`),
				contextHosts: []string{"ssh://root@192.168.0.1"}},
		},
		{
			name: "native/cached: Kamal 1 cache option order (options before ref)",
			yml:  "registry:\n  server: ghcr.io\n  username: dhh\n  password: secret\nbuilder:\n  multiarch: false\n  cache:\n    type: registry\n    options: mode=max\n",
			want: want{typ: "native/cached", name: "kamal-app-native-cached",
				create: s("docker buildx create --name kamal-app-native-cached --use --driver=docker-container"), remove: s("docker buildx rm kamal-app-native-cached"),
				inspect: s("docker buildx inspect kamal-app-native-cached > /dev/null"), info: s(""),
				push: s(`docker buildx build --push -t ghcr.io/dhh/app:999 -t ghcr.io/dhh/app:latest --cache-to type=registry,mode=max,ref=ghcr.io/dhh/app-build-cache --cache-from type=registry,ref=ghcr.io/dhh/app-build-cache --label service="app" --file Dockerfile .`)},
		},
		{
			name: "native: plain docker build and two pushes; gha options only on --cache-to",
			yml:  reg + "builder:\n  multiarch: false\n  context: .\n  args:\n    DEBUG: false\n",
			want: want{typ: "native", name: "", create: s(""), remove: s(""), info: s(""),
				inspect: s("/usr/bin/env true"),
				push:    s(`docker build -t dhh/app:999 -t dhh/app:latest --label service="app" --build-arg DEBUG --file Dockerfile . && docker push dhh/app:999 && docker push dhh/app:latest`)},
		},
		{
			name: "native/cached with gha",
			yml:  reg + "builder:\n  multiarch: false\n  cache:\n    type: gha\n    options: mode=max\n",
			want: want{push: s(`docker buildx build --push -t dhh/app:999 -t dhh/app:latest --cache-to type=gha,mode=max --cache-from type=gha --label service="app" --file Dockerfile .`)},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg, dir := userConfig(t, tt.yml)
			if cfg.Generation != config.Kamal1 {
				t.Fatalf("generation %v, want Kamal 1", cfg.Generation)
			}
			checkBuilder(t, mustBuilder(t, cfg, ""), dir, tt.want, PushOptions{})
		})
	}
}

func TestRegistryCommandsFromUserConfigs(t *testing.T) {
	cfg, _ := userConfig(t, "registry:\n  server: ghcr.io\n  username: dhh\n  password: secret\nbuilder:\n  arch: amd64\n")
	login := Login(cfg, "dhh", "more-secret'\"")
	assertCommand(t, login, "docker login ghcr.io -u [REDACTED] -p [REDACTED]", `docker login ghcr.io -u "dhh" --password-stdin`)
	if login.Stdin != "more-secret'\"" {
		t.Errorf("Stdin = %q", login.Stdin)
	}
	cfg, _ = userConfig(t, hub+"builder:\n  arch: amd64\n")
	assertCommand(t, Login(cfg, "dhh", "pw"), "docker login -u [REDACTED] -p [REDACTED]", `docker login -u "dhh" --password-stdin`)

	cfg, _ = userConfig(t, "registry:\n  server: localhost:5555\nbuilder:\n  arch: amd64\n")
	if !cfg.Registry.Local || cfg.Registry.LocalPort != 5555 {
		t.Fatalf("registry %+v, want local on 5555", cfg.Registry)
	}
	assertEmpty(t, Login(cfg, "", ""))
	const start = "docker start kamal-docker-registry || docker run --detach -p 127.0.0.1:5555:5000 --name kamal-docker-registry registry:3"
	assertCommand(t, LocalRegistryStart(cfg), start, start)
	const remove = "docker stop kamal-docker-registry && docker rm kamal-docker-registry"
	assertCommand(t, LocalRegistryRemove(cfg), remove, remove)
	// Pull side of a local registry: the image is localhost:PORT/<image>.
	assertCommand(t, Pull(cfg.AbsoluteImage("999")), "docker pull localhost:5555/dhh/app:999", "docker pull localhost:5555/dhh/app:999")

	// `server: localhost` without a port is not a local registry: Kamal
	// needs the port to publish the registry container on.
	cfg, _ = userConfig(t, "registry:\n  server: localhost\n  username: u\n  password: p\nbuilder:\n  arch: amd64\n")
	if cfg.Registry.Local {
		t.Error("registry server localhost (no port) taken as local")
	}
}
