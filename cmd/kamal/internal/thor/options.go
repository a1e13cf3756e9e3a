// Package thor parses a kamal command line by the rules of Thor 1.3 and
// 1.4, the Ruby library Kamal's command line is written with, so that
// every form a Kamal user types means here what it means to Kamal:
// bundled switches (-qv), -x=value and --opt=value, --no-/--skip-
// negations, a string option that never takes a following -… word as its
// value, unique command prefixes, and Thor's answers (its exact lines) to
// unknown commands, extra arguments and unknown options.
//
// The grammar (namespaces, commands, options) is data the caller declares
// (see Namespace); Parse walks it the way Thor's dispatch does. Nothing
// here runs a command, reads a file or prints. Parse is safe for
// concurrent use as long as the grammar is not changed meanwhile.
package thor

import (
	"regexp"
	"strings"
	"unicode/utf8"

	"github.com/kamal-go/kamal/runtime/ruby"
)

// Type is an option's Thor type.
type Type int

const (
	String  Type = iota // takes a value; alone, its own name
	Boolean             // takes no value (but --x=false, --no-x, --skip-x)
	Numeric             // takes a number (an integer or a decimal)
)

// Option is one option as Thor declares it.
type Option struct {
	Name       string   // Thor's name, words joined by "_": "config_file"
	Aliases    []string // short forms with their dash: "-c"
	Type       Type
	Default    any  // nil, or a bool, string or float64 by Type
	Required   bool // a missing required option is an error (Thor's check)
	Repeatable bool // each use appends: the value is a []any
	Banner     string
	Desc       string
	Hide       bool
}

// SwitchName is the option's long form: "--config-file".
func (o *Option) SwitchName() string {
	return "--" + strings.ReplaceAll(o.Name, "_", "-")
}

// Values are parsed options by Thor name. A key present with a nil value
// is an option given as --no-NAME (string options) or without a value
// after "--".
type Values map[string]any

// String returns the string option name ("" when unset).
func (v Values) String(name string) string {
	s, _ := v[name].(string)
	return s
}

// Bool returns the boolean option name.
func (v Values) Bool(name string) bool {
	b, _ := v[name].(bool)
	return b
}

// Float returns the numeric option name (0 when unset).
func (v Values) Float(name string) float64 {
	f, _ := v[name].(float64)
	return f
}

// Strings returns the repeatable string option name.
func (v Values) Strings(name string) []string {
	var out []string
	for _, e := range asList(v[name]) {
		if s, ok := e.(string); ok {
			out = append(out, s)
		}
	}
	return out
}

// Has reports whether the option name has a value.
func (v Values) Has(name string) bool {
	x, ok := v[name]
	return ok && x != nil
}

func asList(x any) []any {
	l, _ := x.([]any)
	return l
}

// Thor's patterns. Ruby's ^ and $ are line anchors, hence (?m): an
// argument holding a newline is matched line by line, as Thor matches
// it. Ruby's \s has \v, Go's has not, hence the explicit class.
var (
	longRE    = regexp.MustCompile(`(?m)^(--\w+(?:-\w+)*)$`)
	shortRE   = regexp.MustCompile(`(?mi)^(-[a-z])$`)
	eqRE      = regexp.MustCompile(`(?mi)^(--\w+(?:-\w+)*|-[a-z])=(.*)$`)
	shortSqRE = regexp.MustCompile(`(?mi)^-([a-z]{2,})$`)
	shortNum  = regexp.MustCompile(`(?mi)^(-[a-z])[-+]?(\d*\.\d+|\d+)$`)
	numericRE = regexp.MustCompile(`[-+]?(\d*\.\d+|\d+)`)
	noSkipRE  = regexp.MustCompile(`(?m)^--(no|skip)-([-\w]+)$`)
	dashRE    = regexp.MustCompile(`(?m)^-`)
	flagRE    = regexp.MustCompile(`(?m)^-{1,2}[^ \t\r\n\f\v]+`)
)

// invalidBytes is raised (as a panic inside this package, recovered by
// Parse) when a regular expression meets a word that is not UTF-8, where
// Ruby raises ArgumentError.
type invalidBytes struct{}

// match is re's submatches in s, or nil.
func match(re *regexp.Regexp, s string) []string {
	if !utf8.ValidString(s) {
		panic(invalidBytes{})
	}
	return re.FindStringSubmatch(s)
}

