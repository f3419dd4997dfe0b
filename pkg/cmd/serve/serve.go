// Package serve implements `nekoctl serve`, the Neko Defense API server that
// the stack's image runs, and `nekoctl serve seed`, its sample-data loader.
package serve

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"os"
	"os/signal"
	"syscall"

	"github.com/MakeNowJust/heredoc"
	"github.com/redis/go-redis/v9"
	"github.com/spf13/cobra"

	"github.com/neko-defense/nekoctl/internal/gcpolicy"
	"github.com/neko-defense/nekoctl/pkg/cmdutil"
	"github.com/neko-defense/nekoctl/pkg/version"
	"github.com/neko-defense/nekoctl/pkg/workload/breaker"
	"github.com/neko-defense/nekoctl/pkg/workload/config"
	"github.com/neko-defense/nekoctl/pkg/workload/seed"
	"github.com/neko-defense/nekoctl/pkg/workload/server"
	"github.com/neko-defense/nekoctl/pkg/workload/store"
)

// ServeOptions holds the command's dependencies and flags.
type ServeOptions struct {
	F *cmdutil.Factory
	// Listen overrides LISTEN_ADDR.
	Listen string
	// Seed loads sample data into an empty database before serving.
	Seed bool
	// SeedTriggers is the number of sample honeypot triggers.
	SeedTriggers int
	// Signals end the server gracefully; SIGTERM and SIGINT by default.
	Signals []os.Signal
}

// NewCmdServe builds `serve`; runF replaces the run function in tests.
func NewCmdServe(f *cmdutil.Factory, runF func(*ServeOptions) error) *cobra.Command {
	opts := &ServeOptions{F: f, Signals: []os.Signal{syscall.SIGTERM, os.Interrupt}}
	cmd := &cobra.Command{
		Use:   "serve",
		Short: "Run the Neko Defense API server",
		Long: heredoc.Doc(`
			Serve the Neko Defense GraphQL API at /graphql, with /health, /ready,
			/metrics and /static/. This is what the stack's image runs, so the
			API always matches this nekoctl's version.

			Settings come from environment variables (see docs/workload.md):
			MONGODB_URI, JWT_SECRET (or a JWT key set in JWT_KEYS or
			JWT_KEYS_FILE), ADMIN_USERNAME and ADMIN_PASSWORD are required, and
			REDIS_ADDR enables the shared rate limit and the response cache. A missing or invalid value
			stops start-up with a message naming it; secret values are never shown.

			On SIGTERM the server fails readiness, keeps serving for
			SHUTDOWN_DRAIN_DELAY while the load balancer moves away, then stops
			accepting connections and lets requests in flight finish.
		`),
		Example: heredoc.Doc(`
			$ MONGODB_URI=mongodb://127.0.0.1:27017 REDIS_ADDR=127.0.0.1:6379 \
			  JWT_SECRET=... ADMIN_USERNAME=admin ADMIN_PASSWORD=... nekoctl serve
			$ nekoctl serve --listen 127.0.0.1:9090 --seed   # demo: sample data if the database is empty
			$ nekoctl serve seed --triggers 20000            # only load sample data, then exit
		`),
		Args: cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			if opts.SeedTriggers < 0 {
				return cmdutil.FlagErrorf("--triggers must not be negative")
			}
			if runF != nil {
				return runF(opts)
			}
			return serveRun(c.Context(), opts)
		},
	}
	cmd.Flags().StringVar(&opts.Listen, "listen", "", "address to listen on (overrides LISTEN_ADDR, default :8080)")
	cmd.Flags().BoolVar(&opts.Seed, "seed", false, "load sample data first when the database holds no threat actors")
	cmd.Flags().IntVar(&opts.SeedTriggers, "triggers", seed.DefaultTriggers, "number of sample honeypot triggers for --seed")
	cmd.AddCommand(NewCmdSeed(f, nil))
	return cmd
}

