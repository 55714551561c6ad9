package rest

import "testing"

// TestLegacyAccountsWrongType pins that multiaccount_import's legacy "Accounts" list is an
// account field: a non-string entry is 60015 (Tencent's common REST code for an account
// field of the body that is not a string, https://www.tencentcloud.com/document/product/647/63398), as for
// every *_Account and UserID field, not 70402.
func TestLegacyAccountsWrongType(t *testing.T) {
	_, c, _ := newTestHandler(t)
	for body, want := range map[string]int{
		`{"Accounts":[1]}`:         60015,
		`{"Accounts":"u1"}`:        60015,
		`{"Accounts":["legacy1"]}`: 0,
	} {
		env := c.Do(t, "im_open_login_svc/multiaccount_import", body)
		if env.ErrorCode != want {
			t.Errorf("%s: ErrorCode %d, want %d (%s)", body, env.ErrorCode, want, env.ErrorInfo)
		}
	}
}
