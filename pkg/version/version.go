// Package version identifies this build; the release stamps it with -ldflags.
package version

import (
	"regexp"
	"runtime/debug"
	"strings"
)

// Set by the release: -X github.com/neko-defense/nekoctl/pkg/version.Version=...
var (
	Version         = "dev"
	Commit          = ""
	Date            = ""
	ImageRepository = "neko-defense/nekoctl"
	// ImageDigest is the digest of the image the release pushed for Version
	// ("sha256:..."), when the release records one.
	ImageDigest = ""
)

// readBuildInfo is debug.ReadBuildInfo; tests replace it.
var readBuildInfo = debug.ReadBuildInfo

// pseudoVersionRE matches Go's pseudo-versions (v0.0.0-20261129173855-aaba61e0f6c1),
// which name a commit, not a release with an image.
var pseudoVersionRE = regexp.MustCompile(`\d{14}-[0-9a-f]{12}$`)

// Release is this build's release version ("1.4.0"): the one the release
// stamped, or the module version Go records for `go install ...@v1.4.0`.
// It is "" for a source checkout, a pseudo-version or a modified tree:
// those have no released image of their own.
func Release() string {
	if Version != "dev" && Version != "" {
		return Version
	}
	info, ok := readBuildInfo()
	if !ok {
		return ""
	}
	v := info.Main.Version
	if !strings.HasPrefix(v, "v") || strings.Contains(v, "+") || pseudoVersionRE.MatchString(v) {
		return "" // "(devel)", "", "+dirty" and pseudo-versions
	}
	return strings.TrimPrefix(v, "v") // release image tags carry no "v"
}

// Image is the workload image `up` deploys by default: the one built from
// this very binary, so CLI and API server versions always match. A build
// without a release version can only name the moving "latest" tag, which
// ImagePinned reports and plan and up refuse.
func Image() string {
	r := Release()
	if r == "" {
		return ImageRepository + ":latest"
	}
	ref := ImageRepository + ":" + r
	if ImageDigest != "" && r == Version {
		ref += "@" + ImageDigest
	}
	return ref
}

// ImagePinned reports whether Image names an immutable image: a release
// version tag (never pushed twice), with its digest when recorded.
func ImagePinned() bool { return Release() != "" }

// CommitOrVCS returns the stamped commit or the one Go recorded at build time.
func CommitOrVCS() string {
	if Commit != "" {
		return Commit
	}
	if info, ok := readBuildInfo(); ok {
		for _, s := range info.Settings {
			if s.Key == "vcs.revision" {
				return s.Value
			}
		}
	}
	return "unknown"
}
