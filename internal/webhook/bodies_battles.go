package webhook

import "encoding/json"

// The request bodies of the battle (PK) and cloud-recording callbacks, fields in the order
// of the samples on Tencent's page of each callback (linked below).

// OpType values of Live.CallbackAfterEndBattle: why the battle ended.
const (
	BattleEndTimeUp     = 0 // its Duration ran out
	BattleEndAllLeft    = 1 // the hosts left after it started
	BattleEndNotStarted = 2 // it never started: no invited host joined
)

// CreateBattle is the body of Live.CallbackAfterCreateBattle
// (https://www.tencentcloud.com/document/product/647/68259). Timeout and Duration are
// milliseconds.
type CreateBattle struct {
	CallbackCommand  Command  `json:"CallbackCommand"`
	Operator_Account string   `json:"Operator_Account"`
	BattleId         string   `json:"BattleId"`
	FromRoomId       string   `json:"FromRoomId"`
	ToRoomIdList     []string `json:"ToRoomIdList"`
	Timeout          int64    `json:"Timeout"`
	Duration         int64    `json:"Duration"`
	NeedResponse     bool     `json:"NeedResponse"`
	ExtensionInfo    string   `json:"ExtensionInfo"`
	EventTime        int64    `json:"EventTime"`
}

// BattleRoom is a room of a started battle: FromRoomInfo and the entries of ToRoomList in
// Live.CallbackAfterStartBattle, which carry no score.
type BattleRoom struct {
	RoomId        string `json:"RoomId"`
	Owner_Account string `json:"Owner_Account"`
}

// StartBattle is the body of Live.CallbackAfterStartBattle
// (https://www.tencentcloud.com/document/product/647/68260): Duration in milliseconds,
// CreateTime and StartTime in Unix seconds. It has no Operator_Account.
type StartBattle struct {
	CallbackCommand Command      `json:"CallbackCommand"`
	BattleId        string       `json:"BattleId"`
	Duration        int64        `json:"Duration"`
	CreateTime      int64        `json:"CreateTime"`
	StartTime       int64        `json:"StartTime"`
	FromRoomInfo    BattleRoom   `json:"FromRoomInfo"`
	ToRoomList      []BattleRoom `json:"ToRoomList"`
	EventTime       int64        `json:"EventTime"`
}

// BattleRoomScore is a room of an ended battle with its score: FromRoomInfo and the
// entries of ToRoomList in Live.CallbackAfterEndBattle.
type BattleRoomScore struct {
	RoomId        string `json:"RoomId"`
	Score         int64  `json:"Score"`
	Owner_Account string `json:"Owner_Account"`
}

// EndBattle is the body of Live.CallbackAfterEndBattle
// (https://www.tencentcloud.com/document/product/647/68261): times as in StartBattle plus
// EndTime (seconds), and OpType (BattleEndTimeUp, BattleEndAllLeft, BattleEndNotStarted).
type EndBattle struct {
	CallbackCommand Command           `json:"CallbackCommand"`
	BattleId        string            `json:"BattleId"`
	Duration        int64             `json:"Duration"`
	CreateTime      int64             `json:"CreateTime"`
	StartTime       int64             `json:"StartTime"`
	EndTime         int64             `json:"EndTime"`
	OpType          int               `json:"OpType"`
	FromRoomInfo    BattleRoomScore   `json:"FromRoomInfo"`
	ToRoomList      []BattleRoomScore `json:"ToRoomList"`
	EventTime       int64             `json:"EventTime"`
}

// Event group of Live.CallbackAfterCloudRecordingChanged: TRTC's cloud recording (3) or
// web-page recording (8).
const (
	RecordingGroupCloud = 3
	RecordingGroupWeb   = 8
)

// RecordingEventInfo is the EventInfo of Live.CallbackAfterCloudRecordingChanged: EventTs
// in seconds, EventMsTs in milliseconds; Payload depends on the EventType.
type RecordingEventInfo struct {
	RoomId    string          `json:"RoomId"`
	EventTs   int64           `json:"EventTs"`
	EventMsTs int64           `json:"EventMsTs"`
	UserId    string          `json:"UserId"`
	TaskId    string          `json:"TaskId"`
	Payload   json.RawMessage `json:"Payload"`
}

// CloudRecordingChanged is the body of Live.CallbackAfterCloudRecordingChanged
// (https://www.tencentcloud.com/document/product/647/78428): TRTC's cloud-recording event
// with a CallbackCommand; CallbackTs (milliseconds) instead of EventTime.
type CloudRecordingChanged struct {
	CallbackCommand Command            `json:"CallbackCommand"`
	EventGroupId    int                `json:"EventGroupId"`
	EventType       int                `json:"EventType"`
	CallbackTs      int64              `json:"CallbackTs"`
	EventInfo       RecordingEventInfo `json:"EventInfo"`
}

func (b CreateBattle) withCommand(c Command) any          { b.CallbackCommand = c; return b }
func (b StartBattle) withCommand(c Command) any           { b.CallbackCommand = c; return b }
func (b EndBattle) withCommand(c Command) any             { b.CallbackCommand = c; return b }
func (b CloudRecordingChanged) withCommand(c Command) any { b.CallbackCommand = c; return b }
