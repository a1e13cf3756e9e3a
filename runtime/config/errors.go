package config

import "fmt"

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

// Error is a configuration failure as Kamal would report it: Class is the
// Ruby exception class, Message the exception message. Error returns
// Message alone; the CLI prints "  ERROR (<Class>): <Message>".
type Error struct {
	Class   string
	Message string
}

func (e *Error) Error() string { return e.Message }

func newError(class, format string, args ...any) *Error {
	return &Error{Class: class, Message: fmt.Sprintf(format, args...)}
}

// configErrorf returns a Kamal::ConfigurationError.
func configErrorf(format string, args ...any) *Error {
	return newError(ClassConfiguration, format, args...)
}

// keyNotFound is Ruby's KeyError for a missing ENV.fetch / ENV lookup.
func keyNotFound(key string) *Error {
	return newError(ClassKey, "key not found: %q", key)
}
