package webhook

// Bodies of the room-level After-callbacks of update_room_info, the metadata APIs and room
// creation reaching the quota's alert level, fields in the order of the samples on Tencent's
// page of each callback (linked below).

// UpdateRoomInfo is the RoomInfo object of Live.CallbackAfterUpdateRoomInfo
// (https://www.tencentcloud.com/document/product/647/67938). It
// carries the full updatable set after the update, not only the fields that changed.
type UpdateRoomInfo struct {
	RoomId            string `json:"RoomId"`
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

// UpdateRoom is the body of Live.CallbackAfterUpdateRoomInfo.
type UpdateRoom struct {
	CallbackCommand  Command        `json:"CallbackCommand"`
	Operator_Account string         `json:"Operator_Account"`
	RoomInfo         UpdateRoomInfo `json:"RoomInfo"`
	EventTime        int64          `json:"EventTime"`
}

// MetadataItem is one key/value pair of room metadata.
type MetadataItem struct {
	Key   string `json:"Key"`
	Value string `json:"Value"`
}

// SetMetadata is the body of Live.CallbackAfterSetMetadata: the pairs just set
// (https://www.tencentcloud.com/document/product/647/68222).
type SetMetadata struct {
	CallbackCommand  Command        `json:"CallbackCommand"`
	Operator_Account string         `json:"Operator_Account"`
	RoomId           string         `json:"RoomId"`
	Metadata         []MetadataItem `json:"Metadata"`
	EventTime        int64          `json:"EventTime"`
}

// DelMetadata is the body of Live.CallbackAfterDelMetadata: the keys deleted
// (https://www.tencentcloud.com/document/product/647/68223).
type DelMetadata struct {
	CallbackCommand  Command  `json:"CallbackCommand"`
	Operator_Account string   `json:"Operator_Account"`
	RoomId           string   `json:"RoomId"`
	Keys             []string `json:"Keys"`
	EventTime        int64    `json:"EventTime"`
}

// RoomThreshold is the body of Live.CallbackAfterCreateRoomReachingThreshold
// (https://www.tencentcloud.com/document/product/647/70485). The counts are integers, as in
// Tencent's sample.
type RoomThreshold struct {
	CallbackCommand  Command `json:"CallbackCommand"`
	Operator_Account string  `json:"Operator_Account"`
	EventTime        int64   `json:"EventTime"`
	CurRoomCount     int     `json:"CurRoomCount"`
	MaxRoomCount     int     `json:"MaxRoomCount"`
}
