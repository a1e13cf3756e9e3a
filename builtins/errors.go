package builtins

// Error is an error Kamal raises with a named Ruby class, which the CLI
// prints as "  ERROR (<Class>): <message>".
type Error struct {
	class string
	msg   string
}

// NewError returns an error of the given Kamal class.
func NewError(class, msg string) *Error { return &Error{class, msg} }

func (e *Error) Error() string { return e.msg }

// Class is the Ruby class name Kamal prints.
func (e *Error) Class() string { return e.class }
