package engine

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/neko-defense/nekoctl/pkg/plan"
	"github.com/neko-defense/nekoctl/pkg/provider"
)

// stackPlan is a small plan shaped like the guide's: Atlas publishes the
// connection string a region's Secret consumes, a Deployment needs its
// namespace and Secret, each region prunes an old object, a Cloudflare pool
// waits for a region's address.
func stackPlan() *plan.Plan {
	kube := func(region, kind, name string) plan.Address {
		return plan.Address{Provider: "kubernetes", Scope: "region/" + region, Region: region, Kind: kind, Name: name}
	}
	atlas := func(kind, name string) plan.Address {
		return plan.Address{Provider: "atlas", Scope: "project/neko", Kind: kind, Name: name}
	}
	cf := func(kind, name string) plan.Address {
		return plan.Address{Provider: "cloudflare", Scope: "account/1", Kind: kind, Name: name}
	}
	p := &plan.Plan{Stack: "neko"}
	add := func(a plan.Address, action plan.Action, after plan.Document, deps ...plan.Address) *plan.Change {
		p.Changes = append(p.Changes, plan.Change{Address: a, Action: action, After: after, DependsOn: deps})
		return &p.Changes[len(p.Changes)-1]
	}
	add(atlas("project", "neko"), plan.NoOp, nil)
	add(atlas("cluster", "global"), plan.Create, nil, atlas("project", "neko"))
	add(atlas("database_user", "api"), plan.Create, nil, atlas("cluster", "global")).Produces = []string{"atlas/mongodb_uri"}
	add(cf("monitor", "health"), plan.Update, nil)
	for _, r := range []string{"us-east", "eu-west"} {
		add(cf("pool", r), plan.Create, plan.Document{"origin": plan.Unknown{From: "kubernetes/" + r + "/address"}}, cf("monitor", "health"))
		add(kube(r, "Namespace", "neko"), plan.NoOp, nil)
		add(kube(r, "Secret", "neko/atlas"), plan.Create, plan.Document{"uri": plan.Unknown{From: "atlas/mongodb_uri"}}, kube(r, "Namespace", "neko"))
		add(kube(r, "ConfigMap", "neko/config"), plan.Update, nil, kube(r, "Namespace", "neko"))
		add(kube(r, "Deployment", "neko/api"), plan.Update, nil, kube(r, "Namespace", "neko"), kube(r, "Secret", "neko/atlas"), kube(r, "ConfigMap", "neko/config"))
		add(kube(r, "Service", "neko/api"), plan.NoOp, nil, kube(r, "Namespace", "neko"))
		add(kube(r, "ServiceAccount", "neko/old"), plan.Delete, nil)
		add(kube(r, "HTTPRoute", "neko/api"), plan.Update, nil, kube(r, "Service", "neko/api")).Produces = []string{"kubernetes/" + r + "/address"}
	}
	return p
}

// planned lists a plan's changes as "short-address action [<- needed by]".
func planned(p *plan.Plan) []string {
	var out []string
	for _, c := range p.Changes {
		s := c.Address.Short() + " " + string(c.Action)
		if c.PulledInBy != nil {
			s += " <- " + c.PulledInBy.Short()
		}
		out = append(out, s)
	}
	return out
}

func TestSelect(t *testing.T) {
	tests := []struct {
		name  string
		sel   plan.Selection
		want  []string
		notes []string
	}{
		{
			name: "a region and what it needs from the global providers",
			sel:  plan.Selection{Regions: []string{"eu-west"}},
			want: []string{
				"atlas.project/neko.cluster.global create <- atlas.project/neko.database_user.api",
				"atlas.project/neko.database_user.api create <- kubernetes.eu-west.Secret.neko/atlas",
				"kubernetes.eu-west.Namespace.neko no-op",
				"kubernetes.eu-west.Secret.neko/atlas create",
				"kubernetes.eu-west.ConfigMap.neko/config update",
				"kubernetes.eu-west.Deployment.neko/api update",
				"kubernetes.eu-west.Service.neko/api no-op",
				"kubernetes.eu-west.ServiceAccount.neko/old delete",
				"kubernetes.eu-west.HTTPRoute.neko/api update",
			},
		},
		{
			name: "a kind prefix in the short form pulls in its dependencies only",
			sel:  plan.Selection{Targets: []string{"kubernetes.us-east.deployment"}},
			want: []string{
				"atlas.project/neko.cluster.global create <- atlas.project/neko.database_user.api",
				"atlas.project/neko.database_user.api create <- kubernetes.us-east.Secret.neko/atlas",
				"kubernetes.us-east.Secret.neko/atlas create <- kubernetes.us-east.Deployment.neko/api",
				"kubernetes.us-east.ConfigMap.neko/config update <- kubernetes.us-east.Deployment.neko/api",
				"kubernetes.us-east.Deployment.neko/api update",
			},
		},
		{
			name: "a full address, a glob and a region together",
			sel: plan.Selection{Regions: []string{"us-east"},
				Targets: []string{`kubernetes[region/us-east].ConfigMap["neko/config"]`, "kubernetes.*.HTTPRoute"}},
			want: []string{
				"kubernetes.us-east.ConfigMap.neko/config update",
				"kubernetes.us-east.HTTPRoute.neko/api update",
			},
		},
		{
			name: "a global target pulls in the region that produces its input",
			sel:  plan.Selection{Targets: []string{`cloudflare[account/1].pool["eu-west"]`}},
			want: []string{
				"cloudflare.account/1.monitor.health update <- cloudflare.account/1.pool.eu-west",
				"cloudflare.account/1.pool.eu-west create",
				"kubernetes.eu-west.HTTPRoute.neko/api update <- cloudflare.account/1.pool.eu-west",
			},
		},
		{
			name: "an exclude leaves out what needs it, and says so",
			sel:  plan.Selection{Regions: []string{"us-east"}, Excludes: []string{"atlas"}},
			want: []string{
				"kubernetes.us-east.Namespace.neko no-op",
				"kubernetes.us-east.ConfigMap.neko/config update",
				"kubernetes.us-east.Service.neko/api no-op",
				"kubernetes.us-east.ServiceAccount.neko/old delete",
				"kubernetes.us-east.HTTPRoute.neko/api update",
			},
			notes: []string{
				`left out: kubernetes[region/us-east].Secret["neko/atlas"] needs atlas[project/neko].cluster["global"], which --exclude leaves out`,
				`left out: kubernetes[region/us-east].Deployment["neko/api"] needs atlas[project/neko].cluster["global"], which --exclude leaves out`,
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := stackPlan()
			if err := Select(p, tt.sel); err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, planned(p)); diff != "" {
				t.Errorf("selected changes (-want +got):\n%s", diff)
			}
			var notes []string
			for _, d := range p.Diagnostics {
				notes = append(notes, d.Message)
			}
			if diff := cmp.Diff(tt.notes, notes); diff != "" {
				t.Errorf("diagnostics (-want +got):\n%s", diff)
			}
			if !p.Partial() || p.Selection.String() == "" {
				t.Errorf("the plan does not say it is partial: %+v", p.Selection)
			}
		})
	}
}

