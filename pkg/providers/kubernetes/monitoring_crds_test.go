package kubernetes

import (
	"context"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/neko-defense/nekoctl/pkg/plan"
	"github.com/neko-defense/nekoctl/pkg/provider"
	"github.com/neko-defense/nekoctl/pkg/spec"
)

// TestMissingOperatorCRDsWarnOncePerRegion: with spec.monitoring.install
// off, a region whose cluster lacks the Prometheus Operator's CRDs gets one
// warning naming exactly the missing ones and how many objects are skipped
// (us-east serves ServiceMonitor and PrometheusRule but not
// AlertmanagerConfig; the other regions serve none), no warning event per
// object, and the same answer from the read-only check `validate --online`
// uses. A teardown plan warns about nothing.
func TestMissingOperatorCRDsWarnOncePerRegion(t *testing.T) {
	needCluster(t)
	t.Parallel()
	st := isolatedStack("nocrds")
	st.Spec.Monitoring.Alerting.Receivers = []spec.AlertReceiver{{Name: "oncall", Type: spec.ReceiverEmail,
		To: "oncall@nekodefense.example", From: "alerts@nekodefense.example", Smarthost: "smtp.nekodefense.example:587"}}
	all := []string{"alertmanagerconfigs.monitoring.coreos.com", "prometheusrules.monitoring.coreos.com", "servicemonitors.monitoring.coreos.com"}
	want := map[string]MissingCRDs{
		"us-east":      {Region: "us-east", CRDs: all[:1], Skipped: 1},
		"eu-west":      {Region: "eu-west", CRDs: all, Skipped: 3},
		"asia-pacific": {Region: "asia-pacific", CRDs: all, Skipped: 3},
	}
	for _, region := range regions {
		t.Run(region, func(t *testing.T) {
			ev := &events{}
			p := newProvider(t, st, region, ev)
			for range 2 { // a second plan does not count the objects again
				changes := planRegion(t, p, upstream(), provider.Options{})
				if diff := cmp.Diff([]plan.Diagnostic{{Severity: plan.SeverityWarning, Provider: Name, Region: region,
					Message: want[region].String()}}, p.Diagnostics()); diff != "" {
					t.Errorf("diagnostics (-want +got):\n%s", diff)
				}
				skipped := 0
				for _, c := range changes {
					if c.Action == plan.NoOp && contains(c.Notes, "skipped: the cluster does not serve monitoring.coreos.com/") {
						skipped++
					}
				}
				if skipped != want[region].Skipped {
					t.Errorf("%d changes carry the skip note, want %d: %v", skipped, want[region].Skipped, notesOf(changes))
				}
			}
			for _, m := range ev.messages() {
				if strings.HasPrefix(m, "warning") {
					t.Errorf("warning event: %s", m)
				}
			}
			got, err := newProvider(t, st, region, nil).MonitoringCRDs(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(want[region], got); diff != "" {
				t.Errorf("MonitoringCRDs (-want +got):\n%s", diff)
			}
			planRegion(t, p, upstream(), provider.Options{Destroy: true})
			if d := p.Diagnostics(); len(d) != 0 {
				t.Errorf("teardown plan warns: %v", d)
			}
		})
	}
	const text = "region eu-west: the cluster does not serve the Prometheus Operator's CRDs alertmanagerconfigs.monitoring.coreos.com, " +
		"prometheusrules.monitoring.coreos.com, servicemonitors.monitoring.coreos.com, and spec.monitoring.install is false: " +
		"3 monitoring objects are skipped; install the Prometheus Operator in this cluster, set spec.monitoring.install: true " +
		"to have nekoctl install kube-prometheus-stack, or set spec.workload.monitoring.serviceMonitor and alerts to false to deploy none of them"
	if got := want["eu-west"].String(); got != text {
		t.Errorf("warning:\n%s\nwant:\n%s", got, text)
	}
}

// TestMonitoringCRDsWithTheReleaseInstalled: when nekoctl installs the
// monitoring release, it brings the CRDs: nothing is missing, and the
// check reads nothing from the cluster.
func TestMonitoringCRDsWithTheReleaseInstalled(t *testing.T) {
	st := isolatedStack("withrelease")
	st.Spec.Monitoring.Install = spec.Bool(true)
	got, err := New(st, "eu-west", nil, Config{}).MonitoringCRDs(context.Background())
	if err != nil || got.Missing() {
		t.Errorf("MonitoringCRDs = %+v, %v", got, err)
	}
}
