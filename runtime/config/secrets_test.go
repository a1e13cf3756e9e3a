package config

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/kamal-go/kamal/runtime/kamalerr"
)

func TestSecrets(t *testing.T) {
	type lookup struct {
		name, value string
		class, msg  string // error wanted when class != ""
	}
	tests := []struct {
		name    string
		fx      fixture
		lookups []lookup
	}{
		{
			name: "common_then_specific_file",
			fx: deploy(v2Base).with(".kamal/secrets-common", "A=common\nB=common\n").
				with(".kamal/secrets", "B=specific\n").with(".kamal/secrets.staging", "B=staging\n"),
			lookups: []lookup{{name: "A", value: "common"}, {name: "B", value: "specific"}},
		},
		{
			name: "destination_reads_dest_file_not_plain_file",
			fx: deploy(v2Base).withDest("staging").with("config/deploy.staging.yml", "").
				with(".kamal/secrets-common", "A=common\n").
				with(".kamal/secrets", "B=plain\n").with(".kamal/secrets.staging", "C=staging\n"),
			lookups: []lookup{
				{name: "A", value: "common"}, {name: "C", value: "staging"},
				{name: "B", class: kamalerr.ClassConfiguration, msg: "Secret 'B' not found in .kamal/secrets-common, .kamal/secrets.staging"},
			},
		},
		{
			name: "not_found_lists_existing_files",
			fx:   deploy(v2Base).with(".kamal/secrets", "A=1\n"),
			lookups: []lookup{
				{name: "NOPE", class: kamalerr.ClassConfiguration, msg: "Secret 'NOPE' not found in .kamal/secrets"},
			},
		},
		{
			name: "not_found_without_files",
			fx:   deploy(v2Base),
			lookups: []lookup{
				{name: "NOPE", class: kamalerr.ClassConfiguration, msg: "Secret 'NOPE' not found, no secret files (.kamal/secrets-common, .kamal/secrets) provided"},
			},
		},
		{
			name: "not_found_without_files_with_destination",
			fx:   deploy(v2Base).withDest("prod").with("config/deploy.prod.yml", ""),
			lookups: []lookup{
				{name: "NOPE", class: kamalerr.ClassConfiguration, msg: "Secret 'NOPE' not found, no secret files (.kamal/secrets-common, .kamal/secrets.prod) provided"},
			},
		},
		{
			name:    "custom_secrets_path",
			fx:      deploy(v2Base+"secrets_path: config/creds\n").with("config/creds", "A=custom\n"),
			lookups: []lookup{{name: "A", value: "custom"}},
		},
		{
			name:    "file_values_win_over_env",
			fx:      deploy(v2Base).with(".kamal/secrets", "SECRET1=DEF\n").withEnv("SECRET1", "ABC"),
			lookups: []lookup{{name: "SECRET1", value: "DEF"}},
		},
		{
			name: "env_is_not_a_secret_source",
			fx:   deploy(v2Base).with(".kamal/secrets", "A=1\n").withEnv("B", "env"),
			lookups: []lookup{
				{name: "B", class: kamalerr.ClassConfiguration, msg: "Secret 'B' not found in .kamal/secrets"},
			},
		},
		{
			name: "variables_do_not_cross_files",
			fx: deploy(v2Base).with(".kamal/secrets-common", "BASE=common\n").
				with(".kamal/secrets", "A=[${BASE}]\nB=[${FROMENV}]\n").withEnv("FROMENV", "env"),
			lookups: []lookup{{name: "A", value: "[]"}, {name: "B", value: "[env]"}},
		},
		{
			name:    "command_substitution_in_app_dir",
			fx:      deploy(v2Base).with(".kamal/secrets", "TOKEN=$(cat token.txt)\n").with("token.txt", "s3cret\n"),
			lookups: []lookup{{name: "TOKEN", value: "s3cret"}},
		},
		{
			name: "parse_error_on_every_lookup",
			fx:   deploy(v2Base).with(".kamal/secrets", "A=1\nnot a line\n"),
			lookups: []lookup{
				{name: "A", class: kamalerr.ClassDotenvFormat, msg: ".kamal/secrets:2: malformed line (expected KEY=value)"},
				{name: "A", class: kamalerr.ClassDotenvFormat, msg: ".kamal/secrets:2: malformed line (expected KEY=value)"},
			},
		},
		{
			name: "failing_command_is_an_error",
			fx:   deploy(v2Base).with(".kamal/secrets-common", "A=$(exit 4)\n"),
			lookups: []lookup{
				{name: "A", class: kamalerr.ClassRuntime, msg: ".kamal/secrets-common:1: command $(exit 4) failed with exit status 4"},
			},
		},
		{
			name:    "kamal1_reads_process_env",
			fx:      deploy(v1Base).withEnv("TOKEN", "env-token"),
			lookups: []lookup{{name: "TOKEN", value: "env-token"}},
		},
		{
			name:    "kamal1_ignores_secrets_files",
			fx:      deploy(v1Base).with(".kamal/secrets", "TOKEN=file\n"),
			lookups: []lookup{{name: "TOKEN", class: kamalerr.ClassKey, msg: `key not found: "TOKEN"`}},
		},
		{
			name:    "kamal1_reads_dotenv",
			fx:      deploy(v1Base).with(".env", "TOKEN=dotenv\n"),
			lookups: []lookup{{name: "TOKEN", value: "dotenv"}},
		},
		{
			name: "kamal1_destination_dotenv_first",
			fx: deploy(v1Base).withDest("staging").with("config/deploy.staging.yml", "").
				with(".env.staging", "A=staging\nC=${B}\n").with(".env", "A=plain\nB=plain\n"),
			lookups: []lookup{{name: "A", value: "staging"}, {name: "B", value: "plain"}, {name: "C", value: ""}},
		},
		{
			name:    "kamal1_without_destination_skips_dest_dotenv",
			fx:      deploy(v1Base).with(".env.staging", "A=staging\n").with(".env", "B=plain\n"),
			lookups: []lookup{{name: "A", class: kamalerr.ClassKey, msg: `key not found: "A"`}, {name: "B", value: "plain"}},
		},
		{
			name:    "kamal1_real_env_wins_over_dotenv",
			fx:      deploy(v1Base).with(".env", "A=dotenv\nB=${A}\n").withEnv("A", "env"),
			lookups: []lookup{{name: "A", value: "env"}, {name: "B", value: "env"}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := mustLoad(t, tt.fx)
			for _, l := range tt.lookups {
				got, err := c.Secret(l.name)
				if l.class != "" {
					wantError(t, err, l.class, l.msg)
					continue
				}
				if err != nil {
					t.Fatalf("Secret(%q): %v", l.name, err)
				}
				eq(t, got, l.value)
			}
		})
	}
}

