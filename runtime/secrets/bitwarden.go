package secrets

import (
	"strings"
)

// bitwarden is the bitwarden adapter (`bw`). Secrets are ITEM (its login
// password, else all its custom fields) or ITEM/FIELD.
type bitwarden struct{}

func (bitwarden) requiresAccount() bool { return true }

func (bitwarden) checkInstalled(v *vendor) error {
	ok, err := v.installed("bw", "--version")
	if err == nil && !ok {
		err = runtimeErrorf("Bitwarden CLI is not installed")
	}
	return err
}

// bw runs `bw ARGS...` with BW_SESSION set when there is a session, and
// returns its output stripped.
func bw(v *vendor, session string, args ...string) (string, bool, error) {
	c := Call{Argv: append([]string{"bw"}, args...)}
	if session != "" {
		c.Env = []string{"BW_SESSION=" + session}
	}
	out, ok, err := v.call(c)
	return strings.TrimSpace(out), ok, err
}

func bwStatus(v *vendor, session string) (string, error) {
	out, _, err := bw(v, session, "status")
	if err != nil {
		return "", err
	}
	var st struct {
		Status string `json:"status"`
	}
	if err := parseJSON(out, &st); err != nil {
		return "", err
	}
	return st.Status, nil
}

// login logs in when unauthenticated, unlocks when locked (the session is
// `bw unlock --raw`'s output), then syncs.
func (bitwarden) login(v *vendor, account string) ([]string, error) {
	status, err := bwStatus(v, "")
	if err != nil {
		return nil, err
	}
	if status == "unauthenticated" {
		if _, _, err := bw(v, "", "login", account); err != nil {
			return nil, err
		}
		if status, err = bwStatus(v, ""); err != nil {
			return nil, err
		}
	}
	session := ""
	if status == "locked" {
		if session, _, err = bw(v, "", "unlock", "--raw"); err != nil {
			return nil, err
		}
		if status, err = bwStatus(v, session); err != nil {
			return nil, err
		}
	}
	if status != "unlocked" {
		return nil, runtimeErrorf("Failed to login to and unlock Bitwarden")
	}
	_, ok, err := bw(v, session, "sync")
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, runtimeErrorf("Failed to sync Bitwarden")
	}
	if session == "" {
		return nil, nil
	}
	return []string{session}, nil
}

type bwItem struct {
	Login *struct {
		Password any `json:"password"`
	} `json:"login"`
	Fields []struct {
		Name  string `json:"name"`
		Value any    `json:"value"`
	} `json:"fields"`
}

func (bitwarden) fetch(v *vendor, secrets []string, from, account string, session []string) (*Results, error) {
	sess := ""
	if len(session) > 0 {
		sess = session[0]
	}
	var order []string
	fields := map[string][]string{}
	for _, s := range prefixed(secrets, from) {
		parts := trimTrailingEmpty(strings.Split(s, "/"))
		item := at(parts, 0)
		if _, seen := fields[item]; !seen {
			order = append(order, item)
			fields[item] = nil
		}
		if f := at(parts, 1); f != "" {
			fields[item] = append(fields[item], f)
		}
	}
	res := &Results{}
	for _, item := range order {
		out, ok, err := bw(v, sess, "get", "item", item)
		if err != nil {
			return nil, err
		}
		if !ok {
			return nil, runtimeErrorf("Could not read %s from Bitwarden", item)
		}
		var it bwItem
		if err := parseJSON(out, &it); err != nil {
			return nil, err
		}
		fs := fields[item]
		switch {
		case len(fs) > 0:
		case it.Login != nil && it.Login.Password != nil:
			res.Set(item, it.Login.Password)
			continue
		case len(it.Fields) > 0:
			for _, f := range it.Fields {
				fs = append(fs, f.Name)
			}
		default:
			return nil, runtimeErrorf("Item %s is not a login type item and no fields were specified", item)
		}
		for _, name := range fs {
			found := false
			for _, f := range it.Fields {
				if f.Name == name {
					res.Set(item+"/"+name, f.Value)
					found = true
					break
				}
			}
			if !found {
				return nil, runtimeErrorf("Could not find field %s in item %s in Bitwarden", name, item)
			}
		}
	}
	return res, nil
}
