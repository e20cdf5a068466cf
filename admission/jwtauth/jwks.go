package jwtauth

import (
	"context"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/big"
	"net/http"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// errRateLimited is returned by jwks.refreshUnknown when no fetch was made
// because the last one was too recent.
var errRateLimited = errors.New("jwks refresh rate-limited")

// jwks is the cached key set of one JWKS URL and the fetches that renew it.
//
// Every fetch runs in a goroutine of its own, tracked by wg and stopped by
// close; callers that need its result wait on the inflight channel (or
// their context), and the one fetch is shared by all of them.
type jwks struct {
	url         string
	client      *http.Client
	timeout     time.Duration
	refresh     time.Duration
	minInterval time.Duration
	now         func() time.Time
	// changed is called after a fetch installed a set that lacks a key
	// of the set before.
	changed func()

	// keys is the last set fetched; nil until the first success.
	keys atomic.Pointer[keySet]
	// due is when (UnixNano) a Verify should start a background fetch.
	due atomic.Int64

	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup

	mu sync.Mutex
	// Protected by mu:
	closed      bool
	lastAttempt time.Time     // start of the last fetch; zero: never
	inflight    chan struct{} // non-nil while a fetch runs; closed when it ends
	lastErr     error         // result of the last finished fetch
	fetches     int           // fetches started, for tests
}

func newJWKS(cfg *Config, changed func()) *jwks {
	ctx, cancel := context.WithCancel(context.Background())
	return &jwks{
		url:         cfg.JWKSURL,
		client:      cfg.HTTPClient,
		timeout:     cfg.JWKSTimeout,
		refresh:     cfg.JWKSRefresh,
		minInterval: cfg.JWKSMinRefreshInterval,
		now:         cfg.Now,
		changed:     changed,
		ctx:         ctx,
		cancel:      cancel,
	}
}

// maybeRefresh starts a background fetch when the set is due for one: never
// fetched, older than refresh, or the last fetch failed at least
// minInterval ago. It never blocks: the cost on the hot path is one atomic
// load.
func (j *jwks) maybeRefresh(now time.Time) {
	if now.UnixNano() < j.due.Load() {
		return
	}
	j.mu.Lock()
	defer j.mu.Unlock()
	if j.closed || j.inflight != nil || now.UnixNano() < j.due.Load() {
		return
	}
	if !j.lastAttempt.IsZero() && now.Sub(j.lastAttempt) < j.minInterval {
		return
	}
	j.startLocked(now)
}

// refreshUnknown fetches the set for a token whose kid is not in it, unless
// the last fetch started less than minInterval ago (errRateLimited). It
// joins a fetch already running. It waits for the fetch as long as ctx
// allows; a fetch outlives a caller that stopped waiting.
func (j *jwks) refreshUnknown(ctx context.Context) (*keySet, error) {
	now := j.now()
	j.mu.Lock()
	ch := j.inflight
	if ch == nil {
		switch {
		case j.closed:
			j.mu.Unlock()
			return j.keys.Load(), ErrClosed
		case !j.lastAttempt.IsZero() && now.Sub(j.lastAttempt) < j.minInterval:
			err := j.lastErr
			j.mu.Unlock()
			if err != nil {
				return j.keys.Load(), fmt.Errorf("%w (last fetch: %v)", errRateLimited, err)
			}
			return j.keys.Load(), errRateLimited
		}
		ch = j.startLocked(now)
	}
	j.mu.Unlock()
	return j.wait(ctx, ch)
}

// Refresh fetches now, or joins the fetch under way, and waits for it.
func (j *jwks) Refresh(ctx context.Context) error {
	j.mu.Lock()
	if j.closed {
		j.mu.Unlock()
		return ErrClosed
	}
	ch := j.inflight
	if ch == nil {
		ch = j.startLocked(j.now())
	}
	j.mu.Unlock()
	_, err := j.wait(ctx, ch)
	return err
}

func (j *jwks) wait(ctx context.Context, ch chan struct{}) (*keySet, error) {
	select {
	case <-ch:
	case <-ctx.Done():
		return j.keys.Load(), ctx.Err()
	}
	j.mu.Lock()
	err := j.lastErr
	j.mu.Unlock()
	return j.keys.Load(), err
}

// startLocked starts a fetch. j.mu is held; j.closed is false.
func (j *jwks) startLocked(now time.Time) chan struct{} {
	ch := make(chan struct{})
	j.inflight = ch
	j.lastAttempt = now
	j.fetches++
	// No second trigger from maybeRefresh before this one ends.
	j.due.Store(now.Add(j.minInterval).UnixNano())
	j.wg.Add(1)
	go func() {
		defer j.wg.Done()
		ctx, cancel := context.WithTimeout(j.ctx, j.timeout)
		set, err := j.fetch(ctx)
		cancel()
		j.mu.Lock()
		removed := false
		if err == nil {
			removed = j.keys.Load().removedIn(set)
			j.keys.Store(set)
			j.due.Store(now.Add(j.refresh).UnixNano())
		} else {
			err = fmt.Errorf("jwks %s: %w", j.url, err)
			j.due.Store(now.Add(j.minInterval).UnixNano())
		}
		j.lastErr = err
		j.inflight = nil
		j.mu.Unlock()
		// Tokens verified with a removed key leave the cache before any
		// waiter for this fetch goes on, so none of them sees such a
		// token accepted from the cache after the fetch.
		if removed && j.changed != nil {
			j.changed()
		}
		close(ch)
	}()
	return ch
}

func (j *jwks) fetch(ctx context.Context) (*keySet, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, j.url, nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Accept", "application/jwk-set+json, application/json")
	resp, err := j.client.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 4<<10))
		return nil, fmt.Errorf("status %s", resp.Status)
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxJWKSSize+1))
	if err != nil {
		return nil, err
	}
	if len(body) > maxJWKSSize {
		return nil, fmt.Errorf("key set larger than %d bytes", maxJWKSSize)
	}
	return parseJWKS(body)
}