func matches(re *regexp.Regexp, s string) bool { return match(re, s) != nil }

// noOrSkip is the NAME of --no-NAME or --skip-NAME ("" for neither).
func noOrSkip(s string) string {
	if m := match(noSkipRE, s); m != nil {
		return m[2]
	}
	return ""
}

// options is Thor::Options: one parse of a word list against a set of
// options. Its methods follow Thor's, including their side effects (peek
// consumes "--"), which decide corner cases.
type options struct {
	pile           []string
	treatedAsValue bool // the next word came from --x=VALUE
	parsingOptions bool
	switches       map[string]*Option // by switch name
	shorts         map[string]string  // alias -> switch name
	assigns        Values
	extra          []string
	required       []*Option // required options not given yet
	checkRequired  bool
}

func newOptions(opts []*Option, checkRequired bool) *options {
	p := &options{switches: map[string]*Option{}, shorts: map[string]string{}, assigns: Values{}, checkRequired: checkRequired}
	for _, o := range opts {
		if o.Default != nil {
			p.assigns[o.Name] = o.Default
		} else if o.Required {
			p.required = append(p.required, o)
		}
	}
	for _, o := range opts {
		p.switches[o.SwitchName()] = o
		for _, a := range o.Aliases {
			if _, ok := p.shorts[a]; !ok {
				p.shorts[a] = o.SwitchName()
			}
		}
	}
	return p
}

func (p *options) rawPeek() (string, bool) {
	if len(p.pile) == 0 {
		return "", false
	}
	return p.pile[0], true
}

// peek is the next word; while options are parsed, a "--" there ends
// them and is consumed.
func (p *options) peek() (string, bool) {
	s, ok := p.rawPeek()
	if p.parsingOptions && ok && s == "--" {
		p.shift()
		p.parsingOptions = false
		return p.rawPeek()
	}
	return s, ok
}

func (p *options) shift() (string, bool) {
	p.treatedAsValue = false
	s, ok := p.rawPeek()
	if ok {
		p.pile = p.pile[1:]
	}
	return s, ok
}

func (p *options) unshift(isValue bool, words ...string) {
	p.treatedAsValue = isValue
	p.pile = append(append([]string{}, words...), p.pile...)
}

func (p *options) parsing() bool {
	p.peek()
	return p.parsingOptions
}

func (p *options) last() bool { return len(p.pile) == 0 }

// parse is Thor::Options#parse: the options of words into p.assigns,
// everything else into p.extra.
func (p *options) parse(words []string) error {
	p.pile = append([]string{}, words...)
	p.parsingOptions = true
	for {
		if _, ok := p.peek(); !ok {
			break
		}
		if !p.parsing() {
			s, _ := p.shift()
			p.extra = append(p.extra, s)
			continue
		}
		isMatch, isSwitch := p.currentIsSwitch()
		shifted, _ := p.shift()
		if !isSwitch {
			p.extra = append(p.extra, shifted)
			if isMatch {
				for {
					s, ok := p.peek()
					if !ok || matches(dashRE, s) {
						break
					}
					p.shift()
					p.extra = append(p.extra, s)
				}
			}
			continue
		}
		var sw string
		if m := match(shortSqRE, shifted); m != nil {
			letters := []string{}
			for _, r := range m[1] {
				letters = append(letters, "-"+string(r))
			}
			p.unshift(false, letters...)
			continue
		} else if m := match(eqRE, shifted); m != nil {
			p.unshift(true, m[2])
			sw = m[1]
		} else if m := match(shortNum, shifted); m != nil {
			p.unshift(false, m[2])
			sw = m[1]
		} else if m := match(longRE, shifted); m != nil {
			sw = m[1]
		} else if m := match(shortRE, shifted); m != nil {
			sw = m[1]
		}
		sw = p.normalize(sw)
		o := p.option(sw)
		v, err := p.parsePeek(sw, o)
		if err != nil {
			return err
		}
		p.assign(o, v)
	}
	if p.checkRequired && len(p.required) > 0 {
		names := make([]string, len(p.required))
		for i, o := range p.required {
			names[i] = o.SwitchName()
		}
		return &Error{Msg: "No value provided for required options '" + strings.Join(names, "', '") + "'"}
	}
	return nil
}

