package secrets

import (
	"strings"

	"github.com/kamal-go/kamal/runtime/kamalerr"
	"github.com/kamal-go/kamal/runtime/ruby"
	"github.com/kamal-go/kamal/runtime/shell"
)

// passbolt is the passbolt adapter (`passbolt`, configured beforehand
// with `passbolt configure`). Secrets are resource names, optionally in
// folders: FOLDER/SUBFOLDER/NAME.
type passbolt struct{}

func (passbolt) requiresAccount() bool { return false }

func (passbolt) checkInstalled(v *vendor) error {
	ok, err := v.installed("passbolt", "--version")
	if err == nil && !ok {
		err = runtimeErrorf("Passbolt CLI is not installed")
	}
	return err
}

func (passbolt) login(v *vendor, _ string) ([]string, error) {
	_, ok, err := v.call(Call{Argv: []string{"passbolt", "verify"}})
	if err == nil && !ok {
		err = runtimeErrorf("Failed to login to Passbolt")
	}
	return nil, err
}

type pbFolder struct {
	ID       string `json:"id"`
	ParentID string `json:"folder_parent_id"`
	Name     string `json:"name"`
}

// pbName is how Kamal quotes a name in a filter: shellescape, then
// Ruby's inspect.
func pbName(s string) string { return ruby.InspectString(shell.Shellwords(s)) }

func (p passbolt) fetch(v *vendor, secrets []string, from, _ string, _ []string) (*Results, error) {
	secrets = prefixed(secrets, from)
	if len(secrets) == 0 {
		return nil, &Error{kamalerr.ClassArgument, "No secrets given to fetch"}
	}
	folders, err := p.folders(v, secrets)
	if err != nil {
		return nil, err
	}
	var names, conds []string
	for _, s := range secrets {
		parts := strings.Split(s, "/")
		name := parts[len(parts)-1]
		names = append(names, name)
		if len(parts) == 1 {
			conds = append(conds, "Name == "+pbName(name))
			continue
		}
		var current *pbFolder
		for i := 1; i < len(parts); i++ {
			prefix := strings.Join(parts[:i], "/")
			for j := range folders {
				if folderPath(folders[j], folders) == prefix {
					current = &folders[j]
					break
				}
			}
		}
		if current != nil {
			conds = append(conds, "(Name == "+pbName(name)+" && FolderParentID == "+pbName(current.ID)+")")
		}
	}
	argv := []string{"passbolt", "list", "resources"}
	if len(conds) > 0 {
		argv = append(argv, "--filter", strings.Join(conds, " || "))
	}
	for _, f := range folders {
		argv = append(argv, "--folder", f.ID)
	}
	argv = append(argv, "--json")
	out, ok, err := v.call(Call{Argv: argv})
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, runtimeErrorf("Could not read %s from Passbolt", ruby.InspectStrings(secrets))
	}
	var items []struct {
		Name     string `json:"name"`
		Password any    `json:"password"`
	}
	if err := parseJSON(out, &items); err != nil {
		return nil, err
	}
	found := map[string]bool{}
	for _, it := range items {
		found[it.Name] = true
	}
	var missing []string
	for _, n := range names {
		if !found[n] {
			missing = append(missing, n)
		}
	}
	if len(missing) > 0 {
		return nil, runtimeErrorf("Could not find the following secrets in Passbolt: %s", strings.Join(missing, ", "))
	}
	res := &Results{}
	for _, it := range items {
		res.Set(it.Name, it.Password)
	}
	return res, nil
}

// folders finds the folders the secrets name: the top-level ones in one
// call, then each nested level under its parent.
func (passbolt) folders(v *vendor, secrets []string) ([]pbFolder, error) {
	var paths [][]string
	seenPath := map[string]bool{}
	for _, s := range secrets {
		parts := strings.Split(s, "/")
		if len(parts) < 2 {
			continue
		}
		p := parts[:len(parts)-1]
		if k := strings.Join(p, "/"); !seenPath[k] {
			seenPath[k] = true
			paths = append(paths, p)
		}
	}
	if len(paths) == 0 {
		return nil, nil
	}
	var parents []string
	seenParent := map[string]bool{}
	for _, p := range paths {
		if !seenParent[p[0]] {
			seenParent[p[0]] = true
			parents = append(parents, "Name == "+pbName(p[0]))
		}
	}
	out, ok, err := v.call(Call{Argv: []string{"passbolt", "list", "folders", "--filter", strings.Join(parents, " || "), "--json"}})
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, runtimeErrorf("Could not read folders from Passbolt")
	}
	var top []pbFolder
	if err := parseJSON(out, &top); err != nil {
		return nil, err
	}
	all := append([]pbFolder(nil), top...)
	for _, p := range paths {
		if len(p) <= 1 {
			continue
		}
		var parent *pbFolder
		for i := range top {
			if top[i].Name == p[0] {
				parent = &top[i]
				break
			}
		}
		if parent == nil {
			continue
		}
		current := *parent
		for _, name := range p[1:] {
			out, ok, err := v.call(Call{Argv: []string{"passbolt", "list", "folders", "--filter",
				"Name == " + pbName(name) + " && FolderParentID == " + pbName(current.ID), "--json"}})
			if err != nil {
				return nil, err
			}
			if !ok {
				continue
			}
			var nested []pbFolder
			if err := parseJSON(out, &nested); err != nil {
				return nil, err
			}
			if len(nested) == 0 {
				break
			}
			all = append(all, nested...)
			current = nested[0]
		}
	}
	found := map[string]bool{}
	for _, f := range all {
		found[folderPath(f, all)] = true
	}
	var missing []string
	for _, p := range paths {
		if k := strings.Join(p, "/"); !found[k] {
			missing = append(missing, k)
		}
	}
	if len(missing) > 0 {
		return nil, runtimeErrorf("Could not find the following folders in Passbolt: %s", strings.Join(missing, ", "))
	}
	return all, nil
}

// folderPath is the folder's path of names up to the top.
func folderPath(f pbFolder, all []pbFolder) string {
	path := []string{f.Name}
	for depth := 0; f.ParentID != "" && depth < 64; depth++ {
		var parent *pbFolder
		for i := range all {
			if all[i].ID == f.ParentID {
				parent = &all[i]
				break
			}
		}
		if parent == nil {
			break
		}
		f = *parent
		path = append([]string{f.Name}, path...)
	}
	return strings.Join(path, "/")
}
