package kubernetes

import (
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestParseFiringAlerts(t *testing.T) {
	body := `[
	 {"labels": {"alertname": "NekoAPIHighErrorRate", "severity": "critical"}, "status": {"state": "active"}},
	 {"labels": {"alertname": "NekoAPIPodsUnavailable"}, "status": {"state": "active"}},
	 {"labels": {"alertname": "Watchdog"}, "status": {"state": "suppressed"}}]`
	got, err := parseFiringAlerts([]byte(body))
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{"NekoAPIHighErrorRate", "NekoAPIPodsUnavailable"}, got); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
	if _, err := parseFiringAlerts([]byte("<html>")); err == nil {
		t.Error("a non-JSON answer was accepted")
	}
}
