package spec

import (
	"os"
	"strings"
	"testing"

	"github.com/neko-defense/nekoctl/pkg/version"
)

const testDigest = "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"

func TestImagePullPolicyMatchesTheReference(t *testing.T) {
	for ref, want := range map[string]string{
		"neko-defense/nekoctl:1.4.0":                       "IfNotPresent",
		"neko-defense/nekoctl:v1.4.0-rc.1":                 "IfNotPresent",
		"neko-defense/nekoctl@" + testDigest:               "IfNotPresent",
		"neko-defense/nekoctl:latest@" + testDigest:        "IfNotPresent",
		"neko-defense/nekoctl:latest":                      "Always",
		"neko-defense/nekoctl":                             "Always",
		"neko-defense/nekoctl:1.4":                         "Always",
		"neko-defense/nekoctl:main":                        "Always",
		"registry.example:5000/neko-defense/nekoctl":       "Always",
		"registry.example:5000/neko-defense/nekoctl:2.0.0": "IfNotPresent",
	} {
		if got := ImagePullPolicy(ref); got != want {
			t.Errorf("ImagePullPolicy(%q) = %s, want %s", ref, got, want)
		}
	}
}

// guideWithImage loads the guide's stack with workload.image set to ref,
// or left to its default when ref is empty.
func guideWithImage(t *testing.T, ref string) *Loaded {
	t.Helper()
	src, err := os.ReadFile("../../examples/global.yaml")
	if err != nil {
		t.Fatal(err)
	}
	text := string(src)
	if ref != "" {
		text = strings.Replace(text, "  workload:\n", "  workload:\n    image: "+ref+"\n", 1)
	}
	l, err := Parse("nekoctl.yaml", []byte(text))
	if err != nil {
		t.Fatal(err)
	}
	return l
}

func imageWarning(l *Loaded) string {
	for _, d := range l.Diagnostics.Warnings() {
		if d.Path == "spec.workload.image" {
			return d.Message
		}
	}
	return ""
}

func TestValidateWarnsAboutImagesThatCanMove(t *testing.T) {
	for ref, want := range map[string]string{
		"neko-defense/nekoctl:latest":                `names the moving tag "latest"`,
		"registry.example:5000/neko-defense/nekoctl": `names the moving tag "latest"`,
		"neko-defense/nekoctl:1.4.0":                 "has a tag but no digest",
		"neko-defense/nekoctl:1.4.0@" + testDigest:   "",
		"neko-defense/nekoctl@" + testDigest:         "",
	} {
		t.Run(ref, func(t *testing.T) {
			l := guideWithImage(t, ref)
			got := imageWarning(l)
			if (want == "") != (got == "") || !strings.Contains(got, want) {
				t.Errorf("warning %q, want one containing %q", got, want)
			}
			if err := l.CheckDeployableImage(); err != nil {
				t.Errorf("an image the spec names is the user's choice, yet: %v", err)
			}
		})
	}
}

func TestASourceBuildRefusesToDeployItsMovingDefault(t *testing.T) {
	if version.ImagePinned() {
		t.Skip("this test binary carries a release version")
	}
	l := guideWithImage(t, "")
	if got := imageWarning(l); !strings.Contains(got, "no release version") || !strings.Contains(got, "neko-defense/nekoctl:latest") {
		t.Errorf("validate warning %q", got)
	}
	err := l.CheckDeployableImage()
	if err == nil || !strings.Contains(err.Error(), "set spec.workload.image") || !strings.Contains(err.Error(), "moving tag") {
		t.Fatalf("want a refusal naming spec.workload.image, got %v", err)
	}
}

func TestAReleaseBuildDeploysItsOwnVersion(t *testing.T) {
	old := version.Version
	t.Cleanup(func() { version.Version = old })
	version.Version = "1.4.0"
	l := guideWithImage(t, "")
	if got := l.Stack.Spec.Workload.Image; got != "neko-defense/nekoctl:1.4.0" {
		t.Errorf("default image %q", got)
	}
	if got := imageWarning(l); got != "" {
		t.Errorf("a release's own image is warned about: %q", got)
	}
	if err := l.CheckDeployableImage(); err != nil {
		t.Errorf("a release build refuses its own image: %v", err)
	}
}
