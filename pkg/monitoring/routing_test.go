package monitoring

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"strings"
	"testing"
	"time"

	amconfig "github.com/prometheus/alertmanager/config"
	"github.com/prometheus/alertmanager/dispatch"
	amlabels "github.com/prometheus/alertmanager/pkg/labels"
	amtemplate "github.com/prometheus/alertmanager/template"
	"github.com/prometheus/alertmanager/types"
	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/promql/promqltest"
	"github.com/prometheus/prometheus/rules"

	"github.com/neko-defense/nekoctl/pkg/spec"
)

var routing = Routing{Stack: "neko-defense", Secret: "neko-api-alerting"}

func alerting(receivers ...spec.AlertReceiver) spec.Alerting {
	return spec.Alerting{Receivers: receivers, GroupWait: spec.Dur(30 * time.Second),
		GroupInterval: spec.Dur(5 * time.Minute), RepeatInterval: spec.Dur(4 * time.Hour)}
}

var (
	pager = spec.AlertReceiver{Name: "pager", Type: spec.ReceiverPagerDuty, Severities: []string{Critical}, SecretEnv: "PD_KEY"}
	team  = spec.AlertReceiver{Name: "team", Type: spec.ReceiverSlack, SecretEnv: "SLACK_URL", Channel: "#neko-oncall"}
	hook  = spec.AlertReceiver{Name: "hook", Type: spec.ReceiverWebhook, Severities: []string{Warning, Critical}, SecretEnv: "HOOK_URL"}
	mail  = spec.AlertReceiver{Name: "mail", Type: spec.ReceiverEmail, To: "oncall@nekodefense.example",
		From: "alerts@nekodefense.example", Smarthost: "smtp.nekodefense.example:587", Username: "alerts", SecretEnv: "SMTP_PASSWORD"}
)

// The AlertmanagerConfig spec names a receiver of the spec on every route,
// has valid Alertmanager matchers, and refers to secrets only by key of
// the Secret (never an environment variable or a value).
func TestAlertmanagerConfigSpec(t *testing.T) {
	amc := decodeSpec(t, AlertmanagerConfigSpec(alerting(pager, team, hook, mail), routing))
	names := map[string]bool{}
	refs := map[string]secretRef{}
	for _, r := range amc.Receivers {
		names[r.Name] = true
		for _, c := range r.SlackConfigs {
			refs[r.Name] = c.APIURL
		}
		for _, c := range r.PagerdutyConfigs {
			refs[r.Name] = c.RoutingKey
		}
		for _, c := range r.WebhookConfigs {
			refs[r.Name] = c.URLSecret
		}
		for _, c := range r.EmailConfigs {
			refs[r.Name] = c.AuthPassword
			if c.AuthUsername != "alerts" || c.Smarthost != mail.Smarthost || c.To != mail.To {
				t.Errorf("%s: email config %+v", r.Name, c)
			}
		}
	}
	for _, n := range []string{"pager", "team", "hook", "mail"} {
		if ref := refs[n]; ref.Name != routing.Secret || ref.Key != n {
			t.Errorf("%s: secret reference %+v, want key %s of Secret %s", n, ref, n, routing.Secret)
		}
	}
	routes := []amcRoute{amc.Route}
	for len(routes) > 0 {
		r := routes[0]
		routes = routes[1:]
		if !names[r.Receiver] {
			t.Errorf("route to %q, which is not a receiver", r.Receiver)
		}
		for _, m := range r.Matchers {
			if _, err := amlabels.NewMatcher(matchTypes[m.MatchType], m.Name, m.Value); err != nil || m.Name == "" {
				t.Errorf("matcher %+v: %v", m, err)
			}
		}
		routes = append(routes, r.Routes...)
	}
	if got := amc.Route.GroupWait + " " + amc.Route.GroupInterval + " " + amc.Route.RepeatInterval; got != "30s 5m 4h" {
		t.Errorf("groupWait groupInterval repeatInterval = %s", got)
	}
	b, _ := json.Marshal(AlertmanagerConfigSpec(alerting(pager, team, hook, mail), routing))
	for _, env := range []string{"PD_KEY", "SLACK_URL", "HOOK_URL", "SMTP_PASSWORD"} {
		if bytes.Contains(b, []byte(env)) {
			t.Errorf("the AlertmanagerConfig names %s: it must only refer to the Secret", env)
		}
	}
}