// close stops the fetches and waits for them. Safe to call twice.
func (j *jwks) close() {
	j.mu.Lock()
	j.closed = true
	j.mu.Unlock()
	j.cancel()
	j.wg.Wait()
}

// jwk is one JSON Web Key (RFC 7517, RFC 7518 section 6, RFC 8037), the
// members gatecast reads.
type jwk struct {
	Kty    string   `json:"kty"`
	Kid    string   `json:"kid"`
	Use    string   `json:"use"`
	KeyOps []string `json:"key_ops"`
	Alg    string   `json:"alg"`
	Crv    string   `json:"crv"`
	N      string   `json:"n"`
	E      string   `json:"e"`
	X      string   `json:"x"`
	Y      string   `json:"y"`
}

// parseJWKS returns the usable keys of a JWK Set. Keys gatecast cannot or
// must not use are skipped; a set with no usable key is an error (so a
// broken answer never replaces a working set).
func parseJWKS(body []byte) (*keySet, error) {
	var doc struct {
		Keys []json.RawMessage `json:"keys"`
	}
	if err := json.Unmarshal(body, &doc); err != nil {
		return nil, fmt.Errorf("not a JWK Set: %w", err)
	}
	var keys []*key
	var skipped []string
	for i, raw := range doc.Keys {
		var k jwk
		if err := json.Unmarshal(raw, &k); err != nil {
			skipped = append(skipped, fmt.Sprintf("key %d: %v", i, err))
			continue
		}
		key, err := k.key()
		if err != nil {
			skipped = append(skipped, fmt.Sprintf("key %d (kid %.64q): %v", i, k.Kid, err))
			continue
		}
		keys = append(keys, key)
	}
	if len(keys) == 0 {
		if len(skipped) == 0 {
			return nil, errors.New("JWK Set has no keys")
		}
		return nil, fmt.Errorf("JWK Set has no usable key: %s", strings.Join(skipped, "; "))
	}
	return newKeySet(keys), nil
}

