package recovery

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/neko-defense/nekoctl/pkg/providers/cloudflare"
	"github.com/neko-defense/nekoctl/pkg/recovery"
)

// poolIDs maps region to the emulator's pool id and enabled flag.
func (w *world) pools() (ids map[string]string, enabled map[string]bool) {
	ids, enabled = map[string]string{}, map[string]bool{}
	for _, p := range w.CF.Pools() {
		r := strings.TrimPrefix(p.Name, cloudflare.PoolName("neko-defense", ""))
		ids[r], enabled[r] = p.ID, p.Enabled
	}
	return ids, enabled
}

func decodeReport(t *testing.T, out string) recovery.Report {
	t.Helper()
	var rep recovery.Report
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatalf("report: %v\n%s", err, out)
	}
	return rep
}

func testRegionLossDrill(t *testing.T, w *world) {
	gid := w.projectID(t)
	out, errOut, err := w.cli(t, "drill", "region-loss", "--region", "eu-west", "--database", "--yes", "--poll", "20ms", "-o", "json")
	if err != nil {
		t.Fatalf("drill: %v\n%s%s", err, out, errOut)
	}
	rep := decodeReport(t, out)
	if rep.Recovery <= 0 || rep.DB <= 0 || rep.Recovery < rep.DB || !rep.Met || !rep.Restored || rep.Objective.Scenario != recovery.ScenarioRegion {
		t.Errorf("report: %+v", rep)
	}
	if n := w.Atlas.PrimaryRestarts(gid, "neko-global"); n != 1 {
		t.Errorf("%d failover tests, want 1", n)
	}
	if _, enabled := w.pools(); !enabled["eu-west"] {
		t.Errorf("the drill left the pool of eu-west disabled")
	}
	if p := w.Atlas.PrimaryRegion(gid, "neko-global"); p != "AWS/US_EAST_1" {
		t.Errorf("primary after the drill: %s", p)
	}

	// Markdown has the objectives table with the measured row.
	out, _, err = w.cli(t, "drill", "region-loss", "--region", "asia-pacific", "--yes", "--poll", "20ms", "-o", "markdown")
	if err != nil {
		t.Fatalf("drill -o markdown: %v\n%s", err, out)
	}
	for _, s := range []string{"| region | < 5m0s | 0 |", "| single pod | < 30s |", " met |", "| complete disaster |"} {
		if !strings.Contains(out, s) {
			t.Errorf("markdown report lacks %q:\n%s", s, out)
		}
	}

	// A recovery that does not come (another pool stays unhealthy) times
	// out, and the pool is enabled again all the same.
	ids, _ := w.pools()
	w.CF.SetPoolHealthy(ids["asia-pacific"], false)
	out, errOut, err = w.cli(t, "drill", "region-loss", "--region", "eu-west", "--yes", "--poll", "20ms", "--timeout", "300ms")
	w.CF.SetPoolHealthy(ids["asia-pacific"], true)
	if err == nil || !strings.Contains(err.Error(), "not recovered after") {
		t.Fatalf("drill without recovery: %v\n%s%s", err, out, errOut)
	}
	if _, enabled := w.pools(); !enabled["eu-west"] {
		t.Errorf("a failed drill left the pool of eu-west disabled")
	}
	// The only healthy pool is never taken away.
	w.CF.SetPoolHealthy(ids["us-east"], false)
	w.CF.SetPoolHealthy(ids["asia-pacific"], false)
	_, _, err = w.cli(t, "drill", "region-loss", "--region", "eu-west", "--yes")
	w.CF.SetPoolHealthy(ids["us-east"], true)
	w.CF.SetPoolHealthy(ids["asia-pacific"], true)
	if err == nil || !strings.Contains(err.Error(), "would take the API down") {
		t.Fatalf("drill on the last healthy pool: %v", err)
	}
}

func testPodLossDrill(t *testing.T, w *world) {
	start := time.Now()
	out, errOut, err := w.cli(t, "drill", "pod-loss", "--region", "us-east", "--yes", "--poll", "50ms", "-o", "json")
	if err != nil {
		t.Fatalf("drill pod-loss: %v\n%s%s", err, out, errOut)
	}
	rep := decodeReport(t, out)
	// The replacement is ready no sooner than the harness's readiness delay.
	if rep.Recovery < 300*time.Millisecond || rep.Recovery > time.Since(start) || !rep.Met || !strings.HasPrefix(rep.Fault, "deleted API pod neko-api-") {
		t.Errorf("report: %+v", rep)
	}
}
