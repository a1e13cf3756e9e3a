package executor

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"log"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/registry"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// BenchmarkForwardLayer pulls a one-layer image of KAMAL_BENCH_LAYER_MB
// (default 1024) MiB of random bytes with go-containerregistry's client
// from a local registry through one remote forward on a real sshd
// (loopback), as a server's dockerd pulls a --serve image: through
// kamal-go's Forward with several sizes of its send buffer (the layer's
// direction), and through OpenSSH's `ssh -R` to the same sshd. With
// KAMAL_BENCH_RTT_MS both SSH connections go through delayProxy with that
// round trip. One operation is one pull of the layer (its body read and
// digest-checked, not stored); MB/s is the layer's throughput. Needs root,
// /usr/sbin/sshd and ssh; a benchmark, it judges nothing.
func BenchmarkForwardLayer(b *testing.B) {
	mb := 1024
	if v := os.Getenv("KAMAL_BENCH_LAYER_MB"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n <= 0 {
			b.Fatalf("KAMAL_BENCH_LAYER_MB=%q: want a positive number", v)
		}
		mb = n
	}
	var rtt time.Duration
	if v := os.Getenv("KAMAL_BENCH_RTT_MS"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 {
			b.Fatalf("KAMAL_BENCH_RTT_MS=%q: want a number", v)
		}
		rtt = time.Duration(n) * time.Millisecond
	}
	sshBin, err := exec.LookPath("ssh")
	if err != nil {
		b.Skip("needs OpenSSH's ssh client")
	}
	rs := startRealSSHD(b, 1)
	regAddr, size := layerRegistry(b, int64(mb)<<20)
	host := rs.hosts[0]
	if rtt > 0 {
		host = delayProxy(b, host, rtt)
	}
	sshdAddr, sshdPort, _ := net.SplitHostPort(host)
	pull := func(b *testing.B, port int) {
		ref, err := name.ParseReference(fmt.Sprintf("127.0.0.1:%d/big:1", port), name.Insecure)
		if err != nil {
			b.Fatal(err)
		}
		b.SetBytes(size)
		b.ResetTimer()
		for i := 0; i < b.N; i++ {
			img, err := remote.Image(ref)
			if err != nil {
				b.Fatal(err)
			}
			ls, err := img.Layers()
			if err != nil {
				b.Fatal(err)
			}
			rc, err := ls[0].Compressed() // digest-checked as it is read
			if err != nil {
				b.Fatal(err)
			}
			n, err := io.Copy(io.Discard, rc)
			if cerr := rc.Close(); err == nil {
				err = cerr
			}
			if err != nil || n != size {
				b.Fatalf("read %d of %d bytes: %v", n, size, err)
			}
		}
	}
	for _, kib := range []int{8, 32, 128, 512} {
		b.Run(fmt.Sprintf("kamal-go-buffer=%dKiB", kib), func(b *testing.B) {
			defer func(old int) { forwardSendBuffer = old }(forwardSendBuffer)
			forwardSendBuffer = kib << 10
			p := rs.pool(b)
			port := freePort(b, "127.0.0.1", "127.0.0.1")
			fw, err := p.Forward(benchCtx(b), host, fmt.Sprintf("127.0.0.1:%d", port), regAddr)
			if err != nil {
				b.Fatal(err)
			}
			defer fw.Close()
			pull(b, port)
		})
	}
	b.Run("openssh-ssh-R", func(b *testing.B) {
		key := filepath.Join(b.TempDir(), "id")
		if err := os.WriteFile(key, rs.keyPEM, 0o600); err != nil {
			b.Fatal(err)
		}
		port := freePort(b, "127.0.0.1", "127.0.0.1")
		cmd := exec.Command(sshBin, "-F", "none", "-N", "-i", key, "-p", sshdPort,
			"-o", "BatchMode=yes", "-o", "StrictHostKeyChecking=no", "-o", "UserKnownHostsFile=/dev/null",
			"-o", "LogLevel=ERROR", "-o", "ExitOnForwardFailure=yes",
			"-R", fmt.Sprintf("127.0.0.1:%d:%s", port, regAddr), "root@"+sshdAddr)
		cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGTERM}
		var stderr strings.Builder
		cmd.Stderr = &stderr
		if err := cmd.Start(); err != nil {
			b.Fatal(err)
		}
		defer func() {
			_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGTERM)
			_ = cmd.Wait()
		}()
		for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(20 * time.Millisecond) {
			c, err := net.Dial("tcp", fmt.Sprintf("127.0.0.1:%d", port))
			if err == nil {
				c.Close()
				break
			}
			if time.Now().After(deadline) {
				b.Fatalf("ssh -R did not listen on %d: %s", port, stderr.String())
			}
		}
		pull(b, port)
	})
}

