package jwtauth_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/gatecast/gatecast/admission/jwtauth"
)

func TestJWKSKeyTypes(t *testing.T) {
	k := keys(t)
	enc := jwkOf("enc", "", &k.rsa2.PublicKey)
	enc["use"] = "enc"
	encOps := jwkOf("wrap", "", &k.rsa2.PublicKey)
	encOps["key_ops"] = []string{"wrapKey"}
	srv := newJWKSServer(t,
		jwkOf("rsa", "RS256", &k.rsa.PublicKey),
		jwkOf("p256", "ES256", &k.p256.PublicKey),
		jwkOf("p384", "", &k.p384.PublicKey),
		jwkOf("p521", "", &k.p521.PublicKey),
		jwkOf("ed", "EdDSA", k.ed.Public()),
		map[string]any{"kid": "oct", "kty": "oct", "k": "c2VjcmV0c2VjcmV0c2VjcmV0c2VjcmV0c2VjcmV0"},
		map[string]any{"kid": "x448", "kty": "OKP", "crv": "X448", "x": "AAAA"},
		enc, encOps,
	)
	v := newVerifier(t, jwtauth.Config{JWKSURL: srv.URL}, newClock())
	tests := []struct {
		name string
		tok  string
		want error
	}{
		{"RSA", sign(t, jwt.SigningMethodRS256, k.rsa, "rsa", claims()), nil},
		{"EC P-256", sign(t, jwt.SigningMethodES256, k.p256, "p256", claims()), nil},
		{"EC P-384 without alg", sign(t, jwt.SigningMethodES384, k.p384, "p384", claims()), nil},
		{"EC P-521 without alg", sign(t, jwt.SigningMethodES512, k.p521, "p521", claims()), nil},
		{"OKP Ed25519", sign(t, jwt.SigningMethodEdDSA, k.ed, "ed", claims()), nil},
		{"use enc ignored", sign(t, jwt.SigningMethodRS256, k.rsa2, "enc", claims()), jwtauth.ErrUnknownKey},
		{"key_ops without verify ignored", sign(t, jwt.SigningMethodRS256, k.rsa2, "wrap", claims()), jwtauth.ErrUnknownKey},
		{"oct never used", sign(t, jwt.SigningMethodHS256, []byte("secretsecretsecretsecretsecretsecret"), "oct", claims()), jwtauth.ErrAlgorithm},
		{"no kid", sign(t, jwt.SigningMethodRS256, k.rsa, "", claims()), jwtauth.ErrUnknownKey},
		{"wrong key for kid", sign(t, jwt.SigningMethodES256, k.p256, "p384", claims()), jwtauth.ErrAlgorithm},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := v.Verify(context.Background(), tt.tok)
			if !errors.Is(err, tt.want) || (tt.want == nil) != (err == nil) {
				t.Fatalf("err = %v, want %v", err, tt.want)
			}
		})
	}
}

// TestJWKSAlgPin: a JWK's alg is the only algorithm its key accepts; an RSA
// JWK without alg accepts RS256.
func TestJWKSAlgPin(t *testing.T) {
	k := keys(t)
	srv := newJWKSServer(t,
		jwkOf("pss", "PS256", &k.rsa.PublicKey),
		jwkOf("plain", "", &k.rsa.PublicKey),
		jwkOf("p256-as-es384", "ES384", &k.p256.PublicKey), // inconsistent: skipped
	)
	v := newVerifier(t, jwtauth.Config{JWKSURL: srv.URL}, newClock())
	tests := []struct {
		name string
		tok  string
		want error
	}{
		{"pinned PS256 accepts PS256", sign(t, jwt.SigningMethodPS256, k.rsa, "pss", claims()), nil},
		{"pinned PS256 refuses RS256", sign(t, jwt.SigningMethodRS256, k.rsa, "pss", claims()), jwtauth.ErrAlgorithm},
		{"no alg accepts RS256", sign(t, jwt.SigningMethodRS256, k.rsa, "plain", claims()), nil},
		{"no alg refuses PS256", sign(t, jwt.SigningMethodPS256, k.rsa, "plain", claims()), jwtauth.ErrAlgorithm},
		{"no alg refuses RS512", sign(t, jwt.SigningMethodRS512, k.rsa, "plain", claims()), jwtauth.ErrAlgorithm},
		{"alg inconsistent with curve", sign(t, jwt.SigningMethodES256, k.p256, "p256-as-es384", claims()), jwtauth.ErrUnknownKey},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := v.Verify(context.Background(), tt.tok)
			if !errors.Is(err, tt.want) || (tt.want == nil) != (err == nil) {
				t.Fatalf("err = %v, want %v", err, tt.want)
			}
		})
	}
}

