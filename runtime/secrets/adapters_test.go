package secrets

import (
	"context"
	"encoding/json"
	"testing"
)

// step is one expected vendor call and its answer.
type step struct {
	call string // env words then argv, space-joined (Call.String)
	out  string
	fail bool
	// quiet: the call must discard stderr (`2> /dev/null`).
	quiet bool
}

// script returns a Runner that expects exactly steps, in order.
func script(t *testing.T, steps []step) (Runner, func()) {
	t.Helper()
	i := 0
	run := func(_ context.Context, c Call) (string, bool, error) {
		t.Helper()
		if i >= len(steps) {
			t.Fatalf("unexpected call %q (all %d expected calls made)", c.String(), len(steps))
		}
		s := steps[i]
		i++
		if got := c.String(); got != s.call {
			t.Fatalf("call %d:\n got %q\nwant %q", i, got, s.call)
		}
		if c.QuietStderr != s.quiet {
			t.Errorf("call %q: QuietStderr = %v, want %v", s.call, c.QuietStderr, s.quiet)
		}
		return s.out, !s.fail, nil
	}
	return run, func() {
		t.Helper()
		if i != len(steps) {
			t.Errorf("%d of %d expected calls made; next: %q", i, len(steps), steps[i].call)
		}
	}
}

func jsonOf(t *testing.T, r *Results) string {
	t.Helper()
	b, err := json.Marshal(r)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

type adapterCase struct {
	name          string
	adapter       string
	secrets       []string
	account, from string
	env           map[string]string
	steps         []step
	want, wantErr string
	wantErrClass  string
}

func runAdapterCases(t *testing.T, cases []adapterCase) {
	t.Helper()
	for _, tt := range cases {
		t.Run(tt.name, func(t *testing.T) {
			for k, v := range tt.env {
				t.Setenv(k, v)
			}
			run, done := script(t, tt.steps)
			res, err := Fetch(context.Background(), run, tt.adapter, tt.secrets, tt.account, tt.from)
			done()
			if tt.wantErr != "" {
				if err == nil || err.Error() != tt.wantErr {
					t.Fatalf("error = %v, want %q", err, tt.wantErr)
				}
				class := "RuntimeError"
				if tt.wantErrClass != "" {
					class = tt.wantErrClass
				}
				if e, ok := err.(*Error); !ok || e.Class() != class {
					t.Errorf("error class of %v, want %s", err, class)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got := jsonOf(t, res); got != tt.want {
				t.Errorf("results %s, want %s", got, tt.want)
			}
		})
	}
}

const opInstalled = "op --version"

func TestOnePassword(t *testing.T) {
	signedIn := []step{{call: opInstalled, out: "2.30.3\n", quiet: true}, {call: "op account get --account acc", out: "{}", quiet: true}}
	field := func(ref, v string) string {
		return `{"id":"x","label":"x","value":"` + v + `","reference":"op://` + ref + `"}`
	}
	runAdapterCases(t, []adapterCase{
		{name: "one field per item, default field password, --from prefixes",
			adapter: "1password", account: "acc", from: "Vault/Item", secrets: []string{"password", "api/key"},
			steps: append(signedIn,
				step{call: "op item get Item --vault Vault --format json --account acc --fields label=password,label=api.key",
					out: "[" + field("Vault/Item/password", "s3cret") + "," + field("Vault/Item/api/key", "k") + "]"}),
			want: `{"Vault/Item":"s3cret","Vault/Item/api/key":"k"}`},
		{name: "op:// references group by vault and item; one field answers an object",
			adapter: "1Password", account: "acc", secrets: []string{"op://V/A", "op://V/B/token"},
			steps: append(signedIn,
				step{call: "op item get A --vault V --format json --account acc --fields label=password", out: field("V/A/password", "a")},
				step{call: "op item get B --vault V --format json --account acc --fields label=token", out: field("V/B/token", "b")}),
			want: `{"V/A":"a","V/B/token":"b"}`},
		{name: "no secrets: every field of --from's item",
			adapter: "1password", account: "acc", from: "op://V/Item",
			steps: append(signedIn,
				step{call: "op item get Item --vault V --format json --account acc",
					out: `{"fields":[` + field("V/Item/username", "u") + "," + field("V/Item/password", "p") + "]}"}),
			want: `{"V/Item/username":"u","V/Item":"p"}`},
		{name: "not signed in: signs in and passes the session in the environment",
			adapter: "1password", account: "acc", secrets: []string{"V/I"},
			steps: []step{{call: opInstalled, quiet: true}, {call: "op account get --account acc", fail: true, quiet: true},
				{call: "op signin --account acc --force", out: "export OP_SESSION_abc=\"tok123\"\n"},
				{call: "OP_SESSION_abc=tok123 op item get I --vault V --format json --account acc --fields label=password", out: field("V/I/password", "p")}},
			want: `{"V/I":"p"}`},
		{name: "sign-in fails", adapter: "1password", account: "acc", secrets: []string{"V/I"},
			steps:   []step{{call: opInstalled, quiet: true}, {call: "op account get --account acc", fail: true, quiet: true}, {call: "op signin --account acc --force", fail: true}},
			wantErr: "Failed to login to 1Password"},
		{name: "item not found", adapter: "1password", account: "acc", secrets: []string{"V/I/a", "V/I/b"},
			steps:   append(signedIn, step{call: "op item get I --vault V --format json --account acc --fields label=a,label=b", fail: true}),
			wantErr: "Could not read a, b from I in the V 1Password vault"},
		{name: "op missing", adapter: "1password", account: "acc", secrets: []string{"V/I"},
			steps: []step{{call: opInstalled, fail: true, quiet: true}}, wantErr: "1Password CLI is not installed"},
		{name: "account required", adapter: "1password", secrets: []string{"V/I"}, wantErr: "Missing required option '--account'"},
		{name: "malformed answer", adapter: "1password", account: "acc", secrets: []string{"V/I"},
			steps:   append(signedIn, step{call: "op item get I --vault V --format json --account acc --fields label=password", out: "{oops"}),
			wantErr: "unexpected token at '{oops'", wantErrClass: "JSON::ParserError"},
	})
}

func TestBitwarden(t *testing.T) {
	unlocked := []step{{call: "bw --version", quiet: true}, {call: "bw status", out: `{"status":"unlocked"}`}, {call: "bw sync"}}
	runAdapterCases(t, []adapterCase{
		{name: "login password, fields, all custom fields",
			adapter: "bitwarden", account: "me@example.com", secrets: []string{"login", "item/f1", "item/f2", "custom"},
			steps: append(unlocked,
				step{call: "bw get item login", out: `{"login":{"password":"pw"}}`},
				step{call: "bw get item item", out: `{"fields":[{"name":"f1","value":"v1"},{"name":"f2","value":"v2"}]}`},
				step{call: "bw get item custom", out: `{"login":null,"fields":[{"name":"A","value":"a"}]}`}),
			want: `{"login":"pw","item/f1":"v1","item/f2":"v2","custom/A":"a"}`},
		{name: "unauthenticated then locked: logs in, unlocks, uses the session",
			adapter: "bitwarden", account: "me@example.com", secrets: []string{"x"},
			steps: []step{{call: "bw --version", quiet: true}, {call: "bw status", out: `{"status":"unauthenticated"}`},
				{call: "bw login me@example.com"}, {call: "bw status", out: `{"status":"locked"}`},
				{call: "bw unlock --raw", out: "SESSION\n"}, {call: "BW_SESSION=SESSION bw status", out: `{"status":"unlocked"}`},
				{call: "BW_SESSION=SESSION bw sync"}, {call: "BW_SESSION=SESSION bw get item x", out: `{"login":{"password":"p"}}`}},
			want: `{"x":"p"}`},
		{name: "still locked", adapter: "bitwarden", account: "a", secrets: []string{"x"},
			steps: []step{{call: "bw --version", quiet: true}, {call: "bw status", out: `{"status":"locked"}`},
				{call: "bw unlock --raw", fail: true}, {call: "bw status", out: `{"status":"locked"}`}},
			wantErr: "Failed to login to and unlock Bitwarden"},
		{name: "sync fails", adapter: "bitwarden", account: "a", secrets: []string{"x"},
			steps:   []step{{call: "bw --version", quiet: true}, {call: "bw status", out: `{"status":"unlocked"}`}, {call: "bw sync", fail: true}},
			wantErr: "Failed to sync Bitwarden"},
		{name: "item not found", adapter: "bitwarden", account: "a", secrets: []string{"x"},
			steps: append(unlocked, step{call: "bw get item x", out: "Not found.", fail: true}), wantErr: "Could not read x from Bitwarden"},
		{name: "field not found", adapter: "bitwarden", account: "a", secrets: []string{"x/nope"},
			steps:   append(unlocked, step{call: "bw get item x", out: `{"fields":[{"name":"f","value":"v"}]}`}),
			wantErr: "Could not find field nope in item x in Bitwarden"},
		{name: "not a login and no fields", adapter: "bitwarden", account: "a", secrets: []string{"note"},
			steps:   append(unlocked, step{call: "bw get item note", out: `{"notes":"n"}`}),
			wantErr: "Item note is not a login type item and no fields were specified"},
		{name: "bw missing", adapter: "bitwarden", account: "a", secrets: []string{"x"},
			steps: []step{{call: "bw --version", fail: true, quiet: true}}, wantErr: "Bitwarden CLI is not installed"},
	})
}

func TestBitwardenSecretsManager(t *testing.T) {
	authed := []step{{call: "bws --version", quiet: true}, {call: "bws run echo OK", out: "OK\n"}}
	runAdapterCases(t, []adapterCase{
		{name: "by id", adapter: "bitwarden-sm", secrets: []string{"uuid-1", "uuid-2"},
			steps: append(authed, step{call: "bws secret get -o env uuid-1", out: "KAMAL_REGISTRY_PASSWORD=\"pw\"\n"},
				step{call: "bws secret get -o env uuid-2", out: "DB=\"a=b\"\n"}),
			want: `{"KAMAL_REGISTRY_PASSWORD":"pw","DB":"a=b"}`},
		{name: "all", adapter: "bitwarden-sm", secrets: []string{"all"},
			steps: append(authed, step{call: "bws secret list -o env", out: "A=\"1\"\nB=\"2\"\n"}), want: `{"A":"1","B":"2"}`},
		{name: "project/all with --from", adapter: "bitwarden-sm", from: "proj", secrets: []string{"all"},
			steps: append(authed, step{call: "bws secret list -o env proj", out: "A=\"1\"\n"}), want: `{"A":"1"}`},
		{name: "bad token", adapter: "bitwarden-sm", secrets: []string{"all"},
			steps:   []step{{call: "bws --version", quiet: true}, {call: "bws run echo OK", fail: true}},
			wantErr: "Could not authenticate to Bitwarden Secrets Manager. Did you set a valid access token?"},
		{name: "nothing asked", adapter: "bitwarden-sm", steps: authed, wantErr: "You must specify what to retrieve from Bitwarden Secrets Manager"},
		{name: "secret not found", adapter: "bitwarden-sm", secrets: []string{"nope"},
			steps: append(authed, step{call: "bws secret get -o env nope", fail: true}), wantErr: "Could not read nope from Bitwarden Secrets Manager"},
		{name: "list fails", adapter: "bitwarden-sm", secrets: []string{"all"},
			steps: append(authed, step{call: "bws secret list -o env", fail: true}), wantErr: "Could not read secrets from Bitwarden Secrets Manager"},
	})
}

func TestAWSSecretsManager(t *testing.T) {
	installed := step{call: "aws --version", quiet: true}
	runAdapterCases(t, []adapterCase{
		{name: "JSON secret strings split by key, plain ones by name; --account is the profile",
			adapter: "aws_secrets_manager", account: "prod", from: "myapp", secrets: []string{"db", "token"},
			steps: []step{installed, {call: "aws secretsmanager batch-get-secret-value --secret-id-list myapp/db myapp/token --profile prod",
				out: `{"SecretValues":[{"Name":"myapp/db","SecretString":"{\"user\":\"u\",\"pass\":\"p\"}"},{"Name":"myapp/token","SecretString":"t0k"}],"Errors":[]}`}},
			want: `{"myapp/db/user":"u","myapp/db/pass":"p","myapp/token":"t0k"}`},
		{name: "no account: no profile", adapter: "aws_secrets_manager", secrets: []string{"s"},
			steps: []step{installed, {call: "aws secretsmanager batch-get-secret-value --secret-id-list s", out: `{"SecretValues":[{"Name":"s","SecretString":"v"}]}`}},
			want:  `{"s":"v"}`},
		{name: "errors listed", adapter: "aws_secrets_manager", secrets: []string{"a", "b"},
			steps: []step{installed, {call: "aws secretsmanager batch-get-secret-value --secret-id-list a b",
				out: `{"SecretValues":[],"Errors":[{"SecretId":"a","ErrorCode":"ResourceNotFoundException","Message":"Secrets Manager can't find the specified secret."},{"SecretId":"b","Message":"denied"}]}`}},
			wantErr: "a: Secrets Manager can't find the specified secret. b: denied"},
		{name: "call fails", adapter: "aws_secrets_manager", secrets: []string{"a"},
			steps:   []step{installed, {call: "aws secretsmanager batch-get-secret-value --secret-id-list a", fail: true}},
			wantErr: "Could not read  from AWS Secrets Manager"},
		{name: "aws missing", adapter: "aws_secrets_manager", secrets: []string{"a"},
			steps: []step{{call: "aws --version", fail: true, quiet: true}}, wantErr: "AWS CLI is not installed"},
	})
}

func TestGCPSecretManager(t *testing.T) {
	authed := []step{{call: "gcloud --version", quiet: true}, {call: "gcloud auth list --format=json", out: `[{"account":"me@example.com"}]`}}
	b64 := func(s string) string { return `{"payload":{"data":"` + s + `"}}` }
	runAdapterCases(t, []adapterCase{
		{name: "names, projects, versions and impersonation",
			adapter: "gcp", account: "me@example.com|sa@p.iam.gserviceaccount.com", secrets: []string{"plain", "proj/name/3"},
			steps: append(authed,
				step{call: "gcloud secrets versions access latest --secret=plain --account=me@example.com --impersonate-service-account=sa@p.iam.gserviceaccount.com --format=json", out: b64("c2VjcmV0")},
				step{call: "gcloud secrets versions access 3 --secret=name --project=proj --account=me@example.com --impersonate-service-account=sa@p.iam.gserviceaccount.com --format=json", out: b64("dGhyZWU=")}),
			want: `{"default/plain":"secret","proj/name":"three"}`},
		{name: "default user, --from project", adapter: "gcp_secret_manager", account: "default", from: "proj", secrets: []string{"n"},
			steps: append(authed, step{call: "gcloud secrets versions access latest --secret=n --project=proj --format=json", out: b64("eA==")}),
			want:  `{"proj/n":"x"}`},
		{name: "not logged in: logs in", adapter: "gcp", account: "default", secrets: []string{"n"},
			steps: []step{{call: "gcloud --version", quiet: true}, {call: "gcloud auth list --format=json", out: "[]"}, {call: "gcloud auth login"},
				{call: "gcloud auth list --format=json", out: `[{}]`}, {call: "gcloud secrets versions access latest --secret=n --format=json", out: b64("eA==")}},
			want: `{"default/n":"x"}`},
		{name: "login fails", adapter: "gcp", account: "default", secrets: []string{"n"},
			steps: []step{{call: "gcloud --version", quiet: true}, {call: "gcloud auth list --format=json", out: "[]"}, {call: "gcloud auth login", fail: true},
				{call: "gcloud auth list --format=json", out: "[]"}},
			wantErr: "could not login to gcloud"},
		{name: "not found", adapter: "gcp", account: "default", secrets: []string{"n"},
			steps:   append(authed, step{call: "gcloud secrets versions access latest --secret=n --format=json", fail: true}),
			wantErr: "Could not read default/n from Google Secret Manager"},
	})
}

func TestLastPass(t *testing.T) {
	loggedIn := []step{{call: "lpass --version", quiet: true}, {call: "lpass status --color never", out: "Logged in as me@example.com.\n"}}
	runAdapterCases(t, []adapterCase{
		{name: "entries by full name, --from folder", adapter: "lastpass", account: "me@example.com", from: "Shared-app", secrets: []string{"A", "B"},
			steps: append(loggedIn, step{call: "lpass show Shared-app/A Shared-app/B --json",
				out: `[{"fullname":"Shared-app/A","password":"a"},{"fullname":"Shared-app/B","password":"b"}]`}),
			want: `{"Shared-app/A":"a","Shared-app/B":"b"}`},
		{name: "logs in", adapter: "last_pass", account: "me@example.com", secrets: []string{"A"},
			steps: []step{{call: "lpass --version", quiet: true}, {call: "lpass status --color never", out: "Not logged in.\n", fail: true},
				{call: "lpass login me@example.com"}, {call: "lpass show A --json", out: `[{"fullname":"A","password":"a"}]`}},
			want: `{"A":"a"}`},
		{name: "login fails", adapter: "lastpass", account: "me@example.com", secrets: []string{"A"},
			steps: []step{{call: "lpass --version", quiet: true}, {call: "lpass status --color never", out: "Not logged in.\n", fail: true},
				{call: "lpass login me@example.com", fail: true}},
			wantErr: "Failed to login to LastPass"},
		{name: "missing entries", adapter: "lastpass", account: "me@example.com", secrets: []string{"A", "B", "C"},
			steps:   append(loggedIn, step{call: "lpass show A B C --json", out: `[{"fullname":"A","password":"a"}]`}),
			wantErr: "Could not find B, C in LastPass"},
		{name: "show fails", adapter: "lastpass", account: "me@example.com", secrets: []string{"A", "B"},
			steps:   append(loggedIn, step{call: "lpass show A B --json", fail: true}),
			wantErr: `Could not read ["A", "B"] from LastPass`},
	})
}

func TestDoppler(t *testing.T) {
	loggedIn := []step{{call: "doppler --version", quiet: true}, {call: "doppler me --json", out: "{}", quiet: true}}
	runAdapterCases(t, []adapterCase{
		{name: "project and config from --from", adapter: "doppler", from: "app/prd", secrets: []string{"A", "B"}, env: map[string]string{"DOPPLER_TOKEN": ""},
			steps: append(loggedIn, step{call: "doppler secrets get A B --json -p app -c prd",
				out: `{"A":{"computed":"a","raw":"a"},"B":{"computed":"b","raw":"${A}"}}`}),
			want: `{"A":"a","B":"b"}`},
		{name: "service token: no project flags", adapter: "doppler", secrets: []string{"A"}, env: map[string]string{"DOPPLER_TOKEN": "dp.st.prd.x"},
			steps: append(loggedIn, step{call: "doppler secrets get A --json", out: `{"A":{"computed":"a"}}`}), want: `{"A":"a"}`},
		{name: "logs in", adapter: "doppler", from: "app/prd", secrets: []string{"A"}, env: map[string]string{"DOPPLER_TOKEN": ""},
			steps: []step{{call: "doppler --version", quiet: true}, {call: "doppler me --json", fail: true, quiet: true}, {call: "doppler login -y"},
				{call: "doppler secrets get A --json -p app -c prd", out: `{"A":{"computed":"a"}}`}},
			want: `{"A":"a"}`},
		{name: "no project", adapter: "doppler", secrets: []string{"A"}, env: map[string]string{"DOPPLER_TOKEN": ""},
			steps: loggedIn, wantErr: "Missing project or config from '--from=project/config' option"},
		{name: "get fails", adapter: "doppler", from: "app/prd", secrets: []string{"A"}, env: map[string]string{"DOPPLER_TOKEN": ""},
			steps:   append(loggedIn, step{call: "doppler secrets get A --json -p app -c prd", fail: true}),
			wantErr: `Could not read ["app/prd/A"] from Doppler`},
	})
}

func TestPassbolt(t *testing.T) {
	verified := []step{{call: "passbolt --version", quiet: true}, {call: "passbolt verify"}}
	runAdapterCases(t, []adapterCase{
		{name: "root resources", adapter: "passbolt", secrets: []string{"A", "B"},
			steps: append(verified, step{call: `passbolt list resources --filter Name == "A" || Name == "B" --json`,
				out: `[{"name":"A","password":"a"},{"name":"B","password":"b"}]`}),
			want: `{"A":"a","B":"b"}`},
		{name: "nested folders", adapter: "passbolt", from: "app", secrets: []string{"prod/DB"},
			steps: append(verified,
				step{call: `passbolt list folders --filter Name == "app" --json`, out: `[{"id":"f1","folder_parent_id":"","name":"app"}]`},
				step{call: `passbolt list folders --filter Name == "prod" && FolderParentID == "f1" --json`, out: `[{"id":"f2","folder_parent_id":"f1","name":"prod"}]`},
				step{call: `passbolt list resources --filter (Name == "DB" && FolderParentID == "f2") --folder f1 --folder f2 --json`, out: `[{"name":"DB","password":"d"}]`}),
			want: `{"DB":"d"}`},
		{name: "missing folder", adapter: "passbolt", secrets: []string{"nope/A"},
			steps:   append(verified, step{call: `passbolt list folders --filter Name == "nope" --json`, out: `[]`}),
			wantErr: "Could not find the following folders in Passbolt: nope"},
		{name: "missing secret", adapter: "passbolt", secrets: []string{"A", "B"},
			steps:   append(verified, step{call: `passbolt list resources --filter Name == "A" || Name == "B" --json`, out: `[{"name":"A","password":"a"}]`}),
			wantErr: "Could not find the following secrets in Passbolt: B"},
		{name: "not configured", adapter: "passbolt", secrets: []string{"A"},
			steps: []step{{call: "passbolt --version", quiet: true}, {call: "passbolt verify", fail: true}}, wantErr: "Failed to login to Passbolt"},
		{name: "nothing asked", adapter: "passbolt", steps: verified, wantErr: "No secrets given to fetch", wantErrClass: "ArgumentError"},
	})
}

func TestEnpass(t *testing.T) {
	installed := step{call: "enpass-cli version", quiet: true}
	runAdapterCases(t, []adapterCase{
		{name: "whole items and one label", adapter: "enpass", from: "/vaults/primary", secrets: []string{"FooBar", "Other/DB"},
			steps: []step{installed, {call: "enpass-cli -json -vault /vaults/primary show FooBar Other",
				out: `[{"title":"FooBar","label":"","password":"p1"},{"title":"FooBar","label":"API","password":"p2"},{"title":"Other","label":"DB","password":"d"},{"title":"Other","label":"X","password":"x"},{"title":"FooBar","label":"empty","password":""}]`}},
			want: `{"FooBar":"p1","FooBar/API":"p2","Other/DB":"d"}`},
		{name: "duplicate", adapter: "enpass", from: "/v", secrets: []string{"A"},
			steps:   []step{installed, {call: "enpass-cli -json -vault /v show A", out: `[{"title":"A","label":"L","password":"1"},{"title":"A","label":"L","password":"2"}]`}},
			wantErr: "A/L is present more than once"},
		{name: "no vault directory", adapter: "enpass", secrets: []string{"A"}, steps: []step{installed},
			wantErr: "Missing required option '--from' (the Enpass vault directory)"},
		{name: "enpass-cli missing", adapter: "enpass", from: "/v", secrets: []string{"A"},
			steps: []step{{call: "enpass-cli version", fail: true, quiet: true}}, wantErr: "Enpass CLI is not installed"},
	})
}

func TestUnknownAdapter(t *testing.T) {
	_, err := Fetch(context.Background(), nil, "keychain", nil, "", "")
	if err == nil || err.Error() != "Unknown secrets adapter: keychain" {
		t.Fatalf("error = %v", err)
	}
}

func TestExtract(t *testing.T) {
	tests := []struct {
		name, key, json, want, wantErr string
	}{
		{"exact key", "A", `{"A":"1","x/A":"2"}`, "1", ""},
		{"suffix after a slash, first in order", "PASS", `{"v/i/user":"u","v/i/PASS":"p","w/PASS":"q"}`, "p", ""},
		{"a suffix without the slash does not match", "PASS", `{"XPASS":"p"}`, "", "Could not find secret PASS"},
		{"number printed as JSON wrote it", "N", `{"N":12.50}`, "12.50", ""},
		{"null is not found", "A", `{"A":null}`, "", "Could not find secret A"},
		{"malformed JSON", "A", `{"A":`, "", `unexpected token at '{"A":'`},
		{"empty input", "A", ``, "", "unexpected end of input"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Extract(tt.key, tt.json)
			if tt.wantErr != "" {
				if err == nil || err.Error() != tt.wantErr {
					t.Fatalf("error = %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Fatalf("Extract = %q, %v; want %q", got, err, tt.want)
			}
		})
	}
}
