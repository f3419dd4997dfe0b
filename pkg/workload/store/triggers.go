package store

import (
	"context"
	"sort"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/neko-defense/nekoctl/pkg/workload/graph/model"
)

// timePrecision is what BSON dates keep; values are truncated to it so
// that what is returned equals what is read back later.
const timePrecision = time.Millisecond

// TriggerFilter selects honeypot triggers; zero fields do not filter.
type TriggerFilter struct {
	TrapName       string
	IP             string
	MinThreatLevel int
	Since          *time.Time
}

func (f TriggerFilter) bson() bson.D {
	d := bson.D{}
	if f.TrapName != "" {
		d = append(d, bson.E{Key: "trapName", Value: f.TrapName})
	}
	if f.IP != "" {
		d = append(d, bson.E{Key: "ip", Value: f.IP})
	}
	if f.MinThreatLevel > 0 {
		d = append(d, bson.E{Key: "threatLevel", Value: bson.D{{Key: "$gte", Value: f.MinThreatLevel}}})
	}
	if f.Since != nil {
		d = append(d, bson.E{Key: "triggeredAt", Value: bson.D{{Key: "$gte", Value: *f.Since}}})
	}
	return d
}

// RecordTrigger stores t, setting its id and, when zero, its time.
func (s *Store) RecordTrigger(ctx context.Context, t model.HoneypotTrigger) (*model.HoneypotTrigger, error) {
	t.ID = newID()
	if t.TriggeredAt.IsZero() {
		t.TriggeredAt = s.now()
	}
	t.TriggeredAt = t.TriggeredAt.UTC().Truncate(timePrecision)
	return do(s, ctx, func(ctx context.Context) (*model.HoneypotTrigger, error) {
		_, err := s.triggers.InsertOne(ctx, t)
		return &t, err
	})
}

// InsertTriggers adds triggers in bulk (seeding).
func (s *Store) InsertTriggers(ctx context.Context, ts []model.HoneypotTrigger) error {
	docs := make([]any, len(ts))
	for i := range ts {
		docs[i] = ts[i]
	}
	_, err := do(s, ctx, func(ctx context.Context) (struct{}, error) {
		_, err := s.triggers.InsertMany(ctx, docs)
		return struct{}{}, err
	})
	return err
}

// Triggers returns up to limit triggers, most recent first.
func (s *Store) Triggers(ctx context.Context, f TriggerFilter, limit int) ([]model.HoneypotTrigger, error) {
	return do(s, ctx, func(ctx context.Context) ([]model.HoneypotTrigger, error) {
		cur, err := s.triggers.Find(ctx, f.bson(), options.Find().
			SetSort(bson.D{{Key: "triggeredAt", Value: -1}, {Key: "_id", Value: -1}}).SetLimit(int64(limit)))
		if err != nil {
			return nil, err
		}
		out := []model.HoneypotTrigger{}
		return out, cur.All(ctx, &out)
	})
}

// TriggerStats summarises triggers since a time (all when nil).
func (s *Store) TriggerStats(ctx context.Context, since *time.Time) (*model.HoneypotStats, error) {
	perTrap, err := s.groupCount(ctx, since, "$trapName", 0)
	if err != nil {
		return nil, err
	}
	perIP, err := s.groupCount(ctx, since, "$ip", 0)
	if err != nil {
		return nil, err
	}
	st := &model.HoneypotStats{UniqueIPs: len(perIP), PerTrap: make([]model.TrapCount, 0, len(perTrap)), Since: since}
	for _, g := range perTrap {
		st.TotalTriggers += g.N
		st.PerTrap = append(st.PerTrap, model.TrapCount{TrapName: g.ID, Count: g.N})
	}
	return st, nil
}

// MostActive returns the limit source addresses with the most triggers.
func (s *Store) MostActive(ctx context.Context, since *time.Time, limit int) ([]model.IPCount, error) {
	groups, err := s.groupCount(ctx, since, "$ip", limit)
	if err != nil {
		return nil, err
	}
	out := make([]model.IPCount, 0, len(groups))
	for _, g := range groups {
		out = append(out, model.IPCount{IP: g.ID, Count: g.N})
	}
	return out, nil
}

type group struct {
	ID string `bson:"_id"`
	N  int    `bson:"n"`
}

// groupCount counts triggers per value of field, largest first, then by
// value so that equal counts come out in a stable order.
func (s *Store) groupCount(ctx context.Context, since *time.Time, field string, limit int) ([]group, error) {
	return do(s, ctx, func(ctx context.Context) ([]group, error) {
		pipeline := mongo.Pipeline{
			{{Key: "$match", Value: TriggerFilter{Since: since}.bson()}},
			{{Key: "$group", Value: bson.D{{Key: "_id", Value: field}, {Key: "n", Value: bson.D{{Key: "$sum", Value: 1}}}}}},
			{{Key: "$sort", Value: bson.D{{Key: "n", Value: -1}, {Key: "_id", Value: 1}}}},
		}
		if limit > 0 {
			pipeline = append(pipeline, bson.D{{Key: "$limit", Value: limit}})
		}
		cur, err := s.triggers.Aggregate(ctx, pipeline)
		if err != nil {
			return nil, err
		}
		var out []group
		if err := cur.All(ctx, &out); err != nil {
			return nil, err
		}
		sort.SliceStable(out, func(i, j int) bool { return out[i].N > out[j].N })
		return out, nil
	})
}
