package apply

import (
	"context"
	"errors"
	"os"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/neko-defense/nekoctl/internal/stacktest"
	"github.com/neko-defense/nekoctl/pkg/cmd/plan"
	"github.com/neko-defense/nekoctl/pkg/cmd/status"
	"github.com/neko-defense/nekoctl/pkg/cmdutil"
	"github.com/neko-defense/nekoctl/pkg/providers/kubernetes"
)

var regions = stacktest.Regions

// world is the whole stack's outside world on this machine (the two
// service emulators and one real kube-apiserver per region), with this
// package's ways of running commands against it.
type world struct{ *stacktest.World }

func newWorld(t *testing.T) *world { return &world{stacktest.New(t)} }

func (w *world) run(t *testing.T, cmd string, mutate func(*ApplyOptions)) (string, error) {
	return w.runFor(t, 5*time.Minute, cmd, mutate)
}

// runFor runs cmd with a deadline; a short one interrupts it part-way.
func (w *world) runFor(t *testing.T, limit time.Duration, cmd string, mutate func(*ApplyOptions)) (string, error) {
	t.Helper()
	f, out, errOut := w.Factory()
	ctx, cancel := context.WithTimeout(context.Background(), limit)
	defer cancel()
	var err error
	switch cmd {
	case "status":
		c := status.NewCmdStatus(f, nil)
		c.SilenceErrors, c.SilenceUsage = true, true
		c.SetArgs([]string{"-f", w.Spec})
		err = c.ExecuteContext(ctx)
	case "plan":
		c := plan.NewCmdPlan(f, nil)
		c.SilenceErrors, c.SilenceUsage = true, true
		c.SetArgs([]string{"-f", w.Spec, "--detailed-exitcode"})
		err = c.ExecuteContext(ctx)
	default:
		o := &ApplyOptions{F: f, Yes: true}
		o.File, o.Output, o.Parallelism = w.Spec, "text", 8
		o.Lock.Enabled = true
		o.Provider.Destroy = cmd == "down"
		if mutate != nil {
			mutate(o)
		}
		err = applyRun(ctx, o)
	}
	return out.String() + errOut.String(), err
}

// TestWholeStackJourney brings the guide's stack up across Cloudflare, Atlas
// and three Kubernetes API servers through the CLI's own code paths, checks
// that a second plan is empty, then tears it down.
func TestWholeStackJourney(t *testing.T) {
	w := newWorld(t)

	out, err := w.run(t, "up", nil)
	if err != nil {
		t.Fatalf("up: %v\n%s", err, out)
	}
	if !strings.Contains(out, " 0 failed, 0 skipped.") {
		t.Fatalf("up did not apply everything:\n%s", out)
	}

	out, err = w.run(t, "plan", nil)
	if err != nil {
		t.Fatalf("second plan is not empty (%v):\n%s", err, out)
	}

	out, err = w.run(t, "status", nil)
	if err != nil {
		t.Fatalf("status after up is not healthy (%v):\n%s", err, out)
	}
	for _, want := range []string{"atlas", "cloudflare", "kubernetes  eu-west"} {
		if !strings.Contains(out, want) {
			t.Errorf("status lacks %q:\n%s", want, out)
		}
	}

	rolloutAndRollBack(t, w)

	if n := len(w.CF.Pools()); n != 3 {
		t.Errorf("pools = %d, want 3", n)
	}
	if lbs := w.CF.LoadBalancers("nekodefense.example"); len(lbs) != 1 {
		t.Errorf("load balancers = %d, want 1", len(lbs))
	}
	gid, ok := w.Atlas.ProjectID("neko-defense")
	if !ok {
		t.Fatal("no Atlas project")
	}
	if st, _ := w.Atlas.ClusterState(gid, "neko-global"); st != "IDLE" {
		t.Errorf("cluster state = %q", st)
	}
	for _, r := range regions {
		s, err := w.Kube.Clientset(r).CoreV1().Secrets("neko-defense").Get(context.Background(), "neko-api-atlas", corev1.GetOptions{})
		if err != nil {
			t.Fatalf("%s: %v", r, err)
		}
		if !strings.HasPrefix(string(s.Data["MONGODB_URI"]), "mongodb+srv://neko-api:") {
			t.Errorf("%s: the Atlas Secret holds no connection string", r)
		}
	}

	// The protected cluster survives a plain down; everything else goes.
	out, err = w.run(t, "down", nil)
	if err != nil {
		t.Fatalf("down: %v\n%s", err, out)
	}
	if !strings.Contains(out, "protected") {
		t.Errorf("down did not say the cluster is protected:\n%s", out)
	}
	if names := w.Atlas.ClusterNames(gid); len(names) != 1 {
		t.Errorf("protected cluster was deleted: %v", names)
	}
	if n := len(w.CF.Pools()); n != 0 {
		t.Errorf("pools left after down: %d", n)
	}
	for _, r := range regions {
		_, err := w.Kube.Clientset(r).CoreV1().Namespaces().Get(context.Background(), "neko-defense", corev1.GetOptions{})
		if err == nil {
			// Deletion is asynchronous; the harness controller finishes it.
			time.Sleep(time.Second)
		}
	}

	out, err = w.run(t, "down", func(o *ApplyOptions) { o.Provider.Force = true })
	if err != nil {
		t.Fatalf("down --force: %v\n%s", err, out)
	}
	if names := w.Atlas.ClusterNames(gid); len(names) != 0 {
		t.Errorf("cluster left after down --force: %v", names)
	}
	var ec *cmdutil.ExitCodeError
	if _, err := w.run(t, "plan", nil); !errors.As(err, &ec) {
		t.Errorf("after down, a plan should show creates again, got %v", err)
	}
}

