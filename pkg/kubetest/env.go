// Package kubetest runs real Kubernetes API servers for tests: one etcd and
// one kube-apiserver per region (each with its own etcd prefix), the Gateway
// API CRDs installed, a kubeconfig with one context per region, and a small
// controller that plays the parts of the controllers a test cluster lacks.
package kubetest

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/tls"
	"crypto/x509"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync"
	"syscall"
	"time"

	"golang.org/x/sync/errgroup"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"
)

// Env is a set of running API servers, one per region.
type Env struct {
	// Kubeconfig is the path of a kubeconfig with one context per region,
	// named after the region.
	Kubeconfig string
	Regions    []string

	dir     string
	token   string
	procs   []*proc
	servers map[string]*server
	ctrl    *Controller
	logs    *lockedBuffer
	audit   bool
	stopped sync.Once
}

// proc is a started process; done closes when it exits.
type proc struct {
	cmd  *exec.Cmd
	done chan struct{}
}

func startProc(cmd *exec.Cmd) (*proc, error) {
	dieWithParent(cmd)
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	p := &proc{cmd: cmd, done: make(chan struct{})}
	go func() { _ = cmd.Wait(); close(p.done) }()
	return p, nil
}

type server struct {
	proc   *proc
	url    string
	caFile string
	cfg    *rest.Config
}

// Options tune Start.
type Options struct {
	// Log receives build progress; nil means os.Stderr.
	Log io.Writer
	// Dir holds data and logs; empty means a new temporary directory.
	Dir string
	// Audit makes every API server write an audit log (metadata of every
	// request, see AuditEvents), to count requests at the server.
	Audit bool
	// StartAtOnce caps how many API servers start at the same time (0: all
	// of them). An API server spends about 6 s of CPU starting: thirty at
	// once on two cores each take minutes, bounded they come up in turn.
	StartAtOnce int
	// ReadyTimeout bounds the wait for one API server, from its own start
	// (0: 90 s).
	ReadyTimeout time.Duration
}

// Start builds (or reuses) the binaries and starts etcd and one API server
// per region, installs the Gateway API CRDs and starts the controller.
// Call Stop when done (TestMain: defer-free, after m.Run).
func Start(ctx context.Context, opts Options, regions ...string) (_ *Env, err error) {
	if opts.Log == nil {
		opts.Log = os.Stderr
	}
	bins, err := EnsureBinaries(opts.Log)
	if err != nil {
		return nil, err
	}
	dir := opts.Dir
	if dir == "" {
		if dir, err = os.MkdirTemp("", "kubetest-"); err != nil {
			return nil, err
		}
	}
	if opts.ReadyTimeout <= 0 {
		opts.ReadyTimeout = 90 * time.Second
	}
	e := &Env{Regions: regions, dir: dir, servers: map[string]*server{}, logs: &lockedBuffer{}, audit: opts.Audit}
	defer func() {
		if err != nil {
			e.Stop()
		}
	}()
	tok := make([]byte, 16)
	_, _ = rand.Read(tok)
	e.token = hex.EncodeToString(tok)
	if err := e.writeAuthFiles(); err != nil {
		return nil, err
	}
	if e.audit {
		if err := os.WriteFile(filepath.Join(e.dir, "audit-policy.yaml"), []byte(auditPolicy), 0o600); err != nil {
			return nil, err
		}
	}
	var etcdURL string
	for attempt := 1; attempt <= 3; attempt++ {
		if etcdURL, err = e.startEtcd(ctx, bins, attempt); err == nil || !errors.Is(err, errExited) {
			break
		}
	}
	if err != nil {
		return nil, err
	}
	if err := e.startAPIServers(ctx, bins, etcdURL, opts); err != nil {
		return nil, err
	}
	if err := e.writeKubeconfig(); err != nil {
		return nil, err
	}
	var g errgroup.Group
	if opts.StartAtOnce > 0 {
		g.SetLimit(opts.StartAtOnce)
	}
	for _, r := range regions {
		g.Go(func() error {
			if err := installCRDs(ctx, e.Dynamic(r), bins.GatewayCRDs); err != nil {
				return fmt.Errorf("kubetest: region %s: %w", r, err)
			}
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return nil, err
	}
	e.ctrl = newController(e)
	e.ctrl.start()
	return e, nil
}

// Stop stops the controller and every process and removes the data
// directory. It is safe to call more than once.
func (e *Env) Stop() {
	e.stopped.Do(func() {
		if e.ctrl != nil {
			e.ctrl.stop()
		}
		for i := len(e.procs) - 1; i >= 0; i-- {
			p := e.procs[i]
			_ = p.cmd.Process.Signal(syscall.SIGTERM)
			select {
			case <-p.done:
			case <-time.After(10 * time.Second):
				_ = p.cmd.Process.Kill()
				<-p.done
			}
		}
		_ = os.RemoveAll(e.dir)
	})
}

// Logs returns what the servers wrote, for failing tests.
func (e *Env) Logs() string { return e.logs.String() }

// Controller is the helper that sets object status the way controllers would.
func (e *Env) Controller() *Controller { return e.ctrl }

// Context is the kubeconfig context of a region.
func (e *Env) Context(region string) string { return region }

// RESTConfig is a fresh client configuration for a region's API server.
func (e *Env) RESTConfig(region string) *rest.Config {
	return rest.CopyConfig(e.servers[region].cfg)
}

// quietConfig is RESTConfig without API deprecation warnings, for the
// harness's own clients.
func (e *Env) quietConfig(region string) *rest.Config {
	c := e.RESTConfig(region)
	c.WarningHandler = rest.NoWarnings{}
	return c
}

// Clientset is a typed client for a region.
func (e *Env) Clientset(region string) kubernetes.Interface {
	return kubernetes.NewForConfigOrDie(e.RESTConfig(region))
}

// Dynamic is a dynamic client for a region.
func (e *Env) Dynamic(region string) dynamic.Interface {
	return dynamic.NewForConfigOrDie(e.RESTConfig(region))
}

// UnreachableConfig returns a configuration for an API server that does not
// answer (a closed loopback port), for failure tests.
func (e *Env) UnreachableConfig() *rest.Config {
	port, _ := freePort()
	return &rest.Config{Host: "https://127.0.0.1:" + strconv.Itoa(port), BearerToken: e.token,
		TLSClientConfig: rest.TLSClientConfig{Insecure: true}, Timeout: 5 * time.Second}
}

func (e *Env) writeAuthFiles() error {
	line := e.token + ",admin,admin,system:masters\n"
	if err := os.WriteFile(filepath.Join(e.dir, "tokens.csv"), []byte(line), 0o600); err != nil {
		return err
	}
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		return err
	}
	der := x509.MarshalPKCS1PrivateKey(key)
	pemKey := pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: der})
	return os.WriteFile(filepath.Join(e.dir, "sa.key"), pemKey, 0o600)
}

