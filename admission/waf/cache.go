package waf

import (
	"hash/maphash"
	"sync/atomic"
)

// cleanCache remembers header values that the detectors found clean. The
// same few User-Agent and Referer strings arrive on most requests, and
// each costs a microsecond or more in libinjection: a hit costs a hash and
// a compare, and allocates nothing.
//
// It is a fixed table of atomic pointers, one entry per slot, replaced on
// a miss: no lock, no growth, at most cacheSlots values of at most
// cacheMaxValue bytes. An entry holds the whole value and a hit compares
// it byte for byte, so no crafted value can pass for a cached one; the
// seeded hash only spreads values over the slots. Only clean verdicts are
// kept, and a Firewall's verdicts never change, so an entry never goes
// stale.
type cleanCache struct {
	seed  maphash.Seed
	slots [cacheSlots]atomic.Pointer[cacheEntry]
}

const (
	cacheSlots    = 256
	cacheMaxValue = 512 // longer values are rare and not worth holding
)

type cacheEntry struct {
	hash  uint64
	value string
}

// clean reports whether v is known clean; h is v's hash, to pass to add.
func (c *cleanCache) clean(v []byte) (ok bool, h uint64) {
	if len(v) > cacheMaxValue {
		return false, 0
	}
	h = maphash.Bytes(c.seed, v)
	e := c.slots[h%cacheSlots].Load()
	return e != nil && e.hash == h && e.value == string(v), h
}

// add records v, of hash h, as clean. It allocates the entry: on a miss
// only, after a detector call that costs far more.
func (c *cleanCache) add(v []byte, h uint64) {
	if len(v) > cacheMaxValue {
		return
	}
	c.slots[h%cacheSlots].Store(&cacheEntry{hash: h, value: string(v)})
}
