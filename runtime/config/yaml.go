package config

import (
	"encoding/base64"
	"errors"
	"fmt"
	"math"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/kamal-go/kamal/runtime/kamalerr"
	"github.com/kamal-go/kamal/runtime/ruby"
)

// This file turns YAML text into the values Ruby's Psych would produce, so
// that validation sees the same types Kamal sees:
//
//   - mappings are *mapping (ordered; keys are strings, as Kamal's nested
//     keys are; root keys become symbols in Ruby, which makes no difference
//     here);
//   - sequences are []any;
//   - scalars are string, int, float64, bool or nil, resolved with Psych's
//     YAML 1.1 rules for plain scalars (yes/no/on/off are booleans, 0x1F and
//     010 are integers, :name is a symbol and loads as the string "name").
//
// Dates and times stay strings (Psych would build Date objects, which no
// build key accepts anyway), as do sexagesimal numbers.

// mapping is an insertion-ordered string-keyed hash (Ruby's Hash).
type mapping struct {
	keys []string
	vals map[string]any
}

func newMapping() *mapping { return &mapping{vals: map[string]any{}} }

func (m *mapping) get(k string) (any, bool) {
	if m == nil {
		return nil, false
	}
	v, ok := m.vals[k]
	return v, ok
}

// set assigns k, keeping k's position when it already exists (Ruby Hash#[]=).
func (m *mapping) set(k string, v any) {
	if _, ok := m.vals[k]; !ok {
		m.keys = append(m.keys, k)
	}
	m.vals[k] = v
}

func (m *mapping) len() int {
	if m == nil {
		return 0
	}
	return len(m.keys)
}

// maxYAMLNodes bounds the nodes reached through aliases ("billion
// laughs"): Psych shares an aliased object, this decoder copies it. The
// document's own nodes are not counted (its size is bounded by
// inputfile.MaxSize), so a large config without aliases always loads.
var maxYAMLNodes = 100_000

// maxYAMLDepth bounds nesting, including through aliases.
const maxYAMLDepth = 200

var errYAMLTooLarge = errors.New("document too large after alias expansion")

// parseYAML parses the first YAML document of src. An empty document is an
// empty mapping; a document whose root is not a mapping is an error.
func parseYAML(name string, src []byte) (*mapping, error) {
	var doc yaml.Node
	if err := yaml.Unmarshal(src, &doc); err != nil {
		return nil, psychLoadError(src, err)
	}
	if doc.Kind == 0 {
		return newMapping(), nil
	}
	d := &yamlDecoder{}
	v, err := d.value(&doc, 0)
	if err != nil {
		return nil, newError(kamalerr.ClassYAMLSyntax, "(%s): %v", name, err)
	}
	switch v := v.(type) {
	case *mapping:
		return v, nil
	case nil:
		return newMapping(), nil
	default:
		return nil, configErrorf("%s: the configuration must be a hash, not %s", name, rubyTypeName(v))
	}
}

// yamlDecoder turns a node tree into values. expanded counts the nodes
// copied for aliases, aliasDepth how many aliases the current node is
// under.
type yamlDecoder struct{ expanded, aliasDepth int }

func (d *yamlDecoder) value(n *yaml.Node, depth int) (any, error) {
	if d.aliasDepth > 0 {
		d.expanded++
	}
	if d.expanded > maxYAMLNodes || depth > maxYAMLDepth {
		return nil, errYAMLTooLarge
	}
	switch n.Kind {
	case yaml.DocumentNode:
		if len(n.Content) == 0 {
			return nil, nil
		}
		return d.value(n.Content[0], depth+1)
	case yaml.AliasNode:
		if n.Alias == nil {
			return nil, fmt.Errorf("unknown alias")
		}
		d.aliasDepth++
		defer func() { d.aliasDepth-- }()
		return d.value(n.Alias, depth+1)
	case yaml.SequenceNode:
		out := make([]any, 0, len(n.Content))
		for _, c := range n.Content {
			v, err := d.value(c, depth+1)
			if err != nil {
				return nil, err
			}
			out = append(out, v)
		}
		return out, nil
	case yaml.MappingNode:
		return d.mapping(n, depth)
	case yaml.ScalarNode:
		return scalarValue(n), nil
	}
	return nil, fmt.Errorf("unexpected YAML node kind %d", n.Kind)
}

