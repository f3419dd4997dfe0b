// Package atlas provisions the stack's MongoDB Atlas resources: the project,
// the multi-region replica set, its backup schedule, the application's
// database user and the IP access list, through the Atlas Administration
// API v2 (go.mongodb.org/atlas-sdk).
package atlas

import (
	"context"
	"fmt"
	"sync"
	"time"

	"go.mongodb.org/atlas-sdk/v20250312020/admin"

	"github.com/neko-defense/nekoctl/internal/ctxtime"
	"github.com/neko-defense/nekoctl/pkg/event"
	"github.com/neko-defense/nekoctl/pkg/plan"
	"github.com/neko-defense/nekoctl/pkg/provider"
	"github.com/neko-defense/nekoctl/pkg/spec"
)

// Name is the provider's plan address name.
const Name = "atlas"

// Resource kinds.
const (
	KindProject        = "project"
	KindCluster        = "cluster"
	KindBackupSchedule = "backup_schedule"
	KindDatabaseUser   = "database_user"
	KindAccessEntry    = "access_list_entry"
)

// Config tunes waits and reporting. Zero values give Atlas-sized defaults.
type Config struct {
	// Events receives progress while the provider waits on the cluster.
	Events event.Sink
	// Now is the clock for elapsed times and timeouts.
	Now func() time.Time
	// PollInterval is the longest pause of a wait between two reads of the
	// cluster (default 30s); the first is a sixtieth of it, growing by half.
	PollInterval time.Duration
	// Timeout bounds one wait for IDLE or for deletion (default 3h).
	Timeout time.Duration
	// CreateAttempts bounds the create retries after a lost answer (default 5).
	CreateAttempts int
	// Sleep waits between polls; tests may replace it.
	Sleep func(ctx context.Context, d time.Duration) error
	// Password generates the database password; tests may replace it.
	Password func() (string, error)
	// RotateDBPassword must equal provider.Options.RotateDBPassword of the
	// run: Desired decides whether the current connection string stays valid.
	RotateDBPassword bool
	// DeleteBackups deletes a cluster's snapshots with it (`down --force
	// --delete-backups`); by default the delete asks Atlas to retain them.
	DeleteBackups bool
	// MaxInFlight caps the reads sent at once once the project is known
	// (default 5: clusters, backup schedule, users, access list, alert
	// configurations).
	MaxInFlight int
	// CacheDir keeps the project's id between runs (see projectcache.go).
	// Build defaults it to the user cache directory's nekoctl/atlas; empty
	// (New) or "-" (Build): no cache, every plan finds the project by name
	// first.
	CacheDir string
}

// Provider implements provider.Provider and provider.Statuser for Atlas.
type Provider struct {
	st     *spec.Stack
	client *admin.APIClient
	cfg    Config

	mu      sync.Mutex
	groupID string
	live    *admin.ClusterDescription20240805 // the stack's cluster as last read
	kept    string                            // the current password, from the Secrets
	// userLive: the spec's database user exists in Atlas (as last read).
	userLive bool
}

var (
	_ provider.Provider = (*Provider)(nil)
	_ provider.Statuser = (*Provider)(nil)
)

// New builds the provider for a validated stack with defaults applied.
// client may be nil offline: Desired then works without any network call.
func New(st *spec.Stack, client *admin.APIClient, cfg Config) *Provider {
	if cfg.Events == nil {
		cfg.Events = event.Discard
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.PollInterval <= 0 {
		cfg.PollInterval = 30 * time.Second
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = 3 * time.Hour
	}
	if cfg.CreateAttempts <= 0 {
		cfg.CreateAttempts = 5
	}
	if cfg.Sleep == nil {
		cfg.Sleep = ctxtime.Sleep
	}
	if cfg.Password == nil {
		cfg.Password = generatePassword
	}
	if cfg.MaxInFlight <= 0 {
		cfg.MaxInFlight = 5
	}
	return &Provider{st: st, client: client, cfg: cfg}
}

func (p *Provider) Name() string   { return Name }
func (p *Provider) Region() string { return "" }

func (p *Provider) atlas() *spec.Atlas { return &p.st.Spec.Atlas }

func (p *Provider) scope() string { return "project/" + p.atlas().Project }

func (p *Provider) addr(kind, name string) plan.Address {
	return plan.Address{Provider: Name, Scope: p.scope(), Kind: kind, Name: name}
}

func (p *Provider) needClient() error {
	if p.client == nil {
		return fmt.Errorf("no Atlas client: credentials are needed for this operation")
	}
	return nil
}

func (p *Provider) project() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.groupID
}

func (p *Provider) setUserLive(v bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.userLive = v
}

func (p *Provider) userIsLive() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.userLive
}

func (p *Provider) setKept(pw string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.kept = pw
}

func (p *Provider) keptPassword() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.kept
}

// setProject records the project's id for this run and the next ("":
// there is none).
func (p *Provider) setProject(id string) {
	p.mu.Lock()
	p.groupID = id
	p.mu.Unlock()
	p.rememberProjectID(id)
}

// projectID returns the project's id, looking it up by name when no Read
// or project create has found it yet.
func (p *Provider) projectID(ctx context.Context) (string, error) {
	if id := p.project(); id != "" {
		return id, nil
	}
	if err := p.needClient(); err != nil {
		return "", err
	}
	g, _, err := p.client.ProjectsApi.GetGroupByName(ctx, p.atlas().Project).Execute()
	if err != nil {
		return "", fmt.Errorf("finding project %q: %w", p.atlas().Project, err)
	}
	p.setProject(g.GetId())
	return g.GetId(), nil
}

// Apply performs one planned create, update, adopt, or keep (a project
// that holds objects nekoctl does not own is released, not deleted).
func (p *Provider) Apply(ctx context.Context, c plan.Change, out provider.Outputs) error {
	if err := p.needClient(); err != nil {
		return err
	}
	if c.Action == plan.NoOp {
		return nil
	}
	if c.Action == plan.Keep && c.Address.Kind != KindProject {
		return fmt.Errorf("only a project can be kept and released, not a %s", c.Address.Kind)
	}
	switch c.Address.Kind {
	case KindProject:
		return p.applyProject(ctx, c)
	case KindCluster:
		return p.applyCluster(ctx, c)
	case KindBackupSchedule:
		return p.applySchedule(ctx, c)
	case KindDatabaseUser:
		return p.applyUser(ctx, c, out)
	case KindAccessEntry:
		return p.applyAccess(ctx, c)
	case KindAlertConfig:
		return p.applyAlert(ctx, c)
	}
	return fmt.Errorf("unknown Atlas resource kind %q", c.Address.Kind)
}

// Delete removes one owned resource.
func (p *Provider) Delete(ctx context.Context, c plan.Change) error {
	if err := p.needClient(); err != nil {
		return err
	}
	switch c.Address.Kind {
	case KindProject:
		return p.deleteProject(ctx, c)
	case KindCluster:
		return p.deleteCluster(ctx, c)
	case KindBackupSchedule:
		return nil // removed with its cluster
	case KindDatabaseUser:
		return p.deleteUser(ctx, c)
	case KindAccessEntry:
		return p.deleteAccess(ctx, c)
	case KindAlertConfig:
		return p.deleteAlert(ctx, c)
	}
	return fmt.Errorf("unknown Atlas resource kind %q", c.Address.Kind)
}

func (p *Provider) emit(e event.Event) {
	if e.Time.IsZero() {
		e.Time = p.cfg.Now()
	}
	p.cfg.Events(e)
}
