package ruby

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math/rand"
	"os"
	"os/exec"
	"strings"
	"testing"
)

// erbGen writes random Ruby expressions from the subset the evaluator
// covers, for TestERBRandomMatchesRuby.
type erbGen struct {
	r     *rand.Rand
	depth int
}

var genStrings = []string{`"a,b,,c"`, `"  Hello World \n"`, `"v1.2.3"`, `"héllo"`, `""`, `"x\ty"`, `'a-b_c'`, `"1_000 x"`, `ENV["HOST"]`, `ENV["NAME"]`, `ENV["EMPTY"]`, `ENV["HOSTS"]`, `ENV["NUM"]`, `ENV["NOPE"]`, `ENV.fetch("NOPE", "dflt")`, `ENV.fetch("NOPE") { |k| k.downcase }`}

func (g *erbGen) pick(xs ...string) string { return xs[g.r.Intn(len(xs))] }

func (g *erbGen) str() string {
	g.depth++
	defer func() { g.depth-- }()
	if g.depth > 3 || g.r.Intn(4) == 0 {
		return g.pick(genStrings...)
	}
	s := g.str()
	switch g.r.Intn(24) {
	case 0:
		return s + ".strip"
	case 1:
		return s + ".upcase"
	case 2:
		return s + ".downcase"
	case 3:
		return s + ".chomp"
	case 4:
		return s + ".capitalize"
	case 5:
		return s + ".reverse"
	case 6:
		return "(" + s + " + " + g.str() + ")"
	case 7:
		return s + fmt.Sprintf("[%d]", g.r.Intn(7)-3) + ".to_s"
	case 8:
		return s + fmt.Sprintf("[%d, %d]", g.r.Intn(7)-3, g.r.Intn(4)) + ".to_s"
	case 9:
		return s + g.pick(`[/\w+/]`, `[/(\d)\.(\d)/, 2]`, `[/[aeiou]/]`, `[/^ *(\S+)/, 1]`) + ".to_s"
	case 10:
		return s + g.pick(`.sub("a", "X")`, `.gsub(/[aeiou]/, "*")`, `.gsub(/(l+)/, '<\1>')`, `.sub(/\s+/, "")`)
	case 11:
		return s + g.pick(`.tr("a-m", "n-z")`, `.tr("^a-z", "_")`, `.tr("lo", "01")`)
	case 12:
		return s + g.pick(`.split(",").join("-")`, `.split.first.to_s`, `.split(/[-_,]/).last.to_s`, `.split("").join(".")`)
	case 13:
		return s + fmt.Sprintf(`.ljust(%d, ".")`, g.r.Intn(12)) + g.pick("", ".rjust(14)")
	case 14:
		return "(" + g.cond() + " ? " + s + " : " + g.str() + ")"
	case 15:
		return "(" + g.pick(`ENV["NOPE"]`, `nil`, s) + " || " + g.str() + ")"
	case 16:
		return s + ".lines.last.to_s"
	case 17:
		return s + ".chars.first(2).join"
	case 18:
		return `"<#{` + s + `}|#{` + g.intx() + `}>"`
	case 19:
		return g.arr() + ".join(" + g.pick(`","`, `""`, `" "`) + ")"
	case 20:
		return g.arr() + ".inspect"
	case 21:
		return s + ".lstrip" + g.pick("", ".rstrip")
	case 22:
		return s + ".to_s" + g.pick(".chop", ".inspect")
	}
	return g.intx() + ".to_s"
}

func (g *erbGen) intx() string {
	g.depth++
	defer func() { g.depth-- }()
	if g.depth > 4 {
		return fmt.Sprint(g.r.Intn(10))
	}
	switch g.r.Intn(5) {
	case 0:
		return g.str() + ".length"
	case 1:
		return g.str() + ".to_i"
	case 2:
		return "(" + g.intx() + g.pick(" + ", " - ", " * ") + g.intx() + ")"
	case 3:
		return g.arr() + g.pick(".size", ".count", ".length")
	}
	return fmt.Sprint(g.r.Intn(21) - 10)
}