// Alerts made by Prometheus's rule engine from nekoctl's rules reach the
// receivers the spec routes them to, through Alertmanager's own config
// loader and dispatcher route tree: the first receiver listing the
// severity, else the default one; another stack's alerts, the chart's own
// alerts and alerts of another namespace are left to the installation's
// own route.
func TestAlertsReachTheirReceivers(t *testing.T) {
	critical := firingAlert(t, "NekoRedisDown", loadSeries(`kube_statefulset_status_replicas_ready{namespace="neko-defense",statefulset="neko-redis"} 0x20`), 10*time.Minute)
	warning := firingAlert(t, "NekoAPIHPAAtMaximum", loadSeries(
		`kube_horizontalpodautoscaler_status_current_replicas{namespace="neko-defense",horizontalpodautoscaler="neko-api"} 10x30`,
		`kube_horizontalpodautoscaler_spec_max_replicas{namespace="neko-defense",horizontalpodautoscaler="neko-api"} 10x30`), 20*time.Minute)
	other := critical.Clone()
	other[StackLabel] = "another-stack"
	watchdog := model.LabelSet{"alertname": "Watchdog", "severity": "none"}
	info := critical.Clone()
	info["severity"] = "info"
	elsewhere := critical.Clone()
	elsewhere["namespace"] = "another-namespace"

	for _, tc := range []struct {
		name      string
		alerting  spec.Alerting
		alert     model.LabelSet
		receivers []string
	}{
		{"critical to the first receiver listing it", alerting(pager, team, hook), critical, []string{"pager"}},
		{"warning to the receiver listing it", alerting(pager, team, hook), warning, []string{"hook"}},
		{"other severities to the default receiver", alerting(pager, team, hook), info, []string{"team"}},
		{"default receiver alone takes all", alerting(team), warning, []string{"team"}},
		{"nothing takes it: the null receiver", alerting(pager), info, []string{NullReceiver}},
		{"another stack's alert", alerting(pager, team), other, []string{installationReceiver}},
		{"the chart's own alert", alerting(pager, team), watchdog, []string{installationReceiver}},
		{"another namespace's alert", alerting(pager, team), elsewhere, []string{installationReceiver}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := receiversOf(routeTree(t, decodeSpec(t, AlertmanagerConfigSpec(tc.alerting, routing)), "neko-defense"), tc.alert)
			if strings.Join(got, ",") != strings.Join(tc.receivers, ",") {
				t.Errorf("%v routed to %v, want %v", tc.alert, got, tc.receivers)
			}
		})
	}
}

// The notification texts are Alertmanager templates that render the
// alert's summary and runbook.
func TestNotificationTemplatesRender(t *testing.T) {
	lset := firingAlert(t, "NekoRedisDown", loadSeries(`kube_statefulset_status_replicas_ready{namespace="neko-defense",statefulset="neko-redis"} 0x20`), 10*time.Minute)
	r := ruleNamed(t, "NekoRedisDown")
	ann := model.LabelSet{}
	for k, v := range r.Annotations() {
		ann[model.LabelName(k)] = model.LabelValue(v)
	}
	tmpl, err := amtemplate.New()
	if err != nil {
		t.Fatal(err)
	}
	tmpl.ExternalURL, _ = url.Parse("http://alertmanager.monitoring:9093")
	alert := &types.Alert{Alert: model.Alert{Labels: lset, Annotations: ann, StartsAt: time.Unix(0, 0)}}
	data := tmpl.Data("team", lset, nil, "", alert)
	amc := decodeSpec(t, AlertmanagerConfigSpec(alerting(team, pager), routing))
	texts := map[string]string{"slack title": amc.Receivers[0].SlackConfigs[0].Title, "slack text": amc.Receivers[0].SlackConfigs[0].Text,
		"pagerduty description": amc.Receivers[1].PagerdutyConfigs[0].Description}
	for name, text := range texts {
		out, err := tmpl.ExecuteTextString(text, data)
		if err != nil {
			t.Errorf("%s: %v", name, err)
			continue
		}
		if !strings.Contains(out, "eu-west") {
			t.Errorf("%s = %q, want the region", name, out)
		}
		if name == "slack text" && (!strings.Contains(out, "[FIRING] "+r.Summary) || !strings.Contains(out, "Runbook: "+r.Runbook)) {
			t.Errorf("%s = %q, want the summary and runbook", name, out)
		}
	}
}

// The AlertmanagerConfig v1alpha1 fields the tests read, decoded strictly:
// a field nekoctl writes that is not here fails the test.
type (
	amcSpec struct {
		Route     amcRoute      `json:"route"`
		Receivers []amcReceiver `json:"receivers"`
	}
	amcRoute struct {
		Receiver       string       `json:"receiver"`
		GroupBy        []string     `json:"groupBy"`
		GroupWait      string       `json:"groupWait"`
		GroupInterval  string       `json:"groupInterval"`
		RepeatInterval string       `json:"repeatInterval"`
		Matchers       []amcMatcher `json:"matchers"`
		Continue       bool         `json:"continue"`
		Routes         []amcRoute   `json:"routes"`
	}
	amcMatcher struct {
		Name, Value string
		MatchType   string `json:"matchType"`
	}
	secretRef   struct{ Name, Key string }
	amcReceiver struct {
		Name         string `json:"name"`
		SlackConfigs []struct {
			APIURL       secretRef `json:"apiURL"`
			Channel      string    `json:"channel"`
			SendResolved bool      `json:"sendResolved"`
			Title, Text  string
		} `json:"slackConfigs"`
		PagerdutyConfigs []struct {
			RoutingKey   secretRef `json:"routingKey"`
			SendResolved bool      `json:"sendResolved"`
			Description  string    `json:"description"`
		} `json:"pagerdutyConfigs"`
		WebhookConfigs []struct {
			URLSecret    secretRef `json:"urlSecret"`
			SendResolved bool      `json:"sendResolved"`
		} `json:"webhookConfigs"`
		EmailConfigs []struct {
			To, From, Smarthost, Text string
			AuthUsername              string    `json:"authUsername"`
			AuthPassword              secretRef `json:"authPassword"`
			SendResolved              bool      `json:"sendResolved"`
		} `json:"emailConfigs"`
	}
)

