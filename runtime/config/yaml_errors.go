package config

import (
	"errors"
	"fmt"
	"regexp"

	yaml4 "go.yaml.in/yaml/v4"
)

// Kamal loads the rendered deploy.yml with Psych (YAML.unsafe_load of a
// string), so a syntax error reads
//
//	(<unknown>): PROBLEM CONTEXT at line L column C
//
// with libyaml's problem and context, and L:C taken from libyaml's
// context mark (psych's parser.c make_exception). The context mark is
// where the construct being read began; for a scanner error without a
// context it is where the problem is; for a parser error without a
// context it was never set, so Psych prints line 1 column 1.
//
// go.yaml.in/yaml/v3 (the parser here: it accepts what libyaml accepts)
// reports only the problem and a line. The context and its mark come from
// go.yaml.in/yaml/v4, whose LoadError carries them, when v4 fails on the
// same problem; v4 is not the parser because it refuses documents libyaml
// reads (a comment right after a quoted scalar, content after "...").

// psychUnknownSource is what Psych names a string it parsed.
const psychUnknownSource = "<unknown>"

var (
	yaml3Error      = regexp.MustCompile(`^yaml: (?:line (\d+): )?(.*)$`)
	yaml3BadAnchor  = regexp.MustCompile(`^unknown anchor '(.*)' referenced$`)
	yaml4Hexdecimal = "did not find expected hexadecimal number"
)

// libyamlQuotedScalarEscapes are the problems libyaml reports "while
// parsing a quoted scalar" (v4 says "scanning").
var libyamlQuotedScalarEscapes = map[string]bool{
	"found unknown escape character":              true,
	"did not find expected hexdecimal number":     true,
	"found invalid Unicode character escape code": true,
}

// psychLoadError turns go-yaml's refusal of src (err) into the error
// Psych raises for it: Psych::BadAlias for an alias to no anchor, else
// Psych::SyntaxError with libyaml's problem, context, line and column.
func psychLoadError(src []byte, err error) *Error {
	m := yaml3Error.FindStringSubmatch(err.Error())
	if m == nil {
		return newError(ClassYAMLSyntax, "(%s): %s", psychUnknownSource, err.Error())
	}
	line, problem := m[1], m[2]
	if a := yaml3BadAnchor.FindStringSubmatch(problem); a != nil {
		return newError(ClassYAMLBadAlias, "Unknown alias: %s", a[1])
	}
	if where, context, ok := libyamlPosition(src, problem); ok {
		if context != "" {
			problem += " " + context
		}
		return newError(ClassYAMLSyntax, "(%s): %s at %s", psychUnknownSource, problem, where)
	}
	// v4 did not fail on the same problem: say what is known, no column.
	if line != "" {
		return newError(ClassYAMLSyntax, "(%s): %s at line %s", psychUnknownSource, problem, line)
	}
	return newError(ClassYAMLSyntax, "(%s): %s", psychUnknownSource, problem)
}

// libyamlPosition asks go-yaml v4 where libyaml reports problem in src:
// "line L column C" of the context mark and the context, if any. ok is
// false when v4 does not fail with that problem.
func libyamlPosition(src []byte, problem string) (where, context string, ok bool) {
	var doc yaml4.Node
	var le *yaml4.LoadError
	if err := yaml4.Unmarshal(src, &doc); !errors.As(err, &le) {
		return "", "", false
	}
	got := le.Message
	if got == yaml4Hexdecimal {
		got = "did not find expected hexdecimal number" // libyaml's spelling
	}
	if got != problem {
		return "", "", false
	}
	context = le.ContextMsg
	if libyamlQuotedScalarEscapes[problem] {
		context = "while parsing a quoted scalar"
	}
	mark := le.ContextMark
	switch {
	case context != "":
	case le.Stage == yaml4.ScannerStage:
		mark = le.Mark
	default:
		mark = yaml4.Mark{Line: 1, Column: 1}
	}
	if mark.Line == 0 || mark.Column == 0 {
		return "", "", false
	}
	return fmt.Sprintf("line %d column %d", mark.Line, mark.Column), context, true
}
