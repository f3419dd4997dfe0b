package spec

import "strings"

// Positions maps field paths ("spec.regions[0].name") to where they are
// written. A path absent from the file resolves to its nearest written parent.
type Positions map[string]Pos

// Of returns the position of path or of its nearest written ancestor.
func (p Positions) Of(path string) Pos {
	for path != "" {
		if pos, ok := p[path]; ok {
			return pos
		}
		i := strings.LastIndexAny(path, ".[")
		if i < 0 {
			break
		}
		path = path[:i]
	}
	return p[""]
}