// TestJWKSUnknownKidRateLimited floods the verifier with made-up kids: the
// JWKS is fetched at most once per JWKSMinRefreshInterval.
func TestJWKSUnknownKidRateLimited(t *testing.T) {
	k := keys(t)
	srv := newJWKSServer(t, jwkOf("a", "ES256", &k.p256.PublicKey))
	clk := newClock()
	v := newVerifier(t, jwtauth.Config{JWKSURL: srv.URL, JWKSMinRefreshInterval: time.Minute}, clk)
	ctx := context.Background()
	if _, err := v.Verify(ctx, sign(t, jwt.SigningMethodES256, k.p256, "a", claims())); err != nil {
		t.Fatal(err)
	}
	if n := srv.fetches.Load(); n != 1 {
		t.Fatalf("first Verify: %d fetches, want 1", n)
	}
	flood := func(round int) {
		t.Helper()
		var wg sync.WaitGroup
		for i := range 50 {
			wg.Go(func() {
				tok := sign(t, jwt.SigningMethodES256, k.p256, fmt.Sprintf("made-up-%d-%d", round, i), claims())
				if _, err := v.Verify(ctx, tok); !errors.Is(err, jwtauth.ErrUnknownKey) {
					t.Errorf("made-up kid: err = %v, want ErrUnknownKey", err)
				}
			})
		}
		wg.Wait()
	}
	// The first fetch was at t0: within the interval, no fetch at all.
	flood(0)
	if n := srv.fetches.Load(); n != 1 {
		t.Fatalf("flood inside the interval: %d fetches, want 1", n)
	}
	clk.Advance(time.Minute)
	flood(1)
	if n := srv.fetches.Load(); n != 2 {
		t.Fatalf("flood after the interval: %d fetches, want 2", n)
	}
	clk.Advance(59 * time.Second)
	flood(2)
	if n := srv.fetches.Load(); n != 2 {
		t.Fatalf("flood 59s later: %d fetches, want 2", n)
	}
	clk.Advance(time.Second)
	flood(3)
	if n := srv.fetches.Load(); n != 3 {
		t.Fatalf("flood 60s later: %d fetches, want 3", n)
	}
	// The known key still works throughout.
	if _, err := v.Verify(ctx, sign(t, jwt.SigningMethodES256, k.p256, "a", claims())); err != nil {
		t.Fatal(err)
	}
}

// TestJWKSRotation: the provider replaces key a by key b. A token with the
// new kid makes the verifier refresh; afterwards a's tokens, cached or
// not, are refused.
func TestJWKSRotation(t *testing.T) {
	k := keys(t)
	srv := newJWKSServer(t, jwkOf("a", "RS256", &k.rsa.PublicKey))
	clk := newClock()
	v := newVerifier(t, jwtauth.Config{JWKSURL: srv.URL}, clk)
	ctx := context.Background()
	tokA := sign(t, jwt.SigningMethodRS256, k.rsa, "a", claims())
	tokB := sign(t, jwt.SigningMethodRS256, k.rsa2, "b", claims())
	if _, err := v.Verify(ctx, tokA); err != nil {
		t.Fatal(err)
	}
	if v.CacheLen() != 1 {
		t.Fatal("token a not cached")
	}

	srv.set(jwkOf("b", "RS256", &k.rsa2.PublicKey))
	clk.Advance(jwtauth.DefaultJWKSMinRefreshInterval)
	if _, err := v.Verify(ctx, tokB); err != nil {
		t.Fatalf("new kid after rotation: %v", err)
	}
	if n := srv.fetches.Load(); n != 2 {
		t.Fatalf("%d fetches, want 2", n)
	}
	if _, err := v.Verify(ctx, tokA); !errors.Is(err, jwtauth.ErrUnknownKey) {
		t.Fatalf("old kid after rotation: err = %v, want ErrUnknownKey", err)
	}
}

