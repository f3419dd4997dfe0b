package kubetest

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"time"
)

// KubernetesVersion is the kube-apiserver the harness builds; it matches
// client-go in the main module.
const KubernetesVersion = "v1.37.2"

// GatewayAPIVersion is the sigs.k8s.io/gateway-api release whose CRDs
// (config/crd/standard) are installed; v1.6.3 is the newest that declares
// Go 1.26.
const GatewayAPIVersion = "v1.6.3"

// Binaries are the paths of one cached build.
type Binaries struct {
	Dir           string
	KubeAPIServer string
	Etcd          string
	// GatewayCRDs is a folder of Gateway API CRD manifests (standard channel).
	GatewayCRDs string
}

// toolsDir finds tools/kube-apiserver by walking up from the working
// directory (go test runs in the package folder).
func toolsDir() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		p := filepath.Join(dir, "tools", "kube-apiserver")
		if _, err := os.Stat(filepath.Join(p, "go.mod")); err == nil {
			return p, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("kubetest: tools/kube-apiserver not found above the working directory")
		}
		dir = parent
	}
}

// cacheKey identifies a build by the tools module's inputs, so a change of
// version rebuilds and an unchanged tree reuses the binaries.
func cacheKey(tools string) (string, error) {
	h := sha256.New()
	for _, f := range []string{"go.mod", "go.sum", "cmd/kube-apiserver/main.go", "cmd/etcd/main.go"} {
		b, err := os.ReadFile(filepath.Join(tools, f))
		if err != nil {
			return "", err
		}
		fmt.Fprintf(h, "%s\n%d\n", f, len(b))
		h.Write(b)
	}
	fmt.Fprintf(h, "gateway-api %s\n", GatewayAPIVersion)
	return KubernetesVersion + "-" + hex.EncodeToString(h.Sum(nil))[:12], nil
}

// CacheDir is where binaries are kept: $NEKOCTL_TEST_CACHE, or the user
// cache directory's nekoctl-test folder.
func CacheDir() (string, error) {
	if d := os.Getenv("NEKOCTL_TEST_CACHE"); d != "" {
		return d, nil
	}
	d, err := os.UserCacheDir()
	if err != nil {
		d = os.TempDir() // no HOME (some CI runners)
	}
	return filepath.Join(d, "nekoctl-test"), nil
}

// EnsureBinaries returns the cached kube-apiserver and etcd, building them
// first when absent. A file lock keeps parallel test binaries from building
// twice; the loser waits and reuses the winner's build. Progress goes to log
// (a cold build takes several minutes).
func EnsureBinaries(log io.Writer) (*Binaries, error) {
	tools, err := toolsDir()
	if err != nil {
		return nil, err
	}
	key, err := cacheKey(tools)
	if err != nil {
		return nil, fmt.Errorf("kubetest: %w", err)
	}
	root, err := CacheDir()
	if err != nil {
		return nil, err
	}
	dir := filepath.Join(root, key)
	b := &Binaries{
		Dir:           dir,
		KubeAPIServer: filepath.Join(dir, "kube-apiserver"),
		Etcd:          filepath.Join(dir, "etcd"),
		GatewayCRDs:   filepath.Join(dir, "gateway-api-crds"),
	}
	ready := filepath.Join(dir, "ready")
	if _, err := os.Stat(ready); err == nil {
		return b, nil
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	unlock, err := lockFile(filepath.Join(dir, ".lock"))
	if err != nil {
		return nil, err
	}
	defer unlock()
	if _, err := os.Stat(ready); err == nil {
		return b, nil
	}
	start := time.Now()
	fmt.Fprintf(log, "kubetest: building kube-apiserver %s and etcd into %s (a cold build takes about 5 minutes)\n", KubernetesVersion, dir)
	cmd := exec.Command("go", "build", "-o", dir+string(filepath.Separator), "./cmd/kube-apiserver", "./cmd/etcd")
	cmd.Dir = tools
	cmd.Env = append(os.Environ(), "GOWORK=off", "GOFLAGS=-mod=readonly")
	cmd.Stdout, cmd.Stderr = log, log
	if err := cmd.Run(); err != nil {
		return nil, fmt.Errorf("kubetest: building kube-apiserver in %s: %w", tools, err)
	}
	if err := copyGatewayCRDs(b.GatewayCRDs); err != nil {
		return nil, err
	}
	if err := os.WriteFile(ready, []byte(time.Now().UTC().Format(time.RFC3339)+"\n"), 0o644); err != nil {
		return nil, err
	}
	fmt.Fprintf(log, "kubetest: built in %s\n", time.Since(start).Round(time.Second))
	return b, nil
}

// copyGatewayCRDs copies config/crd/standard of the sigs.k8s.io/gateway-api
// module at GatewayAPIVersion, fetched through the Go module proxy and
// checked against the checksum database like any module.
func copyGatewayCRDs(dst string) error {
	cmd := exec.Command("go", "mod", "download", "-json", "sigs.k8s.io/gateway-api@"+GatewayAPIVersion)
	cmd.Dir = os.TempDir() // outside any module: nothing's go.mod or go.sum changes
	cmd.Env = append(os.Environ(), "GOWORK=off", "GOFLAGS=")
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("kubetest: locating sigs.k8s.io/gateway-api: %v: %s", err, errb.String())
	}
	var mod struct{ Dir string }
	if err := json.Unmarshal(out.Bytes(), &mod); err != nil || mod.Dir == "" {
		return fmt.Errorf("kubetest: locating sigs.k8s.io/gateway-api: no module directory in %q", out.String())
	}
	src := filepath.Join(mod.Dir, "config", "crd", "standard")
	entries, err := os.ReadDir(src)
	if err != nil {
		return fmt.Errorf("kubetest: gateway-api CRDs: %w", err)
	}
	if err := os.MkdirAll(dst, 0o755); err != nil {
		return err
	}
	for _, e := range entries {
		if !strings.HasSuffix(e.Name(), ".yaml") || e.Name() == "kustomization.yaml" {
			continue
		}
		data, err := os.ReadFile(filepath.Join(src, e.Name()))
		if err != nil {
			return err
		}
		if err := os.WriteFile(filepath.Join(dst, e.Name()), data, 0o644); err != nil {
			return err
		}
	}
	return nil
}

func lockFile(path string) (func(), error) {
	f, err := os.OpenFile(path, os.O_CREATE|os.O_RDWR, 0o644)
	if err != nil {
		return nil, err
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX); err != nil {
		f.Close()
		return nil, fmt.Errorf("kubetest: locking %s: %w", path, err)
	}
	return func() {
		_ = syscall.Flock(int(f.Fd()), syscall.LOCK_UN)
		f.Close()
	}, nil
}
