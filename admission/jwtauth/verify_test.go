package jwtauth_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/gatecast/gatecast/admission/jwtauth"
)

// algCase is one algorithm with a key to sign with and its config.
type algCase struct {
	alg    string
	method jwt.SigningMethod
	sign   any // private key or secret
	cfg    jwtauth.KeyConfig
}

func algCases(t testing.TB) []algCase {
	k := keys(t)
	secret := string(k.secret)
	pemRSA := pemOf(t, &k.rsa.PublicKey)
	return []algCase{
		{"HS256", jwt.SigningMethodHS256, k.secret, jwtauth.KeyConfig{Algorithm: "HS256", Secret: secret}},
		{"HS384", jwt.SigningMethodHS384, []byte(secret + secret), jwtauth.KeyConfig{Algorithm: "HS384", Secret: secret + secret}},
		{"HS512", jwt.SigningMethodHS512, []byte(secret + secret), jwtauth.KeyConfig{Algorithm: "HS512", Secret: secret + secret}},
		{"RS256", jwt.SigningMethodRS256, k.rsa, jwtauth.KeyConfig{Algorithm: "RS256", PEM: pemRSA}},
		{"RS384", jwt.SigningMethodRS384, k.rsa, jwtauth.KeyConfig{Algorithm: "RS384", PEM: pemRSA}},
		{"RS512", jwt.SigningMethodRS512, k.rsa, jwtauth.KeyConfig{Algorithm: "RS512", PEM: pemRSA}},
		{"PS256", jwt.SigningMethodPS256, k.rsa, jwtauth.KeyConfig{Algorithm: "PS256", PEM: pemRSA}},
		{"PS384", jwt.SigningMethodPS384, k.rsa, jwtauth.KeyConfig{Algorithm: "PS384", PEM: pemRSA}},
		{"PS512", jwt.SigningMethodPS512, k.rsa, jwtauth.KeyConfig{Algorithm: "PS512", PEM: pemRSA}},
		{"ES256", jwt.SigningMethodES256, k.p256, jwtauth.KeyConfig{Algorithm: "ES256", PEM: pemOf(t, &k.p256.PublicKey)}},
		{"ES384", jwt.SigningMethodES384, k.p384, jwtauth.KeyConfig{Algorithm: "ES384", PEM: pemOf(t, &k.p384.PublicKey)}},
		{"ES512", jwt.SigningMethodES512, k.p521, jwtauth.KeyConfig{Algorithm: "ES512", PEM: pemOf(t, &k.p521.PublicKey)}},
		{"EdDSA", jwt.SigningMethodEdDSA, k.ed, jwtauth.KeyConfig{Algorithm: "EdDSA", PEM: pemOf(t, k.ed.Public())}},
	}
}

func TestVerifyAlgorithms(t *testing.T) {
	for _, tc := range algCases(t) {
		t.Run("alg="+tc.alg, func(t *testing.T) {
			tc.cfg.ID = "k1"
			v := newVerifier(t, jwtauth.Config{Keys: []jwtauth.KeyConfig{tc.cfg}}, newClock())
			tok := sign(t, tc.method, tc.sign, "k1", claims())
			c, err := v.Verify(context.Background(), tok)
			if err != nil {
				t.Fatalf("Verify: %v", err)
			}
			if c.Subject != "user-1" || c.KeyID != "k1" || !c.Expires.Equal(t0.Add(time.Hour)) {
				t.Errorf("claims = %+v", c)
			}
			if !c.HasScopes([]string{"chat:write", "chat:read"}) || c.HasScopes([]string{"admin"}) {
				t.Errorf("scopes = %q", c.Scopes)
			}
		})
	}
}