// mapping follows Psych's revive_hash: a merge key ("<<") merges the
// aliased hash (or, for a sequence, the hashes with the first one winning)
// into the hash built so far, so keys after it win and keys before it lose.
func (d *yamlDecoder) mapping(n *yaml.Node, depth int) (any, error) {
	m := newMapping()
	for i := 0; i+1 < len(n.Content); i += 2 {
		kn, vn := n.Content[i], n.Content[i+1]
		val, err := d.value(vn, depth+1)
		if err != nil {
			return nil, err
		}
		if isMergeKey(kn) {
			switch v := val.(type) {
			case *mapping:
				for _, k := range v.keys {
					m.set(k, v.vals[k])
				}
				continue
			case []any:
				merged, ok := mergeSequence(v)
				if ok {
					for _, k := range merged.keys {
						m.set(k, merged.vals[k])
					}
					continue
				}
			}
		}
		key, err := d.value(kn, depth+1)
		if err != nil {
			return nil, err
		}
		m.set(rubyString(key), val)
	}
	return m, nil
}

func mergeSequence(seq []any) (*mapping, bool) {
	h := newMapping()
	for i := len(seq) - 1; i >= 0; i-- {
		sub, ok := seq[i].(*mapping)
		if !ok {
			return nil, false
		}
		for _, k := range sub.keys {
			h.set(k, sub.vals[k])
		}
	}
	return h, true
}

func isMergeKey(n *yaml.Node) bool {
	return n.Kind == yaml.ScalarNode && n.Value == "<<" && n.Style == 0
}

func scalarValue(n *yaml.Node) any {
	if n.Style&yaml.TaggedStyle != 0 {
		switch n.Tag {
		case "!!str":
			return n.Value
		case "!!binary":
			return decodeBinary(n.Value)
		case "!!null":
			return nil
		case "!!bool", "!!int", "!!float":
			return psychScalar(n.Value)
		}
		return n.Value
	}
	if n.Style&(yaml.SingleQuotedStyle|yaml.DoubleQuotedStyle|yaml.LiteralStyle|yaml.FoldedStyle) != 0 {
		return n.Value
	}
	return psychScalar(n.Value)
}

// decodeBinary is Psych's !!binary: the text decoded as base64 the way
// Ruby's unpack("m") does, skipping characters outside the alphabet.
func decodeBinary(s string) string {
	var b strings.Builder
	for _, r := range s {
		if r >= 'A' && r <= 'Z' || r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '+' || r == '/' {
			b.WriteRune(r)
		}
	}
	clean := b.String()
	if len(clean)%4 == 1 { // a lone last character carries no byte
		clean = clean[:len(clean)-1]
	}
	out, err := base64.RawStdEncoding.DecodeString(clean)
	if err != nil {
		return ""
	}
	return string(out)
}

// rubyDate is a Ruby Date, as Psych loads a plain 2012-01-01: its to_s
// is the ISO date. Kamal's validator takes it for no string.
type rubyDate string

// psychDate resolves s as Psych does a scalar matching its date pattern:
// a Date when it is a real day, else the string.
func psychDate(s string) any {
	t, err := time.Parse("2006-1-2", s)
	if err != nil {
		return s
	}
	return rubyDate(t.Format("2006-01-02"))
}

// julianDay is the Julian day number of d, for Date#inspect.
func (d rubyDate) julianDay() int {
	t, _ := time.Parse("2006-01-02", string(d))
	return int(t.Unix()/86400) + 2440588
}

// psychSexagesimal is Psych's base-60 integer or float ("12:30" is
// 12*60^2 + 30*60 = 45000, Psych's own reading, which Kamal gets): each
// part n at index e counts n * 60^|e-2|, the sign only on the first part.
func psychSexagesimal(s string, float bool) any {
	var f float64
	parts := strings.Split(strings.ReplaceAll(s, "_", ""), ":")
	for e, p := range parts {
		n, err := strconv.ParseFloat(p, 64)
		if err != nil {
			return s
		}
		f += n * math.Pow(60, math.Abs(float64(e-2)))
	}
	if float {
		return f
	}
	return int(f)
}

