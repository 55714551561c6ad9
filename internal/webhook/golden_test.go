package webhook

import (
	"bytes"
	"context"
	"io"
	"path/filepath"
	"testing"
	"time"

	"github.com/roomd/roomd/internal/golden"
)

// dumpRequest renders a callback request as the App backend sees it: method, URL, the
// headers that matter, and the body.
func dumpRequest(t *testing.T, cfg *Config, d Delivery, now time.Time) []byte {
	t.Helper()
	req, err := NewRequest(context.Background(), cfg, d, now)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(req.Body)
	var b bytes.Buffer
	b.WriteString(req.Method + " " + req.URL.String() + "\n")
	for _, h := range []string{"Content-Type", "webhook-id", "webhook-timestamp", "webhook-signature"} {
		if v := req.Header.Get(h); v != "" {
			b.WriteString(h + ": " + v + "\n")
		}
	}
	b.WriteString("\n")
	b.Write(body)
	b.WriteString("\n")
	return b.Bytes()
}

func TestCallbackRequestsGolden(t *testing.T) {
	now := time.Unix(1703589922, 780_000_000)
	ms := now.UnixMilli()
	plain := &Config{App: 1400000000, URL: "https://www.example.com/callback"}
	signed := &Config{App: 1400000000, URL: "https://www.example.com/callback?tenant=7", Token: "xxxxyyyy", TokenEnabled: true,
		SigningSecret: "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"}
	cases := []struct {
		name string
		cfg  *Config
		cmd  Command
		body any
	}{
		{"change_owner.golden", plain, AfterChangeOwner, ChangeOwner{
			RoomId: "room_id", EventTime: ms, Operator_Account: "admin",
			CurrentOwner_Account: "user2", OriginalOwner_Account: "user1"}},
		{"change_owner_signed.golden", signed, AfterChangeOwner, ChangeOwner{
			RoomId: "room_id", EventTime: ms, Operator_Account: "admin",
			CurrentOwner_Account: "user2", OriginalOwner_Account: "user1"}},
		{"follow_add.golden", plain, AfterFollowAdd, FollowAdd{From_Account: "UserID_001", FollowList: []FollowAccount{{"UserID_002"}, {"UserID_003"}}, EventTime: ms}},
		{"follow_delete.golden", plain, AfterFollowDelete, FollowDelete{From_Account: "UserID_001", To_Account: []string{"UserID_002", "UserID_003"}, EventTime: ms}},
		{"create_room.golden", plain, AfterCreateRoom, CreateRoom{
			Operator_Account: "admin",
			RoomInfo: CreateRoomInfo{RoomId: "r1", RoomName: "r1", RoomType: "Live", Owner_Account: "user3", MaxMemberCount: 300,
				IsMessageDisabled: true, CustomInfo: "custom123", IsSeatEnabled: true, TakeSeatMode: "ApplyToTake", MaxSeatCount: 16,
				CreateTime: 1703589922, IsPublicVisible: true, CoverURL: "cover url", Category: []int{1, 2}},
			EventTime: ms}},
		{"destroy_room.golden", plain, AfterDestroyRoom, DestroyRoom{
			Operator_Account: "admin", RoomId: "r1", EventType: DestroyByUser, EventTime: ms,
			RoomInfo: DestroyRoomInfo{RoomId: "r1", RoomName: "live name", RoomType: "Live", Owner_Account: "u1", IsSeatEnabled: true,
				TakeSeatMode: "FreeToTake", MaxMemberCount: 400, MaxSeatCount: 4, Category: []int{1, 2, 3}, CoverURL: "cover url",
				BackgroundURL: "background url", IsUnlimitedRoomEnabled: true, CreateTime: 1703589000},
			Statistic: Statistic{}}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			body, err := Render(c.cmd, c.body)
			if err != nil {
				t.Fatal(err)
			}
			d := Delivery{ID: "msg_0123456789ab_42", App: c.cfg.App, Command: c.cmd, Body: body, ClientIP: "127.0.0.1", Platform: PlatformRESTAPI}
			golden.Check(t, filepath.Join("testdata", c.name), dumpRequest(t, c.cfg, d, now))
		})
	}
}

func TestSignMatchesSpecExample(t *testing.T) {
	// The example values of Tencent's webhook overview (token xxxxyyyy, RequestTime
	// 1669872112, https://www.tencentcloud.com/document/product/647/64412); the digest was
	// computed independently.
	if got, want := Sign("xxxxyyyy", 1669872112), "17773bc39a671d7b9aa835458704d2a6db81360a5940292b587d6d760d484061"; got != want {
		t.Errorf("Sign = %s, want %s", got, want)
	}
}

func TestStandardSignatureVector(t *testing.T) {
	// The Standard Webhooks specification's example: secret, id, timestamp and payload below
	// sign to this value.
	got := StandardSignature("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", "msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330, []byte(`{"test": 2432232314}`))
	if want := "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="; got != want {
		t.Errorf("signature %s, want %s", got, want)
	}
}

func TestRequestURLJoinsExistingQuery(t *testing.T) {
	d := Delivery{App: 1, Command: AfterChangeOwner, ClientIP: "1.2.3.4", Platform: PlatformRESTAPI}
	for base, want := range map[string]string{
		"http://h/cb":      "http://h/cb?SdkAppid=1&",
		"http://h/cb?a=1":  "http://h/cb?a=1&SdkAppid=1&",
		"http://h/cb?":     "http://h/cb?SdkAppid=1&",
		"http://h/cb?a=1&": "http://h/cb?a=1&SdkAppid=1&",
	} {
		got := RequestURL(&Config{URL: base}, d, time.Unix(0, 0))
		if len(got) < len(want) || got[:len(want)] != want {
			t.Errorf("RequestURL(%q) = %q", base, got)
		}
	}
}
