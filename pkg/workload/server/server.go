// Package server assembles the API server: the GraphQL handler with its
// cache, limits and auth, the operational endpoints, and a graceful
// shutdown that fails readiness first and lets requests in flight finish.
package server

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/99designs/gqlgen/graphql/handler"
	"github.com/99designs/gqlgen/graphql/handler/extension"
	"github.com/99designs/gqlgen/graphql/handler/lru"
	"github.com/99designs/gqlgen/graphql/handler/transport"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/redis/go-redis/v9"
	"github.com/redis/go-redis/v9/maintnotifications"
	"github.com/vektah/gqlparser/v2/ast"

	"github.com/neko-defense/nekoctl/pkg/workload/auth"
	"github.com/neko-defense/nekoctl/pkg/workload/breaker"
	"github.com/neko-defense/nekoctl/pkg/workload/cache"
	"github.com/neko-defense/nekoctl/pkg/workload/config"
	"github.com/neko-defense/nekoctl/pkg/workload/graph"
	"github.com/neko-defense/nekoctl/pkg/workload/metrics"
	"github.com/neko-defense/nekoctl/pkg/workload/ratelimit"
	"github.com/neko-defense/nekoctl/pkg/workload/store"
)

// Options are the server's inputs besides its configuration.
type Options struct {
	Logger *slog.Logger
	// Now is the clock (tokens, rate-limit windows, timestamps).
	Now func() time.Time
	// Version namespaces Redis keys so that two releases never share
	// cached responses during a rolling upgrade.
	Version string
}

// Server is one API server instance.
type Server struct {
	cfg      *config.Config
	log      *slog.Logger
	Metrics  *metrics.Metrics
	Store    *store.Store
	redis    *redis.Client // nil without REDIS_ADDR
	handler  http.Handler
	draining atomic.Bool
	// indexed is set once the indexes exist; until then /ready fails.
	indexed atomic.Bool
	// inFlight is the context of all request work; shutdown cancels it
	// for requests that outlast the shutdown timeout.
	inFlight       context.Context
	cancelInFlight context.CancelCauseFunc
}

// redisTimeout bounds every Redis call: Redis answers in well under a
// millisecond, so anything slower is an outage to route around.
const redisTimeout = 250 * time.Millisecond

// New connects to MongoDB and Redis (lazily: an unreachable dependency
// shows in readiness, not as a start-up failure) and builds the handler.
func New(cfg *config.Config, o Options) (*Server, error) {
	m := metrics.New()
	if cfg.OriginCertFile != "" {
		m.WatchCertificate(cfg.OriginCertFile)
	}
	onState := func(name string, state int) { m.Breaker.WithLabelValues(name).Set(float64(state)) }
	mongoBreaker := breaker.New(breaker.Settings{
		Name: "mongodb", OpenTimeout: cfg.BreakerOpenTimeout, IsFailure: store.IsFailure, OnStateChange: onState,
	})
	st, err := store.Open(store.Options{
		URI: cfg.MongoURI, Database: cfg.MongoDatabase, Timeout: cfg.MongoTimeout, Breaker: mongoBreaker, Now: o.Now,
	})
	if err != nil {
		return nil, err
	}
	s := &Server{cfg: cfg, log: o.Logger, Metrics: m, Store: st}
	s.inFlight, s.cancelInFlight = context.WithCancelCause(context.Background())

	rc, err := openRedis(cfg, onState)
	if err != nil {
		return nil, err
	}
	s.redis = rc.client

	users := map[string]auth.Account{}
	for name, u := range cfg.Users {
		users[name] = auth.Account{Password: u.Password, Role: u.Role}
	}
	issuer := auth.NewIssuer(auth.KeySet(cfg.JWTKeys), cfg.JWTTTL, users, o.Now)
	prefix := "neko:" + o.Version + ":"
	gql, prefetch := s.graphQL(&graph.Resolver{Store: st, Issuer: issuer, Now: o.Now}, rc, prefix, issuer)

	limiter := ratelimit.New(cfg.RateLimitPerMinute, rc.hot, rc.breaker, prefix+"rl:", o.Now)
	rejected := labelCounter(m.RateLimited)
	limited := func(prefetch ratelimit.Prefetch, h http.Handler) http.Handler {
		return ratelimit.MiddlewarePrefetching(limiter, cfg.TrustedProxies, rejected, prefetch, h)
	}

	mux := http.NewServeMux()
	mux.Handle("/graphql", instrument(m, "graphql", noStore(cors(cfg.CORSOrigins, limited(prefetch, limitBody(cfg.MaxBodyBytes, withTimeout(cfg.RequestTimeout, issuer.Middleware(gql))))))))
	mux.Handle("/static/", instrument(m, "static", limited(nil, staticHandler())))
	mux.Handle("GET /health", instrument(m, "health", noStore(http.HandlerFunc(s.health))))
	mux.Handle("GET /ready", instrument(m, "ready", noStore(http.HandlerFunc(s.ready))))
	mux.Handle("GET /metrics", instrument(m, "metrics", promhttp.HandlerFor(m.Registry, promhttp.HandlerOpts{})))
	mux.Handle("GET /{$}", http.RedirectHandler("/static/index.html", http.StatusFound))
	s.handler = s.closeWhenDraining(recoverPanics(s.log, securityHeaders(mux)))
	return s, nil
}

