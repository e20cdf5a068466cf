package jwtauth

import (
	"strings"
	"sync"
	"time"
)

// tokenCache remembers verified tokens by their exact text, so a token seen
// again skips the JSON decoding and the signature check. That is safe
// because the key is the whole signed token: a hit means these very bytes
// were verified before with the same issuer, audience and keys. Times are
// checked again on every hit. Entries leave when the token expires, when the
// cache is full (arbitrary ones, a quarter at a time), and all at once when
// the JWKS changes (clear), so a key removed from the set stops
// authenticating at once.
type tokenCache struct {
	max int

	mu sync.RWMutex
	// Protected by mu:
	m   map[string]cacheEntry
	gen uint64 // incremented by clear
}

type cacheEntry struct {
	claims *Claims
	// until is exp+leeway: the entry is good while now is before it.
	until time.Time
	// from is nbf-leeway (zero if no nbf).
	from time.Time
}

func newTokenCache(max int) *tokenCache {
	if max <= 0 {
		return nil
	}
	return &tokenCache{max: max, m: make(map[string]cacheEntry)}
}

// get returns the claims of token if it is cached and valid at now.
func (c *tokenCache) get(token string, now time.Time) (*Claims, bool) {
	if c == nil {
		return nil, false
	}
	c.mu.RLock()
	e, ok := c.m[token]
	c.mu.RUnlock()
	if !ok || !now.Before(e.until) || now.Before(e.from) {
		return nil, false
	}
	return e.claims, true
}

// generation is read before a verification starts; put drops the result if
// the cache was cleared meanwhile (the key it was verified with may be gone).
func (c *tokenCache) generation() uint64 {
	if c == nil {
		return 0
	}
	c.mu.RLock()
	defer c.mu.RUnlock()
	return c.gen
}

func (c *tokenCache) put(token string, e cacheEntry, gen uint64, now time.Time) {
	if c == nil {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if gen != c.gen {
		return
	}
	if len(c.m) >= c.max {
		c.evictLocked(now)
	}
	// The caller's string may alias a buffer it reuses (the WebSocket
	// handshake is parsed in place); the map keeps its own copy.
	c.m[strings.Clone(token)] = e
}

// evictLocked drops expired entries and, if that is not enough, arbitrary
// ones down to three quarters of max, so the O(n) sweep is paid once per
// max/4 insertions. c.mu is held.
func (c *tokenCache) evictLocked(now time.Time) {
	for k, e := range c.m {
		if !now.Before(e.until) {
			delete(c.m, k)
		}
	}
	for k := range c.m {
		if len(c.m) < c.max*3/4 {
			break
		}
		delete(c.m, k)
	}
}

func (c *tokenCache) clear() {
	if c == nil {
		return
	}
	c.mu.Lock()
	clear(c.m)
	c.gen++
	c.mu.Unlock()
}

func (c *tokenCache) len() int {
	if c == nil {
		return 0
	}
	c.mu.RLock()
	defer c.mu.RUnlock()
	return len(c.m)
}
