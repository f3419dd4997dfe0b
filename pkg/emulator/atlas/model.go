package atlas

import "time"

// HWSpec is a node type's hardware (electableSpecs, readOnlySpecs, analyticsSpecs).
type HWSpec struct {
	InstanceSize  string   `json:"instanceSize,omitempty"`
	NodeCount     *int     `json:"nodeCount,omitempty"`
	DiskSizeGB    *float64 `json:"diskSizeGB,omitempty"`
	DiskIOPS      *int     `json:"diskIOPS,omitempty"`
	EbsVolumeType string   `json:"ebsVolumeType,omitempty"`
}

func (h *HWSpec) count() int {
	if h == nil || h.NodeCount == nil {
		return 0
	}
	return *h.NodeCount
}

// AutoScaling is a region's compute and disk autoscaling.
type AutoScaling struct {
	Compute *ComputeAutoScaling `json:"compute,omitempty"`
	DiskGB  *DiskAutoScaling    `json:"diskGB,omitempty"`
}

type ComputeAutoScaling struct {
	Enabled          *bool  `json:"enabled,omitempty"`
	ScaleDownEnabled *bool  `json:"scaleDownEnabled,omitempty"`
	MinInstanceSize  string `json:"minInstanceSize,omitempty"`
	MaxInstanceSize  string `json:"maxInstanceSize,omitempty"`
}

type DiskAutoScaling struct {
	Enabled *bool `json:"enabled,omitempty"`
}

// RegionConfig is one (provider, region) of a replication spec.
type RegionConfig struct {
	ProviderName            string       `json:"providerName"`
	RegionName              string       `json:"regionName"`
	Priority                *int         `json:"priority,omitempty"`
	ElectableSpecs          *HWSpec      `json:"electableSpecs,omitempty"`
	ReadOnlySpecs           *HWSpec      `json:"readOnlySpecs,omitempty"`
	AnalyticsSpecs          *HWSpec      `json:"analyticsSpecs,omitempty"`
	AutoScaling             *AutoScaling `json:"autoScaling,omitempty"`
	AnalyticsAutoScaling    *AutoScaling `json:"analyticsAutoScaling,omitempty"`
	EffectiveElectableSpecs *HWSpec      `json:"effectiveElectableSpecs,omitempty"`
	EffectiveReadOnlySpecs  *HWSpec      `json:"effectiveReadOnlySpecs,omitempty"`
	EffectiveAnalyticsSpec  *HWSpec      `json:"effectiveAnalyticsSpecs,omitempty"`
}

// ReplicationSpec is one shard (one for a replica set).
type ReplicationSpec struct {
	ID            string         `json:"id,omitempty"`
	ZoneID        string         `json:"zoneId,omitempty"`
	ZoneName      string         `json:"zoneName,omitempty"`
	RegionConfigs []RegionConfig `json:"regionConfigs"`
}

// Tag is a resource tag.
type Tag struct {
	Key   string `json:"key"`
	Value string `json:"value"`
}

// ConnectionStrings carry hosts only: no credentials, no options.
type ConnectionStrings struct {
	Standard    string `json:"standard,omitempty"`
	StandardSrv string `json:"standardSrv,omitempty"`
}

// Cluster is the ClusterDescription20240805 document, request and response.
type Cluster struct {
	ID                           string             `json:"id,omitempty"`
	GroupID                      string             `json:"groupId,omitempty"`
	Name                         string             `json:"name,omitempty"`
	ClusterType                  string             `json:"clusterType,omitempty"`
	BackupEnabled                *bool              `json:"backupEnabled,omitempty"`
	PitEnabled                   *bool              `json:"pitEnabled,omitempty"`
	Paused                       *bool              `json:"paused,omitempty"`
	TerminationProtectionEnabled *bool              `json:"terminationProtectionEnabled,omitempty"`
	MongoDBMajorVersion          string             `json:"mongoDBMajorVersion,omitempty"`
	MongoDBVersion               string             `json:"mongoDBVersion,omitempty"`
	VersionReleaseSystem         string             `json:"versionReleaseSystem,omitempty"`
	ReplicationSpecs             *[]ReplicationSpec `json:"replicationSpecs,omitempty"`
	Tags                         *[]Tag             `json:"tags,omitempty"`
	StateName                    string             `json:"stateName,omitempty"`
	ConnectionStrings            *ConnectionStrings `json:"connectionStrings,omitempty"`
	CreateDate                   string             `json:"createDate,omitempty"`
	Links                        []any              `json:"links,omitempty"`
}

type cluster struct {
	doc      Cluster
	until    time.Time
	schedule *Schedule
	// snapshots are the cluster's backups, newest last; restores its jobs.
	snapshots []Snapshot
	restores  []*RestoreJob
	// primaryRestarts counts failover tests started.
	primaryRestarts int
	// primary is the region key ("AWS/US_EAST_1") whose node is primary.
	// It moves only when a reconfiguration or failover test completes, as
	// an election does, not when the priorities are sent.
	primary string
}
