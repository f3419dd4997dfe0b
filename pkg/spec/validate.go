package spec

import (
	"fmt"
	"net"
	"regexp"
	"strings"
)

// validator collects diagnostics with the position of each field path.
type validator struct {
	st    *Stack
	pos   Positions
	diags Diagnostics
}

func (v *validator) add(sev Severity, path, format string, args ...any) {
	v.diags = append(v.diags, Diagnostic{Severity: sev, File: v.st.File, Pos: v.pos.Of(path),
		Path: path, Message: fmt.Sprintf(format, args...)})
}

func (v *validator) errorf(path, format string, args ...any) { v.add(Error, path, format, args...) }
func (v *validator) warnf(path, format string, args ...any)  { v.add(Warning, path, format, args...) }
func (v *validator) infof(path, format string, args ...any)  { v.add(Info, path, format, args...) }

// Validate checks a defaulted stack: values, ranges and cross-field rules.
// It never contacts a remote service.
func Validate(st *Stack, pos Positions) Diagnostics {
	if pos == nil {
		pos = Positions{}
	}
	v := &validator{st: st, pos: pos}
	v.header()
	v.domain()
	v.regions()
	v.cloudflare()
	v.atlas()
	v.workload()
	v.alerting()
	v.monitoring()
	v.rollout()
	return v.diags
}

var (
	stackNameRE = regexp.MustCompile(`^[a-z0-9]([a-z0-9-]{0,38}[a-z0-9])?$`)
	dnsLabelRE  = regexp.MustCompile(`^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$`)
)

func (v *validator) header() {
	if v.st.APIVersion != APIVersion {
		v.errorf("apiVersion", "must be %q, found %q", APIVersion, v.st.APIVersion)
	}
	if v.st.Kind != Kind {
		v.errorf("kind", "must be %q, found %q", Kind, v.st.Kind)
	}
	switch name := v.st.Metadata.Name; {
	case name == "":
		v.errorf("metadata.name", "is required: it marks every remote object this stack owns")
	case !stackNameRE.MatchString(name):
		v.errorf("metadata.name", "%q must be lower-case letters, digits and '-', at most 40 characters", name)
	}
}

func (v *validator) domain() {
	s := &v.st.Spec
	if s.Domain == "" {
		v.errorf("spec.domain", "is required (the Cloudflare zone apex, e.g. example.com)")
		return
	}
	if !isHostname(s.Domain) || !strings.Contains(s.Domain, ".") {
		v.errorf("spec.domain", "%q is not a domain name", s.Domain)
	}
	if len(s.Hostnames) == 0 {
		v.errorf("spec.hostnames", "needs at least one hostname to serve the API")
	}
	seen := map[string]bool{}
	for i, h := range s.Hostnames {
		p := fmt.Sprintf("spec.hostnames[%d]", i)
		if seen[h] {
			v.errorf(p, "%q is listed twice", h)
		}
		seen[h] = true
		if h != "@" && !isHostname(h) {
			v.errorf(p, "%q is not a valid host label (letters, digits, '-', dots between labels)", h)
			continue
		}
		if strings.Count(h, ".") >= 1 {
			v.warnf(p, "%s.%s is two levels below the zone: Universal SSL covers only one level, so it needs Advanced Certificate Manager or Total TLS to be proxied with a valid edge certificate", h, s.Domain)
		}
	}
}

