package plan

// Rollout is how `up` stages the workload's changes: wave by wave, each
// after the previous one is healthy and has baked.
type Rollout struct {
	// OnFailure is "rollback" or "stop".
	OnFailure string `json:"on_failure"`
	Waves     []Wave `json:"waves"`
}

// Wave is a set of regions whose workload changes together.
type Wave struct {
	Number  int      `json:"number"`
	Regions []string `json:"regions"`
	// Bake is how long the wave stays healthy before the next one starts
	// ("" when it does not wait).
	Bake string `json:"bake,omitempty"`
	// Changes are the workload changes (Deployments) the wave makes.
	Changes []Address `json:"changes,omitempty"`
}

// WaveOf returns the number of the wave that stages a change, or 0 when
// the change is not staged (not a workload change, or no rollout).
func (r *Rollout) WaveOf(a Address) int {
	if r == nil {
		return 0
	}
	for _, w := range r.Waves {
		for _, c := range w.Changes {
			if c == a {
				return w.Number
			}
		}
	}
	return 0
}
