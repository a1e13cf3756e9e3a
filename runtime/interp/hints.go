package interp

import (
	"errors"
	"sort"
	"strings"
	"unicode"

	"go.starlark.net/resolve"
	"go.starlark.net/starlark"
)

// hintUndefined adds "(did you mean NAME?)" to the resolver's "undefined:
// X" errors in err. go.starlark.net's resolver suggests only the file's own
// locals and globals, so a misspelt builtin (confg) or a stock step called
// by its bare name (pull_on_host, which a user file reaches as
// steps.pull_on_host) got no hint. Candidates are names (the builtins, or a
// prompt's globals) and Starlark's universe; failing those, the effective
// functions, suggested as steps.NAME.
func (in *Interp) hintUndefined(err error, names []string) error {
	var list resolve.ErrorList
	if !errors.As(err, &list) {
		return err
	}
	for i, e := range list {
		name, ok := strings.CutPrefix(e.Msg, "undefined: ")
		if !ok || strings.Contains(name, " ") { // already hinted
			continue
		}
		if hint := in.nearest(name, names); hint != "" {
			list[i].Msg += " (did you mean " + hint + "?)"
		}
	}
	return list
}

func (in *Interp) nearest(name string, names []string) string {
	if _, ok := in.effective[name]; ok {
		return "steps." + name
	}
	cands := append(append([]string{}, names...), starlark.Universe.Keys()...)
	sort.Strings(cands)
	if n := nearestName(name, cands); n != "" {
		return n
	}
	var steps []string
	for n := range in.effective {
		steps = append(steps, n)
	}
	sort.Strings(steps)
	if n := nearestName(name, steps); n != "" {
		return "steps." + n
	}
	return ""
}

// predeclaredNames are the builtins every script sees.
func (in *Interp) predeclaredNames() []string {
	out := make([]string, 0, len(in.predeclared))
	for n := range in.predeclared {
		out = append(out, n)
	}
	return out
}

// nearestName is the candidate nearest to x by edit distance, ignoring
// case and underscores, within half the length of x (the rule of
// go.starlark.net's own spelling hints); "" if none is that close.
func nearestName(x string, candidates []string) string {
	fold := func(s string) string {
		return strings.Map(func(r rune) rune {
			if r == '_' {
				return -1
			}
			return unicode.ToLower(r)
		}, s)
	}
	fx := fold(x)
	best, bestD := "", (len(fx)+1)/2
	for _, c := range candidates {
		if d := editDistance(fx, fold(c)); d < bestD {
			best, bestD = c, d
		}
	}
	return best
}

func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}
