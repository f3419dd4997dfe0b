// Package templates embeds the Kubernetes objects nekoctl deploys in every
// region (Go text/templates producing YAML); the dashboard and the alert
// rules they carry are Go values (pkg/monitoring). pkg/providers/kubernetes
// renders them; see docs/kubernetes.md.
package templates

import "embed"

// FS holds kubernetes/*.yaml (one or more objects per file, rendered with
// text/template).
//
//go:embed kubernetes/*.yaml
var FS embed.FS
