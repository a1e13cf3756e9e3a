package commands

import "github.com/kamal-go/kamal/runtime/kamalerr"

// Ruby class names carried by errors the CLI prints as
// "  ERROR (<Class>): <message>".
const (
	ClassBuilderError       = "Kamal::Commands::Builder::Base::BuilderError"
	ClassConfigurationError = "Kamal::ConfigurationError"
)

// Error is an error that carries the Ruby class Kamal would have raised
// (see kamalerr.Error).
type Error = kamalerr.Error

func builderError(msg string) *Error {
	return &Error{Class: ClassBuilderError, Message: msg}
}
