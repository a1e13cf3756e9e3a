package secrets

import (
	"regexp"
	"strings"

	"github.com/kamal-go/kamal/runtime/kamalerr"
)

// onePassword is the 1password adapter (`op`). Secrets are
// VAULT/ITEM[/FIELD...] (an op:// prefix is allowed; the field defaults
// to password); without secrets, --from VAULT/ITEM fetches every field.
type onePassword struct{}

func (onePassword) requiresAccount() bool { return true }

func (onePassword) checkInstalled(v *vendor) error {
	ok, err := v.installed("op", "--version")
	if err == nil && !ok {
		err = runtimeErrorf("1Password CLI is not installed")
	}
	return err
}

// opSession finds the session export `op signin` prints
// (export OP_SESSION_<id>="<token>").
var opSession = regexp.MustCompile(`\b(OP_SESSION_\w+)\W+([^"\s]+)`)

// login signs in unless `op account get` says the account is signed in.
// The session goes to later calls in their environment, not as
// --session on the command line (Kamal 2.12 passes `--raw` and then
// `--session TOKEN`, which shows the token in the process table).
func (onePassword) login(v *vendor, account string) ([]string, error) {
	if _, ok, err := v.call(Call{Argv: []string{"op", "account", "get", "--account", account}, QuietStderr: true}); err != nil || ok {
		return nil, err
	}
	out, ok, err := v.call(Call{Argv: []string{"op", "signin", "--account", account, "--force"}})
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, runtimeErrorf("Failed to login to 1Password")
	}
	if m := opSession.FindStringSubmatch(out); m != nil {
		return []string{m[1] + "=" + m[2]}, nil
	}
	return nil, nil
}

type opItem struct{ vault, item string }

func (a onePassword) fetch(v *vendor, secrets []string, from, account string, session []string) (*Results, error) {
	res := &Results{}
	if len(secrets) == 0 {
		vault, item, _ := strings.Cut(strings.TrimPrefix(from, "op://"), "/")
		item, _, _ = strings.Cut(item, "/")
		out, err := a.itemGet(v, vault, item, nil, account, session)
		if err != nil {
			return nil, err
		}
		var whole struct {
			Fields []opField `json:"fields"`
		}
		if err := parseJSON(out, &whole); err != nil {
			return nil, err
		}
		if whole.Fields == nil {
			return nil, &Error{kamalerr.ClassKey, `key not found: "fields"`}
		}
		addFields(res, whole.Fields)
		return res, nil
	}
	// Group the fields by vault and item, in first-seen order.
	var order []opItem
	fields := map[opItem][]string{}
	for _, s := range prefixed(secrets, from) {
		parts := strings.Split(strings.TrimPrefix(s, "op://"), "/")
		parts = trimTrailingEmpty(parts)
		key := opItem{vault: at(parts, 0), item: at(parts, 1)}
		f := []string{"password"}
		if len(parts) > 2 {
			f = parts[2:]
		}
		if _, seen := fields[key]; !seen {
			order = append(order, key)
		}
		fields[key] = append(fields[key], strings.Join(f, "."))
	}
	for _, key := range order {
		fs := fields[key]
		out, err := a.itemGet(v, key.vault, key.item, fs, account, session)
		if err != nil {
			return nil, err
		}
		var got []opField
		if len(fs) == 1 {
			var one opField
			if err := parseJSON(out, &one); err != nil {
				return nil, err
			}
			got = []opField{one}
		} else if err := parseJSON(out, &got); err != nil {
			return nil, err
		}
		addFields(res, got)
	}
	return res, nil
}

type opField struct {
	Reference string `json:"reference"`
	Value     any    `json:"value"`
}

// addFields keys each field by its reference op://VAULT/ITEM/FIELD
// without the scheme and a trailing /password.
func addFields(res *Results, fields []opField) {
	for _, f := range fields {
		res.Set(strings.TrimSuffix(strings.TrimPrefix(f.Reference, "op://"), "/password"), f.Value)
	}
}

// itemGet is `op item get ITEM --vault V --format json --account A
// [--fields label=F,...]`.
func (onePassword) itemGet(v *vendor, vault, item string, fields []string, account string, session []string) (string, error) {
	argv := []string{"op", "item", "get", item, "--vault", vault, "--format", "json", "--account", account}
	if len(fields) > 0 {
		labels := make([]string, len(fields))
		for i, f := range fields {
			labels[i] = "label=" + f
		}
		argv = append(argv, "--fields", strings.Join(labels, ","))
	}
	out, ok, err := v.call(Call{Argv: argv, Env: session})
	if err != nil {
		return "", err
	}
	if !ok {
		what := ""
		if len(fields) > 0 {
			what = strings.Join(fields, ", ") + " "
		}
		return "", runtimeErrorf("Could not read %sfrom %s in the %s 1Password vault", what, item, vault)
	}
	return out, nil
}

// at is parts[i], or "" past the end (Ruby's destructuring gives nil).
func at(parts []string, i int) string {
	if i < len(parts) {
		return parts[i]
	}
	return ""
}

// trimTrailingEmpty drops trailing empty strings, as Ruby's split does.
func trimTrailingEmpty(parts []string) []string {
	for len(parts) > 0 && parts[len(parts)-1] == "" {
		parts = parts[:len(parts)-1]
	}
	return parts
}
