package jwtauth_test

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/hmac"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"math/big"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/golang-jwt/jwt/v5"

	"github.com/gatecast/gatecast/admission/jwtauth"
)

var updateSeeds = flag.Bool("update-seeds", false, "rewrite the seed corpora in testdata/fuzz")

// Fuzz keys are fixed, so the seed corpus holds tokens that verify.
var (
	fuzzSecret = []byte("gatecast-fuzz-secret-0123456789abcdef")
	fuzzEd     = ed25519.NewKeyFromSeed([]byte("gatecast-fuzz-ed25519-seed-32byt"))
)

// fuzzVerifier holds HS256 keys with and without kid, an EdDSA key, and
// ES256 and RS256 keys (generated: no seed verifies with them).
func fuzzVerifier(t testing.TB) (*jwtauth.Verifier, map[string]crypto.PublicKey) {
	k := keys(t)
	v := newVerifier(t, jwtauth.Config{
		Issuer: "https://auth.example.com/",
		Keys: []jwtauth.KeyConfig{
			{ID: "hs", Algorithm: "HS256", Secret: string(fuzzSecret)},
			{Algorithm: "HS256", Secret: string(fuzzSecret)},
			{ID: "ed", Algorithm: "EdDSA", PEM: pemOf(t, fuzzEd.Public())},
			{ID: "es", Algorithm: "ES256", PEM: pemOf(t, &k.p256.PublicKey)},
			{ID: "rs", Algorithm: "RS256", PEM: pemOf(t, &k.rsa.PublicKey)},
		},
	}, newClock())
	return v, map[string]crypto.PublicKey{"ed": fuzzEd.Public(), "es": &k.p256.PublicKey, "rs": &k.rsa.PublicKey}
}

// sentinels are the errors every refusal of Verify wraps.
var sentinels = []error{
	jwtauth.ErrNoToken, jwtauth.ErrMalformed, jwtauth.ErrAlgorithm, jwtauth.ErrUnknownKey,
	jwtauth.ErrSignature, jwtauth.ErrExpired, jwtauth.ErrNotYetValid, jwtauth.ErrIssuer,
	jwtauth.ErrAudience, jwtauth.ErrMissingClaim,
}

// FuzzVerify: no input panics, every refusal says why with a sentinel, and
// a token that verifies carries a signature that an independent check with
// the key its header names accepts.
func FuzzVerify(f *testing.F) {
	v, pubs := fuzzVerifier(f)
	f.Add("")
	f.Add("a.b.c")
	f.Fuzz(func(t *testing.T, token string) {
		c, err := v.Verify(context.Background(), token)
		if err != nil {
			if c != nil {
				t.Fatalf("claims with error %v", err)
			}
			for _, s := range sentinels {
				if errors.Is(err, s) {
					return
				}
			}
			t.Fatalf("error wraps no sentinel: %v", err)
		}
		if why := independentCheck(token, pubs); why != "" {
			t.Fatalf("verified a token the keys did not sign (%s): %q", why, token)
		}
		parts := strings.Split(token, ".")
		payload, _ := base64.RawURLEncoding.DecodeString(parts[1])
		if string(c.Raw) != string(payload) || !json.Valid(c.Raw) {
			t.Fatalf("Raw %q is not the payload %q", c.Raw, payload)
		}
	})
}

// independentCheck verifies token's signature without jwt: "" if good.
func independentCheck(token string, pubs map[string]crypto.PublicKey) string {
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		return "not three parts"
	}
	hb, err1 := base64.RawURLEncoding.DecodeString(parts[0])
	sig, err2 := base64.RawURLEncoding.DecodeString(parts[2])
	var h struct {
		Alg string `json:"alg"`
		Kid string `json:"kid"`
	}
	if err1 != nil || err2 != nil || json.Unmarshal(hb, &h) != nil {
		return "undecodable"
	}
	signing := []byte(parts[0] + "." + parts[1])
	sum := sha256.Sum256(signing)
	switch {
	case h.Alg == "HS256" && (h.Kid == "hs" || h.Kid == ""):
		m := hmac.New(sha256.New, fuzzSecret)
		m.Write(signing)
		if hmac.Equal(m.Sum(nil), sig) {
			return ""
		}
	case h.Alg == "EdDSA" && h.Kid == "ed":
		if ed25519.Verify(pubs["ed"].(ed25519.PublicKey), signing, sig) {
			return ""
		}
	case h.Alg == "ES256" && h.Kid == "es" && len(sig) == 64:
		r, s := new(big.Int).SetBytes(sig[:32]), new(big.Int).SetBytes(sig[32:])
		if ecdsa.Verify(pubs["es"].(*ecdsa.PublicKey), sum[:], r, s) {
			return ""
		}
	case h.Alg == "RS256" && h.Kid == "rs":
		if rsa.VerifyPKCS1v15(pubs["rs"].(*rsa.PublicKey), crypto.SHA256, sum[:], sig) == nil {
			return ""
		}
	default:
		return fmt.Sprintf("alg %q kid %q has no key", h.Alg, h.Kid)
	}
	return "bad signature"
}