var (
	psychDateRE          = regexp.MustCompile(`^\d{4}-(?:1[012]|0\d|\d)-(?:[12]\d|3[01]|0\d|\d)$`)
	psychSexagesimalInt  = regexp.MustCompile(`^[-+]?[0-9][0-9_]*(:[0-5]?[0-9]){1,2}$`)
	psychSexagesimalReal = regexp.MustCompile(`^[-+]?[0-9][0-9_]*(:[0-5]?[0-9]){1,2}\.[0-9_]*$`)
	psychInteger         = regexp.MustCompile(`^(?:[-+]?0b[0-1_,]+|[-+]?0[0-7_,]+|[-+]?(?:0|[1-9](?:[0-9]|,[0-9]|_[0-9])*)|[-+]?0x[0-9a-fA-F_,]+)$`)
	psychFloat           = regexp.MustCompile(`^[-+]?([0-9][0-9_,]*)?\.[0-9]*([eE][-+][0-9]+)?$`)
	psychWordy           = regexp.MustCompile(`^[^\d.:-]?[[:alpha:]_\s!@#$%\^&*(){}<>|/\\~;=]+`)
)

// psychScalar resolves a plain scalar the way Psych's ScalarScanner does,
// for the types Kamal's validator distinguishes.
func psychScalar(s string) any {
	if s == "" {
		return nil
	}
	lower := strings.ToLower(s)
	if psychWordy.MatchString(s) || strings.Contains(s, "\n") {
		if len(s) > 5 {
			return s
		}
		switch lower {
		case "~", "null":
			return nil
		case "yes", "true", "on":
			return true
		case "no", "false", "off":
			return false
		}
		return s
	}
	switch {
	case s == "~" || lower == "null":
		return nil
	case psychDateRE.MatchString(s):
		return psychDate(s)
	case lower == ".inf" || lower == "+.inf":
		return math.Inf(1)
	case lower == "-.inf":
		return math.Inf(-1)
	case lower == ".nan":
		return math.NaN()
	case len(s) > 1 && s[0] == ':':
		sym := s[1:]
		if len(sym) >= 2 && (sym[0] == '"' || sym[0] == '\'') && strings.IndexByte(sym[1:], sym[0]) >= 0 {
			sym = sym[1 : 1+strings.IndexByte(sym[1:], sym[0])]
		}
		return sym
	case psychSexagesimalInt.MatchString(s):
		return psychSexagesimal(s, false)
	case psychSexagesimalReal.MatchString(s):
		return psychSexagesimal(s, true)
	case psychFloat.MatchString(s):
		if s == "." || s == "+." || s == "-." {
			return s
		}
		clean := strings.NewReplacer(",", "", "_", "").Replace(s)
		if strings.HasSuffix(clean, ".") {
			clean = strings.TrimSuffix(clean, ".")
		}
		clean = strings.Replace(clean, ".e", "e", 1)
		clean = strings.Replace(clean, ".E", "E", 1)
		if f, err := strconv.ParseFloat(clean, 64); err == nil {
			return f
		}
		return s
	case psychInteger.MatchString(s):
		if i, ok := parsePsychInt(s); ok {
			return i
		}
		return s
	}
	return s
}

func parsePsychInt(s string) (int, bool) {
	clean := strings.NewReplacer(",", "", "_", "").Replace(s)
	sign := ""
	if clean != "" && (clean[0] == '-' || clean[0] == '+') {
		sign, clean = clean[:1], clean[1:]
	}
	base := 10
	switch {
	case strings.HasPrefix(clean, "0b"):
		base, clean = 2, clean[2:]
	case strings.HasPrefix(clean, "0x"):
		base, clean = 16, clean[2:]
	case len(clean) > 1 && clean[0] == '0':
		base, clean = 8, clean[1:]
	}
	if clean == "" {
		return 0, true
	}
	i, err := strconv.ParseInt(sign+clean, base, 64)
	if err != nil || i > math.MaxInt || i < math.MinInt {
		return 0, false
	}
	return int(i), true
}

