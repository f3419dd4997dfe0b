package stacktest

import (
	"context"
	"encoding/json"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"

	cfemu "github.com/neko-defense/nekoctl/pkg/emulator/cloudflare"
	"github.com/neko-defense/nekoctl/pkg/providers/cloudflare"
	"github.com/neko-defense/nekoctl/pkg/providers/kubernetes"
)

// BuildGuideStackByHand does what a reader of the deployment guide does
// without nekoctl: Cloudflare records, monitor, pools and load balancer
// through the Cloudflare API; the Atlas project and cluster through the
// Atlas API; in every region a namespace, the API Deployment and its
// Service with the Kubernetes client. None carries an ownership marker.
func (w *World) BuildGuideStackByHand(t *testing.T) {
	t.Helper()
	seed := func(path string, body any) string {
		t.Helper()
		raw, err := w.CF.Seed("POST", path, body)
		if err != nil {
			t.Fatal(err)
		}
		var o struct{ ID string }
		if err := json.Unmarshal(raw, &o); err != nil {
			t.Fatal(err)
		}
		return o.ID
	}
	zid := w.CF.ZoneID(Zone)
	for _, name := range []string{"api", "www.api"} {
		seed("/zones/"+zid+"/dns_records", map[string]any{"name": name, "type": "A", "content": GatewayAddress("us-east"), "proxied": true, "ttl": 1})
	}
	acct := "/accounts/" + cfemu.DefaultAccount + "/load_balancers/"
	mon := seed(acct+"monitors", map[string]any{"type": "https", "path": "/health", "expected_codes": "200", "interval": 60,
		"header": map[string]any{"Host": []string{"api." + Zone}}, "description": "api health"})
	pools := map[string]string{}
	for _, r := range Regions {
		pools[r] = seed(acct+"pools", map[string]any{"name": cloudflare.PoolName("neko-defense", r), "monitor": mon, "minimum_origins": 1,
			"origins": []map[string]any{{"name": r, "address": GatewayAddress(r), "enabled": true, "weight": 1}}})
	}
	seed("/zones/"+zid+"/load_balancers", map[string]any{"name": "api", "proxied": true, "steering_policy": "geo",
		"fallback_pool": pools["us-east"], "default_pools": []string{pools["us-east"], pools["eu-west"], pools["asia-pacific"]},
		"region_pools": map[string]any{"ENAM": []string{pools["us-east"]}, "WEU": []string{pools["eu-west"]}, "NEAS": []string{pools["asia-pacific"]}}})

	gid := w.Atlas.SeedProject("neko-defense", "")
	cluster := `{"name":"neko-global","clusterType":"REPLICASET","backupEnabled":true,"pitEnabled":true,"mongoDBMajorVersion":"8.0",
 "replicationSpecs":[{"regionConfigs":[
  {"providerName":"AWS","regionName":"US_EAST_1","priority":7,"electableSpecs":{"instanceSize":"M10","nodeCount":1}},
  {"providerName":"AWS","regionName":"EU_WEST_1","priority":6,"electableSpecs":{"instanceSize":"M10","nodeCount":1}},
  {"providerName":"AWS","regionName":"AP_NORTHEAST_1","priority":5,"electableSpecs":{"instanceSize":"M10","nodeCount":1}}]}]}`
	if err := w.Atlas.SeedCluster(gid, []byte(cluster)); err != nil {
		t.Fatal(err)
	}

	ctx := context.Background()
	const ns = "neko-defense"
	sel := map[string]string{"app.kubernetes.io/name": kubernetes.AppName, "app.kubernetes.io/instance": "neko-defense"}
	for _, r := range Regions {
		cs := w.Kube.Clientset(r)
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

// ByHandConflicts are the addresses of what BuildGuideStackByHand made that
// nekoctl would create: each is a conflict until adopted.
func ByHandConflicts() []string {
	acct := "cloudflare[account/" + cfemu.DefaultAccount + "]."
	conflicts := []string{
		`cloudflare[zone/nekodefense.example].dns_record["www.api.nekodefense.example"]`,
		`cloudflare[zone/nekodefense.example].load_balancer["api.nekodefense.example"]`,
		acct + `monitor["health"]`, acct + `pool["us-east"]`, acct + `pool["eu-west"]`, acct + `pool["asia-pacific"]`,
		`atlas[project/neko-defense].project["neko-defense"]`, `atlas[project/neko-defense].cluster["neko-global"]`,
	}
	for _, r := range Regions {
		for _, obj := range []string{`Namespace["neko-defense"]`, `Deployment["neko-defense/neko-api"]`, `Service["neko-defense/neko-api"]`} {
			conflicts = append(conflicts, "kubernetes[region/"+r+"]."+obj)
		}
	}
	return conflicts
}
