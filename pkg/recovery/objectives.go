package recovery

import "time"

// Scenarios of the recovery objectives table, from the smallest failure to
// the largest.
const (
	ScenarioPod      = "single pod"
	ScenarioNode     = "node"
	ScenarioZone     = "zone"
	ScenarioRegion   = "region"
	ScenarioDisaster = "complete disaster"
)

// Objective is one row of the recovery objectives: how long the API may be
// unavailable (RTO) and how much acknowledged data may be lost (RPO) after
// a failure of that scope, what recovers it, and where the figure comes from.
type Objective struct {
	Scenario string        `json:"scenario"`
	RTO      time.Duration `json:"rto_ns"`
	RPO      time.Duration `json:"rpo_ns"`
	Recovery string        `json:"recovery"`
	// Source is "guide" for a figure the deployment guide states and
	// "nekoctl" for one derived from the mechanism that recovers it.
	Source string `json:"source"`
}

// Objectives is the recovery objectives table drills are held to. The
// deployment guide states the region RTO (under five minutes); the other
// rows are what the stack's mechanisms give: the ReplicaSet and readiness
// probe for a pod, rescheduling after the node monitor's grace period for a
// node or a zone, majority writes across regions (no acknowledged write is
// lost while a majority of electable nodes survives), and for a complete
// disaster a restore from Atlas backup (hourly snapshots, point in time
// within the restore window) followed by `nekoctl up`.
var Objectives = []Objective{
	{ScenarioPod, 30 * time.Second, 0, "the ReplicaSet replaces the pod; the others serve meanwhile", "nekoctl"},
	{ScenarioNode, 2 * time.Minute, 0, "pods are rescheduled on the region's other nodes", "nekoctl"},
	{ScenarioZone, 2 * time.Minute, 0, "pods spread over zones; Atlas keeps a majority", "nekoctl"},
	{ScenarioRegion, 5 * time.Minute, 0, "the load balancer steers to the next pool; Atlas elects a primary elsewhere", "guide"},
	{ScenarioDisaster, 4 * time.Hour, time.Hour, "nekoctl restore, then nekoctl up", "nekoctl"},
}

// ObjectiveFor returns the row of a scenario.
func ObjectiveFor(scenario string) Objective {
	for _, o := range Objectives {
		if o.Scenario == scenario {
			return o
		}
	}
	return Objective{Scenario: scenario}
}
