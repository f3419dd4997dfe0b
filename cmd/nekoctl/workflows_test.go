package main

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/neko-defense/nekoctl/internal/stacktest"
	cfemu "github.com/neko-defense/nekoctl/pkg/emulator/cloudflare"
	"github.com/neko-defense/nekoctl/pkg/plan"
	"github.com/neko-defense/nekoctl/pkg/planfile"
)

// testConcurrentUps starts two ups of the empty stack at the same moment:
// one takes the lock and builds the stack, the other refuses at once naming
// it, and every object exists once.
func testConcurrentUps(t *testing.T, b *binary) {
	// Slower Cloudflare answers keep the winner busy well past the loser's refusal.
	b.w.CF.SetFaults(cfemu.Faults{Latency: 20 * time.Millisecond})
	defer b.w.CF.SetFaults(cfemu.Faults{})
	type started struct {
		cmd   *exec.Cmd
		out   *bytes.Buffer
		start time.Time
	}
	var runs [2]started
	for i := range runs {
		runs[i].cmd = b.command("up", "-f", b.w.Spec, "--yes")
		runs[i].out = &bytes.Buffer{}
		runs[i].cmd.Stdout, runs[i].cmd.Stderr = runs[i].out, runs[i].out
	}
	for i := range runs {
		runs[i].start = time.Now()
		if err := runs[i].cmd.Start(); err != nil {
			t.Fatal(err)
		}
	}
	// Each is timed on its own: the loser must not wait for the winner.
	var done [2]run
	var wg sync.WaitGroup
	for i := range runs {
		wg.Go(func() { done[i] = finish(t, runs[i].cmd, runs[i].out, runs[i].start) })
	}
	wg.Wait()
	winner, loser := done[0], done[1]
	if winner.code != 0 {
		winner, loser = loser, winner
	}
	if winner.code != 0 || loser.code != 1 {
		t.Fatalf("want one up to succeed and one to refuse, got exits %d and %d:\n%s\n---\n%s", winner.code, loser.code, winner.out, loser.out)
	}
	if !strings.Contains(winner.out, " 0 failed, 0 skipped.") {
		t.Errorf("the winner did not apply everything:\n%s", winner.out)
	}
	if !strings.Contains(loser.out, "the stack is locked by tester@") || !strings.Contains(loser.out, fmt.Sprintf(" pid %d ", winner.pid)) {
		t.Errorf("the refusal does not name the winner (pid %d):\n%s", winner.pid, loser.out)
	}
	if strings.Contains(loser.out, "Applied") || loser.took >= winner.took {
		t.Errorf("the loser did not refuse at once (%s, the winner took %s):\n%s", loser.took, winner.took, loser.out)
	}
	t.Logf("winner %s, loser refused after %s", winner.took.Round(time.Millisecond), loser.took.Round(time.Millisecond))
	b.w.CheckOneOfEach(t)
	if h := b.lockHolder(t); h != "" {
		t.Errorf("the lock is still held after the run by %q", h)
	}
}

