package thor

import (
	"slices"
	"sort"
	"strings"

	"github.com/kamal-go/kamal/runtime/ruby"
)

// Namespace is a Thor class: the top level (kamal COMMAND) or a
// subcommand's (kamal build COMMAND).
type Namespace struct {
	Name     string    // "" at the top; "build" for kamal build
	Options  []*Option // the class options, which every command takes
	Commands []*Command
}

// Command is one command of a namespace.
type Command struct {
	Name    string // Thor's (method) name: words joined by "_"
	Usage   string // after the namespace, e.g. "fetch [SECRETS...]"; "" is Name
	Options []*Option
	// MinArgs and MaxArgs bound the positional arguments (the Ruby
	// method's arity); MaxArgs < 0 is any number.
	MinArgs, MaxArgs int
	// Sub makes the command a namespace of its own (kamal build): it
	// returns that namespace, given the class options parsed so far (a
	// user's --script may add commands to it) and the word that names the
	// subcommand as typed ("help" for --help, "" for none).
	Sub func(class Values, word string) (*Namespace, error)
	// AnyOptions: the command takes options it does not declare (kamal-go's
	// build functions with **kwargs): words Thor would refuse as extra
	// arguments stay in Result.Args for the caller to read.
	AnyOptions bool
	// HandedOff marks a command kamal-go does not run itself: Parse stops
	// at its name and returns the command line untouched.
	HandedOff bool
}

// Result is a parsed command line.
type Result struct {
	// Path names the command: ["build", "push"], ["version"], ["help"],
	// ["build", "help"].
	Path []string
	// Options are the class options and the command's, defaults
	// included. A class option given before a subcommand's name keeps
	// its value (Thor lets the subcommand's defaults override it; see
	// mergeClass).
	Options Values
	Args    []string // the positional arguments
	// Topic is, for a help command, the command it describes ("" for the
	// namespace's list): Thor's resolution of its first argument.
	Topic string
	// HandedOff: Path[0] is a command for the app's own Kamal, and Argv
	// the command line exactly as given; nothing else was parsed.
	HandedOff bool
	Argv      []string
}

// helpMappings are Thor's words for help (map HELP_MAPPINGS => :help),
// part of every namespace's command names.
var helpMappings = []string{"-h", "-?", "--help", "-D"}

func isHelpMapping(s string) bool { return slices.Contains(helpMappings, s) }

// helpCommand is the help every Thor namespace has.
func helpCommand() *Command {
	return &Command{Name: "help", Usage: "help [COMMAND]", MaxArgs: 2}
}

// Parse parses argv (without the program name) against top, the way
// Kamal::Cli::Main.start(argv) does. A refused command line is an *Error
// (Thor's lines) or an InvalidBytesError; an error of a Sub function is
// returned as is.
func Parse(argv []string, top *Namespace) (res *Result, err error) {
	defer func() {
		if r := recover(); r != nil {
			if _, ok := r.(invalidBytes); !ok {
				panic(r)
			}
			res, err = nil, InvalidBytesError{}
		}
	}()
	return dispatch(&call{ns: top, given: slices.Clone(argv), argv: argv})
}

// call is one Thor dispatch: a namespace given a command name (or not)
// and words.
type call struct {
	ns           *Namespace
	meth         string
	hasMeth      bool
	given        []string
	givenOpts    []string
	hasGivenOpts bool
	viaSub       bool     // invoked by the namespace above
	parent       Values   // that namespace's class options
	path         []string // the namespaces above
	argv         []string
}

func (c *call) commands() []*Command {
	return append([]*Command{helpCommand()}, c.ns.Commands...)
}

func (c *call) lookup(name string) *Command {
	for _, cmd := range c.commands() {
		if cmd.Name == name {
			return cmd
		}
	}
	return nil
}

