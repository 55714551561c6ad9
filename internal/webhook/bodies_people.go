package webhook

import "encoding/json"

// The request bodies of the people and room-message callbacks, fields in the order of the
// samples on Tencent's page of each callback (linked below).

// Admin operations of Live.CallbackAfterModifyAdmin (its opType field).
const (
	AdminAdd    = "add"
	AdminDelete = "delete"
)

// ModifyAdmin is the body of Live.CallbackAfterModifyAdmin
// (https://www.tencentcloud.com/document/product/647/72554). Note the lower-case
// "opType", exactly as Tencent spells it.
type ModifyAdmin struct {
	CallbackCommand  Command  `json:"CallbackCommand"`
	RoomId           string   `json:"RoomId"`
	EventTime        int64    `json:"EventTime"`
	Operator_Account string   `json:"Operator_Account"`
	Admin_Account    []string `json:"Admin_Account"`
	OpType           string   `json:"opType"`
}

// Event types and causes of Live.CallbackAfterMemberStateChanged
// (https://www.tencentcloud.com/document/product/647/64424).
const (
	MemberOnline  = "Online"
	MemberOffline = "Offline"

	CauseEnter              = "Enter"
	CauseLeave              = "Leave"
	CauseHeartbeatInterrupt = "HeartbeatInterrupt"
	CauseHeartbeatRecover   = "HeartbeatRecover"
	CauseKicked             = "Kicked"
)

// MemberAccount is one entry of a MemberList.
type MemberAccount struct {
	Member_Account string `json:"Member_Account"`
}

// MemberStateChanged is the body of Live.CallbackAfterMemberStateChanged (same page as the
// constants above). It has no Operator_Account.
type MemberStateChanged struct {
	CallbackCommand Command         `json:"CallbackCommand"`
	RoomId          string          `json:"RoomId"`
	EventType       string          `json:"EventType"`
	EventCause      string          `json:"EventCause"`
	MemberList      []MemberAccount `json:"MemberList"`
	EventTime       int64           `json:"EventTime"`
}

// GroupTypeLive is the Type of a live room's IM group in the message callbacks.
const GroupTypeLive = "Live"

// BeforeSendMsgBody is the body of the Before-callback Group.CallbackBeforeSendMsg
// (https://www.tencentcloud.com/document/product/647/74347).
// GroupId is the room id. MsgBody is the message's JSON array of IM elements.
type BeforeSendMsgBody struct {
	CallbackCommand  Command         `json:"CallbackCommand"`
	GroupId          string          `json:"GroupId"`
	Type             string          `json:"Type"`
	From_Account     string          `json:"From_Account"`
	Operator_Account string          `json:"Operator_Account"`
	Random           uint32          `json:"Random"`
	MsgId            string          `json:"MsgId"`
	MsgBody          json.RawMessage `json:"MsgBody"`
	CloudCustomData  string          `json:"CloudCustomData"`
	EventTime        int64           `json:"EventTime"`
}

// AfterSendMsgBody is the body of Group.CallbackAfterSendMsg
// (https://www.tencentcloud.com/document/product/647/74348): the Before body plus
// MsgSeq and MsgTime (Unix seconds), placed after Random as in Tencent's IM sample.
type AfterSendMsgBody struct {
	CallbackCommand  Command         `json:"CallbackCommand"`
	GroupId          string          `json:"GroupId"`
	Type             string          `json:"Type"`
	From_Account     string          `json:"From_Account"`
	Operator_Account string          `json:"Operator_Account"`
	Random           uint32          `json:"Random"`
	MsgSeq           int64           `json:"MsgSeq"`
	MsgTime          int64           `json:"MsgTime"`
	MsgId            string          `json:"MsgId"`
	MsgBody          json.RawMessage `json:"MsgBody"`
	CloudCustomData  string          `json:"CloudCustomData"`
	EventTime        int64           `json:"EventTime"`
}
