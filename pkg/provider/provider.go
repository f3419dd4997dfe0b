// Package provider is the contract between the engine and the Cloudflare,
// Atlas and Kubernetes providers: desired state from the spec, live state,
// a diff into plan changes, and apply/delete of one change at a time.
package provider

import (
	"context"
	"errors"

	"github.com/neko-defense/nekoctl/pkg/plan"
)

// Resource is one remote object as the provider sees it: the fields nekoctl
// owns as a document, plus what apply needs to find it again.
type Resource struct {
	Address plan.Address
	// ID is the remote identifier of a live resource (empty when desired).
	ID  string
	Doc plan.Document
	// DependsOn lists resources that must exist first (across providers too).
	DependsOn []plan.Address
	// Produces names the output keys that applying this resource publishes.
	// The engine orders any change whose document holds plan.Unknown{From: key}
	// after the change that produces key, across providers.
	Produces []string
	// ReplaceOn names document paths whose change cannot be made in place.
	ReplaceOn []string
	// Protected resources are never deleted without Options.Force.
	Protected bool
	Notes     []string
	// Fingerprint identifies the live version read (see plan.Change.Fingerprint).
	Fingerprint string
	// Unowned marks a live object found by the identity nekoctl would create
	// but without this stack's ownership marker: a conflict, or an adoption
	// with Options.Adopt.
	Unowned bool
	// Foreign, on a live container, lists objects inside it that nekoctl does
	// not own; such a container is kept (plan.Keep), never deleted.
	Foreign []string
}

// Provider is implemented once per remote system. A provider is built for
// one validated stack with its client; Kubernetes builds one per region so a
// region that fails does not stop the others.
type Provider interface {
	// Name is the plan address provider ("cloudflare", "atlas", "kubernetes").
	Name() string
	// Region is the region this instance serves, or "" for global providers.
	Region() string
	// Desired returns the resources the spec declares. Values that other
	// providers produce come from in, as plan.Unknown when not yet known.
	Desired(ctx context.Context, in Outputs) ([]Resource, error)
	// Read returns the live state of the resources this stack owns, found by
	// ownership markers. It must not modify anything. Values it learns that
	// other providers consume (a region's public address, the database
	// password held in an existing Secret) it publishes to out.
	Read(ctx context.Context, out Outputs) ([]Resource, error)
	// Diff turns desired and live resources into changes, one per address.
	Diff(ctx context.Context, desired, live []Resource, opts Options) ([]plan.Change, error)
	// Apply performs one create, update, replace, adopt (mark owned, then
	// update) or keep (release a container without deleting it, marked so a
	// later `up` re-adopts it) exactly as planned, resolving Unknown values
	// from in, and publishes its outputs to out.
	Apply(ctx context.Context, c plan.Change, out Outputs) error
	// Delete removes one owned resource.
	Delete(ctx context.Context, c plan.Change) error
}

// Connector is implemented by a provider whose Read starts with a request
// that has a connection to open first (TCP and TLS: two round trips before
// the request). Connect starts that request and returns as soon as its
// connection is being opened; the Read that follows continues from it.
// The engine connects every such provider, one after another, before any
// Read starts: each takes a moment of CPU, and a connection that waited
// for the others' reading and rendering would open that much later.
type Connector interface {
	Connect(ctx context.Context)
}

// PlanInputs is implemented by a provider whose Desired consumes values that
// another provider publishes from its own Desired rather than from Read (the
// Kubernetes Secret holds the connection string the Atlas provider builds).
// Each key's first segment names the producing provider ("atlas/..."); the
// engine runs that provider's Desired first and every other one at once.
type PlanInputs interface {
	PlanInputs() []string
}

// Options are the run-wide choices that affect planning.
type Options struct {
	// Destroy plans the removal of everything the stack owns (`down`).
	Destroy bool
	// Force allows deleting protected resources.
	Force bool
	// RotateDBPassword asks for a new database password.
	RotateDBPassword bool
	// RotateJWTKey asks for a new current JWT signing key; the previous
	// ones keep verifying for one token lifetime.
	RotateJWTKey bool
	// Offline plans without reading live state: everything is a create.
	Offline bool
	// Adopt plans unowned objects of the desired identity as plan.Adopt
	// instead of reporting them as conflicts.
	Adopt bool
	// DeleteBackups deletes a database cluster's backup snapshots with it;
	// by default a teardown keeps them.
	DeleteBackups bool
}

// Diagnoser is implemented by providers that report what they learned while
// planning (plan.SeverityInfo or warnings); the engine adds it to the plan
// after the provider's Diff.
type Diagnoser interface {
	Diagnostics() []plan.Diagnostic
}

// Statuser is implemented by providers that can report health for `status`.
type Statuser interface {
	Status(ctx context.Context) ([]Health, error)
}

// Checker is implemented by providers that look, while planning, at what
// they depend on but do not own (a platform Gateway, an Ingress class) and
// report what would keep the stack from serving. It must not modify anything.
type Checker interface {
	Check(ctx context.Context) []plan.Diagnostic
}

// Verifier is implemented by providers that prove, at the end of `up`, that
// what was applied serves (a route accepted by its Gateway, an answer from
// the public address). The error names what does not.
type Verifier interface {
	Verify(ctx context.Context) error
}

// Health is one line of `nekoctl status`; the facts an on-call engineer
// asks for first ride along on the lines they belong to (see health.go).
type Health struct {
	Address plan.Address `json:"address"`
	State   string       `json:"state"`
	Healthy bool         `json:"healthy"`
	Detail  string       `json:"detail,omitempty"`
	Facts
}

// RollBacker is implemented by providers that run the workload (one
// Kubernetes region): before changing a healthy Deployment they record its
// revision (image and pod template), and can return to it.
type RollBacker interface {
	// RolloutHealthy reports, after a rollout, whether the region serves:
	// the health path through its public address when that is reachable.
	RolloutHealthy(ctx context.Context) error
	// PlanRollback is the change RollBack would make: an update from the
	// live revision to the recorded one, or a no-op when they match. It
	// fails when no revision is recorded.
	PlanRollback(ctx context.Context) (plan.Change, error)
	// RollBack returns the workload to the recorded revision and waits for
	// its rollout; c is the change PlanRollback planned.
	RollBack(ctx context.Context, c plan.Change) error
}

// ErrNoRevision is wrapped by PlanRollback when there is nothing to roll
// back to.
var ErrNoRevision = errors.New("no previous revision recorded (nekoctl records one before it changes a healthy Deployment)")
