// Package seed fills a fresh database with sample threat actors and
// honeypot triggers, deterministically, so that demos and benchmarks see
// the same data every time.
package seed

import (
	"context"
	"fmt"
	"math/rand/v2"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/neko-defense/nekoctl/pkg/workload/graph/model"
	"github.com/neko-defense/nekoctl/pkg/workload/store"
)

// Options tune Load.
type Options struct {
	// Triggers is how many honeypot triggers to create.
	Triggers int
	// Now anchors the generated timestamps (within the 30 days before it).
	Now time.Time
}

// Result says what Load did.
type Result struct {
	Skipped  bool
	Actors   int
	Triggers int
}

// DefaultTriggers is the number of triggers a default seed creates.
const DefaultTriggers = 5000

// Load seeds s unless it already holds threat actors, in which case it
// changes nothing: seeding is safe to repeat at every start.
func Load(ctx context.Context, s *store.Store, o Options) (Result, error) {
	n, err := s.CountThreatActors(ctx)
	if err != nil {
		return Result{}, fmt.Errorf("seed: count threat actors: %w", err)
	}
	if n > 0 {
		return Result{Skipped: true}, nil
	}
	rng := rand.New(rand.NewPCG(6, 6))
	actors := Actors(o.Now, rng)
	if err := s.InsertThreatActors(ctx, actors); err != nil {
		return Result{}, fmt.Errorf("seed: insert threat actors: %w", err)
	}
	triggers := Triggers(o.Now, o.Triggers, rng)
	const batch = 1000
	for i := 0; i < len(triggers); i += batch {
		if err := s.InsertTriggers(ctx, triggers[i:min(i+batch, len(triggers))]); err != nil {
			return Result{}, fmt.Errorf("seed: insert honeypot triggers: %w", err)
		}
	}
	return Result{Actors: len(actors), Triggers: len(triggers)}, nil
}

type actorSeed struct {
	name     string
	category model.ThreatCategory
	typ      model.ThreatActorType
	level    int
	state    bool
}

var actorSeeds = []actorSeed{
	{"Velvet Lynx", model.ThreatCategoryApt, model.ThreatActorTypeNationState, 9, true},
	{"Midnight Ocelot", model.ThreatCategoryApt, model.ThreatActorTypeNationState, 10, true},
	{"Paper Tiger", model.ThreatCategoryApt, model.ThreatActorTypeNationState, 8, true},
	{"Silent Serval", model.ThreatCategoryApt, model.ThreatActorTypeNationState, 7, true},
	{"Copper Caracal", model.ThreatCategoryApt, model.ThreatActorTypeNationState, 8, true},
	{"Glass Margay", model.ThreatCategoryApt, model.ThreatActorTypeUnknown, 6, false},
	{"Tabby Syndicate", model.ThreatCategoryCybercrime, model.ThreatActorTypeCriminalGroup, 8, false},
	{"Calico Cartel", model.ThreatCategoryCybercrime, model.ThreatActorTypeCriminalGroup, 7, false},
	{"Hairball Ransom Crew", model.ThreatCategoryCybercrime, model.ThreatActorTypeCriminalGroup, 9, false},
	{"Whisker Phishers", model.ThreatCategoryCybercrime, model.ThreatActorTypeCriminalGroup, 6, false},
	{"Alley Cat Loaders", model.ThreatCategoryCybercrime, model.ThreatActorTypeCriminalGroup, 5, false},
	{"Nine Lives Exchange", model.ThreatCategoryCybercrime, model.ThreatActorTypeCriminalGroup, 6, false},
	{"Hissing Collective", model.ThreatCategoryHacktivist, model.ThreatActorTypeCriminalGroup, 4, false},
	{"Scratch Front", model.ThreatCategoryHacktivist, model.ThreatActorTypeIndividual, 3, false},
	{"Purr Liberation", model.ThreatCategoryHacktivist, model.ThreatActorTypeCriminalGroup, 5, false},
	{"Curious Tom", model.ThreatCategoryInsider, model.ThreatActorTypeIndividual, 4, false},
	{"Disgruntled Siamese", model.ThreatCategoryInsider, model.ThreatActorTypeIndividual, 6, false},
	{"Kitten Swarm", model.ThreatCategoryBotnet, model.ThreatActorTypeCriminalGroup, 7, false},
	{"Litterbox Botnet", model.ThreatCategoryBotnet, model.ThreatActorTypeCriminalGroup, 6, false},
	{"Laser Pointer Net", model.ThreatCategoryBotnet, model.ThreatActorTypeUnknown, 5, false},
	{"Feral Mirai Variant", model.ThreatCategoryBotnet, model.ThreatActorTypeUnknown, 8, false},
	{"Stray Scanner", model.ThreatCategoryOther, model.ThreatActorTypeUnknown, 2, false},
	{"Catnip Crawler", model.ThreatCategoryOther, model.ThreatActorTypeUnknown, 1, false},
	{"Box Fort Researcher", model.ThreatCategoryOther, model.ThreatActorTypeIndividual, 2, false},
}