func dispatch(c *call) (*Result, error) {
	given := c.given
	meth, hasMeth := c.meth, c.hasMeth
	if !hasMeth {
		meth, hasMeth = retrieveCommandName(&given)
	}
	name, err := c.normalize(meth, hasMeth)
	if err != nil {
		return nil, err
	}
	cmd := c.lookup(name)
	if cmd == nil && c.viaSub {
		given = append([]string{meth}, given...)
		cmd = c.lookup("help")
	}
	if cmd == nil {
		return nil, c.undefined(meth)
	}
	path := append(slices.Clone(c.path), cmd.Name)
	if cmd.HandedOff {
		return &Result{Path: path, HandedOff: true, Argv: slices.Clone(c.argv)}, nil
	}
	args, opts := split(given)
	if c.hasGivenOpts {
		opts = c.givenOpts
	}
	o := newOptions(append(slices.Clone(c.ns.Options), cmd.Options...), cmd.Name != "help")
	if err := o.parse(opts); err != nil {
		return nil, err
	}
	args = append(args, o.extra...)
	values := mergeClass(c.parent, o.assigns, c.ns.Options)
	if cmd.Sub != nil {
		return c.subcommand(cmd, path, args, values)
	}
	if !cmd.AnyOptions && (len(args) < cmd.MinArgs || cmd.MaxArgs >= 0 && len(args) > cmd.MaxArgs) {
		return nil, c.wrongArguments(cmd, args)
	}
	res := &Result{Path: path, Options: values, Args: args}
	if cmd.Name == "help" && len(args) > 0 {
		if res.Topic, err = c.helpTopic(args[0]); err != nil {
			return nil, err
		}
	}
	return res, nil
}

// subcommand is the method Thor defines for a subcommand: it hands the
// words left to the namespace's own dispatch, as help when they hold
// --help or -h.
func (c *call) subcommand(cmd *Command, path, args []string, class Values) (*Result, error) {
	words, opts := split(args)
	help := deleteAll(&opts, "--help") || deleteAll(&opts, "-h")
	word := "help"
	if !help && len(words) > 0 {
		word = words[0]
	}
	ns, err := cmd.Sub(class, word)
	if err != nil {
		return nil, err
	}
	next := &call{ns: ns, given: words, givenOpts: opts, hasGivenOpts: true, viaSub: true, parent: class, path: path, argv: c.argv}
	if help {
		next.meth, next.hasMeth = "help", true
	}
	return dispatch(next)
}

// mergeClass is a subcommand's options: Thor merges the class options
// parsed above with the subcommand's, whose defaults then win
// (`kamal build push -H` loses its -H in Kamal). Here a class option
// keeps the value given above unless the subcommand's parse changed it
// from its default.
func mergeClass(parent, own Values, class []*Option) Values {
	out := Values{}
	for k, v := range parent {
		out[k] = v
	}
	for k, v := range own {
		out[k] = v
	}
	for _, o := range class {
		pv, given := parent[o.Name]
		if given && o.Default != nil && equal(own[o.Name], o.Default) {
			out[o.Name] = pv
		}
	}
	return out
}

func equal(a, b any) bool {
	switch a := a.(type) {
	case string, bool, float64, nil:
		return a == b
	}
	return false
}

// retrieveCommandName shifts the command name off words: the first word
// unless it looks like an option (help's -h, --help, -? and -D excepted).
func retrieveCommandName(words *[]string) (string, bool) {
	if len(*words) == 0 {
		return "", false
	}
	meth := (*words)[0]
	if isHelpMapping(meth) || !matches(dashRE, meth) {
		*words = (*words)[1:]
		return meth, true
	}
	return "", false
}

// normalize is the command a name means: itself, the one command it is
// a prefix of, or help; "-" becomes "_".
func (c *call) normalize(meth string, has bool) (string, error) {
	if !has {
		return "help", nil
	}
	poss := c.possibilities(meth)
	switch {
	case len(poss) > 1:
		return "", &Error{Msg: "Ambiguous command " + meth + " matches [" + strings.Join(poss, ", ") + "]"}
	case len(poss) == 1 && isHelpMapping(meth):
		meth = "help"
	case len(poss) == 1:
		meth = poss[0]
	}
	return strings.ReplaceAll(meth, "-", "_"), nil
}

func (c *call) possibilities(meth string) []string {
	var poss []string
	for _, k := range c.names() {
		if strings.HasPrefix(k, meth) {
			poss = append(poss, k)
		}
	}
	sort.Strings(poss)
	if slices.Contains(poss, meth) {
		return []string{meth}
	}
	var unique []string
	for _, k := range poss {
		if isHelpMapping(k) {
			k = "help"
		}
		if !slices.Contains(unique, k) {
			unique = append(unique, k)
		}
	}
	if len(unique) == 1 {
		return unique
	}
	return poss
}