// layerRegistry serves, on a local port, image big:1 whose one layer is
// size random bytes in a file (go-containerregistry's pkg/registry, as
// --serve's registry, with the blobs read from files); it returns the
// listener's address and the layer's size.
func layerRegistry(tb testing.TB, size int64) (string, int64) {
	tb.Helper()
	dir := tb.TempDir()
	layer := filepath.Join(dir, "layer")
	f, err := os.Create(layer)
	if err != nil {
		tb.Fatal(err)
	}
	d := sha256.New()
	rng := rand.NewChaCha8([32]byte{1})
	if _, err := io.Copy(io.MultiWriter(f, d), io.LimitReader(rng, size)); err != nil {
		tb.Fatal(err)
	}
	if err := f.Close(); err != nil {
		tb.Fatal(err)
	}
	layerHash := v1.Hash{Algorithm: "sha256", Hex: hex.EncodeToString(d.Sum(nil))}
	cfg, err := json.Marshal(v1.ConfigFile{Architecture: "amd64", OS: "linux",
		RootFS: v1.RootFS{Type: "layers", DiffIDs: []v1.Hash{layerHash}}})
	if err != nil {
		tb.Fatal(err)
	}
	cfgHash, cfgSize, err := v1.SHA256(strings.NewReader(string(cfg)))
	if err != nil {
		tb.Fatal(err)
	}
	blobs := fileBlobs{layerHash: layer, cfgHash: filepath.Join(dir, "config")}
	if err := os.WriteFile(blobs[cfgHash], cfg, 0o644); err != nil {
		tb.Fatal(err)
	}
	manifest, err := json.Marshal(v1.Manifest{SchemaVersion: 2, MediaType: types.OCIManifestSchema1,
		Config: v1.Descriptor{MediaType: types.OCIConfigJSON, Size: cfgSize, Digest: cfgHash},
		Layers: []v1.Descriptor{{MediaType: types.OCIUncompressedLayer, Size: size, Digest: layerHash}}})
	if err != nil {
		tb.Fatal(err)
	}
	h := registry.New(registry.WithBlobHandler(blobs), registry.Logger(log.New(io.Discard, "", 0)))
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	srv := &http.Server{Handler: h}
	go srv.Serve(ln)
	tb.Cleanup(func() { srv.Close() })
	req, err := http.NewRequestWithContext(context.Background(), http.MethodPut, "http://"+ln.Addr().String()+"/v2/big/manifests/1", strings.NewReader(string(manifest)))
	if err != nil {
		tb.Fatal(err)
	}
	req.Header.Set("Content-Type", string(types.OCIManifestSchema1))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		tb.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusCreated {
		tb.Fatalf("manifest refused (%d): %s", resp.StatusCode, body)
	}
	return ln.Addr().String(), size
}

// fileBlobs is a read-only blob store of files, by digest.
type fileBlobs map[v1.Hash]string

func (f fileBlobs) Stat(_ context.Context, _ string, h v1.Hash) (int64, error) {
	st, err := os.Stat(f[h])
	if f[h] == "" || err != nil {
		return 0, registry.ErrNotFound
	}
	return st.Size(), nil
}

func (f fileBlobs) Get(_ context.Context, _ string, h v1.Hash) (io.ReadCloser, error) {
	if f[h] == "" {
		return nil, registry.ErrNotFound
	}
	return os.Open(f[h])
}