var matchTypes = map[string]amlabels.MatchType{"=": amlabels.MatchEqual, "!=": amlabels.MatchNotEqual,
	"=~": amlabels.MatchRegexp, "!~": amlabels.MatchNotRegexp}

func decodeSpec(t *testing.T, spec map[string]any) amcSpec {
	t.Helper()
	b, err := json.Marshal(spec)
	if err != nil {
		t.Fatal(err)
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	var out amcSpec
	if err := dec.Decode(&out); err != nil {
		t.Fatalf("unexpected AlertmanagerConfig spec: %v\n%s", err, b)
	}
	return out
}

// installationReceiver is the receiver of the installation's own top
// route (kube-prometheus-stack's default configuration names it "null"):
// alerts no AlertmanagerConfig route takes end there.
const installationReceiver = "null"

// amRoute is Alertmanager's configuration file form of a route, for
// config.Load (YAML accepts the JSON it is marshalled to).
type amRoute struct {
	Receiver       string    `json:"receiver"`
	GroupBy        []string  `json:"group_by,omitempty"`
	GroupWait      string    `json:"group_wait,omitempty"`
	GroupInterval  string    `json:"group_interval,omitempty"`
	RepeatInterval string    `json:"repeat_interval,omitempty"`
	Matchers       []string  `json:"matchers,omitempty"`
	Continue       bool      `json:"continue,omitempty"`
	Routes         []amRoute `json:"routes,omitempty"`
}

func (r amcRoute) toAlertmanager() amRoute {
	out := amRoute{Receiver: r.Receiver, GroupBy: r.GroupBy, GroupWait: r.GroupWait, GroupInterval: r.GroupInterval,
		RepeatInterval: r.RepeatInterval, Continue: r.Continue}
	for _, m := range r.Matchers {
		out.Matchers = append(out.Matchers, fmt.Sprintf("%s%s%q", m.Name, m.MatchType, m.Value))
	}
	for _, c := range r.Routes {
		out.Routes = append(out.Routes, c.toAlertmanager())
	}
	return out
}

// routeTree hands the AlertmanagerConfig's routing to Alertmanager as the
// Prometheus Operator does (its top route, with a matcher on the
// AlertmanagerConfig's namespace and continue, under the installation's
// own top route; receiver names are kept, not prefixed), loaded by
// Alertmanager's config.Load (which validates every matcher, duration and
// receiver reference) into its dispatcher's route tree.
func routeTree(t *testing.T, amc amcSpec, namespace string) *dispatch.Route {
	t.Helper()
	top := amc.Route.toAlertmanager()
	top.Matchers = append([]string{fmt.Sprintf("namespace=%q", namespace)}, top.Matchers...)
	top.Continue = true
	receivers := []map[string]string{{"name": installationReceiver}}
	for _, r := range amc.Receivers {
		receivers = append(receivers, map[string]string{"name": r.Name})
	}
	b, err := json.Marshal(map[string]any{"route": amRoute{Receiver: installationReceiver, Routes: []amRoute{top}}, "receivers": receivers})
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := amconfig.Load(string(b))
	if err != nil {
		t.Fatalf("Alertmanager refuses the routing: %v\n%s", err, b)
	}
	return dispatch.NewRoute(cfg.Route, nil)
}

// receiversOf returns the receivers Alertmanager's dispatcher sends an
// alert to.
func receiversOf(tree *dispatch.Route, lset model.LabelSet) []string {
	var out []string
	for _, r := range tree.Match(lset) {
		out = append(out, r.RouteOpts.Receiver)
	}
	return out
}

// firingAlert evaluates the rule minute by minute over the series and
// returns the labels of the alert it fires by until.
func firingAlert(t *testing.T, name, load string, until time.Duration) model.LabelSet {
	t.Helper()
	ar := alertingRule(t, ruleNamed(t, name))
	st := promqltest.LoadedStorage(t, load)
	eng := promqltest.NewTestEngine(t, false, 0, promqltest.DefaultMaxSamplesPerQuery)
	for at := time.Duration(0); at <= until; at += time.Minute {
		if _, err := ar.Eval(context.Background(), 0, time.Unix(0, 0).Add(at), rules.EngineQueryFunc(eng, st), nil, 0); err != nil {
			t.Fatal(err)
		}
	}
	for _, a := range ar.ActiveAlerts() {
		if a.State == rules.StateFiring {
			out := model.LabelSet{}
			a.Labels.Range(func(l labels.Label) { out[model.LabelName(l.Name)] = model.LabelValue(l.Value) })
			return out
		}
	}
	t.Fatalf("%s did not fire", name)
	return nil
}
