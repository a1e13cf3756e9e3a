package executor

import (
	"errors"
	"fmt"
	"os"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/kevinburke/ssh_config"
)

// DefaultOpenSSHConfigFiles are read when ssh.config is true or absent, in
// net-ssh's order; the ones that do not exist are skipped.
var DefaultOpenSSHConfigFiles = []string{"~/.ssh/config", "/etc/ssh/ssh_config"}

// OpenSSHConfig is the parsed OpenSSH client configuration (ssh_config(5))
// the pool applies to every host, jump hosts included. It is read once and
// immutable: safe for concurrent use.
type OpenSSHConfig struct {
	files []openSSHFile
}

type openSSHFile struct {
	path string
	cfg  *ssh_config.Config
}

// ReadOpenSSHConfig reads paths ("~/" expanded). A path in required that
// cannot be read is an error; of the others, missing files are skipped
// and unreadable ones are errors. Values of the options the pool uses are
// checked here, so a bad one is reported before anything connects, with
// its file and line.
func ReadOpenSSHConfig(paths []string, required bool) (*OpenSSHConfig, error) {
	oc := &OpenSSHConfig{}
	for _, p := range paths {
		path := expandHome(p)
		b, err := os.ReadFile(path)
		if errors.Is(err, os.ErrNotExist) && !required {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("ssh config %s: %w", p, unwrapPath(err))
		}
		cfg, err := ssh_config.DecodeBytes(neutralizeMatch(b))
		if err != nil {
			return nil, fmt.Errorf("ssh config %s: %v", p, err)
		}
		if err := checkOpenSSHValues(p, cfg); err != nil {
			return nil, err
		}
		oc.files = append(oc.files, openSSHFile{path: p, cfg: cfg})
	}
	return oc, nil
}

// unevaluatedMatch is a Match line whose criterion (exec, user,
// originalhost, ...) the parser cannot evaluate.
var unevaluatedMatch = regexp.MustCompile(`(?im)^([ \t]*)match([ \t=]+)(?:(?:!?(?:exec|user|localuser|originalhost|canonical|final|localnetwork|tagged)\b)[^\n]*)$`)

// neutralizeMatch turns Match blocks with criteria only OpenSSH can
// evaluate into blocks that match no host (net-ssh does not evaluate Match
// either), keeping line numbers; Match host and Match all are kept.
func neutralizeMatch(b []byte) []byte {
	return unevaluatedMatch.ReplaceAll(b, []byte("${1}Host !*"))
}

