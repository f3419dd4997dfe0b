package spec

import (
	"strings"
	"testing"
)

func regionSpec(regions ...string) []byte {
	src := strings.Join([]string{
		"apiVersion: nekoctl.dev/v1alpha1", "kind: Stack", "metadata: {name: neko}", "spec:",
		"  domain: nekodefense.example",
		"  cloudflare: {accountID: 0123456789abcdef0123456789abcdef, plan: pro}",
		"  atlas: {orgID: 5f0123456789abcdef012345, project: p, cluster: {name: c}}",
		"  regions:",
	}, "\n")
	for _, r := range regions {
		src += "\n    - " + r
	}
	return []byte(src + "\n")
}

// Every Atlas region of the shared table validates, AF_SOUTH_1 included
// (the emulator accepts the same table), and a Kubernetes cluster paired
// with an Atlas region elsewhere is a warning that names the right one.
func TestCloudAndAtlasRegionPairing(t *testing.T) {
	for _, tc := range []struct {
		name, region, warning string
	}{
		{"paired", "{name: za, primary: true, kubeContext: a, cloud: {provider: aws, region: af-south-1}, atlas: {region: AF_SOUTH_1, electableNodes: 3}}", ""},
		{"gcp paired", "{name: us, primary: true, kubeContext: a, cloud: {provider: gcp, region: us-central1}, atlas: {region: CENTRAL_US, electableNodes: 3}}", ""},
		{"across regions", "{name: us, primary: true, kubeContext: a, cloud: {provider: aws, region: us-east-1}, atlas: {region: EU_WEST_1, electableNodes: 3}}",
			"spec.regions[0].atlas.region: EU_WEST_1 is eu-west-1, not the Kubernetes cluster's us-east-1: every database call crosses regions (the paired Atlas region is US_EAST_1)"},
		{"across clouds", "{name: us, primary: true, kubeContext: a, cloud: {provider: azure, region: eastus2}, atlas: {provider: AWS, region: US_EAST_1, electableNodes: 3}}",
			"spec.regions[0].atlas.region: AWS US_EAST_1 is on another cloud than the region's Kubernetes cluster (azure eastus2)"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			l, err := Parse("pair.yaml", regionSpec(tc.region))
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, d := range l.Diagnostics {
				if d.Severity == Warning && strings.Contains(d.Path, "atlas.region") {
					got = append(got, d.Path+": "+d.Message)
				}
			}
			switch {
			case tc.warning == "" && len(got) > 0:
				t.Errorf("unexpected warnings %q", got)
			case tc.warning != "" && (len(got) != 1 || !strings.HasPrefix(got[0], tc.warning)):
				t.Errorf("warnings %q, want %q", got, tc.warning)
			}
		})
	}
}
