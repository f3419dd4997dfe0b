package provider

import (
	"sync"

	"github.com/neko-defense/nekoctl/pkg/plan"
)

// Output keys: values one provider produces and another consumes. Secrets
// are stored as plan.Sensitive.
const (
	// OutIngressAddress is a region's public address (Kubernetes → Cloudflare pools).
	OutIngressAddress = "kubernetes/%s/ingress_address"
	// OutMongoURI is the application's full connection string (Atlas → Kubernetes Secret).
	OutMongoURI = "atlas/mongodb_uri"
	// OutDBPassword is the application's database password (Kubernetes Secret ↔ Atlas user).
	OutDBPassword = "atlas/db_password"
	// OutOriginCert and OutOriginKey are the Origin CA certificate and key in
	// PEM (Cloudflare → Kubernetes TLS Secret).
	OutOriginCert = "cloudflare/origin_cert_pem"
	OutOriginKey  = "cloudflare/origin_key_pem"
)

// Outputs is the run's shared store of produced values. It is safe for
// concurrent use by providers applying in parallel.
type Outputs interface {
	Get(key string) (any, bool)
	Set(key string, v any)
	// Value returns the value or plan.Unknown{From: key}.
	Value(key string) any
}

// NewOutputs returns an empty store.
func NewOutputs() Outputs { return &outputs{m: map[string]any{}} }

type outputs struct {
	mu sync.RWMutex
	m  map[string]any
}

func (o *outputs) Get(key string) (any, bool) {
	o.mu.RLock()
	defer o.mu.RUnlock()
	v, ok := o.m[key]
	return v, ok
}

func (o *outputs) Set(key string, v any) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.m[key] = v
}

func (o *outputs) Value(key string) any {
	if v, ok := o.Get(key); ok {
		return v
	}
	return plan.Unknown{From: key}
}