func (v *validator) regions() {
	s := &v.st.Spec
	if len(s.Regions) == 0 {
		v.errorf("spec.regions", "needs at least one region")
		return
	}
	names, contexts := map[string]bool{}, map[string]string{}
	primaries := 0
	for i := range s.Regions {
		r := &s.Regions[i]
		p := fmt.Sprintf("spec.regions[%d]", i)
		switch {
		case r.Name == "":
			v.errorf(p+".name", "is required")
		case !dnsLabelRE.MatchString(r.Name):
			v.errorf(p+".name", "%q must be lower-case letters, digits and '-'", r.Name)
		case names[r.Name]:
			v.errorf(p+".name", "region %q is declared twice", r.Name)
		}
		names[r.Name] = true
		if r.Primary {
			primaries++
		}
		if r.KubeContext == "" {
			v.errorf(p+".kubeContext", "is required: the kubeconfig context of this region's cluster")
		} else if other, dup := contexts[r.KubeContext]; dup {
			v.errorf(p+".kubeContext", "context %q is already used by region %q; each region needs its own cluster", r.KubeContext, other)
		}
		contexts[r.KubeContext] = r.Name
		v.cloud(p, r)
		v.replicas(p, r)
		for j, c := range r.EgressCIDRs {
			if _, _, err := net.ParseCIDR(c); err != nil && net.ParseIP(c) == nil {
				v.errorf(fmt.Sprintf("%s.egressCIDRs[%d]", p, j), "%q is neither a CIDR block nor an IP address", c)
			} else if c == "0.0.0.0/0" {
				v.warnf(fmt.Sprintf("%s.egressCIDRs[%d]", p, j), "0.0.0.0/0 opens the Atlas cluster to the whole internet")
			}
		}
		if a := r.IngressAddress; a != "" && net.ParseIP(a) == nil && !isHostname(a) {
			v.errorf(p+".ingressAddress", "%q is neither an IP address nor a hostname", a)
		}
	}
	switch {
	case primaries == 0 && len(s.Regions) > 1:
		v.errorf("spec.regions", "exactly one region must be primary: none is marked `primary: true`")
	case primaries > 1:
		for i := range s.Regions {
			if s.Regions[i].Primary {
				v.errorf(fmt.Sprintf("spec.regions[%d].primary", i), "exactly one region may be primary, %d are", primaries)
			}
		}
	}
}

var cloudProviders = map[string]bool{"aws": true, "gcp": true, "azure": true}

func (v *validator) cloud(p string, r *Region) {
	if !cloudProviders[r.Cloud.Provider] {
		v.errorf(p+".cloud.provider", "%q must be one of aws, gcp, azure", r.Cloud.Provider)
	}
	if r.Cloud.Region == "" {
		v.errorf(p+".cloud.region", "is required (e.g. us-east-1)")
	}
	v.cloudRegion(p, r)
}

func (v *validator) replicas(p string, r *Region) {
	if r.Replicas.Min < 1 {
		v.errorf(p+".replicas.min", "must be at least 1, found %d", r.Replicas.Min)
	}
	if r.Replicas.Max < r.Replicas.Min {
		v.errorf(p+".replicas.max", "%d is below replicas.min %d", r.Replicas.Max, r.Replicas.Min)
	}
	if r.Replicas.Min < 3 {
		v.warnf(p+".replicas.min", "fewer than 3 replicas: the PodDisruptionBudget keeps 2 available, so node drains will block")
	}
	for _, t := range []struct {
		field string
		val   int
	}{{"cpu", r.Autoscaling.CPU}, {"memory", r.Autoscaling.Memory}} {
		if t.val < 1 || t.val > 100 {
			v.errorf(p+".autoscaling."+t.field, "target utilization must be 1-100 percent, found %d", t.val)
		}
	}
	for _, q := range []struct{ path, val string }{
		{".resources.requests.cpu", r.Resources.Requests.CPU}, {".resources.requests.memory", r.Resources.Requests.Memory},
		{".resources.limits.cpu", r.Resources.Limits.CPU}, {".resources.limits.memory", r.Resources.Limits.Memory},
	} {
		if err := checkQuantity(q.val); err != nil {
			v.errorf(p+q.path, "%v", err)
		}
	}
}

func isHostname(h string) bool {
	if len(h) > 253 || h == "" {
		return false
	}
	for _, l := range strings.Split(h, ".") {
		if !dnsLabelRE.MatchString(l) {
			return false
		}
	}
	return true
}
