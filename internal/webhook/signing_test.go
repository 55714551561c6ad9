package webhook_test

import (
	"context"
	"encoding/json"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/roomd/roomd/appkit"
	"github.com/roomd/roomd/internal/webhook"
)

// signatureVectors is appkit/testdata/signature_vectors.json: the published Standard
// Webhooks signing vector and Tencent's Sign example. roomd's signer and the receiver kit's
// verifier are both held to it.
type signatureVectors struct {
	Standard []struct {
		Name, Secret, ID, Body, Signature string
		Timestamp                         int64
	}
	Tencent []struct {
		Token       string
		RequestTime int64 `json:"request_time"`
		Sign        string
	}
}

func loadSignatureVectors(t *testing.T) signatureVectors {
	t.Helper()
	b, err := os.ReadFile("../../appkit/testdata/signature_vectors.json")
	if err != nil {
		t.Fatal(err)
	}
	var v signatureVectors
	if err := json.Unmarshal(b, &v); err != nil {
		t.Fatal(err)
	}
	if len(v.Standard) == 0 || len(v.Tencent) == 0 {
		t.Fatal("no vectors")
	}
	return v
}

// TestSignerAgainstPublishedVectors signs the published vectors with roomd's signer
// (StandardSignature, Sign, and the headers NewRequest sends) and checks that the receiver
// kit verifies the result.
func TestSignerAgainstPublishedVectors(t *testing.T) {
	v := loadSignatureVectors(t)
	for _, tv := range v.Standard {
		if got := webhook.StandardSignature(tv.Secret, tv.ID, tv.Timestamp, []byte(tv.Body)); got != tv.Signature {
			t.Errorf("%s: StandardSignature = %s, want %s", tv.Name, got, tv.Signature)
		}
		at := time.Unix(tv.Timestamp, 0)
		cfg := &webhook.Config{App: 1400000000, URL: "http://127.0.0.1:9/cb", SigningSecret: tv.Secret}
		req, err := webhook.NewRequest(context.Background(), cfg, webhook.Delivery{ID: tv.ID, App: 1400000000, Command: "Test.Vector", Body: []byte(tv.Body)}, at)
		if err != nil {
			t.Fatal(err)
		}
		if got := req.Header.Get("webhook-signature"); got != tv.Signature {
			t.Errorf("%s: webhook-signature = %s, want %s", tv.Name, got, tv.Signature)
		}
		parsed, err := appkit.Parse(req)
		if err != nil {
			t.Fatal(err)
		}
		vf := &appkit.Verifier{SDKAppID: 1400000000, SigningSecrets: []string{tv.Secret}, Now: func() time.Time { return at }}
		if err := vf.Verify(parsed); err != nil {
			t.Errorf("%s: the kit refuses roomd's request: %v", tv.Name, err)
		}
	}
	for _, tv := range v.Tencent {
		if got := webhook.Sign(tv.Token, tv.RequestTime); got != tv.Sign {
			t.Errorf("Sign = %s, want %s", got, tv.Sign)
		}
		cfg := &webhook.Config{URL: "http://127.0.0.1:9/cb", Token: tv.Token, TokenEnabled: true}
		u := webhook.RequestURL(cfg, webhook.Delivery{App: 1}, time.Unix(tv.RequestTime, 0))
		if !strings.HasSuffix(u, "&Sign="+tv.Sign+"&RequestTime=1669872112") {
			t.Errorf("RequestURL = %s", u)
		}
	}
}

// TestSignatureRotation: during the grace period both secrets sign, the new one first;
// after it only the new one does.
func TestSignatureRotation(t *testing.T) {
	const (
		newSecret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
		oldSecret = "whsec_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"
	)
	until := time.Unix(1700000600, 0)
	cfg := &webhook.Config{SigningSecret: newSecret, PreviousSigningSecret: oldSecret, PreviousSigningUntil: until}
	body := []byte(`{"CallbackCommand":"Live.CallbackAfterChangeOwner"}`)

	during := webhook.SignatureHeader(cfg, "msg_1", 1700000000, body, time.Unix(1700000000, 0))
	want := webhook.StandardSignature(newSecret, "msg_1", 1700000000, body) + " " + webhook.StandardSignature(oldSecret, "msg_1", 1700000000, body)
	if during != want {
		t.Fatalf("during the grace period: %q, want %q", during, want)
	}
	for _, secret := range []string{newSecret, oldSecret} {
		if ok, err := appkit.VerifySignature([]string{secret}, "msg_1", 1700000000, body, during); !ok || err != nil {
			t.Errorf("a receiver with %s refuses the rotated signature: %v", secret, err)
		}
	}
	after := webhook.SignatureHeader(cfg, "msg_1", 1700000600, body, until)
	if after != webhook.StandardSignature(newSecret, "msg_1", 1700000600, body) {
		t.Fatalf("after the grace period: %q", after)
	}
	if ok, _ := appkit.VerifySignature([]string{oldSecret}, "msg_1", 1700000600, body, after); ok {
		t.Error("the old secret still verifies after the grace period")
	}
	if got := webhook.SignatureHeader(&webhook.Config{}, "msg_1", 1, body, until); got != "" {
		t.Errorf("no secret: %q", got)
	}
}