// TestJWKSPeriodicRefresh: a set older than JWKSRefresh is renewed in the
// background while tokens go on verifying with the keys held.
func TestJWKSPeriodicRefresh(t *testing.T) {
	k := keys(t)
	srv := newJWKSServer(t, jwkOf("a", "ES256", &k.p256.PublicKey))
	clk := newClock()
	v := newVerifier(t, jwtauth.Config{JWKSURL: srv.URL, JWKSRefresh: 10 * time.Minute}, clk)
	ctx := context.Background()
	tokA := sign(t, jwt.SigningMethodES256, k.p256, "a", claims())
	if _, err := v.Verify(ctx, tokA); err != nil {
		t.Fatal(err)
	}
	clk.Advance(9 * time.Minute)
	if _, err := v.Verify(ctx, tokA); err != nil {
		t.Fatal(err)
	}
	if n := srv.fetches.Load(); n != 1 {
		t.Fatalf("before JWKSRefresh: %d fetches, want 1", n)
	}

	// The provider drops a for b; the next Verify after 10 minutes (a cache
	// hit) still succeeds but starts a refresh, after which a is gone.
	// The fetch is held until the check is done: otherwise it may finish
	// before Verify reads the cache, and correctly drop token a already.
	srv.set(jwkOf("b", "ES384", &k.p384.PublicKey))
	hold := make(chan struct{})
	srv.setHold(hold)
	clk.Advance(time.Minute)
	if _, err := v.Verify(ctx, tokA); err != nil {
		t.Fatalf("while refreshing: %v", err)
	}
	srv.setHold(nil)
	close(hold)
	checkFor(t, 5*time.Second, func() error {
		if _, err := v.Verify(ctx, tokA); !errors.Is(err, jwtauth.ErrUnknownKey) {
			return fmt.Errorf("token a after refresh: err = %v, want ErrUnknownKey", err)
		}
		return nil
	})
	if _, err := v.Verify(ctx, sign(t, jwt.SigningMethodES384, k.p384, "b", claims())); err != nil {
		t.Fatal(err)
	}
	if n := srv.fetches.Load(); n != 2 {
		t.Fatalf("%d fetches, want 2", n)
	}
}

// TestJWKSServerDown: when the JWKS goes away, the keys held keep working,
// and the verifier retries at most once per JWKSMinRefreshInterval.
func TestJWKSServerDown(t *testing.T) {
	k := keys(t)
	srv := newJWKSServer(t, jwkOf("a", "ES256", &k.p256.PublicKey))
	clk := newClock()
	v := newVerifier(t, jwtauth.Config{JWKSURL: srv.URL, CacheSize: -1}, clk)
	ctx := context.Background()
	tok := sign(t, jwt.SigningMethodES256, k.p256, "a", claims("exp", t0.Add(24*time.Hour).Unix()))
	if _, err := v.Verify(ctx, tok); err != nil {
		t.Fatal(err)
	}
	srv.setDown(true)
	clk.Advance(jwtauth.DefaultJWKSRefresh)
	for range 20 {
		if _, err := v.Verify(ctx, tok); err != nil {
			t.Fatalf("with the JWKS down: %v", err)
		}
	}
	checkFor(t, 5*time.Second, func() error {
		if n := srv.fetches.Load(); n != 2 {
			return fmt.Errorf("%d fetches, want 2", n)
		}
		return nil
	})
	// An unknown kid now is refused at once, with the failure in the log
	// reason; no fetch within the interval.
	_, err := v.Verify(ctx, sign(t, jwt.SigningMethodES256, k.p256, "new", claims("exp", t0.Add(24*time.Hour).Unix())))
	if !errors.Is(err, jwtauth.ErrUnknownKey) || !strings.Contains(err.Error(), "502") {
		t.Fatalf("unknown kid with JWKS down: err = %v", err)
	}
	// After the interval, one more try, still failing: the old key works.
	clk.Advance(jwtauth.DefaultJWKSMinRefreshInterval)
	if _, err := v.Verify(ctx, tok); err != nil {
		t.Fatal(err)
	}
	checkFor(t, 5*time.Second, func() error {
		if n := srv.fetches.Load(); n != 3 {
			return fmt.Errorf("%d fetches, want 3", n)
		}
		return nil
	})
	if _, err := v.Verify(ctx, tok); err != nil {
		t.Fatal(err)
	}
}

