package kubernetes

import (
	"sync"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/discovery"
	"k8s.io/client-go/restmapper"
)

// groupMapper maps kinds to resources with the discovery documents of
// their API group alone. A region's run needs half a dozen of the dozens
// of groups a cluster serves; reading and keeping them all was most of
// what a plan of thirty regions allocated. Each group is read once (from
// the disk cache when it is fresh) and mapped by client-go's mapper.
type groupMapper struct {
	dc discovery.CachedDiscoveryInterface

	mu      sync.Mutex
	groups  map[string]metav1.APIGroup // nil until the group list is read
	mappers map[string]meta.RESTMapper
}

func newGroupMapper(dc discovery.CachedDiscoveryInterface) *groupMapper {
	return &groupMapper{dc: dc}
}

// RESTMapping is meta.RESTMapper's: a kind no group serves is a
// meta.NoKindMatchError. A miss on what a previous run cached is looked up
// again from the server (a CRD may have been installed since).
func (m *groupMapper) RESTMapping(gk schema.GroupKind, versions ...string) (*meta.RESTMapping, error) {
	mapping, err := m.mapping(gk, versions)
	if meta.IsNoMatchError(err) && !m.dc.Fresh() {
		m.Reset()
		mapping, err = m.mapping(gk, versions)
	}
	return mapping, err
}

func (m *groupMapper) mapping(gk schema.GroupKind, versions []string) (*meta.RESTMapping, error) {
	rm, err := m.group(gk.Group)
	if err != nil {
		return nil, err
	}
	return rm.RESTMapping(gk, versions...)
}

// Reset forgets what was discovered, in memory and on disk.
func (m *groupMapper) Reset() {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.dc.Invalidate()
	m.groups, m.mappers = nil, nil
}

func (m *groupMapper) group(name string) (meta.RESTMapper, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if rm, ok := m.mappers[name]; ok {
		return rm, nil
	}
	if m.groups == nil {
		list, err := m.dc.ServerGroups()
		if err != nil {
			return nil, err
		}
		m.groups = make(map[string]metav1.APIGroup, len(list.Groups))
		for _, g := range list.Groups {
			m.groups[g.Name] = g
		}
		m.mappers = map[string]meta.RESTMapper{}
	}
	var found []*restmapper.APIGroupResources
	if g, ok := m.groups[name]; ok {
		res := &restmapper.APIGroupResources{Group: g, VersionedResources: map[string][]metav1.APIResource{}}
		for _, v := range g.Versions {
			l, err := m.dc.ServerResourcesForGroupVersion(v.GroupVersion)
			switch {
			case apierrors.IsNotFound(err): // a version going away; the others map
				continue
			case err != nil:
				return nil, err
			}
			res.VersionedResources[v.Version] = l.APIResources
		}
		found = append(found, res)
	}
	rm := restmapper.NewDiscoveryRESTMapper(found)
	m.mappers[name] = rm
	return rm, nil
}
