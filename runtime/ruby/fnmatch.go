package ruby

import "strings"

// Fnmatch reports whether name matches pattern like Ruby's
// File.fnmatch(pattern, name, File::FNM_EXTGLOB), which Kamal uses for
// --hosts and --roles: "*" (any run, "/" included), "?", "[...]" (with
// ranges and "!" or "^" negation), "{a,b}" alternation (nested allowed)
// and "\" escapes. As in Ruby without FNM_DOTMATCH, a leading "." in name
// is only matched by a literal ".".
func Fnmatch(pattern, name string) bool {
	for _, p := range expandBraces(pattern, 0) {
		if globMatch(p, name) {
			return true
		}
	}
	return false
}

// maxBraceExpansions bounds {a,b}{c,d}... blow-up.
const maxBraceExpansions = 1024

// expandBraces expands the first top-level {...} group with a matching
// close brace, recursively. Unbalanced braces are literal.
func expandBraces(p string, depth int) []string {
	if depth > 32 {
		return []string{p}
	}
	open := -1
	level := 0
	var commas []int
	for i := 0; i < len(p); i++ {
		switch p[i] {
		case '\\':
			i++
		case '{':
			if level == 0 {
				open = i
				commas = commas[:0]
			}
			level++
		case ',':
			if level == 1 {
				commas = append(commas, i)
			}
		case '}':
			if level == 0 {
				continue
			}
			level--
			if level == 0 {
				prefix, suffix := p[:open], p[i+1:]
				bounds := append(append([]int{open}, commas...), i)
				var out []string
				for k := 0; k+1 < len(bounds); k++ {
					alt := prefix + p[bounds[k]+1:bounds[k+1]] + suffix
					out = append(out, expandBraces(alt, depth+1)...)
					if len(out) > maxBraceExpansions {
						return out[:maxBraceExpansions]
					}
				}
				return out
			}
		}
	}
	return []string{p}
}

func globMatch(p, s string) bool {
	if strings.HasPrefix(s, ".") && p != "" && (p[0] == '*' || p[0] == '?' || p[0] == '[') {
		return false
	}
	// Iterative matcher with single-star backtracking.
	pi, si := 0, 0
	starP, starS := -1, 0
	for si < len(s) {
		if pi < len(p) {
			switch p[pi] {
			case '*':
				starP, starS = pi, si
				pi++
				continue
			case '?':
				pi++
				si++
				continue
			case '[':
				if ok, next, valid := matchClass(p, pi, s[si]); valid {
					if ok {
						pi, si = next, si+1
						continue
					}
				} else if s[si] == '[' {
					pi, si = pi+1, si+1
					continue
				}
			case '\\':
				if pi+1 < len(p) && p[pi+1] == s[si] {
					pi, si = pi+2, si+1
					continue
				}
				if pi+1 == len(p) && s[si] == '\\' {
					pi, si = pi+1, si+1
					continue
				}
			default:
				if p[pi] == s[si] {
					pi, si = pi+1, si+1
					continue
				}
			}
		}
		if starP < 0 {
			return false
		}
		starS++
		pi, si = starP+1, starS
	}
	for pi < len(p) && p[pi] == '*' {
		pi++
	}
	return pi == len(p)
}

// matchClass matches c against the bracket expression at p[i]. valid is
// false when the expression has no closing "]" (then "[" is literal).
func matchClass(p string, i int, c byte) (ok bool, next int, valid bool) {
	j := i + 1
	negate := false
	if j < len(p) && (p[j] == '!' || p[j] == '^') {
		negate = true
		j++
	}
	matched := false
	first := true
	for j < len(p) && (p[j] != ']' || first) {
		first = false
		lo := p[j]
		if lo == '\\' && j+1 < len(p) {
			j++
			lo = p[j]
		}
		hi := lo
		if j+2 < len(p) && p[j+1] == '-' && p[j+2] != ']' {
			hi = p[j+2]
			if hi == '\\' && j+3 < len(p) {
				j++
				hi = p[j+2]
			}
			j += 2
		}
		if lo <= c && c <= hi {
			matched = true
		}
		j++
	}
	if j >= len(p) {
		return false, 0, false
	}
	return matched != negate, j + 1, true
}
