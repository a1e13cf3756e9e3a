package config

import (
	"fmt"
	"strings"
)

// ExtensionKey is the root key holding kamal-go's own settings. Kamal 1.9
// and 2.12 skip every root key starting with "x-" when they validate, and
// Kamal 1.5 validates nothing, so one deploy.yml serves kamal-go and the
// app's own Kamal (a hand-off) alike.
const ExtensionKey = "x-kamal-go"

// extensionSchema is what x-kamal-go may hold: the sections whose keys
// kamal-go adds, each with its own keys only.
var extensionSchema = []field{
	f("progress", kString),
	hash("ssh", f("connect_timeout", kInteger)),
	hash("sshkit", f("max_concurrent_hosts", kInteger), f("command_timeout", kInteger)),
	hash("serve", f("cache_max_mb", kInteger), f("max_hosts", kInteger), f("max_mb_in_flight", kInteger)),
}

// legacyExtensions are the keys older kamal-go read inside Kamal's own
// sections, where Kamal 1.9 and 2.12 refuse them as unknown. They still
// work on kamal-go's own commands, with a warning naming the new place.
var legacyExtensions = []struct{ section, key string }{
	{"ssh", "connect_timeout"},
	{"sshkit", "max_concurrent_hosts"},
	{"sshkit", "command_timeout"},
}

// extensions are kamal-go's settings after x-kamal-go and the old
// spellings are merged: section -> key -> value, and where each came from.
type extensions struct {
	progress string              // x-kamal-go/progress ("" when unset)
	vals     map[string]*mapping // "ssh" -> {connect_timeout: 10}
	paths    map[string]string   // "ssh/connect_timeout" -> the path written
	legacy   []string            // old spellings used, "ssh/connect_timeout"
}

// get is the value of section/key, or nil.
func (e *extensions) get(section, key string) any {
	return get(e.vals[section], key)
}

// path is where section/key was written, for error messages.
func (e *extensions) path(section, key string) string {
	return e.paths[section+"/"+key]
}

// withoutLegacy returns raw with the old spellings taken out of its ssh
// and sshkit sections (raw itself is not changed), so that Kamal's own
// validators judge the rest exactly as Kamal does.
func withoutLegacy(raw *mapping) *mapping {
	out := raw
	for _, l := range legacyExtensions {
		sec, ok := get(out, l.section).(*mapping)
		if !ok {
			continue
		}
		if _, ok := sec.get(l.key); !ok {
			continue
		}
		if out == raw {
			out = copyMapping(raw)
		}
		trimmed := newMapping()
		for _, k := range sec.keys {
			if k != l.key {
				trimmed.set(k, sec.vals[k])
			}
		}
		out.set(l.section, trimmed)
	}
	return out
}

func copyMapping(m *mapping) *mapping {
	c := newMapping()
	for _, k := range m.keys {
		c.set(k, m.vals[k])
	}
	return c
}

// decodeExtensions validates x-kamal-go and the old spellings (types as
// Kamal's validator words them, "x-kamal-go/ssh/connect_timeout: should be
// an integer") and merges them. A setting given both ways is an error: one
// of the two would be ignored.
func decodeExtensions(raw *mapping) (*extensions, error) {
	e := &extensions{vals: map[string]*mapping{}, paths: map[string]string{}}
	if x, ok := raw.get(ExtensionKey); ok {
		if err := (&validator{ctx: ExtensionKey}).hash(x, extensionSchema, false); err != nil {
			return nil, err
		}
		m := x.(*mapping)
		for _, section := range m.keys {
			if section == "progress" {
				if e.progress = fmt.Sprint(m.vals[section]); e.progress != "plain" && e.progress != "condensed" {
					return nil, configErrorf("%s/progress: should be plain or condensed", ExtensionKey)
				}
				continue
			}
			sec := m.vals[section].(*mapping)
			e.vals[section] = copyMapping(sec)
			for _, k := range sec.keys {
				e.paths[section+"/"+k] = ExtensionKey + "/" + section + "/" + k
			}
		}
	}
	for _, l := range legacyExtensions {
		sec, _ := get(raw, l.section).(*mapping)
		val, ok := sec.get(l.key)
		if !ok {
			continue
		}
		old := l.section + "/" + l.key
		if _, both := e.vals[l.section].get(l.key); both {
			return nil, configErrorf("%s: also set as %s/%s: keep only that one", old, ExtensionKey, old)
		}
		if err := (&validator{ctx: old}).value(val, field{name: l.key, kind: kInteger}); err != nil {
			return nil, err
		}
		if e.vals[l.section] == nil {
			e.vals[l.section] = newMapping()
		}
		e.vals[l.section].set(l.key, val)
		e.paths[old] = old
		e.legacy = append(e.legacy, old)
	}
	return e, nil
}

// legacyWarning is the one warning an old spelling gets.
func legacyWarning(old string) string {
	return fmt.Sprintf("WARN %s is kamal-go's own setting, which Kamal refuses as an unknown key: move it to %s/%s", old, ExtensionKey, old)
}

// HandOffError is nil when the app's own Kamal (the release this config
// follows) accepts the configuration as far as kamal-go's settings go.
// Otherwise it is Kamal's refusal, naming the key and where it belongs:
// kamal-go calls it before handing a command to the app's Kamal, so that
// nothing runs (no build) for a hand-off Kamal would refuse. Kamal 1.5
// validates nothing and accepts every key.
func (c *Config) HandOffError() error {
	if len(c.LegacyKeys) == 0 || c.Release == Kamal15 {
		return nil
	}
	// Kamal's own validators, on the document as written, give the exact
	// line the app's Kamal would print.
	err := validateSections(c.rawDoc, c.Generation)
	if err == nil {
		return nil
	}
	return configErrorf("%s (the app's Kamal %s would refuse %s, kamal-go's own setting: move it to %s/%s)",
		strings.TrimSpace(err.Error()), c.Release.Version(), c.LegacyKeys[0], ExtensionKey, c.LegacyKeys[0])
}
