package main

import (
	"bytes"
	"errors"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/neko-defense/nekoctl/internal/stacktest"
	cfemu "github.com/neko-defense/nekoctl/pkg/emulator/cloudflare"
)

// slowStack is the guide's stack for the real binary with both emulators
// slowed down, so that a run can be interrupted part-way: the Atlas cluster
// takes clusterBuild to create, so that a change stays in flight that long.
func slowStack(t *testing.T, clusterBuild time.Duration) *binary {
	t.Helper()
	w := stacktest.New(t)
	w.Atlas.SetDurations(clusterBuild, 50*time.Millisecond, 50*time.Millisecond)
	w.CF.SetFaults(cfemu.Faults{Latency: 150 * time.Millisecond})
	w.Atlas.SetLatency(150 * time.Millisecond)
	return buildBinary(t, w)
}

// signalledRun is one nekoctl process; its output is read while it runs.
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

// start starts nekoctl with the spec and returns at once.
func (b *binary) start(t *testing.T, args ...string) *signalledRun {
	t.Helper()
	r := &signalledRun{done: make(chan struct{})}
	r.cmd = b.command(append(args, "-f", b.w.Spec)...)
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

// converges runs up to its end at full speed, then checks the plan is
// empty and that nothing exists twice.
func (b *binary) converges(t *testing.T, upArgs ...string) {
	t.Helper()
	b.w.CF.SetFaults(cfemu.Faults{})
	b.w.Atlas.SetLatency(0)
	up := b.start(t, append([]string{"up", "--yes"}, upArgs...)...)
	if code := up.wait(t, 5*time.Minute); code != 0 {
		t.Fatalf("up after the interruption: exit %d\n%s", code, up.output())
	}
	b.mustRun(t, 0, "plan", "-f", b.w.Spec, "--detailed-exitcode")
	b.w.CheckOneOfEach(t)
}

// clusterCreating is the line of the Atlas cluster's create starting: from
// then on, a change is in flight for as long as the cluster builds.
const clusterCreating = `atlas[project/neko-defense].cluster["neko-global"]: creating...`

// TestCtrlCStopsSchedulingAndExits130: the first SIGINT lets the changes in
// flight finish, starts no more, releases the lock, lists what was made and
// what was not, and exits 130; a second `up` converges with no duplicates.
func TestCtrlCStopsSchedulingAndExits130(t *testing.T) {
	b := slowStack(t, 3*time.Second)

	up := b.start(t, "up", "--yes")
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
	if h := b.lockHolder(t); h != "" {
		t.Errorf("the lock is still held by %q", h)
	}
	b.converges(t)
}

// TestSecondCtrlCAborts: a second SIGINT cuts the calls in flight short and
// exits 130 at once, reporting them interrupted; the lock is left to expire,
// and the next `up`, waiting for it, converges with no duplicates.
func TestSecondCtrlCAborts(t *testing.T) {
	b := slowStack(t, 30*time.Second)

	up := b.start(t, "up", "--yes", "--lock-lease", "3s")
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
	if h := b.lockHolder(t); h == "" {
		t.Error("the aborted run released the lock; it should be left to expire")
	}
	b.converges(t, "--lock-timeout", "1m")
}
