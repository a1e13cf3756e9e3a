package builtins

import "github.com/kamal-go/kamal/runtime/kamalerr"

// NewError returns an error of the given Kamal class, which the CLI prints
// as "  ERROR (<Class>): <message>".
func NewError(class, msg string) *kamalerr.Error { return kamalerr.New(class, msg) }
