package atlas

import (
	"fmt"
	"net"
	"net/http"
	"sort"
	"strings"
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
}

// User is the CloudDatabaseUser document (the password is never returned).
type User struct {
	DatabaseName string  `json:"databaseName"`
	GroupID      string  `json:"groupId"`
	Username     string  `json:"username"`
	Password     string  `json:"password,omitempty"`
	Roles        *[]Role `json:"roles,omitempty"`
	Scopes       []Scope `json:"scopes"`
	Description  string  `json:"description,omitempty"`
	Labels       []Tag   `json:"labels"`
	Links        []any   `json:"links"`
}

type Role struct {
	CollectionName string `json:"collectionName,omitempty"`
	DatabaseName   string `json:"databaseName"`
	RoleName       string `json:"roleName"`
}

type Scope struct {
	Name string `json:"name"`
	Type string `json:"type"`
}

// AccessEntry is a NetworkPermissionEntry.
type AccessEntry struct {
	AwsSecurityGroup string `json:"awsSecurityGroup,omitempty"`
	CidrBlock        string `json:"cidrBlock,omitempty"`
	IPAddress        string `json:"ipAddress,omitempty"`
	Comment          string `json:"comment,omitempty"`
	GroupID          string `json:"groupId,omitempty"`
	Links            []any  `json:"links,omitempty"`
}

// Schedule is the DiskBackupSnapshotSchedule20240805 document.
type Schedule struct {
	ClusterID             string   `json:"clusterId,omitempty"`
	ClusterName           string   `json:"clusterName,omitempty"`
	Policies              []Policy `json:"policies"`
	ReferenceHourOfDay    *int     `json:"referenceHourOfDay,omitempty"`
	ReferenceMinuteOfHour *int     `json:"referenceMinuteOfHour,omitempty"`
	RestoreWindowDays     *int     `json:"restoreWindowDays,omitempty"`
	AutoExportEnabled     *bool    `json:"autoExportEnabled,omitempty"`
	UseOrgAndGroupNames   *bool    `json:"useOrgAndGroupNamesInExportPrefix,omitempty"`
	Links                 []any    `json:"links,omitempty"`
}

type Policy struct {
	ID          string       `json:"id,omitempty"`
	PolicyItems []PolicyItem `json:"policyItems"`
}

type PolicyItem struct {
	FrequencyInterval int    `json:"frequencyInterval"`
	FrequencyType     string `json:"frequencyType"`
	ID                string `json:"id,omitempty"`
	RetentionUnit     string `json:"retentionUnit"`
	RetentionValue    int    `json:"retentionValue"`
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

// DatabaseUserPassword returns the password last set for a user, for tests
// that check what the client sent.
func (s *Server) DatabaseUserPassword(groupID, username string) (string, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if p := s.projects[groupID]; p != nil {
		if u := p.users["admin/"+username]; u != nil {
			return u.Password, true
		}
	}
	return "", false
}

// AccessEntries lists a project's access list values (CIDR blocks).
func (s *Server) AccessEntries(groupID string) []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []string
	if p := s.projects[groupID]; p != nil {
		for k := range p.access {
			out = append(out, k)
		}
	}
	sort.Strings(out)
	return out
}

// BackupSchedule returns a copy of a cluster's backup schedule.
func (s *Server) BackupSchedule(groupID, cluster string) (Schedule, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if p := s.projects[groupID]; p != nil && p.clusters[cluster] != nil && p.clusters[cluster].schedule != nil {
		sc := *p.clusters[cluster].schedule
		sc.Policies = []Policy{{ID: sc.Policies[0].ID, PolicyItems: append([]PolicyItem(nil), sc.Policies[0].PolicyItems...)}}
		return sc, true
	}
	return Schedule{}, false
}

func (s *Server) addProject(name, orgID string, tags []Tag) *project {
	if tags == nil {
		tags = []Tag{}
	}
	p := &project{Project: Project{Created: s.now().UTC().Format(time.RFC3339), ID: s.newID(), Links: []any{},
		Name: name, OrgID: orgID, Tags: tags},
		clusters: map[string]*cluster{}, users: map[string]*User{}, access: map[string]*AccessEntry{}}
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
	delete(s.projects, p.ID)
	return http.StatusNoContent, nil
}

