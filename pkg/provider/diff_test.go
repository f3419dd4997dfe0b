package provider

import (
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/neko-defense/nekoctl/pkg/plan"
)

func addr(name string) plan.Address {
	return plan.Address{Provider: "atlas", Scope: "project/p", Kind: "thing", Name: name}
}

func TestDiffResources(t *testing.T) {
	desired := []Resource{
		{Address: addr("new"), Doc: plan.Document{"a": 1}},
		{Address: addr("same"), Doc: plan.Document{"a": 1}},
		{Address: addr("changed"), Doc: plan.Document{"a": 2, "name": "x"}},
		{Address: addr("renamed"), Doc: plan.Document{"name": "b"}, ReplaceOn: []string{"name"}},
	}
	live := []Resource{
		{Address: addr("same"), ID: "1", Doc: plan.Document{"a": 1}},
		{Address: addr("changed"), ID: "2", Doc: plan.Document{"a": 1, "name": "x"}},
		{Address: addr("renamed"), ID: "3", Doc: plan.Document{"name": "a"}},
		{Address: addr("gone"), ID: "4", Doc: plan.Document{}},
		{Address: addr("kept"), ID: "5", Doc: plan.Document{}, Protected: true},
	}
	got := map[string]plan.Action{}
	reasons := map[string]string{}
	for _, c := range DiffResources(desired, live, Options{}) {
		got[c.Address.Name] = c.Action
		reasons[c.Address.Name] = c.Reason
	}
	want := map[string]plan.Action{"new": plan.Create, "same": plan.NoOp, "changed": plan.Update,
		"renamed": plan.Replace, "gone": plan.Delete, "kept": plan.NoOp}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
	if reasons["renamed"] != "name cannot change in place" || reasons["gone"] != "no longer in the spec" {
		t.Errorf("reasons = %v", reasons)
	}
}

func TestDiffResourcesDestroy(t *testing.T) {
	desired := []Resource{{Address: addr("cluster"), DependsOn: []plan.Address{addr("project")}}}
	live := []Resource{{Address: addr("cluster"), ID: "c"}, {Address: addr("project"), ID: "p", Protected: true}}
	for _, force := range []bool{false, true} {
		changes := DiffResources(desired, live, Options{Destroy: true, Force: force})
		byName := map[string]plan.Change{}
		for _, c := range changes {
			byName[c.Address.Name] = c
		}
		if byName["cluster"].Action != plan.Delete || len(byName["cluster"].DependsOn) != 1 {
			t.Errorf("force=%v: cluster change = %+v", force, byName["cluster"])
		}
		wantProject := plan.NoOp
		if force {
			wantProject = plan.Delete
		}
		if byName["project"].Action != wantProject {
			t.Errorf("force=%v: project action = %s, want %s", force, byName["project"].Action, wantProject)
		}
	}
}

func TestOutputsValueIsUnknownUntilSet(t *testing.T) {
	o := NewOutputs()
	if v, ok := o.Value(OutMongoURI).(plan.Unknown); !ok || v.From != OutMongoURI {
		t.Fatalf("Value before Set = %#v", o.Value(OutMongoURI))
	}
	o.Set(OutMongoURI, plan.NewSensitive("x"))
	if _, ok := o.Value(OutMongoURI).(plan.Sensitive); !ok {
		t.Fatal("Value after Set is not the stored value")
	}
}

func TestDiffResourcesAdoptAndKeep(t *testing.T) {
	desired := []Resource{{Address: addr("handmade"), Doc: plan.Document{"a": 2}}}
	live := []Resource{
		{Address: addr("handmade"), ID: "h", Doc: plan.Document{"a": 1}, Unowned: true, Fingerprint: "v1"},
		{Address: addr("stranger"), ID: "s", Unowned: true},
		{Address: addr("project"), ID: "p", Foreign: []string{"database_user[\"ops\"]"}},
	}
	for _, adopt := range []bool{false, true} {
		byName := map[string]plan.Change{}
		for _, c := range DiffResources(desired, live, Options{Adopt: adopt, Force: true}) {
			byName[c.Address.Name] = c
		}
		h := byName["handmade"]
		if h.Action != plan.Adopt || len(h.Fields) != 1 || h.Fingerprint != "v1" {
			t.Errorf("adopt=%v: handmade = %+v", adopt, h)
		}
		if (h.Conflict != "") == adopt {
			t.Errorf("adopt=%v: conflict = %q", adopt, h.Conflict)
		}
		if _, ok := byName["stranger"]; ok {
			t.Errorf("adopt=%v: an unowned object outside the spec was planned: %+v", adopt, byName["stranger"])
		}
		if p := byName["project"]; p.Action != plan.Keep || p.Reason != `kept: holds objects nekoctl does not own (database_user["ops"])` {
			t.Errorf("adopt=%v: project = %+v (force must not delete a container with foreign objects)", adopt, p)
		}
	}
}
