package kubernetes

import (
	"github.com/neko-defense/nekoctl/pkg/spec"
)

// testStack is the guide's three-region stack, built in Go so that these
// tests do not depend on the examples.
func testStack() *spec.Stack {
	st := &spec.Stack{
		APIVersion: spec.APIVersion, Kind: spec.Kind,
		Metadata: spec.Metadata{Name: "neko-defense"},
		Spec: spec.Spec{
			Domain:     "nekodefense.example",
			Cloudflare: spec.Cloudflare{AccountID: "0123456789abcdef0123456789abcdef"},
			Atlas: spec.Atlas{OrgID: "5f0123456789abcdef012345", Project: "neko-defense",
				Cluster: spec.Cluster{Name: "neko-global"}},
			Regions: []spec.Region{
				{Name: "us-east", Primary: true, Cloud: spec.Cloud{Provider: "aws", Region: "us-east-1"},
					KubeContext: "us-east", Atlas: spec.RegionAtlas{Region: "US_EAST_1"}},
				{Name: "eu-west", Cloud: spec.Cloud{Provider: "aws", Region: "eu-west-1"},
					KubeContext: "eu-west", Atlas: spec.RegionAtlas{Region: "EU_WEST_1"}},
				{Name: "asia-pacific", Cloud: spec.Cloud{Provider: "aws", Region: "ap-northeast-1"},
					KubeContext: "asia-pacific", Atlas: spec.RegionAtlas{Region: "AP_NORTHEAST_1"},
					Replicas: spec.Replicas{Min: 2, Max: 6}},
			},
			Workload: spec.Workload{Image: "ghcr.io/neko-defense/nekoctl:v1.0.0"},
		},
	}
	// The monitoring release has its own test (it needs a chart server).
	st.Spec.Monitoring.Install = spec.Bool(false)
	st.ApplyDefaults()
	return st
}
