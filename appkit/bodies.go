package appkit

import "encoding/json"

// The request bodies of the callbacks, one struct per command. Fields carry Go names and
// Tencent's JSON names as tags (Operator is "Operator_Account", RoomID is "RoomId"); the
// tables of Tencent's page of each command, linked below under
// https://www.tencentcloud.com/document/product/647/, describe them. EventTime is Unix
// milliseconds; CreateTime, StartTime, EndTime, MsgTime and GiftWater.Time are Unix seconds.

// CreateRoomInfo is the RoomInfo of Live.CallbackAfterCreateRoom (64422).
type CreateRoomInfo struct {
	RoomID            string `json:"RoomId"`
	RoomName          string `json:"RoomName"`
	RoomType          string `json:"RoomType"`
	Owner             UserID `json:"Owner_Account"`
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

// CreateRoom is the body of Live.CallbackAfterCreateRoom (64422).
type CreateRoom struct {
	CallbackCommand string         `json:"CallbackCommand"`
	Operator        UserID         `json:"Operator_Account"`
	RoomInfo        CreateRoomInfo `json:"RoomInfo"`
	EventTime       int64          `json:"EventTime"`
}

// DestroyRoomInfo is the RoomInfo of Live.CallbackAfterDestroyRoom (64423): the room as it
// was when it was destroyed.
type DestroyRoomInfo struct {
	RoomID                 string `json:"RoomId"`
	RoomName               string `json:"RoomName"`
	RoomType               string `json:"RoomType"`
	Owner                  UserID `json:"Owner_Account"`
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

// Statistic is the Statistic object of Live.CallbackAfterDestroyRoom (64423).
type Statistic struct {
	TotalViewers           int64 `json:"TotalViewers"`
	TotalGiftsSent         int64 `json:"TotalGiftsSent"`
	TotalGiftCoins         int64 `json:"TotalGiftCoins"`
	TotalUniqueGiftSenders int64 `json:"TotalUniqueGiftSenders"`
	TotalLikesReceived     int64 `json:"TotalLikesReceived"`
}

// The EventType values of Live.CallbackAfterDestroyRoom.
const (
	DestroyByUser   = "DestroyByUser"
	DestroyBySystem = "DestroyBySystem"
)

// DestroyRoom is the body of Live.CallbackAfterDestroyRoom (64423). EventType is
// DestroyByUser or DestroyBySystem.
type DestroyRoom struct {
	CallbackCommand string          `json:"CallbackCommand"`
	Operator        UserID          `json:"Operator_Account"`
	RoomID          string          `json:"RoomId"`
	EventType       string          `json:"EventType"`
	EventTime       int64           `json:"EventTime"`
	RoomInfo        DestroyRoomInfo `json:"RoomInfo"`
	Statistic       Statistic       `json:"Statistic"`
}

// UpdateRoomInfo is the RoomInfo of Live.CallbackAfterUpdateRoomInfo (67938): every
// updatable field after the update, not only those that changed.
type UpdateRoomInfo struct {
	RoomID            string `json:"RoomId"`
	RoomName          string `json:"RoomName"`
	MaxMemberCount    int    `json:"MaxMemberCount"`
	IsMessageDisabled bool   `json:"IsMessageDisabled"`
	CoverURL          string `json:"CoverURL"`
	Category          []int  `json:"Category"`
	ActivityStatus    int    `json:"ActivityStatus"`
	IsPublicVisible   bool   `json:"IsPublicVisible"`
	TakeSeatMode      string `json:"TakeSeatMode"`
	CustomInfo        string `json:"CustomInfo"`
}

// UpdateRoom is the body of Live.CallbackAfterUpdateRoomInfo (67938).
type UpdateRoom struct {
	CallbackCommand string         `json:"CallbackCommand"`
	Operator        UserID         `json:"Operator_Account"`
	RoomInfo        UpdateRoomInfo `json:"RoomInfo"`
	EventTime       int64          `json:"EventTime"`
}

// MetadataItem is one key and value of room metadata.
type MetadataItem struct {
	Key   string `json:"Key"`
	Value string `json:"Value"`
}

// SetMetadata is the body of Live.CallbackAfterSetMetadata (68222): the pairs just set.
type SetMetadata struct {
	CallbackCommand string         `json:"CallbackCommand"`
	Operator        UserID         `json:"Operator_Account"`
	RoomID          string         `json:"RoomId"`
	Metadata        []MetadataItem `json:"Metadata"`
	EventTime       int64          `json:"EventTime"`
}

// DelMetadata is the body of Live.CallbackAfterDelMetadata (68223): the keys deleted.
type DelMetadata struct {
	CallbackCommand string   `json:"CallbackCommand"`
	Operator        UserID   `json:"Operator_Account"`
	RoomID          string   `json:"RoomId"`
	Keys            []string `json:"Keys"`
	EventTime       int64    `json:"EventTime"`
}

// RoomThreshold is the body of Live.CallbackAfterCreateRoomReachingThreshold (70485): a
// room creation brought the app's room count to 70% of its quota or more.
type RoomThreshold struct {
	CallbackCommand string `json:"CallbackCommand"`
	Operator        UserID `json:"Operator_Account"`
	EventTime       int64  `json:"EventTime"`
	CurRoomCount    int    `json:"CurRoomCount"`
	MaxRoomCount    int    `json:"MaxRoomCount"`
}

// The EventType and EventCause values of Live.CallbackAfterMemberStateChanged.
const (
	MemberOnline  = "Online"
	MemberOffline = "Offline"

	CauseEnter              = "Enter"
	CauseLeave              = "Leave"
	CauseHeartbeatInterrupt = "HeartbeatInterrupt"
	CauseHeartbeatRecover   = "HeartbeatRecover"
	CauseKicked             = "Kicked"
)

// Member is one entry of MemberStateChanged.MemberList.
type Member struct {
	Member UserID `json:"Member_Account"`
}

// MemberStateChanged is the body of Live.CallbackAfterMemberStateChanged (64424): members
// came online (EventType MemberOnline) or went offline (MemberOffline), for EventCause.
type MemberStateChanged struct {
	CallbackCommand string   `json:"CallbackCommand"`
	RoomID          string   `json:"RoomId"`
	EventType       string   `json:"EventType"`
	EventCause      string   `json:"EventCause"`
	MemberList      []Member `json:"MemberList"`
	EventTime       int64    `json:"EventTime"`
}

// ChangeOwner is the body of Live.CallbackAfterChangeOwner (72553): the room's owner
// changed from OriginalOwner to CurrentOwner.
type ChangeOwner struct {
	CallbackCommand string `json:"CallbackCommand"`
	RoomID          string `json:"RoomId"`
	EventTime       int64  `json:"EventTime"`
	Operator        UserID `json:"Operator_Account"`
	CurrentOwner    UserID `json:"CurrentOwner_Account"`
	OriginalOwner   UserID `json:"OriginalOwner_Account"`
}

// The OpType values of Live.CallbackAfterModifyAdmin.
const (
	AdminAdd    = "add"
	AdminDelete = "delete"
)

// ModifyAdmin is the body of Live.CallbackAfterModifyAdmin (72554): Admins were added
// (OpType AdminAdd) or removed (AdminDelete). Tencent spells the field "opType".
type ModifyAdmin struct {
	CallbackCommand string   `json:"CallbackCommand"`
	RoomID          string   `json:"RoomId"`
	EventTime       int64    `json:"EventTime"`
	Operator        UserID   `json:"Operator_Account"`
	Admins          []UserID `json:"Admin_Account"`
	OpType          string   `json:"opType"`
}

// Seat is one seat of SeatInfoChanged.SeatList; Member is empty when nobody sits on it.
type Seat struct {
	Index           int    `json:"Index"`
	Member          UserID `json:"Member_Account,omitempty"`
	IsTakenDisabled bool   `json:"IsTakenDisabled"`
	IsVideoDisabled bool   `json:"IsVideoDisabled"`
	IsAudioDisabled bool   `json:"IsAudioDisabled"`
}

// SeatInfoChanged is the body of Mic.CallbackAfterSeatInfoChanged (64425): the room's
// seat list after a change.
type SeatInfoChanged struct {
	CallbackCommand string `json:"CallbackCommand"`
	RoomID          string `json:"RoomId"`
	SeatList        []Seat `json:"SeatList"`
	EventTime       int64  `json:"EventTime"`
}

// CreateBattle is the body of Live.CallbackAfterCreateBattle (68259). Timeout and
// Duration are milliseconds.
type CreateBattle struct {
	CallbackCommand string   `json:"CallbackCommand"`
	Operator        UserID   `json:"Operator_Account"`
	BattleID        string   `json:"BattleId"`
	FromRoomID      string   `json:"FromRoomId"`
	ToRoomIDList    []string `json:"ToRoomIdList"`
	Timeout         int64    `json:"Timeout"`
	Duration        int64    `json:"Duration"`
	NeedResponse    bool     `json:"NeedResponse"`
	ExtensionInfo   string   `json:"ExtensionInfo"`
	EventTime       int64    `json:"EventTime"`
}

// BattleRoom is a room of a battle in Live.CallbackAfterStartBattle.
type BattleRoom struct {
	RoomID string `json:"RoomId"`
	Owner  UserID `json:"Owner_Account"`
}

// BattleRoomScore is a room of a battle with its score, in Live.CallbackAfterEndBattle.
type BattleRoomScore struct {
	RoomID string `json:"RoomId"`
	Score  int64  `json:"Score"`
	Owner  UserID `json:"Owner_Account"`
}

// StartBattle is the body of Live.CallbackAfterStartBattle (68260).
type StartBattle struct {
	CallbackCommand string       `json:"CallbackCommand"`
	BattleID        string       `json:"BattleId"`
	Duration        int64        `json:"Duration"`
	CreateTime      int64        `json:"CreateTime"`
	StartTime       int64        `json:"StartTime"`
	FromRoomInfo    BattleRoom   `json:"FromRoomInfo"`
	ToRoomList      []BattleRoom `json:"ToRoomList"`
	EventTime       int64        `json:"EventTime"`
}

// The OpType values of Live.CallbackAfterEndBattle.
const (
	BattleEndTimeout    = 0 // the battle's time was up
	BattleEndAllLeft    = 1 // every host left after the start
	BattleEndNeverBegan = 2 // nobody accepted, the battle never started
)

// EndBattle is the body of Live.CallbackAfterEndBattle (68261).
type EndBattle struct {
	CallbackCommand string            `json:"CallbackCommand"`
	BattleID        string            `json:"BattleId"`
	Duration        int64             `json:"Duration"`
	CreateTime      int64             `json:"CreateTime"`
	StartTime       int64             `json:"StartTime"`
	EndTime         int64             `json:"EndTime"`
	OpType          int               `json:"OpType"`
	FromRoomInfo    BattleRoomScore   `json:"FromRoomInfo"`
	ToRoomList      []BattleRoomScore `json:"ToRoomList"`
	EventTime       int64             `json:"EventTime"`
}

// GiftWater is Tencent's gift flow record: the sender, the receivers, when (Unix seconds),
// which gift, how many, and the value of one gift in coins.
type GiftWater struct {
	From   UserID   `json:"From_Account"`
	To     []UserID `json:"To_Account"`
	Time   int64    `json:"Time"`
	GiftID string   `json:"GiftId"`
	Count  int64    `json:"Count"`
	Coins  int64    `json:"Coins"`
}

// BeforeSendGift is the body of the Before-callback Live.CallbackBeforeSendGift (72210).
// It has no EventTime. Answer with [Allow], [Reject] or [RejectWithCode].
type BeforeSendGift struct {
	CallbackCommand string    `json:"CallbackCommand"`
	Operator        UserID    `json:"Operator_Account"`
	RoomID          string    `json:"RoomId"`
	GiftWater       GiftWater `json:"GiftWater"`
}

// MsgElement is one element of an IM message body, such as
// {"MsgType":"TIMTextElem","MsgContent":{"Text":"hi"}}.
type MsgElement struct {
	MsgType    string          `json:"MsgType"`
	MsgContent json.RawMessage `json:"MsgContent"`
}

// TextElem returns a TIMTextElem element with text.
func TextElem(text string) MsgElement {
	c, _ := json.Marshal(struct {
		Text string `json:"Text"`
	}{text})
	return MsgElement{MsgType: "TIMTextElem", MsgContent: c}
}

// CustomElem returns a TIMCustomElem element with data and desc.
func CustomElem(data, desc string) MsgElement {
	c, _ := json.Marshal(struct {
		Data string `json:"Data"`
		Desc string `json:"Desc"`
	}{data, desc})
	return MsgElement{MsgType: "TIMCustomElem", MsgContent: c}
}

// Text returns the text of a TIMTextElem element, and "" for any other element.
func (e MsgElement) Text() string {
	if e.MsgType != "TIMTextElem" {
		return ""
	}
	var c struct {
		Text string `json:"Text"`
	}
	json.Unmarshal(e.MsgContent, &c)
	return c.Text
}

// BeforeSendMsg is the body of the Before-callback Group.CallbackBeforeSendMsg (74347):
// a room message about to be sent. GroupID is the room id; Type is "Live". Answer with
// [Allow], [Modify], [Reject], [RejectWithCode] or [Drop].
type BeforeSendMsg struct {
	CallbackCommand string       `json:"CallbackCommand"`
	GroupID         string       `json:"GroupId"`
	Type            string       `json:"Type"`
	From            UserID       `json:"From_Account"`
	Operator        UserID       `json:"Operator_Account"`
	Random          uint32       `json:"Random"`
	MsgID           string       `json:"MsgId"`
	MsgBody         []MsgElement `json:"MsgBody"`
	CloudCustomData string       `json:"CloudCustomData"`
	EventTime       int64        `json:"EventTime"`
}

// AfterSendMsg is the body of Group.CallbackAfterSendMsg (74348): a room message was sent.
// MsgSeq orders the room's messages; MsgTime is the send time.
type AfterSendMsg struct {
	CallbackCommand string       `json:"CallbackCommand"`
	GroupID         string       `json:"GroupId"`
	Type            string       `json:"Type"`
	From            UserID       `json:"From_Account"`
	Operator        UserID       `json:"Operator_Account"`
	Random          uint32       `json:"Random"`
	MsgSeq          int64        `json:"MsgSeq"`
	MsgTime         int64        `json:"MsgTime"`
	MsgID           string       `json:"MsgId"`
	MsgBody         []MsgElement `json:"MsgBody"`
	CloudCustomData string       `json:"CloudCustomData"`
	EventTime       int64        `json:"EventTime"`
}

// Followee is one entry of FollowAdd.FollowList.
type Followee struct {
	To UserID `json:"To_Account"`
}

// FollowAdd is the body of Follow.CallbackAfterFollowAdd (74356): From followed the users
// of FollowList.
type FollowAdd struct {
	CallbackCommand string     `json:"CallbackCommand"`
	From            UserID     `json:"From_Account"`
	FollowList      []Followee `json:"FollowList"`
	EventTime       int64      `json:"EventTime"`
}

// FollowDelete is the body of Follow.CallbackAfterFollowDelete (74357): From unfollowed
// the users of To (a flat list, unlike FollowAdd's).
type FollowDelete struct {
	CallbackCommand string   `json:"CallbackCommand"`
	From            UserID   `json:"From_Account"`
	To              []UserID `json:"To_Account"`
	EventTime       int64    `json:"EventTime"`
}

// RecordingEventInfo is the EventInfo of Live.CallbackAfterCloudRecordingChanged; Payload
// depends on the EventType.
type RecordingEventInfo struct {
	RoomID    string          `json:"RoomId"`
	EventTs   int64           `json:"EventTs"`
	EventMsTs int64           `json:"EventMsTs"`
	UserID    UserID          `json:"UserId"`
	TaskID    string          `json:"TaskId"`
	Payload   json.RawMessage `json:"Payload"`
}

// CloudRecordingChanged is the body of Live.CallbackAfterCloudRecordingChanged (78428),
// also sent as Follow.CallbackAfterCloudRecordingChanged: a TRTC cloud-recording event
// (EventGroupId 3, EventType 301 to 312) with CallbackTs, in milliseconds, in place of
// EventTime.
type CloudRecordingChanged struct {
	CallbackCommand string             `json:"CallbackCommand"`
	EventGroupID    int                `json:"EventGroupId"`
	EventType       int                `json:"EventType"`
	CallbackTs      int64              `json:"CallbackTs"`
	EventInfo       RecordingEventInfo `json:"EventInfo"`
}
