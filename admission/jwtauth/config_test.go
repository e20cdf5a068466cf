package jwtauth_test

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"math/big"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"go.yaml.in/yaml/v3"

	"github.com/gatecast/gatecast/admission/jwtauth"
)

func TestNewErrors(t *testing.T) {
	k := keys(t)
	small, err := rsa.GenerateKey(rand.Reader, 1024)
	if err != nil {
		t.Fatal(err)
	}
	privDER, _ := x509.MarshalPKCS8PrivateKey(k.p256)
	privPEM := string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: privDER}))
	secret := string(k.secret)
	rsaPEM := pemOf(t, &k.rsa.PublicKey)
	tests := []struct {
		name string
		cfg  jwtauth.Config
		want string // in the message
	}{
		{"no keys", jwtauth.Config{}, "no keys"},
		{"no algorithm", jwtauth.Config{Keys: []jwtauth.KeyConfig{{Secret: secret}}}, "algorithm is required"},
		{"none", jwtauth.Config{Keys: []jwtauth.KeyConfig{{Algorithm: "none", Secret: secret}}}, `"none" is not one of`},
		{"short secret", jwtauth.Config{Keys: []jwtauth.KeyConfig{{Algorithm: "HS256", Secret: "short"}}}, "at least 32"},
		{"short HS512 secret", jwtauth.Config{Keys: []jwtauth.KeyConfig{{Algorithm: "HS512", Secret: secret[:48]}}}, "at least 64"},
		{"HS with PEM", jwtauth.Config{Keys: []jwtauth.KeyConfig{{Algorithm: "HS256", PEM: rsaPEM}}}, "needs a shared secret"},
		{"RS with secret", jwtauth.Config{Keys: []jwtauth.KeyConfig{{Algorithm: "RS256", Secret: secret}}}, "needs an RSA public key"},
		{"secret and PEM", jwtauth.Config{Keys: []jwtauth.KeyConfig{{Algorithm: "RS256", Secret: secret, PEM: rsaPEM}}}, "exactly one"},
		{"nothing", jwtauth.Config{Keys: []jwtauth.KeyConfig{{Algorithm: "HS256"}}}, "exactly one of secret and secret_env"},
		{"private key", jwtauth.Config{Keys: []jwtauth.KeyConfig{{Algorithm: "ES256", PEM: privPEM}}}, "public key only"},
		{"not PEM", jwtauth.Config{Keys: []jwtauth.KeyConfig{{Algorithm: "ES256", PEM: "MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAE"}}}, "no PEM block"},
		{"small RSA", jwtauth.Config{Keys: []jwtauth.KeyConfig{{Algorithm: "RS256", PEM: pemOf(t, &small.PublicKey)}}}, "1024 bits"},
		{"curve mismatch", jwtauth.Config{Keys: []jwtauth.KeyConfig{{Algorithm: "ES256", PEM: pemOf(t, &k.p384.PublicKey)}}}, "needs a key on P-256"},
		{"RSA for EdDSA", jwtauth.Config{Keys: []jwtauth.KeyConfig{{Algorithm: "EdDSA", PEM: rsaPEM}}}, "needs an Ed25519"},
		{"unset env", jwtauth.Config{Keys: []jwtauth.KeyConfig{{Algorithm: "HS256", SecretEnv: "GATECAST_TEST_UNSET_SECRET"}}}, "is not set"},
		{"missing file", jwtauth.Config{Keys: []jwtauth.KeyConfig{{Algorithm: "RS256", PEMFile: "/nonexistent/key.pem"}}}, "pem_file"},
		{"http JWKS", jwtauth.Config{JWKSURL: "http://auth.example.com/jwks"}, "use https"},
		{"JWKS scheme", jwtauth.Config{JWKSURL: "ftp://auth.example.com/jwks"}, "use https"},
		{"JWKS no host", jwtauth.Config{JWKSURL: "https:///jwks"}, "no host"},
		{"empty audience", jwtauth.Config{JWKSURL: "https://a.example/jwks", Audience: []string{""}}, "audience"},
		{"bad realm", jwtauth.Config{JWKSURL: "https://a.example/jwks", Realm: `a"b`}, "realm"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v, err := jwtauth.New(tt.cfg)
			if err == nil {
				v.Close()
				t.Fatal("New accepted the config")
			}
			if !errors.Is(err, jwtauth.ErrInvalidConfig) || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err = %v, want ErrInvalidConfig with %q", err, tt.want)
			}
		})
	}
}

