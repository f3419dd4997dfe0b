package cloudflare

import "github.com/neko-defense/nekoctl/internal/idcache"

// The zone's id is remembered on disk between runs (Config.CacheDir), so
// that a plan reads the zone by id together with everything in it: one
// round of requests instead of two. The id is only a guess: Read keeps what
// it read with it only when the zone it names is still the spec's zone in
// the spec's account, and looks the zone up by name otherwise.

// zoneCacheFile is one file per endpoint, account and zone name.
func (p *Provider) zoneCacheFile() string {
	return idcache.File(p.cfg.CacheDir, "zones", p.cfg.Endpoint, p.cf.AccountID, p.cf.Zone)
}

// rememberedZoneID is the id a previous run found for the spec's zone, or
// "" (none, or this run already knows it).
func (p *Provider) rememberedZoneID() string {
	p.mu.Lock()
	known := p.state.zoneID != ""
	p.mu.Unlock()
	if known {
		return ""
	}
	return idcache.Load(p.zoneCacheFile())
}

func (p *Provider) rememberZoneID(id string) { idcache.Store(p.zoneCacheFile(), id) }