func (p *options) assign(o *Option, v any) {
	if o.Repeatable {
		p.assigns[o.Name] = append(asList(p.assigns[o.Name]), v)
		return
	}
	p.assigns[o.Name] = v
}

// currentIsSwitch reports whether the next word looks like an option and
// whether it is one of ours.
func (p *options) currentIsSwitch() (isMatch, isSwitch bool) {
	if p.treatedAsValue {
		return false, false
	}
	s, _ := p.peek()
	for _, re := range []*regexp.Regexp{longRE, shortRE, eqRE, shortNum} {
		if m := match(re, s); m != nil {
			return true, p.isSwitch(m[1])
		}
	}
	if m := match(shortSqRE, s); m != nil {
		for _, r := range m[1] {
			if p.isSwitch("-" + string(r)) {
				return true, true
			}
		}
		return true, false
	}
	return false, false
}

func (p *options) currentIsSwitchFormatted() bool {
	if p.treatedAsValue {
		return false
	}
	s, _ := p.peek()
	for _, re := range []*regexp.Regexp{longRE, shortRE, eqRE, shortNum, shortSqRE} {
		if matches(re, s) {
			return true
		}
	}
	return false
}

func (p *options) currentIsValue() bool {
	if p.treatedAsValue {
		return true
	}
	s, ok := p.peek()
	if !ok {
		return false
	}
	if !p.parsing() {
		return true
	}
	s, _ = p.peek()
	return !matches(flagRE, s)
}

func (p *options) isSwitch(arg string) bool { return p.option(p.normalize(arg)) != nil }

func (p *options) option(arg string) *Option {
	if name := noOrSkip(arg); name != "" {
		if o := p.switches[arg]; o != nil {
			return o
		}
		return p.switches["--"+name]
	}
	return p.switches[arg]
}

func (p *options) normalize(arg string) string {
	if long, ok := p.shorts[arg]; ok {
		arg = long
	}
	return strings.ReplaceAll(arg, "_", "-")
}

// parsePeek is the value of option o, given as sw.
func (p *options) parsePeek(sw string, o *Option) (any, error) {
	if p.parsing() && (p.currentIsSwitchFormatted() || p.last()) {
		switch {
		case o.Type == Boolean:
		case noOrSkip(sw) != "":
			return nil, nil
		case o.Type == String && !o.Required:
			if o.Default != nil {
				return o.Default, nil
			}
			return o.Name, nil
		default:
			return nil, &Error{Msg: "No value provided for option '" + sw + "'"}
		}
	}
	for i, r := range p.required {
		if r == o {
			p.required = append(p.required[:i:i], p.required[i+1:]...)
			break
		}
	}
	switch o.Type {
	case Boolean:
		return p.parseBoolean(sw), nil
	case Numeric:
		return p.parseNumeric(sw)
	}
	if noOrSkip(sw) != "" {
		return nil, nil
	}
	if s, ok := p.shift(); ok {
		return s, nil
	}
	return nil, nil
}

func (p *options) parseBoolean(sw string) bool {
	if p.currentIsValue() {
		s, _ := p.peek()
		switch s {
		case "true", "TRUE", "t", "T":
			p.shift()
			return true
		case "false", "FALSE", "f", "F":
			p.shift()
			return false
		}
	}
	_, declared := p.switches[sw]
	return declared || noOrSkip(sw) == ""
}

func (p *options) parseNumeric(sw string) (any, error) {
	s, ok := p.peek()
	if !ok {
		return nil, &Error{Msg: "Expected numeric value for '" + sw + "'; got nil"}
	}
	if m := match(numericRE, s); m == nil || m[0] != s {
		return nil, &Error{Msg: "Expected numeric value for '" + sw + "'; got " + ruby.InspectString(s)}
	}
	p.shift()
	return rubyNumber(s), nil
}

// SwitchFormatted reports whether word looks like an option to Thor (its
// current_is_switch_formatted?): a word an option that takes a value
// never takes as its value.
func SwitchFormatted(word string) bool {
	for _, re := range []*regexp.Regexp{longRE, shortRE, eqRE, shortNum, shortSqRE} {
		if re.MatchString(word) {
			return true
		}
	}
	return false
}
