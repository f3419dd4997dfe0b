package atlas

import (
	"fmt"
	"net"
	"net/http"
	"sort"
	"strings"
)

// AccessEntry is a NetworkPermissionEntry.
type AccessEntry struct {
	AwsSecurityGroup string `json:"awsSecurityGroup,omitempty"`
	CidrBlock        string `json:"cidrBlock,omitempty"`
	IPAddress        string `json:"ipAddress,omitempty"`
	Comment          string `json:"comment,omitempty"`
	GroupID          string `json:"groupId,omitempty"`
	Links            []any  `json:"links,omitempty"`
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
