package kubernetes

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"sync"

	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/neko-defense/nekoctl/pkg/plan"
	"github.com/neko-defense/nekoctl/pkg/provider"
)

// MissingCRDs is what a region's cluster lacks of the Prometheus Operator's
// CRDs for the stack's monitoring objects, when spec.monitoring.install is
// off and so nothing will bring them.
type MissingCRDs struct {
	Region string
	// CRDs are the missing definitions by name
	// (servicemonitors.monitoring.coreos.com), sorted.
	CRDs []string
	// Skipped counts the stack's objects that need them.
	Skipped int
}

// Missing reports whether anything is missing.
func (m MissingCRDs) Missing() bool { return len(m.CRDs) > 0 }

// String is the one warning a region gets, saying what is skipped and how
// to have it deployed.
func (m MissingCRDs) String() string {
	objects := "objects are"
	if m.Skipped == 1 {
		objects = "object is"
	}
	return fmt.Sprintf("region %s: the cluster does not serve the Prometheus Operator's CRDs %s, and spec.monitoring.install is false: "+
		"%d monitoring %s skipped; install the Prometheus Operator in this cluster, set spec.monitoring.install: true to have nekoctl install kube-prometheus-stack, "+
		"or set spec.workload.monitoring.serviceMonitor and alerts to false to deploy none of them",
		m.Region, strings.Join(m.CRDs, ", "), m.Skipped, objects)
}

// skippedMonitoring collects, during one Diff, the monitoring objects
// skipped because the cluster does not serve their kinds, so that the
// region reports one warning instead of one per object.
type skippedMonitoring struct {
	mu    sync.Mutex
	kinds map[schema.GroupVersionKind]int
}

func (s *skippedMonitoring) reset() {
	s.mu.Lock()
	s.kinds = nil
	s.mu.Unlock()
}

func (s *skippedMonitoring) add(gvk schema.GroupVersionKind) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.kinds == nil {
		s.kinds = map[schema.GroupVersionKind]int{}
	}
	s.kinds[gvk]++
}

func (s *skippedMonitoring) missing(region string) MissingCRDs {
	s.mu.Lock()
	defer s.mu.Unlock()
	return missingCRDs(region, s.kinds)
}

// missingCRDs names the CRDs of the kinds counted.
func missingCRDs(region string, kinds map[schema.GroupVersionKind]int) MissingCRDs {
	m := MissingCRDs{Region: region}
	names := map[string]bool{}
	for gvk, n := range kinds {
		m.Skipped += n
		plural, _ := meta.UnsafeGuessKindToResource(gvk)
		names[plural.Resource+"."+gvk.Group] = true
	}
	for n := range names {
		m.CRDs = append(m.CRDs, n)
	}
	sort.Strings(m.CRDs)
	return m
}

// Diagnostics implements provider.Diagnoser: after a plan, one warning
// when the region's monitoring objects were skipped for want of the
// operator's CRDs.
func (p *Provider) Diagnostics() []plan.Diagnostic {
	m := p.skipped.missing(p.region)
	if !m.Missing() {
		return nil
	}
	return []plan.Diagnostic{{Severity: plan.SeverityWarning, Provider: Name, Region: p.region, Message: m.String()}}
}

var _ provider.Diagnoser = (*Provider)(nil)

// MonitoringCRDs reads which of the Prometheus Operator's CRDs the
// region's monitoring objects need that its cluster does not serve (none
// when spec.monitoring.install is on: the release brings them). It reads
// discovery only and changes nothing (`validate --online`).
func (p *Provider) MonitoringCRDs(ctx context.Context) (MissingCRDs, error) {
	if p.st.Spec.Monitoring.Installs() {
		return MissingCRDs{Region: p.region}, nil
	}
	desired, err := p.Desired(ctx, provider.NewOutputs())
	if err != nil {
		return MissingCRDs{}, err
	}
	if err := p.clients(); err != nil {
		return MissingCRDs{}, err
	}
	kinds := map[schema.GroupVersionKind]int{}
	for _, d := range desired {
		gvk := schema.FromAPIVersionAndKind(str(d.Doc["apiVersion"]), kindOf(d.Doc))
		if gvk.Group != monitoringGroup {
			continue
		}
		_, ok, err := p.mapping(gvk.GroupKind(), gvk.Version)
		if err != nil {
			return MissingCRDs{}, p.wrap(err)
		}
		if !ok {
			kinds[gvk]++
		}
	}
	return missingCRDs(p.region, kinds), nil
}
