package version

import (
	"runtime/debug"
	"testing"
)

// withBuild sets the stamped version and the module version Go records,
// restoring both after the test.
func withBuild(t *testing.T, stamped, module, digest string) {
	t.Helper()
	oldVersion, oldDigest, oldRead := Version, ImageDigest, readBuildInfo
	t.Cleanup(func() { Version, ImageDigest, readBuildInfo = oldVersion, oldDigest, oldRead })
	Version, ImageDigest = stamped, digest
	readBuildInfo = func() (*debug.BuildInfo, bool) {
		return &debug.BuildInfo{Main: debug.Module{Path: "github.com/neko-defense/nekoctl", Version: module}}, true
	}
}

const digest = "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"

func TestImageIsPinnedOnlyForReleases(t *testing.T) {
	for _, tc := range []struct {
		name, stamped, module, digest string
		image                         string
		pinned                        bool
	}{
		{"release build", "1.4.0", "(devel)", "", "neko-defense/nekoctl:1.4.0", true},
		{"release build with digest", "1.4.0", "(devel)", digest, "neko-defense/nekoctl:1.4.0@" + digest, true},
		{"go install at a version", "dev", "v1.4.0", "", "neko-defense/nekoctl:1.4.0", true},
		{"go install at a prerelease", "dev", "v1.5.0-rc.1", "", "neko-defense/nekoctl:1.5.0-rc.1", true},
		{"digest belongs to the stamped version only", "dev", "v1.4.0", digest, "neko-defense/nekoctl:1.4.0", true},
		{"source checkout", "dev", "(devel)", "", "neko-defense/nekoctl:latest", false},
		{"no build info version", "", "", "", "neko-defense/nekoctl:latest", false},
		{"pseudo-version", "dev", "v0.0.0-20261129173855-aaba61e0f6c1", "", "neko-defense/nekoctl:latest", false},
		{"pseudo-version after a tag", "dev", "v1.4.1-0.20261129173855-aaba61e0f6c1", "", "neko-defense/nekoctl:latest", false},
		{"modified tree", "dev", "v1.4.0+dirty", "", "neko-defense/nekoctl:latest", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			withBuild(t, tc.stamped, tc.module, tc.digest)
			if got := Image(); got != tc.image {
				t.Errorf("Image() = %q, want %q", got, tc.image)
			}
			if got := ImagePinned(); got != tc.pinned {
				t.Errorf("ImagePinned() = %v, want %v", got, tc.pinned)
			}
		})
	}
}
