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
