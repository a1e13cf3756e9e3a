package secrets

import (
	"os"
	"strings"

	"github.com/kamal-go/kamal/runtime/ruby"
)

// doppler is the doppler adapter (`doppler`). Secrets are names, with
// --from PROJECT/CONFIG unless DOPPLER_TOKEN is a service token (dp.st...).
type doppler struct{}

func (doppler) requiresAccount() bool { return false }

func (doppler) checkInstalled(v *vendor) error {
	ok, err := v.installed("doppler", "--version")
	if err == nil && !ok {
		err = runtimeErrorf("Doppler CLI is not installed")
	}
	return err
}

func (doppler) login(v *vendor, _ string) ([]string, error) {
	if _, ok, err := v.call(Call{Argv: []string{"doppler", "me", "--json"}, QuietStderr: true}); err != nil || ok {
		return nil, err
	}
	_, ok, err := v.call(Call{Argv: []string{"doppler", "login", "-y"}})
	if err == nil && !ok {
		err = runtimeErrorf("Failed to login to Doppler")
	}
	return nil, err
}

func (doppler) fetch(v *vendor, secrets []string, from, _ string, _ []string) (*Results, error) {
	secrets = prefixed(secrets, from)
	var flags []string
	if tok := os.Getenv("DOPPLER_TOKEN"); !strings.HasPrefix(tok, "dp.st") {
		var parts []string
		if len(secrets) > 0 {
			parts = strings.Split(secrets[0], "/")
		}
		project, config := at(parts, 0), at(parts, 1)
		if project == "" || config == "" || len(parts) < 2 {
			return nil, runtimeErrorf("Missing project or config from '--from=project/config' option")
		}
		flags = []string{"-p", project, "-c", config}
	}
	argv := []string{"doppler", "secrets", "get"}
	for _, s := range secrets {
		argv = append(argv, s[strings.LastIndex(s, "/")+1:])
	}
	argv = append(append(argv, "--json"), flags...)
	out, ok, err := v.call(Call{Argv: argv})
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, runtimeErrorf("Could not read %s from Doppler", ruby.InspectStrings(secrets))
	}
	var obj map[string]any
	var order []string
	if err := parseObject(out, &obj, &order); err != nil {
		return nil, err
	}
	res := &Results{}
	for _, k := range order {
		var computed any
		if m, ok := obj[k].(map[string]any); ok {
			computed = m["computed"]
		}
		res.Set(k, computed)
	}
	return res, nil
}
