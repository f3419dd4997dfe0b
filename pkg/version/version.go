// Package version identifies this build; the release stamps it with -ldflags.
package version

import "runtime/debug"

// Set by the release: -X github.com/neko-defense/nekoctl/pkg/version.Version=...
var (
	Version         = "dev"
	Commit          = ""
	Date            = ""
	ImageRepository = "neko-defense/nekoctl"
)

// Image is the workload image that `up` deploys by default: the one built
// from this very binary, so CLI and API server versions always match.
func Image() string {
	tag := Version
	if tag == "dev" || tag == "" {
		tag = "latest"
	}
	return ImageRepository + ":" + tag
}

// CommitOrVCS returns the stamped commit or the one Go recorded at build time.
func CommitOrVCS() string {
	if Commit != "" {
		return Commit
	}
	if info, ok := debug.ReadBuildInfo(); ok {
		for _, s := range info.Settings {
			if s.Key == "vcs.revision" {
				return s.Value
			}
		}
	}
	return "unknown"
}
