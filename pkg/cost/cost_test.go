package cost

import (
	"bytes"
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/neko-defense/nekoctl/internal/golden"
	"github.com/neko-defense/nekoctl/pkg/plan"
	"github.com/neko-defense/nekoctl/pkg/spec"
)

func guideStack(t *testing.T) *spec.Stack {
	t.Helper()
	l, err := spec.Load("../../examples/global.yaml")
	if err != nil {
		t.Fatal(err)
	}
	return l.Stack
}

func builtin(t *testing.T) *Prices {
	t.Helper()
	p, err := Builtin()
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func TestEstimateOfTheGuideStack(t *testing.T) {
	e, err := builtin(t).Estimate(guideStack(t), Options{RequestsPerDay: DefaultRequestsPerDay})
	if err != nil {
		t.Fatal(err)
	}
	var text, js bytes.Buffer
	if err := Text(&text, e); err != nil {
		t.Fatal(err)
	}
	if err := JSON(&js, e); err != nil {
		t.Fatal(err)
	}
	golden.Assert(t, "testdata/global.txt", text.Bytes())
	golden.Assert(t, "testdata/global.json", js.Bytes())

	var sum float64
	regions := map[string]bool{}
	for _, l := range e.Lines {
		sum += l.Monthly
		regions[l.Region] = true
	}
	if math.Abs(sum-e.Total) > 0.005 {
		t.Errorf("lines add up to %.2f, total says %.2f", sum, e.Total)
	}
	for _, r := range []string{Global, "us-east", "eu-west", "asia-pacific"} {
		if !regions[r] {
			t.Errorf("no cost line for region %s", r)
		}
	}
	requests := float64(DefaultRequestsPerDay) * 730 / 24 / 1e6
	if want := e.Total / requests; math.Abs(want-e.PerMillionRequests) > 0.0001 {
		t.Errorf("per million requests %.4f, want %.4f", e.PerMillionRequests, want)
	}
	var doc struct {
		FormatVersion string `json:"format_version"`
		Prices        PricesInfo
	}
	if err := json.Unmarshal(js.Bytes(), &doc); err != nil || doc.FormatVersion != FormatVersion || doc.Prices.Date == "" {
		t.Errorf("JSON lacks format_version or the prices' date: %+v %v", doc, err)
	}
}

func lineOf(t *testing.T, e *Estimate, component, region string) Line {
	t.Helper()
	for _, l := range e.Lines {
		if strings.HasPrefix(l.Component, component) && l.Region == region {
			return l
		}
	}
	t.Fatalf("no %q line in %s", component, region)
	return Line{}
}

func TestNodesFollowPodRequestsAndHPABounds(t *testing.T) {
	st := guideStack(t)
	st.Spec.Regions[0].Resources.Requests.CPU = "1"
	st.Spec.Regions[0].Replicas = spec.Replicas{Min: 4, Max: 10}
	e, err := builtin(t).Estimate(st, Options{})
	if err != nil {
		t.Fatal(err)
	}
	// m5.large: 2 vCPU at 85% allocatable = 1.7 per node.
	// 4 pods + Redis = 4.05 vCPU -> 3 nodes; 10 pods + Redis = 10.05 -> 6 nodes.
	nodes := lineOf(t, e, "Nodes", "us-east")
	if want := 3 * 0.096 * 730; math.Abs(nodes.Monthly-want) > 0.01 {
		t.Errorf("nodes at the minimum cost %.2f, want %.2f (%s)", nodes.Monthly, want, nodes.Detail)
	}
	if want := 6 * 0.096 * 730; math.Abs(nodes.peak-want) > 0.01 {
		t.Errorf("nodes at the maximum cost %.2f, want %.2f (%s)", nodes.peak, want, nodes.Detail)
	}
	if !strings.Contains(nodes.Detail, "6 at the maximum") {
		t.Errorf("detail %q does not name the peak node count", nodes.Detail)
	}
	if math.Abs(e.Peak-(e.Total+3*0.096*730)) > 0.02 {
		t.Errorf("peak %.2f should exceed the total %.2f by three nodes", e.Peak, e.Total)
	}
	if e.PerMillionRequests != 0 {
		t.Errorf("no traffic, yet %.4f per million requests", e.PerMillionRequests)
	}
}

func TestRegionsMissingFromTheTableUseItsDefaultAndSaySo(t *testing.T) {
	st := guideStack(t)
	st.Spec.Regions[1].Cloud.Region = "sa-east-1"
	st.Spec.Regions[1].Atlas.Region = "SA_EAST_1"
	e, err := builtin(t).Estimate(st, Options{RequestsPerDay: 1000})
	if err != nil {
		t.Fatal(err)
	}
	if l := lineOf(t, e, "Atlas M10", "eu-west"); !strings.Contains(l.Detail, "default prices") {
		t.Errorf("Atlas line %q does not say it used default prices", l.Detail)
	}
	if l := lineOf(t, e, "Nodes (default prices)", "eu-west"); math.Abs(l.Monthly-3*0.124*730) > 0.01 {
		t.Errorf("nodes priced %.2f, want the default entry's", l.Monthly)
	}
	if len(e.Notes) != 2 {
		t.Errorf("want a note per defaulted region, got %q", e.Notes)
	}
}

func TestATierTheTableDoesNotPriceIsAnError(t *testing.T) {
	st := guideStack(t)
	st.Spec.Atlas.Cluster.Tier = "M80"
	_, err := builtin(t).Estimate(st, Options{})
	if err == nil || !strings.Contains(err.Error(), "no Atlas M80 price") || !strings.Contains(err.Error(), "--prices") {
		t.Fatalf("want an error naming the tier and --prices, got %v", err)
	}
}

func TestAPriceFileReplacesTheBuiltinTable(t *testing.T) {
	edited := strings.NewReplacer(
		"pro: 25,", "pro: 20,",
		`date: "2026-11-29"`, `date: "2027-01-15"`,
	).Replace(string(builtinPrices))
	path := filepath.Join(t.TempDir(), "prices.yaml")
	if err := os.WriteFile(path, []byte(edited), 0o600); err != nil {
		t.Fatal(err)
	}
	p, err := LoadPrices(path)
	if err != nil {
		t.Fatal(err)
	}
	e, err := p.Estimate(guideStack(t), Options{})
	if err != nil {
		t.Fatal(err)
	}
	if l := lineOf(t, e, "Cloudflare pro plan", Global); l.Monthly != 20 {
		t.Errorf("plan priced %.2f from the file, want 20", l.Monthly)
	}
	if e.Prices.Date != "2027-01-15" || e.Prices.Source != path {
		t.Errorf("estimate names prices %+v", e.Prices)
	}
}

func TestBadPriceFilesAreRefused(t *testing.T) {
	for name, tc := range map[string]struct{ old, new, want string }{
		"future version": {"version: 1", "version: 2", "version 2 is not supported"},
		"no date":        {`date: "2026-11-29"`, `date: "soon"`, `date "soon" must be YYYY-MM-DD`},
		"unknown field":  {"currency: USD", "currency: USD\nvat: 0.2", "field vat not found"},
		"no default":     {"      default: {M10: 0.11, M20: 0.26, M30: 0.70}\n    GCP:", "    GCP:", `atlas.regions.AWS has no "default" entry`},
		"empty":          {string(builtinPrices), "", "empty price table"},
	} {
		t.Run(name, func(t *testing.T) {
			edited := strings.Replace(string(builtinPrices), tc.old, tc.new, 1)
			if edited == string(builtinPrices) {
				t.Fatalf("test edit %q matched nothing", tc.old)
			}
			_, err := parsePrices("p.yaml", []byte(edited))
			if err == nil || !strings.Contains(err.Error(), tc.want) || !strings.HasPrefix(err.Error(), "p.yaml: ") {
				t.Fatalf("want an error with %q, got %v", tc.want, err)
			}
		})
	}
}

func TestPlanChangeAddsCreatesAndRemovesDeletes(t *testing.T) {
	e, err := builtin(t).Estimate(guideStack(t), Options{RequestsPerDay: DefaultRequestsPerDay})
	if err != nil {
		t.Fatal(err)
	}
	addr := func(provider, region, kind, name string) plan.Address {
		return plan.Address{Provider: provider, Region: region, Kind: kind, Name: name}
	}
	p := &plan.Plan{Changes: []plan.Change{
		{Address: addr("atlas", "", "cluster", "neko-global"), Action: plan.Create},
		{Address: addr("kubernetes", "eu-west", "Deployment", "neko-api"), Action: plan.Create},
		{Address: addr("kubernetes", "eu-west", "ConfigMap", "neko-api"), Action: plan.Create},
		{Address: addr("kubernetes", "us-east", "StatefulSet", "neko-redis"), Action: plan.Delete},
		{Address: addr("cloudflare", "", "load_balancer", "api"), Action: plan.Update},
	}}
	ch := e.PlanChange(p)
	want := lineOf(t, e, "Atlas M10", "us-east").Monthly + lineOf(t, e, "Atlas M10", "eu-west").Monthly +
		lineOf(t, e, "Atlas M10", "asia-pacific").Monthly + lineOf(t, e, "Atlas cloud backup", "us-east").Monthly +
		lineOf(t, e, "Nodes", "eu-west").Monthly - lineOf(t, e, "Redis volume", "us-east").Monthly
	if math.Abs(ch.Monthly-want) > 0.005 || ch.Priced != 3 {
		t.Errorf("change %+v, want %.2f over 3 priced changes", ch, want)
	}
	if got := e.PlanLine(ch); !strings.HasPrefix(got, "Cost: +$") || !strings.Contains(got, "2026-11-29") {
		t.Errorf("plan line %q", got)
	}
	if got := e.PlanLine(Change{Monthly: -12.5}); !strings.HasPrefix(got, "Cost: -$12.50 per month") {
		t.Errorf("plan line of a saving %q", got)
	}
}

func TestMoney(t *testing.T) {
	for in, want := range map[float64]string{0: "$0.00", 5: "$5.00", 1234.5: "$1,234.50", 1234567.891: "$1,234,567.89", -0.5: "-$0.50"} {
		if got := Money(in); got != want {
			t.Errorf("Money(%v) = %q, want %q", in, got, want)
		}
	}
}
