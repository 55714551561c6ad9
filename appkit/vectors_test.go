package appkit_test

import (
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/roomd/roomd/appkit"
)

// vectors is testdata/signature_vectors.json: the published Standard Webhooks signing
// vector and Tencent's Sign example. internal/webhook's signer is tested against the same
// file.
type vectors struct {
	Standard []struct {
		Name, Secret, ID, Body, Signature string
		Timestamp                         int64
	}
	StandardWrongSignature string `json:"standard_wrong_signature"`
	Tencent                []struct {
		Token       string
		RequestTime int64 `json:"request_time"`
		Sign        string
	}
}

func loadVectors(t *testing.T) vectors {
	t.Helper()
	b, err := os.ReadFile("testdata/signature_vectors.json")
	if err != nil {
		t.Fatal(err)
	}
	var v vectors
	if err := json.Unmarshal(b, &v); err != nil {
		t.Fatal(err)
	}
	if len(v.Standard) == 0 || len(v.Tencent) == 0 {
		t.Fatal("no vectors")
	}
	return v
}

// TestStandardWebhooksVectors checks SignStandard, VerifySignature and the Verifier against
// the published Standard Webhooks vector and the reference libraries' verification cases.
func TestStandardWebhooksVectors(t *testing.T) {
	v := loadVectors(t)
	for _, tv := range v.Standard {
		t.Run(tv.Name, func(t *testing.T) {
			got, err := appkit.SignStandard(tv.Secret, tv.ID, tv.Timestamp, []byte(tv.Body))
			if err != nil || got != tv.Signature {
				t.Fatalf("SignStandard = %q, %v; want %q", got, err, tv.Signature)
			}
			check := func(name, header string, secrets []string, want bool) {
				t.Helper()
				ok, err := appkit.VerifySignature(secrets, tv.ID, tv.Timestamp, []byte(tv.Body), header)
				if err != nil || ok != want {
					t.Errorf("%s: VerifySignature = %v, %v; want %v", name, ok, err, want)
				}
			}
			check("valid", tv.Signature, []string{tv.Secret}, true)
			check("wrong signature", v.StandardWrongSignature, []string{tv.Secret}, false)
			check("several entries, one valid", strings.Join([]string{v.StandardWrongSignature, "v2," + strings.TrimPrefix(v.StandardWrongSignature, "v1,"), tv.Signature, v.StandardWrongSignature}, " "), []string{tv.Secret}, true)
			check("valid value under another version", "v1a,"+strings.TrimPrefix(tv.Signature, "v1,"), []string{tv.Secret}, false)
			check("second of two secrets", tv.Signature, []string{"whsec_" + "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", tv.Secret}, true)
			check("wrong secret", tv.Signature, []string{"another-secret-of-16+bytes"}, false)
			ok, _ := appkit.VerifySignature([]string{tv.Secret}, tv.ID, tv.Timestamp, []byte(tv.Body+" "), tv.Signature)
			if ok {
				t.Error("a changed body verified")
			}

			// Through a Verifier and the tolerance window, as the reference libraries test it.
			at := time.Unix(tv.Timestamp, 0)
			for _, c := range []struct {
				name string
				now  time.Time
				want error
			}{
				{"now", at, nil},
				{"just inside the tolerance", at.Add(appkit.DefaultTolerance), nil},
				{"too old", at.Add(appkit.DefaultTolerance + time.Second), appkit.ErrStale},
				{"too new", at.Add(-appkit.DefaultTolerance - time.Second), appkit.ErrStale},
			} {
				vf := &appkit.Verifier{SigningSecrets: []string{tv.Secret}, Now: func() time.Time { return c.now }}
				req := vectorRequest(t, tv.ID, strconv.FormatInt(tv.Timestamp, 10), tv.Signature, tv.Body)
				if err := vf.Verify(req); !errors.Is(err, c.want) {
					t.Errorf("%s: Verify = %v, want %v", c.name, err, c.want)
				}
			}
			vf := &appkit.Verifier{SigningSecrets: []string{tv.Secret}, Now: func() time.Time { return at }}
			for name, req := range map[string]*appkit.Request{
				"missing id":        vectorRequest(t, "", strconv.FormatInt(tv.Timestamp, 10), tv.Signature, tv.Body),
				"missing timestamp": vectorRequest(t, tv.ID, "", tv.Signature, tv.Body),
				"missing signature": vectorRequest(t, tv.ID, strconv.FormatInt(tv.Timestamp, 10), "", tv.Body),
				"bad timestamp":     vectorRequest(t, tv.ID, "x", tv.Signature, tv.Body),
				"other timestamp":   vectorRequest(t, tv.ID, strconv.FormatInt(tv.Timestamp+1, 10), tv.Signature, tv.Body),
			} {
				if err := vf.Verify(req); !errors.Is(err, appkit.ErrBadSignature) {
					t.Errorf("%s: Verify = %v, want ErrBadSignature", name, err)
				}
			}
		})
	}
}