// TestVerifyWrongAlgorithm signs with the key's own material under another
// algorithm of the same family: the key's algorithm is fixed.
func TestVerifyWrongAlgorithm(t *testing.T) {
	k := keys(t)
	secret64 := []byte(string(k.secret) + string(k.secret))
	tests := []struct {
		name   string
		key    jwtauth.KeyConfig
		method jwt.SigningMethod
		sign   any
	}{
		{"HS256 key, HS512 token", jwtauth.KeyConfig{Algorithm: "HS256", Secret: string(secret64)}, jwt.SigningMethodHS512, secret64},
		{"RS256 key, RS512 token", jwtauth.KeyConfig{Algorithm: "RS256", PEM: pemOf(t, &k.rsa.PublicKey)}, jwt.SigningMethodRS512, k.rsa},
		{"RS256 key, PS256 token", jwtauth.KeyConfig{Algorithm: "RS256", PEM: pemOf(t, &k.rsa.PublicKey)}, jwt.SigningMethodPS256, k.rsa},
		{"PS256 key, RS256 token", jwtauth.KeyConfig{Algorithm: "PS256", PEM: pemOf(t, &k.rsa.PublicKey)}, jwt.SigningMethodRS256, k.rsa},
		{"ES256 key, EdDSA token", jwtauth.KeyConfig{Algorithm: "ES256", PEM: pemOf(t, &k.p256.PublicKey)}, jwt.SigningMethodEdDSA, k.ed},
		{"EdDSA key, HS256 token", jwtauth.KeyConfig{Algorithm: "EdDSA", PEM: pemOf(t, k.ed.Public())}, jwt.SigningMethodHS256, k.secret},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v := newVerifier(t, jwtauth.Config{Keys: []jwtauth.KeyConfig{tt.key}}, newClock())
			_, err := v.Verify(context.Background(), sign(t, tt.method, tt.sign, "", claims()))
			if !errors.Is(err, jwtauth.ErrAlgorithm) {
				t.Fatalf("err = %v, want ErrAlgorithm", err)
			}
		})
	}
}

func TestVerifyRefusesNone(t *testing.T) {
	k := keys(t)
	for _, cfg := range []jwtauth.KeyConfig{
		{Algorithm: "HS256", Secret: string(k.secret)},
		{Algorithm: "RS256", PEM: pemOf(t, &k.rsa.PublicKey)},
	} {
		t.Run("key="+cfg.Algorithm, func(t *testing.T) {
			v := newVerifier(t, jwtauth.Config{Keys: []jwtauth.KeyConfig{cfg}}, newClock())
			body, _ := json.Marshal(claims())
			for name, tok := range map[string]string{
				"jwt-made":        sign(t, jwt.SigningMethodNone, jwt.UnsafeAllowNoneSignatureType, "", claims()),
				"empty signature": rawToken(`{"alg":"none","typ":"JWT"}`, string(body), nil),
				"None":            rawToken(`{"alg":"None"}`, string(body), nil),
				"NONE":            rawToken(`{"alg":"NONE"}`, string(body), nil),
			} {
				_, err := v.Verify(context.Background(), tok)
				if !errors.Is(err, jwtauth.ErrAlgorithm) {
					t.Errorf("%s: err = %v, want ErrAlgorithm", name, err)
				}
			}
		})
	}
}

// TestVerifyHSRSConfusion is the classic attack: an HS256 token whose
// secret is the RSA public key the gateway holds.
func TestVerifyHSRSConfusion(t *testing.T) {
	k := keys(t)
	pub := pemOf(t, &k.rsa.PublicKey)
	der := func() []byte {
		b, _ := base64.StdEncoding.DecodeString(strings.Join(strings.Split(pub, "\n")[1:len(strings.Split(pub, "\n"))-2], ""))
		return b
	}()
	srv := newJWKSServer(t, jwkOf("rs", "", &k.rsa.PublicKey))
	for name, cfg := range map[string]jwtauth.Config{
		"pem":  {Keys: []jwtauth.KeyConfig{{ID: "rs", Algorithm: "RS256", PEM: pub}}},
		"jwks": {JWKSURL: srv.URL},
	} {
		t.Run("keys="+name, func(t *testing.T) {
			v := newVerifier(t, cfg, newClock())
			for secretName, secret := range map[string][]byte{"pem": []byte(pub), "der": der} {
				for _, m := range []jwt.SigningMethod{jwt.SigningMethodHS256, jwt.SigningMethodHS512} {
					_, err := v.Verify(context.Background(), sign(t, m, secret, "rs", claims()))
					if !errors.Is(err, jwtauth.ErrAlgorithm) {
						t.Errorf("%s secret=%s: err = %v, want ErrAlgorithm", m.Alg(), secretName, err)
					}
				}
			}
			// The real thing verifies.
			if _, err := v.Verify(context.Background(), sign(t, jwt.SigningMethodRS256, k.rsa, "rs", claims())); err != nil {
				t.Errorf("RS256: %v", err)
			}
		})
	}
}