// errExited marks a server that stopped while starting (a port taken meanwhile).
var errExited = errors.New("exited while starting")

func (e *Env) startEtcd(ctx context.Context, bins *Binaries, attempt int) (string, error) {
	client, err := freePort()
	if err != nil {
		return "", err
	}
	peer, err := freePort()
	if err != nil {
		return "", err
	}
	cu := "http://127.0.0.1:" + strconv.Itoa(client)
	pu := "http://127.0.0.1:" + strconv.Itoa(peer)
	cmd := exec.Command(bins.Etcd,
		"--name=kubetest",
		"--data-dir="+filepath.Join(e.dir, fmt.Sprintf("etcd-%d", attempt)),
		"--listen-client-urls="+cu, "--advertise-client-urls="+cu,
		"--listen-peer-urls="+pu, "--initial-advertise-peer-urls="+pu,
		"--initial-cluster=kubetest="+pu,
		"--unsafe-no-fsync",
		"--log-level=warn",
	)
	cmd.Stdout, cmd.Stderr = e.logs, e.logs
	p, err := startProc(cmd)
	if err != nil {
		return "", fmt.Errorf("kubetest: starting etcd: %w", err)
	}
	e.procs = append(e.procs, p)
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		resp, err := http.Get(cu + "/health")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return cu, nil
			}
		}
		if ctx.Err() != nil {
			return "", ctx.Err()
		}
		select {
		case <-p.done:
			return "", fmt.Errorf("kubetest: etcd %w:\n%s", errExited, tail(e.logs.String(), 4000))
		case <-time.After(100 * time.Millisecond):
		}
	}
	return "", fmt.Errorf("kubetest: etcd not healthy after 30s:\n%s", e.logs.String())
}

// startAPIServers starts one API server per region, at most
// opts.StartAtOnce at a time, and waits until each is ready.
func (e *Env) startAPIServers(ctx context.Context, bins *Binaries, etcdURL string, opts Options) error {
	var g errgroup.Group
	if opts.StartAtOnce > 0 {
		g.SetLimit(opts.StartAtOnce)
	}
	var mu sync.Mutex
	for _, r := range e.Regions {
		g.Go(func() error {
			// A port picked free can be taken before the server binds it
			// (other test binaries run too): a server that exits while
			// starting is retried on another port.
			for attempt := 1; ; attempt++ {
				port, err := freePort()
				if err != nil {
					return err
				}
				s, err := e.startAPIServer(bins, r, etcdURL, port)
				if err != nil {
					return err
				}
				mu.Lock()
				e.procs = append(e.procs, s.proc)
				e.servers[r] = s
				mu.Unlock()
				err = e.waitReady(ctx, r, s, opts.ReadyTimeout)
				if err == nil || attempt == 3 || !exited(s.proc) {
					return err
				}
			}
		})
	}
	return g.Wait()
}

