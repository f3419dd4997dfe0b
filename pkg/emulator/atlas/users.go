package atlas

import (
	"fmt"
	"net/http"
	"sort"
)

// User is the CloudDatabaseUser document (the password is never returned).
type User struct {
	DatabaseName string  `json:"databaseName"`
	GroupID      string  `json:"groupId"`
	Username     string  `json:"username"`
	Password     string  `json:"password,omitempty"`
	Roles        *[]Role `json:"roles,omitempty"`
	Scopes       []Scope `json:"scopes"`
	Description  string  `json:"description,omitempty"`
	// X509Type, AwsIAMType and LdapAuthType are the $external methods.
	X509Type     string `json:"x509Type,omitempty"`
	AwsIAMType   string `json:"awsIAMType,omitempty"`
	LdapAuthType string `json:"ldapAuthType,omitempty"`
	Labels       []Tag  `json:"labels"`
	Links        []any  `json:"links"`
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
	if u.Username == "" {
		return badRequest("INVALID_ATTRIBUTE", "Invalid attribute username specified.", "username")
	}
	external := set(u.X509Type) || set(u.AwsIAMType) || set(u.LdapAuthType)
	switch {
	case u.DatabaseName == "$external" && !external:
		return badRequest("INVALID_ATTRIBUTE", "Users of $external need x509Type, awsIAMType or ldapAuthType.", "databaseName")
	case u.DatabaseName == "$external" && u.Password != "":
		return badRequest("INVALID_ATTRIBUTE", "Users of $external have no password.", "password")
	case u.DatabaseName == "$external":
	case u.DatabaseName != "admin" || external:
		return badRequest("INVALID_ATTRIBUTE", "Password users authenticate against the admin database.", "databaseName")
	case len(u.Password) < 8:
		return badRequest("DATABASE_USER_PASSWORD_TOO_SHORT", "The password must be at least 8 characters.")
	}
	if st, body := s.checkUser(p, &u); st != 0 {
		return st, body
	}
	if p.users[u.DatabaseName+"/"+u.Username] != nil {
		return conflict("USER_ALREADY_EXISTS", fmt.Sprintf("The specified user %s already exists.", u.Username), u.Username)
	}
	u.GroupID, u.Links = p.ID, []any{}
	if u.Scopes == nil {
		u.Scopes = []Scope{}
	}
	if u.Labels == nil {
		u.Labels = []Tag{}
	}
	p.users[u.DatabaseName+"/"+u.Username] = &u
	return http.StatusCreated, public(&u)
}

// set: an authentication type other than the API's NONE.
func set(authType string) bool { return authType != "" && authType != "NONE" }

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
