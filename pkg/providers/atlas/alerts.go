package atlas

import (
	"context"
	"fmt"
	"net/http"

	"go.mongodb.org/atlas-sdk/v20250312020/admin"

	"github.com/neko-defense/nekoctl/pkg/plan"
	"github.com/neko-defense/nekoctl/pkg/provider"
	"github.com/neko-defense/nekoctl/pkg/spec"
)

// KindAlertConfig is a project alert configuration: failures of the
// database that no in-cluster Prometheus sees (a new primary, replication
// lag, a filling disk).
const KindAlertConfig = "alert_config"

// Thresholds of the Atlas alerts. Atlas measures replication lag in
// seconds and disk use as a percentage (units RAW).
const (
	ReplicationLagSeconds = 60
	DiskUsedPercent       = 80
	// alertIntervalMin is how often Atlas repeats an open alert.
	alertIntervalMin = 60
)

// atlasAlert is one alert configuration the stack owns. Alert
// configurations carry no name, description or tag, so the stack's are
// recognised by what they watch: the event (and metric) and a matcher on
// the stack's cluster. Atlas's own default alerts have no cluster matcher
// and are never touched.
type atlasAlert struct {
	name, event, metric, units string
	threshold                  float64
}

var atlasAlerts = []atlasAlert{
	{name: "primary-elected", event: "PRIMARY_ELECTED"},
	{name: "replication-lag", event: "OUTSIDE_METRIC_THRESHOLD", metric: "OPLOG_SLAVE_LAG_MASTER_TIME", units: "SECONDS", threshold: ReplicationLagSeconds},
	{name: "disk-usage", event: "OUTSIDE_METRIC_THRESHOLD", metric: "DISK_PARTITION_SPACE_USED_DATA", units: "RAW", threshold: DiskUsedPercent},
}

func (p *Provider) wantsAlerts() bool { return spec.On(p.st.Spec.Monitoring.Alerting.External) }

// desiredAlerts notifies the project's owners and every address of
// spec.monitoring.alerting.emails.
func (p *Provider) desiredAlerts() []provider.Resource {
	if !p.wantsAlerts() {
		return nil
	}
	notes := []any{plan.Document{"typeName": "GROUP", "roles": []any{"GROUP_OWNER"}, "emailEnabled": true,
		"intervalMin": alertIntervalMin, "delayMin": 0}}
	for _, e := range p.st.Spec.Monitoring.Alerting.Emails {
		notes = append(notes, plan.Document{"typeName": "EMAIL", "emailAddress": e, "intervalMin": alertIntervalMin, "delayMin": 0})
	}
	projAddr := p.addr(KindProject, p.atlas().Project)
	var out []provider.Resource
	for _, a := range atlasAlerts {
		doc := plan.Document{
			"eventTypeName": a.event,
			"enabled":       true,
			"matchers":      []any{plan.Document{"fieldName": "CLUSTER_NAME", "operator": "EQUALS", "value": p.atlas().Cluster.Name}},
			"notifications": notes,
		}
		if a.metric != "" {
			doc["metricThreshold"] = plan.Document{"metricName": a.metric, "operator": "GREATER_THAN", "threshold": a.threshold,
				"units": a.units, "mode": "AVERAGE"}
		}
		out = append(out, provider.Resource{Address: p.addr(KindAlertConfig, a.name), Doc: doc, DependsOn: []plan.Address{projAddr}})
	}
	return out
}

// alertOf returns which of the stack's alerts a live configuration is.
func (p *Provider) alertOf(c *admin.GroupAlertsConfig) (atlasAlert, bool) {
	onCluster := false
	for _, m := range c.GetMatchers() {
		onCluster = onCluster || m.FieldName == "CLUSTER_NAME" && m.Operator == "EQUALS" && m.Value == p.atlas().Cluster.Name
	}
	if !onCluster {
		return atlasAlert{}, false
	}
	metric := ""
	if c.MetricThreshold != nil {
		metric = c.MetricThreshold.GetMetricName()
	}
	for _, a := range atlasAlerts {
		if a.event == c.GetEventTypeName() && a.metric == metric {
			return a, true
		}
	}
	return atlasAlert{}, false
}

// listAlerts lists the project's alert configurations (one call).
func (p *Provider) listAlerts(ctx context.Context, gid string) ([]admin.GroupAlertsConfig, error) {
	list, _, err := p.client.AlertConfigurationsApi.ListAlertConfigs(ctx, gid).ItemsPerPage(pageSize).Execute()
	if err != nil {
		return nil, fmt.Errorf("reading alert configurations: %w", err)
	}
	return list.GetResults(), nil
}

// readAlerts returns the stack's alert configurations; a second
// configuration of one alert gets an address of its own ("name#id") and is
// planned as a delete.
func (p *Provider) readAlerts(list []admin.GroupAlertsConfig, projAddr plan.Address) []provider.Resource {
	seen := map[string]bool{}
	var out []provider.Resource
	for i := range list {
		c := &list[i]
		a, ok := p.alertOf(c)
		if !ok {
			continue
		}
		name := a.name
		if seen[name] {
			name += "#" + c.GetId()
		}
		seen[a.name] = true
		doc := liveAlertDoc(c)
		out = append(out, provider.Resource{Address: p.addr(KindAlertConfig, name), ID: c.GetId(), Doc: doc,
			DependsOn: []plan.Address{projAddr}, Fingerprint: fingerprint(c.GetUpdated().UTC().String(), doc)})
	}
	return out
}

