package webhook

import (
	"path/filepath"
	"testing"
	"time"

	"github.com/roomd/roomd/internal/golden"
)

// TestBeforeSendGiftGolden pins the request of Live.CallbackBeforeSendGift, with the body of
// Tencent's sample (https://www.tencentcloud.com/document/product/647/72210).
func TestBeforeSendGiftGolden(t *testing.T) {
	now := time.Unix(1703589922, 780_000_000)
	cfg := &Config{App: 1400000000, URL: "https://www.example.com/callback"}
	body, err := Render(BeforeSendGift, BeforeSendGiftBody{
		Operator_Account: "brennanli", RoomId: "room_id",
		GiftWater: GiftWater{From_Account: "from", To_Account: []string{"to1"}, Time: 1703589922, GiftId: "gift1", Count: 1, Coins: 1000},
	})
	if err != nil {
		t.Fatal(err)
	}
	d := Delivery{ID: "msg_0123456789ab_b0011223344556677", App: cfg.App, Command: BeforeSendGift, Body: body, ClientIP: "127.0.0.1", Platform: "Android"}
	golden.Check(t, filepath.Join("testdata", "before_send_gift.golden"), dumpRequest(t, cfg, d, now))
}
