package store

import (
	"context"
	"errors"
	"regexp"
	"sort"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/neko-defense/nekoctl/pkg/workload/graph/model"
)

// ActorFilter selects threat actors; zero fields do not filter.
type ActorFilter struct {
	Category       model.ThreatCategory
	Type           model.ThreatActorType
	MinThreatLevel int
	MaxThreatLevel int
	StateSponsored *bool
	NamePrefix     string
	Technique      string
}

func (f ActorFilter) bson() bson.D {
	d := bson.D{}
	if f.Category != "" {
		d = append(d, bson.E{Key: "category", Value: string(f.Category)})
	}
	if f.Type != "" {
		d = append(d, bson.E{Key: "type", Value: string(f.Type)})
	}
	level := bson.D{}
	if f.MinThreatLevel > 0 {
		level = append(level, bson.E{Key: "$gte", Value: f.MinThreatLevel})
	}
	if f.MaxThreatLevel > 0 {
		level = append(level, bson.E{Key: "$lte", Value: f.MaxThreatLevel})
	}
	if len(level) > 0 {
		d = append(d, bson.E{Key: "threatLevel", Value: level})
	}
	if f.StateSponsored != nil {
		d = append(d, bson.E{Key: "stateSponsored", Value: *f.StateSponsored})
	}
	if f.NamePrefix != "" {
		d = append(d, bson.E{Key: "name", Value: bson.D{{Key: "$regex", Value: "^" + regexp.QuoteMeta(f.NamePrefix)}}})
	}
	if f.Technique != "" {
		d = append(d, bson.E{Key: "techniques", Value: f.Technique})
	}
	return d
}

// ThreatActor returns one actor.
func (s *Store) ThreatActor(ctx context.Context, id string) (*model.ThreatActor, error) {
	return do(s, ctx, func(ctx context.Context) (*model.ThreatActor, error) {
		var a model.ThreatActor
		err := s.actors.FindOne(ctx, bson.D{{Key: "_id", Value: id}}).Decode(&a)
		if errors.Is(err, mongo.ErrNoDocuments) {
			return nil, ErrNotFound
		}
		return &a, err
	})
}

// ThreatActors returns up to first actors after the cursor, ordered by id,
// and whether more follow.
func (s *Store) ThreatActors(ctx context.Context, f ActorFilter, first int, after string) ([]model.ThreatActor, bool, error) {
	type page struct {
		items []model.ThreatActor
		more  bool
	}
	p, err := do(s, ctx, func(ctx context.Context) (page, error) {
		filter := f.bson()
		if after != "" {
			filter = append(filter, bson.E{Key: "_id", Value: bson.D{{Key: "$gt", Value: after}}})
		}
		// One extra document tells whether there is a next page.
		cur, err := s.actors.Find(ctx, filter, options.Find().
			SetSort(bson.D{{Key: "_id", Value: 1}}).SetLimit(int64(first+1)))
		if err != nil {
			return page{}, err
		}
		var items []model.ThreatActor
		if err := cur.All(ctx, &items); err != nil {
			return page{}, err
		}
		if len(items) > first {
			return page{items: items[:first], more: true}, nil
		}
		return page{items: items}, nil
	})
	return p.items, p.more, err
}

// CountsByCategory counts actors per category, largest first.
func (s *Store) CountsByCategory(ctx context.Context) ([]model.CategoryCount, error) {
	return do(s, ctx, func(ctx context.Context) ([]model.CategoryCount, error) {
		cur, err := s.actors.Aggregate(ctx, mongo.Pipeline{
			{{Key: "$group", Value: bson.D{{Key: "_id", Value: "$category"}, {Key: "n", Value: bson.D{{Key: "$sum", Value: 1}}}}}},
		})
		if err != nil {
			return nil, err
		}
		var rows []struct {
			ID string `bson:"_id"`
			N  int    `bson:"n"`
		}
		if err := cur.All(ctx, &rows); err != nil {
			return nil, err
		}
		out := make([]model.CategoryCount, 0, len(rows))
		for _, r := range rows {
			out = append(out, model.CategoryCount{Category: model.ThreatCategory(r.ID), Count: r.N})
		}
		sort.Slice(out, func(i, j int) bool {
			if out[i].Count != out[j].Count {
				return out[i].Count > out[j].Count
			}
			return out[i].Category < out[j].Category
		})
		return out, nil
	})
}

// CreateThreatActor inserts a, setting its id and timestamps.
func (s *Store) CreateThreatActor(ctx context.Context, a model.ThreatActor) (*model.ThreatActor, error) {
	now := s.now().UTC().Truncate(timePrecision)
	a.ID, a.CreatedAt, a.UpdatedAt = newID(), now, now
	a.IndicatorsOfCompromise, a.Techniques = nonNil(a.IndicatorsOfCompromise), nonNil(a.Techniques)
	return do(s, ctx, func(ctx context.Context) (*model.ThreatActor, error) {
		if _, err := s.actors.InsertOne(ctx, a); err != nil {
			if mongo.IsDuplicateKeyError(err) {
				return nil, ErrDuplicate
			}
			return nil, err
		}
		return &a, nil
	})
}

// UpdateThreatActor sets the given fields (BSON names) and returns the result.
func (s *Store) UpdateThreatActor(ctx context.Context, id string, set bson.D) (*model.ThreatActor, error) {
	set = append(set, bson.E{Key: "updatedAt", Value: s.now().UTC().Truncate(timePrecision)})
	return do(s, ctx, func(ctx context.Context) (*model.ThreatActor, error) {
		var a model.ThreatActor
		err := s.actors.FindOneAndUpdate(ctx, bson.D{{Key: "_id", Value: id}}, bson.D{{Key: "$set", Value: set}},
			options.FindOneAndUpdate().SetReturnDocument(options.After)).Decode(&a)
		switch {
		case errors.Is(err, mongo.ErrNoDocuments):
			return nil, ErrNotFound
		case mongo.IsDuplicateKeyError(err):
			return nil, ErrDuplicate
		}
		return &a, err
	})
}

// InsertThreatActors adds actors in bulk (seeding).
func (s *Store) InsertThreatActors(ctx context.Context, as []model.ThreatActor) error {
	docs := make([]any, len(as))
	for i := range as {
		docs[i] = as[i]
	}
	_, err := do(s, ctx, func(ctx context.Context) (struct{}, error) {
		_, err := s.actors.InsertMany(ctx, docs)
		return struct{}{}, err
	})
	return err
}

// CountThreatActors counts all actors.
func (s *Store) CountThreatActors(ctx context.Context) (int64, error) {
	return do(s, ctx, func(ctx context.Context) (int64, error) {
		return s.actors.CountDocuments(ctx, bson.D{})
	})
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}
