package config

import "github.com/kamal-go/kamal/runtime/kamalerr"

// Ruby class names Kamal prints in its top-level error line
// ("  ERROR (<Class>): <Message>").
const (
	ClassConfiguration = "Kamal::ConfigurationError"
	ClassArgument      = "ArgumentError"
	ClassRuntime       = "RuntimeError"
	ClassKey           = "KeyError"
	ClassYAMLSyntax    = "Psych::SyntaxError"
	ClassDotenvFormat  = "Dotenv::FormatError"
	ClassNoMethod      = "NoMethodError"
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
	return newError(ClassKey, "key not found: %q", key)
}