// FuzzJWKS: any JWKS document is read without panic, and a usable key is
// never reported along with an error.
func FuzzJWKS(f *testing.F) {
	f.Fuzz(func(t *testing.T, body []byte) {
		n, err := jwtauth.ParseJWKS(body)
		if (err == nil) != (n > 0) {
			t.Fatalf("ParseJWKS = %d, %v", n, err)
		}
	})
}

// TestWriteFuzzSeeds rewrites the seed corpora: go test -run
// TestWriteFuzzSeeds -update-seeds. The tokens are made with the fixed fuzz
// keys, relative to t0.
func TestWriteFuzzSeeds(t *testing.T) {
	if !*updateSeeds {
		t.Skip("-update-seeds not set")
	}
	enc := base64.RawURLEncoding.EncodeToString
	hs := func(header, payload string) string {
		signing := enc([]byte(header)) + "." + enc([]byte(payload))
		m := hmac.New(sha256.New, fuzzSecret)
		m.Write([]byte(signing))
		return signing + "." + enc(m.Sum(nil))
	}
	valid := claims()
	good := sign(t, jwt.SigningMethodHS256, fuzzSecret, "hs", valid)
	parts := strings.Split(good, ".")
	exp := fmt.Sprint(t0.Unix() + 3600)
	verify := map[string]string{
		"hs256_kid":           good,
		"hs256_no_kid":        sign(t, jwt.SigningMethodHS256, fuzzSecret, "", valid),
		"eddsa":               sign(t, jwt.SigningMethodEdDSA, fuzzEd, "ed", valid),
		"scp_array":           sign(t, jwt.SigningMethodHS256, fuzzSecret, "hs", claims("scope", nil, "scp", []string{"a", "b"})),
		"escaped_payload":     hs(`{"alg":"HS256","kid":"hs"}`, `{"iss":"https:\/\/auth.example.com\/","exp":`+exp+`,"scope":"a\u0020b","sub":"\u00e9"}`),
		"alg_none":            rawToken(`{"alg":"none","kid":"hs"}`, `{"exp":`+exp+`}`, nil),
		"alg_none_no_kid":     rawToken(`{"alg":"none"}`, `{"iss":"https://auth.example.com/","exp":`+exp+`}`, nil),
		"hs_with_ed_pub":      sign(t, jwt.SigningMethodHS256, []byte(fuzzEd.Public().(ed25519.PublicKey)), "ed", valid),
		"payload_swapped":     parts[0] + "." + enc([]byte(`{"iss":"https://auth.example.com/","sub":"admin","exp":`+exp+`}`)) + "." + parts[2],
		"expired":             sign(t, jwt.SigningMethodHS256, fuzzSecret, "hs", claims("exp", t0.Unix()-3600)),
		"not_yet_valid":       sign(t, jwt.SigningMethodHS256, fuzzSecret, "hs", claims("nbf", t0.Unix()+3600)),
		"wrong_issuer":        sign(t, jwt.SigningMethodHS256, fuzzSecret, "hs", claims("iss", "evil")),
		"exp_string":          hs(`{"alg":"HS256","kid":"hs"}`, `{"iss":"https://auth.example.com/","exp":"`+exp+`"}`),
		"exp_huge":            hs(`{"alg":"HS256","kid":"hs"}`, `{"iss":"https://auth.example.com/","exp":1e300}`),
		"exp_negative":        hs(`{"alg":"HS256","kid":"hs"}`, `{"iss":"https://auth.example.com/","exp":-1e300}`),
		"exp_fraction":        hs(`{"alg":"HS256","kid":"hs"}`, `{"iss":"https://auth.example.com/","exp":`+exp+`.999}`),
		"duplicate_alg":       hs(`{"alg":"none","alg":"HS256","kid":"hs"}`, `{"iss":"https://auth.example.com/","exp":`+exp+`}`),
		"crit":                hs(`{"alg":"HS256","kid":"hs","crit":["b64"],"b64":false}`, `{"exp":`+exp+`}`),
		"kid_number":          hs(`{"alg":"HS256","kid":1}`, `{"exp":`+exp+`}`),
		"aud_object":          hs(`{"alg":"HS256","kid":"hs"}`, `{"iss":"https://auth.example.com/","exp":`+exp+`,"aud":{"a":1}}`),
		"scope_object":        hs(`{"alg":"HS256","kid":"hs"}`, `{"iss":"https://auth.example.com/","exp":`+exp+`,"scope":{"a":1}}`),
		"payload_array":       hs(`{"alg":"HS256","kid":"hs"}`, `[]`),
		"payload_null":        hs(`{"alg":"HS256","kid":"hs"}`, `null`),
		"padded":              good + "==",
		"es256_zero_sig":      rawToken(`{"alg":"ES256","kid":"es"}`, `{"exp":`+exp+`}`, make([]byte, 64)),
		"rs256_short_sig":     rawToken(`{"alg":"RS256","kid":"rs"}`, `{"exp":`+exp+`}`, []byte{1}),
		"unknown_alg":         rawToken(`{"alg":"XS256","kid":"hs"}`, `{}`, []byte{1}),
		"empty_parts":         "..",
		"four_parts":          good + ".x",
		"not_base64":          "@@@.###.$$$",
		"header_only":         parts[0],
		"bearer_prefix":       "Bearer " + good,
		"whitespace":          " " + good + " ",
		"utf8_invalid_header": enc([]byte{'{', 0xff, '}'}) + "." + parts[1] + "." + parts[2],
	}
	writeSeeds(t, "FuzzVerify", "string", verify)

	k := keys(t)
	ec := jsonOf(t, map[string]any{"keys": []any{jwkOf("p256", "ES256", &k.p256.PublicKey)}})
	jwks := map[string]string{
		"ec":           ec,
		"rsa":          jsonOf(t, map[string]any{"keys": []any{jwkOf("rsa", "", &k.rsa.PublicKey)}}),
		"ed25519":      jsonOf(t, map[string]any{"keys": []any{jwkOf("ed", "", fuzzEd.Public())}}),
		"mixed":        jsonOf(t, map[string]any{"keys": []any{jwkOf("p384", "", &k.p384.PublicKey), map[string]any{"kty": "oct", "k": "AAAA"}, map[string]any{"kty": "RSA", "use": "enc"}}}),
		"empty":        `{"keys":[]}`,
		"not_object":   `[1,2]`,
		"ec_off":       `{"keys":[{"kty":"EC","crv":"P-256","x":"AAAA","y":"AAAA"}]}`,
		"rsa_e_big":    `{"keys":[{"kty":"RSA","n":"AQAB","e":"AQABAQAB"}]}`,
		"padded_b64":   `{"keys":[{"kty":"OKP","crv":"Ed25519","x":"` + enc(fuzzEd.Public().(ed25519.PublicKey)) + `="}]}`,
		"alg_mismatch": `{"keys":[{"kty":"OKP","crv":"Ed25519","alg":"ES256","x":"` + enc(fuzzEd.Public().(ed25519.PublicKey)) + `"}]}`,
	}
	writeSeeds(t, "FuzzJWKS", "[]byte", jwks)
}

func writeSeeds(t *testing.T, target, typ string, seeds map[string]string) {
	t.Helper()
	dir := filepath.Join("testdata", "fuzz", target)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	for name, s := range seeds {
		data := fmt.Sprintf("go test fuzz v1\n%s(%q)\n", typ, s)
		if err := os.WriteFile(filepath.Join(dir, name), []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}
