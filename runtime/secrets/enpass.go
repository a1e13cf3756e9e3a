package secrets

import (
	"strings"
)

// enpass is the enpass adapter (`enpass-cli`, offline: --from is the
// vault's directory, no account). Secrets are TITLE (every password of
// the item) or TITLE/LABEL.
type enpass struct{}

func (enpass) requiresAccount() bool { return false }

func (enpass) checkInstalled(v *vendor) error {
	ok, err := v.installed("enpass-cli", "version")
	if err == nil && !ok {
		err = runtimeErrorf("Enpass CLI is not installed")
	}
	return err
}

func (enpass) login(*vendor, string) ([]string, error) { return nil, nil }

func (enpass) fetch(v *vendor, secrets []string, from, _ string, _ []string) (*Results, error) {
	if from == "" {
		// Kamal fails here with a NoMethodError on nil.
		return nil, runtimeErrorf("Missing required option '--from' (the Enpass vault directory)")
	}
	var titles []string
	seen := map[string]bool{}
	for _, s := range secrets {
		title := s
		if i := strings.LastIndex(s, "/"); i > 0 {
			title = s[:i]
		} else if i == 0 {
			title = s[1:]
		}
		if !seen[title] {
			seen[title] = true
			titles = append(titles, title)
		}
	}
	argv := append([]string{"enpass-cli", "-json", "-vault", from, "show"}, titles...)
	out, _, err := v.call(Call{Argv: argv})
	if err != nil {
		return nil, err
	}
	var items []struct {
		Title    *string `json:"title"`
		Label    *string `json:"label"`
		Password any     `json:"password"`
	}
	if err := parseJSON(strings.TrimSpace(out), &items); err != nil {
		return nil, err
	}
	want := map[string]bool{}
	for _, s := range secrets {
		want[s] = true
	}
	res := &Results{}
	for _, it := range items {
		pw, _ := it.Password.(string)
		if it.Title == nil || strings.TrimSpace(pw) == "" {
			continue
		}
		key := *it.Title
		if it.Label != nil && *it.Label != "" {
			key += "/" + *it.Label
		}
		if want[*it.Title] || want[key] {
			if _, dup := res.Get(key); dup {
				return nil, runtimeErrorf("%s is present more than once", key)
			}
			res.Set(key, pw)
		}
	}
	return res, nil
}
