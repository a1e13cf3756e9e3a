package executor

import (
	"fmt"
	"net"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/kamal-go/kamal/runtime/sshurl"
)

// target is a host resolved for connecting: deploy.yml's settings, then
// ssh_config's for its alias, then the defaults.
type target struct {
	name     string // as given, for messages ("server1", "server1:2222")
	alias    string // the ssh_config alias (host part of name)
	user     string
	hostport string // "10.0.0.1:22": dialled and used for known_hosts
	key      string // pool key: user, address and the route there

	via          *target // jump host whose connection carries this one
	proxyCommand string  // expanded; run with sh -c instead of dialling

	keyFiles   []string // Keys, else ssh_config's IdentityFiles (expanded)
	keysOnly   bool     // no agent keys, no default key files
	agentSock  string   // "" for none
	knownHosts []string // first one records new hosts
	strict     string   // StrictHostKeyChecking, lower case

	connectTimeout time.Duration
	keepalive      time.Duration // < 0: none
	keepaliveCount int
	forwardAgent   bool
}

// maxJumpDepth bounds ProxyJump chains through ssh_config (a host whose
// ProxyJump leads back to itself).
const maxJumpDepth = 8

// parseHost resolves a host of the configuration: "name", "name:port",
// "[v6]:port" or an SSH URL "ssh://[user@]name[:port]" (Kamal's remote
// builder), whose user and port win where it has them. A host is resolved
// once per pool (the pool's configuration and ssh_config do not change
// during its life); failures are not kept.
func (s *SSH) parseHost(host string) (*target, error) {
	if t, ok := s.targets.Load(host); ok {
		return t.(*target), nil
	}
	t, err := s.parseHostUncached(host)
	if err == nil {
		s.targets.Store(host, t)
	}
	return t, err
}

// parseHostUncached is parseHost without the pool's cache.
func (s *SSH) parseHostUncached(host string) (*target, error) {
	var user, name string
	var port int
	if strings.HasPrefix(host, "ssh://") {
		u, err := sshurl.Parse(host)
		if err != nil {
			return nil, err
		}
		user, name, port = u.User, u.Host, u.Port
	} else {
		name = host
		if h, p, err := net.SplitHostPort(host); err == nil {
			n, err := strconv.Atoi(p)
			if err != nil || n <= 0 || n > 65535 {
				return nil, fmt.Errorf("invalid port in host %q", host)
			}
			name, port = h, n
		}
	}
	if name == "" {
		return nil, fmt.Errorf("empty host name")
	}
	if user == "" {
		user = s.cfg.User
	}
	if port == 0 {
		port = s.cfg.Port
	}
	t, err := s.resolve(name, user, port, true, 0)
	if err != nil {
		return nil, err
	}
	t.name = strings.TrimPrefix(host, "ssh://")
	if i := strings.LastIndex(t.name, "@"); i >= 0 {
		t.name = t.name[i+1:]
	}
	return t, nil
}

