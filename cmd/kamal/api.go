package main

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"

	"github.com/kamal-go/kamal/builtins"
)

// apiOptions are `kamal build api [--stubs DIR]`'s.
type apiOptions struct {
	stubs string // write Python-syntax stubs there instead of the reference
}

// parseAPIOptions reads api's own options from the options no global
// flag took.
func parseAPIOptions(extra []extraFlag) (apiOptions, error) {
	var o apiOptions
	for _, e := range extra {
		switch {
		case e.name == "stubs" && e.hasValue && e.value != "":
			o.stubs = e.value
		case e.name == "stubs":
			return o, usageError("--stubs needs a directory: kamal build api --stubs DIR")
		default:
			return o, usageError(fmt.Sprintf("Unknown switches \"--%s\"", e.name))
		}
	}
	return o, nil
}

// runAPI prints the builtins' reference (docs/builtins.md), or writes
// their stubs for an editor's language server into o.stubs.
func runAPI(out io.Writer, o apiOptions) error {
	if o.stubs == "" {
		fmt.Fprint(out, builtins.Reference())
		return nil
	}
	if err := os.MkdirAll(o.stubs, 0o755); err != nil {
		return fmt.Errorf("stubs: %w", err)
	}
	stubs := builtins.Stubs()
	names := make([]string, 0, len(stubs))
	for name := range stubs {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		if err := os.WriteFile(filepath.Join(o.stubs, name), []byte(stubs[name]), 0o644); err != nil {
			return fmt.Errorf("stubs: %w", err)
		}
	}
	fmt.Fprintf(out, "Wrote %d stub files to %s\n", len(names), o.stubs)
	return nil
}