func (e *Env) startAPIServer(bins *Binaries, region, etcdURL string, port int) (*server, error) {
	certDir := filepath.Join(e.dir, "certs-"+region)
	if err := os.MkdirAll(certDir, 0o755); err != nil {
		return nil, err
	}
	saKey := filepath.Join(e.dir, "sa.key")
	args := []string{
		"--etcd-servers=" + etcdURL,
		"--etcd-prefix=/" + region,
		"--secure-port=" + strconv.Itoa(port),
		"--bind-address=127.0.0.1",
		"--endpoint-reconciler-type=none",
		"--cert-dir=" + certDir,
		"--service-account-key-file=" + saKey,
		"--service-account-signing-key-file=" + saKey,
		"--service-account-issuer=https://kubernetes.default.svc",
		"--token-auth-file=" + filepath.Join(e.dir, "tokens.csv"),
		"--authorization-mode=RBAC",
		"--service-cluster-ip-range=10.96.0.0/16",
		"--allow-privileged=false",
		"--v=0",
		"--logging-format=text",
	}
	if e.audit {
		args = append(args, "--audit-policy-file="+filepath.Join(e.dir, "audit-policy.yaml"),
			"--audit-log-path="+e.AuditLog(region), "--audit-log-format=json",
			// Written apart from the requests: written in each request's
			// path, the log slowed every answer down by a millisecond or
			// more on a small machine (AuditEvents waits for what it needs).
			"--audit-log-mode=batch", "--audit-log-batch-max-size=1")
	}
	cmd := exec.Command(bins.KubeAPIServer, args...)
	w := &prefixWriter{prefix: "[" + region + "] ", w: e.logs}
	cmd.Stdout, cmd.Stderr = w, w
	p, err := startProc(cmd)
	if err != nil {
		return nil, fmt.Errorf("kubetest: starting kube-apiserver for %s: %w", region, err)
	}
	url := "https://127.0.0.1:" + strconv.Itoa(port)
	s := &server{proc: p, url: url, caFile: filepath.Join(certDir, "apiserver.crt")}
	s.cfg = &rest.Config{Host: url, BearerToken: e.token, QPS: 200, Burst: 400,
		TLSClientConfig: rest.TLSClientConfig{CAFile: s.caFile}}
	return s, nil
}

func (e *Env) waitReady(ctx context.Context, region string, s *server, timeout time.Duration) error {
	hc := &http.Client{Timeout: 2 * time.Second, Transport: &http.Transport{
		TLSClientConfig: &tls.Config{InsecureSkipVerify: true}, //nolint:gosec // loopback readiness probe only
	}}
	deadline := time.Now().Add(timeout)
	for time.Now().Before(deadline) {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, s.url+"/readyz", nil)
		req.Header.Set("Authorization", "Bearer "+e.token)
		resp, err := hc.Do(req)
		if err == nil {
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK && bytes.Equal(bytes.TrimSpace(body), []byte("ok")) {
				return nil
			}
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
		select {
		case <-s.proc.done:
			return fmt.Errorf("kubetest: kube-apiserver for %s exited:\n%s", region, tail(e.logs.String(), 4000))
		case <-time.After(200 * time.Millisecond):
		}
	}
	return fmt.Errorf("kubetest: kube-apiserver for %s not ready after %s:\n%s", region, timeout, e.logs.String())
}

func (e *Env) writeKubeconfig() error {
	cfg := clientcmdapi.NewConfig()
	for _, r := range e.Regions {
		s := e.servers[r]
		cfg.Clusters[r] = &clientcmdapi.Cluster{Server: s.url, CertificateAuthority: s.caFile}
		cfg.AuthInfos[r] = &clientcmdapi.AuthInfo{Token: e.token}
		cfg.Contexts[r] = &clientcmdapi.Context{Cluster: r, AuthInfo: r}
	}
	if len(e.Regions) > 0 {
		cfg.CurrentContext = e.Regions[0]
	}
	e.Kubeconfig = filepath.Join(e.dir, "kubeconfig")
	return clientcmd.WriteToFile(*cfg, e.Kubeconfig)
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// lockedBuffer collects process output, bounded so that a chatty server
// cannot grow without limit.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

const maxLog = 1 << 20

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.buf.Len()+len(p) > maxLog {
		keep := b.buf.Bytes()[b.buf.Len()/2:]
		rest := append([]byte(nil), keep...)
		b.buf.Reset()
		b.buf.Write(rest)
	}
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

type prefixWriter struct {
	prefix string
	w      io.Writer
}

func (p *prefixWriter) Write(b []byte) (int, error) {
	lines := bytes.SplitAfter(b, []byte("\n"))
	for _, l := range lines {
		if len(l) == 0 {
			continue
		}
		if _, err := p.w.Write(append([]byte(p.prefix), l...)); err != nil {
			return 0, err
		}
	}
	return len(b), nil
}

func exited(p *proc) bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

func tail(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return "..." + s[len(s)-n:]
}
