package jwtauth_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/gatecast/gatecast/admission/jwtauth"
)

func TestAuthorize(t *testing.T) {
	k := keys(t)
	clk := newClock()
	v := newVerifier(t, jwtauth.Config{
		Issuer:   "https://auth.example.com/",
		Audience: []string{"chat-api"},
		Keys:     []jwtauth.KeyConfig{{ID: "k", Algorithm: "ES256", PEM: pemOf(t, &k.p256.PublicKey)}},
	}, clk)
	good := sign(t, jwt.SigningMethodES256, k.p256, "k", claims())
	const (
		missing = `Bearer realm="gatecast"`
		invalid = `Bearer realm="gatecast", error="invalid_token"`
	)
	tests := []struct {
		name      string
		r         request
		scopes    []string
		status    int
		challenge string
		cause     error
	}{
		{"ok", bearer(good), []string{"chat:write"}, 0, "", nil},
		{"ok, no scopes needed", bearer(good), nil, 0, "", nil},
		{"no token", request{}, nil, 401, missing, jwtauth.ErrNoToken},
		{"other scheme", request{header: map[string]string{"Authorization": "Basic eDp5"}}, nil, 401, missing, jwtauth.ErrNoToken},
		{"garbage", bearer("x.y.z"), nil, 401, invalid, jwtauth.ErrMalformed},
		{"wrong issuer", bearer(sign(t, jwt.SigningMethodES256, k.p256, "k", claims("iss", "https://evil.example.com/"))), nil, 401, invalid, jwtauth.ErrIssuer},
		{"expired", bearer(sign(t, jwt.SigningMethodES256, k.p256, "k", claims("exp", t0.Add(-time.Hour).Unix()))), nil, 401, invalid, jwtauth.ErrExpired},
		{"unknown kid", bearer(sign(t, jwt.SigningMethodES256, k.p256, "secret-kid-xyz", claims())), nil, 401, invalid, jwtauth.ErrUnknownKey},
		{"missing scope", bearer(good), []string{"chat:write", "admin"}, 403,
			`Bearer realm="gatecast", error="insufficient_scope", scope="chat:write admin"`, jwtauth.ErrInsufficientScope},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := v.Authorize(context.Background(), jwtauth.Source{}, tt.r, tt.scopes)
			if tt.status == 0 {
				if err != nil || c == nil || c.Subject != "user-1" {
					t.Fatalf("Authorize = %+v, %v", c, err)
				}
				return
			}
			var e *jwtauth.Error
			if !errors.As(err, &e) || c != nil {
				t.Fatalf("Authorize = %+v, %v; want *Error", c, err)
			}
			if e.Status != tt.status || e.WWWAuthenticate != tt.challenge || !errors.Is(err, tt.cause) {
				t.Fatalf("Error = %+v; want %d %q %v", e, tt.status, tt.challenge, tt.cause)
			}
			// What the client sees says nothing of the reason.
			wantPublic := map[int]string{401: "Unauthorized", 403: "Forbidden"}[tt.status]
			if e.Public != wantPublic {
				t.Errorf("Public = %q, want %q", e.Public, wantPublic)
			}
			if e.Reason == "" || strings.Contains(e.Public, e.Reason) {
				t.Errorf("Reason = %q", e.Reason)
			}
			for _, secret := range []string{"secret-kid-xyz", "evil", "exp", "admin", "issuer"} {
				if strings.Contains(e.Public, secret) {
					t.Errorf("Public %q leaks %q", e.Public, secret)
				}
			}
			if !strings.Contains(e.Error(), e.Reason) {
				t.Errorf("Error() = %q lacks the reason", e.Error())
			}
		})
	}
}

func TestAuthorizeRealm(t *testing.T) {
	k := keys(t)
	v := newVerifier(t, jwtauth.Config{Realm: "chat", Keys: []jwtauth.KeyConfig{{Algorithm: "HS256", Secret: string(k.secret)}}}, newClock())
	_, err := v.Authorize(context.Background(), jwtauth.Source{}, bearer("bad"), nil)
	var e *jwtauth.Error
	if !errors.As(err, &e) || e.WWWAuthenticate != `Bearer realm="chat", error="invalid_token"` {
		t.Fatalf("err = %#v", err)
	}
}
