package validate

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/neko-defense/nekoctl/internal/stacktest"
	"github.com/neko-defense/nekoctl/pkg/cmd/plan"
	"github.com/neko-defense/nekoctl/pkg/spec"
)

// TestValidateOnlineChecksTheMonitoringCRDs: with spec.monitoring.install
// false (the test world's spec), `validate --online` asks every region's
// real kube-apiserver for the Prometheus Operator's CRDs. Where they are
// served it says nothing; a region whose operator was removed gets one
// warning naming the CRDs and the skipped objects, a region whose cluster
// cannot be reached a warning that it was not checked; the spec stays
// valid, in text and in JSON. `plan` gives the same warning, once.
func TestValidateOnlineChecksTheMonitoringCRDs(t *testing.T) {
	w := stacktest.New(t)
	// run returns stdout and the lines of stderr about the operator's CRDs
	// (the spec's own warnings come before them).
	run := func(output string) (string, []string) {
		t.Helper()
		f, out, errOut := w.Factory()
		err := validateRun(context.Background(), &ValidateOptions{F: f, File: w.Spec, Output: output, Online: true})
		if err != nil {
			t.Fatalf("validate -o %s: %v\n%s%s", output, err, out, errOut)
		}
		var crds []string
		for _, l := range strings.Split(errOut.String(), "\n") {
			if strings.Contains(l, "Prometheus Operator") {
				crds = append(crds, l)
			}
		}
		return out.String(), crds
	}
	if out, stderr := run("text"); len(stderr) > 0 || !strings.Contains(out, "valid stack") {
		t.Fatalf("with the operator's CRDs everywhere:\nstdout:\n%s\nstderr:\n%s", out, stderr)
	}

	if err := w.Kube.RemovePrometheusOperatorCRDs(context.Background(), "eu-west"); err != nil {
		t.Fatal(err)
	}
	planWarnsOnce(t, w)
	w.WriteSpec(t, strings.NewReplacer("kubeContext: asia-pacific", "kubeContext: nowhere"))
	out, lines := run("text")
	want := []string{
		w.Spec + ": warning: spec.monitoring.install: region eu-west: the cluster does not serve the Prometheus Operator's CRDs " +
			"prometheusrules.monitoring.coreos.com, servicemonitors.monitoring.coreos.com, and spec.monitoring.install is false: " +
			"2 monitoring objects are skipped; install the Prometheus Operator in this cluster, set spec.monitoring.install: true",
		w.Spec + `: warning: spec.regions[2].kubeContext: cannot check the cluster for the Prometheus Operator's CRDs: region asia-pacific: kubeconfig context "nowhere"`,
	}
	if len(lines) != len(want) {
		t.Fatalf("want %d warnings, got:\n%s", len(want), strings.Join(lines, "\n"))
	}
	for i, w := range want {
		if !strings.HasPrefix(lines[i], w) {
			t.Errorf("warning %d:\n%s\nwant it to start with:\n%s", i, lines[i], w)
		}
	}
	if !strings.Contains(out, "valid stack") {
		t.Errorf("a missing CRD made the spec invalid:\n%s", out)
	}

	out, _ = run("json")
	var doc struct {
		Valid       bool
		Diagnostics spec.Diagnostics
	}
	if err := json.Unmarshal([]byte(out), &doc); err != nil {
		t.Fatal(err)
	}
	var monitoring []string
	for _, d := range doc.Diagnostics {
		if d.Path == "spec.monitoring.install" {
			monitoring = append(monitoring, d.Message)
		}
	}
	if !doc.Valid || len(monitoring) != 1 || !strings.HasPrefix(monitoring[0], "region eu-west: ") {
		t.Errorf("valid %v, monitoring warnings %q", doc.Valid, monitoring)
	}
}

// planWarnsOnce: `plan` against the world whose eu-west lost the
// operator's CRDs prints one warning for that region, after the changes
// (which note each object skipped), and no warning line per object.
func planWarnsOnce(t *testing.T, w *stacktest.World) {
	t.Helper()
	f, out, errOut := w.Factory()
	c := plan.NewCmdPlan(f, nil)
	c.SilenceErrors, c.SilenceUsage = true, true
	c.SetArgs([]string{"-f", w.Spec})
	if err := c.ExecuteContext(context.Background()); err != nil {
		t.Fatalf("plan: %v\n%s%s", err, out, errOut)
	}
	var warnings []string
	notes := 0
	for _, l := range strings.Split(out.String()+errOut.String(), "\n") {
		switch {
		case strings.Contains(l, "# skipped: the cluster does not serve monitoring.coreos.com/v1/"):
			notes++
		case (strings.HasPrefix(l, "Warning:") || strings.Contains(l, ": warning: ")) && strings.Contains(l, "monitoring"):
			warnings = append(warnings, l)
		}
	}
	if notes != 2 {
		t.Errorf("%d skipped objects noted, want the ServiceMonitor and the PrometheusRule:\n%s", notes, out)
	}
	want := "Warning: region eu-west: the cluster does not serve the Prometheus Operator's CRDs prometheusrules.monitoring.coreos.com, " +
		"servicemonitors.monitoring.coreos.com, and spec.monitoring.install is false: 2 monitoring objects are skipped"
	if len(warnings) != 1 || !strings.HasPrefix(warnings[0], want) {
		t.Errorf("plan's warnings about the operator's CRDs:\n%s\nwant one starting with:\n%s", strings.Join(warnings, "\n"), want)
	}
}
