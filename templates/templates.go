// Package templates embeds the Kubernetes objects nekoctl deploys in every
// region (Go text/templates producing YAML) and the Grafana dashboards.
// pkg/providers/kubernetes renders them; see docs/kubernetes.md.
package templates

import "embed"

// FS holds kubernetes/*.yaml (one or more objects per file, rendered with
// text/template) and dashboards/*.json.
//
//go:embed kubernetes/*.yaml dashboards/*.json
var FS embed.FS
