package config

import (
	"github.com/kamal-go/kamal/runtime/kamalerr"

	"github.com/kamal-go/kamal/runtime/ruby"
)

// The classes of the errors config returns (kamalerr owns them).
const (
	ClassConfiguration = kamalerr.ClassConfiguration
	ClassArgument      = kamalerr.ClassArgument
	ClassRuntime       = kamalerr.ClassRuntime
	ClassKey           = kamalerr.ClassKey
	ClassYAMLSyntax    = kamalerr.ClassYAMLSyntax
	ClassYAMLBadAlias  = kamalerr.ClassYAMLBadAlias
	ClassDotenvFormat  = kamalerr.ClassDotenvFormat
	ClassNoMethod      = kamalerr.ClassNoMethod
	ClassInterrupt     = kamalerr.ClassInterrupt
)

// Error is a configuration failure as Kamal would report it (see
// kamalerr.Error).
type Error = kamalerr.Error

func newError(class, format string, args ...any) *Error {
	return kamalerr.Errorf(class, format, args...)
}

// configErrorf returns a Kamal::ConfigurationError.
func configErrorf(format string, args ...any) *Error {
	return newError(ClassConfiguration, format, args...)
}

// keyNotFound is Ruby's KeyError for a missing ENV.fetch / ENV lookup.
func keyNotFound(key string) *Error {
	return newError(ClassKey, "key not found: %s", ruby.InspectString(key))
}
