package atlasregions

import (
	"regexp"
	"strings"
	"testing"
)

// The table's shape: names Atlas's way, ids the provider's way, each once,
// and AWS names derived from AWS ids as Atlas derives them.
func TestTable(t *testing.T) {
	atlasRE := regexp.MustCompile(`^[A-Z][A-Z0-9_]*[A-Z0-9]$`)
	cloudRE := map[string]*regexp.Regexp{
		"AWS":   regexp.MustCompile(`^[a-z]{2}(-gov)?-[a-z]+-\d$`),
		"GCP":   regexp.MustCompile(`^[a-z]+-[a-z]+\d+$`),
		"AZURE": regexp.MustCompile(`^[a-z]+\d?$`),
	}
	for _, p := range Providers {
		seenA, seenC := map[string]bool{}, map[string]bool{}
		for _, r := range table[p] {
			if !atlasRE.MatchString(r.Atlas) || !cloudRE[p].MatchString(r.Cloud) {
				t.Errorf("%s: malformed %+v", p, r)
			}
			if seenA[r.Atlas] || seenC[r.Cloud] {
				t.Errorf("%s: %+v listed twice", p, r)
			}
			seenA[r.Atlas], seenC[r.Cloud] = true, true
			if p == "AWS" && r.Atlas != strings.ToUpper(strings.ReplaceAll(r.Cloud, "-", "_")) {
				t.Errorf("AWS %s is not the Atlas form of %s", r.Atlas, r.Cloud)
			}
		}
	}
}

func TestLookups(t *testing.T) {
	for _, tc := range []struct{ provider, atlas, cloud string }{
		{"AWS", "US_EAST_1", "us-east-1"}, {"AWS", "AF_SOUTH_1", "af-south-1"},
		{"GCP", "CENTRAL_US", "us-central1"}, {"GCP", "EASTERN_US", "us-east1"}, {"GCP", "US_EAST_4", "us-east4"},
		{"AZURE", "US_EAST_2", "eastus2"}, {"AZURE", "EUROPE_WEST", "westeurope"}, {"AZURE", "JAPAN_EAST", "japaneast"},
	} {
		if c, ok := CloudRegion(tc.provider, tc.atlas); !ok || c != tc.cloud {
			t.Errorf("CloudRegion(%s, %s) = %q %v, want %q", tc.provider, tc.atlas, c, ok, tc.cloud)
		}
		if a, ok := AtlasName(tc.provider, tc.cloud); !ok || a != tc.atlas {
			t.Errorf("AtlasName(%s, %s) = %q %v, want %q", tc.provider, tc.cloud, a, ok, tc.atlas)
		}
	}
	if Valid("GCP", "US_EAST_1") || Valid("AWS", "us-east-1") || Known("aws") {
		t.Error("names are per provider and case-sensitive")
	}
}
