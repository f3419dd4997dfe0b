package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	atlasemu "github.com/neko-defense/nekoctl/pkg/emulator/atlas"
	cfemu "github.com/neko-defense/nekoctl/pkg/emulator/cloudflare"
	"github.com/neko-defense/nekoctl/pkg/kubetest"
)

var stackRegions = []string{"us-east", "eu-west", "asia-pacific"}

// binaryStack is the guide's stack for the real nekoctl binary: both
// emulators, slowed down so that a run can be interrupted part-way, and one
// real kube-apiserver per region.
type binaryStack struct {
	bin   string
	kube  *kubetest.Env
	cf    *cfemu.Server
	atlas *atlasemu.Server
	spec  string
	env   []string
}

var (
	buildOnce sync.Once
	builtBin  string
	buildErr  error
)

// nekoctlBinary builds this command once per test run.
func nekoctlBinary(t *testing.T) string {
	t.Helper()
	buildOnce.Do(func() {
		dir, err := os.MkdirTemp("", "nekoctl-bin-")
		if err != nil {
			buildErr = err
			return
		}
		builtBin = filepath.Join(dir, "nekoctl")
		out, err := exec.Command("go", "build", "-o", builtBin, ".").CombinedOutput()
		if err != nil {
			buildErr = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return builtBin
}

// newBinaryStack starts the stack's outside world; the Atlas cluster takes
// clusterBuild to create, so that a change stays in flight that long.
func newBinaryStack(t *testing.T, clusterBuild time.Duration) *binaryStack {
	t.Helper()
	if testing.Short() {
		t.Skip("-short: needs the nekoctl binary and three kube-apiservers")
	}
	ctx := context.Background()
	s := &binaryStack{bin: nekoctlBinary(t)}
	kube, err := kubetest.Start(ctx, kubetest.Options{}, stackRegions...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(kube.Stop)
	for i, r := range stackRegions {
		if err := kube.CreateGateway(ctx, r, "gateway-system", "public-gateway", fmt.Sprintf("198.51.100.%d", 10+i)); err != nil {
			t.Fatal(err)
		}
		if err := kube.InstallPrometheusOperatorCRDs(ctx, r); err != nil {
			t.Fatal(err)
		}
	}
	s.kube = kube
	s.cf = cfemu.New(t)
	s.cf.AddZone("nekodefense.example", cfemu.Pro)
	s.atlas = atlasemu.New(atlasemu.Options{CreateDuration: clusterBuild})
	t.Cleanup(s.atlas.Close)
	src, err := os.ReadFile("../../examples/global.yaml")
	if err != nil {
		t.Fatal(err)
	}
	spec := strings.NewReplacer(
		"orgID: 5f0123456789abcdef012345", "orgID: "+atlasemu.DefaultOrgID+"\n    baseURL: "+s.atlas.URL(),
		"accountID: 0123456789abcdef0123456789abcdef", "accountID: "+cfemu.DefaultAccount,
		"kubeContext: neko-", "kubeContext: ",
		// A test binary has no release version: it deploys only a named image.
		"  workload:\n", "  workload:\n    image: neko-defense/nekoctl:1.0.0@sha256:"+strings.Repeat("ab", 32)+"\n",
	).Replace(string(src))
	s.spec = filepath.Join(t.TempDir(), "nekoctl.yaml")
	if err := os.WriteFile(s.spec, []byte(spec), 0o600); err != nil {
		t.Fatal(err)
	}
	s.env = append(os.Environ(),
		"CLOUDFLARE_API_TOKEN="+s.cf.Token(), "CLOUDFLARE_BASE_URL="+s.cf.URL(),
		"MONGODB_ATLAS_PUBLIC_API_KEY="+atlasemu.DefaultPublicKey, "MONGODB_ATLAS_PRIVATE_API_KEY="+atlasemu.DefaultPrivateKey,
		"KUBECONFIG="+kube.Kubeconfig)
	return s
}

// run is one nekoctl process; its output is read while it runs.
type signalledRun struct {
	cmd  *exec.Cmd
	mu   sync.Mutex
	out  bytes.Buffer
	done chan struct{}
	err  error
}

func (r *signalledRun) Write(p []byte) (int, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.out.Write(p)
}

func (r *signalledRun) output() string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.out.String()
}

func (s *binaryStack) start(t *testing.T, args ...string) *signalledRun {
	t.Helper()
	r := &signalledRun{done: make(chan struct{})}
	r.cmd = exec.Command(s.bin, append(args, "-f", s.spec)...)
	r.cmd.Env = s.env
	r.cmd.Stdout, r.cmd.Stderr = r, r
	if err := r.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		r.err = r.cmd.Wait()
		close(r.done)
	}()
	t.Cleanup(func() {
		_ = r.cmd.Process.Kill()
		<-r.done
	})
	return r
}

// wait returns the exit code, failing the test if the run outlives limit.
func (r *signalledRun) wait(t *testing.T, limit time.Duration) int {
	t.Helper()
	select {
	case <-r.done:
	case <-time.After(limit):
		t.Fatalf("nekoctl still runs after %s:\n%s", limit, r.output())
	}
	var ee *exec.ExitError
	if errors.As(r.err, &ee) {
		return ee.ExitCode()
	}
	if r.err != nil {
		t.Fatal(r.err)
	}
	return 0
}

// waitFor waits until the output holds n lines containing s.
func (r *signalledRun) waitFor(t *testing.T, s string, n int) {
	t.Helper()
	deadline := time.Now().Add(3 * time.Minute)
	for strings.Count(r.output(), s) < n {
		select {
		case <-r.done:
			t.Fatalf("nekoctl ended before %d %q lines:\n%s", n, s, r.output())
		case <-time.After(50 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			t.Fatalf("no %d %q lines:\n%s", n, s, r.output())
		}
	}
}

func (s *binaryStack) leaseHolder(t *testing.T) string {
	t.Helper()
	l, err := s.kube.Clientset("us-east").CoordinationV1().Leases("kube-system").Get(context.Background(), "nekoctl-neko-defense", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if l.Spec.HolderIdentity == nil {
		return ""
	}
	return *l.Spec.HolderIdentity
}

// converges runs up to its end, then checks the plan is empty and that
// nothing exists twice.
func (s *binaryStack) converges(t *testing.T, upArgs ...string) {
	t.Helper()
	up := s.start(t, append([]string{"up", "--yes"}, upArgs...)...)
	if code := up.wait(t, 5*time.Minute); code != 0 {
		t.Fatalf("up after the interruption: exit %d\n%s", code, up.output())
	}
	plan := s.start(t, "plan", "--detailed-exitcode")
	if code := plan.wait(t, 2*time.Minute); code != 0 {
		t.Fatalf("the plan after converging is not empty (exit %d):\n%s", code, plan.output())
	}
	if n := len(s.cf.Monitors()); n != 1 {
		t.Errorf("monitors = %d, want 1", n)
	}
	if n := len(s.cf.Pools()); n != len(stackRegions) {
		t.Errorf("pools = %d, want %d", n, len(stackRegions))
	}
	if n := len(s.cf.LoadBalancers("nekodefense.example")); n != 1 {
		t.Errorf("load balancers = %d, want 1", n)
	}
	if n := s.cf.CertificateCount(); n != 1 {
		t.Errorf("origin certificates = %d, want 1", n)
	}
	seen := map[string]int{}
	for _, r := range s.cf.Records("nekodefense.example") {
		seen[r.Type+" "+r.Name]++
	}
	for k, n := range seen {
		if n > 1 {
			t.Errorf("DNS record %s exists %d times", k, n)
		}
	}
	gid, _ := s.atlas.ProjectID("neko-defense")
	if names := s.atlas.ClusterNames(gid); len(names) != 1 {
		t.Errorf("clusters = %v, want one", names)
	}
}

// clusterCreating is the line of the Atlas cluster's create starting: from
// then on, a change is in flight for as long as the cluster builds.
const clusterCreating = `atlas[project/neko-defense].cluster["neko-global"]: creating...`

// TestCtrlCStopsSchedulingAndExits130: the first SIGINT lets the changes in
// flight finish, starts no more, releases the lock, lists what was made and
// what was not, and exits 130; a second `up` converges with no duplicates.
func TestCtrlCStopsSchedulingAndExits130(t *testing.T) {
	s := newBinaryStack(t, 3*time.Second)
	s.cf.SetFaults(cfemu.Faults{Latency: 150 * time.Millisecond})
	s.atlas.SetLatency(150 * time.Millisecond)

	up := s.start(t, "up", "--yes")
	up.waitFor(t, clusterCreating, 1)
	if err := up.cmd.Process.Signal(syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	code := up.wait(t, 3*time.Minute)
	out := up.output()
	t.Logf("interrupted up:\n%s", out)
	if code != 130 {
		t.Fatalf("exit code %d, want 130", code)
	}
	for _, want := range []string{
		"run: interrupted: starting no more changes, letting those in flight finish",
		"not started: the run was interrupted",
		"Interrupted: ", " not made (interrupted), 0 failed, 0 skipped.",
		"Made:\n", "Not made (the next run makes them):\n",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q", want)
		}
	}
	for _, never := range []string{"context canceled", "unreachable", ": failed"} {
		if strings.Contains(out, never) {
			t.Errorf("output says %q", never)
		}
	}
	if h := s.leaseHolder(t); h != "" {
		t.Errorf("the lock is still held by %q", h)
	}

	s.cf.SetFaults(cfemu.Faults{})
	s.atlas.SetLatency(0)
	s.converges(t)
}

// TestSecondCtrlCAborts: a second SIGINT cuts the calls in flight short and
// exits 130 at once, reporting them interrupted; the lock is left to expire,
// and the next `up`, waiting for it, converges with no duplicates.
func TestSecondCtrlCAborts(t *testing.T) {
	s := newBinaryStack(t, 30*time.Second)
	s.cf.SetFaults(cfemu.Faults{Latency: 150 * time.Millisecond})
	s.atlas.SetLatency(150 * time.Millisecond)

	up := s.start(t, "up", "--yes", "--lock-lease", "3s")
	up.waitFor(t, clusterCreating, 1)
	_ = up.cmd.Process.Signal(syscall.SIGINT)
	up.waitFor(t, "run: interrupted", 1)
	signalled := time.Now()
	_ = up.cmd.Process.Signal(syscall.SIGINT)
	code := up.wait(t, time.Minute)
	out := up.output()
	t.Logf("aborted up (%s after the second signal):\n%s", time.Since(signalled).Round(time.Millisecond), out)
	if code != 130 {
		t.Fatalf("exit code %d, want 130", code)
	}
	if took := time.Since(signalled); took > 5*time.Second {
		t.Errorf("the abort took %s", took)
	}
	for _, want := range []string{"interrupted", "it expires on its own"} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q", want)
		}
	}
	for _, never := range []string{"context canceled", "unreachable", ": failed"} {
		if strings.Contains(out, never) {
			t.Errorf("output says %q", never)
		}
	}
	if h := s.leaseHolder(t); h == "" {
		t.Error("the aborted run released the lock; it should be left to expire")
	}

	s.cf.SetFaults(cfemu.Faults{})
	s.atlas.SetLatency(0)
	s.converges(t, "--lock-timeout", "1m")
}
