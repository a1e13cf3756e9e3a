package e2e

import (
	"bufio"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// Rig is what tests/rig/up wrote to its env file.
type Rig struct {
	Env      map[string]string // every variable of the env file
	State    string
	Registry string // 127.0.0.1:PORT
	User     string
	Password string
	SSHPort  string
	SSHKey   string
	Hosts    []string
	Homes    map[string]string // server name -> its home (HOME of its ssh commands)
}

func loadRig(path string) (*Rig, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("reading the rig env file (KAMAL_RIG_ENV): %w", err)
	}
	defer f.Close()
	env := map[string]string{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		k, v, ok := strings.Cut(line, "=")
		if !ok {
			return nil, fmt.Errorf("%s: not KEY=VALUE: %q", path, line)
		}
		env[k] = strings.Trim(v, `"`)
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	r := &Rig{
		Env: env, State: env["RIG_STATE"], Registry: env["RIG_REGISTRY"],
		User: env["RIG_REGISTRY_USER"], Password: env["RIG_REGISTRY_PASSWORD"],
		SSHPort: env["RIG_SSH_PORT"], SSHKey: env["RIG_SSH_KEY"],
		Hosts: strings.Fields(env["RIG_HOSTS"]), Homes: map[string]string{},
	}
	for _, h := range r.Hosts {
		r.Homes[h] = env["RIG_SERVER_HOME_"+h]
	}
	for k, v := range map[string]string{"RIG_REGISTRY": r.Registry, "RIG_SSH_PORT": r.SSHPort, "RIG_SSH_KEY": r.SSHKey, "RIG_HOSTS": env["RIG_HOSTS"], "RIG_STATE": r.State} {
		if v == "" {
			return nil, fmt.Errorf("%s has no %s: rerun tests/rig/up", path, k)
		}
	}
	return r, nil
}

// sshCommand runs cmd on host with the real OpenSSH client, ignoring any
// user ssh config and host keys (the rig's host keys are throwaway).
func (r *Rig) sshCommand(host, cmd string) *exec.Cmd {
	return exec.Command("ssh", "-F", "none", "-i", r.SSHKey, "-p", r.SSHPort,
		"-o", "BatchMode=yes", "-o", "StrictHostKeyChecking=no", "-o", "UserKnownHostsFile=/dev/null",
		"-o", "LogLevel=ERROR", "root@"+host, cmd)
}

// serverExec runs cmd on host over ssh (cwd and HOME: the server's home) and
// returns its stdout; a failure fails the test.
func serverExec(t *testing.T, host, cmd string) string {
	t.Helper()
	c := rig.sshCommand(host, cmd)
	var stderr strings.Builder
	c.Stderr = &stderr
	out, err := c.Output()
	if err != nil {
		t.Fatalf("ssh %s %q: %v\nstdout: %s\nstderr: %s", host, cmd, err, out, stderr.String())
	}
	return string(out)
}

// serverFile is the path of rel in host's home, read directly: all servers
// live on this machine, and reading a stopped server's files must work too.
func serverFile(host, rel string) string { return filepath.Join(rig.Homes[host], rel) }

// auditLog is the content of host's Kamal audit log for the app ("" if none).
func auditLog(t *testing.T, host string) string {
	t.Helper()
	b, err := os.ReadFile(serverFile(host, ".kamal/app-audit.log"))
	if err != nil && !os.IsNotExist(err) {
		t.Fatal(err)
	}
	return string(b)
}

func pulledLine(version string) string { return "Pulled image with version " + version }

// Kamal 1's deploy lock (on the primary host); Kamal 2's is .kamal/lock-app.
const lockDir = ".kamal/locks/app"

func exists(path string) bool {
	_, err := os.Stat(path)
	return err == nil
}

// holdLock takes the deploy lock on host the way `kamal lock acquire` does:
// a lock dir with base64 details (MIME style, 60 columns, as Ruby's encode64).
func holdLock(t *testing.T, host, details string) {
	t.Helper()
	enc := base64.StdEncoding.EncodeToString([]byte(details))
	var b strings.Builder
	for len(enc) > 60 {
		b.WriteString(enc[:60] + "\n")
		enc = enc[60:]
	}
	b.WriteString(enc + "\n")
	serverExec(t, host, fmt.Sprintf("mkdir -p .kamal/locks && mkdir %s && echo \"%s\" > %s/details", lockDir, b.String(), lockDir))
	t.Cleanup(func() { clearLocks(t) })
}

// clearLocks removes any deploy lock from every server, so one test's
// failure cannot lock out the next.
func clearLocks(t *testing.T) {
	for _, h := range rig.Hosts {
		for _, rel := range []string{lockDir, ".kamal/lock-app"} {
			if err := os.RemoveAll(serverFile(h, rel)); err != nil {
				t.Errorf("removing %s on %s: %v", rel, h, err)
			}
		}
	}
}

// stopServer stops host's sshd for the rest of the test.
func stopServer(t *testing.T, host string) {
	t.Helper()
	rigServer(t, "stop", host)
	t.Cleanup(func() { rigServer(t, "start", host) })
}

func rigServer(t *testing.T, action, host string) {
	t.Helper()
	out, err := exec.Command(filepath.Join(repoRoot, "tests/rig/server"), action, host).CombinedOutput()
	if err != nil {
		t.Fatalf("tests/rig/server %s %s: %v\n%s", action, host, err, out)
	}
}

// withDockerConfig replaces host's ~/.docker/config.json for the rest of the test.
func withDockerConfig(t *testing.T, host, content string) {
	t.Helper()
	path := serverFile(host, ".docker/config.json")
	old, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := os.WriteFile(path, old, 0o600); err != nil {
			t.Error(err)
		}
	})
}

