package main

import (
	"errors"
	"fmt"
	"regexp"
	"strings"

	"github.com/kamal-go/kamal/cmd/kamal/internal/thor"
	"github.com/kamal-go/kamal/runtime/shell"
	"github.com/kamal-go/kamal/runtime/sshkit"
)

// retryLine is the line printed after Kamal's error lines when a
// parallel step failed on some of several hosts: how many of how many
// failed, which, and the command line that reruns the command on those
// hosts alone (argv with its host selection replaced by -h). It is ""
// when err holds no such failure, or the step had one host (the retry
// would be the same command).
func retryLine(err error, argv []string) string {
	var fo *sshkit.FanOutError
	if !errors.As(err, &fo) || len(fo.Hosts) < 2 || len(fo.Failed) == 0 {
		return ""
	}
	words := []string{"kamal"}
	for _, w := range retryArgv(argv, fo.Failed) {
		words = append(words, shell.Quote(w))
	}
	return fmt.Sprintf("%d of %d hosts failed (%s); to retry only them: %s",
		len(fo.Failed), len(fo.Hosts), strings.Join(fo.Failed, ", "), strings.Join(words, " "))
}

// hostSelection are the class options that choose hosts (Thor names):
// a retry drops them all and names its hosts with -h.
var hostSelection = map[string]bool{"hosts": true, "roles": true, "primary": true}

var (
	longWordRE    = regexp.MustCompile(`^--(?:(?:no|skip)-)?([\w-]+)(=.*)?$`)
	shortWordRE   = regexp.MustCompile(`^-([a-zA-Z])(=.*)?$`)
	shortBundleRE = regexp.MustCompile(`^-([a-zA-Z]{2,})$`)
	thorBooleans  = map[string]bool{"true": true, "TRUE": true, "t": true, "T": true, "false": true, "FALSE": true, "f": true, "F": true}
)

// shortSelection maps the selection options' aliases to their names.
var shortSelection = map[byte]string{'h': "hosts", 'r': "roles", 'p': "primary"}

// retryArgv is argv (without the program name) with every word of -h,
// --hosts, -r, --roles and -p, --primary (in each form Thor reads: a
// following value, =value, --no-/--skip-, inside a bundle such as -vp)
// taken out, and "-h HOST,..." added before a "--" or at the end, where
// Thor reads it whatever the command.
func retryArgv(argv []string, hosts []string) []string {
	var out []string
	for i := 0; i < len(argv); i++ {
		w := argv[i]
		if w == "--" {
			out = append(out, "-h", strings.Join(hosts, ","))
			return append(out, argv[i:]...)
		}
		name, takesNext := selectionIn(w)
		if m := shortBundleRE.FindStringSubmatch(w); m != nil {
			var rest string
			rest, name = dropSelection(m[1])
			if rest != "" {
				out = append(out, rest)
			}
			takesNext = name != ""
		} else if !hostSelection[name] {
			out = append(out, w)
			continue
		}
		if takesNext && i+1 < len(argv) {
			next := argv[i+1]
			if name == "primary" && thorBooleans[next] || name != "primary" && !thor.SwitchFormatted(next) {
				i++ // the option's value
			}
		}
	}
	return append(out, "-h", strings.Join(hosts, ","))
}

// selectionIn is the option a word names when it is -h, --hosts=x,
// --no-primary and the like, and whether Thor may take the next word as
// its value.
func selectionIn(w string) (name string, takesNext bool) {
	if m := longWordRE.FindStringSubmatch(w); m != nil {
		name = strings.ReplaceAll(m[1], "-", "_")
		negated := strings.HasPrefix(w, "--no-") || strings.HasPrefix(w, "--skip-")
		// A negated switch still reads a following true/false.
		return name, m[2] == "" && (!negated || name == "primary")
	}
	if m := shortWordRE.FindStringSubmatch(w); m != nil {
		return shortSelection[m[1][0]], m[2] == ""
	}
	return "", false
}

// dropSelection takes h, r and p out of a bundle of short switches
// (Thor reads -vh as -v -h): the bundle left ("" if none is left) and
// the selection option its last letter is ("" if none), which may take
// the next word as its value.
func dropSelection(letters string) (rest, last string) {
	var kept []byte
	for i := 0; i < len(letters); i++ {
		if _, sel := shortSelection[letters[i]]; !sel {
			kept = append(kept, letters[i])
		}
	}
	last = shortSelection[letters[len(letters)-1]]
	if len(kept) > 0 {
		rest = "-" + string(kept)
	}
	return rest, last
}
