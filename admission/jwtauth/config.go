package jwtauth

import (
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"os"
	"time"
)

// Defaults of the zero Config fields.
const (
	DefaultRealm                  = "gatecast"
	DefaultLeeway                 = 30 * time.Second
	DefaultJWKSRefresh            = time.Hour
	DefaultJWKSMinRefreshInterval = 30 * time.Second
	DefaultJWKSTimeout            = 10 * time.Second
	DefaultCacheSize              = 4096
)

// Limits.
const (
	// MaxTokenSize bounds a token; a longer one is refused before it is
	// decoded. Tokens with many group claims reach 4-6 KB.
	MaxTokenSize = 16 << 10
	// maxJWKSSize bounds a JWKS response body.
	maxJWKSSize = 1 << 20
)

// KeyConfig is one key given in the configuration. Exactly one of Secret,
// SecretEnv, PEM and PEMFile is set: a secret for the HS algorithms, a
// public key for the others.
type KeyConfig struct {
	// ID is matched against the token's kid header. Empty matches tokens
	// without a kid (and only those).
	ID string `yaml:"kid"`
	// Algorithm is the one "alg" this key accepts: HS256, HS384, HS512,
	// RS256, RS384, RS512, PS256, PS384, PS512, ES256, ES384, ES512 or
	// EdDSA. Required: a token that names another algorithm is refused, which
	// is what stops "alg: none" and HS/RS confusion.
	Algorithm string `yaml:"algorithm"`
	// Secret is the HMAC secret, its bytes as written (decode a base64
	// secret first). At least 32, 48 or 64 bytes for HS256, HS384, HS512.
	Secret string `yaml:"secret"`
	// SecretEnv names the environment variable that holds the secret; it is
	// read once, by New.
	SecretEnv string `yaml:"secret_env"`
	// PEM is the public key: a PUBLIC KEY, RSA PUBLIC KEY or CERTIFICATE
	// block. RSA keys need at least 2048 bits; EC keys must be on the curve
	// of the algorithm (P-256 for ES256, P-384 for ES384, P-521 for ES512).
	PEM string `yaml:"pem"`
	// PEMFile is a file holding the PEM; it is read once, by New.
	PEMFile string `yaml:"pem_file"`
}

// Config is how a Verifier checks tokens. At least one of Keys and JWKSURL
// is set; every other zero field means the default in its comment.
type Config struct {
	// Issuer is the required "iss". Zero: not checked.
	Issuer string `yaml:"issuer"`
	// Audience: the token's "aud" must contain one of these. Zero: not
	// checked.
	Audience []string `yaml:"audience"`
	// Keys are the keys given in the configuration; they never change.
	Keys []KeyConfig `yaml:"keys"`
	// JWKSURL is an https URL serving a JSON Web Key Set (RFC 7517), such as
	// an identity provider's jwks_uri; plain http is accepted only for a
	// loopback host. Its keys are fetched on first use, not by New (see
	// the package documentation for refreshes). Symmetric ("oct") keys and
	// keys with "use": "enc" in it are ignored. A key's "alg", if present,
	// is the only algorithm it accepts; without "alg", an EC or OKP key
	// accepts the one algorithm of its curve and an RSA key accepts RS256.
	JWKSURL string `yaml:"jwks_url"`
	// JWKSRefresh is how old the fetched key set may grow before a Verify
	// starts a refresh in the background. Zero: 1h.
	JWKSRefresh time.Duration `yaml:"jwks_refresh"`
	// JWKSMinRefreshInterval is the least time between two fetches of the
	// JWKS that a token caused: its kid was unknown, or the set was due
	// for refresh, or the last fetch failed. A flood of tokens with made-up
	// kids thus costs the identity provider one request per interval. It
	// bounds too how long a newly rotated key can be refused. Refresh is not
	// limited by it. Zero: 30s.
	JWKSMinRefreshInterval time.Duration `yaml:"jwks_min_refresh_interval"`
	// JWKSTimeout bounds one fetch of the JWKS. Zero: 10s.
	JWKSTimeout time.Duration `yaml:"jwks_timeout"`
	// Leeway is the clock skew allowed on "exp" and "nbf": a token is
	// accepted until exp+Leeway and from nbf-Leeway. Zero: 30s; negative:
	// none.
	Leeway time.Duration `yaml:"leeway"`
	// ScopeClaim is the claim holding the token's scopes, either a
	// space-separated string (RFC 8693 "scope") or an array of strings.
	// Zero: "scope", or "scp" when the token has no "scope".
	ScopeClaim string `yaml:"scope_claim"`
	// Realm is the realm of the WWW-Authenticate challenge. Zero: "gatecast".
	Realm string `yaml:"realm"`
	// CacheSize is how many verified tokens are remembered, so a token seen
	// again costs a map lookup instead of JSON decoding and a signature
	// check. An entry lives until the token expires (exp+Leeway), until the
	// cache is full (then a quarter of the entries go), or until a JWKS
	// fetch removes or changes a key (then all go). An entry holds the token
	// and its claims: about 1.5 KB for a typical 800-byte token, so 6 MB at
	// the default. Zero: 4096; negative: no cache.
	CacheSize int `yaml:"cache_size"`
	// HTTPClient fetches the JWKS. Zero: a client of its own with
	// JWKSTimeout, which refuses redirects from https to http.
	HTTPClient *http.Client `yaml:"-"`
	// Now is the clock. Zero: time.Now. Tests give a fake clock.
	Now func() time.Time `yaml:"-"`
}

