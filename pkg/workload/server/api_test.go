package server_test

import (
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/neko-defense/nekoctl/pkg/workload/testenv"
)

func TestResolversAndRoles(t *testing.T) {
	m, r := services(t, 200)
	in := startServer(t, m.URI, r.Addr, nil)
	admin := login(t, in.URL, "admin", testenv.AdminPassword)
	viewer := login(t, in.URL, "viewer", testenv.ViewerPassword)
	anon := newClient(t, in.URL)

	t.Run("login rejects a bad password", func(t *testing.T) {
		got := anon.do(`mutation{login(username:"admin",password:"wrong-password!"){token}}`, nil)
		if diff := cmp.Diff("UNAUTHENTICATED", got.code()); diff != "" {
			t.Errorf("code (-want +got):\n%s", diff)
		}
	})
	t.Run("queries need a token", func(t *testing.T) {
		got := anon.do(`{threatCountsByCategory{category count}}`, nil)
		if got.code() != "UNAUTHENTICATED" {
			t.Errorf("code = %q, want UNAUTHENTICATED; errors %+v", got.code(), got.Errors)
		}
	})
	t.Run("viewer reads, pages and filters", func(t *testing.T) {
		type page struct {
			ThreatActors struct {
				Edges []struct {
					Cursor string
					Node   struct {
						Name        string
						ThreatLevel int
						Category    string
					}
				}
				PageInfo struct {
					HasNextPage bool
					EndCursor   string
				}
			}
		}
		q := `query($after:String){threatActors(first:10, after:$after){edges{cursor node{name threatLevel category}} pageInfo{hasNextPage endCursor}}}`
		var names []string
		after := any(nil)
		for i := 0; i < 5; i++ {
			p := decode[page](t, viewer.do(q, map[string]any{"after": after}))
			for _, e := range p.ThreatActors.Edges {
				names = append(names, e.Node.Name)
			}
			if !p.ThreatActors.PageInfo.HasNextPage {
				break
			}
			after = p.ThreatActors.PageInfo.EndCursor
		}
		if len(names) != 24 {
			t.Errorf("paged through %d actors, want 24: %v", len(names), names)
		}
		p := decode[page](t, viewer.do(`{threatActors(filter:{category:APT, minThreatLevel:8}){edges{node{name threatLevel category}}}}`, nil))
		for _, e := range p.ThreatActors.Edges {
			if e.Node.Category != "APT" || e.Node.ThreatLevel < 8 {
				t.Errorf("filter let through %+v", e.Node)
			}
		}
		if len(p.ThreatActors.Edges) != 4 {
			t.Errorf("APT with level >= 8: got %d, want 4", len(p.ThreatActors.Edges))
		}
	})
	t.Run("counts and stats", func(t *testing.T) {
		type counts struct {
			ThreatCountsByCategory []struct {
				Category string
				Count    int
			}
			HoneypotStats struct {
				TotalTriggers int
				UniqueIPs     int
				PerTrap       []struct {
					TrapName string
					Count    int
				}
				MostActive []struct {
					IP    string
					Count int
				}
			}
		}
		c := decode[counts](t, viewer.do(`{threatCountsByCategory{category count} honeypotStats{totalTriggers uniqueIPs perTrap{trapName count} mostActive(limit:3){ip count}}}`, nil))
		total := 0
		for _, cc := range c.ThreatCountsByCategory {
			total += cc.Count
		}
		if total != 24 || c.ThreatCountsByCategory[0].Category != "APT" {
			t.Errorf("counts by category = %+v", c.ThreatCountsByCategory)
		}
		if c.HoneypotStats.TotalTriggers != 200 || len(c.HoneypotStats.MostActive) != 3 || c.HoneypotStats.UniqueIPs < 8 {
			t.Errorf("stats = %+v", c.HoneypotStats)
		}
	})
	t.Run("viewer cannot write", func(t *testing.T) {
		got := viewer.do(`mutation{createThreatActor(input:{name:"Rogue Bobcat",category:APT,type:UNKNOWN,threatLevel:5}){id}}`, nil)
		if got.code() != "FORBIDDEN" {
			t.Errorf("code = %q, want FORBIDDEN", got.code())
		}
	})
	t.Run("admin creates, updates and records", func(t *testing.T) {
		type created struct{ CreateThreatActor struct{ ID, Name string } }
		c := decode[created](t, admin.do(`mutation{createThreatActor(input:{name:"Rogue Bobcat",category:APT,type:UNKNOWN,threatLevel:5,techniques:["T1566"]}){id name}}`, nil))
		type updated struct{ UpdateThreatActor struct{ ThreatLevel int } }
		u := decode[updated](t, admin.do(`mutation($id:ID!){updateThreatActor(id:$id, patch:{threatLevel:9}){threatLevel}}`, map[string]any{"id": c.CreateThreatActor.ID}))
		if u.UpdateThreatActor.ThreatLevel != 9 {
			t.Errorf("threatLevel after update = %d", u.UpdateThreatActor.ThreatLevel)
		}
		dup := admin.do(`mutation{createThreatActor(input:{name:"Rogue Bobcat",category:APT,type:UNKNOWN,threatLevel:5}){id}}`, nil)
		if dup.code() != "CONFLICT" {
			t.Errorf("duplicate name: code = %q, want CONFLICT", dup.code())
		}
		bad := admin.do(`mutation{createThreatActor(input:{name:"Too Hot",category:APT,type:UNKNOWN,threatLevel:11}){id}}`, nil)
		if bad.code() != "BAD_USER_INPUT" {
			t.Errorf("threatLevel 11: code = %q, want BAD_USER_INPUT", bad.code())
		}
		type rec struct{ RecordHoneypotTrigger struct{ IP, Method string } }
		rt := decode[rec](t, admin.do(`mutation{recordHoneypotTrigger(input:{ip:"192.0.2.7",trapName:"env-file",path:"/.env",method:"get",threatLevel:6}){ip method}}`, nil))
		if rt.RecordHoneypotTrigger.Method != "GET" {
			t.Errorf("recorded %+v", rt.RecordHoneypotTrigger)
		}
		type list struct{ HoneypotTriggers []struct{ IP string } }
		l := decode[list](t, viewer.do(`{honeypotTriggers(filter:{ip:"192.0.2.7"}){ip}}`, nil))
		if len(l.HoneypotTriggers) != 1 {
			t.Errorf("triggers from 192.0.2.7: %+v", l.HoneypotTriggers)
		}
	})
	t.Run("depth and complexity limits", func(t *testing.T) {
		deep := viewer.do(`{honeypotStats{perTrap{trapName}}}`, nil)
		if len(deep.Errors) > 0 {
			t.Errorf("shallow query rejected: %+v", deep.Errors)
		}
		costly := viewer.do(`{a:threatActors(first:100){edges{node{name techniques indicatorsOfCompromise createdAt updatedAt}}} b:threatActors(first:100){edges{node{name techniques indicatorsOfCompromise createdAt updatedAt}}}}`, nil)
		if costly.code() != "COMPLEXITY_LIMIT_EXCEEDED" {
			t.Errorf("costly query: code = %q, want COMPLEXITY_LIMIT_EXCEEDED", costly.code())
		}
	})
}
