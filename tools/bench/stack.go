package bench

import (
	"fmt"
	"strings"

	"github.com/neko-defense/nekoctl/pkg/atlasregions"
	"github.com/neko-defense/nekoctl/pkg/spec"
)

// benchImage is an immutable image reference: a source build refuses to
// deploy its default, moving tag.
var benchImage = "neko-defense/nekoctl:1.0.0@sha256:" + strings.Repeat("ab", 32)

// zonePlan is the guide's Pro zone, or Enterprise beyond the 20 load
// balancer pools (one per region) the lower plans allow.
func zonePlan(regions int) string {
	if regions > spec.MaxLoadBalancerPools {
		return "enterprise"
	}
	return "pro"
}

// guideGeo are the Cloudflare regions of the guide's three regions.
var guideGeo = [][]string{
	{"WNAM", "ENAM", "NSAM", "SSAM"}, {"WEU", "EEU", "ME", "NAF", "SAF"}, {"SAS", "SEAS", "NEAS", "OC"},
}

// stackSpec is the guide's stack (examples/global.yaml) stretched to n
// regions: the first three hold the electable Atlas nodes and the geo
// steering as in the guide, the others a read-only node each.
func stackSpec(name, domain string, regions []string, atlasURL, orgID, accountID string) string {
	var b strings.Builder
	fmt.Fprintf(&b, `apiVersion: nekoctl.dev/v1alpha1
kind: Stack
metadata:
  name: %s
spec:
  domain: %s
  hostnames: [api, www.api]
  cloudflare:
    accountID: %s
    plan: %s
    cacheRules:
      - {name: graphql-bypass, path: /graphql*, cache: false}
      - {name: static-assets, path: /static/*, cache: true, edgeTTL: 30d}
    waf:
      managedRulesets: [cloudflare-managed, owasp]
    rateLimits:
      - {name: graphql, path: /graphql, requests: 100, period: 1m, action: block, mitigationTimeout: 10m}
    loadBalancer:
      steering: geo
      fallbackRegion: %s
  atlas:
    orgID: %s
    baseURL: %s
    project: %s
    cluster: {name: %s-cluster, tier: M10, mongoDBVersion: "8.0", terminationProtection: true}
    backup: {enabled: true, pitrWindowDays: 7}
  workload:
    namespace: %s
    image: %s
  monitoring:
    install: false
  regions:
`, name, domain, accountID, zonePlan(len(regions)), regions[0], orgID, atlasURL, name, name, name, benchImage)
	var aws []string
	for _, r := range atlasregions.Names("AWS") {
		if !strings.HasPrefix(r, "US_GOV") {
			aws = append(aws, r)
		}
	}
	for i, r := range regions {
		ar := aws[i%len(aws)]
		fmt.Fprintf(&b, "    - name: %s\n", r)
		if i == 0 {
			b.WriteString("      primary: true\n")
		}
		cloud, _ := atlasregions.CloudRegion("AWS", ar)
		fmt.Fprintf(&b, "      cloud: {provider: aws, region: %s}\n", cloud)
		fmt.Fprintf(&b, "      kubeContext: %s\n", r)
		if i < 3 {
			electable := 1
			if i == 0 && len(regions) < 3 { // Atlas needs three electable nodes
				electable = 4 - len(regions)
			}
			fmt.Fprintf(&b, "      atlas: {region: %s, electableNodes: %d}\n", ar, electable)
			fmt.Fprintf(&b, "      geoRegions: [%s]\n", strings.Join(guideGeo[i], ", "))
		} else {
			fmt.Fprintf(&b, "      atlas: {region: %s, electableNodes: 0, readOnlyNodes: 1}\n", ar)
		}
		b.WriteString("      egressCIDRs: [198.51.100.0/24]\n")
	}
	return b.String()
}
