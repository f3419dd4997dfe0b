package server_test

import (
	"encoding/base64"
	"strings"
	"testing"

	"github.com/neko-defense/nekoctl/pkg/workload/testenv"
)

// TestTokensAcrossRegionsAndRotation: servers given the same JWT key set
// (two regions) accept each other's tokens; after a rotation (a new
// current key, the old one kept) old tokens still work; once the old key
// is removed they are refused.
func TestTokensAcrossRegionsAndRotation(t *testing.T) {
	m, r := services(t, 10)
	key := func(c string) string { return base64.StdEncoding.EncodeToString([]byte(strings.Repeat(c, 32))) }
	keys := func(current string, ids ...string) map[string]string {
		var entries []string
		for _, id := range ids {
			entries = append(entries, `"`+id+`":"`+key(id)+`"`)
		}
		return map[string]string{"JWT_SECRET": "", "JWT_KEYS": `{"current":"` + current + `","keys":{` + strings.Join(entries, ",") + `}}`}
	}
	usEast := startServer(t, m.URI, r.Addr, keys("a", "a"))
	euWest := startServer(t, m.URI, r.Addr, keys("a", "a"))
	viewer := login(t, usEast.URL, "viewer", testenv.ViewerPassword)
	me := func(url string) string {
		viewer.url = url
		got := viewer.do(`{me{username}}`, nil)
		return got.code()
	}
	if code := me(euWest.URL); code != "" {
		t.Errorf("another region refuses the token: %s", code)
	}
	rotated := startServer(t, m.URI, r.Addr, keys("b", "a", "b"))
	if code := me(rotated.URL); code != "" {
		t.Errorf("after the rotation the old token is refused: %s", code)
	}
	retired := startServer(t, m.URI, r.Addr, keys("b", "b"))
	if code := me(retired.URL); code != "UNAUTHENTICATED" {
		t.Errorf("with the old key removed: code %q, want UNAUTHENTICATED", code)
	}
	fresh := login(t, rotated.URL, "viewer", testenv.ViewerPassword)
	fresh.url = retired.URL
	if got := fresh.do(`{me{username}}`, nil); got.code() != "" {
		t.Errorf("a token of the new key is refused: %+v", got.Errors)
	}
}