// testKilledHolder kills an up with SIGKILL while it holds the lock: the
// next run is refused naming the dead holder until its lease expires, and
// a run that waits for the lock then proceeds.
func testKilledHolder(t *testing.T, b *binary) {
	b.w.CF.SetFaults(cfemu.Faults{Latency: 50 * time.Millisecond})
	defer b.w.CF.SetFaults(cfemu.Faults{})
	const lease = 8 * time.Second
	cmd := b.command("up", "-f", b.w.Spec, "--yes", "--lock-lease", lease.String())
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	pid := cmd.Process.Pid
	deadline := time.Now().Add(time.Minute)
	for !holds(b.lockHolder(t), pid) {
		if time.Now().After(deadline) || cmd.ProcessState != nil {
			t.Fatalf("the up never held the lock:\n%s", out.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
	if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	_ = cmd.Wait()
	killed := time.Now()

	r := b.mustRun(t, 1, "up", "-f", b.w.Spec, "--yes")
	if time.Since(killed) < lease && !strings.Contains(r.out, fmt.Sprintf(" pid %d ", pid)) {
		t.Errorf("the run after the kill does not name the killed holder (pid %d):\n%s", pid, r.out)
	}
	r = b.mustRun(t, 0, "up", "-f", b.w.Spec, "--yes", "--lock-timeout", "1m")
	if waited := time.Since(killed); waited < lease-time.Second {
		t.Errorf("the lock was taken %s after the kill, before the %s lease expired", waited, lease)
	}
	b.mustRun(t, 0, "plan", "-f", b.w.Spec, "--detailed-exitcode")
	b.w.CheckOneOfEach(t)
}

// testSavedPlan saves a plan of a spec change, applies exactly that file,
// and refuses a second up of it as stale.
func testSavedPlan(t *testing.T, b *binary) {
	b.w.WriteSpec(t, strings.NewReplacer("replicas: {min: 3, max: 10}", "replicas: {min: 4, max: 10}"))
	file := filepath.Join(t.TempDir(), "replicas.plan")
	b.mustRun(t, 0, "plan", "-f", b.w.Spec, "-out", file)
	saved, err := planfile.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, c := range saved.Plan.Changes {
		if c.Action != plan.NoOp {
			n++
		}
	}
	if n == 0 {
		t.Fatal("the saved plan has no changes")
	}
	r := b.mustRun(t, 0, "up", file, "--yes")
	if strings.Contains(r.out, "\x1b[") {
		t.Errorf("up without a terminal printed escape codes:\n%q", r.out)
	}
	if want := "Applied " + strconv.Itoa(n) + " change(s), 0 failed, 0 skipped."; !strings.Contains(r.out, want) {
		t.Fatalf("up FILE did not apply exactly the plan's %d changes:\n%s", n, r.out)
	}
	// Without a terminal each change starts on a plain line after the time
	// of day it started.
	if got := len(timedStart.FindAllString(r.out, -1)); got != n {
		t.Errorf("%d timestamped lines of a change starting, want %d:\n%s", got, n, r.out)
	}
	b.mustRun(t, 0, "plan", "-f", b.w.Spec, "--detailed-exitcode")
	r = b.mustRun(t, 1, "up", file, "--yes")
	if !strings.Contains(r.out, "the saved plan is stale, nothing was applied") {
		t.Fatalf("a second up of the same plan was not refused as stale:\n%s", r.out)
	}
}

// timedStart is the plain line of a change starting, after its time.
var timedStart = regexp.MustCompile(`(?m)^[0-2][0-9]:[0-5][0-9]:[0-5][0-9] (atlas|cloudflare|kubernetes)\[[^\n]*: (creating|updating|replacing|deleting)\.\.\.$`)

// testStalePlan saves a plan, then changes a zone setting through the
// Cloudflare API and a Deployment through the Kubernetes API: the plan is
// refused naming both, and neither change is undone.
func testStalePlan(t *testing.T, b *binary) {
	b.w.WriteSpec(t, strings.NewReplacer("replicas: {min: 3, max: 10}", "replicas: {min: 5, max: 10}"))
	file := filepath.Join(t.TempDir(), "stale.plan")
	b.mustRun(t, 0, "plan", "-f", b.w.Spec, "-out", file)

	url := b.w.CF.URL() + "/zones/" + b.w.CF.ZoneID(stacktest.Zone) + "/settings/ssl"
	req, err := http.NewRequest(http.MethodPatch, url, strings.NewReader(`{"value":"flexible"}`))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+b.w.CF.Token())
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("PATCH %s: %s", url, resp.Status)
	}
	ctx := context.Background()
	deployments := b.w.Kube.Clientset("eu-west").AppsV1().Deployments("neko-defense")
	d, err := deployments.Get(ctx, "neko-api", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	d.Spec.Template.Spec.Containers[0].Image = "neko-defense/nekoctl:hotfix"
	if _, err := deployments.Update(ctx, d, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}

	r := b.mustRun(t, 1, "up", file, "--yes")
	for _, want := range []string{
		"the saved plan is stale, nothing was applied",
		`cloudflare[zone/nekodefense.example].zone_setting["ssl"]: changed since the plan`,
		`kubernetes[region/eu-west].Deployment["neko-defense/neko-api"]: changed since the plan`,
	} {
		if !strings.Contains(r.out, want) {
			t.Errorf("the refusal does not say %s:\n%s", want, r.out)
		}
	}
	if v := b.w.CF.Setting(stacktest.Zone, "ssl"); v != "flexible" {
		t.Errorf("the refused plan changed the zone's ssl setting to %v", v)
	}
	if d, err := deployments.Get(ctx, "neko-api", metav1.GetOptions{}); err != nil || d.Spec.Template.Spec.Containers[0].Image != "neko-defense/nekoctl:hotfix" {
		t.Errorf("the refused plan changed the Deployment (%v)", err)
	}
}