// rubyString renders a scalar as Ruby's to_s would. Hashes and arrays are
// rendered as Ruby's inspect, which is what to_s gives for them.
func rubyString(v any) string {
	switch v := v.(type) {
	case nil:
		return ""
	case string:
		return v
	case bool:
		return strconv.FormatBool(v)
	case int:
		return strconv.Itoa(v)
	case float64:
		return rubyFloat(v)
	case rubyDate:
		return string(v)
	default:
		return rubyInspect(v)
	}
}

func rubyInspect(v any) string {
	switch v := v.(type) {
	case nil:
		return "nil"
	case string:
		return ruby.InspectString(v)
	case []any:
		parts := make([]string, len(v))
		for i, e := range v {
			parts[i] = rubyInspect(e)
		}
		return "[" + strings.Join(parts, ", ") + "]"
	case *mapping:
		parts := make([]string, 0, v.len())
		for _, k := range v.keys {
			parts = append(parts, ruby.InspectString(k)+" => "+rubyInspect(v.vals[k]))
		}
		return "{" + strings.Join(parts, ", ") + "}"
	case rubyDate:
		return fmt.Sprintf("#<Date: %s ((%dj,0s,0n),+0s,2299161j)>", string(v), v.julianDay())
	default:
		return rubyString(v)
	}
}

// rubyFloat is Ruby's Float#to_s: "1.0", "3.1", "1.0e+20", "1.0e-05".
func rubyFloat(f float64) string {
	switch {
	case math.IsInf(f, 1):
		return "Infinity"
	case math.IsInf(f, -1):
		return "-Infinity"
	case math.IsNaN(f):
		return "NaN"
	}
	abs := math.Abs(f)
	if abs == 0 || (abs >= 1e-4 && abs < 1e16) {
		s := strconv.FormatFloat(f, 'f', -1, 64)
		if !strings.Contains(s, ".") {
			s += ".0"
		}
		return s
	}
	s := strconv.FormatFloat(f, 'e', -1, 64) // 1e+20, 1.5e-05
	mant, exp, _ := strings.Cut(s, "e")
	if !strings.Contains(mant, ".") {
		mant += ".0"
	}
	sign := exp[:1]
	digits := strings.TrimLeft(exp[1:], "0")
	if len(digits) < 2 {
		digits = strings.Repeat("0", 2-len(digits)) + digits
	}
	return mant + "e" + sign + digits
}

// rubyTypeName names a value's Ruby class, for messages.
func rubyTypeName(v any) string {
	switch v.(type) {
	case nil:
		return "nil"
	case string:
		return "String"
	case bool:
		return "Boolean"
	case int:
		return "Integer"
	case float64:
		return "Float"
	case []any:
		return "Array"
	case *mapping:
		return "Hash"
	case rubyDate:
		return "Date"
	}
	return fmt.Sprintf("%T", v)
}

// deepMerge returns base with over merged in (ActiveSupport's deep_merge):
// hashes merge recursively, any other value in over replaces base's.
// Neither argument is modified.
func deepMerge(base, over *mapping) *mapping {
	out := newMapping()
	for _, k := range base.keys {
		out.set(k, base.vals[k])
	}
	for _, k := range over.keys {
		ov := over.vals[k]
		if bm, ok := out.vals[k].(*mapping); ok {
			if om, ok := ov.(*mapping); ok {
				out.set(k, deepMerge(bm, om))
				continue
			}
		}
		out.set(k, ov)
	}
	return out
}

// plain converts a decoded value to plain Go maps and slices (for Raw).
func plain(v any) any {
	switch v := v.(type) {
	case *mapping:
		out := make(map[string]any, v.len())
		for _, k := range v.keys {
			out[k] = plain(v.vals[k])
		}
		return out
	case []any:
		out := make([]any, len(v))
		for i, e := range v {
			out[i] = plain(e)
		}
		return out
	}
	return v
}

// sortedKeys returns m's keys sorted bytewise, as Ruby's Array#sort does.
func sortedKeys(m *mapping) []string {
	keys := append([]string(nil), m.keys...)
	sort.Strings(keys)
	return keys
}
