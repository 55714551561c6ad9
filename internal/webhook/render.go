package webhook

import (
	"fmt"

	"github.com/roomd/roomd/internal/wirejson"
)

// commanded is implemented by every request-body struct of this package. A body's
// CallbackCommand field is never filled by hand: Render sets it from the command the body is
// sent under (Emit.Command for After-callbacks, Delivery.Command for Before-callbacks), so a
// callback names its command in exactly one place.
type commanded interface {
	withCommand(Command) any
}

// Render returns the JSON request body of a callback of cmd: body encoded with wirejson,
// with its CallbackCommand set to cmd when body is one of this package's body structs.
// Any other value (a map, say) is encoded as it is.
func Render(cmd Command, body any) ([]byte, error) {
	if c, ok := body.(commanded); ok {
		body = c.withCommand(cmd)
	}
	b, err := wirejson.Marshal(body)
	if err != nil {
		return nil, fmt.Errorf("render %s: %w", cmd, err)
	}
	return b, nil
}

func (b CreateRoom) withCommand(c Command) any         { b.CallbackCommand = c; return b }
func (b DestroyRoom) withCommand(c Command) any        { b.CallbackCommand = c; return b }
func (b ChangeOwner) withCommand(c Command) any        { b.CallbackCommand = c; return b }
func (b ModifyAdmin) withCommand(c Command) any        { b.CallbackCommand = c; return b }
func (b MemberStateChanged) withCommand(c Command) any { b.CallbackCommand = c; return b }
func (b BeforeSendMsgBody) withCommand(c Command) any  { b.CallbackCommand = c; return b }
func (b AfterSendMsgBody) withCommand(c Command) any   { b.CallbackCommand = c; return b }
func (b UpdateRoom) withCommand(c Command) any         { b.CallbackCommand = c; return b }
func (b SetMetadata) withCommand(c Command) any        { b.CallbackCommand = c; return b }
func (b DelMetadata) withCommand(c Command) any        { b.CallbackCommand = c; return b }
func (b RoomThreshold) withCommand(c Command) any      { b.CallbackCommand = c; return b }
func (b FollowAdd) withCommand(c Command) any          { b.CallbackCommand = c; return b }
func (b FollowDelete) withCommand(c Command) any       { b.CallbackCommand = c; return b }
func (b SeatInfoChanged) withCommand(c Command) any    { b.CallbackCommand = c; return b }