func TestSecretsParsedOnce(t *testing.T) {
	fx := deploy(v2Base).with(".kamal/secrets", "A=$(echo run >> count; printf a)\nB=b\n")
	dir := fx.dir(t)
	c, err := Load(fx.options(dir))
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	for i := 0; i < 20; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			name := "A"
			if i%2 == 1 {
				name = "B"
			}
			if _, err := c.Secret(name); err != nil {
				t.Error(err)
			}
			_ = c.SecretValues()
		}()
	}
	wg.Wait()
	data, err := os.ReadFile(filepath.Join(dir, "count"))
	if err != nil {
		t.Fatal(err)
	}
	eq(t, strings.Count(string(data), "run"), 1)
	eq(t, c.Secrets().Files(), []string{".kamal/secrets"})
}

func TestSecretValues(t *testing.T) {
	fx := deploy(replace(v2Base, "password: secret", "password: [REGISTRY_PASSWORD]")).
		with(".kamal/secrets", "REGISTRY_PASSWORD=pw\nUNUSED=nope\nEMPTY=\n")
	c := mustLoad(t, fx)
	eq(t, c.SecretValues(), []string{"dhh"})
	pw, err := c.Resolve(c.Registry.Password)
	if err != nil {
		t.Fatal(err)
	}
	eq(t, pw, "pw")
	user, _ := c.Resolve(c.Registry.Username)
	eq(t, user, "dhh")
	if _, err := c.Secret("EMPTY"); err != nil {
		t.Fatal(err)
	}
	eq(t, c.SecretValues(), []string{"pw", "dhh"})
	all, err := c.Secrets().All()
	if err != nil {
		t.Fatal(err)
	}
	eq(t, all, []KV{{Key: "REGISTRY_PASSWORD", Value: "pw"}, {Key: "UNUSED", Value: "nope"}, {Key: "EMPTY", IsEmpty: true}})
	eq(t, c.SecretValues(), []string{"pw", "nope", "dhh"})
}