// resolve builds the target for alias with user and port as given (""/0:
// not given). Pool-wide proxies (ssh.proxy, ssh.proxy_command) apply when
// main is set (a configured host, not a hop); ssh_config's ProxyJump and
// ProxyCommand apply to every host reached first in its chain.
func (s *SSH) resolve(alias, user string, port int, main bool, depth int) (*target, error) {
	if depth > maxJumpDepth {
		return nil, fmt.Errorf("ProxyJump for %s: more than %d hops (a loop in ssh_config?)", alias, maxJumpDepth)
	}
	hs, err := s.cfg.OpenSSH.lookup(alias)
	if err != nil {
		return nil, err
	}
	t := &target{name: alias, alias: alias}
	hostname := alias
	if hs.HostName != "" {
		hostname = hs.HostName
	}
	t.user = firstNonEmpty(user, hs.User, "root")
	switch {
	case port != 0:
	case hs.Port != 0:
		port = hs.Port
	default:
		port = 22
	}
	t.hostport = net.JoinHostPort(hostname, strconv.Itoa(port))
	expand := func(p string) string { return expandPath(p, hostname, port, t.user, alias) }

	if len(s.cfg.Keys) > 0 {
		for _, k := range s.cfg.Keys {
			t.keyFiles = append(t.keyFiles, expandHome(k))
		}
	} else {
		for _, k := range hs.IdentityFiles {
			t.keyFiles = append(t.keyFiles, expand(k))
		}
	}
	t.keysOnly = s.cfg.KeysOnly || hs.IdentitiesOnly
	getenv := s.cfg.Getenv
	if getenv == nil {
		getenv = os.Getenv
	}
	switch ia := hs.IdentityAgent; {
	case ia == "" || ia == "SSH_AUTH_SOCK" || ia == "$SSH_AUTH_SOCK":
		t.agentSock = getenv("SSH_AUTH_SOCK")
	case strings.EqualFold(ia, "none"):
	case strings.HasPrefix(ia, "$"):
		t.agentSock = getenv(ia[1:])
	default:
		t.agentSock = expand(ia)
	}
	if s.cfg.KeysOnly {
		t.agentSock = "" // keys_only: only the keys given
	}
	if len(hs.UserKnownHostsFiles) > 0 {
		for _, f := range hs.UserKnownHostsFiles {
			t.knownHosts = append(t.knownHosts, expand(f))
		}
	} else {
		t.knownHosts = []string{s.cfg.KnownHostsFile}
	}
	t.strict = firstNonEmpty(hs.StrictHostKeyChecking, "accept-new")
	t.connectTimeout = firstPositive(s.cfg.ConnectTimeout, hs.ConnectTimeout, defaultConnectTimeout)
	switch {
	case s.cfg.Keepalive != 0:
		t.keepalive = s.cfg.Keepalive
	case hs.ServerAliveInterval != 0:
		t.keepalive = hs.ServerAliveInterval
	default:
		t.keepalive = defaultKeepalive
	}
	t.keepaliveCount = int(firstPositive(time.Duration(s.cfg.KeepaliveCount), time.Duration(hs.ServerAliveCountMax), defaultKeepaliveCount))
	t.forwardAgent = s.cfg.ForwardAgent || (hs.ForwardAgent != nil && *hs.ForwardAgent)

	// The route: deploy.yml's proxy settings win for configured hosts,
	// then ssh_config's ProxyJump or ProxyCommand (the first one set).
	jump, command := hs.ProxyJump, hs.ProxyCommand
	if main && (s.cfg.Proxy != "" || s.cfg.ProxyCommand != "") {
		jump, command = s.cfg.Proxy, s.cfg.ProxyCommand
	}
	if strings.EqualFold(jump, "none") {
		jump = ""
	}
	if strings.EqualFold(command, "none") {
		command = ""
	}
	switch {
	case command != "":
		t.proxyCommand = expandTokens(command, hostname, port, t.user, alias)
		t.key = fmt.Sprintf("%s@%s | %s", t.user, t.hostport, t.proxyCommand)
	case jump != "":
		via, err := s.jumpChain(jump, depth)
		if err != nil {
			return nil, err
		}
		t.via = via
		t.key = t.user + "@" + t.hostport + " via " + via.key
	default:
		t.key = t.user + "@" + t.hostport
	}
	return t, nil
}

// jumpChain resolves a ProxyJump value "[user@]host[:port][,...]": the
// first hop takes its own route from ssh_config, each later one is reached
// through the one before.
func (s *SSH) jumpChain(spec string, depth int) (*target, error) {
	var prev *target
	for i, hop := range strings.Split(spec, ",") {
		hop = strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(hop), "ssh://"))
		user, hostport := "", hop
		if j := strings.LastIndex(hop, "@"); j >= 0 {
			user, hostport = hop[:j], hop[j+1:]
		}
		name, port := hostport, 0
		if h, p, err := net.SplitHostPort(hostport); err == nil {
			n, err := strconv.Atoi(p)
			if err != nil || n <= 0 || n > 65535 {
				return nil, fmt.Errorf("jump host %q: invalid port", hop)
			}
			name, port = h, n
		}
		if name == "" {
			return nil, fmt.Errorf("jump host %q: empty host name", hop)
		}
		t, err := s.resolve(name, user, port, false, depth+1)
		if err != nil {
			return nil, err
		}
		if i > 0 {
			t.via, t.proxyCommand = prev, ""
			t.key = t.user + "@" + t.hostport + " via " + prev.key
		}
		t.name = "jump host " + hop
		prev = t
	}
	return prev, nil
}

func firstNonEmpty(vals ...string) string {
	for _, v := range vals {
		if v != "" {
			return v
		}
	}
	return ""
}

func firstPositive(vals ...time.Duration) time.Duration {
	for _, v := range vals {
		if v > 0 {
			return v
		}
	}
	return 0
}
