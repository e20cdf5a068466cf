package jwtauth

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"slices"
	"strings"

	"github.com/golang-jwt/jwt/v5"
)

// minRSABits is the smallest RSA modulus accepted, from config or JWKS
// (RFC 7518 section 3.3: "A key of size 2048 bits or larger MUST be used").
const minRSABits = 2048

// family is what kind of key material an algorithm verifies with.
type family int

const (
	familyHMAC family = iota + 1
	familyRSA
	familyECDSA
	familyEdDSA
)

// algorithm is one accepted "alg" value.
type algorithm struct {
	method jwt.SigningMethod
	family family
	// minSecret is the shortest HMAC secret in bytes (RFC 7518 section 3.2:
	// at least the hash size).
	minSecret int
	// curve is the only curve an ECDSA algorithm verifies with.
	curve elliptic.Curve
}

// algorithms are the "alg" values gatecast accepts; any other, "none"
// included, is refused. Read-only after init.
var algorithms = map[string]algorithm{
	"HS256": {method: jwt.SigningMethodHS256, family: familyHMAC, minSecret: 32},
	"HS384": {method: jwt.SigningMethodHS384, family: familyHMAC, minSecret: 48},
	"HS512": {method: jwt.SigningMethodHS512, family: familyHMAC, minSecret: 64},
	"RS256": {method: jwt.SigningMethodRS256, family: familyRSA},
	"RS384": {method: jwt.SigningMethodRS384, family: familyRSA},
	"RS512": {method: jwt.SigningMethodRS512, family: familyRSA},
	"PS256": {method: jwt.SigningMethodPS256, family: familyRSA},
	"PS384": {method: jwt.SigningMethodPS384, family: familyRSA},
	"PS512": {method: jwt.SigningMethodPS512, family: familyRSA},
	"ES256": {method: jwt.SigningMethodES256, family: familyECDSA, curve: elliptic.P256()},
	"ES384": {method: jwt.SigningMethodES384, family: familyECDSA, curve: elliptic.P384()},
	"ES512": {method: jwt.SigningMethodES512, family: familyECDSA, curve: elliptic.P521()},
	"EdDSA": {method: jwt.SigningMethodEdDSA, family: familyEdDSA},
}

// key is one verification key, bound to the one algorithm it accepts.
type key struct {
	id  string
	alg string
	// material is what jwt's SigningMethod.Verify expects: []byte,
	// *rsa.PublicKey, *ecdsa.PublicKey or ed25519.PublicKey.
	material any
}

// newKey checks that material fits alg and returns the key.
func newKey(id, alg string, material any) (*key, error) {
	a, ok := algorithms[alg]
	if !ok {
		return nil, fmt.Errorf("algorithm %q is not one of %s", alg, algorithmNames())
	}
	switch a.family {
	case familyHMAC:
		b, ok := material.([]byte)
		if !ok {
			return nil, fmt.Errorf("%s needs a shared secret, not a %s", alg, keyKind(material))
		}
		if len(b) < a.minSecret {
			return nil, fmt.Errorf("%s secret is %d bytes; RFC 7518 needs at least %d", alg, len(b), a.minSecret)
		}
	case familyRSA:
		k, ok := material.(*rsa.PublicKey)
		if !ok {
			return nil, fmt.Errorf("%s needs an RSA public key, not a %s", alg, keyKind(material))
		}
		if k.N.BitLen() < minRSABits {
			return nil, fmt.Errorf("RSA key is %d bits; at least %d are needed", k.N.BitLen(), minRSABits)
		}
	case familyECDSA:
		k, ok := material.(*ecdsa.PublicKey)
		if !ok {
			return nil, fmt.Errorf("%s needs an EC public key, not a %s", alg, keyKind(material))
		}
		if k.Curve != a.curve {
			return nil, fmt.Errorf("%s needs a key on %s, not %s", alg, a.curve.Params().Name, k.Curve.Params().Name)
		}
	case familyEdDSA:
		k, ok := material.(ed25519.PublicKey)
		if !ok || len(k) != ed25519.PublicKeySize {
			return nil, fmt.Errorf("%s needs an Ed25519 public key, not a %s", alg, keyKind(material))
		}
	}
	return &key{id: id, alg: alg, material: material}, nil
}