func serveRun(ctx context.Context, opts *ServeOptions) error {
	// A server lives for days: the runtime's own pacing suits it better than
	// the memory limit a short run of nekoctl keeps (internal/gcpolicy).
	gcpolicy.Release()
	f := opts.F
	cfg, err := config.Load(f.Getenv)
	if err != nil {
		return err
	}
	if opts.Listen != "" {
		cfg.ListenAddr = opts.Listen
	}
	log := newLogger(f.IOStreams.ErrOut, cfg.LogLevel)
	redis.SetLogger(server.RedisLogger(log))
	log.Info("starting", "version", version.Version, "commit", version.CommitOrVCS(), "config", cfg.String())

	srv, err := server.New(cfg, server.Options{Logger: log, Now: f.Now, Version: version.Version})
	if err != nil {
		return err
	}
	ctx, stop := signal.NotifyContext(ctx, opts.Signals...)
	defer stop()
	if opts.Seed {
		res, err := seed.Load(ctx, srv.Store, seed.Options{Triggers: opts.SeedTriggers, Now: f.Now()})
		if err != nil {
			return err
		}
		logSeed(log, res)
	}
	ln, err := net.Listen("tcp", cfg.ListenAddr)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", cfg.ListenAddr, err)
	}
	return srv.Serve(ctx, ln)
}

// SeedOptions holds the seed command's dependencies and flags.
type SeedOptions struct {
	F        *cmdutil.Factory
	Triggers int
}

// NewCmdSeed builds `serve seed`; runF replaces the run function in tests.
func NewCmdSeed(f *cmdutil.Factory, runF func(*SeedOptions) error) *cobra.Command {
	opts := &SeedOptions{F: f}
	cmd := &cobra.Command{
		Use:   "seed",
		Short: "Load sample data into an empty database and create the indexes",
		Long: heredoc.Doc(`
			Create the API's indexes and, when the database holds no threat actors,
			load sample threat actors and honeypot triggers. Running it again
			changes nothing. Only MONGODB_URI (and optionally MONGODB_DATABASE
			and MONGODB_TIMEOUT) are read.
		`),
		Example: heredoc.Doc(`
			$ MONGODB_URI=mongodb://127.0.0.1:27017 nekoctl serve seed
			$ nekoctl serve seed --triggers 20000
		`),
		Args: cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			if opts.Triggers < 0 {
				return cmdutil.FlagErrorf("--triggers must not be negative")
			}
			if runF != nil {
				return runF(opts)
			}
			return seedRun(c.Context(), opts)
		},
	}
	cmd.Flags().IntVar(&opts.Triggers, "triggers", seed.DefaultTriggers, "number of sample honeypot triggers")
	return cmd
}

func seedRun(ctx context.Context, opts *SeedOptions) error {
	f := opts.F
	cfg, err := config.LoadMongo(f.Getenv)
	if err != nil {
		return err
	}
	st, err := store.Open(store.Options{
		URI: cfg.MongoURI, Database: cfg.MongoDatabase, Timeout: cfg.MongoTimeout, Now: f.Now,
		// A one-shot command has nothing to protect by failing fast.
		Breaker: breaker.New(breaker.Settings{Name: "mongodb", Failures: 1 << 30}),
	})
	if err != nil {
		return err
	}
	defer st.Close(context.WithoutCancel(ctx))
	if err := st.EnsureIndexes(ctx); err != nil {
		return fmt.Errorf("database %s: %w", cfg.MongoDatabase, err)
	}
	res, err := seed.Load(ctx, st, seed.Options{Triggers: opts.Triggers, Now: f.Now()})
	if err != nil {
		return fmt.Errorf("database %s: %w", cfg.MongoDatabase, err)
	}
	if res.Skipped {
		fmt.Fprintf(f.IOStreams.Out, "Database %s already holds threat actors; nothing loaded.\n", cfg.MongoDatabase)
		return nil
	}
	fmt.Fprintf(f.IOStreams.Out, "Loaded %d threat actors and %d honeypot triggers into %s.\n", res.Actors, res.Triggers, cfg.MongoDatabase)
	return nil
}

func logSeed(log *slog.Logger, res seed.Result) {
	if res.Skipped {
		log.Info("seed skipped: the database already holds threat actors")
		return
	}
	log.Info("seeded", "threat_actors", res.Actors, "honeypot_triggers", res.Triggers)
}

// newLogger logs JSON lines, which log collectors in the cluster parse.
func newLogger(w interface{ Write([]byte) (int, error) }, level string) *slog.Logger {
	var l slog.Level
	_ = l.UnmarshalText([]byte(level))
	return slog.New(slog.NewJSONHandler(w, &slog.HandlerOptions{Level: l})).With("service", "nekoctl-serve")
}
