package plan

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/neko-defense/nekoctl/internal/golden"
	"github.com/neko-defense/nekoctl/pkg/cmd/factory"
	"github.com/neko-defense/nekoctl/pkg/cmdutil"
	"github.com/neko-defense/nekoctl/pkg/iostreams"
	"github.com/neko-defense/nekoctl/pkg/lock"
	"github.com/neko-defense/nekoctl/pkg/spec"
)

func offlinePlan(t *testing.T, output string, detailed bool) (string, string, error) {
	t.Helper()
	f := factory.New()
	ios, _, out, errOut := iostreams.Test()
	f.IOStreams = ios
	f.Getenv = func(string) string { return "" } // offline needs no credentials
	f.Locker = func(*spec.Stack, time.Duration) (lock.Locker, error) {
		t.Error("plan took the stack lock")
		return nil, errors.New("plan never locks")
	}
	opts := &PlanOptions{F: f, DetailedExitCode: detailed}
	opts.File, opts.Output, opts.Parallelism = "../../../examples/global.yaml", output, 4
	opts.Provider.Offline = true
	err := planRun(context.Background(), opts)
	return out.String(), errOut.String(), err
}

func TestOfflinePlanOfTheGuideStack(t *testing.T) {
	out, stderr, err := offlinePlan(t, "text", false)
	if err != nil {
		t.Fatalf("%v\n%s", err, stderr)
	}
	golden.Assert(t, "testdata/global-offline.txt", []byte(out))
	for _, group := range []string{"\ncloudflare\n", "\natlas\n", "\nkubernetes (us-east)\n", "\nkubernetes (eu-west)\n", "\nkubernetes (asia-pacific)\n"} {
		if !strings.Contains(out, group) {
			t.Errorf("plan has no %q group", strings.TrimSpace(group))
		}
	}
	if !strings.Contains(stderr, "warning: spec.hostnames[1]") {
		t.Errorf("warnings not shown on stderr:\n%s", stderr)
	}
}

func TestOfflinePlanJSONAndDetailedExitCode(t *testing.T) {
	out, _, err := offlinePlan(t, "json", true)
	var ec *cmdutil.ExitCodeError
	if !errors.As(err, &ec) || ec.Code != cmdutil.ExitChanges {
		t.Fatalf("want exit code %d, got %v", cmdutil.ExitChanges, err)
	}
	golden.Assert(t, "testdata/global-offline.json", []byte(out))
	var doc struct {
		FormatVersion string `json:"format_version"`
		Summary       struct{ Add, Change, Destroy int }
		Changes       []struct {
			Resource struct{ Provider, Region string }
			Action   string
		}
	}
	if err := json.Unmarshal([]byte(out), &doc); err != nil {
		t.Fatal(err)
	}
	if doc.FormatVersion != "1.0" || doc.Summary.Add != len(doc.Changes) || doc.Summary.Change+doc.Summary.Destroy != 0 {
		t.Errorf("summary %+v over %d changes, format %q", doc.Summary, len(doc.Changes), doc.FormatVersion)
	}
	seen := map[string]bool{}
	for _, c := range doc.Changes {
		seen[c.Resource.Provider+"/"+c.Resource.Region] = true
		if c.Action != "create" {
			t.Errorf("offline plan has a %s", c.Action)
		}
	}
	for _, want := range []string{"cloudflare/", "atlas/", "kubernetes/us-east", "kubernetes/eu-west", "kubernetes/asia-pacific"} {
		if !seen[want] {
			t.Errorf("no changes for %s", want)
		}
	}
}

func TestPlanWithoutCredentialsFailsBeforeContactingAnything(t *testing.T) {
	f := factory.New()
	ios, _, _, _ := iostreams.Test()
	f.IOStreams = ios
	f.Getenv = func(string) string { return "" }
	opts := &PlanOptions{F: f}
	opts.File, opts.Output, opts.Parallelism = "../../../examples/global.yaml", "text", 4
	err := planRun(context.Background(), opts)
	if err == nil || !strings.Contains(err.Error(), "CLOUDFLARE_API_TOKEN") || !strings.Contains(err.Error(), "MONGODB_ATLAS") {
		t.Fatalf("want errors naming both missing credentials, got %v", err)
	}
}

// TestOfflinePlanMarkdown is the pull-request comment of the guide's whole
// stack, rendered by the command as CI posts it.
func TestOfflinePlanMarkdown(t *testing.T) {
	out, _, err := offlinePlan(t, "markdown", false)
	if err != nil {
		t.Fatal(err)
	}
	golden.Assert(t, "testdata/global-offline.md", []byte(out))
	for _, want := range []string{"to add, 0 to change, 0 to destroy.**", "<details><summary><b>atlas</b>", "<details><summary><b>kubernetes (asia-pacific)</b>"} {
		if !strings.Contains(out, want) {
			t.Errorf("the Markdown plan lacks %q", want)
		}
	}
	if strings.Contains(out, "\x1b[") {
		t.Error("the Markdown plan holds terminal escape codes")
	}
}
