package apply

import (
	"context"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/spf13/cobra"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/neko-defense/nekoctl/pkg/cmd/output"
	"github.com/neko-defense/nekoctl/pkg/cmd/plan"
	"github.com/neko-defense/nekoctl/pkg/cmd/rollback"
	"github.com/neko-defense/nekoctl/pkg/cmd/show"
	plans "github.com/neko-defense/nekoctl/pkg/plan"
	"github.com/neko-defense/nekoctl/pkg/planfile"
	"github.com/neko-defense/nekoctl/pkg/providers/kubernetes"
)

// cli runs one command line through the commands users run, flag parsing
// and the `-out` spelling included, against this world.
func (w *world) cli(t *testing.T, args ...string) (string, error) {
	t.Helper()
	f, out, errOut := w.Factory()
	root := &cobra.Command{Use: "nekoctl", SilenceErrors: true, SilenceUsage: true}
	root.AddCommand(plan.NewCmdPlan(f, nil), NewCmdUp(f, nil), NewCmdDown(f, nil), show.NewCmdShow(f, nil), output.NewCmdOutput(f, nil),
		rollback.NewCmdRollback(f, nil))
	root.SetArgs(plan.NormalizeOutFlag(args))
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	err := root.ExecuteContext(ctx)
	return out.String() + errOut.String(), err
}

// TestSavedPlanJourney saves plans and applies them with `up FILE`: a plan
// applies exactly, a second `up` of it is refused as stale, a plan made
// stale behind its back names every changed resource and applies nothing,
// and a saved destroy plan tears the stack down as `down` would.
func TestSavedPlanJourney(t *testing.T) {
	w := newWorld(t)
	dir := t.TempDir()
	first, second, destroy := filepath.Join(dir, "first.plan"), filepath.Join(dir, "second.plan"), filepath.Join(dir, "destroy.plan")

	out, err := w.cli(t, "plan", "-f", w.Spec, "-out", first)
	if err != nil || !strings.Contains(out, "Saved the plan to "+first) {
		t.Fatalf("plan -out: %v\n%s", err, out)
	}
	saved, err := planfile.ReadFile(first)
	if err != nil {
		t.Fatal(err)
	}
	if n := saved.Plan.Summary().Add; n < 40 {
		t.Fatalf("the first plan creates %d resources", n)
	}
	if n := len(w.CF.Pools()); n != 0 {
		t.Fatalf("plan -out created %d pools", n)
	}

	out, err = w.cli(t, "up", first, "--yes")
	if err != nil {
		t.Fatalf("up FILE: %v\n%s", err, out)
	}
	planned := 0
	for _, c := range saved.Plan.Changes {
		if c.Action != plans.NoOp {
			planned++
		}
	}
	if want := "Applied " + strconv.Itoa(planned) + " change(s), 0 failed, 0 skipped."; !strings.Contains(out, want) {
		t.Fatalf("up FILE did not apply exactly the plan's %d changes:\n%s", planned, out)
	}
	if out, err := w.cli(t, "plan", "-f", w.Spec, "--detailed-exitcode"); err != nil {
		t.Fatalf("the plan after up FILE is not empty (%v):\n%s", err, out)
	}

	checkOutputs(t, w)

	out, err = w.cli(t, "up", first, "--yes")
	if err == nil || !strings.Contains(err.Error(), "the saved plan is stale, nothing was applied") ||
		!strings.Contains(err.Error(), `cloudflare[zone/nekodefense.example].load_balancer["api.nekodefense.example"]: created since the plan; planned to create, it would now no-op`) {
		t.Fatalf("a second up of the same plan was not refused as stale: %v\n%s", err, out)
	}

	// A plan of the converged stack, then two edits behind its back.
	if out, err := w.cli(t, "plan", "-f", w.Spec, "-out", second); err != nil {
		t.Fatalf("plan -out: %v\n%s", err, out)
	}
	text, err := os.ReadFile(second)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	for _, r := range regions {
		s, err := w.Kube.Clientset(r).CoreV1().Secrets("neko-defense").Get(ctx, "neko-api-atlas", metav1.GetOptions{})
		if err != nil {
			t.Fatal(err)
		}
		for k, v := range s.Data {
			if len(v) > 8 && strings.Contains(string(text), string(v)) {
				t.Errorf("the plan file holds the secret %s/%s", r, k)
			}
		}
	}
	if _, err := w.CF.Seed("PATCH", "/zones/"+w.CF.ZoneID("nekodefense.example")+"/settings/ssl", map[string]any{"value": "flexible"}); err != nil {
		t.Fatal(err)
	}
	deployments := w.Kube.Clientset("eu-west").AppsV1().Deployments("neko-defense")
	d, err := deployments.Get(ctx, kubernetes.AppName, metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	deployed := d.Spec.Template.Spec.Containers[0].Image
	d.Spec.Template.Spec.Containers[0].Image = "neko-defense/nekoctl:hotfix"
	if _, err := deployments.Update(ctx, d, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	out, err = w.cli(t, "up", second, "--yes")
	if err == nil {
		t.Fatalf("a plan made stale behind its back was applied:\n%s", out)
	}
	for _, want := range []string{
		`cloudflare[zone/nekodefense.example].zone_setting["ssl"]: changed since the plan`,
		`kubernetes[region/eu-west].Deployment["neko-defense/neko-api"]: changed since the plan`,
		`spec.template.spec.containers[0].image ` + shortValue(deployed) + ` → "neko-defense/nekoctl:hotfix"`,
	} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("the refusal does not name %s:\n%v", want, err)
		}
	}
	if v := w.CF.Setting("nekodefense.example", "ssl"); v != "flexible" {
		t.Errorf("the refused plan changed the zone's ssl setting to %v", v)
	}

	// A destroy plan, saved and applied as `down` would.
	if out, err := w.cli(t, "plan", "-f", w.Spec, "--destroy", "-out", destroy); err != nil {
		t.Fatalf("plan --destroy -out: %v\n%s", err, out)
	}
	out, err = w.cli(t, "show", destroy, "-o", "markdown")
	if err != nil || !strings.Contains(out, "### nekoctl destroy plan: stack `neko-defense`") || !strings.Contains(out, "to destroy.**") {
		t.Fatalf("show -o markdown: %v\n%s", err, out)
	}
	out, err = w.cli(t, "up", destroy, "--yes")
	if err != nil {
		t.Fatalf("up of a destroy plan: %v\n%s", err, out)
	}
	if n := len(w.CF.Pools()); n != 0 {
		t.Errorf("pools left after the destroy plan: %d", n)
	}
	if lbs := w.CF.LoadBalancers("nekodefense.example"); len(lbs) != 0 {
		t.Errorf("load balancers left after the destroy plan: %d", len(lbs))
	}
	if _, err := w.cli(t, "up", destroy, "--yes"); err == nil || !strings.Contains(err.Error(), "stale") {
		t.Errorf("a second up of the destroy plan was not refused as stale: %v", err)
	}
}

