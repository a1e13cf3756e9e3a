package ruby

// This file has the Array methods (arrayMethods in methods.go).

import (
	"strings"

	"github.com/kamal-go/kamal/runtime/kamalerr"
)

func aryFirst(ev *rubyEval, a []rv, n nCall, args []rv) (rv, error) {
	if err := wantArgs(n, args, 0, 1); err != nil {
		return nil, err
	}
	if len(args) == 0 {
		if len(a) == 0 {
			return nil, nil
		}
		if n.name == "first" {
			return a[0], nil
		}
		return a[len(a)-1], nil
	}
	k, ok := args[0].(int64)
	if !ok {
		return nil, typeErr(args[0], "Integer")
	}
	if k < 0 {
		return nil, &rbError{kamalerr.ClassArgument, "negative array size"}
	}
	if k > int64(len(a)) {
		k = int64(len(a))
	}
	if n.name == "first" {
		return append([]rv{}, a[:k]...), nil
	}
	return append([]rv{}, a[int64(len(a))-k:]...), nil
}

func aryJoin(ev *rubyEval, a []rv, n nCall, args []rv) (rv, error) {
	if err := wantArgs(n, args, 0, 1); err != nil {
		return nil, err
	}
	sep := ""
	if len(args) == 1 && args[0] != nil {
		s, ok := args[0].(string)
		if !ok {
			return nil, typeErr(args[0], "String")
		}
		sep = s
	}
	parts := []string{}
	for _, e := range flattenRv(a) {
		s, err := ev.toS(e)
		if err != nil {
			return nil, err
		}
		parts = append(parts, s)
	}
	return strings.Join(parts, sep), nil
}

func aryFlatten(ev *rubyEval, a []rv, n nCall, args []rv) (rv, error) {
	return flattenRv(a), nil
}

func aryCompact(ev *rubyEval, a []rv, n nCall, args []rv) (rv, error) {
	out := []rv{}
	for _, e := range a {
		if e != nil {
			out = append(out, e)
		}
	}
	return out, nil
}

func aryUniq(ev *rubyEval, a []rv, n nCall, args []rv) (rv, error) {
	out := []rv{}
	for _, e := range a {
		dup := false
		for _, o := range out {
			dup = dup || rbEqual(e, o)
		}
		if !dup {
			out = append(out, e)
		}
	}
	return out, nil
}

func aryReverse(ev *rubyEval, a []rv, n nCall, args []rv) (rv, error) {
	out := make([]rv, len(a))
	for i, e := range a {
		out[len(a)-1-i] = e
	}
	return out, nil
}

func aryLength(ev *rubyEval, a []rv, n nCall, args []rv) (rv, error) {
	return int64(len(a)), nil
}

func aryEmpty(ev *rubyEval, a []rv, n nCall, args []rv) (rv, error) {
	return len(a) == 0, nil
}

func aryInclude(ev *rubyEval, a []rv, n nCall, args []rv) (rv, error) {
	if err := wantArgs(n, args, 1, 1); err != nil {
		return nil, err
	}
	for _, e := range a {
		if rbEqual(e, args[0]) {
			return true, nil
		}
	}
	return false, nil
}

func aryToA(ev *rubyEval, a []rv, n nCall, args []rv) (rv, error) {
	return a, nil
}

func aryToS(ev *rubyEval, a []rv, n nCall, args []rv) (rv, error) {
	return inspect(a)
}

func arySort(ev *rubyEval, a []rv, n nCall, args []rv) (rv, error) {
	if n.block != nil || len(args) > 0 {
		return nil, errNoMethod
	}
	return ev.arrayOrder(a, n)
}

func aryIndex(ev *rubyEval, a []rv, n nCall, args []rv) (rv, error) {
	if err := wantArgs(n, args, 1, 2); err != nil {
		return nil, err
	}
	switch i := args[0].(type) {
	case int64:
		if len(args) == 2 {
			l, ok := args[1].(int64)
			if !ok {
				return nil, typeErr(args[1], "Integer")
			}
			return sliceArray(a, i, l), nil
		}
		if i < 0 {
			i += int64(len(a))
		}
		if i < 0 || i >= int64(len(a)) {
			return nil, nil
		}
		return a[i], nil
	case rbRange:
		start, l, ok := rangeSpan(i, int64(len(a)))
		if !ok {
			return nil, nil
		}
		return sliceArray(a, start, l), nil
	}
	return nil, typeErr(args[0], "Integer")
}

func aryMap(ev *rubyEval, a []rv, n nCall, args []rv) (rv, error) {
	if n.block == nil {
		if n.name == "any?" {
			for _, e := range a {
				if Truthy(e) {
					return true, nil
				}
			}
			return false, nil
		}
		if n.name == "count" && len(args) == 0 {
			return int64(len(a)), nil
		}
		return nil, errNoMethod
	}
	var out []rv
	count := int64(0)
	for i, e := range a {
		bargs := []rv{e}
		if n.name == "each_with_index" {
			bargs = []rv{e, int64(i)}
		}
		v, err := ev.yield(n.block, bargs)
		if err != nil {
			return nil, err
		}
		switch n.name {
		case "map", "collect":
			out = append(out, v)
		case "select", "filter":
			if Truthy(v) {
				out = append(out, e)
			}
		case "reject":
			if !Truthy(v) {
				out = append(out, e)
			}
		case "any?":
			if Truthy(v) {
				return true, nil
			}
		case "none?":
			if Truthy(v) {
				return false, nil
			}
		case "count":
			if Truthy(v) {
				count++
			}
		}
	}
	switch n.name {
	case "each", "each_with_index":
		return a, nil
	case "any?":
		return false, nil
	case "none?":
		return true, nil
	case "count":
		return count, nil
	}
	if out == nil {
		out = []rv{}
	}
	return out, nil
}
