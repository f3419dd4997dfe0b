package atlas_test

import (
	"context"
	"slices"
	"strconv"
	"testing"

	"github.com/google/go-cmp/cmp"
	"go.mongodb.org/atlas-sdk/v20250312020/admin"

	"github.com/neko-defense/nekoctl/pkg/plan"
	"github.com/neko-defense/nekoctl/pkg/provider"
	"github.com/neko-defense/nekoctl/pkg/providers/atlas"
)

func alertActions(changes []plan.Change) map[string]string {
	out := map[string]string{}
	for _, c := range changes {
		if c.Address.Kind == atlas.KindAlertConfig {
			out[c.Address.Name] = string(c.Action)
		}
	}
	return out
}

// The three alert configurations are created on the stack's cluster with
// the documented event types and thresholds, read back as no-ops, follow a
// change of addresses as updates, leave Atlas's own alerts alone, lose a
// duplicate, and are pruned when external alerts are switched off.
func TestAlertConfigsLifecycle(t *testing.T) {
	e := newEnv(t)
	st := guideStack()
	st.Spec.Monitoring.Alerting.Emails = []string{"oncall@nekodefense.example"}
	out := e.up(st)
	gid, _ := e.srv.ProjectID("neko-defense")
	got := map[string]string{}
	for _, c := range e.srv.AlertConfigs(gid) {
		key := c.EventTypeName
		if c.MetricThreshold != nil {
			key += "/" + c.MetricThreshold.MetricName + ">" + fmtFloat(*c.MetricThreshold.Threshold) + " " + c.MetricThreshold.Units
		}
		if len(c.Matchers) != 1 || c.Matchers[0].Value != "neko-prod" || len(c.Notifications) != 2 ||
			c.Notifications[1].EmailAddress != "oncall@nekodefense.example" || !*c.Enabled {
			t.Errorf("%s: %+v", key, c)
		}
		got[key] = c.ID
	}
	want := []string{"OUTSIDE_METRIC_THRESHOLD/DISK_PARTITION_SPACE_USED_DATA>80 RAW", "OUTSIDE_METRIC_THRESHOLD/OPLOG_SLAVE_LAG_MASTER_TIME>60 SECONDS", "PRIMARY_ELECTED"}
	if diff := cmp.Diff(want, keys(got)); diff != "" {
		t.Fatalf("alert configurations (-want +got):\n%s", diff)
	}

	// Atlas's own default alert (no cluster matcher) and a duplicate of one of ours.
	ctx := context.Background()
	def := &admin.GroupAlertsConfig{EventTypeName: admin.PtrString("NO_PRIMARY"), Enabled: admin.PtrBool(true),
		Notifications: &[]admin.AlertsNotificationRootForGroup{{TypeName: admin.PtrString("GROUP"), EmailEnabled: admin.PtrBool(true), IntervalMin: admin.PtrInt(60)}}}
	if _, _, err := e.client.AlertConfigurationsApi.CreateAlertConfig(ctx, gid, def).Execute(); err != nil {
		t.Fatal(err)
	}
	dup := &admin.GroupAlertsConfig{EventTypeName: admin.PtrString("PRIMARY_ELECTED"), Enabled: admin.PtrBool(true),
		Matchers:      &[]admin.StreamsMatcher{{FieldName: "CLUSTER_NAME", Operator: "EQUALS", Value: "neko-prod"}},
		Notifications: &[]admin.AlertsNotificationRootForGroup{{TypeName: admin.PtrString("EMAIL"), EmailAddress: admin.PtrString("x@example.com"), IntervalMin: admin.PtrInt(60)}}}
	d, _, err := e.client.AlertConfigurationsApi.CreateAlertConfig(ctx, gid, dup).Execute()
	if err != nil {
		t.Fatal(err)
	}
	changes := planWith(t, e.provider(st, false), out, provider.Options{})
	if diff := cmp.Diff(map[string]string{"primary-elected": "no-op", "replication-lag": "no-op", "disk-usage": "no-op",
		"primary-elected#" + d.GetId(): "delete"}, alertActions(changes)); diff != "" {
		t.Errorf("plan with a duplicate (-want +got):\n%s", diff)
	}
	if err := apply(t, e.provider(st, false), changes, out); err != nil {
		t.Fatal(err)
	}

	st.Spec.Monitoring.Alerting.Emails = []string{"sre@nekodefense.example"}
	changes = planWith(t, e.provider(st, false), out, provider.Options{})
	if diff := cmp.Diff(map[string]string{"primary-elected": "update", "replication-lag": "update", "disk-usage": "update"}, alertActions(changes)); diff != "" {
		t.Errorf("plan after a change of address (-want +got):\n%s", diff)
	}
	if err := apply(t, e.provider(st, false), changes, out); err != nil {
		t.Fatal(err)
	}
	for _, c := range e.srv.AlertConfigs(gid) {
		if c.EventTypeName != "NO_PRIMARY" && c.Notifications[1].EmailAddress != "sre@nekodefense.example" {
			t.Errorf("not updated: %+v", c)
		}
	}

	off := false
	st.Spec.Monitoring.Alerting.External = &off
	changes = planWith(t, e.provider(st, false), out, provider.Options{})
	if diff := cmp.Diff(map[string]string{"primary-elected": "delete", "replication-lag": "delete", "disk-usage": "delete"}, alertActions(changes)); diff != "" {
		t.Errorf("plan with external alerts off (-want +got):\n%s", diff)
	}
	if err := apply(t, e.provider(st, false), changes, out); err != nil {
		t.Fatal(err)
	}
	if left := e.srv.AlertConfigs(gid); len(left) != 1 || left[0].EventTypeName != "NO_PRIMARY" {
		t.Errorf("left after pruning: %+v", left)
	}
}

func keys(m map[string]string) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

func fmtFloat(f float64) string { return strconv.FormatFloat(f, 'f', -1, 64) }
