package config

import (
	"testing"
)

// The fuzz targets never run commands: $(...) and backticks get a stub.

func FuzzDotenv(f *testing.F) {
	for _, s := range []string{
		"A=1\n", "export A='x'\n", `A="a\"b\n$B ${C} \$D $(cmd) \$(x)"`, "A: b # c\n",
		"A=\"x\ny\"\n", "A=$(a $(b) c)\n", "export A\n", "A='unterminated\n", "=\n", "A=\\",
		"DOTENV_LINEBREAK_MODE=legacy\nA=\"\\n\"\n", "A=${\n", "A=$(\n",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, src string) {
		run := func(cmd string) (string, int, error) { return "out$X\n", len(cmd) % 2, nil }
		entries, err := parseDotenv(src, dotenvOptions{name: "f", getenv: mapEnv(map[string]string{"X": "x"}), run: run})
		if err != nil {
			if _, ok := err.(*Error); !ok {
				t.Fatalf("error %T is not *Error", err)
			}
			return
		}
		for _, e := range entries {
			if e.key == "" || e.line < 1 {
				t.Fatalf("bad entry %+v", e)
			}
		}
	})
}
