// Package kamalerr is the one error type for failures Kamal reports with a
// Ruby exception class: the CLI prints them as
//
//	ERROR (<Class>): <Message>
//
// Config loading, command rendering and the builtins all return it, so the
// CLI and the SSHKit layer find the class the same way wherever the error
// was wrapped (errors.As).
package kamalerr

import (
	"errors"
	"fmt"
)

// The exception classes kamal-go reports, as Kamal (or the Ruby it runs
// on) names them in its last line ("  ERROR (<Class>): <Message>"). Every
// package names a class through these constants.
const (
	ClassConfiguration = "Kamal::ConfigurationError"
	ClassBuilder       = "Kamal::Commands::Builder::Base::BuilderError"
	ClassBuild         = "Kamal::Cli::Build::BuildError"
	ClassLock          = "Kamal::Cli::LockError"
	ClassHook          = "Kamal::Cli::HookError"
	ClassDependency    = "Kamal::Cli::DependencyError"
	ClassArgument      = "ArgumentError"
	ClassRuntime       = "RuntimeError"
	ClassKey           = "KeyError"
	ClassIndex         = "IndexError"
	ClassType          = "TypeError"
	ClassNoMethod      = "NoMethodError"
	ClassZeroDivision  = "ZeroDivisionError"
	ClassIO            = "IOError"
	ClassSystemCall    = "SystemCallError"
	ClassENOENT        = "Errno::ENOENT"
	ClassEACCES        = "Errno::EACCES"
	ClassEISDIR        = "Errno::EISDIR"
	ClassSocket        = "SocketError"
	ClassTimeout       = "Timeout::Error"
	ClassJSONParser    = "JSON::ParserError"
	ClassURIInvalid    = "URI::InvalidURIError"
	ClassYAMLSyntax    = "Psych::SyntaxError"
	ClassYAMLBadAlias  = "Psych::BadAlias"
	ClassDotenvFormat  = "Dotenv::FormatError"
	// ClassInterrupt is Ruby's Interrupt: the run got SIGINT or SIGTERM.
	ClassInterrupt = "Interrupt"
)

// Error is a failure as Kamal would report it: Class is the Ruby exception
// class, Message the exception message. Error() returns Message alone.
type Error struct {
	Class   string
	Message string
}

func (e *Error) Error() string { return e.Message }

// New returns an error of the given class.
func New(class, message string) *Error { return &Error{Class: class, Message: message} }

// Errorf returns an error of the given class with a formatted message.
func Errorf(class, format string, args ...any) *Error {
	return &Error{Class: class, Message: fmt.Sprintf(format, args...)}
}

// ClassOf returns the class of the first *Error in err's chain, or "".
func ClassOf(err error) string {
	var e *Error
	if errors.As(err, &e) {
		return e.Class
	}
	return ""
}

// Exit is Ruby's SystemExit (exit or abort in a config's ERB): Kamal
// does not rescue it, so the process ends with Status and prints nothing.
type Exit struct{ Status int }

func (e *Exit) Error() string { return fmt.Sprintf("exit %d", e.Status) }