// vectorRequest parses a request with the given Standard Webhooks headers and a body that
// names a command the kit does not know.
func vectorRequest(t *testing.T, id, ts, sig, body string) *appkit.Request {
	t.Helper()
	r := httptest.NewRequest(http.MethodPost, "/cb?CallbackCommand=Test.Vector", strings.NewReader(body))
	for k, v := range map[string]string{"webhook-id": id, "webhook-timestamp": ts, "webhook-signature": sig} {
		if v != "" {
			r.Header.Set(k, v)
		}
	}
	req, err := appkit.Parse(r)
	if err != nil {
		t.Fatalf("parse: %v", err)
	}
	return req
}

func TestTencentSignVector(t *testing.T) {
	v := loadVectors(t)
	for _, tv := range v.Tencent {
		if got := appkit.Sign(tv.Token, tv.RequestTime); got != tv.Sign {
			t.Fatalf("Sign = %s, want %s", got, tv.Sign)
		}
		at := time.Unix(tv.RequestTime, 0)
		q := "/cb?SdkAppid=1400000000&CallbackCommand=Test.Vector&Sign=" + tv.Sign + "&RequestTime=" + strconv.FormatInt(tv.RequestTime, 10)
		for _, c := range []struct {
			name   string
			tokens []string
			query  string
			now    time.Time
			want   error
		}{
			{"valid", []string{tv.Token}, q, at, nil},
			{"old and new token", []string{"new-token", tv.Token}, q, at, nil},
			{"upper-case hex", []string{tv.Token}, strings.Replace(q, tv.Sign, strings.ToUpper(tv.Sign), 1), at, nil},
			{"60 s late", []string{tv.Token}, q, at.Add(time.Minute), nil},
			{"61 s late", []string{tv.Token}, q, at.Add(61 * time.Second), appkit.ErrStale},
			{"61 s early", []string{tv.Token}, q, at.Add(-61 * time.Second), appkit.ErrStale},
			{"wrong token", []string{"xxxxyyyz"}, q, at, appkit.ErrBadSign},
			{"no Sign", []string{tv.Token}, "/cb?SdkAppid=1400000000&CallbackCommand=Test.Vector", at, appkit.ErrBadSign},
		} {
			r := httptest.NewRequest(http.MethodPost, c.query, strings.NewReader(`{}`))
			req, err := appkit.Parse(r)
			if err != nil {
				t.Fatal(err)
			}
			vf := &appkit.Verifier{SDKAppID: 1400000000, Tokens: c.tokens, Now: func() time.Time { return c.now }}
			if err := vf.Verify(req); !errors.Is(err, c.want) {
				t.Errorf("%s: Verify = %v, want %v", c.name, err, c.want)
			}
		}
		r := httptest.NewRequest(http.MethodPost, q, strings.NewReader(`{}`))
		req, _ := appkit.Parse(r)
		vf := &appkit.Verifier{SDKAppID: 1400000001, Tokens: []string{tv.Token}, Now: func() time.Time { return at }}
		if err := vf.Verify(req); !errors.Is(err, appkit.ErrWrongApp) {
			t.Errorf("other app: Verify = %v, want ErrWrongApp", err)
		}
	}
}
