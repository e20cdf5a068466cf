package jwtauth

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// Verifier checks tokens against one Config. It is safe for concurrent use.
type Verifier struct {
	cfg    Config
	parser *jwt.Parser
	static *keySet
	jwks   *jwks // nil without JWKSURL
	cache  *tokenCache
	// accepted are the algorithms any key could accept: a token naming
	// another is refused before any key lookup (or JWKS fetch).
	accepted map[string]bool

	challengeMissing string
	challengeInvalid string

	closeOnce sync.Once
}

// New validates cfg, fills in its defaults and loads its keys (reading
// SecretEnv and PEMFile). It does not contact the JWKS URL: the first
// Verify fetches it, or call Refresh to fetch it up front.
func New(cfg Config) (*Verifier, error) {
	cfg = cfg.withDefaults()
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	v := &Verifier{
		cfg:              cfg,
		cache:            newTokenCache(cfg.CacheSize),
		accepted:         make(map[string]bool),
		challengeMissing: fmt.Sprintf("Bearer realm=%q", cfg.Realm),
		challengeInvalid: fmt.Sprintf("Bearer realm=%q, error=\"invalid_token\"", cfg.Realm),
	}
	keys := make([]*key, 0, len(cfg.Keys))
	for i := range cfg.Keys {
		k, err := cfg.Keys[i].load()
		if err != nil {
			return nil, configError("keys[%d] (kid %q): %v", i, cfg.Keys[i].ID, err)
		}
		keys = append(keys, k)
		v.accepted[k.alg] = true
	}
	v.static = newKeySet(keys)
	if cfg.JWKSURL != "" {
		v.jwks = newJWKS(&v.cfg, v.cache.clear)
		for name, a := range algorithms {
			if a.family != familyHMAC {
				v.accepted[name] = true
			}
		}
	}
	opts := []jwt.ParserOption{
		jwt.WithExpirationRequired(),
		jwt.WithLeeway(cfg.Leeway),
		jwt.WithTimeFunc(cfg.Now),
	}
	if cfg.Issuer != "" {
		opts = append(opts, jwt.WithIssuer(cfg.Issuer))
	}
	if len(cfg.Audience) > 0 {
		opts = append(opts, jwt.WithAudience(cfg.Audience...))
	}
	v.parser = jwt.NewParser(opts...)
	return v, nil
}

// Verify checks token (the compact JWS, without "Bearer ") and returns its
// claims: signature by a configured or JWKS key of the token's algorithm,
// "exp" (required), "nbf", "iss" and "aud". Scopes are not checked here
// (see Claims.HasScopes and Authorize).
//
// Verify blocks only when the token's kid is not among the known keys and
// a JWKS fetch is allowed: it then waits for the fetch as long as ctx
// allows. With a ctx that is already done it never waits (the fetch goes on
// in the background).
//
// The error wraps one of the Err* sentinels, with the detail for logs.
func (v *Verifier) Verify(ctx context.Context, token string) (*Claims, error) {
	if token == "" {
		return nil, ErrNoToken
	}
	if len(token) > MaxTokenSize {
		return nil, fmt.Errorf("%w: %d bytes, more than %d", ErrMalformed, len(token), MaxTokenSize)
	}
	now := v.cfg.Now()
	if v.jwks != nil {
		v.jwks.maybeRefresh(now)
	}
	if c, ok := v.cache.get(token, now); ok {
		return c, nil
	}
	gen := v.cache.generation()

	tc := &tokenClaims{}
	var kid string
	_, err := v.parser.ParseWithClaims(token, tc, func(t *jwt.Token) (any, error) {
		var err error
		kid, err = tokenKID(t)
		if err != nil {
			return nil, err
		}
		return v.key(ctx, kid, t.Method.Alg())
	})
	if err != nil {
		return nil, v.classify(err, tc)
	}
	// jwt does not hand out the payload it decoded; decoding the segment
	// again costs less than keeping a copy from inside its JSON decoding.
	raw, err := base64.RawURLEncoding.DecodeString(payloadSegment(token))
	if err != nil {
		return nil, fmt.Errorf("%w: payload: %v", ErrMalformed, err)
	}
	c := &Claims{
		Subject:  tc.Subject,
		Issuer:   tc.Issuer,
		Audience: tc.Audience,
		Scopes:   tc.scopes(v.cfg.ScopeClaim, raw),
		Expires:  tc.ExpiresAt.Time,
		KeyID:    kid,
		Raw:      raw,
	}
	e := cacheEntry{claims: c, until: c.Expires.Add(v.cfg.Leeway)}
	if tc.NotBefore != nil {
		e.from = tc.NotBefore.Add(-v.cfg.Leeway)
	}
	v.cache.put(token, e, gen, now)
	return c, nil
}

