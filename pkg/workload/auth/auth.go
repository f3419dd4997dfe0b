// Package auth issues and verifies the API's access tokens (HS256 JWTs) and
// carries the caller's identity through request contexts.
package auth

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// Roles, ordered: an admin may do whatever a viewer may.
const (
	RoleViewer = "VIEWER"
	RoleAdmin  = "ADMIN"
	// RoleAnonymous is the role of a request without a valid token. It is
	// part of cache keys so that anonymous callers never see cached data.
	RoleAnonymous = "ANONYMOUS"
)

const issuer = "nekoctl-serve"

var rank = map[string]int{RoleAnonymous: 0, RoleViewer: 1, RoleAdmin: 2}

// Allows reports whether role may do what needs the required role.
func Allows(role, required string) bool { return rank[role] >= rank[required] && rank[required] > 0 }

// Identity is who is calling.
type Identity struct {
	Username string
	Role     string
}

// ErrInvalidCredentials is returned for any bad user name or password, so
// callers cannot tell which one was wrong.
var ErrInvalidCredentials = errors.New("invalid user name or password")

// Account is a user who may log in.
type Account struct {
	Password string
	Role     string
}

// KeySet is the signing keys by key id (the kid header): Current signs,
// and a token signed by any key of the set verifies. A Current of "" is a
// single secret without an id: its tokens carry no kid.
type KeySet struct {
	Current string
	Keys    map[string][]byte
}

// Issuer signs and verifies tokens.
type Issuer struct {
	keys KeySet
	// anyKey verifies tokens without a kid: they come from a server given a
	// single secret, which may be any key of this set.
	anyKey   jwt.VerificationKeySet
	ttl      time.Duration
	accounts map[string]Account
	now      func() time.Time
	parser   *jwt.Parser

	// verified remembers tokens whose signature has been checked, with
	// their expiry: parsing and checking a JWT is a third of the cost of a
	// cached answer, and clients send the same token again and again.
	mu       sync.RWMutex
	verified map[string]verifiedToken
}

type verifiedToken struct {
	id      Identity
	expires time.Time
}

// maxVerified bounds the memo; past it, the memo starts over.
const maxVerified = 10_000

// NewIssuer returns an issuer with the given keys, token lifetime and clock.
func NewIssuer(keys KeySet, ttl time.Duration, accounts map[string]Account, now func() time.Time) *Issuer {
	var anyKey jwt.VerificationKeySet
	for _, k := range keys.Keys {
		anyKey.Keys = append(anyKey.Keys, k)
	}
	return &Issuer{
		keys: keys, anyKey: anyKey, ttl: ttl, accounts: accounts, now: now, verified: map[string]verifiedToken{},
		parser: jwt.NewParser(
			jwt.WithValidMethods([]string{jwt.SigningMethodHS256.Alg()}),
			jwt.WithIssuer(issuer),
			jwt.WithExpirationRequired(),
			jwt.WithTimeFunc(now),
		),
	}
}

type claims struct {
	Role string `json:"role"`
	jwt.RegisteredClaims
}

// Login checks the credentials and returns a signed token and its expiry.
func (i *Issuer) Login(username, password string) (token string, id Identity, expires time.Time, err error) {
	acct, ok := i.accounts[username]
	// Compare digests so the time taken says nothing about the password length.
	want := sha256.Sum256([]byte(acct.Password))
	got := sha256.Sum256([]byte(password))
	if subtle.ConstantTimeCompare(want[:], got[:]) != 1 || !ok {
		return "", Identity{}, time.Time{}, ErrInvalidCredentials
	}
	now := i.now()
	expires = now.Add(i.ttl)
	c := claims{Role: acct.Role, RegisteredClaims: jwt.RegisteredClaims{
		Issuer: issuer, Subject: username,
		IssuedAt: jwt.NewNumericDate(now), ExpiresAt: jwt.NewNumericDate(expires),
	}}
	t := jwt.NewWithClaims(jwt.SigningMethodHS256, c)
	if i.keys.Current != "" {
		t.Header["kid"] = i.keys.Current
	}
	token, err = t.SignedString(i.keys.Keys[i.keys.Current])
	if err != nil {
		return "", Identity{}, time.Time{}, fmt.Errorf("sign token: %w", err)
	}
	return token, Identity{Username: username, Role: acct.Role}, expires, nil
}

// Verify returns the identity in a valid token.
func (i *Issuer) Verify(token string) (Identity, error) {
	i.mu.RLock()
	v, ok := i.verified[token]
	i.mu.RUnlock()
	if ok && i.now().Before(v.expires) {
		return v.id, nil
	}
	id, expires, err := i.verify(token)
	if err != nil {
		return Identity{}, err
	}
	i.mu.Lock()
	if len(i.verified) >= maxVerified {
		clear(i.verified)
	}
	i.verified[token] = verifiedToken{id: id, expires: expires}
	i.mu.Unlock()
	return id, nil
}

// Remembered returns the identity of the request's bearer token when its
// signature has already been checked (and it has not expired), without
// checking anything: for work done ahead of Middleware that may be wasted.
func (i *Issuer) Remembered(r *http.Request) (Identity, bool) {
	token, ok := bearer(r)
	if !ok {
		return Identity{}, false
	}
	i.mu.RLock()
	v, ok := i.verified[token]
	i.mu.RUnlock()
	if !ok || !i.now().Before(v.expires) {
		return Identity{}, false
	}
	return v.id, true
}

func bearer(r *http.Request) (string, bool) {
	h := r.Header.Get("Authorization")
	if len(h) > 7 && strings.EqualFold(h[:7], "bearer ") {
		return strings.TrimSpace(h[7:]), true
	}
	return "", false
}

func (i *Issuer) verify(token string) (Identity, time.Time, error) {
	var c claims
	if _, err := i.parser.ParseWithClaims(token, &c, i.verificationKey); err != nil {
		return Identity{}, time.Time{}, err
	}
	if c.Role != RoleViewer && c.Role != RoleAdmin {
		return Identity{}, time.Time{}, errors.New("token has no valid role")
	}
	return Identity{Username: c.Subject, Role: c.Role}, c.ExpiresAt.Time, nil
}

// verificationKey is the key a token names in its kid header, or any key
// of the set for a token without one.
func (i *Issuer) verificationKey(t *jwt.Token) (any, error) {
	kid, named := t.Header["kid"]
	if !named {
		return i.anyKey, nil
	}
	if id, ok := kid.(string); ok && id != "" {
		if key, ok := i.keys.Keys[id]; ok {
			return key, nil
		}
	}
	return nil, errors.New("token signed with a key that is not in the key set")
}

type ctxKey struct{}

// WithIdentity returns ctx carrying id.
func WithIdentity(ctx context.Context, id Identity) context.Context {
	return context.WithValue(ctx, ctxKey{}, id)
}

// FromContext returns the caller; anonymous when there is no valid token.
func FromContext(ctx context.Context) Identity {
	if id, ok := ctx.Value(ctxKey{}).(Identity); ok {
		return id
	}
	return Identity{Role: RoleAnonymous}
}

// Middleware puts the bearer token's identity into the request context. An
// invalid token is treated as no token: the GraphQL layer then refuses the
// fields that need a role, with a clear error, and login stays reachable.
func (i *Issuer) Middleware(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if token, ok := bearer(r); ok {
			if id, err := i.Verify(token); err == nil {
				r = r.WithContext(WithIdentity(r.Context(), id))
			}
		}
		next.ServeHTTP(w, r)
	})
}
