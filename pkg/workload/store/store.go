// Package store keeps threat actors and honeypot triggers in MongoDB. Every
// call goes through a circuit breaker and has a deadline, so an unreachable
// database fails requests fast instead of piling them up.
package store

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
	"go.mongodb.org/mongo-driver/v2/mongo/readpref"

	"github.com/neko-defense/nekoctl/pkg/workload/breaker"
)

// Collection names.
const (
	ActorsCollection   = "threat_actors"
	TriggersCollection = "honeypot_triggers"
)

// ErrNotFound is returned when a document does not exist.
var ErrNotFound = errors.New("not found")

// ErrDuplicate is returned when a unique field (an actor's name) is taken.
var ErrDuplicate = errors.New("already exists")

// Store is the API's database.
type Store struct {
	client   *mongo.Client
	db       *mongo.Database
	actors   *mongo.Collection
	triggers *mongo.Collection
	breaker  *breaker.Breaker
	timeout  time.Duration
	now      func() time.Time
}

// Options configure Open.
type Options struct {
	URI      string
	Database string
	// Timeout bounds every operation, server selection included.
	Timeout time.Duration
	Breaker *breaker.Breaker
	Now     func() time.Time
}

// Open connects lazily: the driver dials in the background, so the server
// can start (and report not ready) while the database is still unreachable.
func Open(o Options) (*Store, error) {
	client, err := mongo.Connect(options.Client().
		ApplyURI(o.URI).
		SetAppName("nekoctl-serve").
		SetServerSelectionTimeout(o.Timeout).
		SetConnectTimeout(o.Timeout).
		SetTimeout(o.Timeout))
	if err != nil {
		// The driver's message may quote the URI; do not pass it on.
		return nil, errors.New("mongodb: invalid connection settings in MONGODB_URI")
	}
	db := client.Database(o.Database)
	return &Store{
		client: client, db: db,
		actors: db.Collection(ActorsCollection), triggers: db.Collection(TriggersCollection),
		breaker: o.Breaker, timeout: o.Timeout, now: o.Now,
	}, nil
}

// Close disconnects from the database.
func (s *Store) Close(ctx context.Context) error { return s.client.Disconnect(ctx) }

// Breaker is the database's circuit breaker.
func (s *Store) Breaker() *breaker.Breaker { return s.breaker }

// Ping checks the database through the breaker; readiness uses it, which
// also makes readiness probes the breaker's recovery probes.
func (s *Store) Ping(ctx context.Context) error {
	_, err := do(s, ctx, func(ctx context.Context) (struct{}, error) {
		return struct{}{}, s.client.Ping(ctx, readpref.Primary())
	})
	return err
}

// IsFailure tells database outages from errors that are the request's.
func IsFailure(err error) bool {
	if err == nil || errors.Is(err, ErrNotFound) || errors.Is(err, ErrDuplicate) ||
		errors.Is(err, mongo.ErrNoDocuments) || mongo.IsDuplicateKeyError(err) {
		return false
	}
	if mongo.IsNetworkError(err) || mongo.IsTimeout(err) || errors.Is(err, context.DeadlineExceeded) ||
		errors.Is(err, mongo.ErrClientDisconnected) {
		return true
	}
	var se mongo.ServerError
	if errors.As(err, &se) {
		return false // the server answered
	}
	return strings.Contains(err.Error(), "server selection") || strings.Contains(err.Error(), "connection")
}

// do runs fn with the operation deadline, through the breaker.
func do[T any](s *Store, ctx context.Context, fn func(context.Context) (T, error)) (T, error) {
	return breaker.Do(s.breaker, func() (T, error) {
		ctx, cancel := context.WithTimeout(ctx, s.timeout)
		defer cancel()
		return fn(ctx)
	})
}

// indexes are the indexes the queries use, by collection.
var indexes = map[string][]mongo.IndexModel{
	ActorsCollection: {
		{Keys: bson.D{{Key: "name", Value: 1}}, Options: options.Index().SetName("name_unique").SetUnique(true)},
		{Keys: bson.D{{Key: "category", Value: 1}}, Options: options.Index().SetName("category")},
		{Keys: bson.D{{Key: "threatLevel", Value: -1}}, Options: options.Index().SetName("threat_level")},
		{Keys: bson.D{{Key: "techniques", Value: 1}}, Options: options.Index().SetName("techniques")},
	},
	TriggersCollection: {
		{Keys: bson.D{{Key: "triggeredAt", Value: -1}}, Options: options.Index().SetName("triggered_at")},
		{Keys: bson.D{{Key: "trapName", Value: 1}, {Key: "triggeredAt", Value: -1}}, Options: options.Index().SetName("trap_time")},
		{Keys: bson.D{{Key: "ip", Value: 1}}, Options: options.Index().SetName("ip")},
	},
}

// EnsureIndexes creates the missing indexes. It lists the existing ones
// first and creates the others one by one: cheap at start-up, and some
// wire-protocol servers mishandle a batch that repeats existing indexes.
func (s *Store) EnsureIndexes(ctx context.Context) error {
	for _, coll := range []string{ActorsCollection, TriggersCollection} {
		_, err := do(s, ctx, func(ctx context.Context) (struct{}, error) {
			c := s.db.Collection(coll)
			cur, err := c.Indexes().List(ctx)
			if err != nil {
				return struct{}{}, err
			}
			var existing []struct {
				Name string `bson:"name"`
			}
			if err := cur.All(ctx, &existing); err != nil {
				return struct{}{}, err
			}
			have := map[string]bool{}
			for _, e := range existing {
				have[e.Name] = true
			}
			for _, m := range indexes[coll] {
				var o options.IndexOptions
				for _, set := range m.Options.List() {
					_ = set(&o)
				}
				if o.Name != nil && have[*o.Name] {
					continue
				}
				if _, err := c.Indexes().CreateOne(ctx, m); err != nil {
					return struct{}{}, err
				}
			}
			return struct{}{}, nil
		})
		if err != nil {
			return fmt.Errorf("%s indexes: %w", coll, err)
		}
	}
	return nil
}

// newID returns a new document id: the hex of an ObjectID, so that ids sort
// by creation time and serve directly as pagination cursors.
func newID() string { return bson.NewObjectID().Hex() }

// IsID reports whether s looks like an id this store issues.
func IsID(s string) bool {
	_, err := bson.ObjectIDFromHex(s)
	return err == nil
}