// checkOutputs reads the outputs of the stack that is up: every value
// comes from a live read, and secrets print only when asked for by name.
func checkOutputs(t *testing.T, w *world) {
	t.Helper()
	ctx := context.Background()
	auth, err := w.Kube.Clientset("us-east").CoreV1().Secrets("neko-defense").Get(ctx, "neko-api-auth", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	atlasSecret, err := w.Kube.Clientset("us-east").CoreV1().Secrets("neko-defense").Get(ctx, "neko-api-atlas", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	dep, err := w.Kube.Clientset("eu-west").AppsV1().Deployments("neko-defense").Get(ctx, "neko-api", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	image := dep.Spec.Template.Spec.Containers[0].Image
	secrets := []string{string(auth.Data["ADMIN_PASSWORD"]), string(atlasSecret.Data["MONGODB_PASSWORD"]), string(atlasSecret.Data["MONGODB_URI"])}

	out, err := w.cli(t, "output", "-f", w.Spec)
	if err != nil {
		t.Fatalf("output: %v\n%s", err, out)
	}
	out = regexp.MustCompile(` +=`).ReplaceAllString(out, " =") // the names are aligned
	for _, want := range []string{
		`url = "https://api.nekodefense.example"`,
		`regions.us-east.address = "198.51.100.10"`,
		`regions.asia-pacific.address = "198.51.100.12"`,
		`regions.eu-west.image = "` + image + `"`,
		`regions.eu-west.admin_password = (sensitive)`,
		`regions.eu-west.grafana_dashboard = "ConfigMap neko-defense/neko-api-dashboard (uid neko-api)"`,
		`regions.eu-west.alert_rules = "PrometheusRule neko-defense/neko-api"`,
		`load_balancer.hostname = "api.nekodefense.example"`,
		`load_balancer.fallback_pool = "us-east"`,
		`pools.eu-west.origins = ["198.51.100.11"]`,
		`atlas.primary_region = "us-east (AWS/US_EAST_1)"`,
		`atlas.hosts = "mongodb+srv://`,
		`db_password = (sensitive)`,
		`mongodb_uri = (sensitive)`,
	} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %s:\n%s", want, out)
		}
	}
	for _, s := range secrets {
		if s == "" || strings.Contains(out, s) {
			t.Errorf("output holds a secret or the secret is empty (%d characters):\n%s", len(s), out)
		}
	}

	out, err = w.cli(t, "output", "-f", w.Spec, "regions.us-east.admin_password", "--show-sensitive")
	if err != nil || !strings.HasPrefix(out, string(auth.Data["ADMIN_PASSWORD"])+"\n/") { // then stderr's warnings
		t.Errorf("output NAME --show-sensitive printed something else than exactly the value (%v)", err)
	}
	out, err = w.cli(t, "output", "-f", w.Spec, "regions.eu-west", "-o", "json")
	if err != nil || !strings.Contains(out, `"regions.eu-west.address": "198.51.100.11"`) || !strings.Contains(out, `"regions.eu-west.admin_password": "(sensitive)"`) ||
		strings.Contains(out, "us-east") {
		t.Errorf("output PREFIX -o json: %v\n%s", err, out)
	}
	if _, err := w.cli(t, "output", "-f", w.Spec, "--show-sensitive"); err == nil || !strings.Contains(err.Error(), "needs the NAME") {
		t.Errorf("--show-sensitive without a name: %v", err)
	}
	if _, err := w.cli(t, "output", "-f", w.Spec, "regions", "--show-sensitive"); err == nil || !strings.Contains(err.Error(), "prints one value") {
		t.Errorf("--show-sensitive of many values: %v", err)
	}
}

// shortValue is a string as a refusal quotes it: cut to 60 characters.
func shortValue(s string) string {
	q := strconv.Quote(s)
	if r := []rune(q); len(r) > 60 {
		return string(r[:59]) + "…"
	}
	return q
}
