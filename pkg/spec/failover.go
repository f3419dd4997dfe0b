package spec

import (
	"fmt"
	"slices"
)

// WithPrimary returns a copy of the stack laid out as if region to were the
// primary: it takes the primary's Atlas election priority (the two swap, so
// the others keep theirs) and the load balancer's fallback pool, and the
// default pools list it first. The receiver is not changed. This is the
// layout `nekoctl failover --to` moves the live stack to; naming the region
// `primary: true` in the spec makes the same layout permanent.
func (s *Stack) WithPrimary(to string) (*Stack, error) {
	target := s.Spec.Region(to)
	if target == nil {
		return nil, fmt.Errorf("%q is not a region of this spec (regions: %s)", to, s.regionNames())
	}
	if target.Atlas.ElectableNodes == nil || *target.Atlas.ElectableNodes == 0 {
		return nil, fmt.Errorf("region %s has no electable Atlas nodes: it cannot hold the primary", to)
	}
	prio := s.Spec.AtlasPriorities()
	from := s.Spec.PrimaryRegion()
	out := *s
	out.Spec.Regions = slices.Clone(s.Spec.Regions)
	for i := range out.Spec.Regions {
		r := &out.Spec.Regions[i]
		r.Primary = r.Name == to
		switch r.Name {
		case to:
			r.Atlas.Priority = prio[from.Name]
		case from.Name:
			r.Atlas.Priority = prio[to]
		default:
			r.Atlas.Priority = prio[r.Name]
		}
	}
	out.Spec.Cloudflare.LoadBalancer.FallbackRegion = to
	return &out, nil
}

func (s *Stack) regionNames() string {
	names := make([]string, 0, len(s.Spec.Regions))
	for _, r := range s.Spec.Regions {
		names = append(names, r.Name)
	}
	return fmt.Sprint(names)
}
