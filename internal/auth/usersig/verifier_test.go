package usersig

import (
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"
)

func TestVerifierHitChecksExpiry(t *testing.T) {
	v := loadVectors(t)
	ver := NewVerifier(16)
	sig := v.UserSigLevel6
	d, err := ver.Verify(sig, v.SDKAppID, v.Key, v.Identifier, v.now())
	if err != nil {
		t.Fatal(err)
	}
	if ver.len() != 1 {
		t.Fatalf("cache holds %d entries after a success, want 1", ver.len())
	}
	// The caller owns the returned copy.
	d.Sig[0] ^= 0xFF
	d.Expire = 0
	last := time.Unix(v.Time+v.Expire, 0)
	if _, err := ver.Verify(sig, v.SDKAppID, v.Key, v.Identifier, last); err != nil {
		t.Fatalf("hit at the last valid second: %v", err)
	}
	_, err = ver.Verify(sig, v.SDKAppID, v.Key, v.Identifier, last.Add(time.Second))
	assertErr(t, err, ErrExpired)
	if ver.len() != 0 {
		t.Errorf("expired entry kept")
	}

	// Prove that a hit is answered from the cache and still checks expiry: shorten the
	// cached entry's lifetime, which a fresh verification would not see.
	if _, err := ver.Verify(sig, v.SDKAppID, v.Key, v.Identifier, v.now()); err != nil {
		t.Fatal(err)
	}
	for _, e := range ver.entries {
		e.Expire = 10
	}
	_, err = ver.Verify(sig, v.SDKAppID, v.Key, v.Identifier, v.now().Add(11*time.Second))
	assertErr(t, err, ErrExpired)
	if _, err := ver.Verify(sig, v.SDKAppID, v.Key, v.Identifier, v.now().Add(11*time.Second)); err != nil {
		t.Errorf("after dropping the entry, a fresh verification should succeed: %v", err)
	}
}

func TestVerifierKeyIsPartOfTheCacheKey(t *testing.T) {
	v := loadVectors(t)
	ver := NewVerifier(16)
	for _, sig := range []string{v.UserSigLevel6, v.UserSigStored} {
		if _, err := ver.Verify(sig, v.SDKAppID, v.Key, v.Identifier, v.now()); err != nil {
			t.Fatal(err)
		}
		_, err := ver.Verify(sig, v.SDKAppID, v.Key+"0", v.Identifier, v.now())
		assertErr(t, err, ErrSignatureMismatch)
		_, err = ver.Verify(sig, v.SDKAppID, "", v.Identifier, v.now())
		assertErr(t, err, ErrSignatureMismatch)
		_, err = ver.Verify(sig, v.SDKAppID, v.Key, "xiaojun2", v.now())
		assertErr(t, err, ErrIdentifierMismatch)
		_, err = ver.Verify(sig, v.SDKAppID+1, v.Key, v.Identifier, v.now())
		assertErr(t, err, ErrAppIDMismatch)
		_, err = ver.Verify("", v.SDKAppID, v.Key, v.Identifier, v.now())
		assertErr(t, err, ErrEmpty)
	}
	if ver.len() != 2 {
		t.Errorf("cache holds %d entries, want 2 (failures are not cached)", ver.len())
	}
}

func TestVerifierCapacity(t *testing.T) {
	now := time.Unix(1750000000, 0)
	ver := NewVerifier(4)
	sigs := make([]string, 10)
	for i := range sigs {
		var err error
		sigs[i], err = Sign(1400000000, "k", fmt.Sprintf("user%d", i), 60, now)
		if err != nil {
			t.Fatal(err)
		}
	}
	for round := 0; round < 3; round++ {
		for i, s := range sigs {
			if _, err := ver.Verify(s, 1400000000, "k", fmt.Sprintf("user%d", i), now); err != nil {
				t.Fatal(err)
			}
			if n := ver.len(); n > 4 {
				t.Fatalf("cache grew to %d entries, capacity 4", n)
			}
		}
	}
	for _, c := range []*Verifier{NewVerifier(0), NewVerifier(-1), {}} {
		if _, err := c.Verify(sigs[0], 1400000000, "k", "user0", now); err != nil {
			t.Errorf("uncached verifier: %v", err)
		}
		_, err := c.Verify(sigs[0], 1400000000, "k", "user0", now.Add(time.Hour))
		assertErr(t, err, ErrExpired)
		if c.len() != 0 {
			t.Error("verifier without capacity cached an entry")
		}
	}
}

func TestVerifierConcurrent(t *testing.T) {
	now := time.Unix(1750000000, 0)
	ver := NewVerifier(8)
	type item struct {
		sig, user, key string
		want           error
	}
	var items []item
	for i := 0; i < 16; i++ {
		user := fmt.Sprintf("user%d", i)
		sig, err := Sign(1400000000, "k", user, 60, now)
		if err != nil {
			t.Fatal(err)
		}
		items = append(items, item{sig, user, "k", nil}, item{sig, user, "other", ErrSignatureMismatch})
	}
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for g := 0; g < 8; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 500; i++ {
				it := items[(i*7+g)%len(items)]
				at := now.Add(time.Duration(i%90) * time.Second)
				_, err := ver.Verify(it.sig, 1400000000, it.key, it.user, at)
				want := it.want
				if at.Unix() > now.Unix()+60 {
					want = ErrExpired
				}
				if (want == nil) != (err == nil) || want != nil && !errors.Is(err, want) {
					errs <- fmt.Errorf("goroutine %d, call %d: got %v, want %v", g, i, err, want)
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if n := ver.len(); n > 8 {
		t.Errorf("cache grew to %d entries, capacity 8", n)
	}
}

// TestVerifierCheckIsVerify checks that Check answers as Verify does, on a miss and on a
// hit, with the right key and with others alternating (the key digest kept for keySum must
// never answer for another key), and when the cached entry has expired.
func TestVerifierCheckIsVerify(t *testing.T) {
	v := loadVectors(t)
	checker, verifier := NewVerifier(16), NewVerifier(16)
	last := time.Unix(v.Time+v.Expire, 0)
	for round := range 2 {
		for _, c := range []struct {
			sig, key, identifier string
			now                  time.Time
		}{
			{v.UserSigLevel6, v.Key, v.Identifier, v.now()},
			{v.UserSigLevel6, v.Key + "0", v.Identifier, v.now()},
			{v.UserSigLevel6, v.Key, v.Identifier, v.now()},
			{v.UserSigStored, "", v.Identifier, v.now()},
			{v.UserSigStored, v.Key, v.Identifier, last},
			{v.UserSigLevel6, v.Key, v.Identifier + "x", v.now()},
			{v.UserSigLevel6, v.Key, v.Identifier, last.Add(time.Second)},
			{"", v.Key, v.Identifier, v.now()},
		} {
			got := checker.Check(c.sig, v.SDKAppID, c.key, c.identifier, c.now)
			_, want := verifier.Verify(c.sig, v.SDKAppID, c.key, c.identifier, c.now)
			if fmt.Sprint(got) != fmt.Sprint(want) {
				t.Errorf("round %d, key %q, identifier %q, at %v: Check = %v, Verify = %v", round, c.key, c.identifier, c.now, got, want)
			}
		}
	}
}
