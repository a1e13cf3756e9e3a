package config

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"

	"github.com/kamal-go/kamal/runtime/inputfile"
	"github.com/kamal-go/kamal/runtime/kamalerr"
)

// Release is the Kamal release whose behaviour a run follows: one of the
// three generations kamal-go implements. Every Kamal release maps to the
// nearest one (ReleaseFor).
type Release int

const (
	// Kamal15 is the flow of Kamal 1.5.2 that kamal-deploy.org documents:
	// pre-connect hook, run directory on every host, the deploy lock
	// around the work, a git archive of HEAD as the build context.
	Kamal15 Release = iota + 1
	// Kamal19 is Kamal 1.9.2: builds from a local git clone, no lock and no
	// remote commands in push, mirror seeding in pull.
	Kamal19
	// Kamal212 is Kamal 2.12.0.
	Kamal212
)

// Version is the Kamal version the release emulates ("1.9.2"); it is what
// minimum_version is checked against.
func (r Release) Version() string {
	switch r {
	case Kamal15:
		return "1.5.2"
	case Kamal19:
		return "1.9.2"
	case Kamal212:
		return NewestVersion
	}
	return ""
}

// NewestVersion is the newest Kamal release kamal-go follows (Kamal212):
// the version `kamal version` prints and scripts see as kamal.version.
const NewestVersion = "2.12.0"

// Name is the short name of the generation ("1.9").
func (r Release) Name() string {
	switch r {
	case Kamal15:
		return "1.5"
	case Kamal19:
		return "1.9"
	case Kamal212:
		return "2.12"
	}
	return ""
}

// Generation is the major version: which configuration format, secrets
// and validation rules apply.
func (r Release) Generation() Generation {
	if r == Kamal212 {
		return Kamal2
	}
	return Kamal1
}

func (r Release) String() string { return "Kamal " + r.Version() }

// ReleaseFor maps a Kamal release (a Gem version such as "1.8.3" or
// "2.0.0.beta1") to the nearest generation: before 1.6 → 1.5, 1.6 up to
// (not including) 2 → 1.9, 2 and later → 2.12. A prerelease counts as the
// release it precedes (2.0.0.beta1 → 2.12). The error is a
// malformed version.
func ReleaseFor(version string) (Release, error) {
	segs, err := gemSegments(version)
	if err != nil {
		return 0, err
	}
	num := func(i int) int {
		if i < len(segs) {
			if n, ok := segs[i].(int); ok {
				return n
			}
		}
		return 0
	}
	switch major, minor := num(0), num(1); {
	case major >= 2:
		return Kamal212, nil
	case major == 1 && minor >= 6:
		return Kamal19, nil
	default:
		return Kamal15, nil
	}
}

// chooseRelease decides which Kamal the app uses, in this order: the
// `kamal (X.Y.Z)` spec of the app's Gemfile.lock; else minimum_version;
// else the builder keys (a Kamal 2 key → 2.12, otherwise 1.5). raw may be
// nil (the config did not render): then only the lock file counts. The
// reason says which rule decided, for `kamal build details -v`. A lock
// file that cannot be read, or that pins kamal in a way no release could
// be read from, is an error.
func (l *loader) chooseRelease(raw *mapping) (Release, string, error) {
	lock := l.lockFile()
	name := lockName(l.dir, lock)
	pinned, line, found, err := lockedKamal(lock, name)
	if err != nil {
		return 0, "", err
	}
	if found {
		r, err := ReleaseFor(pinned)
		if err != nil {
			return 0, "", newError(kamalerr.ClassRuntime, "%s:%d: kamal (%s): %s", name, line, pinned, err.Error())
		}
		return r, fmt.Sprintf("%s pins kamal (%s)", name, pinned), nil
	}
	if raw == nil {
		return Kamal15, "the configuration did not load", nil
	}
	if mv := get(raw, "minimum_version"); present(mv) {
		// A malformed minimum_version is reported by the checks, with
		// Kamal's message; here it just does not decide.
		if r, err := ReleaseFor(rubyString(mv)); err == nil {
			return r, fmt.Sprintf("no kamal in %s, minimum_version is %s", name, rubyString(mv)), nil
		}
	}
	if gen, key := detectGeneration(raw); gen == Kamal2 {
		return Kamal212, fmt.Sprintf("no kamal in %s, no minimum_version, builder has the Kamal 2 key %s", name, key), nil
	}
	return Kamal15, fmt.Sprintf("no kamal in %s, no minimum_version, no Kamal 2 builder key", name), nil
}

