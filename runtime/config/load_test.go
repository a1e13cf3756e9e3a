package config

import (
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/kamal-go/kamal/runtime/kamalerr"
)

func TestLoad(t *testing.T) {
	tests := []struct {
		name  string
		fx    fixture
		check func(t *testing.T, c *Config)
	}{
		{
			name: "plain_server_list_is_the_web_role",
			fx:   deploy(v1Base),
			check: func(t *testing.T, c *Config) {
				eq(t, c.Roles, []Role{{Name: "web", Hosts: []string{"1.1.1.1"}}})
				eq(t, c.PrimaryRole, "web")
				eq(t, c.Generation, Kamal1)
			},
		},
		{
			name: "roles_are_sorted_by_name",
			fx: deploy(strings.Replace(v1Base, "servers:\n  - 1.1.1.1\n",
				"servers:\n  workers:\n    hosts: [1.1.1.3]\n    cmd: bin/jobs\n  web:\n    - 1.1.1.1\n    - 1.1.1.2: tag\n", 1)),
			check: func(t *testing.T, c *Config) {
				eq(t, c.Roles, []Role{{Name: "web", Hosts: []string{"1.1.1.1", "1.1.1.2"}}, {Name: "workers", Hosts: []string{"1.1.1.3"}}})
			},
		},
		{
			name: "destination_overlay_replaces_server_list",
			fx: deploy(v1Base).withDest("staging").with("config/deploy.staging.yml",
				"servers:\n  - 2.2.2.2\n  - 2.2.2.3\n"),
			check: func(t *testing.T, c *Config) {
				eq(t, c.Roles, []Role{{Name: "web", Hosts: []string{"2.2.2.2", "2.2.2.3"}}})
				eq(t, c.Destination, "staging")
			},
		},
		{
			name: "destination_overlay_merges_hashes_deeply",
			fx: deploy(v1Base+"builder:\n  args:\n    A: 1\n    B: 2\n").withDest("production").with("config/deploy.production.yml",
				"registry:\n  server: ghcr.io\nbuilder:\n  args:\n    B: 3\n    C: 4\n"),
			check: func(t *testing.T, c *Config) {
				eq(t, c.Registry.Server, "ghcr.io")
				eq(t, c.Registry.Username, Value{Literal: "dhh"})
				eq(t, c.Builder.Args, []KV{{Key: "A", Value: "1"}, {Key: "B", Value: "3"}, {Key: "C", Value: "4"}})
			},
		},
		{
			name: "overlay_array_replaces_builder_arch",
			fx: deploy(v1Base+"builder:\n  arch: [amd64, arm64]\n").withDest("s").with("config/deploy.s.yml",
				"builder:\n  arch: [arm64]\n"),
			check: func(t *testing.T, c *Config) { eq(t, c.Builder.Arches, []string{"arm64"}) },
		},
		{
			name: "anchors_aliases_and_merge_keys",
			fx: deploy(`x-common: &common
  username: dhh
  password: secret
x-hosts: &hosts
  - 3.3.3.3
service: app
image: dhh/app
servers:
  web: *hosts
registry:
  <<: *common
  server: ghcr.io
`),
			check: func(t *testing.T, c *Config) {
				eq(t, c.Registry, Registry{Server: "ghcr.io", Username: Value{Literal: "dhh"}, Password: Value{Literal: "secret"}})
				eq(t, c.Roles[0].Hosts, []string{"3.3.3.3"})
				if _, ok := c.Raw["x-common"]; !ok {
					t.Error("x- key missing from Raw")
				}
			},
		},
		{
			name: "merge_key_follows_psych_order",
			fx: deploy(v1Base + `x-a: &a {target: from-alias, dockerfile: D.alias}
builder:
  target: before
  <<: *a
  dockerfile: after
`),
			check: func(t *testing.T, c *Config) {
				eq(t, c.Builder.Target, "from-alias")
				eq(t, c.Builder.Dockerfile, "after")
			},
		},
		{
			name: "merge_key_sequence_first_wins",
			fx: deploy(v1Base + `x-a: &a {target: a}
x-b: &b {target: b, ssh: b}
builder:
  <<: [*a, *b]
`),
			check: func(t *testing.T, c *Config) {
				eq(t, c.Builder.Target, "a")
				eq(t, c.Builder.SSH, "b")
			},
		},
		{
			name: "path_option_is_relative_to_dir",
			fx:   fixture{path: "other/kamal.yml", files: map[string]string{"other/kamal.yml": v1Base}},
			check: func(t *testing.T, c *Config) {
				if !strings.HasSuffix(c.Path, filepath.Join("other", "kamal.yml")) || !filepath.IsAbs(c.Path) {
					t.Errorf("Path = %q", c.Path)
				}
			},
		},
		{
			name: "overlay_of_custom_path_replaces_last_extension",
			fx: fixture{path: "other/kamal.yaml", dest: "qa", files: map[string]string{
				"other/kamal.yaml": v1Base, "other/kamal.qa.yml": "image: qa/app\n"}},
			check: func(t *testing.T, c *Config) { eq(t, c.Image, "qa/app") },
		},
		{
			name: "empty_overlay_is_an_empty_hash",
			fx:   deploy(v1Base).withDest("s").with("config/deploy.s.yml", "# nothing\n"),
			check: func(t *testing.T, c *Config) {
				eq(t, c.Service, "app")
			},
		},
		{
			name: "defaults",
			fx:   deploy(v1Base),
			check: func(t *testing.T, c *Config) {
				eq(t, c.HooksPath, ".kamal/hooks")
				eq(t, c.SecretsPath, ".kamal/secrets")
				eq(t, c.RunDirectory, ".kamal")
				// user and port unset: ssh_config, else root and 22
				eq(t, c.SSH, SSH{LogLevel: "fatal"})
				eq(t, c.SSHKit, SSHKit{MaxConcurrentStarts: 30, PoolIdleTimeout: 900, DNSRetries: 3})
				eq(t, c.Builder, Builder{Dockerfile: "Dockerfile"})
				eq(t, c.Warnings, []string(nil))
			},
		},
		{
			name:  "kamal1_run_directory_is_configurable",
			fx:    deploy(v1Base + "run_directory: /var/kamal\n"),
			check: func(t *testing.T, c *Config) { eq(t, c.RunDirectory, "/var/kamal") },
		},
		{
			name:  "kamal2_ignores_run_directory",
			fx:    deploy(v2Base + "run_directory: /var/kamal\n"),
			check: func(t *testing.T, c *Config) { eq(t, c.RunDirectory, ".kamal") },
		},
		{
			name: "ssh_section",
			fx: deploy(v2Base + `ssh:
  user: app
  port: "2222"
  proxy: bastion.example.com
  proxy_command: ssh -W %h:%p x
  keys: [~/.ssh/id]
  keys_only: true
  log_level: debug
  key_data: [SSH_KEY]
  config: [~/.ssh/kamal]
  forward_agent: true
sshkit:
  max_concurrent_starts: 10
  pool_idle_timeout: 300
  dns_retries: 0
  max_concurrent_hosts: 20
`),
			check: func(t *testing.T, c *Config) {
				eq(t, c.SSH, SSH{User: "app", Port: 2222, Proxy: "root@bastion.example.com", ProxyCommand: "ssh -W %h:%p x",
					Keys: []string{"~/.ssh/id"}, KeyData: []Value{{Secret: "SSH_KEY"}}, KeysOnly: true, LogLevel: "debug",
					ConfigFiles: []string{"~/.ssh/kamal"}, ForwardAgent: true})
				eq(t, c.SSHKit, SSHKit{MaxConcurrentStarts: 10, PoolIdleTimeout: 300, DNSRetries: 0, MaxConcurrentHosts: 20})
			},
		},
		{
			name: "kamal1_ssh_port_string_as_documented",
			fx:   deploy(v1Base + "ssh:\n  port: \"2222\"\n"),
			check: func(t *testing.T, c *Config) {
				eq(t, c.SSH.Port, 2222)
				eq(t, c.SSH.BadPort, "")
			},
		},
		{
			name: "ssh_port_that_is_no_number_fails_only_on_connecting",
			fx:   deploy(v2Base + "ssh:\n  port: x-SSH_PORT\n"),
			check: func(t *testing.T, c *Config) {
				eq(t, c.SSH.Port, 0)
				eq(t, c.SSH.BadPort, "x-SSH_PORT")
			},
		},
		{
			name: "ssh_proxy_with_user_is_kept",
			fx:   deploy(v1Base + "ssh:\n  proxy: app@bastion\n  port: 2200\n  key_data: [\"-----BEGIN KEY-----\"]\n"),
			check: func(t *testing.T, c *Config) {
				eq(t, c.SSH.Proxy, "app@bastion")
				eq(t, c.SSH.Port, 2200)
				eq(t, c.SSH.KeyData, []Value{{Literal: "-----BEGIN KEY-----"}})
				eq(t, c.Warnings, []string(nil))
			},
		},
		{
			name: "kamal2_inline_key_data_warns",
			fx:   deploy(v2Base + "ssh:\n  key_data: [\"-----BEGIN OPENSSH PRIVATE KEY-----\\nabc\"]\n  config: false\n"),
			check: func(t *testing.T, c *Config) {
				eq(t, c.SSH.KeyData, []Value{{Literal: "-----BEGIN OPENSSH PRIVATE KEY-----\nabc"}})
				eq(t, c.Warnings, []string{inlineKeyDataWarning})
				eq(t, c.SSH.NoConfig, true)
			},
		},
		{
			name: "kamal2_builder_section",
			fx: deploy(v1Base + `builder:
  arch: [amd64, arm64]
  remote: ssh://docker@builder
  local: false
  driver: docker
  provenance: false
  sbom: true
  cache:
    type: registry
    options: mode=max
    image: app-cache
  context: .
  dockerfile: Dockerfile.prod
  target: production
  args:
    RUBY_VERSION: 3.3.0
    PYTHON: 3.10
    NODE: 20
    DISABLED: false
    EMPTY: ""
    NOTHING:
  secrets: [GITHUB_TOKEN]
  ssh: default=$SSH_AUTH_SOCK
`),
			check: func(t *testing.T, c *Config) {
				f, tr := false, true
				prov := "false"
				eq(t, c.Generation, Kamal2)
				eq(t, c.Builder, Builder{
					Arches: []string{"amd64", "arm64"}, Remote: "ssh://docker@builder", Local: &f, Driver: "docker",
					Provenance: &prov, SBOM: &tr,
					Context: ".", HasContext: true, Dockerfile: "Dockerfile.prod", Target: "production",
					Args: []KV{
						{Key: "RUBY_VERSION", Value: "3.3.0"}, {Key: "PYTHON", Value: "3.1"}, {Key: "NODE", Value: "20"},
						{Key: "DISABLED", Value: "false", IsFalse: true}, {Key: "EMPTY", IsEmpty: true}, {Key: "NOTHING", IsEmpty: true},
					},
					Secrets: []string{"GITHUB_TOKEN"}, SSH: "default=$SSH_AUTH_SOCK",
					Cache: &Cache{Type: "registry", Options: "mode=max", Image: "app-cache"},
				})
			},
		},
		{
			// Kamal 2.12 refuses a pack build for several arches.
			name: "kamal2_pack_builder",
			fx:   deploy(v1Base + "builder:\n  arch: [arm64]\n  pack:\n    builder: heroku/builder:24\n    buildpacks: [heroku/ruby, heroku/procfile]\n"),
			check: func(t *testing.T, c *Config) {
				eq(t, c.Builder.Arches, []string{"arm64"})
				eq(t, c.Builder.Pack, &Pack{Builder: "heroku/builder:24", Buildpacks: []string{"heroku/ruby", "heroku/procfile"}})
			},
		},
		{
			name: "kamal1_builder_section",
			fx: deploy(v1Base + `builder:
  multiarch: false
  local:
    arch: arm64
    host: unix:///var/run/docker.sock
  remote:
    arch: amd64
    host: ssh://root@1.1.1.9
  cache:
    type: gha
`),
			check: func(t *testing.T, c *Config) {
				f := false
				eq(t, c.Generation, Kamal1)
				eq(t, c.Builder, Builder{Multiarch: &f, Dockerfile: "Dockerfile",
					LocalHost:  &ArchHost{Arch: "arm64", Host: "unix:///var/run/docker.sock"},
					RemoteHost: &ArchHost{Arch: "amd64", Host: "ssh://root@1.1.1.9"},
					Cache:      &Cache{Type: "gha"}})
			},
		},
		{
			name: "kamal2_default_driver",
			fx:   deploy(v2Base),
			check: func(t *testing.T, c *Config) {
				eq(t, c.Builder.Driver, "docker-container")
				eq(t, c.Builder.Arches, []string{"amd64"})
			},
		},
		{
			name: "hooks_output_levels",
			fx:   deploy(v2Base + "hooks_output:\n  pre-build: :quiet\n  pre-connect: verbose\n"),
			check: func(t *testing.T, c *Config) {
				eq(t, c.HookOutput("pre-build"), "quiet")
				eq(t, c.HookOutput("pre-connect"), "verbose")
				eq(t, c.HookOutput("post-deploy"), "")
			},
		},
		{
			name:  "hooks_output_global",
			fx:    deploy(v2Base + "hooks_output: :verbose\n"),
			check: func(t *testing.T, c *Config) { eq(t, c.HookOutput("pre-build"), "verbose") },
		},
		{
			name: "registry_secret_arrays",
			fx:   deploy(strings.Replace(v1Base, "password: secret", "password:\n    - KAMAL_REGISTRY_PASSWORD", 1)),
			check: func(t *testing.T, c *Config) {
				eq(t, c.Registry.Password, Value{Secret: "KAMAL_REGISTRY_PASSWORD"})
			},
		},
		{
			name: "yaml_1_1_booleans_like_psych",
			fx:   deploy(v1Base + "builder:\n  multiarch: no\nrequire_destination: off\n"),
			check: func(t *testing.T, c *Config) {
				f := false
				eq(t, c.Builder.Multiarch, &f)
				eq(t, c.RequireDestination, false)
			},
		},
		{
			name: "yaml_keys_resolve_like_psych",
			fx:   deploy(v1Base + "builder:\n  args:\n    OFF: 1\n    NULL: 2\n    \"ON\": 3\n"),
			check: func(t *testing.T, c *Config) {
				eq(t, c.Builder.Args, []KV{{Key: "false", Value: "1"}, {Key: "", Value: "2"}, {Key: "ON", Value: "3"}})
			},
		},
		{
			name: "accessory_hosts_follow_role_hosts",
			fx: deploy(strings.Replace(v1Base, "servers:\n  - 1.1.1.1\n", "servers:\n  web: [1.1.1.1, 1.1.1.2]\n  jobs: [1.1.1.3]\n", 1) + `accessories:
  db:
    host: 1.1.1.9
  redis:
    hosts: [1.1.1.1, 1.1.1.8]
  search:
    roles: [jobs]
`),
			check: func(t *testing.T, c *Config) {
				eq(t, c.AccessoryHosts, []string{"1.1.1.9", "1.1.1.8"})
				eq(t, c.AllHosts(), []string{"1.1.1.3", "1.1.1.1", "1.1.1.2", "1.1.1.9", "1.1.1.8"})
				eq(t, c.PrimaryHost(), "1.1.1.1")
			},
		},
		{
			name: "kamal2_accessories_only",
			fx: deploy(`service: app
image: dhh/app
registry: {username: u, password: p}
builder: {arch: amd64}
accessories:
  db: {host: 9.9.9.9}
`),
			check: func(t *testing.T, c *Config) {
				eq(t, c.Roles, []Role(nil))
				eq(t, c.AllHosts(), []string{"9.9.9.9"})
				eq(t, c.PrimaryHost(), "")
			},
		},
		{
			name: "kamal2_local_registry_defaults_image_to_service",
			fx: deploy(`service: app
servers: [1.1.1.1]
registry:
  server: localhost:5555
builder:
  arch: amd64
`),
			check: func(t *testing.T, c *Config) {
				eq(t, c.Registry, Registry{Server: "localhost:5555", Local: true, LocalPort: 5555})
				eq(t, c.Image, "app")
				eq(t, c.Repository(), "localhost:5555/app")
				eq(t, c.AbsoluteImage("999"), "localhost:5555/app:999")
			},
		},
		{
			name: "kamal1_localhost_registry_is_an_ordinary_registry",
			fx:   deploy(v1Base+"").with("config/deploy.yml", strings.Replace(v1Base, "registry:\n", "registry:\n  server: localhost:5000\n", 1)),
			check: func(t *testing.T, c *Config) {
				eq(t, c.Registry.Local, false)
				eq(t, c.Repository(), "localhost:5000/dhh/app")
			},
		},
		{
			name:  "bare_localhost_is_not_a_local_registry",
			fx:    deploy(strings.Replace(v2Base, "registry:\n", "registry:\n  server: localhost\n", 1)),
			check: func(t *testing.T, c *Config) { eq(t, c.Registry.Local, false) },
		},
		{
			name:  "minimum_version_satisfied",
			fx:    deploy(v2Base + "minimum_version: 2.0.0.rc1\n"),
			check: func(t *testing.T, c *Config) {},
		},
		{
			name: "raw_holds_unmodelled_sections",
			fx:   deploy(v2Base + "env:\n  clear:\n    A: 1\n  secret: [B]\nproxy:\n  host: app.example.com\n"),
			check: func(t *testing.T, c *Config) {
				eq[any](t, c.Raw["env"], map[string]any{"clear": map[string]any{"A": 1}, "secret": []any{"B"}})
				eq[any](t, c.Raw["proxy"], map[string]any{"host": "app.example.com"})
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.check(t, mustLoad(t, tt.fx))
		})
	}
}

