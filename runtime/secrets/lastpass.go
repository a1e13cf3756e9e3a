package secrets

import (
	"strings"

	"github.com/kamal-go/kamal/runtime/ruby"
)

// lastPass is the lastpass adapter (`lpass`). Secrets are entry names
// (with --from FOLDER, FOLDER/NAME); --account is the LastPass username.
type lastPass struct{}

func (lastPass) requiresAccount() bool { return true }

func (lastPass) checkInstalled(v *vendor) error {
	ok, err := v.installed("lpass", "--version")
	if err == nil && !ok {
		err = runtimeErrorf("LastPass CLI is not installed")
	}
	return err
}

func (lastPass) login(v *vendor, account string) ([]string, error) {
	out, _, err := v.call(Call{Argv: []string{"lpass", "status", "--color", "never"}})
	if err != nil || strings.TrimSpace(out) == "Logged in as "+account+"." {
		return nil, err
	}
	_, ok, err := v.call(Call{Argv: []string{"lpass", "login", account}})
	if err == nil && !ok {
		err = runtimeErrorf("Failed to login to LastPass")
	}
	return nil, err
}

func (lastPass) fetch(v *vendor, secrets []string, from, _ string, _ []string) (*Results, error) {
	secrets = prefixed(secrets, from)
	argv := append(append([]string{"lpass", "show"}, secrets...), "--json")
	out, ok, err := v.call(Call{Argv: argv})
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, runtimeErrorf("Could not read %s from LastPass", ruby.InspectStrings(secrets))
	}
	var items []struct {
		Fullname string `json:"fullname"`
		Password any    `json:"password"`
	}
	if err := parseJSON(out, &items); err != nil {
		return nil, err
	}
	res := &Results{}
	for _, it := range items {
		res.Set(it.Fullname, it.Password)
	}
	var missing []string
	for _, s := range secrets {
		if _, ok := res.Get(s); !ok {
			missing = append(missing, s)
		}
	}
	if len(missing) > 0 {
		return nil, runtimeErrorf("Could not find %s in LastPass", strings.Join(missing, ", "))
	}
	return res, nil
}
