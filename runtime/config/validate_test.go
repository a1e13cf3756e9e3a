package config

import (
	"strings"
	"testing"

	"github.com/kamal-go/kamal/runtime/kamalerr"
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
	const cfg = kamalerr.ClassConfiguration
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

		// Roles' own sections (Kamal 2).
		{"kamal2_role_reserved_label", deploy(replace(v2Base, "servers:\n  - 1.1.1.1\n", "servers:\n  web:\n    hosts: [a]\n    labels: {service: x}\n")), cfg,
			"servers/web/labels/service: invalid label. destination, role, and service are reserved labels"},
		{"kamal2_role_restart_policy", deploy(replace(v2Base, "servers:\n  - 1.1.1.1\n", "servers:\n  web:\n    hosts: [a]\n    options: {restart: sometimes}\n")), cfg,
			"servers/web/options/restart: should be no, always, unless-stopped, on-failure, or on-failure:N"},
		{"kamal2_role_restart_policy_boolean", deploy(replace(v2Base, "servers:\n  - 1.1.1.1\n", "servers:\n  web:\n    hosts: [a]\n    options: {restart: false}\n")), cfg,
			`servers/web/options/restart: should be a string. Use "no" to disable restarts`},
		{"role_env_nil_value", deploy(replace(v1Base, "servers:\n  - 1.1.1.1\n", "servers:\n  web:\n    hosts: [a]\n    env:\n      clear:\n        A:\n")), cfg, "servers/web/env/clear/A: should be a string"},
		{"role_env_tags_only_at_root", deploy(replace(v2Base, "servers:\n  - 1.1.1.1\n", "servers:\n  web:\n    hosts: [a]\n    env:\n      tags: {}\n")), cfg, "servers/web/env: tags are only allowed in the root env"},
		{"role_logging_unknown_key", deploy(replace(v2Base, "servers:\n  - 1.1.1.1\n", "servers:\n  web:\n    hosts: [a]\n    logging: {level: x}\n")), cfg, "servers/web/logging: unknown key: level"},
		{"kamal2_role_proxy_ssl_without_host", deploy(replace(v2Base, "servers:\n  - 1.1.1.1\n", "servers:\n  web:\n    hosts: [a]\n    proxy: {ssl: true}\n")), cfg, "servers/web/proxy: Must set a host to enable automatic SSL"},

		// Env.
		{"env_nil_clear_value", deploy(v1Base + "env:\n  clear:\n    SENTRY_RELEASE:\n"), cfg, "env/clear/SENTRY_RELEASE: should be a string"},
		{"env_plain_nil_value", deploy(v2Base + "env:\n  A: 1\n  B:\n"), cfg, "env/B: should be a string"},
		{"env_unknown_key_beside_clear", deploy(v2Base + "env:\n  clear: {A: 1}\n  B: 2\n"), cfg, "env: unknown key: B"},
		{"env_clear_should_be_a_hash", deploy(v2Base + "env:\n  clear: [A]\n"), cfg, "env/clear: should be a hash"},
		{"env_secret_should_be_an_array", deploy(v2Base + "env:\n  secret: A\n"), cfg, "env/secret: should be an array"},
		{"env_tag_secret_items", deploy(v2Base + "env:\n  tags:\n    mysql:\n      secret: [[A]]\n"), cfg, "env/tags/mysql/secret/0: should be a string"},

		// Accessories.
		{"kamal2_accessory_without_hosts", deploy(v2Base + "accessories:\n  db:\n    image: postgres\n"), cfg,
			"accessories/db: specify one of `host`, `hosts`, `role`, `roles`, `tag` or `tags`"},
		{"kamal2_accessory_with_two_host_keys", deploy(v2Base + "accessories:\n  db:\n    image: postgres\n    host: a\n    roles: [web]\n"), cfg,
			"accessories/db: specify one of `host`, `hosts`, `role`, `roles`, `tag` or `tags`"},
		{"kamal1_accessory_without_hosts", deploy(v1Base + "accessories:\n  db:\n    image: postgres\n"), cfg, "accessories/db: specify one of `host`, `hosts` or `roles`"},
		{"kamal1_accessory_has_no_tags", deploy(v1Base + "accessories:\n  db:\n    image: postgres\n    tags: [a]\n"), cfg, "accessories/db: unknown key: tags"},
		{"kamal2_accessory_unknown_roles", deploy(v2Base + "accessories:\n  db:\n    image: postgres\n    roles: [web, jobs, db]\n"), cfg, "accessories/db: unknown roles jobs, db"},
		{"kamal2_accessory_unknown_role", deploy(v2Base + "accessories:\n  db:\n    image: postgres\n    role: db\n"), cfg, "accessories/db: unknown role db"},
		{"accessory_unknown_key", deploy(v2Base + "accessories:\n  db:\n    image: postgres\n    host: a\n    ports: [1]\n"), cfg, "accessories/db: unknown key: ports"},
		{"accessory_env_secret_should_be_an_array", deploy(v1Base + "accessories:\n  db:\n    image: postgres\n    host: a\n    env:\n      secret: PASSWORD\n"), cfg, "accessories/db/env/secret: should be an array"},
		{"accessory_hosts_are_a_servers_list", deploy(v2Base + "accessories:\n  db:\n    image: postgres\n    hosts: [{a: x, b: y}]\n"), cfg, "accessories/db/hosts/0: multiple hosts found"},
		{"kamal2_accessory_file_hash_values", deploy(v2Base + "accessories:\n  db:\n    image: postgres\n    host: a\n    files:\n      - {local: a, remote: b, mode: [1]}\n"), cfg, "accessories/db/files/0/mode: should be a string"},
		{"kamal2_accessory_proxy_true", deploy(v2Base + "accessories:\n  db:\n    image: postgres\n    host: a\n    proxy: true\n"), cfg, "accessories/db/proxy: should be a hash"},
		{"kamal2_accessory_registry", deploy(v2Base + "accessories:\n  db:\n    image: postgres\n    host: a\n    registry: {server: r}\n"), cfg, "accessories/db/registry/username: is required"},
		{"kamal2_accessory_reserved_label", deploy(v2Base + "accessories:\n  db:\n    image: postgres\n    host: a\n    labels: {role: x}\n"), cfg,
			"accessories/db/labels/role: invalid label. destination, role, and service are reserved labels"},

		// Proxy (Kamal 2).
		{"kamal2_root_proxy_false", deploy(v2Base + "proxy: false\n"), cfg, "proxy: should be a hash"},
		{"kamal2_proxy_ssl_without_host", deploy(v2Base + "proxy:\n  ssl: true\n"), cfg, "proxy: Must set a host to enable automatic SSL"},
		{"kamal2_proxy_host_and_hosts", deploy(v2Base + "proxy:\n  host: a\n  hosts: [b]\n"), cfg, "proxy: Specify one of 'host' or 'hosts', not both"},
		{"kamal2_proxy_healthcheck_unknown_key", deploy(v2Base + "proxy:\n  healthcheck:\n    path: /up\n    max_attempts: 3\n"), cfg, "proxy/healthcheck: unknown key: max_attempts"},
		{"kamal2_proxy_app_port_integer", deploy(v2Base + "proxy:\n  app_port: \"3000\"\n"), cfg, "proxy/app_port: should be an integer"},
		{"kamal2_proxy_ssl_type", deploy(v2Base + "proxy:\n  host: a\n  ssl: [x]\n"), cfg, "proxy/ssl: should be a boolean or a hash"},
		{"kamal2_proxy_ssl_certificate_without_key", deploy(v2Base + "proxy:\n  host: a\n  ssl: {certificate_pem: CERT}\n"), cfg,
			"proxy: Missing private_key_pem setting (required when certificate_pem is present)"},
		{"kamal2_proxy_run_publish_false_with_port", deploy(v2Base + "proxy:\n  run: {publish: false, http_port: 8080}\n"), cfg,
			"proxy: Cannot set http_port, https_port or bind_ips when publish is false"},

		// Boot, logging, aliases, Kamal 1's healthcheck and traefik.
		{"boot_unknown_key", deploy(v2Base + "boot:\n  proxy: true\n"), cfg, "boot: unknown key: proxy"},
		{"boot_wait_should_be_an_integer", deploy(v1Base + "boot:\n  wait: soon\n"), cfg, "boot/wait: should be an integer"},
		{"kamal1_boot_has_no_parallel_roles", deploy(v1Base + "boot:\n  parallel_roles: true\n"), cfg, "boot: unknown key: parallel_roles"},
		{"kamal2_output_unknown_key", deploy(v2Base + "output:\n  otel: {endpoint: http://o:4318, token: x}\n"), cfg, "output/otel: unknown key: token"},
		{"logging_options_should_be_a_hash", deploy(v2Base + "logging:\n  options: max-size\n"), cfg, "logging/options: should be a hash"},
		{"kamal2_alias_should_be_a_string", deploy(v2Base + "aliases:\n  console: [app, exec]\n"), cfg, "aliases/console: should be a string"},
		{"kamal2_alias_name", deploy(v2Base + "aliases:\n  Console: app exec\n"), cfg,
			"aliases/Console: Invalid alias name: 'Console'. Must only contain lowercase letters, alphanumeric, hyphens and underscores."},
		{"kamal2_alias_shadows_a_command", deploy(v2Base + "aliases:\n  deploy: app exec\n"), cfg, "aliases/deploy: Alias 'deploy' conflicts with a built-in command."},
		{"kamal1_healthcheck_unknown_key", deploy(v1Base + "healthcheck:\n  url: /up\n"), cfg, "healthcheck: unknown key: url"},
		{"kamal1_role_healthcheck_unknown_key", deploy(replace(v1Base, "servers:\n  - 1.1.1.1\n", "servers:\n  web:\n    hosts: [a]\n    healthcheck: {url: /up}\n")), cfg, "servers/web/healthcheck: unknown key: url"},
		{"kamal1_traefik_should_be_a_hash", deploy(v1Base + "traefik: true\n"), cfg, "traefik: should be a hash"},

		// Order: the first problem in Kamal's order of sections is named.
		{"order_roles_before_registry", deploy(replace(replace(v2Base, "servers:\n  - 1.1.1.1\n", "servers:\n  web:\n    hosts: [a]\n    foo: 1\n"), "  username: dhh\n", "")), cfg, "servers/web: unknown key: foo"},
		{"order_registry_before_accessories", deploy(replace(v2Base, "  username: dhh\n", "") + "accessories:\n  db:\n    image: postgres\n"), cfg, "registry/username: is required"},
		{"order_accessories_before_builder", deploy(v1Base + "builder:\n  arch: []\naccessories:\n  db:\n    image: postgres\n"), cfg,
			"accessories/db: specify one of `host`, `hosts`, `role`, `roles`, `tag` or `tags`"},
		{"order_builder_before_env", deploy(v1Base + "builder:\n  arch: []\nenv:\n  A:\n"), cfg, "builder: Builder arch not set"},
		{"order_env_before_proxy", deploy(v2Base + "proxy: {ssl: true}\nenv:\n  A:\n"), cfg, "env/A: should be a string"},
		{"order_proxy_before_ssh", deploy(v2Base + "ssh: {foo: 1}\nproxy: {ssl: true}\n"), cfg, "proxy: Must set a host to enable automatic SSL"},
		{"order_proxy_before_require_destination", deploy(v2Base + "require_destination: true\nproxy: {ssl: true}\n"), cfg, "proxy: Must set a host to enable automatic SSL"},
		{"order_sections_before_primary_role", deploy(replace(v2Base, "servers:\n  - 1.1.1.1\n", "servers:\n  jobs: [a]\n") + "proxy: {ssl: true}\n"), cfg, "proxy: Must set a host to enable automatic SSL"},

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
		{"kamal2_pack_with_several_arches", deploy(v1Base + "builder:\n  arch: [amd64, arm64]\n  pack: {builder: heroku/builder:24, buildpacks: [heroku/ruby]}\n"), cfg, "builder: buildpacks only support building for one arch"},
		{"kamal2_pack_with_one_arch_in_a_list", deploy(v1Base + "builder:\n  arch: [arm64]\n  pack: {builder: heroku/builder:24, buildpacks: [heroku/ruby]}\n  local: false\n"), cfg, "builder: Cannot disable local builds, no remote is set"},
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
		{"require_destination", deploy(v1Base + "require_destination: true\n"), kamalerr.ClassArgument, "You must specify a destination"},
		{"require_destination_comes_first", deploy(replace(v1Base, "service: app", "service: \"\"") + "require_destination: true\n"), kamalerr.ClassArgument, "You must specify a destination"},
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
		{"minimum_version_malformed", deploy(v2Base + "minimum_version: latest\n"), kamalerr.ClassArgument, "Malformed version number string latest"},
		{"retain_at_least_one_container", deploy(v1Base + "retain_containers: 0\n"), cfg, "Must retain at least 1 container"},
		{"service_name_characters", deploy(replace(v1Base, "service: app", "service: my.app")), cfg, "Service name can only include alphanumeric characters, hyphens, and underscores"},
		{"service_name_must_be_a_string", deploy(replace(v1Base, "service: app", "service: 123")), cfg, "Service name can only include alphanumeric characters, hyphens, and underscores"},
		{"kamal2_traefik_reboot_hooks", deploy(v2Base).with(".kamal/hooks/pre-traefik-reboot", "#!/bin/sh\n").with(".kamal/hooks/post-traefik-reboot", "#!/bin/sh\n"),
			cfg, "Found pre-traefik-reboot, post-traefik-reboot, these should be renamed to (pre|post)-proxy-reboot"},
		{"kamal2_traefik_reboot_hooks_in_custom_path", deploy(v2Base+"hooks_path: hooks\n").with("hooks/post-traefik-reboot", "x"),
			cfg, "Found post-traefik-reboot, these should be renamed to (pre|post)-proxy-reboot"},
		{"kamal2_local_registry_with_tcp_builder", deploy("service: app\nservers: [a]\nregistry: {server: \"localhost:5000\"}\nbuilder: {arch: amd64, remote: \"tcp://builder:2375\"}\n"),
			cfg, "Local registry with remote builder requires an SSH URL (e.g., ssh://user@host)"},
		{"kamal2_ssl_on_two_hosts", deploy(replace(v2Base, "servers:\n  - 1.1.1.1\n", "servers:\n  - 1.1.1.1\n  - 1.1.1.2\n") + "proxy: {ssl: true, host: a.example.com}\n"), cfg,
			"SSL is only supported on a single server unless you provide custom certificates, found 2 servers for role web"},
		{"kamal2_ssl_role_on_two_hosts", deploy(replace(v2Base, "servers:\n  - 1.1.1.1\n", "servers:\n  web: [a]\n  jobs:\n    hosts: [b, c]\n    proxy: {ssl: true, host: j.example.com}\n")), cfg,
			"SSL is only supported on a single server unless you provide custom certificates, found 2 servers for role jobs"},
		{"kamal2_ssl_roles_share_a_host", deploy(replace(v2Base, "servers:\n  - 1.1.1.1\n", "servers:\n  web: [a]\n  jobs:\n    hosts: [b]\n    proxy: true\n") + "proxy: {ssl: true, host: \"x.example.com,y.example.com\"}\n"), cfg,
			"Different roles can't share the same host for SSL: x.example.com, y.example.com"},
		{"kamal2_conflicting_proxy_runs", deploy(replace(v2Base, "servers:\n  - 1.1.1.1\n", "servers:\n  - 1.1.1.1\n  - 1.1.1.2\n") +
			"proxy: {run: {metrics_port: 9090}}\naccessories:\n  api:\n    image: a\n    host: 1.1.1.2\n    proxy: {host: api.example.com, run: {metrics_port: 9190}}\n"), cfg,
			"Conflicting proxy run configurations for host 1.1.1.2"},
		{"order_ssl_after_service_name", deploy(replace(replace(v2Base, "servers:\n  - 1.1.1.1\n", "servers:\n  - 1.1.1.1\n  - 1.1.1.2\n"), "service: app", "service: my.app") + "proxy: {ssl: true, host: a.example.com}\n"), cfg,
			"Service name can only include alphanumeric characters, hyphens, and underscores"},
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
		{"kamal2_sections", deploy(v2Base + `proxy:
  host: a.example.com
  ssl: true
  app_port: 3000
  healthcheck: {path: /up, interval: 3, timeout: 3}
  run: {http_port: 8080, publish: true, options: {memory: 1g}}
boot: {limit: "25%", wait: 2, parallel_roles: true}
logging: {driver: json-file, options: {max-size: 10m}}
aliases: {console: app exec -i "bin/rails console"}
env:
  clear: {PORT: 3000, DEBUG: false}
  secret: [A, "B:C"]
  tags:
    mysql: {MYSQL_HOST: db}
accessories:
  db:
    image: postgres
    roles: [web]
    port: 5432
    files: [a:/b, {local: c, remote: /d, mode: "0600"}]
    env: {POSTGRES_DB: app}
    options: {restart: on-failure:3}
  cache:
    image: redis
    hosts: [{b: tag}]
    proxy: {host: cache.example.com}
`)},
		{"kamal2_same_proxy_run_on_a_host", deploy(v2Base + "proxy: {run: {metrics_port: 9090}}\naccessories:\n  api:\n    image: a\n    host: 1.1.1.1\n    proxy: {host: api.example.com, run: {metrics_port: 9090}}\n  other:\n    image: b\n    host: 1.1.1.3\n    proxy: {run: {metrics_port: 9190}}\n")},
		{"kamal2_ssl_on_two_hosts_with_own_certificate", deploy(replace(v2Base, "servers:\n  - 1.1.1.1\n", "servers:\n  - 1.1.1.1\n  - 1.1.1.2\n") + "proxy: {host: a.example.com, ssl: {certificate_pem: C, private_key_pem: K}}\n")},
		{"kamal2_ssl_primary_role_without_proxy", deploy(replace(v2Base, "servers:\n  - 1.1.1.1\n", "servers:\n  web:\n    hosts: [a, b]\n    proxy: false\n") + "proxy: {ssl: true, host: a.example.com}\n")},
		{"kamal1_sections", deploy(v1Base + "healthcheck: {path: /up, port: \"3000\", max_attempts: 7, interval: 10s, cord: false}\ntraefik: {options: {publish: [443]}}\nboot: {limit: 10}\naccessories:\n  db:\n    image: mysql\n    roles: [web]\n")},
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
