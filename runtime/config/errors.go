package config

import (
	"github.com/kamal-go/kamal/runtime/kamalerr"

	"github.com/kamal-go/kamal/runtime/ruby"
)

// Error is a configuration failure as Kamal would report it (see
// kamalerr.Error).
type Error = kamalerr.Error

func newError(class, format string, args ...any) *Error {
	return kamalerr.Errorf(class, format, args...)
}

// configErrorf returns a Kamal::ConfigurationError.
func configErrorf(format string, args ...any) *Error {
	return newError(kamalerr.ClassConfiguration, format, args...)
}

// keyNotFound is Ruby's KeyError for a missing ENV.fetch / ENV lookup.
func keyNotFound(key string) *Error {
	return newError(kamalerr.ClassKey, "key not found: %s", ruby.InspectString(key))
}
