package ruby

import "time"

// This file holds the evaluator's method tables: for each kind of
// receiver, the Ruby methods it implements by name. The parser accepts a
// method call only for a name some table (or commonCall) has
// (rbMethods), so a table is the one list of what is implemented.

// A method is one Ruby method of receivers of type T, called with its
// arguments evaluated. It returns errNoMethod when it does not apply to
// these arguments (a block where none is taken, say); the call then goes
// to the table's fallback.
type method[T any] func(ev *rubyEval, recv T, n nCall, args []rv) (rv, error)

// callMethod runs the method of table n names, or otherwise when the
// table has none or the method does not apply.
func callMethod[T any](ev *rubyEval, table map[string]method[T], recv T, n nCall, args []rv, otherwise func(rv, nCall, []rv) (rv, error)) (rv, error) {
	if m, ok := table[n.name]; ok {
		v, err := m(ev, recv, n, args)
		if err != errNoMethod {
			return v, err
		}
	}
	return otherwise(recv, n, args)
}

// noArgs is m for a method that takes no arguments.
func noArgs[T any](m method[T]) method[T] {
	return func(ev *rubyEval, recv T, n nCall, args []rv) (rv, error) {
		if err := wantArgs(n, args, 0, 0); err != nil {
			return nil, err
		}
		return m(ev, recv, n, args)
	}
}

// The tables refer to methods that call back into the evaluator, so they
// are filled in init (a package-level initializer would be a cycle).
var (
	objectMethods map[string]method[rv] // every object's
	nilMethods    map[string]method[rv]
	stringMethods map[string]method[string]
	arrayMethods  map[string]method[[]rv]
	hashMethods   map[string]method[*rbHash]
	intMethods    map[string]method[int64]
	matchMethods  map[string]method[*rbMatch]
	uriMethods    map[string]method[*rbURI]
	timeMethods   map[string]method[*rbTime]
	moduleMethods map[string]map[string]method[string] // by module
)

func init() {
	objectMethods = map[string]method[rv]{
		"nil?": objNil, "to_s": objToS, "inspect": objInspect, "present?": objPresent, "blank?": objBlank,
		"presence": objPresence, "freeze": objItself, "dup": objItself, "itself": objItself,
	}
	nilMethods = map[string]method[rv]{"to_i": nilToI, "to_a": nilToA}
	initStringMethods()
	initArrayMethods()
	initIntMethods()
	initMatchMethods()
	initURIMethods()
	initHashMethods()
	initModuleMethods()
	initTimeMethods()
	rbMethods = map[string]bool{}
	addNames(rbMethods, objectMethods)
	addNames(rbMethods, nilMethods)
	addNames(rbMethods, stringMethods)
	addNames(rbMethods, arrayMethods)
	addNames(rbMethods, hashMethods)
	addNames(rbMethods, intMethods)
	addNames(rbMethods, matchMethods)
	addNames(rbMethods, uriMethods)
	addNames(rbMethods, timeMethods)
	for _, m := range moduleMethods {
		addNames(rbMethods, m)
	}
}

// objectMethod is the method of objectMethods n names, for the tables
// whose receivers answer only some of them (Hash, Time).
func objectMethod[T any](ev *rubyEval, recv T, n nCall, args []rv) (rv, error) {
	return ev.commonCall(recv, n, args)
}

// addNames adds the names table has to set.
func addNames[T any](set map[string]bool, table map[string]method[T]) {
	for name := range table {
		set[name] = true
	}
}

func initStringMethods() {
	stringMethods = map[string]method[string]{
		"strip":       noArgs(strStrip),
		"lstrip":      noArgs(strLstrip),
		"rstrip":      noArgs(strRstrip),
		"chomp":       strChomp,
		"chop":        noArgs(strChop),
		"to_s":        strToS,
		"to_str":      noArgs(strToS),
		"to_i":        strToI,
		"upcase":      noArgs(strUpcase),
		"downcase":    noArgs(strDowncase),
		"capitalize":  noArgs(strCapitalize),
		"length":      noArgs(strLength),
		"size":        noArgs(strLength),
		"empty?":      noArgs(strEmpty),
		"reverse":     noArgs(strReverse),
		"lines":       noArgs(strLines),
		"chars":       noArgs(strChars),
		"include?":    strInclude,
		"start_with?": strInclude,
		"end_with?":   strInclude,
		"split":       strSplit,
		"scan":        strScan,
		"sub":         strSub,
		"gsub":        strSub,
		"tr":          strTr,
		"match":       strMatch,
		"match?":      strMatch,
		"[]":          strIndex,
		"ljust":       strLjust,
		"rjust":       strLjust,
	}
}

