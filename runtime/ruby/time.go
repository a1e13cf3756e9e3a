package ruby

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// rbTime is a Ruby Time: Time.now, Time.now.utc, Time.at(seconds).
type rbTime struct{ t time.Time }

func timeModNow(ev *rubyEval, _ string, n nCall, args []rv) (rv, error) {
	if err := wantArgs(n, args, 0, 0); err != nil {
		return nil, err
	}
	return &rbTime{time.Now()}, nil
}

func timeModAt(ev *rubyEval, _ string, n nCall, args []rv) (rv, error) {
	if err := wantArgs(n, args, 1, 1); err != nil {
		return nil, err
	}
	s, ok := args[0].(int64)
	if !ok {
		return nil, typeErr(args[0], "Integer")
	}
	return &rbTime{time.Unix(s, 0)}, nil
}

// The Time methods (timeMethods) follow.

func timeUtc(ev *rubyEval, t *rbTime, n nCall, args []rv) (rv, error) {
	return &rbTime{t.t.UTC()}, nil
}

func timeLocaltime(ev *rubyEval, t *rbTime, n nCall, args []rv) (rv, error) {
	if len(args) == 0 {
		return &rbTime{t.t.Local()}, nil
	}
	return nil, errNoMethod
}

// timeField is the Time method answering one integer field of the time.
func timeField(field func(time.Time) int) method[*rbTime] {
	return func(_ *rubyEval, t *rbTime, _ nCall, _ []rv) (rv, error) { return int64(field(t.t)), nil }
}

func timeMonth(t time.Time) int { return int(t.Month()) }

func timeToI(ev *rubyEval, t *rbTime, n nCall, args []rv) (rv, error) {
	return t.t.Unix(), nil
}

func timeString(ev *rubyEval, t *rbTime, n nCall, args []rv) (rv, error) {
	return timeToS(t.t), nil
}

func timeIso8601(ev *rubyEval, t *rbTime, n nCall, args []rv) (rv, error) {
	if len(args) > 0 {
		return nil, errNoMethod
	}
	if isUTC(t.t) {
		return t.t.Format("2006-01-02T15:04:05Z"), nil
	}
	return t.t.Format("2006-01-02T15:04:05-07:00"), nil
}

func timeStrftime(ev *rubyEval, t *rbTime, n nCall, args []rv) (rv, error) {
	if err := wantArgs(n, args, 1, 1); err != nil {
		return nil, err
	}
	f, ok := args[0].(string)
	if !ok {
		return nil, typeErr(args[0], "String")
	}
	s, ok := strftime(t.t, f)
	if !ok {
		return nil, ev.unsupported(n.line, "Time#strftime("+InspectString(f)+")")
	}
	return s, nil
}

func isUTC(t time.Time) bool { return t.Location() == time.UTC }

// timeToS is Time#to_s: "2023-11-14 22:13:20 UTC" or "... +0100".
func timeToS(t time.Time) string {
	if isUTC(t) {
		return t.Format("2006-01-02 15:04:05 UTC")
	}
	return t.Format("2006-01-02 15:04:05 -0700")
}

// strftime is Ruby's Time#strftime for the common conversions, with the
// "-" (no padding) flag; ok is false for anything else.
func strftime(t time.Time, f string) (string, bool) {
	var b strings.Builder
	for i := 0; i < len(f); i++ {
		if f[i] != '%' || i+1 >= len(f) {
			b.WriteByte(f[i])
			continue
		}
		i++
		noPad := false
		if f[i] == '-' && i+1 < len(f) {
			noPad = true
			i++
		}
		if !strftimeDirective(&b, t, f[i], noPad) {
			return "", false
		}
	}
	return b.String(), true
}

// strftimeLayouts are the directives Go's time layout writes alike.
var strftimeLayouts = map[byte]string{
	'p': "PM", 'b': "Jan", 'h': "Jan", 'B': "January", 'a': "Mon", 'A': "Monday",
	'z': "-0700", 'F': "2006-01-02", 'T': "15:04:05", 'D': "01/02/06", 'R': "15:04",
}

// strftimeNumbers are the zero-padded numeric directives ("-" drops the
// padding), with their width.
var strftimeNumbers = map[byte]struct {
	width int
	of    func(time.Time) int
}{
	'y': {2, func(t time.Time) int { return t.Year() % 100 }},
	'm': {2, timeMonth},
	'd': {2, time.Time.Day},
	'j': {3, time.Time.YearDay},
	'H': {2, time.Time.Hour},
	'I': {2, func(t time.Time) int { return (t.Hour()+11)%12 + 1 }},
	'M': {2, time.Time.Minute},
	'S': {2, time.Time.Second},
}

// strftimeDirective writes directive c of t; false for one Ruby has that
// this does not.
func strftimeDirective(b *strings.Builder, t time.Time, c byte, noPad bool) bool {
	if layout, ok := strftimeLayouts[c]; ok {
		b.WriteString(t.Format(layout))
		return true
	}
	if n, ok := strftimeNumbers[c]; ok {
		if noPad {
			b.WriteString(strconv.Itoa(n.of(t)))
		} else {
			fmt.Fprintf(b, "%0*d", n.width, n.of(t))
		}
		return true
	}
	switch c {
	case 'Y':
		b.WriteString(strconv.Itoa(t.Year()))
	case 'e':
		if noPad {
			b.WriteString(strconv.Itoa(t.Day()))
		} else {
			fmt.Fprintf(b, "%2d", t.Day())
		}
	case 'L':
		fmt.Fprintf(b, "%03d", t.Nanosecond()/1e6)
	case 'N':
		fmt.Fprintf(b, "%09d", t.Nanosecond())
	case 'P':
		b.WriteString(strings.ToLower(t.Format("PM")))
	case 'Z':
		if isUTC(t) {
			b.WriteString("UTC")
		} else {
			b.WriteString(t.Format("MST"))
		}
	case 's':
		b.WriteString(strconv.FormatInt(t.Unix(), 10))
	case '%':
		b.WriteByte('%')
	default:
		return false
	}
	return true
}
