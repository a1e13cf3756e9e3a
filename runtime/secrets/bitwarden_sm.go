package secrets

import (
	"strings"
)

// bitwardenSM is the bitwarden-sm adapter (Bitwarden Secrets Manager,
// `bws`, authenticated by BWS_ACCESS_TOKEN). Secrets are secret UUIDs,
// `all`, or PROJECT/all.
type bitwardenSM struct{}

func (bitwardenSM) requiresAccount() bool { return false }

func (bitwardenSM) checkInstalled(v *vendor) error {
	ok, err := v.installed("bws", "--version")
	if err == nil && !ok {
		err = runtimeErrorf("Bitwarden Secrets Manager CLI is not installed")
	}
	return err
}

func (bitwardenSM) login(v *vendor, _ string) ([]string, error) {
	_, ok, err := v.call(Call{Argv: []string{"bws", "run", "echo OK"}})
	if err == nil && !ok {
		err = runtimeErrorf("Could not authenticate to Bitwarden Secrets Manager. Did you set a valid access token?")
	}
	return nil, err
}

func (bitwardenSM) fetch(v *vendor, secrets []string, from, _ string, _ []string) (*Results, error) {
	if len(secrets) == 0 {
		return nil, runtimeErrorf("You must specify what to retrieve from Bitwarden Secrets Manager")
	}
	secrets = prefixed(secrets, from)
	res := &Results{}
	var list []string
	if len(secrets) == 1 {
		switch s := secrets[0]; {
		case s == "all":
			list = []string{"bws", "secret", "list", "-o", "env"}
		case strings.HasSuffix(s, "/all"):
			project, _, _ := strings.Cut(s, "/all")
			list = []string{"bws", "secret", "list", "-o", "env", project}
		}
	}
	if list == nil {
		for _, id := range secrets {
			out, ok, err := v.call(Call{Argv: []string{"bws", "secret", "get", "-o", "env", id}})
			if err != nil {
				return nil, err
			}
			if !ok {
				return nil, runtimeErrorf("Could not read %s from Bitwarden Secrets Manager", id)
			}
			k, val := parseEnvLine(out)
			res.Set(k, val)
		}
		return res, nil
	}
	out, ok, err := v.call(Call{Argv: list})
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, runtimeErrorf("Could not read secrets from Bitwarden Secrets Manager")
	}
	for _, line := range strings.Split(strings.TrimRight(out, "\n"), "\n") {
		if line == "" {
			continue
		}
		k, val := parseEnvLine(line)
		res.Set(k, val)
	}
	return res, nil
}

// parseEnvLine splits KEY="VALUE" (bws -o env), dropping the quotes.
func parseEnvLine(line string) (string, string) {
	line = strings.TrimRight(line, "\n")
	k, v, _ := strings.Cut(line, "=")
	v = strings.TrimPrefix(v, `"`)
	v = strings.TrimSuffix(v, `"`)
	return k, v
}
