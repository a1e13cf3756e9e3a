package ruby

// This file has the Integer, MatchData and URI methods (intMethods,
// matchMethods and uriMethods in methods.go).

import (
	"strconv"
	"strings"

	"github.com/kamal-go/kamal/runtime/kamalerr"
)

func matchIndex(ev *rubyEval, m *rbMatch, n nCall, args []rv) (rv, error) {
	if err := wantArgs(n, args, 1, 1); err != nil {
		return nil, err
	}
	switch a := args[0].(type) {
	case int64:
		if a < 0 {
			a += int64(len(m.groups))
		}
		if a < 0 || a >= int64(len(m.groups)) || !m.set[a] {
			return nil, nil
		}
		return m.groups[a], nil
	case string:
		for i, name := range m.names {
			if name == a && name != "" {
				if !m.set[i] {
					return nil, nil
				}
				return m.groups[i], nil
			}
		}
		return nil, &rbError{kamalerr.ClassIndex, "undefined group name reference: " + a}
	}
	return nil, typeErr(args[0], "Integer")
}

func matchToS(ev *rubyEval, m *rbMatch, n nCall, args []rv) (rv, error) {
	return m.groups[0], nil
}

func intToI(ev *rubyEval, i int64, n nCall, args []rv) (rv, error) {
	return i, nil
}

func intToS(ev *rubyEval, i int64, n nCall, args []rv) (rv, error) {
	if len(args) == 0 {
		return strconv.FormatInt(i, 10), nil
	}
	return nil, errNoMethod
}

func intZero(ev *rubyEval, i int64, n nCall, args []rv) (rv, error) {
	return i == 0, nil
}

func intPositive(ev *rubyEval, i int64, n nCall, args []rv) (rv, error) {
	return i > 0, nil
}

func intOdd(ev *rubyEval, i int64, n nCall, args []rv) (rv, error) {
	return i%2 != 0, nil
}

func intEven(ev *rubyEval, i int64, n nCall, args []rv) (rv, error) {
	return i%2 == 0, nil
}

func uriHost(ev *rubyEval, u *rbURI, n nCall, args []rv) (rv, error) {
	return uriPart(u.host), nil
}

func uriHostname(ev *rubyEval, u *rbURI, n nCall, args []rv) (rv, error) {
	return uriPart(strings.TrimSuffix(strings.TrimPrefix(u.host, "["), "]")), nil
}

func uriPort(ev *rubyEval, u *rbURI, n nCall, args []rv) (rv, error) {
	if !u.hasPort {
		return nil, nil
	}
	return u.port, nil
}

func uriScheme(ev *rubyEval, u *rbURI, n nCall, args []rv) (rv, error) {
	return uriPart(u.scheme), nil
}

func uriUserinfo(ev *rubyEval, u *rbURI, n nCall, args []rv) (rv, error) {
	return uriPart(u.userinfo), nil
}

func uriUser(ev *rubyEval, u *rbURI, n nCall, args []rv) (rv, error) {
	if u.userinfo == "" {
		return nil, nil
	}
	user, _, _ := strings.Cut(u.userinfo, ":")
	return user, nil
}

func uriPassword(ev *rubyEval, u *rbURI, n nCall, args []rv) (rv, error) {
	_, pw, ok := strings.Cut(u.userinfo, ":")
	if !ok {
		return nil, nil
	}
	return pw, nil
}

func uriPath(ev *rubyEval, u *rbURI, n nCall, args []rv) (rv, error) {
	return u.path, nil
}

func uriQuery(ev *rubyEval, u *rbURI, n nCall, args []rv) (rv, error) {
	return uriPart(u.query), nil
}

func uriToS(ev *rubyEval, u *rbURI, n nCall, args []rv) (rv, error) {
	return u.raw, nil
}
