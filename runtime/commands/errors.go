package commands

// Ruby class names carried by errors the CLI prints as
// "  ERROR (<Class>): <message>".
const (
	ClassBuilderError       = "Kamal::Commands::Builder::Base::BuilderError"
	ClassConfigurationError = "Kamal::ConfigurationError"
)

// Error is an error that carries the Ruby class Kamal would have raised.
type Error struct {
	Class   string
	Message string
}

func (e *Error) Error() string { return e.Message }

func builderError(msg string) *Error {
	return &Error{Class: ClassBuilderError, Message: msg}
}
