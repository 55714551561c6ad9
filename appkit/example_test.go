package appkit_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/roomd/roomd/appkit"
)

// An App backend that handles Live.CallbackAfterChangeOwner, checks both of roomd's
// signatures and ignores redeliveries. In production, mount the handler with
// http.Handle("/callback", h) and pass its URL to v4/live_config/set_callback.
func ExampleHandler() {
	h := &appkit.Handler{
		Verifier: &appkit.Verifier{
			SDKAppID:       1400000000,
			Tokens:         []string{"my-callback-token"},
			SigningSecrets: []string{"whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"},
		},
		Dedup: appkit.NewMemoryDeduper(24 * time.Hour),
		OnChangeOwner: func(ctx context.Context, ev *appkit.ChangeOwner) error {
			fmt.Printf("room %s: owner %s -> %s (by %s, webhook-id %s)\n",
				ev.RoomID, ev.OriginalOwner, ev.CurrentOwner, ev.Operator, appkit.RequestFrom(ctx).WebhookID)
			return nil
		},
	}

	// What roomd sends, twice: the second attempt is a redelivery of the same event.
	body := `{"CallbackCommand":"Live.CallbackAfterChangeOwner","RoomId":"live-1","EventTime":1700000000123,"Operator_Account":"administrator","CurrentOwner_Account":"bob","OriginalOwner_Account":"alice"}`
	for range 2 {
		w := httptest.NewRecorder()
		h.ServeHTTP(w, roomdRequest(body, "msg_roomd_42", "my-callback-token", "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"))
		fmt.Println(w.Code, w.Body.String())
	}
	// Output:
	// room live-1: owner alice -> bob (by administrator, webhook-id msg_roomd_42)
	// 200 {"ActionStatus":"OK","ErrorInfo":"","ErrorCode":0}
	// 200 {"ActionStatus":"OK","ErrorInfo":"duplicate webhook-id, handled already","ErrorCode":0}
}

// A Before-callback handler that moderates room messages: it drops empty ones, refuses
// links with a code the sender sees, and masks a word.
func ExampleHandler_beforeSendMsg() {
	h := &appkit.Handler{
		OnBeforeSendMsg: func(_ context.Context, m *appkit.BeforeSendMsg) (appkit.Reply, error) {
			if len(m.MsgBody) == 0 || m.MsgBody[0].Text() == "" {
				return appkit.Drop(), nil
			}
			text := m.MsgBody[0].Text()
			if strings.Contains(text, "http://") {
				return appkit.RejectWithCode(10101, "links are not allowed"), nil
			}
			if masked := strings.ReplaceAll(text, "darn", "d**n"); masked != text {
				return appkit.Modify([]appkit.MsgElement{appkit.TextElem(masked)}), nil
			}
			return appkit.Allow(), nil
		},
	}
	for _, text := range []string{"hello", "darn it", "see http://x", ""} {
		body := `{"CallbackCommand":"Group.CallbackBeforeSendMsg","GroupId":"live-1","Type":"Live","From_Account":"u1","Operator_Account":"u1","Random":1,"MsgId":"m","MsgBody":[{"MsgType":"TIMTextElem","MsgContent":{"Text":"` + text + `"}}],"CloudCustomData":"","EventTime":1}`
		w := httptest.NewRecorder()
		h.ServeHTTP(w, httptest.NewRequest(http.MethodPost, "/callback?SdkAppid=1400000000&CallbackCommand=Group.CallbackBeforeSendMsg", strings.NewReader(body)))
		fmt.Println(w.Body.String())
	}
	// Output:
	// {"ActionStatus":"OK","ErrorInfo":"","ErrorCode":0}
	// {"ActionStatus":"OK","ErrorInfo":"","ErrorCode":0,"MsgBody":[{"MsgType":"TIMTextElem","MsgContent":{"Text":"d**n it"}}]}
	// {"ActionStatus":"FAIL","ErrorInfo":"links are not allowed","ErrorCode":10101}
	// {"ActionStatus":"FAIL","ErrorInfo":"","ErrorCode":2}
}

// Parse and Verify can be used without Handler, from any router.
func ExampleVerifier() {
	v := &appkit.Verifier{SDKAppID: 1400000000, SigningSecrets: []string{"whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"}}
	body := `{"CallbackCommand":"Live.CallbackAfterDelMetadata","Operator_Account":"u1","RoomId":"live-1","Keys":["topic"],"EventTime":1}`

	good := roomdRequest(body, "msg_1", "", "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw")
	forged := roomdRequest(body, "msg_1", "", "whsec_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA")
	for _, r := range []*http.Request{good, forged} {
		req, err := appkit.Parse(r)
		if err != nil {
			fmt.Println(err)
			continue
		}
		if err := v.Verify(req); err != nil {
			fmt.Println("refused:", err)
			continue
		}
		fmt.Println("deleted keys:", req.Event.(*appkit.DelMetadata).Keys)
	}
	// Output:
	// deleted keys: [topic]
	// refused: webhook-signature does not match
}

// roomdRequest builds a callback request the way roomd does, signed now with token (when
// not empty) and with secret.
func roomdRequest(body, id, token, secret string) *http.Request {
	now := time.Now().Unix()
	cmd, _, _ := strings.Cut(strings.TrimPrefix(body, `{"CallbackCommand":"`), `"`)
	target := "/callback?SdkAppid=1400000000&CallbackCommand=" + cmd + "&contenttype=json&ClientIP=&OptPlatform=RESTAPI"
	if token != "" {
		target += "&Sign=" + appkit.Sign(token, now) + "&RequestTime=" + strconv.FormatInt(now, 10)
	}
	r := httptest.NewRequest(http.MethodPost, target, strings.NewReader(body))
	sig, err := appkit.SignStandard(secret, id, now, []byte(body))
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
	}
	r.Header.Set("webhook-id", id)
	r.Header.Set("webhook-timestamp", strconv.FormatInt(now, 10))
	r.Header.Set("webhook-signature", sig)
	return r
}