var techniques = []string{"T1566", "T1190", "T1059", "T1078", "T1486", "T1027", "T1105", "T1133", "T1110", "T1498", "T1071", "T1003"}

// Actors returns the sample threat actors.
func Actors(now time.Time, rng *rand.Rand) []model.ThreatActor {
	out := make([]model.ThreatActor, 0, len(actorSeeds))
	for i, a := range actorSeeds {
		created := now.Add(-time.Duration(len(actorSeeds)-i) * 24 * time.Hour).UTC().Truncate(time.Millisecond)
		tech := make([]string, 0, 4)
		for _, j := range rng.Perm(len(techniques))[:2+rng.IntN(3)] {
			tech = append(tech, techniques[j])
		}
		iocs := []string{
			fmt.Sprintf("%d.%d.%d.%d", 45+rng.IntN(150), rng.IntN(256), rng.IntN(256), 1+rng.IntN(254)),
			fmt.Sprintf("%x.example", rng.Uint32()),
		}
		out = append(out, model.ThreatActor{
			// ObjectIDs built from the creation time keep ids ordered by it.
			ID:   bson.NewObjectIDFromTimestamp(created).Hex(),
			Name: a.name, Category: a.category, Type: a.typ, ThreatLevel: a.level,
			IndicatorsOfCompromise: iocs, Techniques: tech, StateSponsored: a.state,
			CreatedAt: created, UpdatedAt: created,
		})
	}
	return out
}

var (
	traps   = []string{"wp-login", "phpmyadmin", "ssh-banner", "env-file", "git-config", "admin-panel", "graphql-introspection"}
	paths   = map[string]string{"wp-login": "/wp-login.php", "phpmyadmin": "/phpmyadmin/index.php", "ssh-banner": "/ssh", "env-file": "/.env", "git-config": "/.git/config", "admin-panel": "/admin", "graphql-introspection": "/graphql"}
	methods = []string{"GET", "GET", "GET", "POST", "POST", "PUT", "HEAD"}
	agents  = []string{"curl/8.5.0", "python-requests/2.31", "Mozilla/5.0 (compatible; Nmap Scripting Engine)", "zgrab/0.x", "Go-http-client/1.1", "masscan/1.3"}
)

// Triggers returns n sample triggers over the 30 days before now. A few
// busy addresses make the "most active" statistics meaningful.
func Triggers(now time.Time, n int, rng *rand.Rand) []model.HoneypotTrigger {
	busy := make([]string, 8)
	for i := range busy {
		busy[i] = fmt.Sprintf("203.0.113.%d", 10+i*7)
	}
	out := make([]model.HoneypotTrigger, 0, n)
	for i := 0; i < n; i++ {
		ip := busy[rng.IntN(len(busy))]
		if rng.IntN(3) > 0 {
			ip = fmt.Sprintf("198.51.100.%d", rng.IntN(256))
		}
		trap := traps[rng.IntN(len(traps))]
		at := now.Add(-time.Duration(rng.Int64N(int64(30 * 24 * time.Hour)))).UTC().Truncate(time.Millisecond)
		out = append(out, model.HoneypotTrigger{
			ID: bson.NewObjectIDFromTimestamp(at).Hex(), IP: ip, TrapName: trap, Path: paths[trap],
			Method: methods[rng.IntN(len(methods))], UserAgent: agents[rng.IntN(len(agents))],
			ThreatLevel: 1 + rng.IntN(10), TriggeredAt: at,
		})
	}
	return out
}
