package thor

import (
	"math"
	"sort"
	"strings"
)

// didYouMean is Ruby's DidYouMean::SpellChecker#correct (did_you_mean
// 1.6, which Thor's errors use): the words of dict close to input, best
// first.
func didYouMean(dict []string, input string) []string {
	in := []rune(normalizeWord(input))
	threshold := 0.77
	if len(in) > 3 {
		threshold = 0.834
	}
	var words []string
	for _, w := range dict {
		if jaroWinkler([]rune(normalizeWord(w)), in) >= threshold && w != input {
			words = append(words, w)
		}
	}
	sort.SliceStable(words, func(i, j int) bool {
		return jaroWinkler([]rune(words[i]), in) < jaroWinkler([]rune(words[j]), in)
	})
	for i, j := 0, len(words)-1; i < j; i, j = i+1, j-1 {
		words[i], words[j] = words[j], words[i]
	}
	limit := int(math.Ceil(float64(len(in)) * 0.25))
	var out []string
	for _, w := range words {
		if levenshtein([]rune(normalizeWord(w)), in) <= limit {
			out = append(out, w)
		}
	}
	if len(out) > 0 {
		return out
	}
	for _, w := range words {
		nw := []rune(normalizeWord(w))
		if levenshtein(nw, in) < min(len(in), len(nw)) {
			return []string{w}
		}
	}
	return nil
}

func normalizeWord(s string) string {
	return strings.ReplaceAll(strings.ToLower(s), "@", "")
}

func jaro(s1, s2 []rune) float64 {
	if len(s1) > len(s2) {
		s1, s2 = s2, s1
	}
	l1, l2 := len(s1), len(s2)
	rng := max(l2/2-1, 0)
	f1, f2 := make([]bool, l1), make([]bool, l2)
	m := 0.0
	for i := 0; i < l1; i++ {
		j := 0
		if i >= rng {
			j = i - rng
		}
		for ; j <= i+rng && j < l2; j++ {
			if !f2[j] && s1[i] == s2[j] {
				f2[j], f1[i] = true, true
				m++
				break
			}
		}
	}
	t := 0.0
	k := 0
	for i := 0; i < l1; i++ {
		if !f1[i] {
			continue
		}
		index := k
		for j := k; j < l2; j++ {
			index = j
			if f2[j] {
				k = j + 1
				break
			}
		}
		if s1[i] != s2[index] {
			t++
		}
	}
	t = math.Floor(t / 2)
	if m == 0 {
		return 0
	}
	return (m/float64(l1) + m/float64(l2) + (m-t)/m) / 3
}

func jaroWinkler(s1, s2 []rune) float64 {
	d := jaro(s1, s2)
	if d <= 0.7 {
		return d
	}
	bonus := 0
	for i, r := range s1 {
		if i < len(s2) && r == s2[i] && i < 4 {
			bonus++
		} else {
			break
		}
	}
	return d + float64(bonus)*0.1*(1-d)
}

// levenshtein is did_you_mean's, line for line (its own variant).
func levenshtein(s1, s2 []rune) int {
	n, m := len(s1), len(s2)
	if n == 0 {
		return m
	}
	if m == 0 {
		return n
	}
	d := make([]int, m+1)
	for j := range d {
		d[j] = j
	}
	x := 0
	for i0, c1 := range s1 {
		i := i0 + 1
		for j := 0; j < m; j++ {
			cost := 1
			if c1 == s2[j] {
				cost = 0
			}
			x = min3(d[j+1]+1, i+1, d[j]+cost)
			d[j] = i
			i = x
		}
		d[m] = x
	}
	return x
}

func min3(a, b, c int) int {
	if a < b && a < c {
		return a
	}
	if b < c {
		return b
	}
	return c
}
