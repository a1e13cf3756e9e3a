package ruby

// This file has the String methods (stringMethods in methods.go).

import (
	"strings"
	"unicode/utf8"
)

func strStrip(ev *rubyEval, s string, n nCall, args []rv) (rv, error) {
	return rubyStrip(s), nil
}

func strLstrip(ev *rubyEval, s string, n nCall, args []rv) (rv, error) {
	return strings.TrimLeft(s, " \t\n\v\f\r\x00"), nil
}

func strRstrip(ev *rubyEval, s string, n nCall, args []rv) (rv, error) {
	return strings.TrimRight(s, " \t\n\v\f\r\x00"), nil
}

func strChomp(ev *rubyEval, s string, n nCall, args []rv) (rv, error) {
	if len(args) == 0 {
		return Chomp(s), nil
	}
	suf, ok := argString(args, 0)
	if !ok {
		return nil, typeErr(args[0], "String")
	}
	return strings.TrimSuffix(s, suf), nil
}

func strChop(ev *rubyEval, s string, n nCall, args []rv) (rv, error) {
	if strings.HasSuffix(s, "\r\n") {
		return s[:len(s)-2], nil
	}
	if s == "" {
		return s, nil
	}
	_, size := utf8.DecodeLastRuneInString(s)
	return s[:len(s)-size], nil
}

func strToS(ev *rubyEval, s string, n nCall, args []rv) (rv, error) {
	return s, nil
}

func strToI(ev *rubyEval, s string, n nCall, args []rv) (rv, error) {
	if len(args) != 0 {
		return nil, ev.unsupported(n.line, "String#to_i with a base")
	}
	return rubyToI(s), nil
}

func strUpcase(ev *rubyEval, s string, n nCall, args []rv) (rv, error) {
	return strings.ToUpper(s), nil
}

func strDowncase(ev *rubyEval, s string, n nCall, args []rv) (rv, error) {
	return strings.ToLower(s), nil
}

func strCapitalize(ev *rubyEval, s string, n nCall, args []rv) (rv, error) {
	if s == "" {
		return s, nil
	}
	r, size := utf8.DecodeRuneInString(s)
	return strings.ToUpper(string(r)) + strings.ToLower(s[size:]), nil
}

func strLength(ev *rubyEval, s string, n nCall, args []rv) (rv, error) {
	return int64(utf8.RuneCountInString(s)), nil
}

func strEmpty(ev *rubyEval, s string, n nCall, args []rv) (rv, error) {
	return s == "", nil
}

func strReverse(ev *rubyEval, s string, n nCall, args []rv) (rv, error) {
	rs := []rune(s)
	for i, j := 0, len(rs)-1; i < j; i, j = i+1, j-1 {
		rs[i], rs[j] = rs[j], rs[i]
	}
	return string(rs), nil
}

func strLines(ev *rubyEval, s string, n nCall, args []rv) (rv, error) {
	return linesOf(s), nil
}

func strChars(ev *rubyEval, s string, n nCall, args []rv) (rv, error) {
	out := []rv{}
	for _, r := range s {
		out = append(out, string(r))
	}
	return out, nil
}

func strInclude(ev *rubyEval, s string, n nCall, args []rv) (rv, error) {
	if len(args) == 0 {
		return nil, wantArgs(n, args, 1, 1)
	}
	for _, a := range args {
		if re, ok := a.(*rbRegexp); ok && n.name == "start_with?" {
			if loc := re.re.FindStringIndex(s); loc != nil && loc[0] == 0 {
				return true, nil
			}
			continue
		}
		t, ok := a.(string)
		if !ok {
			return nil, typeErr(a, "String")
		}
		if n.name == "include?" && strings.Contains(s, t) || n.name == "start_with?" && strings.HasPrefix(s, t) || n.name == "end_with?" && strings.HasSuffix(s, t) {
			return true, nil
		}
		if n.name == "include?" {
			break
		}
	}
	return false, nil
}

func strSplit(ev *rubyEval, s string, n nCall, args []rv) (rv, error) {
	return ev.split(s, n, args)
}

func strScan(ev *rubyEval, s string, n nCall, args []rv) (rv, error) {
	if err := wantArgs(n, args, 1, 1); err != nil {
		return nil, err
	}
	re, err := patternOf(args[0])
	if err != nil {
		return nil, err
	}
	out := []rv{}
	for _, m := range re.FindAllStringSubmatchIndex(s, -1) {
		if len(m) == 2 {
			out = append(out, s[m[0]:m[1]])
			continue
		}
		groups := []rv{}
		for g := 1; g < len(m)/2; g++ {
			if m[2*g] < 0 {
				groups = append(groups, nil)
			} else {
				groups = append(groups, s[m[2*g]:m[2*g+1]])
			}
		}
		out = append(out, groups)
	}
	return out, nil
}

func strSub(ev *rubyEval, s string, n nCall, args []rv) (rv, error) {
	if n.block != nil || len(args) != 2 {
		return nil, ev.unsupported(n.line, "String#"+n.name+" with a block or a hash")
	}
	repl, ok := args[1].(string)
	if !ok {
		return nil, typeErr(args[1], "String")
	}
	re, err := patternOf(args[0])
	if err != nil {
		return nil, err
	}
	return rubySub(s, re, repl, n.name == "gsub"), nil
}

func strTr(ev *rubyEval, s string, n nCall, args []rv) (rv, error) {
	if err := wantArgs(n, args, 2, 2); err != nil {
		return nil, err
	}
	from, ok1 := args[0].(string)
	to, ok2 := args[1].(string)
	if !ok1 || !ok2 {
		return nil, typeErr(args[0], "String")
	}
	return rubyTr(s, from, to), nil
}

func strMatch(ev *rubyEval, s string, n nCall, args []rv) (rv, error) {
	if err := wantArgs(n, args, 1, 1); err != nil {
		return nil, err
	}
	re, err := patternOf(args[0])
	if err != nil {
		return nil, err
	}
	m := re.FindStringSubmatchIndex(s)
	if n.name == "match?" {
		return m != nil, nil
	}
	if m == nil {
		return nil, nil
	}
	return newMatch(s, m, re), nil
}

func strIndex(ev *rubyEval, s string, n nCall, args []rv) (rv, error) {
	return ev.stringIndex(s, n, args)
}

func strLjust(ev *rubyEval, s string, n nCall, args []rv) (rv, error) {
	if err := wantArgs(n, args, 1, 2); err != nil {
		return nil, err
	}
	w, ok := args[0].(int64)
	pad := " "
	if len(args) == 2 {
		pad, _ = args[1].(string)
	}
	if !ok || pad == "" || w > 1<<16 {
		return nil, ev.unsupported(n.line, "String#"+n.name+" with these arguments")
	}
	var fill strings.Builder
	for need := int(w) - utf8.RuneCountInString(s); need > 0; {
		for _, r := range pad {
			if need == 0 {
				break
			}
			fill.WriteRune(r)
			need--
		}
	}
	if n.name == "ljust" {
		return s + fill.String(), nil
	}
	return fill.String() + s, nil
}
