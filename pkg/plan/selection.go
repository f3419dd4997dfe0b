package plan

import (
	"fmt"
	"regexp"
	"strings"
)

// Selection is what a partial run was limited to (`--region`, `--target`,
// `--exclude`). A plan with a selection holds only the selected changes and
// the changes they need; every other change, deletes included, is left out.
type Selection struct {
	Regions  []string `json:"regions,omitempty"`
	Targets  []string `json:"targets,omitempty"`
	Excludes []string `json:"excludes,omitempty"`
}

// Empty reports whether nothing narrows the run.
func (s Selection) Empty() bool {
	return len(s.Regions) == 0 && len(s.Targets) == 0 && len(s.Excludes) == 0
}

// String spells the selection as the flags that made it.
func (s Selection) String() string {
	var parts []string
	for _, r := range s.Regions {
		parts = append(parts, "--region "+r)
	}
	for _, t := range s.Targets {
		parts = append(parts, "--target "+t)
	}
	for _, x := range s.Excludes {
		parts = append(parts, "--exclude "+x)
	}
	return strings.Join(parts, " ")
}

// Short is the dotted form of an address, `provider.location.Kind.name`,
// where location is the region for regional resources and the scope
// otherwise: kubernetes.us-east.Deployment.neko-defense/neko-api,
// cloudflare.account/0123.pool.us-east.
func (a Address) Short() string {
	loc := a.Scope
	if a.Region != "" {
		loc = a.Region
	}
	return a.Provider + "." + loc + "." + a.Kind + "." + a.Name
}

// Pattern selects addresses (see ParsePattern).
type Pattern struct {
	text string
	re   *regexp.Regexp
}

// ParsePattern reads an address pattern. It matches an address written in
// full as the plan prints it (kubernetes[region/us-east].Deployment["neko-defense/neko-api"])
// or in its short form (Address.Short), compared without regard to case;
// `*` matches any run of characters, and a pattern that stops at the end of
// a part selects everything under it: `kubernetes.us-east.Deployment`,
// `kubernetes[region/us-east]`, `cloudflare.*.pool`, `atlas`.
func ParsePattern(s string) (Pattern, error) {
	if strings.TrimSpace(s) == "" {
		return Pattern{}, fmt.Errorf("an empty address pattern selects nothing")
	}
	quoted := strings.ReplaceAll(regexp.QuoteMeta(s), `\*`, `.*`)
	re, err := regexp.Compile(`(?is)^` + quoted + `$`)
	if err != nil {
		return Pattern{}, fmt.Errorf("address pattern %q: %w", s, err)
	}
	return Pattern{text: s, re: re}, nil
}

func (p Pattern) String() string { return p.text }

// Match reports whether the pattern selects a.
func (p Pattern) Match(a Address) bool {
	return p.matchPrefix(a.String()) || p.matchPrefix(a.Short())
}

// matchPrefix matches s whole or cut at the end of one of its parts (before
// a '.' or a '[').
func (p Pattern) matchPrefix(s string) bool {
	if p.re.MatchString(s) {
		return true
	}
	for i := 1; i < len(s); i++ {
		if (s[i] == '.' || s[i] == '[') && p.re.MatchString(s[:i]) {
			return true
		}
	}
	return false
}
