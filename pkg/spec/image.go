package spec

import (
	"cmp"
	"fmt"
	"regexp"
	"strings"

	"github.com/neko-defense/nekoctl/pkg/version"
)

const imagePath = "spec.workload.image"

// versionTagRE matches release version tags (1.4.0, v1.4.0-rc.1), which a
// release never pushes twice; any other tag may move.
var versionTagRE = regexp.MustCompile(`^v?\d+\.\d+\.\d+([-+][0-9A-Za-z.-]+)?$`)

// splitImage returns the tag and digest of an image reference; a port in
// the registry host is not a tag.
func splitImage(ref string) (tag, digest string) {
	if i := strings.Index(ref, "@"); i >= 0 {
		ref, digest = ref[:i], ref[i+1:]
	}
	if i := strings.LastIndex(ref, ":"); i > strings.LastIndex(ref, "/") {
		tag = ref[i+1:]
	}
	return tag, digest
}

// ImagePullPolicy is the pull policy that matches an image reference:
// IfNotPresent for a digest or a release version tag, which name one image
// for ever; Always for a moving tag, so every rollout gets what it names.
func ImagePullPolicy(ref string) string {
	tag, digest := splitImage(ref)
	if digest != "" || versionTagRE.MatchString(tag) {
		return "IfNotPresent"
	}
	return "Always"
}

// ImageIsDefault reports whether the file leaves spec.workload.image to nekoctl.
func (l *Loaded) ImageIsDefault() bool {
	_, set := l.Positions[imagePath]
	return !set
}

// CheckDeployableImage refuses, before anything remote is touched, to
// deploy the moving tag that a build without a release version defaults
// to. An image the spec names is the user's choice (validate warns about it).
func (l *Loaded) CheckDeployableImage() error {
	if !l.ImageIsDefault() || version.ImagePinned() {
		return nil
	}
	return fmt.Errorf("%s: this nekoctl has no release version (a source build), so its default workload image %s is a moving tag: "+
		"set %s to an immutable reference (repository:version@sha256:digest) or use a release of nekoctl",
		l.Stack.File, l.Stack.Spec.Workload.Image, imagePath)
}

// image warns about references that do not name one image for ever.
func (v *validator) image() {
	ref := v.st.Spec.Workload.Image
	if _, set := v.pos[imagePath]; !set {
		if !version.ImagePinned() {
			v.warnf(imagePath, "this nekoctl has no release version, so the default image %s is a moving tag that plan and up refuse to deploy: set workload.image to repository:version@sha256:digest", ref)
		}
		return
	}
	tag, digest := splitImage(ref)
	switch {
	case digest != "":
	case tag == "" || tag == "latest":
		v.warnf(imagePath, "%q names the moving tag %q: every pull may deploy a different image; pin a version tag with its digest (@sha256:...)", ref, cmp.Or(tag, "latest"))
	default:
		v.warnf(imagePath, "%q has a tag but no digest: a tag can be pushed again; add @sha256:... to deploy one image for ever", ref)
	}
}
