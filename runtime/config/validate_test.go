package config

import (
	"strings"
	"testing"
)

// replace edits a base configuration for one case.
func replace(base, old, new string) string {
	if !strings.Contains(base, old) {
		panic("replace: " + old + " not in base")
	}
	return strings.Replace(base, old, new, 1)
}

const noServers = `service: app
image: dhh/app
registry:
  username: dhh
  password: secret
`

func TestValidate(t *testing.T) {
	const cfg = ClassConfiguration
	tests := []struct {
		name       string
		fx         fixture
		class, msg string
	}{
		// Root keys.
		{"unknown_root_key", deploy(v1Base + "foo: 1\n"), cfg, "unknown key: foo"},
		{"unknown_root_keys", deploy(v1Base + "foo: 1\nbar: 2\n"), cfg, "unknown keys: foo, bar"},
		{"kamal1_has_no_hooks_output", deploy(v1Base + "hooks_output: quiet\n"), cfg, "unknown key: hooks_output"},
		{"kamal1_has_no_proxy", deploy(v1Base + "proxy: {}\n"), cfg, "unknown key: proxy"},
		{"kamal2_has_no_traefik", deploy(v2Base + "traefik: {}\nhealthcheck: {}\n"), cfg, "unknown keys: traefik, healthcheck"},
		{"kamal2_has_no_stop_wait_time", deploy(v2Base + "stop_wait_time: 3\n"), cfg, "unknown key: stop_wait_time"},
		{"nested_x_keys_are_unknown", deploy(v1Base + "ssh:\n  x-user: a\n"), cfg, "ssh: unknown key: x-user"},
		{"service_should_be_a_string", deploy(replace(v1Base, "service: app", "service: [app]")), cfg, "service: should be a string"},
		{"nil_service_should_be_a_string", deploy(replace(v1Base, "service: app", "service:")), cfg, "service: should be a string"},
		{"labels_should_be_a_hash", deploy(v1Base + "labels: [a]\n"), cfg, "labels: should be a hash"},
		{"label_values_should_be_strings", deploy(v1Base + "labels:\n  a: [b]\n"), cfg, "labels/a: should be a string"},
		{"volumes_should_be_an_array", deploy(v1Base + "volumes: /a:/b\n"), cfg, "volumes: should be an array"},
		{"volume_items_should_be_strings", deploy(v1Base + "volumes:\n  - {a: b}\n"), cfg, "volumes/0: should be a string"},
		{"require_destination_should_be_a_boolean", deploy(v1Base + "require_destination: maybe\n"), cfg, "require_destination: should be a boolean"},
		{"retain_containers_should_be_an_integer", deploy(v1Base + "retain_containers: \"3\"\n"), cfg, "retain_containers: should be an integer"},
		{"env_should_be_a_hash", deploy(v1Base + "env: [A]\n"), cfg, "env: should be a hash"},
		{"accessories_should_be_a_hash", deploy(v2Base + "accessories: []\n"), cfg, "accessories: should be a hash"},
		{"proxy_should_be_a_hash", deploy(v2Base + "proxy: yes-please\n"), cfg, "proxy: should be a hash"},
		{"hooks_output_should_be_a_string", deploy(v2Base + "hooks_output: [quiet]\n"), cfg, "hooks_output: should be a string"},
		{"hooks_output_per_hook_should_be_strings", deploy(v2Base + "hooks_output:\n  pre-build: [quiet]\n"), cfg, "hooks_output/pre-build: should be a string"},
		{"builder_should_be_a_hash", deploy(v1Base + "builder: docker\n"), cfg, "builder: should be a hash"},
		{"empty_builder_should_be_a_hash", deploy(v1Base + "builder:\n"), cfg, "builder: should be a hash"},

		// Servers and roles.
		{"kamal1_servers_required", deploy(noServers), cfg, "servers: should be an array or a hash"},
		{"servers_should_be_an_array_or_a_hash", deploy(noServers + "servers: 1.1.1.1\n"), cfg, "servers: should be an array or a hash"},
		{"server_item_should_be_a_string_or_a_hash", deploy(noServers + "servers:\n  - [1.1.1.1]\n"), cfg, "servers/0: should be a string or a hash"},
		{"server_item_with_multiple_hosts", deploy(noServers + "servers:\n  - {1.1.1.1: a, 1.1.1.2: b}\n"), cfg, "servers/0: multiple hosts found"},
		{"server_tags_should_be_a_string_or_an_array", deploy(noServers + "servers:\n  - 1.1.1.1: {a: b}\n"), cfg, "servers/0/1.1.1.1: should be a string or an array"},
		{"server_tag_items_should_be_strings", deploy(noServers + "servers:\n  - 1.1.1.1: [[a]]\n"), cfg, "servers/0/1.1.1.1/0: should be a string"},
		{"role_should_be_an_array_or_a_hash", deploy(noServers + "servers:\n  web: 1.1.1.1\n"), cfg, "servers/web: should be an array or a hash"},
		{"empty_role_should_be_an_array_or_a_hash", deploy(noServers + "servers:\n  web:\n"), cfg, "servers/web: should be an array or a hash"},
		{"role_unknown_key", deploy(noServers + "servers:\n  web:\n    hosts: [1.1.1.1]\n    foo: 1\n"), cfg, "servers/web: unknown key: foo"},
		{"role_hosts_should_be_an_array", deploy(noServers + "servers:\n  web:\n    hosts: 1.1.1.1\n"), cfg, "servers/web/hosts: should be an array"},
		{"role_hosts_item_with_multiple_hosts", deploy(noServers + "servers:\n  web: [1.1.1.1]\n  jobs:\n    hosts:\n      - {a: x, b: y}\n"), cfg, "servers/jobs/hosts/0: multiple hosts found"},
		{"role_list_item_should_be_a_string_or_a_hash", deploy(noServers + "servers:\n  web:\n    - [a]\n"), cfg, "servers/web/0: should be a string or a hash"},
		{"role_cmd_should_be_a_string", deploy(noServers + "servers:\n  web:\n    hosts: [a]\n    cmd: [a]\n"), cfg, "servers/web/cmd: should be a string"},
		{"role_options_should_be_a_hash", deploy(noServers + "servers:\n  web:\n    hosts: [a]\n    options: memory\n"), cfg, "servers/web/options: should be a hash"},
		{"kamal2_role_proxy_should_be_a_hash", deploy(replace(v2Base, "servers:\n  - 1.1.1.1\n", "servers:\n  web:\n    hosts: [a]\n    proxy: x\n")), cfg, "servers/web/proxy: should be a hash"},
		{"kamal1_role_has_no_proxy", deploy(noServers + "servers:\n  web:\n    hosts: [a]\n    proxy: true\n"), cfg, "servers/web: unknown key: proxy"},

		// Registry.
		{"registry_username_required", deploy(replace(v1Base, "  username: dhh\n", "")), cfg, "registry/username: is required"},
		{"registry_password_required", deploy(replace(v1Base, "  password: secret\n", "")), cfg, "registry/password: is required"},
		{"registry_blank_password_required", deploy(replace(v1Base, "password: secret", "password: \" \"")), cfg, "registry/password: is required"},
		{"kamal2_missing_registry", deploy("service: app\nimage: a\nservers: [a]\nbuilder: {arch: amd64}\n"), cfg, "registry/username: is required"},
		{"registry_password_array_of_two", deploy(replace(v1Base, "password: secret", "password: [A, B]")), cfg,
			"registry/password: should be a string or an array with one string (for secret lookup)"},
		{"registry_password_integer", deploy(replace(v1Base, "password: secret", "password: 1234")), cfg,
			"registry/password: should be a string or an array with one string (for secret lookup)"},
		{"registry_server_should_be_a_string", deploy(replace(v1Base, "registry:\n", "registry:\n  server: [a]\n")), cfg, "registry/server: should be a string"},
		{"registry_unknown_key", deploy(replace(v1Base, "registry:\n", "registry:\n  foo: a\n")), cfg, "registry: unknown key: foo"},
		{"registry_should_be_a_hash", deploy(noServers + "servers: [a]\nregistry: x\n"), cfg, "registry: should be a hash"},
		{"kamal1_localhost_registry_still_needs_credentials", deploy("service: app\nimage: a\nservers: [a]\nregistry: {server: \"localhost:5000\"}\n"), cfg, "registry/username: is required"},

		// Builder, Kamal 2.
		{"kamal2_builder_arch_not_set", deploy(v1Base + "builder:\n  driver: docker\n"), cfg, "builder: Builder arch not set"},
		{"kamal2_builder_empty_arch", deploy(v1Base + "builder:\n  arch: []\n"), cfg, "builder: Builder arch not set"},
		{"kamal2_builder_unknown_key", deploy(v1Base + "builder:\n  arch: amd64\n  multiarch: false\n"), cfg, "builder: unknown key: multiarch"},
		{"kamal2_builder_arch_hash", deploy(v1Base + "builder:\n  arch: {a: 1}\n"), cfg, "builder/arch: should be an array or a string"},
		{"kamal2_builder_arch_nested_list", deploy(v1Base + "builder:\n  arch: [[amd64]]\n"), cfg, "builder/arch: should be an array or a string"},
		{"kamal2_builder_remote_should_be_a_string", deploy(v1Base + "builder:\n  arch: amd64\n  remote: {arch: amd64}\n"), cfg, "builder/remote: should be a string"},
		{"kamal2_builder_local_should_be_a_boolean", deploy(v1Base + "builder:\n  arch: amd64\n  local: {arch: amd64}\n"), cfg, "builder/local: should be a boolean"},
		{"kamal2_builder_sbom_should_be_a_boolean", deploy(v1Base + "builder:\n  arch: amd64\n  sbom: maybe\n"), cfg, "builder/sbom: should be a boolean"},
		{"kamal2_cannot_disable_local_without_remote", deploy(v1Base + "builder:\n  arch: amd64\n  local: false\n"), cfg, "builder: Cannot disable local builds, no remote is set"},
		{"kamal2_pack_buildpacks_should_be_an_array", deploy(v1Base + "builder:\n  arch: amd64\n  pack: {builder: b, buildpacks: x}\n"), cfg, "builder/pack/buildpacks: should be an array"},
		{"kamal2_invalid_cache_type", deploy(v1Base + "builder:\n  arch: amd64\n  cache: {type: s3}\n"), cfg, "builder: Invalid cache type: s3"},

		// Builder, Kamal 1.
		{"kamal1_builder_unknown_key", deploy(v1Base + "builder:\n  foo: 1\n"), cfg, "builder: unknown key: foo"},
		{"kamal1_builder_remote_should_be_a_hash", deploy(v1Base + "builder:\n  remote: 1\n"), cfg, "builder/remote: should be a hash"},
		{"kamal1_builder_remote_unknown_key", deploy(v1Base + "builder:\n  remote: {foo: 1}\n"), cfg, "builder/remote: unknown key: foo"},
		{"kamal1_builder_local_unknown_key", deploy(v1Base + "builder:\n  local: {foo: 1}\n"), cfg, "builder/local: unknown key: foo"},
		{"kamal1_builder_remote_arch_should_be_a_string", deploy(v1Base + "builder:\n  remote: {arch: [amd64]}\n"), cfg, "builder/remote/arch: should be a string"},
		{"kamal1_builder_args_should_be_a_hash", deploy(v1Base + "builder:\n  args: [A]\n"), cfg, "builder/args: should be a hash"},
		{"kamal1_builder_cache_options_should_be_a_string", deploy(v1Base + "builder:\n  cache: {type: gha, options: [a]}\n"), cfg, "builder/cache/options: should be a string"},
		{"kamal1_builder_cache_unknown_key", deploy(v1Base + "builder:\n  cache: {type: gha, foo: a}\n"), cfg, "builder/cache: unknown key: foo"},
		{"kamal1_invalid_cache_type", deploy(v1Base + "builder:\n  cache: {type: x}\n"), cfg, "builder: Invalid cache type: x"},
		{"kamal1_builder_secrets_items_should_be_strings", deploy(v1Base + "builder:\n  secrets: [[A]]\n"), cfg, "builder/secrets/0: should be a string"},
		{"kamal1_builder_multiarch_should_be_a_boolean", deploy(v1Base + "builder:\n  multiarch: nope\n"), cfg, "builder/multiarch: should be a boolean"},

		// SSH and SSHKit.
		{"ssh_unknown_key", deploy(v1Base + "ssh:\n  foo: 1\n"), cfg, "ssh: unknown key: foo"},
		{"kamal1_ssh_has_no_config", deploy(v1Base + "ssh:\n  config: true\n"), cfg, "ssh: unknown key: config"},
		{"ssh_keys_only_should_be_a_boolean", deploy(v1Base + "ssh:\n  keys_only: sometimes\n"), cfg, "ssh/keys_only: should be a boolean"},
		{"ssh_keys_should_be_an_array", deploy(v1Base + "ssh:\n  keys: ~/.ssh/id\n"), cfg, "ssh/keys: should be an array"},
		{"ssh_key_data_items_should_be_strings", deploy(v1Base + "ssh:\n  key_data: [{a: b}]\n"), cfg, "ssh/key_data/0: should be a string"},
		{"ssh_user_should_be_a_string", deploy(v1Base + "ssh:\n  user: [a]\n"), cfg, "ssh/user: should be a string"},
		{"kamal2_ssh_config_types", deploy(v2Base + "ssh:\n  config: {a: 1}\n"), cfg, "ssh/config: should be a boolean or a string or an array"},
		{"kamal2_ssh_config_items_should_be_strings", deploy(v2Base + "ssh:\n  config: [[a]]\n"), cfg, "ssh/config/0: should be a string"},
		{"sshkit_should_be_a_hash", deploy(v1Base + "sshkit: 1\n"), cfg, "sshkit: should be a hash"},
		{"sshkit_max_concurrent_starts_should_be_an_integer", deploy(v1Base + "sshkit:\n  max_concurrent_starts: many\n"), cfg, "sshkit/max_concurrent_starts: should be an integer"},
		{"sshkit_max_concurrent_hosts_should_be_an_integer", deploy(v2Base + "sshkit:\n  max_concurrent_hosts: 1.5\n"), cfg, "sshkit/max_concurrent_hosts: should be an integer"},
		{"kamal1_sshkit_has_no_dns_retries", deploy(v1Base + "sshkit:\n  dns_retries: 1\n"), cfg, "sshkit: unknown key: dns_retries"},

		// Semantic checks, in Kamal's order.
		{"require_destination", deploy(v1Base + "require_destination: true\n"), ClassArgument, "You must specify a destination"},
		{"require_destination_comes_first", deploy(replace(v1Base, "service: app", "service: \"\"") + "require_destination: true\n"), ClassArgument, "You must specify a destination"},
		{"missing_service", deploy(replace(v1Base, "service: app", "service: \"\"")), cfg, "Missing required configuration for service"},
		{"missing_image", deploy(replace(v1Base, "image: dhh/app\n", "")), cfg, "Missing required configuration for image"},
		{"kamal2_missing_image_without_local_registry", deploy(replace(v2Base, "image: dhh/app\n", "")), cfg, "Missing required configuration for image"},
		{"kamal1_empty_servers", deploy(noServers + "servers: []\n"), cfg, "Missing required configuration for servers"},
		{"kamal2_no_servers_or_accessories", deploy(noServers + "builder: {arch: amd64}\n"), cfg, "No servers or accessories specified"},
		{"primary_role_not_defined", deploy(noServers + "servers:\n  jobs: [a]\n"), cfg, "The primary_role web isn't defined"},
		{"custom_primary_role_not_defined", deploy(v1Base + "primary_role: jobs\n"), cfg, "The primary_role jobs isn't defined"},
		{"primary_role_without_hosts", deploy(noServers + "servers:\n  web: []\n"), cfg, "No servers specified for the web primary_role"},
		{"kamal2_empty_server_list", deploy(noServers + "servers: []\nbuilder: {arch: amd64}\n"), cfg, "No servers specified for the web primary_role"},
		{"primary_role_without_hosts_despite_allow_empty_roles", deploy(noServers + "allow_empty_roles: true\nservers:\n  web:\n    hosts: []\n"), cfg, "No servers specified for the web primary_role"},
		{"empty_role", deploy(noServers + "servers:\n  web: [a]\n  jobs: []\n"), cfg, "No servers specified for the jobs role. You can ignore this with allow_empty_roles: true"},
		{"minimum_version_kamal2", deploy(v2Base + "minimum_version: 3.0.0\n"), cfg, "Current version is 2.12.0, minimum required is 3.0.0"},
		{"minimum_version_kamal1", deploy(v1Base + "minimum_version: \"1.9.3\"\n"), cfg, "Current version is 1.9.2, minimum required is 1.9.3"},
		{"minimum_version_kamal15", deploy(v1Base + "minimum_version: 1.5.3\n"), cfg, "Current version is 1.5.2, minimum required is 1.5.3"},
		{"minimum_version_prerelease_of_next", deploy(v2Base + "minimum_version: 2.13.0.beta1\n"), cfg, "Current version is 2.12.0, minimum required is 2.13.0.beta1"},
		{"minimum_version_malformed", deploy(v2Base + "minimum_version: latest\n"), ClassArgument, "Malformed version number string latest"},
		{"retain_at_least_one_container", deploy(v1Base + "retain_containers: 0\n"), cfg, "Must retain at least 1 container"},
		{"service_name_characters", deploy(replace(v1Base, "service: app", "service: my.app")), cfg, "Service name can only include alphanumeric characters, hyphens, and underscores"},
		{"service_name_must_be_a_string", deploy(replace(v1Base, "service: app", "service: 123")), cfg, "Service name can only include alphanumeric characters, hyphens, and underscores"},
		{"kamal2_traefik_reboot_hooks", deploy(v2Base).with(".kamal/hooks/pre-traefik-reboot", "#!/bin/sh\n").with(".kamal/hooks/post-traefik-reboot", "#!/bin/sh\n"),
			cfg, "Found pre-traefik-reboot, post-traefik-reboot, these should be renamed to (pre|post)-proxy-reboot"},
		{"kamal2_traefik_reboot_hooks_in_custom_path", deploy(v2Base+"hooks_path: hooks\n").with("hooks/post-traefik-reboot", "x"),
			cfg, "Found post-traefik-reboot, these should be renamed to (pre|post)-proxy-reboot"},
		{"kamal2_local_registry_with_tcp_builder", deploy("service: app\nservers: [a]\nregistry: {server: \"localhost:5000\"}\nbuilder: {arch: amd64, remote: \"tcp://builder:2375\"}\n"),
			cfg, "Local registry with remote builder requires an SSH URL (e.g., ssh://user@host)"},
		{"kamal2_invalid_hooks_output", deploy(v2Base + "hooks_output: loud\n"), cfg, "Invalid hooks_output 'loud', must be one of: quiet, verbose"},
		{"kamal2_invalid_hooks_output_for_hook", deploy(v2Base + "hooks_output:\n  pre-build: quiet\n  pre-connect: :loud\n"), cfg, "Invalid hooks_output 'loud' for hook 'pre-connect', must be one of: quiet, verbose"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := tt.fx.load(t)
			wantError(t, err, tt.class, tt.msg)
		})
	}
}

