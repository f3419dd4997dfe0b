package output

import (
	"testing"

	"github.com/neko-defense/nekoctl/pkg/plan"
	"github.com/neko-defense/nekoctl/pkg/spec"
)

func TestPrimaryRegionAndHosts(t *testing.T) {
	st := &spec.Stack{Spec: spec.Spec{Regions: []spec.Region{
		{Name: "us-east", Atlas: spec.RegionAtlas{Region: "US_EAST_1"}},
		{Name: "eu-west", Atlas: spec.RegionAtlas{Region: "EU_WEST_1"}},
	}}}
	cluster := plan.Document{"regions": map[string]any{
		"AWS/EU_WEST_1": map[string]any{"priority": float64(6)},
		"AWS/US_EAST_1": map[string]any{"priority": int64(7)},
	}}
	if got := primaryRegion(st, cluster); got != "us-east (AWS/US_EAST_1)" {
		t.Errorf("primary region = %q", got)
	}
	uri := plan.NewSensitive("mongodb+srv://neko-api:s3cr3t@neko-global.abc.mongodb.net/neko?retryWrites=true")
	if got := hostOf(uri); got != "mongodb+srv://neko-global.abc.mongodb.net" {
		t.Errorf("hosts = %q", got)
	}
	if got := hostOf(plan.NewSensitive("mongodb+srv://neko-api:%zz@x")); got != "" {
		t.Errorf("an unparsable connection string gave %q", got)
	}
}
