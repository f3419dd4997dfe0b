package atlas

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"os"
	"path/filepath"
)

// The project's id is remembered on disk between runs (Config.CacheDir),
// so that a plan reads the project by id together with everything in it:
// one round of requests instead of two. The id is only a guess: Read keeps
// what it read with it only when the project it names still has the spec's
// name and organization, and reads by name otherwise, like without a cache.

type projectCacheEntry struct {
	ID string `json:"id"`
}

// projectCacheFile is one file per Atlas endpoint, organization and
// project name.
func (p *Provider) projectCacheFile() string {
	if p.cfg.CacheDir == "" {
		return ""
	}
	a := p.atlas()
	sum := sha256.Sum256([]byte(a.BaseURL + "\x00" + a.OrgID + "\x00" + a.Project))
	return filepath.Join(p.cfg.CacheDir, "projects", hex.EncodeToString(sum[:12])+".json")
}

// cachedProjectID is the id remembered for the spec's project, or "".
func (p *Provider) cachedProjectID() string {
	f := p.projectCacheFile()
	if f == "" {
		return ""
	}
	b, err := os.ReadFile(f)
	if err != nil {
		return ""
	}
	var e projectCacheEntry
	if json.Unmarshal(b, &e) != nil {
		return ""
	}
	return e.ID
}

// rememberProjectID records id ("" forgets it). A cache that cannot be
// written only costs the next plan a round trip, so errors are ignored.
func (p *Provider) rememberProjectID(id string) {
	f := p.projectCacheFile()
	if f == "" || p.cachedProjectID() == id {
		return
	}
	if id == "" {
		_ = os.Remove(f)
		return
	}
	if err := os.MkdirAll(filepath.Dir(f), 0o700); err != nil {
		return
	}
	b, _ := json.Marshal(projectCacheEntry{ID: id})
	tmp, err := os.CreateTemp(filepath.Dir(f), ".project-*")
	if err != nil {
		return
	}
	_, werr := tmp.Write(b)
	cerr := tmp.Close()
	if werr != nil || cerr != nil || os.Rename(tmp.Name(), f) != nil {
		_ = os.Remove(tmp.Name())
	}
}
