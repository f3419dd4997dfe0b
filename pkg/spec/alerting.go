package spec

import (
	"fmt"
	"net/mail"
	"time"
)

// StackMonitoring is spec.monitoring: how the stack is watched and who is
// paged. (spec.workload.monitoring switches the in-cluster objects on and off.)
type StackMonitoring struct {
	// The monitoring stack (install, chart, values, selector labels) is
	// described in monitoring.go.
	MonitoringStack
	Alerting Alerting `json:"alerting,omitempty"`
}

// Alerting routes the in-cluster alerts (an AlertmanagerConfig per region)
// and configures the alerts raised outside the clusters (a Cloudflare
// notification policy for pool health, Atlas alert configurations).
type Alerting struct {
	// Receivers get the in-cluster alerts. The first receiver without
	// severities is the default route; a receiver with severities gets the
	// alerts of those severities first.
	Receivers []AlertReceiver `json:"receivers,omitempty"`
	// GroupWait, GroupInterval and RepeatInterval tune Alertmanager's
	// grouping (defaults 30s, 5m, 4h).
	GroupWait      *Duration `json:"groupWait,omitempty"`
	GroupInterval  *Duration `json:"groupInterval,omitempty"`
	RepeatInterval *Duration `json:"repeatInterval,omitempty"`
	// Emails are the addresses that the alerts outside the clusters go to:
	// the Cloudflare pool-health policy (not created without one) and the
	// Atlas alert configurations (which also notify the project's owners).
	Emails []string `json:"emails,omitempty"`
	// External creates the Cloudflare and Atlas alerts (default true).
	External *bool `json:"external,omitempty"`
}

// AlertReceiver is one Alertmanager receiver. Its secret (the Slack webhook
// URL, PagerDuty routing key, SMTP password or webhook URL) is read at `up`
// time from the environment variable SecretEnv names, never from the spec.
type AlertReceiver struct {
	Name string `json:"name" jsonschema:"pattern=^[a-z0-9]([a-z0-9-]*[a-z0-9])?$"`
	Type string `json:"type" jsonschema:"enum=slack,enum=pagerduty,enum=email,enum=webhook"`
	// Severities routed here; empty means every alert the routes before it
	// did not take.
	Severities []string `json:"severities,omitempty" jsonschema:"enum=critical,enum=warning"`
	// SecretEnv names the environment variable holding the secret; required
	// except for email without authentication.
	SecretEnv string `json:"secretEnv,omitempty"`
	// Channel is the Slack channel (optional: the webhook's default).
	Channel string `json:"channel,omitempty"`
	// To, From, Smarthost (host:port) and Username configure email.
	To        string `json:"to,omitempty"`
	From      string `json:"from,omitempty"`
	Smarthost string `json:"smarthost,omitempty"`
	Username  string `json:"username,omitempty"`
}

// NullAlertReceiver is reserved: the AlertmanagerConfig's top route sends
// to a receiver of that name, without integrations, the alerts no
// receiver takes when every receiver has severities.
const NullAlertReceiver = "nekoctl-null"

// Receiver types.
const (
	ReceiverSlack     = "slack"
	ReceiverPagerDuty = "pagerduty"
	ReceiverEmail     = "email"
	ReceiverWebhook   = "webhook"
)

func (a *Alerting) applyDefaults() {
	setDur(&a.GroupWait, 30*time.Second)
	setDur(&a.GroupInterval, 5*time.Minute)
	setDur(&a.RepeatInterval, 4*time.Hour)
	setBool(&a.External, true)
}

func (v *validator) alerting() {
	a := &v.st.Spec.Monitoring.Alerting
	const p = "spec.monitoring.alerting"
	seen := map[string]bool{}
	for i, r := range a.Receivers {
		rp := fmt.Sprintf("%s.receivers[%d]", p, i)
		switch {
		case !dnsLabelRE.MatchString(r.Name):
			v.errorf(rp+".name", "%q must be lower-case letters, digits and '-'", r.Name)
		case seen[r.Name]:
			v.errorf(rp+".name", "%q is used by another receiver", r.Name)
		case r.Name == NullAlertReceiver:
			v.errorf(rp+".name", "%q is reserved for the alerts no receiver takes", r.Name)
		}
		seen[r.Name] = true
		for j, s := range r.Severities {
			if !oneOf(s, "critical", "warning") {
				v.errorf(fmt.Sprintf("%s.severities[%d]", rp, j), "%q is not a severity (critical, warning)", s)
			}
		}
		if r.SecretEnv != "" && !envNameRE.MatchString(r.SecretEnv) {
			v.errorf(rp+".secretEnv", "%q is not a valid environment variable name", r.SecretEnv)
		}
		v.receiverFields(rp, r)
	}
	for _, d := range []struct {
		name string
		val  *Duration
	}{{"groupWait", a.GroupWait}, {"groupInterval", a.GroupInterval}, {"repeatInterval", a.RepeatInterval}} {
		if d.val.Duration <= 0 {
			v.errorf(p+"."+d.name, "must be positive")
		}
	}
	for i, e := range a.Emails {
		if _, err := mail.ParseAddress(e); err != nil {
			v.errorf(fmt.Sprintf("%s.emails[%d]", p, i), "%q is not an email address", e)
		}
	}
	if *a.External && len(a.Emails) == 0 {
		v.infof(p+".emails", "no address: the Cloudflare pool-health notification is not created and Atlas alerts reach only the project's owners")
	}
}

// receiverFields checks what each receiver type needs.
func (v *validator) receiverFields(rp string, r AlertReceiver) {
	switch r.Type {
	case ReceiverSlack, ReceiverPagerDuty, ReceiverWebhook:
		if r.SecretEnv == "" {
			v.errorf(rp+".secretEnv", "is required for %s: the environment variable that holds its %s", r.Type, ReceiverSecretName(r.Type))
		}
	case ReceiverEmail:
		for _, f := range []struct{ name, val string }{{"to", r.To}, {"from", r.From}} {
			if _, err := mail.ParseAddress(f.val); err != nil {
				v.errorf(rp+"."+f.name, "%q is not an email address", f.val)
			}
		}
		if r.Smarthost == "" {
			v.errorf(rp+".smarthost", "is required for email (host:port of the SMTP server)")
		}
		if r.Username != "" && r.SecretEnv == "" {
			v.errorf(rp+".secretEnv", "is required with username: the environment variable that holds the SMTP password")
		}
	default:
		v.errorf(rp+".type", "%q is not a receiver type (slack, pagerduty, email, webhook)", r.Type)
	}
}

// ReceiverSecretName says what a receiver type's secret is.
func ReceiverSecretName(typ string) string {
	switch typ {
	case ReceiverSlack:
		return "Slack incoming-webhook URL"
	case ReceiverPagerDuty:
		return "PagerDuty Events API v2 routing key"
	case ReceiverWebhook:
		return "webhook URL"
	default:
		return "SMTP password"
	}
}
