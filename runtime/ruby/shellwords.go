package ruby

import (
	"fmt"
	"strings"
)

// Shellsplit splits s into words as Ruby's Shellwords.shellsplit does:
// blanks separate words; 'single quotes' are literal; in "double quotes"
// a backslash escapes only $ ` " \ and newline; elsewhere a backslash
// escapes any character (and a backslash-newline vanishes).
func Shellsplit(s string) ([]string, error) {
	var words []string
	var w strings.Builder
	inWord := false
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v':
			if inWord {
				words = append(words, w.String())
				w.Reset()
				inWord = false
			}
		case c == '\'':
			end := strings.IndexByte(s[i+1:], '\'')
			if end < 0 {
				return nil, fmt.Errorf("Unmatched quote: %q", s)
			}
			w.WriteString(s[i+1 : i+1+end])
			i += end + 1
			inWord = true
		case c == '"':
			j := i + 1
			for ; j < len(s) && s[j] != '"'; j++ {
				if s[j] == '\\' && j+1 < len(s) && strings.IndexByte("$`\"\\\n", s[j+1]) >= 0 {
					if s[j+1] != '\n' {
						w.WriteByte(s[j+1])
					}
					j++
					continue
				}
				w.WriteByte(s[j])
			}
			if j >= len(s) {
				return nil, fmt.Errorf("Unmatched quote: %q", s)
			}
			i = j
			inWord = true
		case c == '\\':
			if i+1 < len(s) {
				if s[i+1] != '\n' {
					w.WriteByte(s[i+1])
				}
				i++
			}
			inWord = true
		default:
			w.WriteByte(c)
			inWord = true
		}
	}
	if inWord {
		words = append(words, w.String())
	}
	return words, nil
}
