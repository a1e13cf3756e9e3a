package main

import (
	"fmt"
	"io"
	"strings"

	"github.com/kamal-go/kamal/builtins"
	kruntime "github.com/kamal-go/kamal/runtime"
)

// compatVersion is the Kamal release whose behaviour this binary follows;
// `kamal version` prints it, and config minimum_version is checked against it.
const compatVersion = builtins.CompatVersion

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

func printTopHelp(w io.Writer) {
	fmt.Fprintln(w, "Commands:")
	table(w, [][2]string{
		{"kamal build", "Build application image"},
		{"kamal help [COMMAND]", "Describe available commands or one specific command"},
		{"kamal lock", "Manage the deploy lock"},
		{"kamal version", "Show Kamal version"},
	})
	fmt.Fprintln(w)
	printOptions(w)
}

func printBuildHelp(w io.Writer, cmds []kruntime.Command) {
	rows := [][2]string{}
	for _, c := range cmds {
		usage := "kamal build " + c.Name
		rows = append(rows, [2]string{usage, firstLine(c.Doc)})
	}
	rows = append(rows, [2]string{"kamal build help [COMMAND]", "Describe subcommands or one specific subcommand"})
	sortRows(rows)
	fmt.Fprintln(w, "Commands:")
	table(w, rows)
	fmt.Fprintln(w)
	printOptions(w)
}

func sortRows(rows [][2]string) {
	for i := 1; i < len(rows); i++ {
		for j := i; j > 0 && rows[j][0] < rows[j-1][0]; j-- {
			rows[j], rows[j-1] = rows[j-1], rows[j]
		}
	}
}

// commandOptions are the options a stock subcommand takes besides the
// class options, in Thor's words.
var commandOptions = map[string][][2]string{
	"push": {
		{"[--output=OUTPUT]", "Exported type for the build result, and may be any exported type supported by 'buildx --output'.\n# Default: registry"},
		{"[--no-cache]", "Build without using Docker's build cache"},
	},
	"dev": {
		{"[--output=OUTPUT]", "Exported type for the build result, and may be any exported type supported by 'buildx --output'.\n# Default: docker"},
		{"[--no-cache]", "Build without using Docker's build cache"},
	},
}

func printCommandHelp(w io.Writer, c kruntime.Command) {
	fmt.Fprintf(w, "Usage:\n  kamal build %s\n\nOptions:\n", c.Name)
	for _, o := range commandOptions[c.Name] {
		desc := strings.ReplaceAll(o[1], "\n", "\n"+strings.Repeat(" ", 24))
		fmt.Fprintf(w, "      %-16s  # %s\n", o[0], desc)
	}
	printOptionRows(w)
	fmt.Fprintf(w, "\n%s\n", strings.TrimSpace(c.Doc))
}

func printOptions(w io.Writer) {
	fmt.Fprintln(w, "Options:")
	printOptionRows(w)
}

func printOptionRows(w io.Writer) {
	var left []string
	for _, o := range classOptions {
		s := "    "
		if o.short != "" {
			s = "-" + o.short + ", "
		}
		switch {
		case o.boolean:
			s += "[--" + o.long + "]"
		default:
			s += fmt.Sprintf("[--%s=%s]", o.long, o.value)
		}
		left = append(left, s)
	}
	width := 0
	for _, l := range left {
		width = max(width, len(l))
	}
	for i, o := range classOptions {
		fmt.Fprintf(w, "  %-*s  # %s\n", width, left[i], o.desc)
		if o.def != "" {
			fmt.Fprintf(w, "  %-*s  # Default: %s\n", width, "", o.def)
		}
	}
}