// withDefaults returns cfg with every zero field filled in.
func (cfg Config) withDefaults() Config {
	if cfg.JWKSRefresh <= 0 {
		cfg.JWKSRefresh = DefaultJWKSRefresh
	}
	if cfg.JWKSMinRefreshInterval <= 0 {
		cfg.JWKSMinRefreshInterval = DefaultJWKSMinRefreshInterval
	}
	if cfg.JWKSTimeout <= 0 {
		cfg.JWKSTimeout = DefaultJWKSTimeout
	}
	switch {
	case cfg.Leeway == 0:
		cfg.Leeway = DefaultLeeway
	case cfg.Leeway < 0:
		cfg.Leeway = 0
	}
	if cfg.Realm == "" {
		cfg.Realm = DefaultRealm
	}
	if cfg.CacheSize == 0 {
		cfg.CacheSize = DefaultCacheSize
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.HTTPClient == nil {
		cfg.HTTPClient = &http.Client{
			Timeout: cfg.JWKSTimeout,
			CheckRedirect: func(req *http.Request, via []*http.Request) error {
				if len(via) >= 5 {
					return errors.New("stopped after 5 redirects")
				}
				if req.URL.Scheme != "https" && via[0].URL.Scheme == "https" {
					return fmt.Errorf("refusing redirect from https to %s", req.URL.Scheme)
				}
				return nil
			},
		}
	}
	return cfg
}

// validate checks what withDefaults cannot fill in.
func (cfg *Config) validate() error {
	if len(cfg.Keys) == 0 && cfg.JWKSURL == "" {
		return configError("no keys: set keys or jwks_url")
	}
	if cfg.JWKSURL != "" {
		if err := checkJWKSURL(cfg.JWKSURL); err != nil {
			return configError("jwks_url %q: %v", cfg.JWKSURL, err)
		}
	}
	for _, a := range cfg.Audience {
		if a == "" {
			return configError("audience has an empty entry")
		}
	}
	for _, c := range []byte(cfg.Realm) {
		if c == '"' || c == '\\' || c < 0x20 || c == 0x7f {
			return configError("realm %q: quotes, backslashes and control characters are not allowed", cfg.Realm)
		}
	}
	return nil
}

func checkJWKSURL(s string) error {
	u, err := url.Parse(s)
	if err != nil {
		return err
	}
	if u.Host == "" {
		return errors.New("no host")
	}
	switch u.Scheme {
	case "https":
		return nil
	case "http":
		host := u.Hostname()
		if ip := net.ParseIP(host); host == "localhost" || ip != nil && ip.IsLoopback() {
			return nil
		}
		return errors.New("keys fetched over plain http can be replaced on the way: use https (http is accepted for loopback hosts only)")
	default:
		return fmt.Errorf("scheme %q: use https", u.Scheme)
	}
}

// load turns a KeyConfig into a key, reading SecretEnv and PEMFile.
func (kc *KeyConfig) load() (*key, error) {
	a, ok := algorithms[kc.Algorithm]
	if !ok {
		if kc.Algorithm == "" {
			return nil, fmt.Errorf("algorithm is required (one of %s)", algorithmNames())
		}
		return nil, fmt.Errorf("algorithm %q is not one of %s", kc.Algorithm, algorithmNames())
	}
	set := 0
	for _, s := range []string{kc.Secret, kc.SecretEnv, kc.PEM, kc.PEMFile} {
		if s != "" {
			set++
		}
	}
	if set != 1 {
		if a.family == familyHMAC {
			return nil, fmt.Errorf("%s needs exactly one of secret and secret_env", kc.Algorithm)
		}
		return nil, fmt.Errorf("%s needs exactly one of pem and pem_file", kc.Algorithm)
	}
	var material any
	switch {
	case kc.Secret != "":
		material = []byte(kc.Secret)
	case kc.SecretEnv != "":
		s, ok := os.LookupEnv(kc.SecretEnv)
		if !ok || s == "" {
			return nil, fmt.Errorf("secret_env: environment variable %s is not set", kc.SecretEnv)
		}
		material = []byte(s)
	default:
		data := []byte(kc.PEM)
		if kc.PEMFile != "" {
			var err error
			if data, err = os.ReadFile(kc.PEMFile); err != nil {
				return nil, fmt.Errorf("pem_file: %w", err)
			}
		}
		var err error
		if material, err = parsePEM(data); err != nil {
			return nil, fmt.Errorf("pem: %w", err)
		}
	}
	return newKey(kc.ID, kc.Algorithm, material)
}