func initArrayMethods() {
	arrayMethods = map[string]method[[]rv]{
		"first":           aryFirst,
		"last":            aryFirst,
		"join":            aryJoin,
		"flatten":         aryFlatten,
		"compact":         aryCompact,
		"uniq":            aryUniq,
		"reverse":         aryReverse,
		"length":          aryLength,
		"size":            aryLength,
		"empty?":          aryEmpty,
		"include?":        aryInclude,
		"to_a":            aryToA,
		"to_s":            aryToS,
		"sort":            arySort,
		"min":             arySort,
		"max":             arySort,
		"sum":             arySort,
		"[]":              aryIndex,
		"map":             aryMap,
		"collect":         aryMap,
		"each":            aryMap,
		"select":          aryMap,
		"filter":          aryMap,
		"reject":          aryMap,
		"each_with_index": aryMap,
		"any?":            aryMap,
		"none?":           aryMap,
		"count":           aryMap,
	}
}

func initIntMethods() {
	intMethods = map[string]method[int64]{
		"to_i":      intToI,
		"to_s":      intToS,
		"zero?":     intZero,
		"positive?": intPositive,
		"odd?":      intOdd,
		"even?":     intEven,
	}
}

func initMatchMethods() {
	matchMethods = map[string]method[*rbMatch]{
		"[]":   matchIndex,
		"to_s": matchToS,
	}
}

func initURIMethods() {
	uriMethods = map[string]method[*rbURI]{
		"host":     uriHost,
		"hostname": uriHostname,
		"port":     uriPort,
		"scheme":   uriScheme,
		"userinfo": uriUserinfo,
		"user":     uriUser,
		"password": uriPassword,
		"path":     uriPath,
		"query":    uriQuery,
		"to_s":     uriToS,
	}
}

func initHashMethods() {
	hashMethods = map[string]method[*rbHash]{
		"[]":       hashIndex,
		"fetch":    hashFetch,
		"dig":      hashDig,
		"key?":     hashHasKey,
		"has_key?": hashHasKey,
		"include?": hashHasKey,
		"keys":     hashKeys,
		"values":   hashValues,
		"size":     hashSize,
		"length":   hashSize,
		"count":    hashSize,
		"empty?":   hashEmpty,
		"each":     hashEach,
		"map":      hashEach,
		"collect":  hashEach,
		"present?": objectMethod[*rbHash],
		"blank?":   objectMethod[*rbHash],
		"presence": objectMethod[*rbHash],
		"nil?":     objectMethod[*rbHash],
		"freeze":   objectMethod[*rbHash],
		"dup":      objectMethod[*rbHash],
		"itself":   objectMethod[*rbHash],
	}
}

func initModuleMethods() {
	moduleMethods = map[string]map[string]method[string]{
		"ENV": {
			"[]":       envIndex,
			"key?":     envKey,
			"has_key?": envKey,
			"include?": envKey,
			"fetch":    envFetch,
		},
		"File": {
			"read":        fileRead,
			"readlines":   fileReadlines,
			"exist?":      fileExist,
			"file?":       fileExist,
			"directory?":  fileExist,
			"expand_path": fileExpandPath,
			"join":        fileJoin,
			"basename":    fileBasename,
			"dirname":     fileBasename,
			"extname":     fileBasename,
		},
		"Dir": {
			"pwd":   dirPwd,
			"getwd": dirPwd,
			"home":  dirHome,
		},
		"URI": {
			"parse": uriParse,
		},
		"Dotenv": {
			"load": dotenvLoad,
		},
		"JSON": {
			"parse": jsonParse,
		},
		"Time": {
			"now": timeModNow,
			"at":  timeModAt,
		},
	}
}

func initTimeMethods() {
	timeMethods = map[string]method[*rbTime]{
		"utc":       timeUtc,
		"getutc":    timeUtc,
		"localtime": timeLocaltime,
		"getlocal":  timeLocaltime,
		"to_i":      timeToI,
		"year":      timeField(time.Time.Year),
		"month":     timeField(timeMonth),
		"mon":       timeField(timeMonth),
		"day":       timeField(time.Time.Day),
		"mday":      timeField(time.Time.Day),
		"hour":      timeField(time.Time.Hour),
		"min":       timeField(time.Time.Minute),
		"sec":       timeField(time.Time.Second),
		"to_s":      timeString,
		"iso8601":   timeIso8601,
		"xmlschema": timeIso8601,
		"strftime":  timeStrftime,
		"inspect":   objectMethod[*rbTime],
		"nil?":      objectMethod[*rbTime],
		"present?":  objectMethod[*rbTime],
		"blank?":    objectMethod[*rbTime],
		"presence":  objectMethod[*rbTime],
		"freeze":    objectMethod[*rbTime],
		"dup":       objectMethod[*rbTime],
		"itself":    objectMethod[*rbTime],
	}
}

// notImplemented is the fallback of a table whose receivers answer no
// other method here: the call is unsupported (the caller names it).
func notImplemented(rv, nCall, []rv) (rv, error) { return nil, errNoMethod }