func TestLoadErrors(t *testing.T) {
	tests := []struct {
		name         string
		fx           fixture
		class, msg   string
		msgHasPrefix bool
	}{
		{
			name:  "missing_config_file_names_absolute_path",
			fx:    fixture{},
			class: kamalerr.ClassRuntime, msg: "Configuration file not found in <dir>/config/deploy.yml",
		},
		{
			name:  "missing_overlay_names_overlay_path",
			fx:    deploy(v1Base).withDest("staging"),
			class: kamalerr.ClassRuntime, msg: "Configuration file not found in <dir>/config/deploy.staging.yml",
		},
		{
			// Psych parses the rendered string: no file name.
			name:  "yaml_syntax_error_is_psychs",
			fx:    deploy("service: app\n  bad: [\n"),
			class: kamalerr.ClassYAMLSyntax, msg: "(<unknown>): mapping values are not allowed in this context at line 2 column 6",
		},
		{
			name:  "root_must_be_a_hash",
			fx:    deploy("- a\n- b\n"),
			class: kamalerr.ClassConfiguration, msg: "config/deploy.yml: the configuration must be a hash, not Array",
		},
		{
			name:  "erb_fetch_of_missing_variable",
			fx:    deploy(v1Base + "image: <%= ENV.fetch(\"IMAGE\") %>\n"),
			class: kamalerr.ClassKey, msg: `key not found: "IMAGE"`,
		},
		{
			name:  "erb_fetch_missing_in_kamal2_even_with_dotenv",
			fx:    deploy(v2Base+"image: <%= ENV.fetch(\"IMAGE\") %>\n").with(".env", "IMAGE=from-dotenv\n"),
			class: kamalerr.ClassKey, msg: `key not found: "IMAGE"`,
		},
		{
			name:  "kamal1_dotenv_error_is_reported",
			fx:    deploy(v1Base).with(".env", "GOOD=1\nthis is not dotenv\n"),
			class: kamalerr.ClassDotenvFormat, msg: ".env:2: malformed line (expected KEY=value)",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := tt.fx.dir(t)
			_, err := Load(tt.fx.options(dir))
			msg := strings.ReplaceAll(tt.msg, "<dir>", dir)
			if tt.msgHasPrefix {
				var e *Error
				if err == nil || !asError(err, &e) || e.Class != tt.class || !strings.HasPrefix(e.Message, msg) {
					t.Fatalf("got %#v, want (%s) %s...", err, tt.class, msg)
				}
				return
			}
			wantError(t, err, tt.class, msg)
		})
	}
}

