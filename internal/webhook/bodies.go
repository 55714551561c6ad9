package webhook

// The request bodies of the After-callbacks, one struct per command, fields in the order of
// the samples on Tencent's page of each callback (linked below, all under
// https://www.tencentcloud.com/document/product/647/). Account fields are JSON strings.
// EventTime is Unix milliseconds. CallbackCommand is left empty where a body is built:
// Render sets it from the command the callback is sent under.

// CreateRoomInfo is the RoomInfo object of Live.CallbackAfterCreateRoom
// (https://www.tencentcloud.com/document/product/647/64422).
type CreateRoomInfo struct {
	RoomId            string `json:"RoomId"`
	RoomName          string `json:"RoomName"`
	RoomType          string `json:"RoomType"`
	Owner_Account     string `json:"Owner_Account"`
	MaxMemberCount    int    `json:"MaxMemberCount"`
	IsMessageDisabled bool   `json:"IsMessageDisabled"`
	CustomInfo        string `json:"CustomInfo"`
	IsSeatEnabled     bool   `json:"IsSeatEnabled"`
	TakeSeatMode      string `json:"TakeSeatMode"`
	MaxSeatCount      int    `json:"MaxSeatCount"`
	CreateTime        int64  `json:"CreateTime"`
	IsPublicVisible   bool   `json:"IsPublicVisible"`
	CoverURL          string `json:"CoverURL"`
	Category          []int  `json:"Category"`
}

// CreateRoom is the body of Live.CallbackAfterCreateRoom.
type CreateRoom struct {
	CallbackCommand  Command        `json:"CallbackCommand"`
	Operator_Account string         `json:"Operator_Account"`
	RoomInfo         CreateRoomInfo `json:"RoomInfo"`
	EventTime        int64          `json:"EventTime"`
}

// DestroyRoomInfo is the RoomInfo object of Live.CallbackAfterDestroyRoom, with every field
// the sample shows (https://www.tencentcloud.com/document/product/647/64423).
type DestroyRoomInfo struct {
	RoomId                 string `json:"RoomId"`
	RoomName               string `json:"RoomName"`
	RoomType               string `json:"RoomType"`
	Owner_Account          string `json:"Owner_Account"`
	IsSeatEnabled          bool   `json:"IsSeatEnabled"`
	TakeSeatMode           string `json:"TakeSeatMode"`
	MaxMemberCount         int    `json:"MaxMemberCount"`
	MaxSeatCount           int    `json:"MaxSeatCount"`
	Category               []int  `json:"Category"`
	CustomInfo             string `json:"CustomInfo"`
	IsMessageDisabled      bool   `json:"IsMessageDisabled"`
	CoverURL               string `json:"CoverURL"`
	ActivityStatus         int    `json:"ActivityStatus"`
	IsPublicVisible        bool   `json:"IsPublicVisible"`
	ViewCount              int64  `json:"ViewCount"`
	BackgroundURL          string `json:"BackgroundURL"`
	IsUnlimitedRoomEnabled bool   `json:"IsUnlimitedRoomEnabled"`
	CreateTime             int64  `json:"CreateTime"`
}

// Statistic is the statistics object of Live.CallbackAfterDestroyRoom
// (https://www.tencentcloud.com/document/product/647/64423).
type Statistic struct {
	TotalViewers           int64 `json:"TotalViewers"`
	TotalGiftsSent         int64 `json:"TotalGiftsSent"`
	TotalGiftCoins         int64 `json:"TotalGiftCoins"`
	TotalUniqueGiftSenders int64 `json:"TotalUniqueGiftSenders"`
	TotalLikesReceived     int64 `json:"TotalLikesReceived"`
}

// Destroy event types.
const (
	DestroyByUser   = "DestroyByUser"
	DestroyBySystem = "DestroyBySystem"
)

// DestroyRoom is the body of Live.CallbackAfterDestroyRoom.
type DestroyRoom struct {
	CallbackCommand  Command         `json:"CallbackCommand"`
	Operator_Account string          `json:"Operator_Account"`
	RoomId           string          `json:"RoomId"`
	EventType        string          `json:"EventType"`
	EventTime        int64           `json:"EventTime"`
	RoomInfo         DestroyRoomInfo `json:"RoomInfo"`
	Statistic        Statistic       `json:"Statistic"`
}

// ChangeOwner is the body of Live.CallbackAfterChangeOwner, the first callback roomd sent
// (https://www.tencentcloud.com/document/product/647/72553).
type ChangeOwner struct {
	CallbackCommand       Command `json:"CallbackCommand"`
	RoomId                string  `json:"RoomId"`
	EventTime             int64   `json:"EventTime"`
	Operator_Account      string  `json:"Operator_Account"`
	CurrentOwner_Account  string  `json:"CurrentOwner_Account"`
	OriginalOwner_Account string  `json:"OriginalOwner_Account"`
}
