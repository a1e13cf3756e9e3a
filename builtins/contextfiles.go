package builtins

import (
	"io/fs"
	"path/filepath"
	"sort"

	"github.com/docker/cli/cli/command/image/build"
	"github.com/moby/patternmatcher"
)

// Files Docker would send as the build context, for `kamal build dev`'s
// warnings. Kamal finds them by building a throwaway busybox
// image that lists its copied context; this applies the same .dockerignore
// rules with docker's own code instead (docker/cli reads the file,
// moby/patternmatcher matches), so no image has to be pulled and nothing
// is printed around the run.

// contextFiles lists the regular files under dir that a build with
// context dir would copy, relative (slash-separated) and sorted. As
// docker's context walk, it does not descend into an excluded directory
// unless an exclusion ("!pattern") could re-include something inside it.
func contextFiles(dir string) ([]string, error) {
	excludes, err := build.ReadDockerignore(dir)
	if err != nil {
		return nil, err
	}
	pm, err := patternmatcher.New(excludes)
	if err != nil {
		return nil, err
	}
	var files []string
	err = filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if p == dir {
			return nil
		}
		rel, err := filepath.Rel(dir, p)
		if err != nil {
			return err
		}
		skip, err := pm.MatchesOrParentMatches(rel)
		if err != nil {
			return err
		}
		if skip {
			if d.IsDir() && !pm.Exclusions() {
				return filepath.SkipDir
			}
			return nil
		}
		if d.Type().IsRegular() {
			files = append(files, filepath.ToSlash(rel))
		}
		return nil
	})
	sort.Strings(files)
	return files, err
}
