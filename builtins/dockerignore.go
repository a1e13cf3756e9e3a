package builtins

import (
	"bufio"
	"errors"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
)

// Files Docker would send as the build context, for `kamal build dev`'s
// warnings (spec §8.9). Kamal finds them by building a throwaway busybox
// image that lists its copied context; this reads the same .dockerignore
// rules in Go instead, so no image has to be pulled and nothing is
// printed around the run.

// ignorePattern is one line of a .dockerignore.
type ignorePattern struct {
	re        *regexp.Regexp
	segments  int  // path segments of the pattern
	exclusion bool // "!pattern": re-include
}

// readDockerignore parses dir/.dockerignore (none: no patterns).
func readDockerignore(dir string) ([]ignorePattern, error) {
	f, err := os.Open(filepath.Join(dir, ".dockerignore"))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var out []ignorePattern
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		p := ignorePattern{}
		if strings.HasPrefix(line, "!") {
			p.exclusion = true
			line = strings.TrimSpace(line[1:])
		}
		line = strings.TrimPrefix(path.Clean(filepath.ToSlash(line)), "/")
		if line == "" || line == "." {
			continue
		}
		re, err := regexp.Compile(globRegexp(line))
		if err != nil {
			return nil, err
		}
		p.re, p.segments = re, strings.Count(line, "/")+1
		out = append(out, p)
	}
	return out, sc.Err()
}

// globRegexp turns a .dockerignore glob into an anchored regexp, as
// moby/patternmatcher does: "**" spans directories, "*" and "?" stay
// within one, character classes pass through.
func globRegexp(glob string) string {
	var b strings.Builder
	b.WriteString("^")
	for i := 0; i < len(glob); i++ {
		c := glob[i]
		switch {
		case c == '*' && i+1 < len(glob) && glob[i+1] == '*':
			i++
			if i+1 < len(glob) && glob[i+1] == '/' {
				i++
				b.WriteString("(.*/)?")
			} else {
				b.WriteString(".*")
			}
		case c == '*':
			b.WriteString("[^/]*")
		case c == '?':
			b.WriteString("[^/]")
		case c == '[':
			j := strings.IndexByte(glob[i:], ']')
			if j < 0 {
				b.WriteString(`\[`)
				continue
			}
			class := glob[i+1 : i+j]
			if strings.HasPrefix(class, "!") {
				class = "^" + class[1:]
			}
			b.WriteString("[" + class + "]")
			i += j
		case c == '\\' && i+1 < len(glob):
			i++
			b.WriteString(regexp.QuoteMeta(string(glob[i])))
		default:
			b.WriteString(regexp.QuoteMeta(string(c)))
		}
	}
	b.WriteString("$")
	return b.String()
}

// ignored reports whether rel (slash-separated) is left out: the last
// pattern matching it, or one of its parent directories, decides.
func ignored(patterns []ignorePattern, rel string) bool {
	parts := strings.Split(rel, "/")
	out := false
	for _, p := range patterns {
		match := p.re.MatchString(rel)
		if !match && p.segments < len(parts) {
			match = p.re.MatchString(strings.Join(parts[:p.segments], "/"))
		}
		if match {
			out = !p.exclusion
		}
	}
	return out
}

// contextFiles lists the regular files under dir that a build with
// context dir would copy, relative and sorted.
func contextFiles(dir string) ([]string, error) {
	patterns, err := readDockerignore(dir)
	if err != nil {
		return nil, err
	}
	var files []string
	err = filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if p == dir || !d.Type().IsRegular() {
			return nil
		}
		rel, err := filepath.Rel(dir, p)
		if err != nil {
			return err
		}
		rel = filepath.ToSlash(rel)
		if !ignored(patterns, rel) {
			files = append(files, rel)
		}
		return nil
	})
	sort.Strings(files)
	return files, err
}
