package config

import (
	"os"
	"strings"
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

// fuzzReadFile stands in for the file system: a fuzzer's File.read
// ("/dev/zero", "/dev/stdin") must not block or fill memory.
func fuzzReadFile(path string) ([]byte, error) {
	if strings.HasSuffix(path, "missing") {
		return nil, &os.PathError{Op: "open", Path: path, Err: os.ErrNotExist}
	}
	return []byte("A=1\nB=\"two\"\n"), nil
}

func FuzzERB(f *testing.F) {
	for _, s := range []string{
		`a: <%= ENV["X"] %>`, `<%= ENV.fetch('X', "d") -%>` + "\n", "<%# c %>", "<%% x %>", "<%- %>",
		"<%= `cmd` %>", "<%= %x(a (b) c) %>", `<%= "a\"#{x}" %>`, "<%= ENV['A'] || nil %>", "<%= x.strip %>",
		"<%", "<%=", "%>", "<%= ( %>", "<%= %x", "<%= '\\", "<%= ENV[ %>",
		`<%= "#{ENV['X']}-#{1 + 2}" %>`, "<% %w[a b].each do |h| -%>\n- <%= h.upcase %>\n<% end -%>\n",
		`<% v = begin; File.read("missing"); rescue Errno::ENOENT; "d"; end %><%= v %>`,
		`<%= File.read(".env")[/B="(.*)"/, 1] %>`, `<% require "uri"; u = URI.parse("pg://u:p@h:1/d") %><%= u.host %>`,
		`<% Dotenv.load %><%= ENV.fetch("A") { |k| k } %>`, `<%= ENV["X"] ? "a" : 'b' %><%= [1, nil].compact.map(&:to_s).join(",") %>`,
		`<% if ENV["X"] == "1" %>y<% elsif false %>n<% else %>z<% end %>`, "# <%= RUBY_ENGINE_VERSION %>\n",
		`<%= JSON.parse('{"a": [1, {"b": null}]}').dig("a", 1, "b").inspect %>`, `<%= Time.at(0).utc.strftime("%F %-d %%") %>`,
		"<%= `nosuch-program` %>", `<%= "a-b".tr("a-z", "A-Z") %><%= Integer("0x1f") %>`,
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, src string) {
		cx := &erbContext{
			name:     "f",
			getenv:   mapEnv(map[string]string{"X": "1"}),
			run:      func(string, map[string]string) (string, int, error) { return "out\n", 0, nil },
			readFile: fuzzReadFile,
			lenient:  len(src)%2 == 0,
		}
		out, err := renderERB(src, cx)
		if err != nil {
			if _, ok := err.(*Error); !ok {
				t.Fatalf("error %T is not *Error", err)
			}
			return
		}
		if !strings.Contains(src, "<%") && out != src {
			t.Fatalf("text without tags changed: %q -> %q", src, out)
		}
	})
}
