package usersig

import (
	"testing"
)

func BenchmarkVerify(b *testing.B) {
	v := loadVectors(b)
	var g goldenSign
	loadJSON(b, "sign_golden.json", &g)
	for _, c := range []struct{ name, sig string }{
		{"SpecLevel6", v.UserSigLevel6},
		{"SpecStored", v.UserSigStored},
		{"OwnSign", g.Plain},
	} {
		b.Run(c.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := Verify(c.sig, v.SDKAppID, v.Key, v.Identifier, v.now()); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func BenchmarkVerifierCached(b *testing.B) {
	v := loadVectors(b)
	ver := NewVerifier(1024)
	if _, err := ver.Verify(v.UserSigLevel6, v.SDKAppID, v.Key, v.Identifier, v.now()); err != nil {
		b.Fatal(err)
	}
	b.Run("Serial", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := ver.Verify(v.UserSigLevel6, v.SDKAppID, v.Key, v.Identifier, v.now()); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("Parallel", func(b *testing.B) {
		b.ReportAllocs()
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				if _, err := ver.Verify(v.UserSigLevel6, v.SDKAppID, v.Key, v.Identifier, v.now()); err != nil {
					b.Error(err)
					return
				}
			}
		})
	})
	// Check is what the REST handler calls: the verdict without a copy of the Document.
	b.Run("Check", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if err := ver.Check(v.UserSigLevel6, v.SDKAppID, v.Key, v.Identifier, v.now()); err != nil {
				b.Fatal(err)
			}
		}
	})
}

func BenchmarkSign(b *testing.B) {
	v := loadVectors(b)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Sign(v.SDKAppID, v.Key, v.Identifier, v.Expire, v.now()); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkDecode(b *testing.B) {
	v := loadVectors(b)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Decode(v.UserSigLevel6); err != nil {
			b.Fatal(err)
		}
	}
}