// lockFile is the lock file Bundler would use for the app: with
// $BUNDLE_GEMFILE, that Gemfile's lock (gems.rb → gems.locked, any other
// name → NAME.lock), relative to the app root; otherwise Gemfile.lock at
// the app root, or gems.locked when only that exists.
func (l *loader) lockFile() string {
	if g, ok := l.getenv("BUNDLE_GEMFILE"); ok && g != "" {
		g = absIn(l.dir, g)
		if filepath.Base(g) == "gems.rb" {
			return filepath.Join(filepath.Dir(g), "gems.locked")
		}
		return g + ".lock"
	}
	lock := filepath.Join(l.dir, "Gemfile.lock")
	if _, err := os.Stat(lock); err != nil {
		if alt := filepath.Join(l.dir, "gems.locked"); fileExists(alt) {
			return alt
		}
	}
	return lock
}

func fileExists(p string) bool {
	_, err := os.Stat(p)
	return err == nil
}

// lockName is the lock file as messages name it: relative to the app root
// when inside it.
func lockName(dir, lock string) string {
	if rel, err := filepath.Rel(dir, lock); err == nil && !strings.HasPrefix(rel, "..") {
		return rel
	}
	return lock
}

// specLine is a locked gem in a specs: block, four spaces in:
// "    kamal (1.9.2)" (a platform gem adds "-PLATFORM" to the version).
var specLine = regexp.MustCompile(`^    ([^ (]+) \(([^)]*)\)$`)

// lockedKamal reads the version of the kamal gem locked in the lock file
// at path and the line it is on; found is false when the file does not
// exist or locks no kamal gem. name is the file as messages say it. Only the specs of the source sections (GEM, GIT, PATH)
// count: a kamal under DEPENDENCIES alone pins nothing. Merge-conflict
// markers, or kamal locked at two versions, are errors: no release can be
// told from such a file.
func lockedKamal(path, name string) (version string, line int, found bool, err error) {
	data, err := inputfile.ReadFile(path, name)
	if errors.Is(err, os.ErrNotExist) {
		return "", 0, false, nil
	}
	if err != nil {
		return "", 0, false, err
	}
	var section string
	inSpecs := false
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 0, 64*1024), 1<<20)
	for n := 1; sc.Scan(); n++ {
		text := strings.TrimRight(sc.Text(), "\r")
		for _, marker := range []string{"<<<<<<<", "=======", ">>>>>>>"} {
			if strings.HasPrefix(text, marker) {
				return "", 0, false, newError(kamalerr.ClassRuntime, "%s:%d: merge conflict marker: cannot tell which kamal release the app pins", name, n)
			}
		}
		switch {
		case text == "":
			continue
		case !strings.HasPrefix(text, " "):
			section, inSpecs = text, false
		case strings.HasPrefix(text, "  ") && !strings.HasPrefix(text, "   "):
			inSpecs = strings.TrimSpace(text) == "specs:"
		case inSpecs && (section == "GEM" || section == "GIT" || section == "PATH"):
			m := specLine.FindStringSubmatch(text)
			if m == nil || m[1] != "kamal" {
				continue
			}
			v, _, _ := strings.Cut(m[2], "-") // drop a platform
			if found && v != version {
				return "", 0, false, newError(kamalerr.ClassRuntime, "%s:%d: kamal is locked at %s and at %s", name, n, version, v)
			}
			if !found {
				version, line, found = v, n, true
			}
		}
	}
	if err := sc.Err(); err != nil {
		return "", 0, false, newError(kamalerr.ClassRuntime, "%s: %v", name, err)
	}
	return version, line, found, nil
}

// LockedKamal reports the kamal release the app at dir locks in the lock
// file Bundler would use (BUNDLE_GEMFILE through getenv), and that file as
// messages name it. found is false when there is no lock file or it locks
// no kamal. Nothing but the lock file is read.
func LockedKamal(dir string, getenv func(string) (string, bool)) (version, file string, found bool, err error) {
	l := &loader{dir: dir, getenv: getenv}
	lock := l.lockFile()
	file = lockName(dir, lock)
	version, _, found, err = lockedKamal(lock, file)
	return version, file, found, err
}
