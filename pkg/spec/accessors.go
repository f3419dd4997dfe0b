package spec

// PrimaryRegion returns the region marked primary, or the first one.
func (s *Spec) PrimaryRegion() *Region {
	for i := range s.Regions {
		if s.Regions[i].Primary {
			return &s.Regions[i]
		}
	}
	if len(s.Regions) > 0 {
		return &s.Regions[0]
	}
	return nil
}

// Region returns the named region or nil.
func (s *Spec) Region(name string) *Region {
	for i := range s.Regions {
		if s.Regions[i].Name == name {
			return &s.Regions[i]
		}
	}
	return nil
}

// FQDNs returns the API hostnames as fully qualified names, load-balanced one first.
func (s *Spec) FQDNs() []string {
	out := make([]string, 0, len(s.Hostnames))
	for _, h := range s.Hostnames {
		if h == "@" {
			out = append(out, s.Domain)
			continue
		}
		out = append(out, h+"."+s.Domain)
	}
	return out
}

// On reports a defaulted boolean; defaults have run, so nil means false.
func On(b *bool) bool { return b != nil && *b }

// Bool returns a pointer, for defaults and tests.
func Bool(b bool) *bool { return &b }

// Int returns a pointer, for defaults and tests.
func Int(i int) *int { return &i }