// names are the command names and help's words, in Thor's order.
func (c *call) names() []string {
	var out []string
	for _, cmd := range c.commands() {
		out = append(out, cmd.Name)
	}
	return append(out, helpMappings...)
}

// undefined is Thor's UndefinedCommandError, with Ruby's suggestions.
func (c *call) undefined(name string) error {
	var dict []string
	for _, cmd := range c.commands() {
		dict = append(dict, cmd.Name)
	}
	msg := "Could not find command " + ruby.InspectString(name) + "."
	if sug := didYouMean(dict, name); len(sug) > 0 {
		for i, s := range sug {
			sug[i] = ruby.InspectString(s)
		}
		msg += "\nDid you mean?  " + strings.Join(sug, "\n               ")
	}
	return &Error{Msg: msg}
}

// helpTopic is the command help describes: a subcommand by its exact
// name, else the command its name means.
func (c *call) helpTopic(word string) (string, error) {
	for _, cmd := range c.ns.Commands {
		if cmd.Sub != nil && cmd.Name == word {
			return word, nil
		}
	}
	name, err := c.normalize(word, true)
	if err != nil {
		return "", err
	}
	if c.lookup(name) == nil {
		return "", c.undefined(name)
	}
	return name, nil
}

// wrongArguments is Thor's answer to a command called with a number of
// arguments its method does not take.
func (c *call) wrongArguments(cmd *Command, args []string) error {
	name := strings.Join(append(slices.Clone(c.path), cmd.Name), " ")
	msg := `ERROR: "kamal ` + name + `" was called with `
	if len(args) == 0 {
		msg += "no arguments"
	} else {
		msg += "arguments " + ruby.InspectStrings(args)
	}
	return &Error{Msg: msg + "\nUsage: \"" + Banner(c.path, cmd) + "\""}
}

// Banner is Thor's usage line of cmd in the namespaces path: "kamal
// secrets fetch [SECRETS...] -a, --adapter=ADAPTER".
func Banner(path []string, cmd *Command) string {
	usage := cmd.Usage
	if usage == "" {
		usage = cmd.Name
	}
	parts := append([]string{"kamal"}, path...)
	parts = append(parts, usage)
	var required []string
	for _, o := range cmd.Options {
		if o.Required {
			required = append(required, o.Usage())
		}
	}
	sort.Strings(required)
	if len(required) > 0 {
		parts = append(parts, strings.Join(required, " "))
	}
	return strings.Join(parts, " ")
}

// Usage is Thor's usage of an option in help and banners: "-m,
// --message=MESSAGE", "[--no-cache]".
func (o *Option) Usage() string {
	sample := o.SwitchName()
	if b := o.banner(); b != "" {
		sample += "=" + b
	}
	if !o.Required {
		sample = "[" + sample + "]"
	}
	if o.Type == Boolean && o.Name != "force" && !strings.HasPrefix(o.Name, "no_") && !strings.HasPrefix(o.Name, "skip_") &&
		!strings.HasPrefix(o.Name, "no-") && !strings.HasPrefix(o.Name, "skip-") {
		dashed := strings.ReplaceAll(o.Name, "_", "-")
		sample += ", [--no-" + dashed + "], [--skip-" + dashed + "]"
	}
	if len(o.Aliases) > 0 {
		sample = strings.Join(o.Aliases, ", ") + ", " + sample
	}
	return sample
}

func (o *Option) banner() string {
	switch {
	case o.Banner != "":
		return o.Banner
	case o.Type == String:
		return strings.ToUpper(o.Name)
	case o.Type == Numeric:
		return "N"
	}
	return ""
}

// split is Thor::Arguments.split: the leading words that do not look
// like options, and the rest.
func split(words []string) (args, rest []string) {
	for i, w := range words {
		if matches(dashRE, w) {
			return slices.Clone(words[:i]), slices.Clone(words[i:])
		}
	}
	return slices.Clone(words), nil
}

// deleteAll removes every word w from words (Ruby's Array#delete) and
// reports whether there was one.
func deleteAll(words *[]string, w string) bool {
	n := len(*words)
	*words = slices.DeleteFunc(*words, func(s string) bool { return s == w })
	return len(*words) != n
}