// unwrapPath drops the *PathError's repetition of the path.
func unwrapPath(err error) error {
	var pe *os.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

// checkOpenSSHValues validates, in every Host block, the values of the
// options hostSettings reads.
func checkOpenSSHValues(path string, cfg *ssh_config.Config) error {
	for _, h := range cfg.Hosts {
		for _, n := range h.Nodes {
			kv, ok := n.(*ssh_config.KV)
			if !ok {
				continue
			}
			if err := checkOpenSSHValue(kv.Key, kv.Value); err != nil {
				return fmt.Errorf("ssh config %s:%d: %s", path, kv.Pos().Line, err)
			}
		}
	}
	return nil
}

func checkOpenSSHValue(key, value string) error {
	v := strings.ToLower(value)
	oneOf := func(allowed ...string) error {
		for _, a := range allowed {
			if v == a {
				return nil
			}
		}
		return fmt.Errorf("%s: unknown value %q (expected %s)", key, value, strings.Join(allowed, ", "))
	}
	switch strings.ToLower(key) {
	case "stricthostkeychecking":
		return oneOf("yes", "no", "ask", "accept-new", "off")
	case "identitiesonly", "forwardagent":
		return oneOf("yes", "no")
	case "port":
		if n, err := strconv.Atoi(value); err != nil || n <= 0 || n > 65535 {
			return fmt.Errorf("%s: %q is not a port", key, value)
		}
	case "connecttimeout", "serveraliveinterval", "serveralivecountmax":
		if n, err := strconv.Atoi(value); err != nil || n < 0 {
			return fmt.Errorf("%s: %q is not a number", key, value)
		}
	}
	return nil
}

// hostSettings are the options ssh_config gives one host alias. Empty
// fields were not set.
type hostSettings struct {
	HostName              string
	User                  string
	Port                  int
	IdentityFiles         []string
	IdentitiesOnly        bool
	IdentityAgent         string
	ProxyJump             string
	ProxyCommand          string
	UserKnownHostsFiles   []string
	StrictHostKeyChecking string
	ConnectTimeout        time.Duration
	ServerAliveInterval   time.Duration
	ServerAliveCountMax   int
	ForwardAgent          *bool
}

// lookup returns the settings for alias, as net-ssh merges them: for each
// option the first value found wins (files in order, and within a file
// the first matching Host block), except IdentityFile, which collects
// every value.
func (oc *OpenSSHConfig) lookup(alias string) (hostSettings, error) {
	var s hostSettings
	if oc == nil {
		return s, nil
	}
	get := func(key string) (string, error) {
		for _, f := range oc.files {
			v, err := f.cfg.Get(alias, key)
			if err != nil {
				return "", fmt.Errorf("ssh config %s: %v", f.path, err)
			}
			if v != "" {
				return v, nil
			}
		}
		return "", nil
	}
	var firstErr error
	str := func(key string) string {
		v, err := get(key)
		if err != nil && firstErr == nil {
			firstErr = err
		}
		return v
	}
	num := func(key string) int {
		n, _ := strconv.Atoi(str(key))
		return n
	}
	s.HostName = strings.ReplaceAll(str("HostName"), "%h", alias)
	s.User = str("User")
	s.Port = num("Port")
	for _, f := range oc.files {
		all, err := f.cfg.GetAll(alias, "IdentityFile")
		if err != nil && firstErr == nil {
			firstErr = fmt.Errorf("ssh config %s: %v", f.path, err)
		}
		s.IdentityFiles = append(s.IdentityFiles, all...)
	}
	s.IdentitiesOnly = strings.EqualFold(str("IdentitiesOnly"), "yes")
	s.IdentityAgent = str("IdentityAgent")
	s.ProxyJump = str("ProxyJump")
	s.ProxyCommand = str("ProxyCommand")
	if v := str("UserKnownHostsFile"); v != "" {
		s.UserKnownHostsFiles = strings.Fields(v)
	}
	s.StrictHostKeyChecking = strings.ToLower(str("StrictHostKeyChecking"))
	s.ConnectTimeout = time.Duration(num("ConnectTimeout")) * time.Second
	if v := str("ServerAliveInterval"); v != "" {
		n, _ := strconv.Atoi(v)
		s.ServerAliveInterval = time.Duration(n) * time.Second
		if n == 0 {
			s.ServerAliveInterval = -1 // "0" turns keepalives off
		}
	}
	s.ServerAliveCountMax = num("ServerAliveCountMax")
	if v := str("ForwardAgent"); v != "" {
		b := strings.EqualFold(v, "yes")
		s.ForwardAgent = &b
	}
	return s, firstErr
}

// expandTokens expands ssh_config's %h (host name), %p (port), %r (remote
// user), %n (the alias as given), %d (local home) and %%.
func expandTokens(s, host string, port int, user, alias string) string {
	if !strings.Contains(s, "%") {
		return s
	}
	home, _ := os.UserHomeDir()
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] != '%' || i+1 == len(s) {
			b.WriteByte(s[i])
			continue
		}
		i++
		switch s[i] {
		case 'h':
			b.WriteString(host)
		case 'p':
			b.WriteString(strconv.Itoa(port))
		case 'r':
			b.WriteString(user)
		case 'n':
			b.WriteString(alias)
		case 'd':
			b.WriteString(home)
		case '%':
			b.WriteByte('%')
		default:
			b.WriteByte('%')
			b.WriteByte(s[i])
		}
	}
	return b.String()
}

// expandPath expands "~/" and tokens of a file option (IdentityFile,
// UserKnownHostsFile, IdentityAgent).
func expandPath(p, host string, port int, user, alias string) string {
	return expandHome(expandTokens(p, host, port, user, alias))
}
