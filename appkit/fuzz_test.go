package appkit_test

import (
	"bytes"
	"errors"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/roomd/roomd/appkit"
)

// FuzzParse feeds arbitrary queries, headers and bodies to Parse and to a Verifier: neither
// may panic, an error must wrap ErrMalformed, and a parsed request keeps its body as it came.
func FuzzParse(f *testing.F) {
	f.Add("SdkAppid=1400000000&CallbackCommand=Live.CallbackAfterChangeOwner&contenttype=json", "msg_1", "1700000000", "v1,AAAA", []byte(changeOwnerBody))
	f.Add("CallbackCommand=Group.CallbackBeforeSendMsg", "", "", "", []byte(`{"MsgBody":[{"MsgType":"TIMTextElem","MsgContent":{}}],"Random":4294967295}`))
	f.Add("sdkappid=x&Sign=zz&RequestTime=-1", "id", "x", "v1a,zz v1,!!", []byte(`{"CallbackCommand":"Live.CallbackAfterEndBattle","FromRoomInfo":{"Owner_Account":1e400}}`))
	f.Add("", "", "", "", []byte(`{"CallbackCommand":"Mic.CallbackAfterSeatInfoChanged","SeatList":[{"Member_Account":null}]}`))
	f.Add("%zz", "", "", "", []byte(`[`))
	f.Fuzz(func(t *testing.T, query, id, ts, sig string, body []byte) {
		r := httptest.NewRequest(http.MethodPost, "/cb", bytes.NewReader(body))
		r.URL.RawQuery = query
		r.Header.Set("webhook-id", id)
		r.Header.Set("webhook-timestamp", ts)
		r.Header.Set("webhook-signature", sig)
		req, err := appkit.Parse(r)
		if err != nil {
			if !errors.Is(err, appkit.ErrMalformed) {
				t.Fatalf("error %v does not wrap ErrMalformed", err)
			}
			return
		}
		if !bytes.Equal(req.Body, body) {
			t.Fatal("body changed")
		}
		if req.Command == "" {
			t.Fatal("parsed without a command")
		}
		v := &appkit.Verifier{SDKAppID: 1400000000, Tokens: []string{"t"}, SigningSecrets: []string{"whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", "plain-secret-of-16-bytes"}}
		v.Verify(req)
	})
}