func TestGeneration(t *testing.T) {
	tests := []struct {
		name    string
		builder string
		want    Generation
	}{
		{"no_builder_is_kamal1", "", Kamal1},
		{"kamal1_keys_are_kamal1", "builder:\n  multiarch: false\n  args: {A: 1}\n", Kamal1},
		{"hash_remote_is_kamal1", "builder:\n  remote: {arch: amd64, host: ssh://h}\n", Kamal1},
		{"hash_local_is_kamal1", "builder:\n  local: {arch: amd64}\n", Kamal1},
		{"arch_is_kamal2", "builder:\n  arch: amd64\n", Kamal2},
		{"driver_is_kamal2", "builder:\n  arch: amd64\n  driver: docker\n", Kamal2},
		{"string_remote_is_kamal2", "builder:\n  arch: amd64\n  remote: ssh://h\n", Kamal2},
		{"boolean_local_is_kamal2", "builder:\n  arch: amd64\n  local: true\n", Kamal2},
		{"pack_is_kamal2", "builder:\n  arch: amd64\n  pack: {builder: b, buildpacks: [x]}\n", Kamal2},
		{"provenance_is_kamal2", "builder:\n  arch: amd64\n  provenance: mode=max\n", Kamal2},
		{"sbom_is_kamal2", "builder:\n  arch: amd64\n  sbom: false\n", Kamal2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := mustLoad(t, deploy(v1Base+tt.builder))
			eq(t, c.Generation, tt.want)
		})
	}
}

