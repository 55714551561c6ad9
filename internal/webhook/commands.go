package webhook

// Command is a Tencent callback command word, such as "Live.CallbackAfterChangeOwner".
type Command string

// The callback commands roomd knows, in the order of Tencent's command list
// (https://www.tencentcloud.com/document/product/647/64413).
const (
	AfterCreateRoom                   Command = "Live.CallbackAfterCreateRoom"
	AfterDestroyRoom                  Command = "Live.CallbackAfterDestroyRoom"
	AfterUpdateRoomInfo               Command = "Live.CallbackAfterUpdateRoomInfo"
	AfterSetMetadata                  Command = "Live.CallbackAfterSetMetadata"
	AfterDelMetadata                  Command = "Live.CallbackAfterDelMetadata"
	AfterCreateRoomReachingThreshold  Command = "Live.CallbackAfterCreateRoomReachingThreshold"
	AfterMemberStateChanged           Command = "Live.CallbackAfterMemberStateChanged"
	AfterChangeOwner                  Command = "Live.CallbackAfterChangeOwner"
	AfterModifyAdmin                  Command = "Live.CallbackAfterModifyAdmin"
	AfterSeatInfoChanged              Command = "Mic.CallbackAfterSeatInfoChanged"
	AfterCreateBattle                 Command = "Live.CallbackAfterCreateBattle"
	AfterStartBattle                  Command = "Live.CallbackAfterStartBattle"
	AfterEndBattle                    Command = "Live.CallbackAfterEndBattle"
	BeforeSendGift                    Command = "Live.CallbackBeforeSendGift"
	BeforeCallBackNotBlock            Command = "Live.CallbackBeforeCallBackNotBlock"
	BeforeSendMsg                     Command = "Group.CallbackBeforeSendMsg"
	AfterSendMsg                      Command = "Group.CallbackAfterSendMsg"
	AfterFollowAdd                    Command = "Follow.CallbackAfterFollowAdd"
	AfterFollowDelete                 Command = "Follow.CallbackAfterFollowDelete"
	AfterCloudRecordingChanged        Command = "Live.CallbackAfterCloudRecordingChanged"
	AfterCloudRecordingChangedEnAlias Command = "Follow.CallbackAfterCloudRecordingChanged"
)

// Commands lists every command word accepted in a CallbackCommandList.
var Commands = []Command{
	AfterCreateRoom, AfterDestroyRoom, AfterUpdateRoomInfo, AfterSetMetadata, AfterDelMetadata,
	AfterCreateRoomReachingThreshold, AfterMemberStateChanged, AfterChangeOwner, AfterModifyAdmin,
	AfterSeatInfoChanged, AfterCreateBattle, AfterStartBattle, AfterEndBattle, BeforeSendGift,
	BeforeCallBackNotBlock, BeforeSendMsg, AfterSendMsg, AfterFollowAdd, AfterFollowDelete,
	AfterCloudRecordingChanged, AfterCloudRecordingChangedEnAlias,
}

// Known reports whether name is a command word of the catalogue. The match is exact, as
// Tencent's command words are case-sensitive.
func Known(name string) bool {
	for _, c := range Commands {
		if string(c) == name {
			return true
		}
	}
	return false
}

// IsBefore reports whether c is a synchronous Before-callback whose reply decides the
// operation; such callbacks are never stored in the outbox and never retried.
func (c Command) IsBefore() bool {
	return c == BeforeSendGift || c == BeforeSendMsg
}

// Group returns the group Tencent's console and command list file c under: Room, User,
// Seat, Battle, Gift, Message, Follow or Recording ("" for an unknown command).
func (c Command) Group() string {
	switch c {
	case AfterCreateRoom, AfterDestroyRoom, AfterUpdateRoomInfo, AfterSetMetadata, AfterDelMetadata,
		AfterCreateRoomReachingThreshold:
		return "Room"
	case AfterMemberStateChanged, AfterChangeOwner, AfterModifyAdmin:
		return "User"
	case AfterSeatInfoChanged:
		return "Seat"
	case AfterCreateBattle, AfterStartBattle, AfterEndBattle:
		return "Battle"
	case BeforeSendGift, BeforeCallBackNotBlock:
		return "Gift"
	case BeforeSendMsg, AfterSendMsg:
		return "Message"
	case AfterFollowAdd, AfterFollowDelete:
		return "Follow"
	case AfterCloudRecordingChanged, AfterCloudRecordingChangedEnAlias:
		return "Recording"
	}
	return ""
}

// Kind returns "Before" for a Before-callback, "Switch" for the configuration word
// Live.CallbackBeforeCallBackNotBlock and "After" for every other command.
func (c Command) Kind() string {
	switch {
	case c.IsBefore():
		return "Before"
	case c == BeforeCallBackNotBlock:
		return "Switch"
	}
	return "After"
}