func TestVerifySignature(t *testing.T) {
	k := keys(t)
	v := newVerifier(t, jwtauth.Config{Keys: []jwtauth.KeyConfig{
		{ID: "hs", Algorithm: "HS256", Secret: string(k.secret)},
		{ID: "rs", Algorithm: "RS256", PEM: pemOf(t, &k.rsa.PublicKey)},
		{ID: "es", Algorithm: "ES256", PEM: pemOf(t, &k.p256.PublicKey)},
	}}, newClock())
	good := sign(t, jwt.SigningMethodRS256, k.rsa, "rs", claims())
	parts := strings.Split(good, ".")
	evil, _ := json.Marshal(claims("sub", "admin"))
	tests := map[string]string{
		"other secret":    sign(t, jwt.SigningMethodHS256, []byte(strings.Repeat("x", 32)), "hs", claims()),
		"other RSA key":   sign(t, jwt.SigningMethodRS256, k.rsa2, "rs", claims()),
		"payload swapped": parts[0] + "." + base64.RawURLEncoding.EncodeToString(evil) + "." + parts[2],
		"signature cut":   parts[0] + "." + parts[1] + "." + parts[2][:len(parts[2])-4],
		"no signature":    parts[0] + "." + parts[1] + ".",
		"ES256 zero sig":  rawToken(`{"alg":"ES256","kid":"es"}`, `{"exp":1e10}`, make([]byte, 64)),
	}
	for name, tok := range tests {
		t.Run(name, func(t *testing.T) {
			_, err := v.Verify(context.Background(), tok)
			if !errors.Is(err, jwtauth.ErrSignature) {
				t.Fatalf("err = %v, want ErrSignature", err)
			}
		})
	}
}

func TestVerifyTimes(t *testing.T) {
	k := keys(t)
	exp := t0.Add(time.Hour)
	nbf := t0.Add(10 * time.Minute)
	tests := []struct {
		name   string
		leeway time.Duration
		claims jwt.MapClaims
		at     time.Time
		want   error
	}{
		{"valid", 0, claims(), t0, nil},
		{"exp just inside default leeway", 0, claims(), exp.Add(jwtauth.DefaultLeeway - time.Second), nil},
		{"exp at default leeway", 0, claims(), exp.Add(jwtauth.DefaultLeeway), jwtauth.ErrExpired},
		{"exp just outside leeway 5s", 5 * time.Second, claims(), exp.Add(5 * time.Second), jwtauth.ErrExpired},
		{"exp just inside leeway 5s", 5 * time.Second, claims(), exp.Add(4 * time.Second), nil},
		{"exp no leeway", -1, claims(), exp, jwtauth.ErrExpired},
		{"exp no leeway, a second before", -1, claims(), exp.Add(-time.Second), nil},
		{"nbf just inside leeway", 0, claims("nbf", nbf.Unix()), nbf.Add(-jwtauth.DefaultLeeway), nil},
		{"nbf just outside leeway", 0, claims("nbf", nbf.Unix()), nbf.Add(-jwtauth.DefaultLeeway - time.Second), jwtauth.ErrNotYetValid},
		{"nbf no leeway", -1, claims("nbf", nbf.Unix()), nbf.Add(-time.Second), jwtauth.ErrNotYetValid},
		{"no exp", 0, claims("exp", nil), t0, jwtauth.ErrMissingClaim},
		{"exp not a number", 0, claims("exp", "tomorrow"), t0, jwtauth.ErrMalformed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			clk := newClock()
			clk.Advance(tt.at.Sub(t0))
			v := newVerifier(t, jwtauth.Config{
				Leeway: tt.leeway,
				Keys:   []jwtauth.KeyConfig{{Algorithm: "HS256", Secret: string(k.secret)}},
			}, clk)
			_, err := v.Verify(context.Background(), sign(t, jwt.SigningMethodHS256, k.secret, "", tt.claims))
			if !errors.Is(err, tt.want) || (tt.want == nil) != (err == nil) {
				t.Fatalf("err = %v, want %v", err, tt.want)
			}
		})
	}
}