func keyKind(material any) string {
	switch k := material.(type) {
	case []byte:
		return "shared secret"
	case *rsa.PublicKey:
		return "RSA key"
	case *ecdsa.PublicKey:
		return "EC key on " + k.Curve.Params().Name
	case ed25519.PublicKey:
		return "Ed25519 key"
	default:
		return fmt.Sprintf("%T", material)
	}
}

func algorithmNames() string {
	return "HS256, HS384, HS512, RS256, RS384, RS512, PS256, PS384, PS512, ES256, ES384, ES512, EdDSA"
}

// parsePEM returns the public key in the first PEM block of data: a
// "PUBLIC KEY" (PKIX), an "RSA PUBLIC KEY" (PKCS #1) or a "CERTIFICATE",
// whose public key is taken (its validity dates and chain are not checked:
// the certificate is only a container here).
func parsePEM(data []byte) (any, error) {
	block, _ := pem.Decode(data)
	if block == nil {
		return nil, fmt.Errorf("no PEM block found")
	}
	switch {
	case block.Type == "PUBLIC KEY":
		return x509.ParsePKIXPublicKey(block.Bytes)
	case block.Type == "RSA PUBLIC KEY":
		return x509.ParsePKCS1PublicKey(block.Bytes)
	case block.Type == "CERTIFICATE":
		cert, err := x509.ParseCertificate(block.Bytes)
		if err != nil {
			return nil, err
		}
		return cert.PublicKey, nil
	case strings.Contains(block.Type, "PRIVATE KEY"):
		return nil, fmt.Errorf("PEM block is a %s: give the public key only (openssl pkey -pubout)", block.Type)
	default:
		return nil, fmt.Errorf("PEM block type %q is not PUBLIC KEY, RSA PUBLIC KEY or CERTIFICATE", block.Type)
	}
}

// keySet is an immutable set of keys indexed by kid. Keys without a kid are
// under "".
type keySet struct {
	byID map[string][]*key
}

func newKeySet(keys []*key) *keySet {
	s := &keySet{byID: make(map[string][]*key, len(keys))}
	for _, k := range keys {
		s.byID[k.id] = append(s.byID[k.id], k)
	}
	return s
}

// lookup returns the material to verify a token with kid and alg: nil if no
// key fits. known reports whether any key has that kid, whatever its
// algorithm. Several keys with the same kid and alg (a rotation of
// unnamed static keys) are all tried.
func (s *keySet) lookup(kid, alg string) (material any, known bool) {
	if s == nil {
		return nil, false
	}
	keys := s.byID[kid]
	var set []jwt.VerificationKey
	for _, k := range keys {
		if k.alg != alg {
			continue
		}
		if material == nil {
			material = k.material
			continue
		}
		if set == nil {
			set = []jwt.VerificationKey{material}
		}
		set = append(set, k.material)
	}
	if set != nil {
		return jwt.VerificationKeySet{Keys: set}, true
	}
	return material, len(keys) > 0
}

// algs lists the algorithms the keys with kid accept, for a log line.
func (s *keySet) algs(kid string) []string {
	if s == nil {
		return nil
	}
	var out []string
	for _, k := range s.byID[kid] {
		out = append(out, k.alg)
	}
	return out
}

func (s *keySet) len() int {
	if s == nil {
		return 0
	}
	n := 0
	for _, ks := range s.byID {
		n += len(ks)
	}
	return n
}

// removedIn reports whether next lacks a key of s (same kid, algorithm and
// material): tokens verified with it must not be trusted any longer.
func (s *keySet) removedIn(next *keySet) bool {
	if s == nil {
		return false
	}
	for kid, keys := range s.byID {
		for _, k := range keys {
			if !slices.ContainsFunc(next.byID[kid], k.equal) {
				return true
			}
		}
	}
	return false
}

func (k *key) equal(o *key) bool {
	if k.id != o.id || k.alg != o.alg {
		return false
	}
	switch m := k.material.(type) {
	case []byte:
		om, ok := o.material.([]byte)
		return ok && bytes.Equal(m, om)
	case interface{ Equal(crypto.PublicKey) bool }:
		return m.Equal(o.material)
	}
	return false
}