func TestNewKeySources(t *testing.T) {
	k := keys(t)
	dir := t.TempDir()
	file := filepath.Join(dir, "rsa.pem")
	if err := os.WriteFile(file, []byte(pemOf(t, &k.rsa.PublicKey)), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv("GATECAST_TEST_SECRET", string(k.secret))
	pkcs1 := string(pem.EncodeToMemory(&pem.Block{Type: "RSA PUBLIC KEY", Bytes: x509.MarshalPKCS1PublicKey(&k.rsa.PublicKey)}))
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "idp"},
		NotBefore: t0, NotAfter: t0.Add(time.Hour)}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &k.p256.PublicKey, k.p256)
	if err != nil {
		t.Fatal(err)
	}
	cert := string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}))

	v := newVerifier(t, jwtauth.Config{Keys: []jwtauth.KeyConfig{
		{ID: "file", Algorithm: "RS256", PEMFile: file},
		{ID: "env", Algorithm: "HS256", SecretEnv: "GATECAST_TEST_SECRET"},
		{ID: "pkcs1", Algorithm: "PS256", PEM: "  \n" + pkcs1},
		{ID: "cert", Algorithm: "ES256", PEM: cert},
	}}, newClock())
	for name, tok := range map[string]string{
		"file":  sign(t, jwt.SigningMethodRS256, k.rsa, "file", claims()),
		"env":   sign(t, jwt.SigningMethodHS256, k.secret, "env", claims()),
		"pkcs1": sign(t, jwt.SigningMethodPS256, k.rsa, "pkcs1", claims()),
		"cert":  sign(t, jwt.SigningMethodES256, k.p256, "cert", claims()),
	} {
		if _, err := v.Verify(context.Background(), tok); err != nil {
			t.Errorf("%s: %v", name, err)
		}
	}
}

// TestNewLoopbackHTTP: plain http is fine for a JWKS on this machine.
func TestNewLoopbackHTTP(t *testing.T) {
	for _, u := range []string{"http://127.0.0.1:1/jwks", "http://localhost/jwks", "http://[::1]:8080/jwks"} {
		v, err := jwtauth.New(jwtauth.Config{JWKSURL: u})
		if err != nil {
			t.Errorf("%s: %v", u, err)
			continue
		}
		v.Close()
	}
}

// TestConfigYAML: the configuration file's form, durations and sources
// included.
func TestConfigYAML(t *testing.T) {
	const doc = `
auth:
  issuer: https://auth.example.com/
  audience: [chat-api]
  jwks_url: https://auth.example.com/.well-known/jwks.json
  jwks_refresh: 15m
  jwks_min_refresh_interval: 10s
  leeway: 5s
  scope_claim: scp
  keys:
    - kid: local
      algorithm: HS256
      secret_env: CHAT_SECRET
source: query:access_token
`
	var got struct {
		Auth   jwtauth.Config `yaml:"auth"`
		Source jwtauth.Source `yaml:"source"`
	}
	if err := yaml.Unmarshal([]byte(doc), &got); err != nil {
		t.Fatal(err)
	}
	c := got.Auth
	if c.Issuer != "https://auth.example.com/" || len(c.Audience) != 1 || c.JWKSRefresh != 15*time.Minute ||
		c.JWKSMinRefreshInterval != 10*time.Second || c.Leeway != 5*time.Second || c.ScopeClaim != "scp" ||
		len(c.Keys) != 1 || c.Keys[0].ID != "local" || c.Keys[0].SecretEnv != "CHAT_SECRET" {
		t.Fatalf("config = %+v", c)
	}
	if got.Source != (jwtauth.Source{Kind: jwtauth.SourceQuery, Name: "access_token"}) {
		t.Fatalf("source = %+v", got.Source)
	}
	if err := yaml.Unmarshal([]byte("source: body:x"), &got); err == nil {
		t.Fatal("bad source accepted")
	}
}