// key converts a JWK into a key bound to one algorithm.
func (k *jwk) key() (*key, error) {
	if k.Use != "" && k.Use != "sig" {
		return nil, fmt.Errorf("use %.16q is not sig", k.Use)
	}
	if k.KeyOps != nil && !slices.Contains(k.KeyOps, "verify") {
		return nil, errors.New("key_ops lacks verify")
	}
	alg := k.Alg
	var material any
	switch k.Kty {
	case "RSA":
		if alg == "" {
			alg = "RS256"
		}
		pub, err := rsaKey(k.N, k.E)
		if err != nil {
			return nil, err
		}
		material = pub
	case "EC":
		var curve elliptic.Curve
		var curveAlg string
		switch k.Crv {
		case "P-256":
			curve, curveAlg = elliptic.P256(), "ES256"
		case "P-384":
			curve, curveAlg = elliptic.P384(), "ES384"
		case "P-521":
			curve, curveAlg = elliptic.P521(), "ES512"
		default:
			return nil, fmt.Errorf("EC curve %.16q not supported", k.Crv)
		}
		if alg == "" {
			alg = curveAlg
		}
		pub, err := ecKey(curve, k.X, k.Y)
		if err != nil {
			return nil, err
		}
		material = pub
	case "OKP":
		if k.Crv != "Ed25519" {
			return nil, fmt.Errorf("OKP curve %.16q not supported", k.Crv)
		}
		// "Ed25519" is the fully specified name (RFC 9864) of what tokens
		// call EdDSA.
		if alg == "" || alg == "Ed25519" {
			alg = "EdDSA"
		}
		x, err := b64(k.X)
		if err != nil || len(x) != ed25519.PublicKeySize {
			return nil, errors.New("bad Ed25519 x")
		}
		material = ed25519.PublicKey(x)
	case "oct":
		return nil, errors.New("symmetric keys are never taken from a JWKS")
	default:
		return nil, fmt.Errorf("kty %.16q not supported", k.Kty)
	}
	return newKey(k.Kid, alg, material)
}

func rsaKey(n64, e64 string) (*rsa.PublicKey, error) {
	n, err := b64(n64)
	if err != nil || len(n) == 0 {
		return nil, errors.New("bad RSA n")
	}
	e, err := b64(e64)
	if err != nil || len(e) == 0 || len(e) > 4 {
		return nil, errors.New("bad RSA e")
	}
	var exp int
	for _, b := range e {
		exp = exp<<8 | int(b)
	}
	if exp < 3 || exp%2 == 0 || exp > 1<<31-1 {
		return nil, fmt.Errorf("bad RSA e %d", exp)
	}
	return &rsa.PublicKey{N: new(big.Int).SetBytes(n), E: exp}, nil
}

// ecKey builds the public key and checks that the point is on the curve.
func ecKey(curve elliptic.Curve, x64, y64 string) (*ecdsa.PublicKey, error) {
	size := (curve.Params().BitSize + 7) / 8
	x, errX := b64(x64)
	y, errY := b64(y64)
	if errX != nil || errY != nil || len(x) == 0 || len(y) == 0 || len(x) > size || len(y) > size {
		return nil, errors.New("bad EC x or y")
	}
	// RFC 7518 wants full-length coordinates; some encoders drop leading
	// zeros, so pad them back.
	point := make([]byte, 1+2*size)
	point[0] = 4
	copy(point[1+size-len(x):], x)
	copy(point[1+2*size-len(y):], y)
	pub, err := ecdsa.ParseUncompressedPublicKey(curve, point)
	if err != nil {
		return nil, fmt.Errorf("bad EC point: %v", err)
	}
	return pub, nil
}

func b64(s string) ([]byte, error) {
	// Some encoders pad base64url; RFC 7515 says not to, both are read.
	return base64.RawURLEncoding.DecodeString(strings.TrimRight(s, "="))
}
