package secrets

import (
	"encoding/base64"
	"strings"
)

// gcpSecretManager is the gcp_secret_manager adapter (`gcloud`; alias
// gcp). Secrets are [PROJECT/]NAME[/VERSION] (project "default" is
// gcloud's default, version defaults to latest); --account is USER or
// USER|SERVICE_ACCOUNT[,...] for impersonation ("default" for gcloud's
// default user).
type gcpSecretManager struct{}

func (gcpSecretManager) requiresAccount() bool { return true }

func (gcpSecretManager) checkInstalled(v *vendor) error {
	ok, err := v.installed("gcloud", "--version")
	if err == nil && !ok {
		err = runtimeErrorf("gcloud CLI is not installed")
	}
	return err
}

func gcloudLoggedIn(v *vendor) (bool, error) {
	out, _, err := v.call(Call{Argv: []string{"gcloud", "auth", "list", "--format=json"}})
	if err != nil {
		return false, err
	}
	var accounts []any
	if err := parseJSON(out, &accounts); err != nil {
		return false, err
	}
	return len(accounts) > 0, nil
}

func (gcpSecretManager) login(v *vendor, _ string) ([]string, error) {
	in, err := gcloudLoggedIn(v)
	if err != nil || in {
		return nil, err
	}
	if _, _, err := v.call(Call{Argv: []string{"gcloud", "auth", "login"}}); err != nil {
		return nil, err
	}
	if in, err = gcloudLoggedIn(v); err == nil && !in {
		err = runtimeErrorf("could not login to gcloud")
	}
	return nil, err
}

func (gcpSecretManager) fetch(v *vendor, secrets []string, from, account string, _ []string) (*Results, error) {
	user, serviceAccount, impersonate := strings.Cut(account, "|")
	res := &Results{}
	for _, s := range prefixed(secrets, from) {
		parts := trimTrailingEmpty(strings.Split(s, "/"))
		if len(parts) == 1 {
			parts = append([]string{"default"}, parts...)
		}
		project, name, version := at(parts, 0), at(parts, 1), at(parts, 2)
		if version == "" {
			version = "latest"
		}
		argv := []string{"gcloud", "secrets", "versions", "access", version, "--secret=" + name}
		if project != "default" {
			argv = append(argv, "--project="+project)
		}
		if user != "default" {
			argv = append(argv, "--account="+user)
		}
		if impersonate {
			argv = append(argv, "--impersonate-service-account="+serviceAccount)
		}
		argv = append(argv, "--format=json")
		out, ok, err := v.call(Call{Argv: argv})
		if err != nil {
			return nil, err
		}
		item := project + "/" + name
		if !ok {
			return nil, runtimeErrorf("Could not read %s from Google Secret Manager", item)
		}
		var resp struct {
			Payload struct {
				Data string `json:"data"`
			} `json:"payload"`
		}
		if err := parseJSON(strings.TrimSpace(out), &resp); err != nil {
			return nil, err
		}
		// Ruby's Base64.decode64 is lenient: it ignores what is not base64.
		data, _ := base64.StdEncoding.DecodeString(resp.Payload.Data)
		res.Set(item, string(data))
	}
	return res, nil
}
