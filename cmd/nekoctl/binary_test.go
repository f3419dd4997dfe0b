package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/neko-defense/nekoctl/internal/stacktest"
	"github.com/neko-defense/nekoctl/pkg/cmd/factory"
)

// binary is the nekoctl binary built from this tree, run against a world.
type binary struct {
	path string
	w    *stacktest.World
	home string
}

var (
	buildOnce sync.Once
	builtPath string
	buildErr  error
)

// buildBinary builds cmd/nekoctl once for the test process: the binary
// users run, not this test binary. TestMain removes it.
func buildBinary(t *testing.T, w *stacktest.World) *binary {
	t.Helper()
	buildOnce.Do(func() {
		dir, err := os.MkdirTemp("", "nekoctl-bin-")
		if err != nil {
			buildErr = err
			return
		}
		builtPath = filepath.Join(dir, "nekoctl")
		if out, err := exec.Command("go", "build", "-o", builtPath, ".").CombinedOutput(); err != nil {
			buildErr = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return &binary{path: builtPath, w: w, home: t.TempDir()}
}

// removeBinary removes what buildBinary built, if it built anything.
func removeBinary() {
	if builtPath != "" {
		_ = os.RemoveAll(filepath.Dir(builtPath))
	}
}

// command is one nekoctl command line with the world's environment and
// nothing else of this process's, so that no credentials leak in.
func (b *binary) command(args ...string) *exec.Cmd {
	cmd := exec.Command(b.path, args...)
	cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "HOME=" + b.home, "USER=tester", "TERM=xterm-256color"}
	for k, v := range b.w.Env {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	return cmd
}

// run is one finished command: its output and exit code.
type run struct {
	out  string
	code int
	pid  int
	took time.Duration
}

func (b *binary) run(t *testing.T, args ...string) run {
	t.Helper()
	cmd := b.command(args...)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	return finish(t, cmd, &out, time.Now())
}

func finish(t *testing.T, cmd *exec.Cmd, out *bytes.Buffer, start time.Time) run {
	t.Helper()
	err := cmd.Wait()
	r := run{out: out.String(), pid: cmd.Process.Pid, took: time.Since(start)}
	var ee *exec.ExitError
	switch {
	case errors.As(err, &ee):
		r.code = ee.ExitCode()
	case err != nil:
		// Errorf, not Fatalf: finish also runs on goroutines.
		t.Errorf("%s: %v", cmd.Args, err)
		r.code = -1
	}
	return r
}

// mustRun runs a command that must exit with code want.
func (b *binary) mustRun(t *testing.T, want int, args ...string) run {
	t.Helper()
	r := b.run(t, args...)
	if r.code != want {
		t.Fatalf("nekoctl %s: exit %d, want %d:\n%s", strings.Join(args, " "), r.code, want, r.out)
	}
	return r
}

// runner is a stacktest.Runner through the binary.
func (b *binary) runner(t *testing.T, args ...string) (string, int) {
	t.Helper()
	r := b.run(t, append(args, "-f", b.w.Spec)...)
	return r.out, r.code
}

// lockHolder is the identity written in the stack's Lease, "" when none.
func (b *binary) lockHolder(t *testing.T) string {
	t.Helper()
	l, err := b.w.Kube.Clientset("us-east").CoordinationV1().Leases(factory.LockNamespace).
		Get(context.Background(), "nekoctl-neko-defense", metav1.GetOptions{})
	if err != nil || l.Spec.HolderIdentity == nil {
		return ""
	}
	return *l.Spec.HolderIdentity
}

// holds reports whether a lock holder identity ("user@host pid N #id")
// names process pid.
func holds(identity string, pid int) bool {
	return strings.Contains(identity+" ", " pid "+strconv.Itoa(pid)+" ")
}

// TestBinaryWorkflows drives the built binary through a team's workflows
// against three real kube-apiservers and both emulators, in one world:
// two ups at once, a killed lock holder, a saved plan applied exactly and
// refused when stale, and the live view on a pseudo-terminal, to its end
// and interrupted.
func TestBinaryWorkflows(t *testing.T) {
	w := stacktest.New(t)
	b := buildBinary(t, w)
	steps := []struct {
		name string
		run  func(*testing.T, *binary)
	}{
		{"two ups at once", testConcurrentUps},
		{"a killed holder's lock expires", testKilledHolder},
		{"a saved plan applies exactly, once", testSavedPlan},
		{"a plan made stale behind its back", testStalePlan},
		{"the live view on a terminal", testLiveView},
		{"Ctrl-C ends the live view cleanly", testInterruptedLiveView},
	}
	for _, s := range steps {
		// Each step starts from the stack the step before left.
		if !t.Run(s.name, func(t *testing.T) { s.run(t, b) }) {
			return
		}
	}
}
