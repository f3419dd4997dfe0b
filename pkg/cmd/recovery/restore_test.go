package recovery

import (
	"context"
	"encoding/json"
	"net/url"
	"strings"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/neko-defense/nekoctl/pkg/providers/kubernetes"
)

const restoredCluster = `{"name":"neko-restored","clusterType":"REPLICASET","backupEnabled":true,
 "replicationSpecs":[{"regionConfigs":[
  {"providerName":"AWS","regionName":"US_EAST_1","priority":7,"electableSpecs":{"instanceSize":"M10","nodeCount":3}}]}]}`

// secretHost is the host of a region's MONGODB_URI and whether its API's
// pods were restarted.
func (w *world) secretHost(t *testing.T, region string) (host, user string, restarted bool) {
	t.Helper()
	ctx := context.Background()
	cs := w.Kube.Clientset(region)
	s, err := cs.CoreV1().Secrets("neko-defense").Get(ctx, "neko-api-atlas", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	u, err := url.Parse(string(s.Data["MONGODB_URI"]))
	if err != nil {
		t.Fatal("the Secret's connection string does not parse")
	}
	d, err := cs.AppsV1().Deployments("neko-defense").Get(ctx, kubernetes.AppName, metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	_, restarted = d.Spec.Template.Annotations["kubectl.kubernetes.io/restartedAt"]
	return u.Host, u.User.Username(), restarted
}

func testRestore(t *testing.T, w *world) {
	gid := w.projectID(t)
	before, user, _ := w.secretHost(t, "eu-west")

	// A point in time outside the restore window: Atlas refuses, nothing is switched.
	out, errOut, err := w.cli(t, "restore", "--to", "720h", "--yes")
	if err == nil || !strings.Contains(err.Error(), "INVALID_RESTORE_POINT_IN_TIME") {
		t.Fatalf("restore outside the window: %v\n%s%s", err, out, errOut)
	}

	// A point in time onto the stack's own cluster: the regions stay as they are.
	out, errOut, err = w.cli(t, "restore", "--to", "1h", "--yes")
	if err != nil {
		t.Fatalf("point-in-time restore: %v\n%s%s", err, out, errOut)
	}
	for _, s := range []string{"Restore Atlas cluster neko-global from the point in time", "onto cluster neko-global", "holds the restored data"} {
		if !strings.Contains(out, s) {
			t.Errorf("restore output lacks %q:\n%s", s, out)
		}
	}

	// A snapshot onto another cluster, then --switch every region to it.
	snap, err := w.Atlas.TakeSnapshot(gid, "neko-global")
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Atlas.SeedCluster(gid, []byte(restoredCluster)); err != nil {
		t.Fatal(err)
	}
	out, errOut, err = w.cli(t, "restore", "--snapshot", snap, "--target-cluster", "neko-restored", "--switch", "--yes", "-o", "json")
	if err != nil {
		t.Fatalf("snapshot restore: %v\n%s%s", err, out, errOut)
	}
	var res restoreResult
	if err := json.Unmarshal([]byte(out), &res); err != nil {
		t.Fatalf("-o json: %v\n%s", err, out)
	}
	if res.JobID == "" || res.Snapshot != snap || res.Target != "neko-restored" || len(res.Switched) != 3 {
		t.Errorf("result: %+v", res)
	}
	if n := w.Atlas.Requests()["POST /groups/{groupId}/clusters/{clusterName}/backup/restoreJobs"]; n != 3 {
		t.Errorf("%d restore jobs requested, want 3 (one refused)", n)
	}
	for _, r := range regions {
		host, u, restarted := w.secretHost(t, r)
		if host != "neko-restored.seed.mongodb.net" || u != user || !restarted {
			t.Errorf("region %s: host %s (was %s), user %s, restarted %v", r, host, before, u, restarted)
		}
	}
	if strings.Contains(errOut, "mongodb+srv://") {
		t.Errorf("a connection string reached the output:\n%s", errOut)
	}
}
