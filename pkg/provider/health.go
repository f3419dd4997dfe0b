package provider

import "time"

// Facts are the typed details of a status line, each set only on the line
// it belongs to, so that `status` lays them out per region without parsing
// Detail. They are part of `status -o json` (documented in docs/status.md):
// add fields, never rename them. None may carry a secret.
type Facts struct {
	// Pods is the API Deployment's replica counts (its Deployment line).
	Pods *Pods `json:"pods,omitempty"`
	// Image is the API container's image (its Deployment line).
	Image *Image `json:"image,omitempty"`
	// Certificate is the origin certificate the region serves.
	Certificate *Certificate `json:"certificate,omitempty"`
	// Alerts are the alerts firing in the region's Alertmanager.
	Alerts *Alerts `json:"alerts,omitempty"`
	// Database is the Atlas cluster's layout and backups.
	Database *Database `json:"database,omitempty"`
	// LoadBalancer is the Cloudflare load balancer's pool order.
	LoadBalancer *LoadBalancer `json:"load_balancer,omitempty"`
	// Pool is one region's Cloudflare origin pool.
	Pool *Pool `json:"pool,omitempty"`
}

// Pods counts a Deployment's pods against its autoscaler.
type Pods struct {
	Ready   int `json:"ready"`
	Desired int `json:"desired"`
	// HPAMin and HPAMax are the autoscaler's bounds (0 without one).
	HPAMin int `json:"hpa_min,omitempty"`
	HPAMax int `json:"hpa_max,omitempty"`
}

// Image is the image a workload runs and the one this nekoctl deploys.
type Image struct {
	Running  string `json:"running"`
	Expected string `json:"expected"`
	Matches  bool   `json:"matches"`
}

// Certificate is a served certificate's identity and validity, read from
// the certificate alone (never from its key).
type Certificate struct {
	Subject  string    `json:"subject"`
	Issuer   string    `json:"issuer"`
	NotAfter time.Time `json:"not_after"`
	DaysLeft int       `json:"days_left"`
}

// Alerts are the active alerts of an Alertmanager.
type Alerts struct {
	Firing int      `json:"firing"`
	Names  []string `json:"names,omitempty"`
}

// Database is a replica set's primary and backup state.
type Database struct {
	// PrimaryRegion is the spec's region holding the highest election
	// priority ("" when no spec region matches); PrimaryAtlasRegion is the
	// provider region key ("AWS/US_EAST_1").
	PrimaryRegion      string `json:"primary_region"`
	PrimaryAtlasRegion string `json:"primary_atlas_region"`
	BackupEnabled      bool   `json:"backup_enabled"`
	PITREnabled        bool   `json:"pitr_enabled"`
	// RestoreWindowDays is how far back point-in-time recovery reaches (0
	// when unknown).
	RestoreWindowDays int `json:"restore_window_days,omitempty"`
	// LastSnapshot is when the newest completed snapshot was taken (nil
	// when there is none).
	LastSnapshot *time.Time `json:"last_snapshot,omitempty"`
}

// LoadBalancer is a load balancer's pools, named by region.
type LoadBalancer struct {
	Enabled      bool     `json:"enabled"`
	DefaultPools []string `json:"default_pools"`
	FallbackPool string   `json:"fallback_pool"`
}

// Pool is an origin pool's health as the checking locations report it.
type Pool struct {
	Enabled bool `json:"enabled"`
	// HealthyLocations of Locations report the pool healthy; Failing names
	// the others.
	HealthyLocations int      `json:"healthy_locations"`
	Locations        int      `json:"locations"`
	Failing          []string `json:"failing,omitempty"`
}