// dockerConfig is a docker client config.json logged in to the rig's registry.
func dockerConfig(user, password string) string {
	auth := base64.StdEncoding.EncodeToString([]byte(user + ":" + password))
	b, _ := json.Marshal(map[string]any{"auths": map[string]any{rig.Registry: map[string]string{"auth": auth}}})
	return string(b)
}

// registryGet sends an authenticated GET (or HEAD) straight to the registry.
func registryGet(t *testing.T, method, path string, header map[string]string) *http.Response {
	t.Helper()
	req, err := http.NewRequest(method, "http://"+rig.Registry+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.SetBasicAuth(rig.User, rig.Password)
	for k, v := range header {
		req.Header.Set(k, v)
	}
	// No proxy: the registry is on loopback, whatever HTTP_PROXY says.
	client := &http.Client{Transport: &http.Transport{Proxy: nil}}
	resp, err := client.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, req.URL, err)
	}
	return resp
}

// registryTags lists repo's tags in the rig's registry (none if the repo is unknown).
func registryTags(t *testing.T, repo string) []string {
	t.Helper()
	resp := registryGet(t, "GET", "/v2/"+repo+"/tags/list", nil)
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode == http.StatusNotFound {
		return nil
	}
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("registry tags/list of %s: %s\n%s", repo, resp.Status, body)
	}
	var list struct{ Tags []string }
	if err := json.Unmarshal(body, &list); err != nil {
		t.Fatalf("registry tags/list of %s: %v\n%s", repo, err, body)
	}
	return list.Tags
}

func hasTag(t *testing.T, repo, tag string) bool {
	t.Helper()
	return slices.Contains(registryTags(t, repo), tag)
}

// registryDigest is the manifest digest of repo:tag ("" when absent).
func registryDigest(t *testing.T, repo, tag string) string {
	t.Helper()
	resp := registryGet(t, "HEAD", "/v2/"+repo+"/manifests/"+tag, map[string]string{
		"Accept": "application/vnd.docker.distribution.manifest.v2+json, application/vnd.oci.image.manifest.v1+json, application/vnd.oci.image.index.v1+json, application/vnd.docker.distribution.manifest.list.v2+json",
	})
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return ""
	}
	return resp.Header.Get("Docker-Content-Digest")
}

// dockerImageExists says whether the rig's dockerd (shared by all servers) has ref.
func dockerImageExists(t *testing.T, ref string) bool {
	t.Helper()
	err := exec.Command("docker", "image", "inspect", ref).Run()
	if _, ok := err.(*exec.ExitError); err != nil && !ok {
		t.Fatalf("docker image inspect: %v", err)
	}
	return err == nil
}

// imageRef is the app image's reference in the rig's registry.
func imageRef(version string) string { return rig.Registry + "/app:" + version }
