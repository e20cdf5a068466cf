package jwtauth_test

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"math/big"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/gatecast/gatecast/admission/jwtauth"
)

// t0 is the fake clock's start: tokens in tests and fuzz seeds are made
// relative to it.
var t0 = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

// clock is a fake clock, safe for concurrent use.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock() *clock { return &clock{t: t0} }

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// testKeys are generated once per test binary: RSA generation is slow.
type testKeys struct {
	secret []byte
	rsa    *rsa.PrivateKey
	rsa2   *rsa.PrivateKey
	p256   *ecdsa.PrivateKey
	p384   *ecdsa.PrivateKey
	p521   *ecdsa.PrivateKey
	ed     ed25519.PrivateKey
}

var keysOnce = sync.OnceValue(func() *testKeys {
	must := func(err error) {
		if err != nil {
			panic(err)
		}
	}
	k := &testKeys{secret: []byte(strings.Repeat("0123456789abcdef", 4))}
	var err error
	k.rsa, err = rsa.GenerateKey(rand.Reader, 2048)
	must(err)
	k.rsa2, err = rsa.GenerateKey(rand.Reader, 2048)
	must(err)
	k.p256, err = ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	must(err)
	k.p384, err = ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	must(err)
	k.p521, err = ecdsa.GenerateKey(elliptic.P521(), rand.Reader)
	must(err)
	_, k.ed, err = ed25519.GenerateKey(rand.Reader)
	must(err)
	return k
})

func keys(t testing.TB) *testKeys {
	t.Helper()
	return keysOnce()
}

// claims returns standard claims valid at t0 for an hour.
func claims(extra ...any) jwt.MapClaims {
	c := jwt.MapClaims{
		"sub":   "user-1",
		"iss":   "https://auth.example.com/",
		"aud":   "chat-api",
		"exp":   t0.Add(time.Hour).Unix(),
		"iat":   t0.Unix(),
		"scope": "chat:read chat:write",
	}
	for i := 0; i+1 < len(extra); i += 2 {
		name := extra[i].(string)
		if extra[i+1] == nil {
			delete(c, name)
		} else {
			c[name] = extra[i+1]
		}
	}
	return c
}

// sign makes a token; kid "" leaves the header out.
func sign(t testing.TB, method jwt.SigningMethod, key any, kid string, c jwt.Claims) string {
	t.Helper()
	tok := jwt.NewWithClaims(method, c)
	if kid != "" {
		tok.Header["kid"] = kid
	}
	s, err := tok.SignedString(key)
	if err != nil {
		t.Fatalf("sign %s: %v", method.Alg(), err)
	}
	return s
}

// rawToken assembles a token from a header and payload given as JSON and a
// signature, for tokens jwt refuses to make.
func rawToken(header, payload string, sig []byte) string {
	enc := base64.RawURLEncoding
	return enc.EncodeToString([]byte(header)) + "." + enc.EncodeToString([]byte(payload)) + "." + enc.EncodeToString(sig)
}

func pemOf(t testing.TB, pub crypto.PublicKey) string {
	t.Helper()
	der, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		t.Fatal(err)
	}
	return string(pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der}))
}

// newVerifier builds a verifier on clk that the test closes.
func newVerifier(t testing.TB, cfg jwtauth.Config, clk *clock) *jwtauth.Verifier {
	t.Helper()
	if clk != nil {
		cfg.Now = clk.Now
	}
	v, err := jwtauth.New(cfg)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	t.Cleanup(v.Close)
	return v
}

// jwkOf encodes a public key as a JWK; alg "" leaves it out.
func jwkOf(kid, alg string, pub crypto.PublicKey) map[string]any {
	enc := base64.RawURLEncoding.EncodeToString
	m := map[string]any{"kid": kid}
	if alg != "" {
		m["alg"] = alg
	}
	switch k := pub.(type) {
	case *rsa.PublicKey:
		m["kty"] = "RSA"
		m["n"] = enc(k.N.Bytes())
		m["e"] = enc(big.NewInt(int64(k.E)).Bytes())
	case *ecdsa.PublicKey:
		b, err := k.Bytes()
		if err != nil {
			panic(err)
		}
		size := (len(b) - 1) / 2
		m["kty"] = "EC"
		m["crv"] = k.Curve.Params().Name
		m["x"] = enc(b[1 : 1+size])
		m["y"] = enc(b[1+size:])
	case ed25519.PublicKey:
		m["kty"] = "OKP"
		m["crv"] = "Ed25519"
		m["x"] = enc(k)
	default:
		panic(fmt.Sprintf("jwkOf %T", pub))
	}
	return m
}

// jwksServer serves a key set the test changes, and counts fetches.
type jwksServer struct {
	*httptest.Server
	fetches atomic.Int64

	mu   sync.Mutex
	keys []map[string]any
	down bool
	// hold, when not nil, blocks every request until closed.
	hold chan struct{}
}

func newJWKSServer(t testing.TB, keys ...map[string]any) *jwksServer {
	t.Helper()
	s := &jwksServer{keys: keys}
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.fetches.Add(1)
		s.mu.Lock()
		keys, down, hold := s.keys, s.down, s.hold
		s.mu.Unlock()
		if hold != nil {
			select {
			case <-hold:
			case <-r.Context().Done():
				return
			}
		}
		if down {
			http.Error(w, "down", http.StatusBadGateway)
			return
		}
		w.Header().Set("Content-Type", "application/jwk-set+json")
		_ = json.NewEncoder(w).Encode(map[string]any{"keys": keys})
	}))
	t.Cleanup(s.Close)
	return s
}

func (s *jwksServer) set(keys ...map[string]any) {
	s.mu.Lock()
	s.keys = keys
	s.mu.Unlock()
}

func (s *jwksServer) setDown(down bool) {
	s.mu.Lock()
	s.down = down
	s.mu.Unlock()
}

func (s *jwksServer) setHold(ch chan struct{}) {
	s.mu.Lock()
	s.hold = ch
	s.mu.Unlock()
}

// checkFor polls f until it returns nil or timeout passes.
func checkFor(t testing.TB, timeout time.Duration, f func() error) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		err := f()
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatal(err)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// request is a Request from maps.
type request struct {
	header, query, cookie map[string]string
}

func (r request) Header(name string) string {
	for k, v := range r.header {
		if strings.EqualFold(k, name) {
			return v
		}
	}
	return ""
}
func (r request) Query(name string) string  { return r.query[name] }
func (r request) Cookie(name string) string { return r.cookie[name] }

func bearer(tok string) request {
	return request{header: map[string]string{"Authorization": "Bearer " + tok}}
}

func jsonOf(t testing.TB, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
