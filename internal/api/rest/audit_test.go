package rest

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"testing"
)

// postAPI sends body to /v4/api as the test admin and returns the decoded envelope.
func postAPI(t *testing.T, h *Handler, sig, api, body string) map[string]json.RawMessage {
	t.Helper()
	req := httptest.NewRequest(http.MethodPost, "/v4/"+api+"?sdkappid=1400000000&identifier=admin&usersig="+sig+"&random=1&contenttype=json", bytes.NewReader([]byte(body)))
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	var env map[string]json.RawMessage
	if err := json.Unmarshal(rec.Body.Bytes(), &env); err != nil {
		t.Fatalf("%s: reply is not JSON: %s", api, rec.Body.Bytes())
	}
	return env
}

// TestLegacyAccountsWrongType pins that multiaccount_import's legacy "Accounts" list is an
// account field: a non-string entry is 60015 ("an account field in the body is not a
// string", error-codes.md §1), as for every *_Account and UserID field, not 70402.
func TestLegacyAccountsWrongType(t *testing.T) {
	h, sig := newTestHandler(t)
	for body, want := range map[string]string{
		`{"Accounts":[1]}`:         "60015",
		`{"Accounts":"u1"}`:        "60015",
		`{"Accounts":["legacy1"]}`: "0",
	} {
		env := postAPI(t, h, sig, "im_open_login_svc/multiaccount_import", body)
		if got := string(env["ErrorCode"]); got != want {
			t.Errorf("%s: ErrorCode %s, want %s (%v)", body, got, want, string(env["ErrorInfo"]))
		}
	}
}
