package ruby

import "github.com/kamal-go/kamal/runtime/kamalerr"

// This file has the Hash methods (hashMethods in methods.go).

// hashKey is the string key of a Hash method's first argument.
func hashKey(ev *rubyEval, n nCall, args []rv) (string, error) {
	if len(args) == 0 {
		return "", wantArgs(n, args, 1, 1)
	}
	k, ok := args[0].(string)
	if !ok {
		return "", ev.unsupported(n.line, "a Hash key that is not a string")
	}
	return k, nil
}

func hashIndex(ev *rubyEval, h *rbHash, n nCall, args []rv) (rv, error) {
	if err := wantArgs(n, args, 1, 1); err != nil {
		return nil, err
	}
	k, err := hashKey(ev, n, args)
	if err != nil {
		return nil, err
	}
	return h.vals[k], nil
}

func hashFetch(ev *rubyEval, h *rbHash, n nCall, args []rv) (rv, error) {
	if err := wantArgs(n, args, 1, 2); err != nil {
		return nil, err
	}
	k, err := hashKey(ev, n, args)
	if err != nil {
		return nil, err
	}
	if v, ok := h.vals[k]; ok {
		return v, nil
	}
	if n.block != nil {
		return ev.yield(n.block, []rv{k})
	}
	if len(args) == 2 {
		return args[1], nil
	}
	return nil, &rbError{kamalerr.ClassKey, "key not found: " + InspectString(k)}
}

func hashDig(ev *rubyEval, h *rbHash, n nCall, args []rv) (rv, error) {
	var cur rv = h
	for _, a := range args {
		switch c := cur.(type) {
		case *rbHash:
			k, ok := a.(string)
			if !ok {
				return nil, ev.unsupported(n.line, "a Hash key that is not a string")
			}
			cur = c.vals[k]
		case []rv:
			i, ok := a.(int64)
			if !ok {
				return nil, typeErr(a, "Integer")
			}
			cur = sliceIndex(c, i)
		case nil:
			return nil, nil
		default:
			return nil, &rbError{kamalerr.ClassType, rbClass(cur) + " does not have #dig method"}
		}
	}
	return cur, nil
}

func hashHasKey(ev *rubyEval, h *rbHash, n nCall, args []rv) (rv, error) {
	if err := wantArgs(n, args, 1, 1); err != nil {
		return nil, err
	}
	k, err := hashKey(ev, n, args)
	if err != nil {
		return nil, err
	}
	_, ok := h.vals[k]
	return ok, nil
}

func hashKeys(ev *rubyEval, h *rbHash, n nCall, args []rv) (rv, error) {
	out := []rv{}
	for _, k := range h.keys {
		out = append(out, k)
	}
	return out, nil
}

func hashValues(ev *rubyEval, h *rbHash, n nCall, args []rv) (rv, error) {
	out := []rv{}
	for _, k := range h.keys {
		out = append(out, h.vals[k])
	}
	return out, nil
}

func hashSize(ev *rubyEval, h *rbHash, n nCall, args []rv) (rv, error) {
	if n.block == nil && len(args) == 0 {
		return int64(len(h.keys)), nil
	}
	return nil, errNoMethod
}

func hashEmpty(ev *rubyEval, h *rbHash, n nCall, args []rv) (rv, error) {
	return len(h.keys) == 0, nil
}

func hashEach(ev *rubyEval, h *rbHash, n nCall, args []rv) (rv, error) {
	if n.block == nil {
		return nil, errNoMethod
	}
	var out []rv
	for _, k := range h.keys {
		v, err := ev.yield(n.block, []rv{[]rv{k, h.vals[k]}})
		if err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	if n.name == "each" {
		return h, nil
	}
	if out == nil {
		out = []rv{}
	}
	return out, nil
}
