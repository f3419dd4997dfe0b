package status

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/spf13/cobra"

	"github.com/neko-defense/nekoctl/internal/golden"
	"github.com/neko-defense/nekoctl/internal/stacktest"
	"github.com/neko-defense/nekoctl/pkg/cmd/apply"
	"github.com/neko-defense/nekoctl/pkg/cmdutil"
	"github.com/neko-defense/nekoctl/pkg/provider"
)

// TestStatusOfTheGuideStack brings the guide's stack up against the
// emulators and three real kube-apiservers, then asks `status`: every
// region's pods, image and certificate, the Atlas primary and backups and
// the pools, in text and in JSON of a fixed shape; then an unhealthy pool
// (exit 3) and a region whose cluster cannot be reached (exit 4) while
// the others are still shown.
func TestStatusOfTheGuideStack(t *testing.T) {
	w := stacktest.New(t)
	if out, err := run(t, w, upCmd, "-f", w.Spec, "--yes"); err != nil {
		t.Fatalf("up: %v\n%s", err, out)
	}
	am := serveAlertmanager(t, w, "us-east")
	am.set(alert{"Watchdog", "suppressed"})

	out, err := run(t, w, statusCmd, "-f", w.Spec, "-o", "json")
	if err != nil {
		t.Fatalf("status after up: %v\n%s", err, out)
	}
	rep := decode(t, out)
	golden.Assert(t, "testdata/json-shape.txt", []byte(strings.Join(shape(t, out), "\n")+"\n"))
	if !rep.Healthy || rep.FormatVersion != FormatVersion || len(rep.Regions) != 3 {
		t.Fatalf("report: healthy %v, format %q, %d regions\n%s", rep.Healthy, rep.FormatVersion, len(rep.Regions), out)
	}
	image := "neko-defense/nekoctl:1.0.0@sha256:" + strings.Repeat("ab", 32)
	for _, r := range rep.Regions {
		if !r.Healthy || !r.Reachable || r.Primary != (r.Name == "us-east") {
			t.Errorf("%s: healthy %v, reachable %v, primary %v: %v", r.Name, r.Healthy, r.Reachable, r.Primary, r.Unhealthy)
		}
		if r.Pods == nil || r.Pods.Ready != r.Pods.Desired || r.Pods.Desired == 0 || r.Pods.HPAMax != 10 {
			t.Errorf("%s: pods %+v", r.Name, r.Pods)
		}
		if r.Image == nil || r.Image.Running != image || !r.Image.Matches {
			t.Errorf("%s: image %+v", r.Name, r.Image)
		}
		if c := r.Certificate; c == nil || c.Certificate == nil || !c.Healthy || c.Certificate.DaysLeft < 365 ||
			!strings.Contains(c.Certificate.Issuer, "CloudFlare") {
			t.Errorf("%s: certificate %+v", r.Name, c)
		}
		if r.Origin == nil || r.Pool == nil || r.Pool.State != "healthy" || r.Pool.Pool == nil {
			t.Errorf("%s: origin %+v, pool %+v", r.Name, r.Origin, r.Pool)
		}
	}
	if a := rep.Atlas; a == nil || a.Database == nil || a.State != "IDLE" || a.Database.PrimaryRegion != "us-east" ||
		!a.Database.BackupEnabled || !a.Database.PITREnabled || a.Database.RestoreWindowDays == 0 {
		t.Errorf("atlas: %+v", rep.Atlas)
	}
	if c := rep.Cloudflare; c == nil || c.LoadBalancer == nil || c.LoadBalancer.FallbackPool != "us-east" ||
		len(c.LoadBalancer.DefaultPools) != 3 {
		t.Errorf("cloudflare: %+v", rep.Cloudflare)
	}
	if strings.Contains(out, "PRIVATE KEY") || strings.Contains(out, "MONGODB_PASSWORD") {
		t.Errorf("status carries a secret:\n%s", out)
	}

	text, err := run(t, w, statusCmd, "-f", w.Spec)
	if err != nil {
		t.Fatalf("status: %v\n%s", err, text)
	}
	// No autoscaler runs in the test clusters: the Deployment keeps its replicas.
	pods := rep.Regions[0].Pods
	for _, want := range []string{": healthy\n", "us-east (primary)", fmt.Sprintf("%d/%d ready (max 10)", pods.Ready, pods.Desired), "neko-defense/nekoctl:1.0.0@sha256:abababababab ",
		"primary us-east (AWS/US_EAST_1); backup on, PITR on", "default pools us-east, eu-west, asia-pacific; fallback us-east",
		"healthy (", "kubernetes  eu-west"} {
		if !strings.Contains(text, want) {
			t.Errorf("text lacks %q:\n%s", want, text)
		}
	}

	for _, p := range w.CF.Pools() {
		if strings.HasSuffix(p.Name, "_eu-west") {
			w.CF.SetPoolHealthy(p.ID, false)
			defer w.CF.SetPoolHealthy(p.ID, true)
		}
	}
	out, err = run(t, w, statusCmd, "-f", w.Spec, "-o", "json")
	if code := cmdutil.ExitCode(err); code != cmdutil.ExitUnhealthy {
		t.Fatalf("status with an unhealthy pool: exit %d (%v)\n%s", code, err, out)
	}
	rep = decode(t, out)
	if r := rep.Regions[1]; rep.Healthy || r.Healthy || r.Pool.State != "unhealthy" || len(r.Pool.Pool.Failing) == 0 ||
		!rep.Regions[0].Healthy {
		t.Errorf("unhealthy eu-west pool: healthy %v, regions %+v", rep.Healthy, rep.Regions)
	}
	for _, p := range w.CF.Pools() {
		w.CF.SetPoolHealthy(p.ID, true)
	}

	// Two alerts fire in us-east: they are counted and named, in JSON and
	// in text, and make the region unhealthy.
	am.set(alert{"NekoAPIHighErrorRate", "active"}, alert{"Watchdog", "suppressed"}, alert{"NekoAPIHighLatency", "active"})
	out, err = run(t, w, statusCmd, "-f", w.Spec, "-o", "json")
	if code := cmdutil.ExitCode(err); code != cmdutil.ExitUnhealthy {
		t.Fatalf("status with alerts firing: exit %d (%v)\n%s", code, err, out)
	}
	rep = decode(t, out)
	wantAlerts := &provider.Alerts{Firing: 2, Names: []string{"NekoAPIHighErrorRate", "NekoAPIHighLatency"}}
	if m := rep.Regions[0].Monitoring; m == nil || m.Alertmanager == nil || m.Alertmanager.Healthy {
		t.Errorf("us-east monitoring with alerts firing: %+v", m)
	} else if diff := cmp.Diff(wantAlerts, m.Alertmanager.Alerts); diff != "" {
		t.Errorf("us-east alertmanager.alerts (-want +got):\n%s", diff)
	}
	if rep.Healthy || rep.Regions[0].Healthy || !rep.Regions[1].Healthy || rep.Regions[1].Monitoring != nil {
		t.Errorf("healthy %v, regions %+v", rep.Healthy, rep.Regions)
	}
	if text, _ = run(t, w, statusCmd, "-f", w.Spec); !strings.Contains(text, "2 firing") {
		t.Errorf("text does not show the alerts firing:\n%s", text)
	}
	am.set()

	// asia-pacific's kubeconfig context is gone; --parallelism 1 reads one
	// provider at a time and still reports every other one.
	w.WriteSpec(t, strings.NewReplacer("kubeContext: asia-pacific", "kubeContext: gone"))
	out, err = run(t, w, statusCmd, "-f", w.Spec, "-o", "json", "--parallelism", "1")
	if code := cmdutil.ExitCode(err); code != cmdutil.ExitUnreachable {
		t.Fatalf("status with a region unreachable: exit %d (%v)\n%s", code, err, out)
	}
	rep = decode(t, out)
	ap := rep.Regions[2]
	if ap.Name != "asia-pacific" || ap.Reachable || ap.Healthy || !strings.Contains(ap.Error, `"gone"`) || ap.Pool == nil || !ap.Pool.Healthy {
		t.Errorf("unreachable region: %+v", ap)
	}
	if !rep.Regions[0].Reachable || rep.Regions[0].Pods == nil || rep.Atlas == nil || !rep.Atlas.Healthy {
		t.Errorf("the other regions and Atlas are not shown: %+v", rep)
	}
	text, _ = run(t, w, statusCmd, "-f", w.Spec)
	if !strings.Contains(text, "asia-pacific  unreachable") && !strings.Contains(text, "asia-pacific       unreachable") {
		t.Errorf("text does not show asia-pacific unreachable:\n%s", text)
	}
}

