// Package planfile is the saved plan of `nekoctl plan -out FILE`: a versioned
// JSON document holding the changes, the live fingerprint each one was
// planned against, the digest of the spec and the nekoctl version. It never
// holds a secret value: sensitive leaves are written masked, and `up FILE`
// resolves them again from a fresh read of the planned resources (see Check).
package planfile

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"time"

	"github.com/neko-defense/nekoctl/pkg/plan"
	"github.com/neko-defense/nekoctl/pkg/provider"
	"github.com/neko-defense/nekoctl/pkg/spec"
)

// FormatVersion is the plan file format this build writes and reads. The
// reader refuses another major version, and a newer minor version, since it
// could hold fields this build would silently ignore.
const FormatVersion = "1.0"

// File is one saved plan.
type File struct {
	FormatVersion  string     `json:"format_version"`
	NekoctlVersion string     `json:"nekoctl_version"`
	CreatedAt      time.Time  `json:"created_at"`
	Spec           Spec       `json:"spec"`
	Options        Options    `json:"options"`
	Plan           *plan.Plan `json:"plan"`
}

// Spec identifies the validated spec the plan was made from.
type Spec struct {
	// Path is the spec file as given to plan; `up FILE` reads it unless -f says otherwise.
	Path string `json:"path"`
	// Digest is SpecDigest of the validated (defaulted) stack, so that
	// comments, formatting and spelled-out defaults do not make a plan stale.
	Digest string `json:"digest"`
}

// Options are the planning choices `up FILE` must plan with again to read
// the same changes (a destroy plan is applied as `down`).
type Options struct {
	Destroy          bool `json:"destroy"`
	Force            bool `json:"force"`
	Adopt            bool `json:"adopt"`
	RotateDBPassword bool `json:"rotate_db_password"`
	DeleteBackups    bool `json:"delete_backups,omitempty"`
	RotateJWTKey     bool `json:"rotate_jwt_key,omitempty"`
}

// NewOptions keeps the choices of a run that a saved plan depends on.
func NewOptions(o provider.Options) Options {
	return Options{Destroy: o.Destroy, Force: o.Force, Adopt: o.Adopt, RotateDBPassword: o.RotateDBPassword, DeleteBackups: o.DeleteBackups,
		RotateJWTKey: o.RotateJWTKey}
}

// Provider returns the provider options to plan with again.
func (o Options) Provider() provider.Options {
	return provider.Options{Destroy: o.Destroy, Force: o.Force, Adopt: o.Adopt, RotateDBPassword: o.RotateDBPassword,
		DeleteBackups: o.DeleteBackups, RotateJWTKey: o.RotateJWTKey}
}

// SpecDigest is the SHA-256 of the validated stack's JSON encoding.
func SpecDigest(st *spec.Stack) (string, error) {
	b, err := json.Marshal(st)
	if err != nil {
		return "", fmt.Errorf("encoding the spec: %w", err)
	}
	h := sha256.Sum256(b)
	return "sha256:" + hex.EncodeToString(h[:]), nil
}
