package e2e

import (
	"cmp"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// normalizer turns kamal's output into a form that is equal across runs:
// command ids, durations, versions, the registry address, the app's and
// TMPDIR's paths and timestamps become placeholders; the build command's
// streamed output (build and push progress) is dropped; and the interleaving
// of parallel remote commands is made canonical. Everything else is verbatim.
type normalizer struct {
	registries []string // registry addresses -> REGISTRY
	appDirs    []string // app working copies -> APP
	tmpDirs    []string // TMPDIR values -> TMP (only in Kamal 2's kamal-clones paths)
	// dropEmptyCommand removes Kamal's `Running /usr/bin/env  on localhost`
	// quirk (a command with no words, which Kamal logs and runs) from
	// reference transcripts; kamal-go skips that step.
	dropEmptyCommand bool
}

var (
	// `  INFO [1a2b3c4d] text`: a log line of one command.
	cmdLineRe = regexp.MustCompile(`^ *(DEBUG|INFO|WARN|ERROR|FATAL) \[([0-9a-f]{8})\] (.*)$`)
	runningRe = regexp.MustCompile(`^Running (.*) (?:on (\S+)|as \S+@(localhost))$`)
	idRe      = regexp.MustCompile(`\[[0-9a-f]{8}\]`)
	finishRe  = regexp.MustCompile(`Finished in [0-9]+\.[0-9]+ seconds`)
	versionRe = regexp.MustCompile(`\b[0-9a-f]{40}\b`)
	timeRe    = regexp.MustCompile(`\b[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z\b`)
	cloneRe   = regexp.MustCompile(`kamal-clones/([A-Za-z0-9_-]+)-[0-9a-f]{13}\b`)
)

// logLine is one output line with what the normaliser knows about it.
type logLine struct {
	text string
	id   string // command id, "" for other lines
	host string // host of the command, "" when local or unknown
}

func (n normalizer) normalize(out string) string {
	lines := n.classify(strings.Split(strings.TrimSuffix(out, "\n"), "\n"))
	lines = canonicalInterleaving(lines)
	var b strings.Builder
	for _, l := range lines {
		b.WriteString(n.replace(l.text) + "\n")
	}
	return b.String()
}

// classify finds each command's host and drops the lines the comparison
// ignores: the build command's streamed output and the empty-command quirk.
func (n normalizer) classify(raw []string) []logLine {
	hosts := map[string]string{}
	build := map[string]bool{}
	empty := map[string]bool{}
	for _, s := range raw {
		m := cmdLineRe.FindStringSubmatch(s)
		if m == nil {
			continue
		}
		r := runningRe.FindStringSubmatch(m[3])
		if r == nil {
			continue
		}
		if host := r[2]; host != "" && host != "localhost" {
			hosts[m[2]] = host
		}
		cmd := r[1]
		if strings.Contains(cmd, "docker build ") || strings.Contains(cmd, "docker buildx build ") {
			build[m[2]] = true
		}
		if cmd == "/usr/bin/env " {
			empty[m[2]] = true
		}
	}
	var lines []logLine
	for _, s := range raw {
		l := logLine{text: s}
		if m := cmdLineRe.FindStringSubmatch(s); m != nil {
			l.id, l.host = m[2], hosts[m[2]]
			if build[l.id] && m[1] == "DEBUG" && strings.HasPrefix(m[3], "\t") {
				continue
			}
			if n.dropEmptyCommand && empty[l.id] {
				continue
			}
		}
		lines = append(lines, l)
	}
	return lines
}

// canonicalInterleaving reorders every run of consecutive remote-command
// lines: servers run in parallel, so only each server's own sequence is
// deterministic. Lines are ordered by the command's position in its server's
// sequence, then by server (a lockstep view: step 1 on every server, then
// step 2, ...); a command's own lines keep their order.
func canonicalInterleaving(lines []logLine) []logLine {
	for i := 0; i < len(lines); {
		j := i
		for j < len(lines) && lines[j].host != "" {
			j++
		}
		if j == i {
			i++
			continue
		}
		step := map[string]int{}  // command id -> its position on its host
		count := map[string]int{} // host -> commands seen so far
		for _, l := range lines[i:j] {
			if _, ok := step[l.id]; !ok {
				step[l.id] = count[l.host]
				count[l.host]++
			}
		}
		slices.SortStableFunc(lines[i:j], func(a, b logLine) int {
			return cmp.Or(cmp.Compare(step[a.id], step[b.id]), cmp.Compare(a.host, b.host))
		})
		i = j
	}
	return lines
}

func (n normalizer) replace(s string) string {
	s = idRe.ReplaceAllString(s, "[ID]")
	s = finishRe.ReplaceAllString(s, "Finished in X seconds")
	s = versionRe.ReplaceAllString(s, "VERSION")
	s = timeRe.ReplaceAllString(s, "TIMESTAMP")
	for _, r := range n.registries {
		s = strings.ReplaceAll(s, r, "REGISTRY")
	}
	for _, d := range n.appDirs {
		s = strings.ReplaceAll(s, d, "APP")
	}
	for _, d := range n.tmpDirs {
		s = strings.ReplaceAll(s, d+"/kamal-clones/", "TMP/kamal-clones/")
	}
	return cloneRe.ReplaceAllString(s, "kamal-clones/$1-HASH")
}

// normalizer for this app's runs. /tmp covers a kamal that ignores TMPDIR.
func (a *App) normalizer() normalizer {
	return normalizer{registries: []string{rig.Registry}, appDirs: []string{a.Dir}, tmpDirs: []string{a.Tmp, "/tmp"}}
}

func (a *App) normalize(out string) string { return a.normalizer().normalize(out) }

// referenceNormalizer matches how the reference transcripts were recorded
// (testdata/reference/README.md).
var referenceNormalizer = normalizer{
	registries:       []string{"127.0.0.1:5000", "127.0.0.1:5556"},
	appDirs:          []string{"/home/me/app"},
	tmpDirs:          []string{"/tmp"},
	dropEmptyCommand: true,
}

// goldens maps each golden to the real Kamal transcript it is made from.
var goldens = map[string]string{
	"kamal1-build-push":    "kamal-1.5.2/build-push.txt",
	"kamal1-build-deliver": "kamal-1.5.2/build-deliver.txt",
	"kamal2-build-push":    "kamal-2.12.0/build-push.cold.txt",
	"kamal2-build-deliver": "kamal-2.12.0/build-deliver.cold.txt",
}

func readTestdata(t *testing.T, rel string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", rel))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// assertGolden compares normalised output with testdata/<name>.golden.
func assertGolden(t *testing.T, name, got string) {
	t.Helper()
	want := readTestdata(t, name+".golden")
	if got != want {
		t.Errorf("output differs from testdata/%s.golden (made from reference %s); - want + got:\n%s", name, goldens[name], lineDiff(want, got))
	}
}

func TestGoldensAreNormalisedReferenceTranscripts(t *testing.T) {
	for name, ref := range goldens {
		got := referenceNormalizer.normalize(readTestdata(t, filepath.Join("reference", ref)))
		path := filepath.Join("testdata", name+".golden")
		if *update {
			if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
				t.Fatal(err)
			}
			continue
		}
		if want := readTestdata(t, name+".golden"); got != want {
			t.Errorf("%s is not the normalised %s (run with -update); - golden + normalised:\n%s", path, ref, lineDiff(want, got))
		}
	}
}

// Two real runs of `kamal build push` whose servers answered in different
// orders (and whose pushes uploaded vs skipped layers) normalise the same.
func TestNormalizeMakesParallelServerOrderAndBuildOutputCanonical(t *testing.T) {
	warm := readTestdata(t, "reference/kamal-1.5.2/build-push.txt")
	cold := readTestdata(t, "reference/kamal-1.5.2/build-push.cold.txt")
	if warm == cold {
		t.Fatal("the two reference runs are identical; the test needs different ones")
	}
	if a, b := referenceNormalizer.normalize(warm), referenceNormalizer.normalize(cold); a != b {
		t.Errorf("normalised runs differ; - warm + cold:\n%s", lineDiff(a, b))
	}
}

func TestNormalizeKeepsEachServersOwnOrder(t *testing.T) {
	out := strings.Join([]string{
		"  INFO [00000001] Running docker pull x on server2",
		"  INFO [00000002] Running docker image rm x on server1",
		"  INFO [00000002] Finished in 0.100 seconds with exit status 0 (successful).",
		"  INFO [00000003] Running docker pull x on server1",
		"  INFO [00000001] Finished in 0.200 seconds with exit status 0 (successful).",
		"  INFO [00000003] Finished in 0.300 seconds with exit status 0 (successful).",
		"Releasing the deploy lock...",
	}, "\n")
	want := strings.Join([]string{
		"  INFO [ID] Running docker image rm x on server1",
		"  INFO [ID] Finished in X seconds with exit status 0 (successful).",
		"  INFO [ID] Running docker pull x on server2",
		"  INFO [ID] Finished in X seconds with exit status 0 (successful).",
		"  INFO [ID] Running docker pull x on server1",
		"  INFO [ID] Finished in X seconds with exit status 0 (successful).",
		"Releasing the deploy lock...",
	}, "\n") + "\n"
	if got := (normalizer{}).normalize(out); got != want {
		t.Errorf("- want + got:\n%s", lineDiff(want, got))
	}
}

func TestNormalizeDropsOnlyTheBuildCommandsStreamedOutput(t *testing.T) {
	out := strings.Join([]string{
		"  INFO [0000000a] Running docker --version on localhost",
		" DEBUG [0000000a] \tDocker version 28.2.2",
		"  INFO [0000000b] Running /usr/bin/env git archive --format=tar HEAD | docker build -t 127.0.0.1:5555/app:0123456789abcdef0123456789abcdef01234567 - on localhost",
		" DEBUG [0000000b] Command: /usr/bin/env git archive --format=tar HEAD | docker build -t 127.0.0.1:5555/app:0123456789abcdef0123456789abcdef01234567 -",
		" DEBUG [0000000b] \t#0 building with \"default\" instance using docker driver",
		" DEBUG [0000000b] \t",
		"  INFO [0000000b] Finished in 1.234 seconds with exit status 0 (successful).",
	}, "\n")
	want := strings.Join([]string{
		"  INFO [ID] Running docker --version on localhost",
		" DEBUG [ID] \tDocker version 28.2.2",
		"  INFO [ID] Running /usr/bin/env git archive --format=tar HEAD | docker build -t REGISTRY/app:VERSION - on localhost",
		" DEBUG [ID] Command: /usr/bin/env git archive --format=tar HEAD | docker build -t REGISTRY/app:VERSION -",
		"  INFO [ID] Finished in X seconds with exit status 0 (successful).",
	}, "\n") + "\n"
	n := normalizer{registries: []string{"127.0.0.1:5555"}}
	if got := n.normalize(out); got != want {
		t.Errorf("- want + got:\n%s", lineDiff(want, got))
	}
}

// lineDiff is a small LCS line diff, enough for transcripts of a few hundred lines.
func lineDiff(a, b string) string {
	x, y := strings.Split(a, "\n"), strings.Split(b, "\n")
	lcs := make([][]int, len(x)+1)
	for i := range lcs {
		lcs[i] = make([]int, len(y)+1)
	}
	for i := len(x) - 1; i >= 0; i-- {
		for j := len(y) - 1; j >= 0; j-- {
			if x[i] == y[j] {
				lcs[i][j] = lcs[i+1][j+1] + 1
			} else {
				lcs[i][j] = max(lcs[i+1][j], lcs[i][j+1])
			}
		}
	}
	var d strings.Builder
	i, j := 0, 0
	for i < len(x) || j < len(y) {
		switch {
		case i < len(x) && j < len(y) && x[i] == y[j]:
			fmt.Fprintf(&d, "  %s\n", x[i])
			i, j = i+1, j+1
		case j < len(y) && (i == len(x) || lcs[i][j+1] >= lcs[i+1][j]):
			fmt.Fprintf(&d, "+ %s\n", y[j])
			j++
		default:
			fmt.Fprintf(&d, "- %s\n", x[i])
			i++
		}
	}
	return d.String()
}