// alert is one alert a stand-in Alertmanager holds: its name and state.
type alert struct{ name, state string }

// standInAlertmanager answers GET /api/v2/alerts as Alertmanager does,
// from the alerts last set, and refuses any other request.
type standInAlertmanager struct {
	t      *testing.T
	mu     sync.Mutex
	alerts []alert
}

func (a *standInAlertmanager) set(alerts ...alert) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.alerts = alerts
}

func (a *standInAlertmanager) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	if r.Method != http.MethodGet || r.URL.Path != "/api/v2/alerts" ||
		q.Get("active") != "true" || q.Get("silenced") != "false" || q.Get("inhibited") != "false" {
		a.t.Errorf("Alertmanager asked %s %s", r.Method, r.URL)
		http.NotFound(w, r)
		return
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	body := []map[string]any{}
	for _, al := range a.alerts {
		body = append(body, map[string]any{"labels": map[string]string{"alertname": al.name, "severity": "critical"},
			"status": map[string]any{"state": al.state, "silencedBy": []string{}, "inhibitedBy": []string{}}})
	}
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(body)
}

// serveAlertmanager puts a stand-in Alertmanager behind the Service the
// Prometheus Operator makes (monitoring/alertmanager-operated, port web)
// in one region, reached through its API server's service proxy.
func serveAlertmanager(t *testing.T, w *stacktest.World, region string) *standInAlertmanager {
	t.Helper()
	am := &standInAlertmanager{t: t}
	stop, err := w.Kube.ServeService(context.Background(), region, "monitoring", "alertmanager-operated", "web", am)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(stop)
	return am
}

