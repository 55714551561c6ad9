package usersig

import (
	"crypto/sha256"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Verifier is Verify with a bounded cache of successful verifications. An administrator
// that presents the same UserSig on every REST call then costs one map lookup and the
// expiry check instead of Base64 decoding, inflating, JSON parsing and an HMAC.
//
// An entry is keyed by the UserSig, the SDKAppID, the identifier and a SHA-256 of the key,
// so a call with any other key, application or user never hits it. The expiry check runs
// against now on every hit, and an entry found expired is dropped. Failed verifications
// are not cached. When the cache is full, adding an entry evicts an arbitrary one.
//
// A Verifier is safe for concurrent use. The zero value verifies without caching; use
// NewVerifier to get a cache.
type Verifier struct {
	capacity int

	mu      sync.RWMutex
	entries map[cacheKey]*Document
	// lastKey is the last secret key digested, for keySum.
	lastKey atomic.Pointer[keyDigest]
}

// cacheKey identifies one successful verification.
type cacheKey struct {
	sig        string
	identifier string
	sdkappid   uint64
	keySum     [sha256.Size]byte
}

// NewVerifier returns a Verifier that caches up to capacity successful verifications. A
// capacity of zero or less disables the cache.
func NewVerifier(capacity int) *Verifier {
	v := &Verifier{capacity: max(capacity, 0)}
	if v.capacity > 0 {
		v.entries = make(map[cacheKey]*Document, min(v.capacity, 1024))
	}
	return v
}

// Verify behaves exactly like the package-level Verify, including the order of the checks
// and the errors returned, but answers repeated successful verifications from the cache.
// The returned Document is a copy that the caller may modify.
func (v *Verifier) Verify(sig string, sdkappid uint64, key, identifier string, now time.Time) (*Document, error) {
	d, cached, err := v.verify(sig, sdkappid, key, identifier, now)
	if cached {
		d = d.clone()
	}
	return d, err
}

// Check is Verify for a caller that needs only the verdict: the same checks in the same
// order and the same errors, without copying the Document of a cached verification.
func (v *Verifier) Check(sig string, sdkappid uint64, key, identifier string, now time.Time) error {
	_, _, err := v.verify(sig, sdkappid, key, identifier, now)
	return err
}

// verify is Verify; a Document it returns with cached set is the cache's own and must not
// be handed out.
func (v *Verifier) verify(sig string, sdkappid uint64, key, identifier string, now time.Time) (d *Document, cached bool, err error) {
	if v.capacity <= 0 || sig == "" || len(sig) > MaxLen {
		d, err = Verify(sig, sdkappid, key, identifier, now)
		return d, false, err
	}
	k := cacheKey{sig: sig, identifier: identifier, sdkappid: sdkappid, keySum: v.keySum(key)}

	v.mu.RLock()
	d, ok := v.entries[k]
	v.mu.RUnlock()
	if ok {
		if d.Expired(now) {
			v.mu.Lock()
			if v.entries[k] == d {
				delete(v.entries, k)
			}
			v.mu.Unlock()
			return nil, false, fmt.Errorf("%w: at %d, valid until %d", ErrExpired, now.Unix(), d.deadline())
		}
		return d, true, nil
	}

	d, err = Verify(sig, sdkappid, key, identifier, now)
	if err != nil {
		return nil, false, err
	}
	// Clone the strings so that the cache never pins a larger buffer, such as the
	// request URL that sig was sliced from.
	k.sig, k.identifier = strings.Clone(sig), strings.Clone(identifier)
	v.mu.Lock()
	if _, ok := v.entries[k]; !ok && len(v.entries) >= v.capacity {
		for victim := range v.entries { // Map iteration starts at a random entry.
			delete(v.entries, victim)
			break
		}
	}
	v.entries[k] = d
	v.mu.Unlock()
	return d.clone(), false, nil
}

// keyDigest is a secret key and its SHA-256.
type keyDigest struct {
	key string
	sum [sha256.Size]byte
}

// keySum returns the SHA-256 of key, from the last key digested when it is the same key
// (an app's REST calls all present its one key), so that a cache hit costs no hashing of
// the key.
func (v *Verifier) keySum(key string) [sha256.Size]byte {
	if last := v.lastKey.Load(); last != nil && last.key == key {
		return last.sum
	}
	kd := &keyDigest{key: strings.Clone(key), sum: sha256.Sum256([]byte(key))}
	v.lastKey.Store(kd)
	return kd.sum
}

// len returns the number of cached entries.
func (v *Verifier) len() int {
	v.mu.RLock()
	defer v.mu.RUnlock()
	return len(v.entries)
}
