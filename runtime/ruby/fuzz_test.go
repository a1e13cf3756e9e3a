package ruby

import (
	"os"
	"strings"
	"testing"
)

// The fuzz target never runs commands: backticks get a stub.

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
		cx := &Context{
			Name: "f",
			Host: &testHost{
				getenv:   mapEnv(map[string]string{"X": "1"}),
				run:      func(string, map[string]string) (string, int, error) { return "out\n", 0, nil },
				readFile: fuzzReadFile,
			},
			Lenient: len(src)%2 == 0,
		}
		out, err := Render(src, cx)
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
