package status

import (
	"time"

	"github.com/neko-defense/nekoctl/pkg/plan"
	"github.com/neko-defense/nekoctl/pkg/provider"
	"github.com/neko-defense/nekoctl/pkg/spec"
)

// FormatVersion is the version of `status -o json`. Bump the major number
// when a field changes meaning or goes away; adding fields bumps the minor.
const FormatVersion = "1.0"

// Report is `nekoctl status`: per region what an on-call engineer asks
// first, the stack-wide Atlas cluster and Cloudflare load balancer, and
// every check they were derived from. Text and JSON render the same Report.
type Report struct {
	FormatVersion string            `json:"format_version"`
	Stack         string            `json:"stack"`
	CheckedAt     time.Time         `json:"checked_at"`
	Healthy       bool              `json:"healthy"`
	Regions       []Region          `json:"regions"`
	Atlas         *Atlas            `json:"atlas,omitempty"`
	Cloudflare    *Cloudflare       `json:"cloudflare,omitempty"`
	Checks        []provider.Health `json:"checks"`
}

// Region is one serving region: its cluster and its Cloudflare pool.
type Region struct {
	Name    string `json:"name"`
	Primary bool   `json:"primary"`
	Healthy bool   `json:"healthy"`
	// Reachable is false when the region's cluster could not be read at
	// all; Error says why, and the cluster's fields are absent.
	Reachable   bool            `json:"reachable"`
	Error       string          `json:"error,omitempty"`
	Pods        *provider.Pods  `json:"pods,omitempty"`
	Image       *provider.Image `json:"image,omitempty"`
	Certificate *Check          `json:"certificate,omitempty"`
	Origin      *Check          `json:"origin,omitempty"`
	Monitoring  *Monitoring     `json:"monitoring,omitempty"`
	Pool        *Check          `json:"pool,omitempty"`
	// Unhealthy names the region's failing checks ("Kind name: state").
	Unhealthy []string `json:"unhealthy,omitempty"`
}

// Check is one check's verdict, with its facts.
type Check struct {
	State   string `json:"state"`
	Healthy bool   `json:"healthy"`
	Detail  string `json:"detail,omitempty"`
	provider.Facts
}

// Monitoring is the region's monitoring stack: the release nekoctl
// installs (absent when it does not) and the alerts firing.
type Monitoring struct {
	Release      *Check `json:"release,omitempty"`
	Alertmanager *Check `json:"alertmanager,omitempty"`
}

// Atlas is the stack's cluster.
type Atlas struct {
	Cluster   string `json:"cluster"`
	Reachable bool   `json:"reachable"`
	Error     string `json:"error,omitempty"`
	Check
}

// Cloudflare is the stack's load balancer.
type Cloudflare struct {
	Hostname  string `json:"hostname"`
	Reachable bool   `json:"reachable"`
	Error     string `json:"error,omitempty"`
	Check
}

// result is what one provider answered.
type result struct {
	name, region string
	lines        []provider.Health
	err          error
}

// Kinds of the status lines folded into the summaries.
const (
	kindOriginProbe  = "OriginProbe"
	kindOriginCert   = "OriginCertificate"
	kindAlertmanager = "Alertmanager"
	kindRelease      = "HelmRelease"
	kindCluster      = "cluster"
	kindLoadBalancer = "load_balancer"
)

// build assembles the report from every provider's answer, regions in
// the spec's order.
func build(st *spec.Stack, now time.Time, results []result) *Report {
	rep := &Report{FormatVersion: FormatVersion, Stack: st.Metadata.Name, CheckedAt: now.UTC(), Healthy: true,
		Regions: []Region{}, Checks: []provider.Health{}}
	primary := ""
	if p := st.Spec.PrimaryRegion(); p != nil {
		primary = p.Name
	}
	for _, r := range st.Spec.Regions {
		rep.Regions = append(rep.Regions, Region{Name: r.Name, Primary: r.Name == primary, Healthy: true})
	}
	regions := map[string]*Region{}
	for i := range rep.Regions {
		regions[rep.Regions[i].Name] = &rep.Regions[i]
	}
	for _, res := range results {
		if res.err != nil {
			rep.Healthy = false
			rep.Checks = append(rep.Checks, provider.Health{Address: plan.Address{Provider: res.name, Region: res.region},
				State: "unreachable", Detail: res.err.Error()})
		}
		switch res.name {
		case "atlas":
			rep.Atlas = atlasSummary(st, res)
		case "cloudflare":
			rep.Cloudflare = cloudflareSummary(st, res)
		case "kubernetes":
			if r := regions[res.region]; r != nil {
				r.Reachable = res.err == nil
				if res.err != nil {
					r.Healthy, r.Error = false, res.err.Error()
				}
			}
		}
		for _, h := range res.lines {
			rep.Healthy = rep.Healthy && h.Healthy
			rep.Checks = append(rep.Checks, h)
			if r := regions[h.Address.Region]; r != nil {
				r.fold(h)
			}
		}
	}
	return rep
}

// fold adds one check of the region to its summary.
func (r *Region) fold(h provider.Health) {
	c := &Check{State: h.State, Healthy: h.Healthy, Detail: h.Detail, Facts: h.Facts}
	if !h.Healthy {
		r.Healthy = false
		r.Unhealthy = append(r.Unhealthy, h.Address.Kind+" "+h.Address.Name+": "+h.State)
	}
	switch {
	case h.Pods != nil:
		r.Pods, r.Image = h.Pods, h.Image
	case h.Address.Provider == "cloudflare":
		r.Pool = c
	case h.Address.Kind == kindOriginCert:
		r.Certificate = c
	case h.Address.Kind == kindOriginProbe:
		r.Origin = c
	case h.Address.Kind == kindAlertmanager:
		r.monitoring().Alertmanager = c
	case h.Address.Kind == kindRelease:
		r.monitoring().Release = c
	}
}

func (r *Region) monitoring() *Monitoring {
	if r.Monitoring == nil {
		r.Monitoring = &Monitoring{}
	}
	return r.Monitoring
}

func atlasSummary(st *spec.Stack, res result) *Atlas {
	a := &Atlas{Cluster: st.Spec.Atlas.Cluster.Name, Reachable: res.err == nil}
	if res.err != nil {
		a.Error, a.State = res.err.Error(), "unreachable"
	}
	for _, h := range res.lines {
		if h.Address.Kind == kindCluster {
			a.Check = Check{State: h.State, Healthy: h.Healthy, Detail: h.Detail, Facts: h.Facts}
		}
	}
	return a
}

func cloudflareSummary(st *spec.Stack, res result) *Cloudflare {
	c := &Cloudflare{Reachable: res.err == nil}
	if f := st.Spec.FQDNs(); len(f) > 0 {
		c.Hostname = f[0]
	}
	if res.err != nil {
		c.Error, c.State = res.err.Error(), "unreachable"
	}
	for _, h := range res.lines {
		if h.Address.Kind == kindLoadBalancer {
			c.Check = Check{State: h.State, Healthy: h.Healthy, Detail: h.Detail, Facts: h.Facts}
		}
	}
	return c
}
