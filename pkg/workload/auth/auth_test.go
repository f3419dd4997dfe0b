package auth

import (
	"errors"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

func TestLoginAndVerify(t *testing.T) {
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	clock := func() time.Time { return now }
	secret := []byte("0123456789abcdef0123456789abcdef")
	iss := NewIssuer(KeySet{Keys: map[string][]byte{"": secret}}, time.Hour, map[string]Account{"ada": {Password: "correct horse", Role: RoleAdmin}}, clock)

	if _, _, _, err := iss.Login("ada", "wrong"); !errors.Is(err, ErrInvalidCredentials) {
		t.Errorf("wrong password: %v", err)
	}
	if _, _, _, err := iss.Login("bob", "correct horse"); !errors.Is(err, ErrInvalidCredentials) {
		t.Errorf("unknown user: %v", err)
	}
	token, id, exp, err := iss.Login("ada", "correct horse")
	if err != nil || id.Role != RoleAdmin || !exp.Equal(now.Add(time.Hour)) {
		t.Fatalf("login: %v %+v %v", err, id, exp)
	}
	for range 2 { // the second time from the memo
		if got, err := iss.Verify(token); err != nil || got != id {
			t.Errorf("verify: %+v %v", got, err)
		}
	}
	if _, err := iss.Verify(token[:len(token)-2] + "xx"); err == nil {
		t.Error("tampered token accepted")
	}
	other := NewIssuer(KeySet{Keys: map[string][]byte{"": []byte("another-secret-another-secret-000")}}, time.Hour, nil, clock)
	if _, err := other.Verify(token); err == nil {
		t.Error("token signed with another secret accepted")
	}
	none, _ := jwt.NewWithClaims(jwt.SigningMethodNone, jwt.MapClaims{"sub": "ada", "role": RoleAdmin, "iss": issuer, "exp": now.Add(time.Hour).Unix()}).SignedString(jwt.UnsafeAllowNoneSignatureType)
	if _, err := iss.Verify(none); err == nil {
		t.Error("unsigned token accepted")
	}
	now = now.Add(2 * time.Hour)
	if _, err := iss.Verify(token); err == nil {
		t.Error("expired token accepted (memo must honour the expiry)")
	}
}

// TestKeyRotation follows a key set through a rotation, one issuer per
// server: a token from one server verifies on every server with the same
// set; after the rotation old tokens stay valid while their key is in the
// set, and are refused once it is removed.
func TestKeyRotation(t *testing.T) {
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	clock := func() time.Time { return now }
	accounts := map[string]Account{"ada": {Password: "correct horse", Role: RoleViewer}}
	k1, k2 := []byte("key-one-key-one-key-one-key-one-"), []byte("key-two-key-two-key-two-key-two-")
	server := func(current string, keys map[string][]byte) *Issuer {
		return NewIssuer(KeySet{Current: current, Keys: keys}, time.Hour, accounts, clock)
	}
	login := func(iss *Issuer) string {
		t.Helper()
		token, _, _, err := iss.Login("ada", "correct horse")
		if err != nil {
			t.Fatal(err)
		}
		return token
	}
	accepts := func(iss *Issuer, token string) bool {
		_, err := iss.Verify(token)
		return err == nil
	}
	usEast, euWest := server("k1", map[string][]byte{"k1": k1}), server("k1", map[string][]byte{"k1": k1})
	old := login(usEast)
	if kid := header(t, old)["kid"]; kid != "k1" {
		t.Errorf("kid = %v, want the current key k1", kid)
	}
	if !accepts(euWest, old) {
		t.Error("a token from one region is refused by another with the same key set")
	}

	rotated := server("k2", map[string][]byte{"k1": k1, "k2": k2})
	fresh := login(rotated)
	if kid := header(t, fresh)["kid"]; kid != "k2" {
		t.Errorf("after the rotation kid = %v, want k2", kid)
	}
	if !accepts(rotated, old) || !accepts(server("k2", map[string][]byte{"k1": k1, "k2": k2}), fresh) {
		t.Error("during the grace period tokens of both keys must verify")
	}

	retired := server("k2", map[string][]byte{"k2": k2})
	if accepts(retired, old) {
		t.Error("a token of a removed key is still accepted")
	}
	if !accepts(retired, fresh) {
		t.Error("a token of the current key is refused")
	}

	// A single secret (JWT_SECRET) signs without kid; a key set holding
	// that secret under any id accepts those tokens.
	legacy := login(server("", map[string][]byte{"": k1}))
	if _, named := header(t, legacy)["kid"]; named {
		t.Error("a single secret's token has a kid")
	}
	if !accepts(rotated, legacy) || accepts(retired, legacy) {
		t.Error("tokens without kid must verify against the set's keys, and only those")
	}
	forged, _ := jwt.NewWithClaims(jwt.SigningMethodHS256, jwt.MapClaims{"sub": "ada", "role": RoleAdmin, "iss": issuer, "exp": now.Add(time.Hour).Unix()}).SignedString(k1)
	if accepts(server("k2", map[string][]byte{"k2": k2}), forged) {
		t.Error("a token signed with a key outside the set is accepted")
	}
}

func header(t *testing.T, token string) map[string]any {
	t.Helper()
	parsed, _, err := jwt.NewParser().ParseUnverified(token, jwt.MapClaims{})
	if err != nil {
		t.Fatal(err)
	}
	return parsed.Header
}

func TestAllows(t *testing.T) {
	for _, tt := range []struct {
		role, required string
		want           bool
	}{
		{RoleAdmin, RoleViewer, true}, {RoleAdmin, RoleAdmin, true}, {RoleViewer, RoleViewer, true},
		{RoleViewer, RoleAdmin, false}, {RoleAnonymous, RoleViewer, false}, {RoleAdmin, "", false},
	} {
		if got := Allows(tt.role, tt.required); got != tt.want {
			t.Errorf("Allows(%q, %q) = %v", tt.role, tt.required, got)
		}
	}
}
