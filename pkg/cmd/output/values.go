package output

import (
	"fmt"
	"net/url"
	"sort"
	"strconv"
	"strings"

	"github.com/neko-defense/nekoctl/pkg/engine"
	"github.com/neko-defense/nekoctl/pkg/plan"
	"github.com/neko-defense/nekoctl/pkg/provider"
	"github.com/neko-defense/nekoctl/pkg/spec"
)

// Output is one named value the stack produced. Sensitive values are
// plan.Sensitive and print masked unless asked for by name.
type Output struct {
	Name  string
	Value any
}

// Sensitive reports whether the value is a secret.
func (o Output) Sensitive() bool {
	_, ok := o.Value.(plan.Sensitive)
	return ok
}

// collect reads the outputs from a live plan: the live documents (Before)
// of what the stack owns, and the values the providers published while
// reading. Values of parts that do not exist yet are left out.
func collect(st *spec.Stack, planned *engine.Planned) []Output {
	live := map[plan.Address]plan.Document{}
	for _, c := range planned.Plan.Changes {
		if c.Before != nil {
			live[c.Address] = c.Before
		}
	}
	find := func(provider, region, kind, name string) plan.Document {
		for a, d := range live {
			if a.Provider == provider && a.Region == region && a.Kind == kind && a.Name == name {
				return d
			}
		}
		return nil
	}
	var out []Output
	add := func(name string, v any) {
		if v != nil && v != "" {
			out = append(out, Output{Name: name, Value: v})
		}
	}
	hostnames := st.Spec.Hostnames
	if len(hostnames) > 0 {
		host := hostnames[0] + "." + st.Spec.Domain
		add("url", "https://"+host)
		if lb := find("cloudflare", "", "load_balancer", host); lb != nil {
			add("load_balancer.hostname", host)
			add("load_balancer.default_pools", lb["default_pools"])
			add("load_balancer.fallback_pool", lb["fallback_pool"])
			add("load_balancer.steering", lb["steering_policy"])
		}
	}
	ns := st.Spec.Workload.Namespace
	for _, r := range st.Spec.Regions {
		if pool := find("cloudflare", "", "pool", r.Name); pool != nil {
			add("pools."+r.Name+".name", pool["name"])
			add("pools."+r.Name+".origins", originAddresses(pool))
			add("pools."+r.Name+".enabled", pool["enabled"])
		}
		prefix := "regions." + r.Name + "."
		if v, ok := planned.Outputs.Get(fmt.Sprintf(provider.OutIngressAddress, r.Name)); ok {
			if s, ok := v.(string); ok {
				add(prefix+"address", s)
			}
		}
		if d := find("kubernetes", r.Name, "Deployment", ns+"/neko-api"); d != nil {
			add(prefix+"image", containerImage(d, "api"))
		}
		if d := find("kubernetes", r.Name, "Secret", ns+"/neko-api-auth"); d != nil {
			data, _ := d["data"].(map[string]any)
			add(prefix+"admin_password", data["ADMIN_PASSWORD"])
		}
		if find("kubernetes", r.Name, "ConfigMap", ns+"/neko-api-dashboard") != nil {
			add(prefix+"grafana_dashboard", "ConfigMap "+ns+"/neko-api-dashboard (uid neko-api)")
		}
		if find("kubernetes", r.Name, "PrometheusRule", ns+"/neko-api") != nil {
			add(prefix+"alert_rules", "PrometheusRule "+ns+"/neko-api")
		}
	}
	a := st.Spec.Atlas
	if cl := find("atlas", "", "cluster", a.Cluster.Name); cl != nil {
		add("atlas.cluster", a.Cluster.Name)
		add("atlas.primary_region", primaryRegion(st, cl))
		if v, ok := planned.Outputs.Get(provider.OutMongoURI); ok {
			add("atlas.hosts", hostOf(v))
			add("mongodb_uri", v)
		}
	}
	if v, ok := planned.Outputs.Get(provider.OutDBPassword); ok {
		if _, secret := v.(plan.Sensitive); secret {
			add("db_password", v)
		}
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

func originAddresses(pool plan.Document) []any {
	origins, _ := pool["origins"].([]any)
	var out []any
	for _, o := range origins {
		if m, ok := o.(map[string]any); ok && m["address"] != nil {
			out = append(out, m["address"])
		}
	}
	return out
}

func containerImage(d plan.Document, name string) any {
	spec, _ := d["spec"].(map[string]any)
	tpl, _ := spec["template"].(map[string]any)
	podSpec, _ := tpl["spec"].(map[string]any)
	containers, _ := podSpec["containers"].([]any)
	for _, c := range containers {
		if m, ok := c.(map[string]any); ok && m["name"] == name {
			return m["image"]
		}
	}
	return nil
}

// primaryRegion is the live cluster's highest-priority region, named as
// the spec names it when one matches.
func primaryRegion(st *spec.Stack, cluster plan.Document) string {
	regions, _ := cluster["regions"].(map[string]any)
	best, bestPriority := "", -1.0
	for key, v := range regions {
		m, _ := v.(map[string]any)
		if p, ok := number(m["priority"]); ok && (p > bestPriority || (p == bestPriority && key < best)) {
			best, bestPriority = key, p
		}
	}
	if best == "" {
		return ""
	}
	_, atlasRegion, _ := strings.Cut(best, "/")
	for _, r := range st.Spec.Regions {
		if strings.EqualFold(r.Atlas.Region, atlasRegion) {
			return fmt.Sprintf("%s (%s)", r.Name, best)
		}
	}
	return best
}

// number reads a priority whatever numeric type the document holds.
func number(v any) (float64, bool) {
	if v == nil {
		return 0, false
	}
	f, err := strconv.ParseFloat(fmt.Sprint(v), 64)
	return f, err == nil
}

// hostOf is the cluster's address from the connection string, without the
// credentials it carries.
func hostOf(v any) string {
	s, ok := v.(plan.Sensitive)
	if !ok {
		return ""
	}
	u, err := url.Parse(s.Reveal())
	if err != nil {
		return ""
	}
	return u.Scheme + "://" + u.Host
}
