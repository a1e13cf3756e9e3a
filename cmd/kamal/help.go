package main

import (
	"context"
	"fmt"
	"io"
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/kamal-go/kamal/cmd/kamal/internal/thor"
	"github.com/kamal-go/kamal/runtime/interp"
)

// newHelpCommand is `kamal help [COMMAND]`: the command table, or one
// command's help.
func newHelpCommand(cmds map[string]*command) *command {
	return &command{
		name: "help", usage: "kamal help [COMMAND]", summary: "Describe available commands or one specific command",
		run: func(ctx context.Context, c *cli, g *globalOptions) error {
			if len(g.args) < 2 {
				printTopHelp(c.Out, cmds)
				return nil
			}
			if cmd := cmds[g.args[1]]; cmd != nil && cmd.help != nil {
				return cmd.help(ctx, c, g)
			}
			if _, ok := handedOff[g.args[1]]; ok {
				return c.handOffHelp(g.args[1])
			}
			return notFound(g.args[1])
		},
	}
}

// table prints Thor's two-column command table.
func table(w io.Writer, rows [][2]string) {
	width := 0
	for _, r := range rows {
		width = max(width, len(r[0]))
	}
	for _, r := range rows {
		fmt.Fprintf(w, "  %-*s  # %s\n", width, r[0], r[1])
	}
}

func firstLine(doc string) string {
	line, _, _ := strings.Cut(strings.TrimSpace(doc), "\n")
	return strings.TrimSpace(line)
}

// printTopHelp prints `kamal help`: every command with a summary.
func printTopHelp(w io.Writer, cmds map[string]*command) {
	var rows [][2]string
	for _, c := range cmds {
		if c.summary != "" {
			rows = append(rows, [2]string{c.usage, c.summary})
		}
	}
	for name, row := range handedOff {
		if slices.Contains(kamal1Commands, name) && !appPinsKamal1() {
			continue
		}
		by := " (run by the app's Kamal)"
		if isDeployCommand(name) {
			by = " (kamal-go builds and pushes, then the app's Kamal runs it)"
		}
		rows = append(rows, [2]string{row[0], row[1] + by})
	}
	sortRows(rows)
	fmt.Fprintln(w, "Commands:")
	table(w, rows)
	fmt.Fprintln(w)
	printOptions(w)
}

func printBuildHelp(w io.Writer, cmds []interp.Command) {
	rows := [][2]string{}
	for _, c := range cmds {
		usage := "kamal build " + c.Name
		rows = append(rows, [2]string{usage, firstLine(c.Doc)})
	}
	rows = append(rows, [2]string{"kamal build help [COMMAND]", "Describe subcommands or one specific subcommand"})
	rows = append(rows, [2]string{"kamal build test [FILE...] [--run REGEXP]", "Run the scripts' tests (.kamal/scripts/*_test.star) against a fake world"})
	sortRows(rows)
	fmt.Fprintln(w, "Commands:")
	table(w, rows)
	fmt.Fprintln(w)
	printOptions(w)
}

// sortRows orders a command table by its usage column, as Thor does.
func sortRows(rows [][2]string) {
	sort.Slice(rows, func(i, j int) bool { return rows[i][0] < rows[j][0] })
}

// optionDescription is Thor's description of a stock subcommand option.
func optionDescription(name string) string {
	switch name {
	case "output":
		return "Exported type for the build result, and may be any exported type supported by 'buildx --output'."
	case "no-cache":
		return "Build without using Docker's build cache"
	case "serve":
		return "Serve the image to the servers from the local image store over SSH, no registry (kamal-go)"
	case "skip-existing":
		return "Skip the build and push when the registry has this version, and the pull on servers whose image is the registry's (kamal-go)"
	}
	return ""
}

// printCommandHelp prints `kamal build help NAME`: usage, the options the
// function takes (from its parameters), the class options, and the whole
// docstring.
func printCommandHelp(w io.Writer, c interp.Command) {
	fmt.Fprintf(w, "Usage:\n  kamal build %s\n\nOptions:\n", c.Name)
	var rows []optionRow
	for _, o := range c.Options {
		r := optionRow{left: "    [--" + o.Name + "=" + strings.ToUpper(strings.ReplaceAll(o.Name, "-", "_")) + "]", desc: optionDescription(o.Name)}
		switch {
		case o.Bool:
			r.left = "    [--" + o.Name + "]"
		case o.Default == "":
			r.desc = strings.TrimSpace(r.desc + " (required)")
		default:
			r.def = strings.Trim(o.Default, `"`)
		}
		rows = append(rows, r)
	}
	printOptionRows(w, rows...)
	fmt.Fprintf(w, "\n%s\n", dedent(c.Doc))
}