// Backup schedule.

func (s *Server) defaultSchedule(c *Cluster) *Schedule {
	h, w := 6, 6
	two, zero := 2, 0
	return &Schedule{ClusterID: c.ID, ClusterName: c.Name, ReferenceHourOfDay: &h, ReferenceMinuteOfHour: &zero,
		RestoreWindowDays: &two, Links: []any{},
		Policies: []Policy{{ID: randomHex(12), PolicyItems: []PolicyItem{
			{FrequencyInterval: h, FrequencyType: "hourly", ID: randomHex(12), RetentionUnit: "days", RetentionValue: 2},
			{FrequencyInterval: 1, FrequencyType: "daily", ID: randomHex(12), RetentionUnit: "days", RetentionValue: 7},
			{FrequencyInterval: w, FrequencyType: "weekly", ID: randomHex(12), RetentionUnit: "weeks", RetentionValue: 4},
			{FrequencyInterval: 40, FrequencyType: "monthly", ID: randomHex(12), RetentionUnit: "months", RetentionValue: 12},
		}}}}
}

func (s *Server) getSchedule(_ http.ResponseWriter, r *http.Request) (int, any) {
	_, c, st, body := s.cluster(r)
	if c == nil {
		return st, body
	}
	if c.schedule == nil {
		return badRequest("BACKUP_CONFIG_NOT_FOUND", "Cloud backup is not enabled for this cluster.", c.doc.Name)
	}
	return http.StatusOK, c.schedule
}

func retentionDays(it PolicyItem) int {
	switch it.RetentionUnit {
	case "weeks":
		return it.RetentionValue * 7
	case "months":
		return it.RetentionValue * 30
	case "years":
		return it.RetentionValue * 365
	}
	return it.RetentionValue
}

func (s *Server) updateSchedule(_ http.ResponseWriter, r *http.Request) (int, any) {
	_, c, st, body := s.cluster(r)
	if c == nil {
		return st, body
	}
	if c.schedule == nil {
		return badRequest("BACKUP_CONFIG_NOT_FOUND", "Cloud backup is not enabled for this cluster.", c.doc.Name)
	}
	var req Schedule
	if err := decode(r, &req); err != nil {
		return invalidJSON(err)
	}
	next := *c.schedule
	if req.Policies != nil {
		if len(req.Policies) != 1 || req.Policies[0].ID != c.schedule.Policies[0].ID {
			return badRequest("INVALID_ATTRIBUTE", "Send back the schedule's one policy with its id.", "policies")
		}
		items := req.Policies[0].PolicyItems
		for i := range items {
			if items[i].ID == "" {
				items[i].ID = randomHex(12)
			}
			if items[i].RetentionValue <= 0 || items[i].FrequencyInterval <= 0 {
				return badRequest("INVALID_ATTRIBUTE", "Policy items need positive intervals and retention.", "policyItems")
			}
		}
		next.Policies = []Policy{{ID: c.schedule.Policies[0].ID, PolicyItems: items}}
	}
	for _, f := range []struct{ dst, src **int }{{&next.ReferenceHourOfDay, &req.ReferenceHourOfDay},
		{&next.ReferenceMinuteOfHour, &req.ReferenceMinuteOfHour}, {&next.RestoreWindowDays, &req.RestoreWindowDays}} {
		if *f.src != nil {
			*f.dst = *f.src
		}
	}
	if next.RestoreWindowDays != nil && on(c.doc.PitEnabled) {
		hourly := 0
		for _, it := range next.Policies[0].PolicyItems {
			if it.FrequencyType == "hourly" {
				hourly = retentionDays(it)
			}
		}
		if *next.RestoreWindowDays > hourly {
			return badRequest("INVALID_RESTORE_WINDOW",
				fmt.Sprintf("restoreWindowDays (%d) cannot exceed the hourly snapshot retention (%d days).", *next.RestoreWindowDays, hourly),
				*next.RestoreWindowDays, hourly)
		}
	}
	c.schedule = &next
	return http.StatusOK, c.schedule
}

