package jwtauth

// CacheLen is how many tokens the cache holds.
func (v *Verifier) CacheLen() int { return v.cache.len() }

// ParseJWKS returns how many usable keys a JWK Set holds.
func ParseJWKS(body []byte) (int, error) {
	s, err := parseJWKS(body)
	return s.len(), err
}