func TestSelectNeverPlansDeletesOutsideTheSelection(t *testing.T) {
	p := stackPlan()
	if err := Select(p, plan.Selection{Targets: []string{"kubernetes.eu-west"}}); err != nil {
		t.Fatal(err)
	}
	for _, c := range p.Changes {
		if c.Action == plan.Delete && c.Address.Region != "eu-west" {
			t.Errorf("a delete outside the selection is planned: %s", c.Address)
		}
	}
}

func TestSelectTearsDownDependentsFirst(t *testing.T) {
	ns := plan.Address{Provider: "kubernetes", Scope: "region/us-east", Region: "us-east", Kind: "Namespace", Name: "neko"}
	dep := plan.Address{Provider: "kubernetes", Scope: "region/us-east", Region: "us-east", Kind: "Deployment", Name: "neko/api"}
	other := plan.Address{Provider: "kubernetes", Scope: "region/us-east", Region: "us-east", Kind: "ConfigMap", Name: "other/x"}
	p := &plan.Plan{Stack: "neko", Changes: []plan.Change{
		{Address: ns, Action: plan.Delete},
		{Address: dep, Action: plan.Delete, DependsOn: []plan.Address{ns}},
		{Address: other, Action: plan.Delete},
	}}
	if err := Select(p, plan.Selection{Targets: []string{"kubernetes.us-east.Namespace"}}); err != nil {
		t.Fatal(err)
	}
	want := []string{"kubernetes.us-east.Namespace.neko delete", "kubernetes.us-east.Deployment.neko/api delete <- kubernetes.us-east.Namespace.neko"}
	if diff := cmp.Diff(want, planned(p)); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}

func TestSelectRefusesWhatMatchesNothing(t *testing.T) {
	for _, tt := range []struct {
		name string
		sel  plan.Selection
		want []string
	}{
		{"unknown region", plan.Selection{Regions: []string{"mars"}}, []string{"--region mars", "matches no resource"}},
		{"target outside the region", plan.Selection{Regions: []string{"us-east"}, Targets: []string{"kubernetes.eu-west"}}, []string{"--target kubernetes.eu-west"}},
		{"several at once", plan.Selection{Targets: []string{"kubernetes.us-east.Ingress", "atlas"}, Excludes: []string{"cloudflare.*.dns_record"}},
			[]string{"--target kubernetes.us-east.Ingress, --exclude cloudflare.*.dns_record match no resource"}},
		{"a kind is a whole part", plan.Selection{Targets: []string{"kubernetes.us-east.Service"}, Excludes: []string{"kubernetes.us-east.Servic"}},
			[]string{"--exclude kubernetes.us-east.Servic matches"}},
		{"empty pattern", plan.Selection{Targets: []string{" "}}, []string{"--target: an empty address pattern"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			p := stackPlan()
			before := len(p.Changes)
			err := Select(p, tt.sel)
			if err == nil {
				t.Fatal("no error")
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error lacks %q: %v", w, err)
				}
			}
			if len(p.Changes) != before || p.Selection != nil {
				t.Error("a refused selection changed the plan")
			}
		})
	}
}

// TestPlanSelectedReadsOnlyTheSelectedRegions: the other regions' providers
// are not read at all.
func TestPlanSelectedReadsOnlyTheSelectedRegions(t *testing.T) {
	log := &opLog{}
	east, west := newMem("kubernetes", "us-east", log), newMem("kubernetes", "eu-west", log)
	east.desired = []provider.Resource{east.res("a", plan.Document{"n": 1})}
	west.desired = []provider.Resource{west.res("b", plan.Document{"n": 1})}
	west.readErr = errTestUnreachable
	e := &Engine{Providers: []provider.Provider{east, west}, Parallelism: 2}
	pl, err := e.PlanSelected(context.Background(), "neko", provider.Options{}, plan.Selection{Regions: []string{"us-east"}})
	if err != nil {
		t.Fatal(err)
	}
	if pl.Plan.HasErrors() {
		t.Errorf("the unselected region was read: %+v", pl.Plan.Diagnostics)
	}
	if diff := cmp.Diff([]string{"kubernetes.us-east.thing.a create"}, planned(pl.Plan)); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}

var errTestUnreachable = errors.New("API server unreachable")