// payloadSegment is the middle part of a compact JWS that jwt accepted.
func payloadSegment(token string) string {
	_, rest, _ := strings.Cut(token, ".")
	payload, _, _ := strings.Cut(rest, ".")
	return payload
}

// tokenKID reads the kid header and refuses headers gatecast cannot honour.
func tokenKID(t *jwt.Token) (string, error) {
	// RFC 7515 section 4.1.11: a recipient that does not understand every
	// extension listed in "crit" must refuse the token; gatecast knows none.
	if _, ok := t.Header["crit"]; ok {
		return "", fmt.Errorf("%w: crit header names extensions gatecast does not support", ErrMalformed)
	}
	raw, ok := t.Header["kid"]
	if !ok {
		return "", nil
	}
	kid, ok := raw.(string)
	if !ok {
		return "", fmt.Errorf("%w: kid header is not a string", ErrMalformed)
	}
	return kid, nil
}

// key finds the key for kid and alg: the configured keys first, then the
// JWKS, then the JWKS once more after a (rate-limited) refresh.
func (v *Verifier) key(ctx context.Context, kid, alg string) (any, error) {
	if !v.accepted[alg] {
		return nil, fmt.Errorf("%w: alg %.32q", ErrAlgorithm, alg)
	}
	m, known := v.static.lookup(kid, alg)
	if m != nil {
		return m, nil
	}
	if v.jwks == nil {
		return nil, v.noKey(kid, alg, known, v.static, nil)
	}
	set := v.jwks.keys.Load()
	m, knownJWKS := set.lookup(kid, alg)
	if m != nil {
		return m, nil
	}
	if known || knownJWKS {
		// The kid is there with another algorithm: a new set will not change
		// that, so no fetch.
		return nil, v.noKey(kid, alg, true, v.static, set)
	}
	set, err := v.jwks.refreshUnknown(ctx)
	if m, knownJWKS = set.lookup(kid, alg); m != nil {
		return m, nil
	}
	if set == nil {
		if err == nil {
			err = errors.New("no key set")
		}
		return nil, fmt.Errorf("%w: %v", ErrKeysUnavailable, err)
	}
	return nil, v.noKey(kid, alg, knownJWKS, v.static, set, err)
}

// noKey explains why no key fits.
func (v *Verifier) noKey(kid, alg string, known bool, static, fetched *keySet, refreshErr ...error) error {
	if known {
		algs := append(static.algs(kid), fetched.algs(kid)...)
		return fmt.Errorf("%w: alg %s, but the key with kid %.64q accepts %s", ErrAlgorithm, alg, kid, strings.Join(algs, ", "))
	}
	msg := fmt.Sprintf("kid %.64q (alg %s)", kid, alg)
	if kid == "" {
		msg = fmt.Sprintf("token has no kid, and no key without kid accepts alg %s", alg)
	}
	for _, err := range refreshErr {
		if err != nil {
			msg += "; JWKS not refreshed: " + err.Error()
		}
	}
	return fmt.Errorf("%w: %s", ErrUnknownKey, msg)
}

// classify turns a jwt error into one wrapping a sentinel of this package,
// with the detail a log reader needs.
func (v *Verifier) classify(err error, tc *tokenClaims) error {
	for _, own := range []error{ErrMalformed, ErrAlgorithm, ErrUnknownKey, ErrKeysUnavailable} {
		if errors.Is(err, own) {
			return unwrapKeyfunc(err)
		}
	}
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return fmt.Errorf("%w: waiting for the JWKS: %v", ErrKeysUnavailable, err)
	}
	now := v.cfg.Now()
	switch {
	case errors.Is(err, jwt.ErrTokenMalformed):
		return fmt.Errorf("%w: %s", ErrMalformed, jwtDetail(err))
	case errors.Is(err, jwt.ErrTokenUnverifiable):
		// jwt knows no such alg.
		return fmt.Errorf("%w: %s", ErrAlgorithm, jwtDetail(err))
	case errors.Is(err, jwt.ErrTokenSignatureInvalid):
		return fmt.Errorf("%w: %s", ErrSignature, jwtDetail(err))
	case errors.Is(err, jwt.ErrTokenRequiredClaimMissing):
		return fmt.Errorf("%w: %s", ErrMissingClaim, jwtDetail(err))
	case errors.Is(err, jwt.ErrTokenExpired):
		return fmt.Errorf("%w: exp %s, now %s, leeway %s", ErrExpired,
			tc.ExpiresAt.UTC().Format(time.RFC3339), now.UTC().Format(time.RFC3339), v.cfg.Leeway)
	case errors.Is(err, jwt.ErrTokenNotValidYet):
		return fmt.Errorf("%w: nbf %s, now %s, leeway %s", ErrNotYetValid,
			tc.NotBefore.UTC().Format(time.RFC3339), now.UTC().Format(time.RFC3339), v.cfg.Leeway)
	case errors.Is(err, jwt.ErrTokenInvalidIssuer):
		return fmt.Errorf("%w: iss %.64q, want %q", ErrIssuer, tc.Issuer, v.cfg.Issuer)
	case errors.Is(err, jwt.ErrTokenInvalidAudience):
		return fmt.Errorf("%w: aud %.128q, want one of %q", ErrAudience, []string(tc.Audience), v.cfg.Audience)
	}
	return fmt.Errorf("%w: %s", ErrMalformed, jwtDetail(err))
}

