package apply

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"

	cfemu "github.com/neko-defense/nekoctl/pkg/emulator/cloudflare"
	"github.com/neko-defense/nekoctl/pkg/providers/atlas"
	"github.com/neko-defense/nekoctl/pkg/providers/cloudflare"
	"github.com/neko-defense/nekoctl/pkg/providers/kubernetes"
)

// regionAddress is the address the harness gives each region's Gateway.
var regionAddress = map[string]string{"us-east": "198.51.100.10", "eu-west": "198.51.100.11", "asia-pacific": "198.51.100.12"}

// buildGuideStackByHand does what a reader of the deployment guide does
// without nekoctl: Cloudflare records, monitor, pools and load balancer
// through the Cloudflare API; the Atlas project and cluster through the
// Atlas API; in every region a namespace, the API Deployment and its
// Service with the Kubernetes client. None carries an ownership marker.
func (w *world) buildGuideStackByHand(t *testing.T) {
	t.Helper()
	const zone = "nekodefense.example"
	seed := func(path string, body any) string {
		t.Helper()
		raw, err := w.cf.Seed("POST", path, body)
		if err != nil {
			t.Fatal(err)
		}
		var o struct{ ID string }
		if err := json.Unmarshal(raw, &o); err != nil {
			t.Fatal(err)
		}
		return o.ID
	}
	zid := w.cf.ZoneID(zone)
	for _, name := range []string{"api", "www.api"} {
		seed("/zones/"+zid+"/dns_records", map[string]any{"name": name, "type": "A", "content": regionAddress["us-east"], "proxied": true, "ttl": 1})
	}
	acct := "/accounts/" + cfemu.DefaultAccount + "/load_balancers/"
	mon := seed(acct+"monitors", map[string]any{"type": "https", "path": "/health", "expected_codes": "200", "interval": 60,
		"header": map[string]any{"Host": []string{"api." + zone}}, "description": "api health"})
	pools := map[string]string{}
	for _, r := range regions {
		pools[r] = seed(acct+"pools", map[string]any{"name": cloudflare.PoolName("neko-defense", r), "monitor": mon, "minimum_origins": 1,
			"origins": []map[string]any{{"name": r, "address": regionAddress[r], "enabled": true, "weight": 1}}})
	}
	seed("/zones/"+zid+"/load_balancers", map[string]any{"name": "api", "proxied": true, "steering_policy": "geo",
		"fallback_pool": pools["us-east"], "default_pools": []string{pools["us-east"], pools["eu-west"], pools["asia-pacific"]},
		"region_pools": map[string]any{"ENAM": []string{pools["us-east"]}, "WEU": []string{pools["eu-west"]}, "NEAS": []string{pools["asia-pacific"]}}})

	gid := w.atlas.SeedProject("neko-defense", "")
	cluster := `{"name":"neko-global","clusterType":"REPLICASET","backupEnabled":true,"pitEnabled":true,"mongoDBMajorVersion":"8.0",
 "replicationSpecs":[{"regionConfigs":[
  {"providerName":"AWS","regionName":"US_EAST_1","priority":7,"electableSpecs":{"instanceSize":"M10","nodeCount":1}},
  {"providerName":"AWS","regionName":"EU_WEST_1","priority":6,"electableSpecs":{"instanceSize":"M10","nodeCount":1}},
  {"providerName":"AWS","regionName":"AP_NORTHEAST_1","priority":5,"electableSpecs":{"instanceSize":"M10","nodeCount":1}}]}]}`
	if err := w.atlas.SeedCluster(gid, []byte(cluster)); err != nil {
		t.Fatal(err)
	}

	ctx := context.Background()
	const ns = "neko-defense"
	sel := map[string]string{"app.kubernetes.io/name": kubernetes.AppName, "app.kubernetes.io/instance": "neko-defense"}
	for _, r := range regions {
		cs := w.kube.Clientset(r)
		if _, err := cs.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
		d := &appsv1.Deployment{ObjectMeta: metav1.ObjectMeta{Name: kubernetes.AppName, Namespace: ns},
			Spec: appsv1.DeploymentSpec{Selector: &metav1.LabelSelector{MatchLabels: sel},
				Template: corev1.PodTemplateSpec{ObjectMeta: metav1.ObjectMeta{Labels: sel},
					Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "api", Image: "neko-defense/nekoctl:0.9.0"}}}}}}
		if _, err := cs.AppsV1().Deployments(ns).Create(ctx, d, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
		svc := &corev1.Service{ObjectMeta: metav1.ObjectMeta{Name: kubernetes.AppName, Namespace: ns},
			Spec: corev1.ServiceSpec{Selector: sel, Ports: []corev1.ServicePort{{Name: "http", Port: 80, TargetPort: intstr.FromInt32(8080)}}}}
		if _, err := cs.CoreV1().Services(ns).Create(ctx, svc, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
	}
}