func TestValidateAccepts(t *testing.T) {
	tests := []struct {
		name string
		fx   fixture
	}{
		{"x_keys_at_root", deploy(v1Base + "x-anything: {foo: [1]}\n")},
		{"kamal2_local_registry_needs_no_credentials", deploy("service: app\nimage: a\nservers: [a]\nregistry: {server: \"localhost:5000\"}\nbuilder: {arch: amd64}\n")},
		{"kamal2_local_registry_with_ssh_builder", deploy("service: app\nservers: [a]\nregistry: {server: \"localhost:5000\"}\nbuilder: {arch: amd64, remote: \"ssh://b\"}\n")},
		{"allow_empty_roles", deploy(noServers + "allow_empty_roles: true\nservers:\n  web: [a]\n  jobs: []\n")},
		{"stringish_values", deploy(replace(v1Base, "image: dhh/app", "image: 42") + "ssh:\n  user: true\n  port: 2222\nasset_path: 1.5\n")},
		{"kamal2_role_proxy_boolean", deploy(replace(v2Base, "servers:\n  - 1.1.1.1\n", "servers:\n  web:\n    hosts: [a]\n    proxy: false\n    options: {memory: 1g}\n    labels: {a: b}\n    env: {clear: {A: 1}}\n"))},
		{"kamal1_role_traefik_boolean", deploy(replace(v1Base, "servers:\n  - 1.1.1.1\n", "servers:\n  web:\n    hosts: [a]\n    traefik: true\n"))},
		{"kamal1_root_keys", deploy(v1Base + "stop_wait_time: 5\ntraefik: {}\nhealthcheck: {path: /up}\nrun_directory: /x\n")},
		{"kamal2_root_keys", deploy(v2Base + "deploy_timeout: 5\ndrain_timeout: 5\nreadiness_delay: 1\nerror_pages_path: public\nsecrets_path: s\nproxy: {}\noutput: {}\naliases: {}\nboot: {}\nlogging: {}\n")},
		{"kamal2_ssh_config_forms", deploy(v2Base + "ssh:\n  config: ~/.ssh/config\n")},
		{"kamal2_arch_list", deploy(v1Base + "builder:\n  arch: [amd64, arm64]\n")},
		{"kamal2_local_false_with_remote", deploy(v1Base + "builder:\n  arch: amd64\n  local: false\n  remote: ssh://a\n")},
		{"registry_tags_as_hash_items", deploy(noServers + "servers:\n  - 1.1.1.1: [a, b]\n  - 1.1.1.2: c\n")},
		{"builder_args_values_unchecked", deploy(v1Base + "builder:\n  args: {A: [1], B: {c: d}}\n")},
		{"sshkit_max_concurrent_hosts", deploy(v1Base + "sshkit:\n  max_concurrent_hosts: 5\n")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { mustLoad(t, tt.fx) })
	}
}

func TestCompareGemVersions(t *testing.T) {
	tests := []struct {
		a, b string
		want int
	}{
		{"2.12.0", "2.12.0", 0},
		{"2.12", "2.12.0", 0},
		{"2.9.0", "2.12.0", -1},
		{"3", "2.12.0", 1},
		{"2.12.0.rc1", "2.12.0", -1},
		{"2.12.0.rc2", "2.12.0.rc10", -1},
		{"2.12.0.beta", "2.12.0.rc", -1},
		{"1.10.0", "1.9.2", 1},
	}
	for _, tt := range tests {
		got, err := compareGemVersions(tt.a, tt.b)
		if err != nil || got != tt.want {
			t.Errorf("compareGemVersions(%q, %q) = %d, %v; want %d", tt.a, tt.b, got, err, tt.want)
		}
	}
}
