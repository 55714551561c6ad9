package rest

import (
	"context"
	"encoding/json"
	"errors"
	"math"

	"github.com/roomd/roomd/internal/errcode"
	"github.com/roomd/roomd/internal/room"
)

// send_group_msg (https://www.tencentcloud.com/document/product/1047/34959): the Manager's
// chat box. A live room is the IM group of the same id; the message is sent like
// send_text_msg's (room.MessageService.SendGroup). Its reply and codes are IM's: the
// payload at the top level, 10004 for a bad request, and the room's refusals in IM's group
// codes (groupError).

// The ForbidCallbackControl values.
const (
	forbidBefore = "ForbidBeforeSendMsgCallback"
	forbidAfter  = "ForbidAfterSendMsgCallback"
)

func (h *Handler) sendGroupMsg(ctx context.Context, c *call) (any, error) {
	var req struct {
		GroupId               string          `json:"GroupId"`
		From_Account          string          `json:"From_Account"`
		Random                *int64          `json:"Random"`
		MsgBody               json.RawMessage `json:"MsgBody"`
		CloudCustomData       string          `json:"CloudCustomData"`
		ForbidCallbackControl []string        `json:"ForbidCallbackControl"`
	}
	if err := c.decode(&req); err != nil {
		return nil, err
	}
	m := room.GroupMessage{GroupID: req.GroupId, Sender: req.From_Account, MsgBody: req.MsgBody, CloudCustomData: req.CloudCustomData}
	if req.Random != nil {
		if *req.Random < 0 || *req.Random > math.MaxUint32 {
			return nil, errcode.InvalidBare("Random", "must be an integer from 0 to 4294967295")
		}
		m.Random, m.HasRandom = uint32(*req.Random), true
	}
	for _, f := range req.ForbidCallbackControl {
		switch f {
		case forbidBefore:
			m.NoBefore = true
		case forbidAfter:
			m.NoAfter = true
		default:
			return nil, errcode.InvalidBare("ForbidCallbackControl", "%q is neither %s nor %s", f, forbidBefore, forbidAfter)
		}
	}
	res, err := h.o.Messages.SendGroup(ctx, c.actor(), m)
	if err != nil {
		return nil, groupError(err)
	}
	return struct {
		MsgTime int64 `json:"MsgTime"`
		MsgSeq  int64 `json:"MsgSeq"`
	}{res.MsgTime, res.MsgSeq}, nil
}

// groupError answers the room's refusals in IM's group codes: no such room is 10010 (the
// group does not exist), a sender banned from it 10007 (no permission). The message codes
// (10016, 10017, 80002), 70107 and invalid parameters (10004, the route's family) stay.
func groupError(err error) error {
	switch {
	case errors.Is(err, room.ErrRoomNotFound):
		return errcode.New(errcode.GroupNotFound, "group does not exist: "+err.Error())
	case errors.Is(err, room.ErrBanned), errors.Is(err, room.ErrNoPermission):
		return errcode.New(errcode.GroupNoPermission, err.Error())
	}
	return err
}
