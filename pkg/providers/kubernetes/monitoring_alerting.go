package kubernetes

import (
	"encoding/json"
	"fmt"
	"sort"
	"strings"

	"github.com/neko-defense/nekoctl/pkg/monitoring"
	"github.com/neko-defense/nekoctl/pkg/plan"
	"github.com/neko-defense/nekoctl/pkg/spec"
)

// alertingSecret holds the alert receivers' secrets, one key per receiver,
// beside the AlertmanagerConfig that refers to them (in the workload
// namespace: an AlertmanagerConfig reads Secrets of its own namespace only).
const alertingSecret = AppName + "-alerting"

// ReceiverSecrets are the alert receivers' secrets by receiver name, read
// from the environment when the providers are built (ReadReceiverSecrets).
type ReceiverSecrets map[string]plan.Sensitive

// envSource names where a receiver's secret comes from when the variable
// was not read, as in an offline plan: its value is known at `up` time.
func envSource(name string) string { return "env:" + name }

// ReadReceiverSecrets reads the secret of every alert receiver that has one
// from the environment variable its secretEnv names; unset or empty
// variables are left out (Missing reports them when they are needed).
func ReadReceiverSecrets(st *spec.Stack, getenv func(string) string) ReceiverSecrets {
	out := ReceiverSecrets{}
	for _, r := range st.Spec.Monitoring.Alerting.Receivers {
		if v := getenv(r.SecretEnv); r.SecretEnv != "" && v != "" {
			out[r.Name] = plan.NewSensitive(v)
		}
	}
	return out
}

// Missing fails when the stack routes alerts to a receiver whose secret
// was not read, naming every such variable and its receiver, so that a
// plan or `up` stops before anything is applied.
func (rs ReceiverSecrets) Missing(st *spec.Stack) error {
	if !alertingRendered(st) {
		return nil
	}
	var missing []string
	for i, r := range st.Spec.Monitoring.Alerting.Receivers {
		if _, ok := rs[r.Name]; r.SecretEnv != "" && !ok {
			missing = append(missing, fmt.Sprintf("%s (the %s of spec.monitoring.alerting.receivers[%d] %q)",
				r.SecretEnv, spec.ReceiverSecretName(r.Type), i, r.Name))
		}
	}
	if len(missing) > 0 {
		return fmt.Errorf("alert receivers: environment variable not set: %s", strings.Join(missing, "; "))
	}
	return nil
}

// alertingRendered: the region gets the AlertmanagerConfig (and the
// receivers' Secret) when the spec has receivers and the workload's alert
// rules are deployed.
func alertingRendered(st *spec.Stack) bool {
	m := st.Spec.Workload.Monitoring
	return len(st.Spec.Monitoring.Alerting.Receivers) > 0 && spec.On(m.Enabled) && spec.On(m.Alerts)
}

// alertingValues are what the templates see of the Alertmanager routing.
type alertingValues struct {
	// Enabled: see alertingRendered.
	Enabled bool
	Secret  string
	// Spec is the AlertmanagerConfig's spec as JSON (pkg/monitoring).
	Spec string
	// Keys are the Secret's data: a placeholder token per receiver with a
	// secret, replaced by its plan.Sensitive value after parsing.
	Keys []kv
}

// buildAlerting fills the Alertmanager routing of a region: the spec's
// receivers, their secrets as sensitive plan values (plan.Unknown when the
// variable was not read, as in an offline plan).
func buildAlerting(st *spec.Stack, sl slots, rs ReceiverSecrets) (alertingValues, error) {
	a := st.Spec.Monitoring.Alerting
	if !alertingRendered(st) {
		return alertingValues{}, nil
	}
	b, err := json.Marshal(monitoring.AlertmanagerConfigSpec(a, monitoring.Routing{Stack: st.Metadata.Name, Secret: alertingSecret}))
	if err != nil {
		return alertingValues{}, err
	}
	v := alertingValues{Enabled: true, Secret: alertingSecret, Spec: string(b)}
	for _, r := range a.Receivers {
		if r.SecretEnv == "" {
			continue
		}
		var val any = plan.Unknown{From: envSource(r.SecretEnv)}
		if s, ok := rs[r.Name]; ok {
			val = s
		}
		v.Keys = append(v.Keys, kv{r.Name, sl.add("receiver-"+r.Name, val)})
	}
	sort.Slice(v.Keys, func(i, j int) bool { return v.Keys[i].Name < v.Keys[j].Name })
	return v, nil
}