func TestKamal1SecretValuesAndDotEnv(t *testing.T) {
	fx := deploy(replace(v1Base, "password: secret", "password: [PW]")).with(".env", "PW=dotenv-pw\nOTHER=1\n").withEnv("OTHER", "env")
	c := mustLoad(t, fx)
	eq(t, c.DotEnv(), map[string]string{"PW": "dotenv-pw"})
	pw, err := c.Resolve(c.Registry.Password)
	if err != nil {
		t.Fatal(err)
	}
	eq(t, pw, "dotenv-pw")
	eq(t, c.SecretValues(), []string{"dotenv-pw", "dhh"})
	v, ok := c.Getenv("OTHER")
	eq(t, v+":"+boolString(ok), "env:true")
	v, ok = c.Getenv("PW")
	eq(t, v+":"+boolString(ok), "dotenv-pw:true")
}

func TestKamal2HasNoDotEnv(t *testing.T) {
	c := mustLoad(t, deploy(v2Base).with(".env", "A=1\n"))
	eq(t, c.DotEnv(), map[string]string(nil))
	_, ok := c.Getenv("A")
	eq(t, ok, false)
}

func TestSSHKeyData(t *testing.T) {
	fx := deploy(v2Base+"ssh:\n  key_data: [SSH_KEY, OTHER_KEY]\n").with(".kamal/secrets", "SSH_KEY=\"-----BEGIN-----\"\n")
	c := mustLoad(t, fx)
	data, warnings, err := c.SSHKeyData()
	if err != nil {
		t.Fatal(err)
	}
	eq(t, data, []string{"-----BEGIN-----", "OTHER_KEY"})
	eq(t, warnings, []string{inlineKeyDataWarning})
	eq(t, c.SecretValues(), []string{"-----BEGIN-----", "dhh", "secret"})
}

// TestSSHKeyDataRegistersInlineKeys: config is the one place secret
// values reach the logger, the Kamal 2 inline key_data (not named in the
// secrets file) included.
func TestSSHKeyDataRegistersInlineKeys(t *testing.T) {
	fx := deploy(v2Base+"ssh:\n  key_data: [SSH_KEY, INLINE-KEY-TEXT]\n").with(".kamal/secrets", "SSH_KEY=\"-----BEGIN-----\"\n")
	var registered []string
	o := fx.options(fx.dir(t))
	o.OnSecret = func(vs ...string) { registered = append(registered, vs...) }
	c, err := Load(o)
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := c.SSHKeyData(); err != nil {
		t.Fatal(err)
	}
	if !slices.Contains(registered, "INLINE-KEY-TEXT") || !slices.Contains(registered, "-----BEGIN-----") {
		t.Errorf("registered %q, want both keys", registered)

	}
}

func TestConfigLiteralSecrets(t *testing.T) {
	// A Config built as a literal (other packages' tests) still resolves.
	c := &Config{Generation: Kamal1, getenv: mapEnv(map[string]string{"A": "1"})}
	v, err := c.Resolve(Value{Secret: "A"})
	if err != nil || v != "1" {
		t.Fatalf("Resolve = %q, %v", v, err)
	}
	eq(t, c.SecretValues(), []string(nil))
}

func boolString(b bool) string {
	if b {
		return "true"
	}
	return "false"
}

func TestPlainTextHasTheConfigsTextButNoSecret(t *testing.T) {
	fx := deploy(v1Base+"env:\n  clear:\n    RAILS_ENV: production\nssh:\n  key_data: [\"-----BEGIN KEY-----\\nAAAAkey\"]\n").withDest("staging").with("config/deploy.staging.yml", "labels: {team: ops}\n")
	c := mustLoad(t, fx)
	plain := c.PlainText()
	for _, want := range []string{"staging", "1.1.1.1", "dhh/app", "app", "dhh", "RAILS_ENV", "production", "team", "ops"} {
		if !slices.Contains(plain, want) {
			t.Errorf("PlainText lacks %q: %q", want, plain)
		}
	}
	for _, secret := range []string{"secret", "-----BEGIN KEY-----\nAAAAkey"} {
		if slices.Contains(plain, secret) {
			t.Errorf("PlainText has secret %q", secret)
		}
	}
}

// A destination is pasted into the secrets file's name as Kamal does,
// never cleaned: ".kamal/secrets.../../x" names no file (there is no
// directory "secrets..."), where a cleaned path would read .kamal/x.
func TestSecretsDestinationIsNotCleanedOutOfItsDirectory(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, ".kamal", "x"), "A=outside\n")
	s := newSecrets(Kamal2, dir, ".kamal/secrets", "../../x", mapEnv(nil), &shell{dir: dir})
	if v, err := s.Lookup("A"); err == nil {
		t.Fatalf("read %q from a file outside the secrets path", v)
	}
}