func TestNames(t *testing.T) {
	tests := []struct {
		name                              string
		fx                                fixture
		repo, latestTag, latest, absolute string
	}{
		{"docker_hub", deploy(v1Base), "dhh/app", "latest", "dhh/app:latest", "dhh/app:999"},
		{"registry_server", deploy(strings.Replace(v1Base, "registry:\n", "registry:\n  server: ghcr.io\n", 1)),
			"ghcr.io/dhh/app", "latest", "ghcr.io/dhh/app:latest", "ghcr.io/dhh/app:999"},
		{"destination_tag", deploy(v1Base).withDest("staging").with("config/deploy.staging.yml", ""),
			"dhh/app", "latest-staging", "dhh/app:latest-staging", "dhh/app:999"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := mustLoad(t, tt.fx)
			eq(t, c.Repository(), tt.repo)
			eq(t, c.LatestTag(), tt.latestTag)
			eq(t, c.LatestImage(), tt.latest)
			eq(t, c.AbsoluteImage("999"), tt.absolute)
			eq(t, c.RegistryServer(), c.Registry.Server)
		})
	}
}

func TestOverlayPath(t *testing.T) {
	for in, want := range map[string]string{
		"config/deploy.yml":  "config/deploy.staging.yml",
		"config/deploy.yaml": "config/deploy.staging.yml",
		"config/deploy":      "config/deploy.staging.yml",
		"/abs/a.b.yml":       "/abs/a.b.staging.yml",
		"config/.deploy":     "config/.deploy.staging.yml",
	} {
		eq(t, OverlayPath(in, "staging"), want)
	}
}

func eq[T any](t *testing.T, got, want T) {
	t.Helper()
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got  %#v\nwant %#v", got, want)
	}
}

func asError(err error, target **Error) bool {
	e, ok := err.(*Error)
	if ok {
		*target = e
	}
	return ok
}
