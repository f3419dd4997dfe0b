package atlas

import "github.com/neko-defense/nekoctl/internal/idcache"

// The project's id is remembered on disk between runs (Config.CacheDir),
// so that a plan reads the project by id together with everything in it:
// one round of requests instead of two. The id is only a guess: Read keeps
// what it read with it only when the project it names still has the spec's
// name and organization, and reads by name otherwise, like without a cache.

// projectCacheFile is one file per Atlas endpoint, organization and
// project name.
func (p *Provider) projectCacheFile() string {
	a := p.atlas()
	return idcache.File(p.cfg.CacheDir, "projects", a.BaseURL, a.OrgID, a.Project)
}

// cachedProjectID is the id remembered for the spec's project, or "".
func (p *Provider) cachedProjectID() string { return idcache.Load(p.projectCacheFile()) }

// rememberProjectID records id ("" forgets it).
func (p *Provider) rememberProjectID(id string) { idcache.Store(p.projectCacheFile(), id) }