// liveAlertDoc is a configuration in the desired document's shape: for each
// notification the fields its type uses.
func liveAlertDoc(c *admin.GroupAlertsConfig) plan.Document {
	var matchers, notes []any
	for _, m := range c.GetMatchers() {
		matchers = append(matchers, plan.Document{"fieldName": m.FieldName, "operator": m.Operator, "value": m.Value})
	}
	for _, n := range c.GetNotifications() {
		d := plan.Document{"typeName": n.GetTypeName(), "intervalMin": n.GetIntervalMin(), "delayMin": n.GetDelayMin()}
		switch n.GetTypeName() {
		case "EMAIL":
			d["emailAddress"] = n.GetEmailAddress()
		case "GROUP":
			var roles []any
			for _, r := range n.GetRoles() {
				roles = append(roles, r)
			}
			d["roles"], d["emailEnabled"] = roles, n.GetEmailEnabled()
		}
		notes = append(notes, d)
	}
	doc := plan.Document{"eventTypeName": c.GetEventTypeName(), "enabled": c.GetEnabled(), "matchers": matchers, "notifications": notes}
	if t := c.MetricThreshold; t != nil {
		doc["metricThreshold"] = plan.Document{"metricName": t.GetMetricName(), "operator": t.GetOperator(), "threshold": t.GetThreshold(),
			"units": t.GetUnits(), "mode": t.GetMode()}
	}
	return doc
}

// alertBody is the API document of a planned configuration.
func alertBody(doc plan.Document) *admin.GroupAlertsConfig {
	b := admin.NewGroupAlertsConfig()
	b.EventTypeName = admin.PtrString(fmt.Sprint(doc["eventTypeName"]))
	b.Enabled = admin.PtrBool(on(doc["enabled"]))
	var matchers []admin.StreamsMatcher
	for _, m := range asDocs(doc["matchers"]) {
		matchers = append(matchers, admin.StreamsMatcher{FieldName: fmt.Sprint(m["fieldName"]), Operator: fmt.Sprint(m["operator"]), Value: fmt.Sprint(m["value"])})
	}
	b.Matchers = &matchers
	var notes []admin.AlertsNotificationRootForGroup
	for _, n := range asDocs(doc["notifications"]) {
		an := admin.AlertsNotificationRootForGroup{TypeName: admin.PtrString(fmt.Sprint(n["typeName"])),
			IntervalMin: admin.PtrInt(toInt(n["intervalMin"])), DelayMin: admin.PtrInt(toInt(n["delayMin"]))}
		if e, ok := n["emailAddress"]; ok {
			an.EmailAddress = admin.PtrString(fmt.Sprint(e))
		}
		if e, ok := n["emailEnabled"]; ok {
			an.EmailEnabled = admin.PtrBool(on(e))
		}
		if rs, ok := n["roles"].([]any); ok {
			roles := make([]string, 0, len(rs))
			for _, r := range rs {
				roles = append(roles, fmt.Sprint(r))
			}
			an.Roles = &roles
		}
		notes = append(notes, an)
	}
	b.Notifications = &notes
	if t, ok := doc["metricThreshold"].(map[string]any); ok {
		th, _ := t["threshold"].(float64)
		b.MetricThreshold = &admin.StreamProcessorMetricThreshold{MetricName: admin.PtrString(fmt.Sprint(t["metricName"])),
			Operator: admin.PtrString(fmt.Sprint(t["operator"])), Threshold: admin.PtrFloat64(th),
			Units: admin.PtrString(fmt.Sprint(t["units"])), Mode: admin.PtrString(fmt.Sprint(t["mode"]))}
	}
	return b
}

func asDocs(v any) []map[string]any {
	var out []map[string]any
	list, _ := v.([]any)
	for _, x := range list {
		if m, ok := x.(map[string]any); ok {
			out = append(out, m)
		}
	}
	return out
}

func toInt(v any) int {
	switch n := v.(type) {
	case int:
		return n
	case float64:
		return int(n)
	}
	return 0
}

func (p *Provider) applyAlert(ctx context.Context, c plan.Change) error {
	gid, err := p.projectID(ctx)
	if err != nil {
		return err
	}
	body := alertBody(c.After)
	if c.Action == plan.Update && c.ID != "" {
		if _, _, err := p.client.AlertConfigurationsApi.UpdateAlertConfig(ctx, gid, c.ID, body).Execute(); err != nil {
			return fmt.Errorf("updating alert configuration: %w", err)
		}
		return nil
	}
	err = p.createChecked(ctx, c.Address,
		func() error {
			_, _, err := p.client.AlertConfigurationsApi.CreateAlertConfig(ctx, gid, body).Execute()
			return err
		}, nil,
		func() (bool, error) {
			list, _, err := p.client.AlertConfigurationsApi.ListAlertConfigs(ctx, gid).ItemsPerPage(pageSize).Execute()
			if err != nil {
				return false, err
			}
			for i := range list.GetResults() {
				if a, ok := p.alertOf(&list.GetResults()[i]); ok && a.name == c.Address.Name {
					return true, nil
				}
			}
			return false, nil
		})
	if err != nil {
		return fmt.Errorf("creating alert configuration: %w", err)
	}
	return nil
}

func (p *Provider) deleteAlert(ctx context.Context, c plan.Change) error {
	gid, err := p.projectID(ctx)
	if err != nil {
		return err
	}
	_, err = p.client.AlertConfigurationsApi.DeleteAlertConfig(ctx, gid, c.ID).Execute()
	if err != nil && !isStatus(err, http.StatusNotFound) {
		return fmt.Errorf("deleting alert configuration: %w", err)
	}
	return nil
}
