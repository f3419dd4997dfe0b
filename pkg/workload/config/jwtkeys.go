package config

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"os"
	"regexp"
	"strings"
)

// The JWT signing keys come from exactly one of these.
const (
	// EnvJWTKeys holds a key set as JSON (secret): {"current":"2026-11",
	// "keys":{"2026-11":"<base64>","2026-05":"<base64>"}}.
	EnvJWTKeys = "JWT_KEYS"
	// EnvJWTKeysFile names a file holding the same JSON (a mounted Secret).
	EnvJWTKeysFile = "JWT_KEYS_FILE"
)

// KeySet is the JWT signing keys by key id: Current signs new tokens (its id
// goes in their kid header), and a token signed by any key of the set is
// accepted. Every region of a stack gets the same set, so a token issued in
// one is valid in all; a rotation adds a key and makes it current, and the
// old key keeps verifying until it is removed. JWT_SECRET alone is a set of
// one key with the empty id: its tokens carry no kid, as before key sets.
type KeySet struct {
	Current string
	Keys    map[string][]byte
}

// keySetFormat is the documented shape, quoted in errors.
const keySetFormat = `a JSON key set {"current":"<key id>","keys":{"<key id>":"<base64 secret>",...}}`

var keyID = regexp.MustCompile(`^[A-Za-z0-9._-]{1,64}$`)

// jwtKeys reads the signing keys. Values are never quoted in errors.
func (r *reader) jwtKeys() KeySet {
	inline, file, legacy := r.str(EnvJWTKeys, ""), r.str(EnvJWTKeysFile, ""), r.str(EnvJWTSecret, "")
	set := 0
	for _, v := range []string{inline, file, legacy} {
		if v != "" {
			set++
		}
	}
	switch {
	case set == 0:
		r.fail(EnvJWTSecret, "is required (or a key set in "+EnvJWTKeys+" or "+EnvJWTKeysFile+")")
		return KeySet{}
	case set > 1:
		r.fail(EnvJWTKeys, "conflicts: set only one of "+EnvJWTKeys+", "+EnvJWTKeysFile+" and "+EnvJWTSecret)
		return KeySet{}
	case legacy != "":
		if len(legacy) < minSecretBytes {
			r.fail(EnvJWTSecret, fmt.Sprintf("must be at least %d bytes long", minSecretBytes))
		}
		return KeySet{Keys: map[string][]byte{"": []byte(legacy)}}
	case file != "":
		data, err := os.ReadFile(file)
		if err != nil {
			r.fail(EnvJWTKeysFile, fmt.Sprintf("cannot be read: %v", err))
			return KeySet{}
		}
		return r.parseKeySet(EnvJWTKeysFile, data)
	}
	return r.parseKeySet(EnvJWTKeys, []byte(inline))
}

func (r *reader) parseKeySet(name string, data []byte) KeySet {
	var raw struct {
		Current string            `json:"current"`
		Keys    map[string]string `json:"keys"`
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&raw); err != nil {
		// The decoder's message may quote a piece of the value.
		r.fail(name, "must be "+keySetFormat)
		return KeySet{}
	}
	set := KeySet{Current: raw.Current, Keys: map[string][]byte{}}
	for id, enc := range raw.Keys {
		if !keyID.MatchString(id) {
			r.fail(name, fmt.Sprintf("has an invalid key id %q (1 to 64 letters, digits, '.', '_' or '-')", id))
			continue
		}
		key, ok := decodeBase64(enc)
		switch {
		case !ok:
			r.fail(name, fmt.Sprintf("key %q is not base64", id))
		case len(key) < minSecretBytes:
			r.fail(name, fmt.Sprintf("key %q must be at least %d bytes long once decoded", id, minSecretBytes))
		default:
			set.Keys[id] = key
		}
	}
	switch {
	case len(raw.Keys) == 0:
		r.fail(name, "has no keys: it must be "+keySetFormat)
	case raw.Current == "":
		r.fail(name, `has no "current" key id`)
	case raw.Keys[raw.Current] == "":
		r.fail(name, fmt.Sprintf("names current key %q, which is not in its keys", raw.Current))
	}
	return set
}

// decodeBase64 accepts the standard and the URL-safe alphabets, with or
// without padding.
func decodeBase64(s string) ([]byte, bool) {
	s = strings.TrimRight(strings.TrimSpace(s), "=")
	for _, enc := range []*base64.Encoding{base64.RawStdEncoding, base64.RawURLEncoding} {
		if b, err := enc.DecodeString(s); err == nil {
			return b, true
		}
	}
	return nil, false
}
