package ruby

import "github.com/kamal-go/kamal/runtime/kamalerr"

// Error is a Ruby exception as Kamal reports it (see kamalerr.Error).
type Error = kamalerr.Error

func newError(class, format string, args ...any) *Error {
	return kamalerr.Errorf(class, format, args...)
}
