package webhook

// SeatInfo is one seat of Mic.CallbackAfterSeatInfoChanged's SeatList (and of
// get_seat_list's reply): Member_Account is left out for an empty seat; IsTakenDisabled
// means the seat is locked, IsVideoDisabled and IsAudioDisabled that video or audio may
// not be published from it (https://www.tencentcloud.com/document/product/647/64425).
type SeatInfo struct {
	Index           int    `json:"Index"`
	Member_Account  string `json:"Member_Account,omitempty"`
	IsTakenDisabled bool   `json:"IsTakenDisabled"`
	IsVideoDisabled bool   `json:"IsVideoDisabled"`
	IsAudioDisabled bool   `json:"IsAudioDisabled"`
}

// SeatInfoChanged is the body of Mic.CallbackAfterSeatInfoChanged: the room's full seat
// list after the change. Unlike most Live callbacks it has no Operator_Account.
type SeatInfoChanged struct {
	CallbackCommand Command    `json:"CallbackCommand"`
	RoomId          string     `json:"RoomId"`
	SeatList        []SeatInfo `json:"SeatList"`
	EventTime       int64      `json:"EventTime"`
}
