package atlas_test

import (
	"context"
	"net/http"
	"testing"

	"go.mongodb.org/atlas-sdk/v20250312020/admin"

	"github.com/neko-defense/nekoctl/pkg/emulator/atlas"
)

func lagAlert() *admin.GroupAlertsConfig {
	return &admin.GroupAlertsConfig{
		Enabled:       admin.PtrBool(true),
		EventTypeName: admin.PtrString("OUTSIDE_METRIC_THRESHOLD"),
		Matchers:      &[]admin.StreamsMatcher{{FieldName: "CLUSTER_NAME", Operator: "EQUALS", Value: "neko"}},
		MetricThreshold: &admin.StreamProcessorMetricThreshold{MetricName: admin.PtrString("OPLOG_SLAVE_LAG_MASTER_TIME"),
			Mode: admin.PtrString("AVERAGE"), Operator: admin.PtrString("GREATER_THAN"), Threshold: admin.PtrFloat64(60), Units: admin.PtrString("SECONDS")},
		Notifications: &[]admin.AlertsNotificationRootForGroup{{TypeName: admin.PtrString("EMAIL"), EmailAddress: admin.PtrString("oncall@example.com"),
			IntervalMin: admin.PtrInt(60), DelayMin: admin.PtrInt(0)}},
	}
}

// The SDK's AlertConfigurationsApi round-trips a configuration: create,
// list, get, update, delete.
func TestAlertConfigsThroughTheSDK(t *testing.T) {
	s := newServer(t)
	ctx := context.Background()
	c := digestClient(t, s, atlas.DefaultPublicKey, atlas.DefaultPrivateKey)
	g, _, err := c.ProjectsApi.CreateGroup(ctx, &admin.Group{Name: "p", OrgId: atlas.DefaultOrgID}).Execute()
	if err != nil {
		t.Fatal(err)
	}
	gid := g.GetId()
	created, _, err := c.AlertConfigurationsApi.CreateAlertConfig(ctx, gid, lagAlert()).Execute()
	if err != nil {
		t.Fatal(err)
	}
	if len(created.GetId()) != 24 || created.GetGroupId() != gid || !created.GetEnabled() {
		t.Fatalf("created = %+v", created)
	}
	got, _, err := c.AlertConfigurationsApi.GetAlertConfig(ctx, gid, created.GetId()).Execute()
	if err != nil {
		t.Fatal(err)
	}
	if th := got.GetMetricThreshold(); th.GetMetricName() != "OPLOG_SLAVE_LAG_MASTER_TIME" || th.GetThreshold() != 60 || th.GetUnits() != "SECONDS" {
		t.Fatalf("threshold read back as %+v", th)
	}
	upd := lagAlert()
	upd.MetricThreshold.Threshold = admin.PtrFloat64(120)
	if _, _, err := c.AlertConfigurationsApi.UpdateAlertConfig(ctx, gid, created.GetId(), upd).Execute(); err != nil {
		t.Fatal(err)
	}
	list, _, err := c.AlertConfigurationsApi.ListAlertConfigs(ctx, gid).Execute()
	if err != nil {
		t.Fatal(err)
	}
	if rs := list.GetResults(); len(rs) != 1 || rs[0].MetricThreshold.GetThreshold() != 120 {
		t.Fatalf("list after update: %+v", rs)
	}
	if _, err := c.AlertConfigurationsApi.DeleteAlertConfig(ctx, gid, created.GetId()).Execute(); err != nil {
		t.Fatal(err)
	}
	_, resp, err := c.AlertConfigurationsApi.GetAlertConfig(ctx, gid, created.GetId()).Execute()
	if !admin.IsErrorCode(err, "ALERT_CONFIG_NOT_FOUND") || resp.StatusCode != http.StatusNotFound {
		t.Fatalf("get after delete: %v", err)
	}
}

// Invalid configurations are refused with Atlas's codes and nothing is stored.
func TestAlertConfigValidation(t *testing.T) {
	s := newServer(t)
	ctx := context.Background()
	c := digestClient(t, s, atlas.DefaultPublicKey, atlas.DefaultPrivateKey)
	g, _, err := c.ProjectsApi.CreateGroup(ctx, &admin.Group{Name: "p", OrgId: atlas.DefaultOrgID}).Execute()
	if err != nil {
		t.Fatal(err)
	}
	for name, tc := range map[string]struct {
		edit func(*admin.GroupAlertsConfig)
		code string
	}{
		"unknown event":        {func(a *admin.GroupAlertsConfig) { a.EventTypeName = admin.PtrString("DISK_FULL") }, "INVALID_EVENT_TYPE_FOR_ALERT"},
		"unknown metric":       {func(a *admin.GroupAlertsConfig) { a.MetricThreshold.MetricName = admin.PtrString("REPL_LAG") }, "INVALID_METRIC_NAME"},
		"wrong units":          {func(a *admin.GroupAlertsConfig) { a.MetricThreshold.Units = admin.PtrString("RAW") }, "INVALID_METRIC_UNITS"},
		"threshold missing":    {func(a *admin.GroupAlertsConfig) { a.MetricThreshold = nil }, "MISSING_ATTRIBUTE"},
		"threshold on event":   {func(a *admin.GroupAlertsConfig) { a.EventTypeName = admin.PtrString("PRIMARY_ELECTED") }, "INVALID_ATTRIBUTE"},
		"no notification":      {func(a *admin.GroupAlertsConfig) { a.Notifications = &[]admin.AlertsNotificationRootForGroup{} }, "INVALID_ATTRIBUTE"},
		"bad email":            {func(a *admin.GroupAlertsConfig) { (*a.Notifications)[0].EmailAddress = admin.PtrString("oncall") }, "INVALID_EMAIL_ADDRESS"},
		"interval below 5 min": {func(a *admin.GroupAlertsConfig) { (*a.Notifications)[0].IntervalMin = admin.PtrInt(1) }, "INVALID_ATTRIBUTE"},
		"bad matcher":          {func(a *admin.GroupAlertsConfig) { (*a.Matchers)[0].FieldName = "COLOUR" }, "INVALID_MATCHER"},
	} {
		t.Run(name, func(t *testing.T) {
			a := lagAlert()
			tc.edit(a)
			_, resp, err := c.AlertConfigurationsApi.CreateAlertConfig(ctx, g.GetId(), a).Execute()
			if !admin.IsErrorCode(err, tc.code) || resp.StatusCode != http.StatusBadRequest {
				t.Fatalf("want 400 %s, got %v", tc.code, err)
			}
		})
	}
	if n := len(s.AlertConfigs(g.GetId())); n != 0 {
		t.Fatalf("%d configurations stored from invalid requests", n)
	}
}
