package room

import (
	"bytes"
	"context"
	"encoding/json"
	"time"

	"github.com/roomd/roomd/internal/errcode"
	"github.com/roomd/roomd/internal/store"
	"github.com/roomd/roomd/internal/webhook"
)

// Cloud recording. roomd records nothing: an operator whose recorder runs elsewhere reports
// each status change of a room's recording (roomd_recording/report_status), and roomd sends
// Live.CallbackAfterCloudRecordingChanged with Tencent's body, ordered with the room's other
// callbacks.

// Limits of a recording report (docs/decisions.md).
const (
	MaxRecordingTaskIDLen  = 256
	MaxRecordingPayloadLen = 4096
)

// RecordingChanged: the status of a room's cloud recording changed, as reported by the
// operator (Live.CallbackAfterCloudRecordingChanged). EventTime is when it changed; the
// EventHead's Time is when it was reported (the callback's CallbackTs).
type RecordingChanged struct {
	EventHead
	EventGroupID int
	EventType    int
	UserID       string
	TaskID       string
	EventTime    time.Time
	Payload      json.RawMessage
}

// RecordingReport is a reported status change of a room's recording. EventGroupID 0 means
// webhook.RecordingGroupCloud; a zero EventTime means now; a nil Payload means {}.
type RecordingReport struct {
	RoomID       string
	EventGroupID int
	EventType    int
	UserID       string
	TaskID       string
	EventTime    time.Time
	Payload      json.RawMessage
}

func (p *RecordingReport) validate() error {
	if err := ValidateRoomID(p.RoomID); err != nil {
		return err
	}
	switch p.EventGroupID {
	case 0:
		p.EventGroupID = webhook.RecordingGroupCloud
	case webhook.RecordingGroupCloud, webhook.RecordingGroupWeb:
	default:
		return errcode.Invalid("EventGroupId", "must be %d (cloud recording) or %d (web-page recording)", webhook.RecordingGroupCloud, webhook.RecordingGroupWeb)
	}
	if p.EventType < 301 || p.EventType > 399 {
		return errcode.Invalid("EventType", "must be a cloud-recording event type, 301 to 399")
	}
	if len(p.TaskID) > MaxRecordingTaskIDLen {
		return errcode.Invalid("TaskId", "is longer than %d bytes", MaxRecordingTaskIDLen)
	}
	if len(p.UserID) > 32 {
		return errcode.Invalid("UserId", "is longer than 32 bytes")
	}
	if len(p.Payload) == 0 || string(p.Payload) == "null" {
		p.Payload = json.RawMessage(`{}`)
	}
	if len(p.Payload) > MaxRecordingPayloadLen {
		return errcode.Invalid("Payload", "is larger than %d bytes", MaxRecordingPayloadLen)
	}
	if t := bytes.TrimSpace(p.Payload); len(t) == 0 || t[0] != '{' || !json.Valid(t) {
		return errcode.Invalid("Payload", "must be a JSON object")
	}
	var compact bytes.Buffer
	json.Compact(&compact, p.Payload)
	p.Payload = compact.Bytes()
	return nil
}

// ReportRecording publishes RecordingChanged for a room. The room need not exist any more:
// a recording's upload finishes after its room was dissolved.
func (s *Service) ReportRecording(ctx context.Context, a Actor, p RecordingReport) error {
	if err := p.validate(); err != nil {
		return err
	}
	return s.store.Tx(ctx, func(tx store.Tx) error {
		h := s.head(a, p.RoomID)
		at := p.EventTime
		if at.IsZero() {
			at = h.Time
		}
		return s.publish(ctx, tx, a, RecordingChanged{EventHead: h, EventGroupID: p.EventGroupID, EventType: p.EventType,
			UserID: p.UserID, TaskID: p.TaskID, EventTime: at, Payload: p.Payload})
	})
}
