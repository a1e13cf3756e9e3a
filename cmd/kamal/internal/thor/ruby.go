package thor

import (
	"strconv"

	"github.com/kamal-go/kamal/runtime/kamalerr"
)

// Error is a command line Thor refuses: Kamal prints Msg (one or more
// lines) on standard error, nothing else, and exits with status 1.
type Error struct{ Msg string }

func (e *Error) Error() string { return e.Msg }

// InvalidBytesError is Ruby's ArgumentError for a word that is not UTF-8
// (Thor matches every word against a regular expression): Kamal prints it
// as its ERROR line.
type InvalidBytesError struct{}

func (InvalidBytesError) Error() string { return "invalid byte sequence in UTF-8" }

// Class is the Ruby class Kamal names.
func (InvalidBytesError) Class() string { return kamalerr.ClassArgument }

// rubyNumber is Ruby's to_f of a decimal and to_i of an integer, as a
// float64.
func rubyNumber(s string) float64 {
	f, _ := strconv.ParseFloat(s, 64)
	return f
}
