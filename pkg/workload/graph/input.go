package graph

import (
	"fmt"
	"net/netip"
	"strings"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/neko-defense/nekoctl/pkg/workload/graph/model"
	"github.com/neko-defense/nekoctl/pkg/workload/store"
)

// Input limits keep documents small and indexes useful.
const (
	maxNameLen  = 200
	maxListLen  = 500
	maxItemLen  = 500
	maxFieldLen = 2000
)

func validateActor(a *model.ThreatActor) error {
	a.Name = strings.TrimSpace(a.Name)
	if a.Name == "" || len(a.Name) > maxNameLen {
		return errBadInput(fmt.Sprintf("name must be 1 to %d characters", maxNameLen))
	}
	if a.ThreatLevel < 1 || a.ThreatLevel > 10 {
		return errBadInput("threatLevel must be from 1 to 10")
	}
	if err := checkList("indicatorsOfCompromise", a.IndicatorsOfCompromise); err != nil {
		return err
	}
	return checkList("techniques", a.Techniques)
}

func checkList(name string, l []string) error {
	if len(l) > maxListLen {
		return errBadInput(fmt.Sprintf("%s may hold at most %d items", name, maxListLen))
	}
	for _, s := range l {
		if s == "" || len(s) > maxItemLen {
			return errBadInput(fmt.Sprintf("%s items must be 1 to %d characters", name, maxItemLen))
		}
	}
	return nil
}

// patchFields validates a patch and returns the fields to set.
func patchFields(p model.ThreatActorPatch) (bson.D, error) {
	// Validate the patched values with the same rules as a new actor.
	probe := model.ThreatActor{Name: "x", ThreatLevel: 1}
	set := bson.D{}
	if p.Name != nil {
		probe.Name = *p.Name
		set = append(set, bson.E{Key: "name", Value: strings.TrimSpace(*p.Name)})
	}
	if p.Category != nil {
		set = append(set, bson.E{Key: "category", Value: string(*p.Category)})
	}
	if p.Type != nil {
		set = append(set, bson.E{Key: "type", Value: string(*p.Type)})
	}
	if p.ThreatLevel != nil {
		probe.ThreatLevel = *p.ThreatLevel
		set = append(set, bson.E{Key: "threatLevel", Value: *p.ThreatLevel})
	}
	if p.IndicatorsOfCompromise != nil {
		probe.IndicatorsOfCompromise = p.IndicatorsOfCompromise
		set = append(set, bson.E{Key: "indicatorsOfCompromise", Value: p.IndicatorsOfCompromise})
	}
	if p.Techniques != nil {
		probe.Techniques = p.Techniques
		set = append(set, bson.E{Key: "techniques", Value: p.Techniques})
	}
	if p.StateSponsored != nil {
		set = append(set, bson.E{Key: "stateSponsored", Value: *p.StateSponsored})
	}
	if len(set) == 0 {
		return nil, errBadInput("patch sets no field")
	}
	return set, validateActor(&probe)
}

func triggerFromInput(in model.HoneypotTriggerInput) (model.HoneypotTrigger, error) {
	ip, err := netip.ParseAddr(strings.TrimSpace(in.IP))
	if err != nil {
		return model.HoneypotTrigger{}, errBadInput("ip must be an IPv4 or IPv6 address")
	}
	if in.ThreatLevel < 1 || in.ThreatLevel > 10 {
		return model.HoneypotTrigger{}, errBadInput("threatLevel must be from 1 to 10")
	}
	t := model.HoneypotTrigger{
		IP: ip.Unmap().String(), TrapName: strings.TrimSpace(in.TrapName), Path: in.Path,
		Method: strings.ToUpper(strings.TrimSpace(in.Method)), ThreatLevel: in.ThreatLevel,
	}
	if in.UserAgent != nil {
		t.UserAgent = *in.UserAgent
	}
	if in.TriggeredAt != nil {
		t.TriggeredAt = *in.TriggeredAt
	}
	for name, v := range map[string]string{"trapName": t.TrapName, "path": t.Path, "method": t.Method} {
		if v == "" || len(v) > maxFieldLen {
			return t, errBadInput(fmt.Sprintf("%s must be 1 to %d characters", name, maxFieldLen))
		}
	}
	if len(t.UserAgent) > maxFieldLen {
		return t, errBadInput(fmt.Sprintf("userAgent may be at most %d characters", maxFieldLen))
	}
	return t, nil
}

func actorFilter(f *model.ThreatActorFilter) store.ActorFilter {
	var out store.ActorFilter
	if f == nil {
		return out
	}
	if f.Category != nil {
		out.Category = *f.Category
	}
	if f.Type != nil {
		out.Type = *f.Type
	}
	out.MinThreatLevel = deref(f.MinThreatLevel)
	out.MaxThreatLevel = deref(f.MaxThreatLevel)
	out.StateSponsored = f.StateSponsored
	if f.NamePrefix != nil {
		out.NamePrefix = *f.NamePrefix
	}
	if f.Technique != nil {
		out.Technique = *f.Technique
	}
	return out
}

func triggerFilter(f *model.HoneypotTriggerFilter) store.TriggerFilter {
	var out store.TriggerFilter
	if f == nil {
		return out
	}
	if f.TrapName != nil {
		out.TrapName = *f.TrapName
	}
	if f.IP != nil {
		out.IP = *f.IP
	}
	out.MinThreatLevel = deref(f.MinThreatLevel)
	out.Since = f.Since
	return out
}

func deref(p *int) int {
	if p == nil {
		return 0
	}
	return *p
}