func TestVerifyIssuerAudience(t *testing.T) {
	k := keys(t)
	tests := []struct {
		name     string
		issuer   string
		audience []string
		claims   jwt.MapClaims
		want     error
	}{
		{"nothing checked", "", nil, claims("iss", nil, "aud", nil), nil},
		{"issuer matches", "https://auth.example.com/", nil, claims(), nil},
		{"issuer differs", "https://evil.example.com/", nil, claims(), jwtauth.ErrIssuer},
		{"issuer missing", "https://auth.example.com/", nil, claims("iss", nil), jwtauth.ErrMissingClaim},
		{"audience string", "", []string{"other", "chat-api"}, claims(), nil},
		{"audience array", "", []string{"chat-api"}, claims("aud", []string{"x", "chat-api"}), nil},
		{"audience differs", "", []string{"billing"}, claims("aud", []string{"x", "chat-api"}), jwtauth.ErrAudience},
		{"audience missing", "", []string{"chat-api"}, claims("aud", nil), jwtauth.ErrMissingClaim},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v := newVerifier(t, jwtauth.Config{
				Issuer: tt.issuer, Audience: tt.audience,
				Keys: []jwtauth.KeyConfig{{Algorithm: "HS256", Secret: string(k.secret)}},
			}, newClock())
			_, err := v.Verify(context.Background(), sign(t, jwt.SigningMethodHS256, k.secret, "", tt.claims))
			if !errors.Is(err, tt.want) || (tt.want == nil) != (err == nil) {
				t.Fatalf("err = %v, want %v", err, tt.want)
			}
		})
	}
}

func TestVerifyScopes(t *testing.T) {
	k := keys(t)
	tests := []struct {
		name       string
		scopeClaim string
		claims     jwt.MapClaims
		want       []string
	}{
		{"scope string", "", claims(), []string{"chat:read", "chat:write"}},
		{"scope extra spaces", "", claims("scope", "  a   b "), []string{"a", "b"}},
		{"scp array", "", claims("scope", nil, "scp", []string{"a", "b"}), []string{"a", "b"}},
		{"scp string", "", claims("scope", nil, "scp", "a b"), []string{"a", "b"}},
		{"scope wins over scp", "", claims("scp", []string{"x"}), []string{"chat:read", "chat:write"}},
		{"explicit scp", "scp", claims("scp", []string{"x"}), []string{"x"}},
		{"explicit scope only", "scope", claims("scope", nil, "scp", []string{"x"}), nil},
		{"custom claim", "permissions", claims("permissions", []string{"p1", "p2"}), []string{"p1", "p2"}},
		{"not a string", "", claims("scope", 42), nil},
		{"array of numbers", "", claims("scope", []int{1}), nil},
		{"none", "", claims("scope", nil), nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v := newVerifier(t, jwtauth.Config{
				ScopeClaim: tt.scopeClaim,
				Keys:       []jwtauth.KeyConfig{{Algorithm: "HS256", Secret: string(k.secret)}},
			}, newClock())
			c, err := v.Verify(context.Background(), sign(t, jwt.SigningMethodHS256, k.secret, "", tt.claims))
			if err != nil {
				t.Fatal(err)
			}
			if strings.Join(c.Scopes, " ") != strings.Join(tt.want, " ") {
				t.Fatalf("scopes = %q, want %q", c.Scopes, tt.want)
			}
		})
	}
}

func TestVerifyRaw(t *testing.T) {
	k := keys(t)
	v := newVerifier(t, jwtauth.Config{Keys: []jwtauth.KeyConfig{{Algorithm: "HS256", Secret: string(k.secret)}}}, newClock())
	payload := `{"sub":"u","exp":1893456000,"tenant":{"id":7,"name":"ä"},"roles":["a"]}`
	tok := jwt.NewWithClaims(jwt.SigningMethodHS256, jwt.MapClaims{})
	signing := base64.RawURLEncoding.EncodeToString([]byte(`{"alg":"HS256","typ":"JWT"}`)) + "." +
		base64.RawURLEncoding.EncodeToString([]byte(payload))
	sig, err := tok.Method.Sign(signing, k.secret)
	if err != nil {
		t.Fatal(err)
	}
	c, err := v.Verify(context.Background(), signing+"."+base64.RawURLEncoding.EncodeToString(sig))
	if err != nil {
		t.Fatal(err)
	}
	if string(c.Raw) != payload {
		t.Fatalf("Raw = %s, want the payload as signed %s", c.Raw, payload)
	}
	if c.Subject != "u" || len(c.Audience) != 0 {
		t.Fatalf("claims = %+v", c)
	}
}