// TestInterruptedUpConverges interrupts `up` twice at different points, then
// runs it to the end: the stack must converge with no duplicate objects and
// an empty plan.
func TestInterruptedUpConverges(t *testing.T) {
	w := newWorld(t)
	interrupted := 0
	for _, after := range []time.Duration{500 * time.Millisecond, 1000 * time.Millisecond, 1500 * time.Millisecond} {
		out, err := w.runFor(t, after, "up", nil)
		t.Logf("up with a %s deadline: %v", after, firstLine(err))
		if err == nil {
			continue
		}
		// The deadline stops the run like Ctrl-C: changes not made are reported
		// as interrupted; a call cut short in flight names the deadline.
		if text := err.Error() + out; !strings.Contains(text, "interrupted") && !strings.Contains(text, "context deadline") {
			t.Fatalf("interrupted up failed for another reason: %v\n%s", err, out)
		}
		interrupted++
	}
	if interrupted == 0 {
		t.Fatal("no up was interrupted: the deadlines are too long for this machine")
	}
	if out, err := w.run(t, "up", nil); err != nil {
		t.Fatalf("up after interruptions: %v\n%s", err, out)
	}
	if out, err := w.run(t, "plan", nil); err != nil {
		t.Fatalf("plan after converging is not empty (%v):\n%s", err, out)
	}
	w.CheckOneOfEach(t)
}

func firstLine(err error) string {
	if err == nil {
		return "finished"
	}
	line, _, _ := strings.Cut(err.Error(), "\n")
	return line
}

// rolloutAndRollBack rolls a new image out wave by wave, then takes one
// region back to the image it ran before with `nekoctl rollback`.
func rolloutAndRollBack(t *testing.T, w *world) {
	t.Helper()
	src, err := os.ReadFile(w.Spec)
	if err != nil {
		t.Fatal(err)
	}
	before := "neko-defense/nekoctl:1.0.0@sha256:" + strings.Repeat("ab", 32)
	after := "neko-defense/nekoctl:1.0.1@sha256:" + strings.Repeat("cd", 32)
	if err := os.WriteFile(w.Spec, []byte(strings.Replace(string(src), before, after, 1)), 0o600); err != nil {
		t.Fatal(err)
	}
	out, err := w.run(t, "up", nil)
	if err != nil {
		t.Fatalf("up of a new image: %v\n%s", err, out)
	}
	if !strings.Contains(out, "Rollout of the workload in 3 wave(s)") || !strings.Contains(out, "wave 1: eu-west") {
		t.Errorf("the plan of a new image shows no waves:\n%s", out)
	}
	out, err = w.cli(t, "rollback", "-f", w.Spec, "--region", "eu-west", "--yes")
	if err != nil {
		t.Fatalf("rollback: %v\n%s", err, out)
	}
	for _, want := range []string{"roll back to the revision recorded before the last change (" + before + ")", "Rolled back 1 region(s), 0 failed."} {
		if !strings.Contains(out, want) {
			t.Errorf("rollback output lacks %q:\n%s", want, out)
		}
	}
	for r, want := range map[string]string{"eu-west": before, "us-east": after} {
		d, err := w.Kube.Clientset(r).AppsV1().Deployments("neko-defense").Get(context.Background(), kubernetes.AppName, corev1.GetOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if got := d.Spec.Template.Spec.Containers[0].Image; got != want {
			t.Errorf("%s runs %s, want %s", r, got, want)
		}
	}
}
