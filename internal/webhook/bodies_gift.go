package webhook

// BeforeSendGiftBody is the body of the Before-callback Live.CallbackBeforeSendGift
// (https://www.tencentcloud.com/document/product/647/72210): who acts, in which room, and
// the gift flow record. It has no EventTime; GiftWater.Time is the send time.
type BeforeSendGiftBody struct {
	CallbackCommand  Command   `json:"CallbackCommand"`
	Operator_Account string    `json:"Operator_Account"`
	RoomId           string    `json:"RoomId"`
	GiftWater        GiftWater `json:"GiftWater"`
}

// GiftWater is Tencent's "gift flow record": the sender, the receivers, when (Unix
// seconds), which gift, how many and the value of one gift in coins.
type GiftWater struct {
	From_Account string   `json:"From_Account"`
	To_Account   []string `json:"To_Account"`
	Time         int64    `json:"Time"`
	GiftId       string   `json:"GiftId"`
	Count        int64    `json:"Count"`
	Coins        int64    `json:"Coins"`
}

func (b BeforeSendGiftBody) withCommand(c Command) any { b.CallbackCommand = c; return b }