// dedent removes the indentation a docstring's continuation lines share.
func dedent(doc string) string {
	lines := strings.Split(strings.TrimSpace(doc), "\n")
	indent := -1
	for _, l := range lines[1:] {
		if strings.TrimSpace(l) == "" {
			continue
		}
		n := len(l) - len(strings.TrimLeft(l, " \t"))
		if indent < 0 || n < indent {
			indent = n
		}
	}
	for i := 1; i < len(lines); i++ {
		if len(lines[i]) >= indent && indent > 0 {
			lines[i] = lines[i][indent:]
		}
	}
	return strings.Join(lines, "\n")
}

func printOptions(w io.Writer) {
	fmt.Fprintln(w, "Options:")
	printOptionRows(w)
}

// optionRow is one row of an Options table: the option as typed, what it
// does, and its default ("" for none).
type optionRow struct{ left, desc, def string }

// printOptionRows prints extra (a command's own options) then the class
// options, in one table aligned as Thor aligns it.
func printOptionRows(w io.Writer, extra ...optionRow) {
	rows := extra
	for _, o := range classOptions() {
		rows = append(rows, optionRow{classOptionUsage(o), o.Desc, defaultText(o.Default)})
	}
	width := 0
	for _, r := range rows {
		width = max(width, len(r.left))
	}
	for _, r := range rows {
		fmt.Fprintf(w, "  %-*s  # %s\n", width, r.left, r.desc)
		if r.def != "" {
			fmt.Fprintf(w, "  %-*s  # Default: %s\n", width, "", r.def)
		}
	}
}

// subcommand describes one subcommand of a namespace (kamal secrets,
// kamal registry) for Thor's help: its usage after the name (with the
// required options, as Thor shows them), description and own options.
type subcommand struct {
	name, args, desc string
	options          []optionRow
}

// usage is the subcommand's usage line after "kamal NAMESPACE ".
func (s subcommand) usage() string {
	u := s.name
	if s.args != "" {
		u += " " + s.args
	}
	return u
}

// printNamespaceHelp prints `kamal NS help`: the subcommands, then the
// class options.
func printNamespaceHelp(w io.Writer, ns string, subs []subcommand) {
	rows := [][2]string{{"kamal " + ns + " help [COMMAND]", "Describe subcommands or one specific subcommand"}}
	for _, s := range subs {
		rows = append(rows, [2]string{"kamal " + ns + " " + s.usage(), s.desc})
	}
	sortRows(rows)
	fmt.Fprintln(w, "Commands:")
	table(w, rows)
	fmt.Fprintln(w)
	printOptions(w)
}

// printSubcommandHelp prints `kamal NS help NAME`, or returns Thor's
// error for an unknown NAME.
func printSubcommandHelp(w io.Writer, ns string, subs []subcommand, name string) error {
	for _, s := range subs {
		if s.name != name {
			continue
		}
		fmt.Fprintf(w, "Usage:\n  kamal %s %s\n\nOptions:\n", ns, s.usage())
		printOptionRows(w, s.options...)
		fmt.Fprintf(w, "\n%s\n", s.desc)
		return nil
	}
	return notFound(name)
}

// classOptionUsage is a class option's left column: its aliases padded
// to Thor's four columns, then its usage.
func classOptionUsage(o *thor.Option) string {
	short := *o
	short.Aliases = nil
	aliases := ""
	if len(o.Aliases) > 0 {
		aliases = strings.Join(o.Aliases, ", ") + ", "
	}
	return fmt.Sprintf("%-4s%s", aliases, short.Usage())
}

// defaultText is an option's default as Thor's help prints it ("" for
// none).
func defaultText(v any) string {
	switch v := v.(type) {
	case string:
		return v
	case bool:
		return strconv.FormatBool(v)
	case float64:
		return strconv.FormatFloat(v, 'f', -1, 64)
	}
	return ""
}
