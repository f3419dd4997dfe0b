package config

import (
	"encoding/base64"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestLoadJWTKeys(t *testing.T) {
	k1, k2 := strings.Repeat("1", 32), strings.Repeat("2", 40)
	std, url := base64.StdEncoding.EncodeToString([]byte(k1)), base64.RawURLEncoding.EncodeToString([]byte(k2))
	keySet := `{"current":"2026-11","keys":{"2026-05":"` + std + `","2026-11":"` + url + `"}}`
	want := KeySet{Current: "2026-11", Keys: map[string][]byte{"2026-05": []byte(k1), "2026-11": []byte(k2)}}
	file := filepath.Join(t.TempDir(), "jwt-keys.json")
	if err := os.WriteFile(file, []byte(keySet), 0o600); err != nil {
		t.Fatal(err)
	}
	tests := map[string]struct {
		set  map[string]string
		want KeySet
	}{
		"single secret": {map[string]string{}, KeySet{Keys: map[string][]byte{"": []byte(strings.Repeat("s", 32))}}},
		"inline set":    {map[string]string{EnvJWTSecret: "", EnvJWTKeys: keySet}, want},
		"file":          {map[string]string{EnvJWTSecret: "", EnvJWTKeysFile: file}, want},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			e := valid()
			for k, v := range tt.set {
				e[k] = v
			}
			c, err := Load(env(e))
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, c.JWTKeys); diff != "" {
				t.Errorf("keys (-want +got):\n%s", diff)
			}
			if strings.Contains(c.String(), std) || strings.Contains(c.String(), k1) {
				t.Errorf("String() shows a key: %s", c)
			}
		})
	}
}

func TestLoadJWTKeysErrors(t *testing.T) {
	secret := base64.StdEncoding.EncodeToString([]byte(strings.Repeat("k", 32)))
	short := base64.StdEncoding.EncodeToString([]byte("short-key"))
	tests := []struct {
		name string
		set  map[string]string
		want []string
	}{
		{"none", map[string]string{EnvJWTSecret: ""}, []string{"JWT_SECRET is required (or a key set in JWT_KEYS or JWT_KEYS_FILE)"}},
		{"two sources", map[string]string{EnvJWTKeys: `{"current":"a","keys":{"a":"` + secret + `"}}`}, []string{"JWT_KEYS conflicts: set only one of"}},
		{"not JSON", map[string]string{EnvJWTSecret: "", EnvJWTKeys: "secret-value-not-json"}, []string{`JWT_KEYS must be a JSON key set {"current":"<key id>"`}},
		{"unknown field", map[string]string{EnvJWTSecret: "", EnvJWTKeys: `{"current":"a","keys":{"a":"` + secret + `"},"old":"x"}`}, []string{"JWT_KEYS must be a JSON key set"}},
		{"current missing", map[string]string{EnvJWTSecret: "", EnvJWTKeys: `{"current":"b","keys":{"a":"` + secret + `"}}`}, []string{`JWT_KEYS names current key "b", which is not in its keys`}},
		{"bad keys", map[string]string{EnvJWTSecret: "", EnvJWTKeys: `{"current":"a","keys":{"a":"` + short + `","b c":"` + secret + `","d":"@@@"}}`}, []string{
			`JWT_KEYS key "a" must be at least 32 bytes long once decoded`, `JWT_KEYS has an invalid key id "b c"`, `JWT_KEYS key "d" is not base64`,
		}},
		{"no keys", map[string]string{EnvJWTSecret: "", EnvJWTKeys: `{"current":"a","keys":{}}`}, []string{"JWT_KEYS has no keys"}},
		{"missing file", map[string]string{EnvJWTSecret: "", EnvJWTKeysFile: "/nonexistent/jwt-keys.json"}, []string{"JWT_KEYS_FILE cannot be read"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { wantLoadError(t, tt.set, tt.want, secret, short, "secret-value-not-json") })
	}
}