// TestGuideStackBuiltByHandIsAdopted: `up` of a stack built by hand stops
// at the plan, naming every conflict in every provider, and writes
// nothing; `up --adopt` takes everything over without making a second copy
// of anything; the next plan is empty (exit 0 with --detailed-exitcode).
func TestGuideStackBuiltByHandIsAdopted(t *testing.T) {
	w := newWorld(t)
	w.buildGuideStackByHand(t)
	w.cf.ResetCalls()
	w.atlas.ResetCounts()

	out, err := w.cli(t, "up", "-f", w.spec, "--yes")
	if err == nil {
		t.Fatalf("up of a stack built by hand applied:\n%s", out)
	}
	acct := "cloudflare[account/" + cfemu.DefaultAccount + "]."
	conflicts := []string{
		`cloudflare[zone/nekodefense.example].dns_record["www.api.nekodefense.example"]`,
		`cloudflare[zone/nekodefense.example].load_balancer["api.nekodefense.example"]`,
		acct + `monitor["health"]`, acct + `pool["us-east"]`, acct + `pool["eu-west"]`, acct + `pool["asia-pacific"]`,
		`atlas[project/neko-defense].project["neko-defense"]`, `atlas[project/neko-defense].cluster["neko-global"]`,
	}
	for _, r := range regions {
		for _, obj := range []string{`Namespace["neko-defense"]`, `Deployment["neko-defense/neko-api"]`, `Service["neko-defense/neko-api"]`} {
			conflicts = append(conflicts, "kubernetes[region/"+r+"]."+obj)
		}
	}
	for _, c := range append(conflicts, "--adopt", "nothing was applied") {
		if !strings.Contains(err.Error(), c) {
			t.Errorf("the refusal does not name %s:\n%v", c, err)
		}
	}
	if n := w.cf.Writes(); n != 0 || w.atlas.Mutations() != 0 {
		t.Errorf("the refused up wrote: %d Cloudflare writes, %d Atlas mutations", n, w.atlas.Mutations())
	}
	if d, err := w.kube.Clientset("eu-west").AppsV1().Deployments("neko-defense").Get(context.Background(), kubernetes.AppName, metav1.GetOptions{}); err != nil ||
		d.Labels[kubernetes.LabelPartOf] != "" {
		t.Errorf("the refused up touched the Deployment: %v %v", err, d.Labels)
	}

	out, err = w.cli(t, "up", "-f", w.spec, "--yes", "--adopt")
	if err != nil {
		t.Fatalf("up --adopt: %v\n%s", err, out)
	}
	if !strings.Contains(out, "<= ") {
		t.Errorf("up --adopt did not show the adoptions:\n%s", out)
	}
	out, err = w.cli(t, "plan", "-f", w.spec, "--detailed-exitcode")
	if err != nil {
		t.Fatalf("the plan after adopting is not empty (%v):\n%s", err, out)
	}

	// Nothing exists twice, and everything carries the stack's marker.
	marker := cloudflare.Marker("neko-defense")
	if mons, pools, lbs := w.cf.Monitors(), w.cf.Pools(), w.cf.LoadBalancers("nekodefense.example"); len(mons) != 1 || len(pools) != 3 || len(lbs) != 1 ||
		mons[0].Description != marker || lbs[0].Description != marker {
		t.Errorf("after adopting: %d monitors, %d pools, %d load balancers (%+v)", len(mons), len(pools), len(lbs), lbs)
	}
	for _, rec := range w.cf.Records("nekodefense.example") {
		if rec.Name == "www.api.nekodefense.example" && (rec.Type != "CNAME" || rec.Comment != marker) {
			t.Errorf("www.api after adopting: %+v", rec)
		}
	}
	gid, _ := w.atlas.ProjectID("neko-defense")
	if names := w.atlas.ClusterNames(gid); len(names) != 1 {
		t.Errorf("clusters after adopting: %v", names)
	}
	doc, _ := w.atlas.ClusterDoc(gid, "neko-global")
	owned := false
	if doc.Tags != nil {
		for _, tg := range *doc.Tags {
			owned = owned || tg.Key == atlas.TagStack && tg.Value == "neko-defense"
		}
	}
	if !owned {
		t.Errorf("the adopted cluster carries no stack tag: %+v", doc.Tags)
	}
	for _, r := range regions {
		d, err := w.kube.Clientset(r).AppsV1().Deployments("neko-defense").Get(context.Background(), kubernetes.AppName, metav1.GetOptions{})
		if err != nil || d.Labels[kubernetes.LabelPartOf] == "" || !strings.HasPrefix(d.Spec.Template.Spec.Containers[0].Image, "neko-defense/nekoctl:1.0.0@") {
			t.Errorf("%s: Deployment after adopting: %v", r, err)
		}
	}
}
