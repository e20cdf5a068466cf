package jwtauth

import (
	"bytes"
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
// for jwt's validator and the two usual scope claims. It is a plain struct
// (no UnmarshalJSON) so encoding/json scans the payload once.
type tokenClaims struct {
	jwt.RegisteredClaims
	Scope json.RawMessage `json:"scope"`
	Scp   json.RawMessage `json:"scp"`
}

// scopes reads the scopes from claim: empty for "scope", or "scp" when the
// token has no "scope". raw is the payload, decoded again only for a claim
// of another name.
func (t *tokenClaims) scopes(claim string, raw []byte) []string {
	switch claim {
	case "":
		if t.Scope != nil {
			return parseScopes(t.Scope)
		}
		return parseScopes(t.Scp)
	case "scope":
		return parseScopes(t.Scope)
	case "scp":
		return parseScopes(t.Scp)
	}
	var all map[string]json.RawMessage
	if json.Unmarshal(raw, &all) != nil {
		return nil
	}
	return parseScopes(all[claim])
}

// parseScopes reads a space-separated string or an array of strings; any
// other value grants no scope.
func parseScopes(raw json.RawMessage) []string {
	if len(raw) < 2 {
		return nil
	}
	switch raw[0] {
	case '"':
		// Scope tokens are printable ASCII without '"' or '\' (RFC 6749
		// section 3.3): the usual string needs no unescaping.
		if s := raw[1 : len(raw)-1]; raw[len(raw)-1] == '"' && !bytes.ContainsAny(s, `\"`) {
			return strings.Fields(string(s))
		}
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