func TestVerifyMalformed(t *testing.T) {
	k := keys(t)
	v := newVerifier(t, jwtauth.Config{Keys: []jwtauth.KeyConfig{
		{Algorithm: "HS256", Secret: string(k.secret)},
		{ID: "k", Algorithm: "HS256", Secret: string(k.secret)},
	}}, newClock())
	hs := func(header, payload string) string {
		signing := base64.RawURLEncoding.EncodeToString([]byte(header)) + "." + base64.RawURLEncoding.EncodeToString([]byte(payload))
		sig, _ := jwt.SigningMethodHS256.Sign(signing, k.secret)
		return signing + "." + base64.RawURLEncoding.EncodeToString(sig)
	}
	tests := []struct {
		name  string
		token string
		want  error
	}{
		{"empty", "", jwtauth.ErrNoToken},
		{"one part", "abc", jwtauth.ErrMalformed},
		{"two dots", "..", jwtauth.ErrMalformed},
		{"four parts", "a.b.c.d", jwtauth.ErrMalformed},
		{"header not base64", "!!!.e30.", jwtauth.ErrMalformed},
		{"header not JSON", rawToken(`nope`, `{}`, nil), jwtauth.ErrMalformed},
		{"no alg", rawToken(`{"typ":"JWT"}`, `{}`, nil), jwtauth.ErrAlgorithm},
		{"alg not a string", rawToken(`{"alg":7}`, `{}`, nil), jwtauth.ErrAlgorithm},
		{"unknown alg", rawToken(`{"alg":"HS1024"}`, `{}`, nil), jwtauth.ErrAlgorithm},
		{"payload an array", hs(`{"alg":"HS256"}`, `[1]`), jwtauth.ErrMalformed},
		{"kid not a string", hs(`{"alg":"HS256","kid":7}`, `{"exp":1e10}`), jwtauth.ErrMalformed},
		{"crit header", hs(`{"alg":"HS256","crit":["b64"],"b64":false}`, `{"exp":1e10}`), jwtauth.ErrMalformed},
		{"unknown kid", hs(`{"alg":"HS256","kid":"other"}`, `{"exp":1e10}`), jwtauth.ErrUnknownKey},
		{"too long", strings.Repeat("a", jwtauth.MaxTokenSize+1), jwtauth.ErrMalformed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := v.Verify(context.Background(), tt.token)
			if !errors.Is(err, tt.want) || c != nil {
				t.Fatalf("Verify = %v, %v; want %v", c, err, tt.want)
			}
		})
	}
	// The well-formed control verifies.
	if _, err := v.Verify(context.Background(), hs(`{"alg":"HS256","kid":"k"}`, `{"exp":1e10}`)); err != nil {
		t.Fatalf("control: %v", err)
	}
}

// TestVerifyKeyRotationStatic: two keys without kid for one algorithm are
// both tried, as during a rotation of a configured secret.
func TestVerifyKeyRotationStatic(t *testing.T) {
	k := keys(t)
	other := strings.Repeat("z", 32)
	v := newVerifier(t, jwtauth.Config{Keys: []jwtauth.KeyConfig{
		{Algorithm: "HS256", Secret: string(k.secret)},
		{Algorithm: "HS256", Secret: other},
	}}, newClock())
	for _, s := range [][]byte{k.secret, []byte(other)} {
		if _, err := v.Verify(context.Background(), sign(t, jwt.SigningMethodHS256, s, "", claims())); err != nil {
			t.Errorf("Verify: %v", err)
		}
	}
	_, err := v.Verify(context.Background(), sign(t, jwt.SigningMethodHS256, []byte(strings.Repeat("y", 32)), "", claims()))
	if !errors.Is(err, jwtauth.ErrSignature) {
		t.Errorf("third secret: err = %v, want ErrSignature", err)
	}
}

