package main

import (
	"testing"

	"github.com/neko-defense/nekoctl/internal/stacktest"
)

// TestBinaryPartialRuns: --region and --target plans and applies, and
// refusals of what matches nothing, through the built binary against three
// real kube-apiservers and both emulators (stacktest.PartialRunsJourney).
func TestBinaryPartialRuns(t *testing.T) {
	w := stacktest.New(t)
	stacktest.PartialRunsJourney(t, w, buildBinary(t, w).runner)
}

// TestBinaryAdoption: the guide's stack built by hand (records, load
// balancer, pools, monitor, Atlas project and cluster, namespaces,
// Deployments and Services without markers); `up` refuses naming every
// conflict, `up --adopt` takes it over, the next plan is empty
// (stacktest.AdoptionJourney).
func TestBinaryAdoption(t *testing.T) {
	w := stacktest.New(t)
	stacktest.AdoptionJourney(t, w, buildBinary(t, w).runner)
}
