// Package cache keeps GraphQL query responses in Redis. Entries are tagged
// with the collections they read, and writes to a collection delete the
// entries tagged with it, so answers are never staler than the write that
// changed them (and at most one TTL when Redis was unreachable during it).
package cache

import (
	"context"
	"errors"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/neko-defense/nekoctl/pkg/workload/breaker"
)

// Tags name what a cached response was computed from.
const (
	TagActors   = "actors"
	TagTriggers = "triggers"
)

// Store is the Redis side of the response cache.
type Store struct {
	rdb *redis.Client
	// reads is where lookups go: an autopipeliner that batches the
	// lookups of concurrent requests into one round trip.
	reads   redis.Cmdable
	breaker *breaker.Breaker
	prefix  string

	// pending holds tags whose invalidation failed while Redis was
	// unreachable; they are retried before the cache is read again.
	mu      sync.Mutex
	pending map[string]bool
}

// NewStore returns a cache in rdb. prefix namespaces the keys (it carries
// the server version, so that two versions never share entries during a
// rolling upgrade).
func NewStore(rdb *redis.Client, reads redis.Cmdable, b *breaker.Breaker, prefix string) *Store {
	return &Store{rdb: rdb, reads: reads, breaker: b, prefix: prefix, pending: map[string]bool{}}
}

// ErrBypass means the cache is not usable now (Redis down, or writes that
// could not be invalidated yet); the caller computes the answer itself.
var ErrBypass = errors.New("cache bypassed")

// Get returns a cached response; found is false on a miss.
func (s *Store) Get(ctx context.Context, key string) (val []byte, found bool, err error) {
	if err := s.flushPending(ctx); err != nil {
		return nil, false, ErrBypass
	}
	v, err := breaker.Do(s.breaker, func() ([]byte, error) {
		v, err := s.reads.Get(ctx, s.prefix+key).Bytes()
		if errors.Is(err, redis.Nil) {
			return nil, nil
		}
		return v, err
	})
	if err != nil {
		return nil, false, ErrBypass
	}
	return v, v != nil, nil
}

// Set stores val under key for ttl, tagged with tags.
func (s *Store) Set(ctx context.Context, key string, val []byte, ttl time.Duration, tags []string) error {
	_, err := breaker.Do(s.breaker, func() ([]redis.Cmder, error) {
		return s.rdb.TxPipelined(ctx, func(p redis.Pipeliner) error {
			p.Set(ctx, s.prefix+key, val, ttl)
			for _, t := range tags {
				tagKey := s.prefix + "tag:" + t
				p.SAdd(ctx, tagKey, s.prefix+key)
				// The tag set outlives its members by a little; it is
				// refreshed on every Set, so it never expires in use.
				p.Expire(ctx, tagKey, ttl+time.Minute)
			}
			return nil
		})
	})
	return err
}

// invalidateScript deletes every entry of the given tags, and the tags.
var invalidateScript = redis.NewScript(`
for _, tag in ipairs(KEYS) do
  local keys = redis.call('SMEMBERS', tag)
  for i = 1, #keys, 500 do
    redis.call('DEL', unpack(keys, i, math.min(i + 499, #keys)))
  end
  redis.call('DEL', tag)
end
return 0`)

// Invalidate deletes the entries tagged with any of tags. When Redis cannot
// be reached the tags are remembered and the cache is bypassed until they
// have been invalidated.
func (s *Store) Invalidate(ctx context.Context, tags ...string) error {
	if err := s.invalidate(ctx, tags); err != nil {
		s.mu.Lock()
		for _, t := range tags {
			s.pending[t] = true
		}
		s.mu.Unlock()
		return err
	}
	return nil
}

func (s *Store) invalidate(ctx context.Context, tags []string) error {
	keys := make([]string, len(tags))
	for i, t := range tags {
		keys[i] = s.prefix + "tag:" + t
	}
	_, err := breaker.Do(s.breaker, func() (any, error) {
		return invalidateScript.Run(ctx, s.rdb, keys).Result()
	})
	return err
}

// hasPending reports whether invalidations are waiting to be retried: the
// cache must not be read from anywhere but Get until they are through.
func (s *Store) hasPending() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.pending) > 0
}

// Key is the Redis key of the entry key.
func (s *Store) Key(key string) string { return s.prefix + key }

func (s *Store) flushPending(ctx context.Context) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.pending) == 0 {
		return nil
	}
	tags := make([]string, 0, len(s.pending))
	for t := range s.pending {
		tags = append(tags, t)
	}
	if err := s.invalidate(ctx, tags); err != nil {
		return err
	}
	clear(s.pending)
	return nil
}
