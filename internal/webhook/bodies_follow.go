package webhook

// The request bodies of the follow callbacks, which Live shares with Chat: fields in the
// order of the samples of Follow.CallbackAfterFollowAdd
// (https://www.tencentcloud.com/document/product/647/74356) and
// Follow.CallbackAfterFollowDelete (https://www.tencentcloud.com/document/product/647/74357).

// FollowAccount is one entry of FollowAdd's FollowList.
type FollowAccount struct {
	To_Account string `json:"To_Account"`
}

// FollowAdd is the body of Follow.CallbackAfterFollowAdd: From_Account followed the
// accounts of FollowList.
type FollowAdd struct {
	CallbackCommand Command         `json:"CallbackCommand"`
	From_Account    string          `json:"From_Account"`
	FollowList      []FollowAccount `json:"FollowList"`
	EventTime       int64           `json:"EventTime"`
}

// FollowDelete is the body of Follow.CallbackAfterFollowDelete: From_Account stopped
// following the accounts of To_Account (a plain array here, unlike FollowAdd's list).
type FollowDelete struct {
	CallbackCommand Command  `json:"CallbackCommand"`
	From_Account    string   `json:"From_Account"`
	To_Account      []string `json:"To_Account"`
	EventTime       int64    `json:"EventTime"`
}
