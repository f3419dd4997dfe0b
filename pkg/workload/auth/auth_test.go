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
	iss := NewIssuer(secret, time.Hour, map[string]Account{"ada": {Password: "correct horse", Role: RoleAdmin}}, clock)

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
	other := NewIssuer([]byte("another-secret-another-secret-000"), time.Hour, nil, clock)
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