// Database users.

func (s *Server) listUsers(_ http.ResponseWriter, r *http.Request) (int, any) {
	p, st, body := s.project(r)
	if p == nil {
		return st, body
	}
	var out []User
	for _, u := range p.users {
		out = append(out, public(u))
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Username < out[j].Username })
	return http.StatusOK, paginated(out)
}

func public(u *User) User {
	v := *u
	v.Password = ""
	return v
}

func (s *Server) checkUser(p *project, u *User) (int, any) {
	if u.Roles == nil || len(*u.Roles) == 0 {
		return badRequest("INVALID_ATTRIBUTE", "A database user needs at least one role.", "roles")
	}
	for _, sc := range u.Scopes {
		if sc.Type != "CLUSTER" && sc.Type != "DATA_LAKE" {
			return badRequest("INVALID_ATTRIBUTE", "Invalid scope type.", "scopes")
		}
		if sc.Type == "CLUSTER" && p.clusters[sc.Name] == nil {
			return badRequest("INVALID_ATTRIBUTE", fmt.Sprintf("Scope names cluster %s, which does not exist.", sc.Name), "scopes")
		}
	}
	return 0, nil
}

func (s *Server) createUser(_ http.ResponseWriter, r *http.Request) (int, any) {
	p, st, body := s.project(r)
	if p == nil {
		return st, body
	}
	var u User
	if err := decode(r, &u); err != nil {
		return invalidJSON(err)
	}
	if u.DatabaseName != "admin" {
		return badRequest("INVALID_ATTRIBUTE", "Password users authenticate against the admin database.", "databaseName")
	}
	if u.Username == "" {
		return badRequest("INVALID_ATTRIBUTE", "Invalid attribute username specified.", "username")
	}
	if len(u.Password) < 8 {
		return badRequest("DATABASE_USER_PASSWORD_TOO_SHORT", "The password must be at least 8 characters.")
	}
	if st, body := s.checkUser(p, &u); st != 0 {
		return st, body
	}
	if p.users["admin/"+u.Username] != nil {
		return conflict("USER_ALREADY_EXISTS", fmt.Sprintf("The specified user %s already exists.", u.Username), u.Username)
	}
	u.GroupID, u.Links = p.ID, []any{}
	if u.Scopes == nil {
		u.Scopes = []Scope{}
	}
	if u.Labels == nil {
		u.Labels = []Tag{}
	}
	p.users["admin/"+u.Username] = &u
	return http.StatusCreated, public(&u)
}

func (s *Server) user(r *http.Request) (*project, *User, int, any) {
	p, st, body := s.project(r)
	if p == nil {
		return nil, nil, st, body
	}
	db, name := r.PathValue("databaseName"), r.PathValue("username")
	u := p.users[db+"/"+name]
	if u == nil {
		st, body := notFound("USERNAME_NOT_FOUND", fmt.Sprintf("No user with username %s exists.", name), name)
		return p, nil, st, body
	}
	return p, u, 0, nil
}

func (s *Server) getUser(_ http.ResponseWriter, r *http.Request) (int, any) {
	_, u, st, body := s.user(r)
	if u == nil {
		return st, body
	}
	return http.StatusOK, public(u)
}

func (s *Server) updateUser(_ http.ResponseWriter, r *http.Request) (int, any) {
	p, u, st, body := s.user(r)
	if u == nil {
		return st, body
	}
	var req struct {
		User
		Scopes *[]Scope `json:"scopes"`
	}
	if err := decode(r, &req); err != nil {
		return invalidJSON(err)
	}
	next := *u
	next.Roles = req.Roles // Atlas replaces the roles; a PATCH without them is refused
	if req.Scopes != nil {
		next.Scopes = *req.Scopes
	}
	if req.Password != "" {
		if len(req.Password) < 8 {
			return badRequest("DATABASE_USER_PASSWORD_TOO_SHORT", "The password must be at least 8 characters.")
		}
		next.Password = req.Password
	}
	if req.Description != "" {
		next.Description = req.Description
	}
	if st, body := s.checkUser(p, &next); st != 0 {
		return st, body
	}
	*u = next
	return http.StatusOK, public(u)
}

