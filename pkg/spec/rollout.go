package spec

import (
	"fmt"
	"strings"
)

// Rollout stages a new workload revision region by region: each wave's
// Deployments change only once the previous wave is healthy and has baked.
type Rollout struct {
	// Waves default to one secondary region as the canary, then the other
	// secondaries, the primary last.
	Waves []RolloutWave `json:"waves,omitempty"`
	// OnFailure is what happens to the regions of a wave that fails:
	// rollback (default) returns their Deployments to the revision recorded
	// before the change; stop leaves them as they are. Either way the
	// later waves do not start.
	OnFailure string `json:"onFailure,omitempty" jsonschema:"enum=rollback,enum=stop"`
}

// RolloutWave is a set of regions that change together.
type RolloutWave struct {
	Regions []string `json:"regions"`
	// Bake is how long the wave must stay healthy before the next starts.
	Bake *Duration `json:"bake,omitempty"`
}

// Rollout failure policies.
const (
	OnFailureRollback = "rollback"
	OnFailureStop     = "stop"
)

func (r *Rollout) applyDefaults(s *Spec) {
	setStr(&r.OnFailure, OnFailureRollback)
	if len(r.Waves) == 0 {
		r.Waves = DefaultWaves(s)
	}
}

// DefaultWaves are one secondary region (the first declared) as the
// canary, then the other secondaries together, then the primary.
func DefaultWaves(s *Spec) []RolloutWave {
	primary := s.PrimaryRegion()
	var secondaries []string
	for _, r := range s.Regions {
		if primary == nil || r.Name != primary.Name {
			secondaries = append(secondaries, r.Name)
		}
	}
	var waves []RolloutWave
	if len(secondaries) > 0 {
		waves = append(waves, RolloutWave{Regions: secondaries[:1]})
	}
	if len(secondaries) > 1 {
		waves = append(waves, RolloutWave{Regions: secondaries[1:]})
	}
	if primary != nil {
		waves = append(waves, RolloutWave{Regions: []string{primary.Name}})
	}
	return waves
}

// rollout checks that the waves name every region exactly once.
func (v *validator) rollout() {
	r := &v.st.Spec.Rollout
	const p = "spec.rollout"
	if r.OnFailure != OnFailureRollback && r.OnFailure != OnFailureStop {
		v.errorf(p+".onFailure", "%q must be rollback or stop", r.OnFailure)
	}
	seen := map[string]int{}
	for i, w := range r.Waves {
		wp := fmt.Sprintf("%s.waves[%d]", p, i)
		if len(w.Regions) == 0 {
			v.errorf(wp+".regions", "a wave needs at least one region")
		}
		for j, name := range w.Regions {
			rp := fmt.Sprintf("%s.regions[%d]", wp, j)
			switch prev, dup := seen[name]; {
			case v.st.Spec.Region(name) == nil:
				v.errorf(rp, "%q is not a region of the spec", name)
			case dup:
				v.errorf(rp, "region %q is already in wave %d", name, prev+1)
			}
			seen[name] = i
		}
		if w.Bake != nil && w.Bake.Duration < 0 {
			v.errorf(wp+".bake", "must not be negative")
		}
	}
	var missing []string
	for _, reg := range v.st.Spec.Regions {
		if _, ok := seen[reg.Name]; !ok && reg.Name != "" {
			missing = append(missing, reg.Name)
		}
	}
	if len(missing) > 0 && len(r.Waves) > 0 {
		v.errorf(p+".waves", "every region must be in a wave; missing: %s", strings.Join(missing, ", "))
	}
}