func TestCache(t *testing.T) {
	k := keys(t)
	cfg := jwtauth.Config{Keys: []jwtauth.KeyConfig{{Algorithm: "ES256", PEM: pemOf(t, &k.p256.PublicKey)}}}
	ctx := context.Background()

	t.Run("hit", func(t *testing.T) {
		v := newVerifier(t, cfg, newClock())
		tok := sign(t, jwt.SigningMethodES256, k.p256, "", claims())
		c1, err := v.Verify(ctx, tok)
		if err != nil {
			t.Fatal(err)
		}
		c2, err := v.Verify(ctx, tok)
		if err != nil {
			t.Fatal(err)
		}
		if c1 != c2 {
			t.Fatal("second Verify did not come from the cache")
		}
		allocs := testing.AllocsPerRun(100, func() { _, _ = v.Verify(ctx, tok) })
		if allocs != 0 {
			t.Errorf("cache hit allocates %v times", allocs)
		}
	})
	t.Run("expires", func(t *testing.T) {
		clk := newClock()
		v := newVerifier(t, cfg, clk)
		tok := sign(t, jwt.SigningMethodES256, k.p256, "", claims())
		if _, err := v.Verify(ctx, tok); err != nil {
			t.Fatal(err)
		}
		clk.Advance(time.Hour + jwtauth.DefaultLeeway - time.Second)
		if _, err := v.Verify(ctx, tok); err != nil {
			t.Fatalf("inside leeway: %v", err)
		}
		clk.Advance(time.Second)
		if _, err := v.Verify(ctx, tok); !errors.Is(err, jwtauth.ErrExpired) {
			t.Fatalf("after exp+leeway: err = %v, want ErrExpired", err)
		}
	})
	t.Run("nbf rechecked", func(t *testing.T) {
		clk := newClock()
		v := newVerifier(t, cfg, clk)
		tok := sign(t, jwt.SigningMethodES256, k.p256, "", claims("nbf", t0.Unix()))
		if _, err := v.Verify(ctx, tok); err != nil {
			t.Fatal(err)
		}
		clk.Advance(-time.Minute) // the clock stepped back
		if _, err := v.Verify(ctx, tok); !errors.Is(err, jwtauth.ErrNotYetValid) {
			t.Fatalf("err = %v, want ErrNotYetValid", err)
		}
	})
	t.Run("off", func(t *testing.T) {
		cfg := cfg
		cfg.CacheSize = -1
		v := newVerifier(t, cfg, newClock())
		tok := sign(t, jwt.SigningMethodES256, k.p256, "", claims())
		c1, _ := v.Verify(ctx, tok)
		c2, _ := v.Verify(ctx, tok)
		if c1 == nil || c1 == c2 {
			t.Fatal("with CacheSize -1, claims were cached")
		}
	})
	t.Run("bounded", func(t *testing.T) {
		cfg := jwtauth.Config{CacheSize: 16, Keys: []jwtauth.KeyConfig{{Algorithm: "HS256", Secret: string(k.secret)}}}
		v := newVerifier(t, cfg, newClock())
		for i := range 100 {
			tok := sign(t, jwt.SigningMethodHS256, k.secret, "", claims("jti", fmt.Sprint(i)))
			if _, err := v.Verify(ctx, tok); err != nil {
				t.Fatal(err)
			}
			if n := v.CacheLen(); n > 16 {
				t.Fatalf("cache holds %d entries, max 16", n)
			}
		}
	})
	t.Run("failures not cached", func(t *testing.T) {
		v := newVerifier(t, cfg, newClock())
		other, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		if err != nil {
			t.Fatal(err)
		}
		tok := sign(t, jwt.SigningMethodES256, other, "", claims())
		for range 3 {
			if _, err := v.Verify(ctx, tok); err == nil {
				t.Fatal("verified")
			}
		}
		if n := v.CacheLen(); n != 0 {
			t.Fatalf("cache holds %d entries after failures", n)
		}
	})
}