func (s *Server) deleteUser(_ http.ResponseWriter, r *http.Request) (int, any) {
	p, u, st, body := s.user(r)
	if u == nil {
		return st, body
	}
	delete(p.users, u.DatabaseName+"/"+u.Username)
	return http.StatusNoContent, nil
}

// IP access list.

func (s *Server) accessList(p *project) []AccessEntry {
	keys := make([]string, 0, len(p.access))
	for k := range p.access {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	out := make([]AccessEntry, 0, len(keys))
	for _, k := range keys {
		out = append(out, *p.access[k])
	}
	return out
}

func (s *Server) listAccess(_ http.ResponseWriter, r *http.Request) (int, any) {
	p, st, body := s.project(r)
	if p == nil {
		return st, body
	}
	return http.StatusOK, paginated(s.accessList(p))
}

func (s *Server) createAccess(_ http.ResponseWriter, r *http.Request) (int, any) {
	p, st, body := s.project(r)
	if p == nil {
		return st, body
	}
	var req []AccessEntry
	if err := decode(r, &req); err != nil {
		return invalidJSON(err)
	}
	var add []AccessEntry
	for _, e := range req {
		n := 0
		for _, v := range []string{e.IPAddress, e.CidrBlock, e.AwsSecurityGroup} {
			if v != "" {
				n++
			}
		}
		if n != 1 {
			return badRequest("INVALID_ATTRIBUTE", "Each entry needs exactly one of ipAddress, cidrBlock, awsSecurityGroup.", "accessList")
		}
		switch {
		case e.IPAddress != "":
			ip := net.ParseIP(e.IPAddress)
			if ip == nil {
				return badRequest("INVALID_IP_ADDRESS_OR_CIDR_NOTATION", fmt.Sprintf("Invalid IP address %s.", e.IPAddress), e.IPAddress)
			}
			bits := "/32"
			if ip.To4() == nil {
				bits = "/128"
			}
			e.CidrBlock = e.IPAddress + bits
		case e.CidrBlock != "":
			_, n, err := net.ParseCIDR(e.CidrBlock)
			if err != nil || n.String() != e.CidrBlock {
				return badRequest("INVALID_IP_ADDRESS_OR_CIDR_NOTATION", fmt.Sprintf("Invalid CIDR block %s.", e.CidrBlock), e.CidrBlock)
			}
		}
		e.GroupID, e.Links = p.ID, []any{}
		add = append(add, e)
	}
	for _, e := range add {
		key := e.CidrBlock
		if key == "" {
			key = e.AwsSecurityGroup
		}
		e := e
		p.access[key] = &e
	}
	return http.StatusOK, paginated(s.accessList(p))
}

func (s *Server) entry(r *http.Request) (*project, string, int, any) {
	p, st, body := s.project(r)
	if p == nil {
		return nil, "", st, body
	}
	v := r.PathValue("entryValue")
	key := v
	if !strings.Contains(v, "/") && net.ParseIP(v) != nil {
		key = v + "/32"
		if net.ParseIP(v).To4() == nil {
			key = v + "/128"
		}
	}
	if p.access[key] == nil {
		st, body := notFound("ATLAS_NETWORK_PERMISSION_ENTRY_NOT_FOUND", fmt.Sprintf("IP Address %s not on Atlas access list.", v), v)
		return p, "", st, body
	}
	return p, key, 0, nil
}

func (s *Server) getAccess(_ http.ResponseWriter, r *http.Request) (int, any) {
	p, key, st, body := s.entry(r)
	if key == "" {
		return st, body
	}
	return http.StatusOK, p.access[key]
}

func (s *Server) accessStatus(_ http.ResponseWriter, r *http.Request) (int, any) {
	_, key, st, body := s.entry(r)
	if key == "" {
		return st, body
	}
	return http.StatusOK, map[string]string{"STATUS": "ACTIVE"}
}

func (s *Server) deleteAccess(_ http.ResponseWriter, r *http.Request) (int, any) {
	p, key, st, body := s.entry(r)
	if key == "" {
		return st, body
	}
	delete(p.access, key)
	return http.StatusNoContent, nil
}
