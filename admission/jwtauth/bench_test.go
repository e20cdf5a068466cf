package jwtauth_test

import (
	"context"
	"testing"

	"github.com/golang-jwt/jwt/v5"

	"github.com/gatecast/gatecast/admission/jwtauth"
)

// BenchmarkVerify is the cost of one token check with a key held, without
// the cache (every token new: the signature is checked) and with it (the
// same token again: a map lookup).
func BenchmarkVerify(b *testing.B) {
	for _, tc := range algCases(b) {
		switch tc.alg {
		case "HS256", "RS256", "ES256", "EdDSA":
		default:
			continue
		}
		for _, cache := range []struct {
			name string
			size int
		}{{"off", -1}, {"on", 0}} {
			b.Run("alg="+tc.alg+"/cache="+cache.name, func(b *testing.B) {
				tc.cfg.ID = "k"
				v := newVerifier(b, jwtauth.Config{
					Issuer:    "https://auth.example.com/",
					Audience:  []string{"chat-api"},
					Keys:      []jwtauth.KeyConfig{tc.cfg},
					CacheSize: cache.size,
				}, newClock())
				tok := sign(b, tc.method, tc.sign, "k", claims())
				ctx := context.Background()
				if _, err := v.Verify(ctx, tok); err != nil {
					b.Fatal(err)
				}
				b.ReportAllocs()
				b.ResetTimer()
				for b.Loop() {
					if _, err := v.Verify(ctx, tok); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
	}
}

// BenchmarkAuthorize is the whole JWT step of admission for a repeat
// client: token from the header, cache hit, scope check.
func BenchmarkAuthorize(b *testing.B) {
	k := keys(b)
	v := newVerifier(b, jwtauth.Config{Keys: []jwtauth.KeyConfig{{ID: "k", Algorithm: "ES256", PEM: pemOf(b, &k.p256.PublicKey)}}}, newClock())
	r := bearer(sign(b, jwt.SigningMethodES256, k.p256, "k", claims()))
	ctx := context.Background()
	scopes := []string{"chat:write"}
	b.Run("cache=on/parallel", func(b *testing.B) {
		b.ReportAllocs()
		b.RunParallel(func(pb *testing.PB) {
			req := &r
			for pb.Next() {
				if _, err := v.Authorize(ctx, jwtauth.Source{}, req, scopes); err != nil {
					b.Error(err)
					return
				}
			}
		})
	})
}