// jwtDetail is jwt's message without the generic prefixes its sentinels
// add ("token is malformed: ..."), which ours replace.
func jwtDetail(err error) string {
	s := err.Error()
	for _, prefix := range []error{jwt.ErrTokenMalformed, jwt.ErrTokenUnverifiable,
		jwt.ErrTokenSignatureInvalid, jwt.ErrTokenInvalidClaims} {
		s = strings.TrimPrefix(s, prefix.Error()+": ")
	}
	if s == "" {
		return err.Error()
	}
	return s
}

// unwrapKeyfunc strips jwt's "token is unverifiable: error while executing
// keyfunc:" prefix from an error the keyfunc returned.
func unwrapKeyfunc(err error) error {
	for {
		u, ok := err.(interface{ Unwrap() []error })
		if !ok {
			return err
		}
		errs := u.Unwrap()
		if len(errs) == 0 {
			return err
		}
		err = errs[len(errs)-1]
	}
}

// Refresh fetches the JWKS now (or waits for the fetch under way), not
// limited by JWKSMinRefreshInterval: for start-up, so the first clients do
// not wait, and for operators. It returns nil without a JWKS URL.
func (v *Verifier) Refresh(ctx context.Context) error {
	if v.jwks == nil {
		return nil
	}
	return v.jwks.Refresh(ctx)
}

// Close stops JWKS fetches and waits for the one under way to end. Tokens
// are still verified afterwards with the keys held, but the JWKS is never
// fetched again. Safe to call more than once.
func (v *Verifier) Close() {
	v.closeOnce.Do(func() {
		if v.jwks != nil {
			v.jwks.close()
		}
	})
}

// Authorize takes the token from r as src says, verifies it and checks that
// it grants every scope in scopes. On refusal the error is always an
// *Error: 401 with a WWW-Authenticate challenge for a missing or invalid
// token, 403 for a missing scope, 503 when the keys could not be fetched.
func (v *Verifier) Authorize(ctx context.Context, src Source, r Request, scopes []string) (*Claims, error) {
	token, ok := src.Token(r)
	if !ok {
		return nil, newError(http.StatusUnauthorized, v.challengeMissing,
			fmt.Errorf("%w in %s", ErrNoToken, src))
	}
	c, err := v.Verify(ctx, token)
	if err != nil {
		if errors.Is(err, ErrKeysUnavailable) {
			e := newError(http.StatusServiceUnavailable, "", err)
			e.RetryAfter = v.cfg.JWKSMinRefreshInterval
			return nil, e
		}
		if errors.Is(err, ErrNoToken) {
			return nil, newError(http.StatusUnauthorized, v.challengeMissing, err)
		}
		return nil, newError(http.StatusUnauthorized, v.challengeInvalid, err)
	}
	if !c.HasScopes(scopes) {
		return nil, newError(http.StatusForbidden, v.challengeScope(scopes),
			fmt.Errorf("%w: need %q, token (sub %.64q) has %.256q", ErrInsufficientScope, scopes, c.Subject, c.Scopes))
	}
	return c, nil
}

// challengeScope is the RFC 6750 insufficient_scope challenge. The scope
// list says what the route needs, which a client may know; scope tokens
// cannot hold '"' or '\' (RFC 6749 section 3.3), but are escaped anyway.
func (v *Verifier) challengeScope(scopes []string) string {
	var b strings.Builder
	b.WriteString(v.challengeMissing)
	b.WriteString(`, error="insufficient_scope", scope="`)
	for i, s := range scopes {
		if i > 0 {
			b.WriteByte(' ')
		}
		for _, c := range []byte(s) {
			if c == '"' || c == '\\' {
				b.WriteByte('\\')
			}
			b.WriteByte(c)
		}
	}
	b.WriteByte('"')
	return b.String()
}
