package commands

import "github.com/kamal-go/kamal/runtime/kamalerr"

// Error is an error that carries the Ruby class Kamal would have raised
// (see kamalerr.Error).
type Error = kamalerr.Error

func builderError(msg string) *Error {
	return &Error{Class: kamalerr.ClassBuilder, Message: msg}
}