func upCmd(f *cmdutil.Factory) *cobra.Command     { return apply.NewCmdUp(f, nil) }
func statusCmd(f *cmdutil.Factory) *cobra.Command { return NewCmdStatus(f, nil) }

// run runs one command against the world and returns what it printed.
func run(t *testing.T, w *stacktest.World, mk func(*cmdutil.Factory) *cobra.Command, args ...string) (string, error) {
	t.Helper()
	f, out, errOut := w.Factory()
	c := mk(f)
	c.SilenceErrors, c.SilenceUsage = true, true
	c.SetArgs(args)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	err := c.ExecuteContext(ctx)
	if err != nil {
		t.Logf("%v: %v\n%s", args, err, errOut)
	}
	return out.String(), err
}

func decode(t *testing.T, out string) Report {
	t.Helper()
	var rep Report
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatalf("status -o json is not a report: %v\n%s", err, out)
	}
	return rep
}

// shape lists every key path of a JSON document, array elements as [],
// so that a field renamed or dropped shows in the golden file.
func shape(t *testing.T, doc string) []string {
	t.Helper()
	var v any
	if err := json.Unmarshal([]byte(doc), &v); err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	var walk func(path string, v any)
	walk = func(path string, v any) {
		switch v := v.(type) {
		case map[string]any:
			for k, e := range v {
				walk(path+"."+k, e)
			}
		case []any:
			for _, e := range v {
				walk(path+"[]", e)
			}
		default:
			seen[fmt.Sprintf("%s: %T", path, v)] = true
		}
	}
	walk("", v)
	out := make([]string, 0, len(seen))
	for k := range seen {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