// TestJWKSUnavailableAtStart: New does not need the JWKS; until a fetch
// succeeds, tokens are refused with 503, not 401.
func TestJWKSUnavailableAtStart(t *testing.T) {
	k := keys(t)
	srv := newJWKSServer(t, jwkOf("a", "ES256", &k.p256.PublicKey))
	srv.setDown(true)
	clk := newClock()
	v := newVerifier(t, jwtauth.Config{JWKSURL: srv.URL}, clk)
	if n := srv.fetches.Load(); n != 0 {
		t.Fatalf("New fetched the JWKS %d times", n)
	}
	tok := sign(t, jwt.SigningMethodES256, k.p256, "a", claims())
	_, err := v.Authorize(context.Background(), jwtauth.Source{}, bearer(tok), nil)
	var e *jwtauth.Error
	if !errors.As(err, &e) || e.Status != 503 || e.RetryAfter != jwtauth.DefaultJWKSMinRefreshInterval ||
		!errors.Is(err, jwtauth.ErrKeysUnavailable) || e.WWWAuthenticate != "" {
		t.Fatalf("err = %#v", err)
	}
	if e.Public != "Service Unavailable" {
		t.Fatalf("Public = %q", e.Public)
	}

	srv.setDown(false)
	if err := v.Refresh(context.Background()); err != nil {
		t.Fatalf("Refresh: %v", err)
	}
	if _, err := v.Verify(context.Background(), tok); err != nil {
		t.Fatal(err)
	}
}

// TestJWKSNoWait: with a context already done, Verify does not wait for
// the fetch it starts.
func TestJWKSNoWait(t *testing.T) {
	k := keys(t)
	srv := newJWKSServer(t, jwkOf("a", "ES256", &k.p256.PublicKey))
	hold := make(chan struct{})
	srv.setHold(hold)
	v := newVerifier(t, jwtauth.Config{JWKSURL: srv.URL}, newClock())
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	tok := sign(t, jwt.SigningMethodES256, k.p256, "a", claims())
	if _, err := v.Verify(ctx, tok); !errors.Is(err, jwtauth.ErrKeysUnavailable) {
		t.Fatalf("err = %v, want ErrKeysUnavailable", err)
	}
	close(hold)
	if err := v.Refresh(context.Background()); err != nil {
		t.Fatal(err)
	}
	if _, err := v.Verify(ctx, tok); err != nil {
		t.Fatal(err)
	}
}

func TestJWKSClose(t *testing.T) {
	k := keys(t)
	srv := newJWKSServer(t, jwkOf("a", "ES256", &k.p256.PublicKey))
	hold := make(chan struct{})
	defer close(hold)
	srv.setHold(hold)
	v, err := jwtauth.New(jwtauth.Config{JWKSURL: srv.URL})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	if err := v.Refresh(ctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Refresh with the server hanging: %v", err)
	}
	// The fetch is still under way; Close cancels it and returns.
	done := make(chan struct{})
	go func() {
		v.Close()
		v.Close()
		close(done)
	}()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("Close did not end the fetch")
	}
	if err := v.Refresh(context.Background()); !errors.Is(err, jwtauth.ErrClosed) {
		t.Fatalf("Refresh after Close: %v", err)
	}
}

func TestParseJWKS(t *testing.T) {
	smallRSA := `{"kty":"RSA","kid":"s","n":"` + strings.Repeat("A", 170) + `","e":"AQAB"}`
	offCurve := `{"kty":"EC","crv":"P-256","x":"` + strings.Repeat("A", 43) + `","y":"` + strings.Repeat("A", 42) + `E"}`
	good := func() string {
		other, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		return jsonOf(t, jwkOf("g", "", &other.PublicKey))
	}()
	tests := []struct {
		name string
		body string
		keys int
		ok   bool
	}{
		{"not JSON", `<html>`, 0, false},
		{"no keys member", `{}`, 0, false},
		{"empty", `{"keys":[]}`, 0, false},
		{"keys not an array", `{"keys":{}}`, 0, false},
		{"only unusable", `{"keys":[{"kty":"oct","k":"AAAA"},` + smallRSA + `,` + offCurve + `]}`, 0, false},
		{"one good among bad", `{"keys":[7,{"kty":"EC","crv":"P-256"},` + smallRSA + `,` + good + `]}`, 1, true},
		{"bad e", `{"keys":[{"kty":"RSA","n":"AQAB","e":"AAE"}]}`, 0, false},
		{"Ed25519 short x", `{"keys":[{"kty":"OKP","crv":"Ed25519","x":"AAAA"}]}`, 0, false},
		{"alg of another key type", `{"keys":[{"kty":"OKP","crv":"Ed25519","alg":"RS256","x":"` + strings.Repeat("A", 43) + `"}]}`, 0, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			n, err := jwtauth.ParseJWKS([]byte(tt.body))
			if (err == nil) != tt.ok || n != tt.keys {
				t.Fatalf("ParseJWKS = %d, %v; want %d keys, ok %v", n, err, tt.keys, tt.ok)
			}
		})
	}
}
