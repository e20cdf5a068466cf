package jwtauth

import (
	"encoding/json"
	"strings"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// Claims is what a verified token says.
//
// Claims returned by a Verifier are shared (the token cache hands the same
// value to every request that presents the same token) and must not be
// modified.
type Claims struct {
	// Subject is "sub".
	Subject string
	// Issuer is "iss".
	Issuer string
	// Audience is "aud", always as a list.
	Audience []string
	// Scopes are read from Config.ScopeClaim: a space-separated string or
	// an array of strings.
	Scopes []string
	// Expires is "exp"; every accepted token has one.
	Expires time.Time
	// KeyID is the token's "kid" header; empty if it had none.
	KeyID string
	// Raw is the payload as signed: a JSON object, every claim included,
	// for the backend.
	Raw json.RawMessage

	notBefore time.Time
}

// HasScopes reports whether the token grants every one of required.
func (c *Claims) HasScopes(required []string) bool {
	for _, r := range required {
		found := false
		for _, s := range c.Scopes {
			if s == r {
				found = true
				break
			}
		}
		if !found {
			return false
		}
	}
	return true
}

// tokenClaims is what jwt decodes the payload into: the registered claims
// for jwt's validator, plus the raw payload and the scope claims.
type tokenClaims struct {
	jwt.RegisteredClaims
	raw []byte
	// scopeClaim is set before decoding: empty for "scope" then "scp".
	scopeClaim string
	scopes     []string
}

// UnmarshalJSON keeps a copy of the payload and reads the scopes.
func (t *tokenClaims) UnmarshalJSON(b []byte) error {
	var aux struct {
		jwt.RegisteredClaims
		Scope json.RawMessage `json:"scope"`
		Scp   json.RawMessage `json:"scp"`
	}
	if err := json.Unmarshal(b, &aux); err != nil {
		return err
	}
	t.RegisteredClaims = aux.RegisteredClaims
	t.raw = append([]byte(nil), b...)
	switch t.scopeClaim {
	case "":
		if aux.Scope != nil {
			t.scopes = parseScopes(aux.Scope)
		} else {
			t.scopes = parseScopes(aux.Scp)
		}
	case "scope":
		t.scopes = parseScopes(aux.Scope)
	case "scp":
		t.scopes = parseScopes(aux.Scp)
	default:
		var all map[string]json.RawMessage
		if err := json.Unmarshal(b, &all); err != nil {
			return err
		}
		t.scopes = parseScopes(all[t.scopeClaim])
	}
	return nil
}

// parseScopes reads a space-separated string or an array of strings; any
// other value grants no scope.
func parseScopes(raw json.RawMessage) []string {
	if len(raw) == 0 {
		return nil
	}
	switch raw[0] {
	case '"':
		var s string
		if json.Unmarshal(raw, &s) != nil {
			return nil
		}
		return strings.Fields(s)
	case '[':
		var list []string
		if json.Unmarshal(raw, &list) != nil {
			return nil
		}
		return list
	}
	return nil
}
