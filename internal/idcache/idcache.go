// Package idcache remembers the ids of remote objects between runs, in the
// user's cache directory, so that a plan can read an object by id together
// with everything in it instead of finding it by name first. A remembered
// id is only a guess: the caller keeps what it read with it only when the
// object it names is still the one the spec means.
package idcache

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
)

// Dir resolves a provider's cache directory setting: "" is sub under the
// user's cache directory (nekoctl/<sub>), "-" remembers nothing (""), any
// other value is used as is.
func Dir(setting, sub string) string {
	switch setting {
	case "":
		if base, err := os.UserCacheDir(); err == nil {
			return filepath.Join(base, "nekoctl", sub)
		}
		return ""
	case "-":
		return ""
	}
	return setting
}

// File is the file remembering one object of a kind under dir, named by a
// digest of the parts that identify it (endpoint, owner, name); "" when dir
// is "".
func File(dir, kind string, parts ...string) string {
	if dir == "" {
		return ""
	}
	sum := sha256.Sum256([]byte(strings.Join(parts, "\x00")))
	return filepath.Join(dir, kind, hex.EncodeToString(sum[:12])+".json")
}

type entry struct {
	ID string `json:"id"`
}

// Load is the id remembered in file, or "".
func Load(file string) string {
	if file == "" {
		return ""
	}
	b, err := os.ReadFile(file)
	if err != nil {
		return ""
	}
	var e entry
	if json.Unmarshal(b, &e) != nil {
		return ""
	}
	return e.ID
}

// Store records id in file ("" forgets it), atomically. A cache that cannot
// be written only costs the next run a round trip, so errors are ignored.
func Store(file, id string) {
	if file == "" || Load(file) == id {
		return
	}
	if id == "" {
		_ = os.Remove(file)
		return
	}
	if err := os.MkdirAll(filepath.Dir(file), 0o700); err != nil {
		return
	}
	b, _ := json.Marshal(entry{ID: id})
	tmp, err := os.CreateTemp(filepath.Dir(file), ".id-*")
	if err != nil {
		return
	}
	_, werr := tmp.Write(b)
	cerr := tmp.Close()
	if werr != nil || cerr != nil || os.Rename(tmp.Name(), file) != nil {
		_ = os.Remove(tmp.Name())
	}
}
