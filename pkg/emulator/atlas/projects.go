package atlas

import (
	"fmt"
	"net/http"
	"time"
)

// Project is the Group document.
type Project struct {
	ClusterCount int    `json:"clusterCount"`
	Created      string `json:"created"`
	ID           string `json:"id"`
	Links        []any  `json:"links"`
	Name         string `json:"name"`
	OrgID        string `json:"orgId"`
	Tags         []Tag  `json:"tags"`
}

type project struct {
	Project
	clusters map[string]*cluster
	users    map[string]*User // by databaseName/username
	access   map[string]*AccessEntry
	alerts   []*AlertConfig
	// retained holds the snapshots of clusters deleted with retainBackups.
	retained map[string][]Snapshot
}

// SeedProject creates a project directly and returns its id.
func (s *Server) SeedProject(name, orgID string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if orgID == "" {
		orgID = s.opts.OrgIDs[0]
	}
	return s.addProject(name, orgID, nil).ID
}

// AddOrg makes an organization exist, so projects can be created in it.
func (s *Server) AddOrg(id string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.orgs[id] = true
}

// ProjectID returns the id of the named project.
func (s *Server) ProjectID(name string) (string, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	p := s.byName(name)
	if p == nil {
		return "", false
	}
	return p.ID, true
}

func (s *Server) addProject(name, orgID string, tags []Tag) *project {
	if tags == nil {
		tags = []Tag{}
	}
	p := &project{Project: Project{Created: s.now().UTC().Format(time.RFC3339), ID: s.newID(), Links: []any{},
		Name: name, OrgID: orgID, Tags: tags},
		clusters: map[string]*cluster{}, users: map[string]*User{}, access: map[string]*AccessEntry{},
		retained: map[string][]Snapshot{}}
	s.projects[p.ID] = p
	return p
}

func (s *Server) byName(name string) *project {
	for _, p := range s.projects {
		if p.Name == name {
			return p
		}
	}
	return nil
}

// project finds the request's {groupId}.
func (s *Server) project(r *http.Request) (*project, int, any) {
	id := r.PathValue("groupId")
	p := s.projects[id]
	if p == nil {
		st, body := notFound("GROUP_NOT_FOUND", fmt.Sprintf("No group with ID %s exists.", id), id)
		return nil, st, body
	}
	return p, 0, nil
}

func (s *Server) view(p *project) Project {
	v := p.Project
	v.ClusterCount = len(p.clusters)
	return v
}

func (s *Server) createProject(_ http.ResponseWriter, r *http.Request) (int, any) {
	var req struct {
		Name  string `json:"name"`
		OrgID string `json:"orgId"`
		Tags  []Tag  `json:"tags"`
	}
	if err := decode(r, &req); err != nil {
		return invalidJSON(err)
	}
	if req.Name == "" || len(req.Name) > 64 {
		return badRequest("INVALID_ATTRIBUTE", "Invalid attribute name specified.", "name")
	}
	if !s.orgs[req.OrgID] {
		return notFound("ORG_NOT_FOUND", fmt.Sprintf("No organization with ID %s exists.", req.OrgID), req.OrgID)
	}
	if s.byName(req.Name) != nil {
		return conflict("GROUP_ALREADY_EXISTS", fmt.Sprintf("A group with name %q already exists.", req.Name), req.Name)
	}
	return http.StatusOK, s.view(s.addProject(req.Name, req.OrgID, req.Tags))
}

func (s *Server) getProject(_ http.ResponseWriter, r *http.Request) (int, any) {
	p, st, body := s.project(r)
	if p == nil {
		return st, body
	}
	return http.StatusOK, s.view(p)
}

func (s *Server) getProjectByName(_ http.ResponseWriter, r *http.Request) (int, any) {
	name := r.PathValue("groupName")
	p := s.byName(name)
	if p == nil {
		return notFound("GROUP_NAME_NOT_FOUND", fmt.Sprintf("No group with name %s exists.", name), name)
	}
	return http.StatusOK, s.view(p)
}

func (s *Server) updateProject(_ http.ResponseWriter, r *http.Request) (int, any) {
	p, st, body := s.project(r)
	if p == nil {
		return st, body
	}
	var req struct {
		Name *string `json:"name"`
		Tags *[]Tag  `json:"tags"`
	}
	if err := decode(r, &req); err != nil {
		return invalidJSON(err)
	}
	if req.Name != nil && *req.Name != p.Name {
		if s.byName(*req.Name) != nil {
			return conflict("GROUP_ALREADY_EXISTS", "A group with that name already exists.", *req.Name)
		}
		p.Name = *req.Name
	}
	if req.Tags != nil {
		p.Tags = *req.Tags
	}
	return http.StatusOK, s.view(p)
}

func (s *Server) deleteProject(_ http.ResponseWriter, r *http.Request) (int, any) {
	p, st, body := s.project(r)
	if p == nil {
		return st, body
	}
	if len(p.clusters) > 0 {
		return conflict("CANNOT_CLOSE_GROUP_ACTIVE_ATLAS_CLUSTERS",
			"Cannot close group while it has active clusters. Terminate all clusters first.")
	}
	if len(p.retained) > 0 {
		return badRequest("VALIDATION_ERROR", "Cannot close group while it holds retained backup snapshots. Delete them first.")
	}
	delete(s.projects, p.ID)
	return http.StatusNoContent, nil
}
