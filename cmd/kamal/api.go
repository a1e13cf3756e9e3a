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
	stubs *string // write Python-syntax stubs there instead of the reference
}

// runAPI prints the builtins' reference (docs/builtins.md), or writes
// their stubs for an editor's language server into o.stubs.
func runAPI(out io.Writer, o apiOptions) error {
	switch {
	case o.stubs == nil:
		fmt.Fprint(out, builtins.Reference())
		return nil
	case *o.stubs == "":
		return usageError("--stubs needs a directory: kamal build api --stubs DIR")
	}
	if err := os.MkdirAll(*o.stubs, 0o755); err != nil {
		return fmt.Errorf("stubs: %w", err)
	}
	stubs := builtins.Stubs()
	names := make([]string, 0, len(stubs))
	for name := range stubs {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		if err := os.WriteFile(filepath.Join(*o.stubs, name), []byte(stubs[name]), 0o644); err != nil {
			return fmt.Errorf("stubs: %w", err)
		}
	}
	fmt.Fprintf(out, "Wrote %d stub files to %s\n", len(names), *o.stubs)
	return nil
}