func (g *erbGen) cond() string {
	g.depth++
	defer func() { g.depth-- }()
	switch g.r.Intn(9) {
	case 0:
		return g.str() + " == " + g.str()
	case 1:
		return g.str() + " != " + g.str()
	case 2:
		return g.str() + ".empty?"
	case 3:
		return g.str() + g.pick(`.include?("l")`, `.start_with?("a", "v")`, `.end_with?("c")`)
	case 4:
		return "!" + g.pick(`ENV["NOPE"]`, `ENV["HOST"]`, "nil", "true")
	case 5:
		return "(" + g.cond() + g.pick(" && ", " || ") + g.cond() + ")"
	case 6:
		return "(" + g.str() + " =~ /l/)"
	case 7:
		return g.intx() + g.pick(" > ", " < ", " >= ") + g.intx()
	}
	return g.str() + g.pick(".match?(/\\d/)", ".nil?", ".present?", ".blank?")
}

func (g *erbGen) arr() string {
	g.depth++
	defer func() { g.depth-- }()
	if g.depth > 4 {
		return `%w[b a c]`
	}
	switch g.r.Intn(9) {
	case 0:
		return g.str() + `.split(",")`
	case 1:
		return "[" + g.str() + ", nil, " + g.str() + "].compact"
	case 2:
		return g.arr() + ".map(&:upcase)"
	case 3:
		return g.arr() + ".select { |x| x.length > 1 }"
	case 4:
		return g.arr() + g.pick(".reverse", ".sort", ".uniq", ".flatten")
	case 5:
		return g.str() + ".scan(/[a-z]+/)"
	case 6:
		return g.arr() + fmt.Sprintf(".first(%d)", g.r.Intn(3))
	case 7:
		return g.arr() + ".map { |x| x + \"!\" }"
	}
	return g.str() + ".split"
}

// TestERBRandomMatchesRuby renders a fixed set of random templates (the
// same every run: the seed is fixed) with the Go evaluator and with a
// real Ruby, and compares the results (or the exception's class).
func TestERBRandomMatchesRuby(t *testing.T) {
	ruby := needRuby(t)
	g := &erbGen{r: rand.New(rand.NewSource(9))}
	var srcs []string
	for i := 0; i < 1500; i++ {
		switch i % 3 {
		case 0:
			srcs = append(srcs, "<%= "+g.str()+" %>")
		case 1:
			srcs = append(srcs, "<%= "+g.cond()+" %>|<%= "+g.intx()+" %>")
		default:
			srcs = append(srcs, "<%= "+g.arr()+".inspect %>")
		}
	}
	in, _ := json.Marshal(srcs)
	const script = `
require "erb"; require "json"
class Object; def present? = !blank?; def blank? = respond_to?(:empty?) ? !!empty? : !self; end
class String; def blank? = /\A[[:space:]]*\z/.match?(self); end
puts JSON.generate(JSON.parse($stdin.read).map { |src| begin; ERB.new(src, trim_mode: "-").result; rescue Exception => e; "error " + e.class.name; end })
`
	cmd := exec.Command(ruby, "-e", script)
	cmd.Env = append(envList(erbEnv), "LANG=C.UTF-8")
	cmd.Stdin = bytes.NewReader(in)
	cmd.Stderr = os.Stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("ruby: %v", err)
	}
	var want []string
	if err := json.Unmarshal(out, &want); err != nil || len(want) != len(srcs) {
		t.Fatalf("ruby printed %q (%v)", out, err)
	}
	bad := 0
	for i, src := range srcs {
		got, err := Render(src, testContext(t.TempDir(), erbEnv))
		if err != nil {
			var e *Error
			if asError(err, &e) {
				got = "error " + e.Class
			} else {
				got = "error " + err.Error()
			}
		}
		if got != want[i] {
			bad++
			if bad <= 15 {
				t.Errorf("%s\n  Ruby: %q\n  Go:   %q", src, want[i], got)
			}
		}
	}
	if bad > 0 {
		t.Errorf("%d of %d templates differ", bad, len(srcs))
	}
	errs := 0
	for _, w := range want {
		if strings.HasPrefix(w, "error ") {
			errs++
		}
	}
	t.Logf("%d templates, %d of them raise in Ruby; e.g. %s => %q", len(srcs), errs, srcs[3], want[3])
}
