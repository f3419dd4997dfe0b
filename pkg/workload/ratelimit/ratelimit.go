// Package ratelimit limits requests per client over a fixed one-minute
// window. The counters live in Redis, so every replica in a region shares
// them; when Redis is unreachable each replica falls back to counters of
// its own, which keeps the API up at the price of a looser limit.
package ratelimit

import (
	"context"
	"strconv"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/neko-defense/nekoctl/pkg/workload/breaker"
)

// Window is the rate-limit period.
const Window = time.Minute

// Decision is the outcome for one request.
type Decision struct {
	Allowed   bool
	Limit     int
	Remaining int
	// Reset is the time until the window ends.
	Reset time.Duration
	// Backend says which counters decided: redis or local.
	Backend string
}

// Limiter decides whether a client may make one more request.
type Limiter struct {
	limit   int
	rdb     redis.Cmdable // nil: local only
	breaker *breaker.Breaker
	prefix  string
	local   *local
}

// New returns a limiter allowing limit requests per Window per client.
// rdb may be nil, then the in-process counters are used.
func New(limit int, rdb redis.Cmdable, b *breaker.Breaker, prefix string, now func() time.Time) *Limiter {
	return &Limiter{limit: limit, rdb: rdb, breaker: b, prefix: prefix, local: newLocal(now)}
}

// Limit is the number of requests allowed per window.
func (l *Limiter) Limit() int { return l.limit }

// countLua counts one request and leaves n and ttl, the window's remaining
// milliseconds; the first request of a window starts it.
const countLua = `
local n = redis.call('INCR', KEYS[1])
local ttl = redis.call('PTTL', KEYS[1])
if n == 1 or ttl < 0 then
  redis.call('PEXPIRE', KEYS[1], ARGV[1])
  ttl = tonumber(ARGV[1])
end
`

// incrScript returns the count and the remaining window.
var incrScript = redis.NewScript(countLua + `return {n, ttl}`)

// incrGetScript also returns the value of KEYS[2] (false when there is
// none): a request that will read that key anyway gets it in the same round
// trip as its count.
var incrGetScript = redis.NewScript(countLua + `return {n, ttl, redis.call('GET', KEYS[2])}`)

var windowMillis = strconv.FormatInt(Window.Milliseconds(), 10)

// Allow counts a request from client.
func (l *Limiter) Allow(ctx context.Context, client string) Decision {
	if l.rdb != nil {
		res, err := breaker.Do(l.breaker, func() ([]int64, error) {
			return incrScript.Run(ctx, l.rdb, []string{l.prefix + client}, windowMillis).Int64Slice()
		})
		if err == nil && len(res) == 2 {
			return l.decide(int(res[0]), time.Duration(res[1])*time.Millisecond, "redis")
		}
	}
	n, reset := l.local.incr(client)
	return l.decide(n, reset, "local")
}

// AllowAndGet is Allow that also reads the Redis key get, in the same round
// trip; read is false when it could not be read (Redis unavailable: the
// local counters decided), found is false when the key does not exist.
func (l *Limiter) AllowAndGet(ctx context.Context, client, get string) (d Decision, val []byte, found, read bool) {
	if l.rdb != nil {
		res, err := breaker.Do(l.breaker, func() ([]any, error) {
			return incrGetScript.Run(ctx, l.rdb, []string{l.prefix + client, get}, windowMillis).Slice()
		})
		if err == nil && len(res) == 3 {
			n, okN := res[0].(int64)
			ttl, okT := res[1].(int64)
			if okN && okT {
				s, found := res[2].(string)
				return l.decide(int(n), time.Duration(ttl)*time.Millisecond, "redis"), []byte(s), found, true
			}
		}
	}
	n, reset := l.local.incr(client)
	return l.decide(n, reset, "local"), nil, false, false
}

func (l *Limiter) decide(count int, reset time.Duration, backend string) Decision {
	return Decision{
		Allowed:   count <= l.limit,
		Limit:     l.limit,
		Remaining: max(0, l.limit-count),
		Reset:     reset,
		Backend:   backend,
	}
}

// local is the in-process fallback: fixed windows per client.
type local struct {
	now func() time.Time
	mu  sync.Mutex
	m   map[string]*window
}

type window struct {
	count int
	end   time.Time
}

// maxLocalClients bounds memory under a flood of distinct addresses;
// expired windows are pruned when it is reached.
const maxLocalClients = 100_000

func newLocal(now func() time.Time) *local { return &local{now: now, m: map[string]*window{}} }

func (c *local) incr(client string) (int, time.Duration) {
	now := c.now()
	c.mu.Lock()
	defer c.mu.Unlock()
	w, ok := c.m[client]
	if !ok || !now.Before(w.end) {
		if !ok && len(c.m) >= maxLocalClients {
			c.prune(now)
		}
		w = &window{end: now.Add(Window)}
		c.m[client] = w
	}
	w.count++
	return w.count, w.end.Sub(now)
}

func (c *local) prune(now time.Time) {
	for k, w := range c.m {
		if !now.Before(w.end) {
			delete(c.m, k)
		}
	}
}
