package kubernetes

import (
	"context"
	"encoding/json"
	"fmt"
	"sort"
	"strings"

	"k8s.io/client-go/kubernetes"

	"github.com/neko-defense/nekoctl/pkg/provider"
)

// alertmanagerService is the Service the Prometheus Operator makes for
// every Alertmanager it runs, installed by nekoctl or not.
const alertmanagerService = "alertmanager-operated"

// monitoringHealth reports the monitoring release (when nekoctl installs
// it) and the alerts firing in the region, asked of Alertmanager's API
// through the API server's service proxy: no other network path is needed.
func (p *Provider) monitoringHealth(ctx context.Context) []provider.Health {
	m := p.st.Spec.Monitoring
	var out []provider.Health
	if m.Installs() {
		h := provider.Health{Address: p.releaseAddress(), State: "Missing", Detail: "not installed"}
		if hc, err := p.helmClient(); err != nil {
			h.State, h.Detail = "Unknown", err.Error()
		} else if rel, err := hc.Get(m.Release); err != nil {
			h.State, h.Detail = "Unknown", err.Error()
		} else if rel != nil {
			h.State, h.Healthy = rel.Status, rel.Deployed()
			h.Detail = fmt.Sprintf("chart %s %s, revision %d", rel.Chart, rel.Version, rel.Revision)
		}
		out = append(out, h)
	}
	if !on(p.st.Spec.Workload.Monitoring.Enabled) {
		return out
	}
	h := provider.Health{Address: p.address("Alertmanager", m.Namespace, alertmanagerService)}
	firing, err := p.firingAlerts(ctx)
	switch {
	case err != nil && !m.Installs():
		// Not nekoctl's monitoring: where there is no Alertmanager to ask,
		// there is nothing to report.
		return out
	case err != nil:
		h.State, h.Detail = "Unknown", "Alertmanager not reachable through the API server: "+err.Error()
	case len(firing) == 0:
		h.State, h.Healthy, h.Detail = "0 firing", true, "no alerts firing"
		h.Alerts = &provider.Alerts{}
	default:
		h.State, h.Detail = fmt.Sprintf("%d firing", len(firing)), strings.Join(firing, ", ")
		h.Alerts = &provider.Alerts{Firing: len(firing), Names: firing}
	}
	return append(out, h)
}

// firingAlerts lists the names of the active, unsilenced alerts.
func (p *Provider) firingAlerts(ctx context.Context) ([]string, error) {
	cs, err := kubernetes.NewForConfig(p.cfg)
	if err != nil {
		return nil, err
	}
	body, err := cs.CoreV1().Services(p.st.Spec.Monitoring.Namespace).
		ProxyGet("http", alertmanagerService, "web", "/api/v2/alerts",
			map[string]string{"active": "true", "silenced": "false", "inhibited": "false"}).DoRaw(ctx)
	if err != nil {
		return nil, fmt.Errorf("%s", apiMessage(err))
	}
	return parseFiringAlerts(body)
}

// parseFiringAlerts reads Alertmanager's GET /api/v2/alerts answer: the
// names of the alerts in state "active", sorted.
func parseFiringAlerts(body []byte) ([]string, error) {
	var alerts []struct {
		Labels map[string]string `json:"labels"`
		Status struct {
			State string `json:"state"`
		} `json:"status"`
	}
	if err := json.Unmarshal(body, &alerts); err != nil {
		return nil, fmt.Errorf("unexpected Alertmanager answer: %w", err)
	}
	var out []string
	for _, a := range alerts {
		if a.Status.State != "active" {
			continue
		}
		out = append(out, a.Labels["alertname"])
	}
	sort.Strings(out)
	return out, nil
}
