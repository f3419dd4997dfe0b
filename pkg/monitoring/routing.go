package monitoring

import (
	"time"

	"github.com/prometheus/common/model"

	"github.com/neko-defense/nekoctl/pkg/spec"
)

// StackLabel is on every alert of nekoctl's rules, valued with the stack's
// name: the stack's AlertmanagerConfig routes exactly the alerts carrying
// it, not the chart's own alerts (Watchdog and the like).
const StackLabel = "nekoctl_stack"

// Routing names what the AlertmanagerConfig of one region refers to.
type Routing struct {
	// Stack is the value of StackLabel on the stack's alerts.
	Stack string
	// Secret is the Secret, in the AlertmanagerConfig's namespace, holding
	// each receiver's secret under the receiver's name.
	Secret string
}

// groupBy keeps one notification per alert and region.
var groupBy = []any{"alertname", "region"}

// AlertmanagerConfigSpec is the spec of the AlertmanagerConfig
// (monitoring.coreos.com/v1alpha1) routing the stack's alerts: receivers
// with severities take the alerts of those severities, in the spec's order;
// the rest go to the first receiver without severities (or nowhere when
// every receiver has some). Secrets are references to keys of r.Secret,
// never values.
func AlertmanagerConfigSpec(a spec.Alerting, r Routing) map[string]any {
	route := map[string]any{
		"groupBy":        groupBy,
		"groupWait":      modelDuration(a.GroupWait),
		"groupInterval":  modelDuration(a.GroupInterval),
		"repeatInterval": modelDuration(a.RepeatInterval),
		"matchers":       []any{matcher(StackLabel, "=", r.Stack)},
	}
	var receivers, routes []any
	for _, rc := range a.Receivers {
		receivers = append(receivers, receiver(rc, r.Secret))
		if len(rc.Severities) == 0 {
			if route["receiver"] == nil {
				route["receiver"] = rc.Name
			}
			continue
		}
		value, op := rc.Severities[0], "="
		if len(rc.Severities) > 1 {
			value, op = "", "=~"
			for i, s := range rc.Severities {
				if i > 0 {
					value += "|"
				}
				value += s
			}
		}
		routes = append(routes, map[string]any{"receiver": rc.Name, "matchers": []any{matcher("severity", op, value)}})
	}
	if route["receiver"] == nil {
		// Alertmanager's routes need a receiver at the top: one without
		// integrations drops what no severity route took.
		route["receiver"] = NullReceiver
		receivers = append(receivers, map[string]any{"name": NullReceiver})
	}
	if len(routes) > 0 {
		route["routes"] = routes
	}
	return map[string]any{"route": route, "receivers": receivers}
}

// NullReceiver is the top route's receiver when every receiver of the spec
// has severities; spec validation keeps the name free.
const NullReceiver = spec.NullAlertReceiver

func matcher(name, op, value string) map[string]any {
	return map[string]any{"name": name, "matchType": op, "value": value}
}

// notification is the text of Slack and email notifications: what is
// wrong and the runbook of every alert in the group.
const notification = `{{ range .Alerts }}[{{ .Status | toUpper }}] {{ .Annotations.summary }}
Runbook: {{ .Annotations.runbook }}
{{ end }}`

// receiver is one AlertmanagerConfig receiver of the given type, its
// secret a reference to the receiver's key of secret.
func receiver(rc spec.AlertReceiver, secret string) map[string]any {
	ref := map[string]any{"name": secret, "key": rc.Name}
	var cfg map[string]any
	var field string
	switch rc.Type {
	case spec.ReceiverSlack:
		field = "slackConfigs"
		cfg = map[string]any{"apiURL": ref, "sendResolved": true,
			"title": `{{ .CommonLabels.alertname }} in {{ .CommonLabels.region }}`, "text": notification}
		if rc.Channel != "" {
			cfg["channel"] = rc.Channel
		}
	case spec.ReceiverPagerDuty:
		field = "pagerdutyConfigs"
		cfg = map[string]any{"routingKey": ref, "sendResolved": true,
			"description": `{{ .CommonLabels.alertname }} in {{ .CommonLabels.region }}: {{ .CommonAnnotations.summary }}`}
	case spec.ReceiverWebhook:
		field = "webhookConfigs"
		cfg = map[string]any{"urlSecret": ref, "sendResolved": true}
	case spec.ReceiverEmail:
		field = "emailConfigs"
		cfg = map[string]any{"to": rc.To, "from": rc.From, "smarthost": rc.Smarthost, "sendResolved": true, "text": notification}
		if rc.Username != "" {
			cfg["authUsername"] = rc.Username
		}
		if rc.SecretEnv != "" {
			cfg["authPassword"] = ref
		}
	}
	return map[string]any{"name": rc.Name, field: []any{cfg}}
}

// modelDuration writes a duration as Alertmanager does (30s, 5m, 4h).
func modelDuration(d *spec.Duration) string {
	if d == nil {
		return model.Duration(0).String()
	}
	return model.Duration(d.Duration.Round(time.Second)).String()
}