// redisConn is the Redis side: all nil without REDIS_ADDR.
type redisConn struct {
	client *redis.Client
	// hot carries the per-request calls (rate-limit count, cache lookup)
	// through an autopipeliner: concurrent requests share round trips and
	// syscalls, which are most of the cost of a cached answer.
	hot     redis.Cmdable
	breaker *breaker.Breaker
}

func openRedis(cfg *config.Config, onState func(string, int)) (redisConn, error) {
	if cfg.RedisAddr == "" {
		return redisConn{}, nil
	}
	rdb := redis.NewClient(&redis.Options{
		Addr: cfg.RedisAddr, Password: cfg.RedisPassword, DB: cfg.RedisDB,
		DialTimeout: redisTimeout, ReadTimeout: redisTimeout, WriteTimeout: redisTimeout,
		// No retries and no dial backoff: a failure goes straight to the
		// breaker, which is what routes around an outage.
		MaxRetries: -1, DialerRetries: 1, DialerRetryTimeout: time.Millisecond, DisableIdentity: true,
		MaintNotificationsConfig: &maintnotifications.Config{Mode: maintnotifications.ModeDisabled},
	})
	ap, err := rdb.AutoPipeline()
	if err != nil {
		rdb.Close()
		return redisConn{}, fmt.Errorf("redis: %w", err)
	}
	return redisConn{client: rdb, hot: ap, breaker: breaker.New(breaker.Settings{
		Name: "redis", OpenTimeout: cfg.BreakerOpenTimeout, OnStateChange: onState,
		IsFailure: func(err error) bool { return err != nil && !errors.Is(err, redis.Nil) },
	})}, nil
}

// graphQL builds the GraphQL handler: transports, limits, the response
// cache when there is Redis (with its shortcut for hits in front of
// gqlgen, and the prefetch that reads a hit with the rate-limit count),
// and error presentation.
func (s *Server) graphQL(resolver *graph.Resolver, rc redisConn, prefix string, issuer *auth.Issuer) (http.Handler, ratelimit.Prefetch) {
	cfg, m := s.cfg, s.Metrics
	gql := handler.New(graph.NewSchema(resolver))
	gql.AddTransport(transport.Options{})
	gql.AddTransport(transport.GET{})
	gql.AddTransport(transport.POST{})
	if cfg.Introspection {
		gql.Use(extension.Introspection{})
	} else {
		gql.Use(graph.NoIntrospection{})
	}
	graph.Limits{MaxDepth: cfg.MaxDepth, MaxComplexity: cfg.MaxComplexity}.Install(gql, lru.New[*ast.QueryDocument](1000))
	var front func(http.Handler) http.Handler
	var prefetch ratelimit.Prefetch
	if rc.client != nil {
		cs := cache.NewStore(rc.client, rc.hot, rc.breaker, prefix+"cache:")
		resolver.Cache = cs
		ext := cache.NewExtension(cs, cfg.CacheTTLs, labelCounter(m.Cache), s.inFlight)
		gql.Use(ext)
		front, prefetch = ext.Middleware, ext.Prefetch(issuer.Remembered)
	}
	gql.SetErrorPresenter(graph.ErrorPresenter(func(code string, err error) {
		m.GraphQLErrors.WithLabelValues(code).Inc()
		if code == graph.CodeInternal {
			s.log.Error("resolver failed", "error", err)
		}
	}))
	gql.SetRecoverFunc(func(ctx context.Context, v any) error {
		s.log.Error("panic in resolver", "panic", v)
		return errors.New("internal error")
	})
	if front != nil {
		return front(gql), prefetch
	}
	return gql, nil
}

// labelCounter counts by one label, each label value's counter looked up
// once (on first use, so that /metrics shows only values that happened):
// a label lookup hashes the label values on every call.
func labelCounter(vec *prometheus.CounterVec) func(value string) {
	var counters sync.Map // label value -> prometheus.Counter
	return func(v string) {
		c, ok := counters.Load(v)
		if !ok {
			c, _ = counters.LoadOrStore(v, vec.WithLabelValues(v))
		}
		c.(prometheus.Counter).Inc()
	}
}

// Handler is the server's HTTP handler.
func (s *Server) Handler() http.Handler { return s.handler }

// health is liveness: the process serves HTTP. Dependencies are not
// checked, so an outage elsewhere never makes Kubernetes restart pods.
func (s *Server) health(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	_, _ = w.Write([]byte(`{"status":"ok"}`))
}

