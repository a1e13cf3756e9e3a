package ruby

// This file has the functions of the modules ENV, File, Dir, URI, Dotenv
// and JSON (moduleMethods in methods.go; Time's are in time.go).

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/kamal-go/kamal/runtime/kamalerr"
)

func envIndex(ev *rubyEval, mod string, n nCall, args []rv) (rv, error) {
	k, err := stringArg(n, args)
	if err != nil {
		return nil, err
	}
	v, found := ev.cx.lookup(k)
	if !found {
		return nil, nil
	}
	return v, nil
}

func envKey(ev *rubyEval, mod string, n nCall, args []rv) (rv, error) {
	k, err := stringArg(n, args)
	if err != nil {
		return nil, err
	}
	_, found := ev.cx.lookup(k)
	return found, nil
}

func envFetch(ev *rubyEval, mod string, n nCall, args []rv) (rv, error) {
	if len(args) == 0 || len(args) > 2 {
		return nil, &rbError{kamalerr.ClassArgument, fmt.Sprintf("wrong number of arguments (given %d, expected 1..2)", len(args))}
	}
	k, ok := argString(args, 0)
	if !ok {
		return nil, typeErr(args[0], "String")
	}
	if v, found := ev.cx.lookup(k); found {
		return v, nil
	}
	if n.block != nil {
		return ev.yield(n.block, []rv{k})
	}
	if len(args) == 2 {
		return args[1], nil
	}
	kerr := &rbError{kamalerr.ClassKey, fmt.Sprintf("key not found: %s", InspectString(k))}
	if ev.cx.Lenient {
		if ev.cx.FetchErr == nil {
			ev.cx.FetchErr = newError(kamalerr.ClassKey, "%s", kerr.msg)
		}
		return "", nil
	}
	return nil, kerr
}

func fileRead(ev *rubyEval, mod string, n nCall, args []rv) (rv, error) {
	p, ok := argString(args, 0)
	if !ok || len(args) != 1 {
		return nil, ev.unsupported(n.line, "File.read with these arguments")
	}
	data, err := ev.cx.read(p)
	if err != nil {
		return nil, fileError(err, "rb_sysopen", p)
	}
	return string(data), nil
}

func fileReadlines(ev *rubyEval, mod string, n nCall, args []rv) (rv, error) {
	p, ok := argString(args, 0)
	if !ok || len(args) != 1 {
		return nil, ev.unsupported(n.line, "File.readlines with these arguments")
	}
	data, err := ev.cx.read(p)
	if err != nil {
		return nil, fileError(err, "rb_sysopen", p)
	}
	return linesOf(string(data)), nil
}

func fileExist(ev *rubyEval, mod string, n nCall, args []rv) (rv, error) {
	p, err := stringArg(n, args)
	if err != nil {
		return nil, err
	}
	fi, err := os.Stat(ev.cx.path(p))
	switch n.name {
	case "exist?":
		return err == nil, nil
	case "file?":
		return err == nil && fi.Mode().IsRegular(), nil
	}
	return err == nil && fi.IsDir(), nil
}

func fileExpandPath(ev *rubyEval, mod string, n nCall, args []rv) (rv, error) {
	p, ok := argString(args, 0)
	if !ok || len(args) > 2 || len(args) == 0 {
		return nil, ev.unsupported(n.line, "File.expand_path with these arguments")
	}
	base := ev.cx.Dir
	if len(args) == 2 && args[1] != nil {
		b, ok := args[1].(string)
		if !ok {
			return nil, typeErr(args[1], "String")
		}
		base = expandPath(b, ev.cx.Dir, ev.cx)
	}
	return expandPath(p, base, ev.cx), nil
}

func fileJoin(ev *rubyEval, mod string, n nCall, args []rv) (rv, error) {
	parts := make([]string, 0, len(args))
	for _, a := range flattenRv(args) {
		s, ok := a.(string)
		if !ok {
			return nil, typeErr(a, "String")
		}
		parts = append(parts, s)
	}
	return rubyFileJoin(parts), nil
}

func fileBasename(ev *rubyEval, mod string, n nCall, args []rv) (rv, error) {
	p, ok := argString(args, 0)
	if !ok || len(args) != 1 {
		return nil, ev.unsupported(n.line, "File."+n.name+" with these arguments")
	}
	switch n.name {
	case "basename":
		return filepath.Base(p), nil
	case "dirname":
		return filepath.Dir(p), nil
	}
	ext := filepath.Ext(filepath.Base(p))
	if ext == filepath.Base(p) || ext == "." {
		ext = ""
	}
	return ext, nil
}

func dirPwd(ev *rubyEval, mod string, n nCall, args []rv) (rv, error) {
	return ev.cx.Dir, nil
}

func dirHome(ev *rubyEval, mod string, n nCall, args []rv) (rv, error) {
	h, _ := ev.cx.lookup("HOME")
	return h, nil
}

func uriParse(ev *rubyEval, mod string, n nCall, args []rv) (rv, error) {
	s, ok := argString(args, 0)
	if !ok || len(args) != 1 {
		return nil, ev.unsupported(n.line, "URI.parse with these arguments")
	}
	return parseURI(s)
}

func dotenvLoad(ev *rubyEval, mod string, n nCall, args []rv) (rv, error) {
	files := []string{".env"}
	if len(args) > 0 {
		files = files[:0]
		for _, a := range args {
			s, ok := a.(string)
			if !ok {
				return nil, ev.unsupported(n.line, "Dotenv.load with these arguments")
			}
			files = append(files, s)
		}
	}
	return ev.cx.dotenvLoad(files)
}

func jsonParse(ev *rubyEval, mod string, n nCall, args []rv) (rv, error) {
	src, ok := argString(args, 0)
	if !ok || len(args) != 1 {
		return nil, ev.unsupported(n.line, "JSON.parse with these arguments")
	}
	return parseJSON(src, n.line)
}

// stringArg is the one String argument of a method that takes one.
func stringArg(n nCall, args []rv) (string, error) {
	if err := wantArgs(n, args, 1, 1); err != nil {
		return "", err
	}
	s, ok := argString(args, 0)
	if !ok {
		return "", typeErr(args[0], "String")
	}
	return s, nil
}