// ready is readiness: not draining, MongoDB answers and its breaker is
// closed. The ping goes through the breaker, so readiness probes are also
// what closes it again after an outage.
func (s *Server) ready(w http.ResponseWriter, r *http.Request) {
	status, reason := http.StatusOK, "ready"
	switch {
	case s.draining.Load():
		status, reason = http.StatusServiceUnavailable, "shutting down"
	case !s.indexed.Load():
		status, reason = http.StatusServiceUnavailable, "creating indexes"
	default:
		ctx, cancel := context.WithTimeout(r.Context(), time.Second)
		defer cancel()
		if err := s.Store.Ping(ctx); err != nil {
			status, reason = http.StatusServiceUnavailable, "mongodb unavailable"
		} else if s.Store.Breaker().State() != breaker.Closed {
			status, reason = http.StatusServiceUnavailable, "mongodb breaker not closed"
		}
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = fmt.Fprintf(w, `{"status":%q}`, reason)
}

// closeWhenDraining answers with "Connection: close" once shutdown has
// begun. Closing idle keep-alive connections from the server side instead
// would race with clients sending on them and fail those requests.
func (s *Server) closeWhenDraining(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if s.draining.Load() {
			w.Header().Set("Connection", "close")
		}
		next.ServeHTTP(w, r)
	})
}

// Draining reports whether shutdown has begun.
func (s *Server) Draining() bool { return s.draining.Load() }

// EnsureIndexes creates the indexes, retrying until it succeeds or ctx ends;
// the server reports not ready until then.
func (s *Server) EnsureIndexes(ctx context.Context) error {
	for wait := 250 * time.Millisecond; ; wait = min(2*wait, 5*time.Second) {
		err := s.Store.EnsureIndexes(ctx)
		if err == nil {
			s.indexed.Store(true)
			return nil
		}
		s.log.Warn("creating indexes failed, retrying", "error", err, "retry_in", wait)
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(wait):
		}
	}
}

// Serve serves on ln until ctx is cancelled, then shuts down gracefully:
// readiness fails at once and every response asks its client to close the
// connection, so the load balancer and clients move to other replicas;
// after the drain delay the listener closes, requests in flight finish,
// and connections to the databases close.
func (s *Server) Serve(ctx context.Context, ln net.Listener) error {
	srv := &http.Server{
		Handler:           s.handler,
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      30 * time.Second,
		IdleTimeout:       120 * time.Second,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          slog.NewLogLogger(s.log.Handler(), slog.LevelWarn),
	}
	// Requests' contexts derive from inFlight, so that shutdown can cancel
	// the work of requests that outlast it.
	srv.BaseContext = func(net.Listener) context.Context { return s.inFlight }
	defer s.cancelInFlight(errShutdown)
	go func() { _ = s.EnsureIndexes(ctx) }()
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	s.log.Info("serving", "addr", ln.Addr().String())

	select {
	case err := <-errc:
		s.close()
		return err
	case <-ctx.Done():
	}
	s.draining.Store(true)
	s.log.Info("shutting down: readiness failing, draining", "delay", s.cfg.ShutdownDrainDelay)
	time.Sleep(s.cfg.ShutdownDrainDelay)

	err := s.shutdown(srv)
	s.close()
	if err != nil {
		return err
	}
	s.log.Info("shut down cleanly")
	return nil
}

// errShutdown is the cause given to the requests shutdown cancels.
var errShutdown = errors.New("the server is shutting down")

// cancelGrace is the time requests get to answer once shutdown has
// cancelled their work.
const cancelGrace = 2 * time.Second

// shutdown stops accepting connections and waits for requests in flight;
// those still running after the shutdown timeout have their work
// cancelled and a moment to answer with an error before their connections
// are closed.
func (s *Server) shutdown(srv *http.Server) error {
	ctx, cancel := context.WithTimeout(context.Background(), s.cfg.ShutdownTimeout)
	defer cancel()
	if srv.Shutdown(ctx) == nil {
		return nil
	}
	s.log.Warn("shutdown: cancelling requests still in flight", "after", s.cfg.ShutdownTimeout)
	s.cancelInFlight(errShutdown)
	ctx, cancel = context.WithTimeout(context.Background(), cancelGrace)
	defer cancel()
	if err := srv.Shutdown(ctx); err != nil {
		_ = srv.Close()
		return fmt.Errorf("shutdown: requests still in flight %s after their work was cancelled: %w", cancelGrace, err)
	}
	return nil
}

func (s *Server) close() {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_ = s.Store.Close(ctx)
	if s.redis != nil {
		_ = s.redis.Close()
	}
}

// RedisLogger routes the Redis client's own messages (dial failures, which
// the breaker already handles) to the debug level, so an outage does not
// flood the log; the breaker's state is in the metrics.
func RedisLogger(log *slog.Logger) redisLogger { return redisLogger{log} }

type redisLogger struct{ log *slog.Logger }

// Printf implements the Redis client's logging interface.
func (l redisLogger) Printf(ctx context.Context, format string, v ...any) {
	l.log.DebugContext(ctx, fmt.Sprintf(format, v...), "component", "redis")
}
