package rest

import (
	"context"
	"encoding/json"
	"time"

	"github.com/roomd/roomd/internal/errcode"
	"github.com/roomd/roomd/internal/room"
	"github.com/roomd/roomd/internal/store"
)

// The battle (live_engine_http_pk), mix stream and recording APIs.

func (h *Handler) createBattle(ctx context.Context, c *call) (any, error) {
	var req struct {
		FromRoomId    string   `json:"FromRoomId"`
		ToRoomIdList  []string `json:"ToRoomIdList"`
		Duration      int64    `json:"Duration"`
		Timeout       int64    `json:"Timeout"`
		NeedResponse  bool     `json:"NeedResponse"`
		ExtensionInfo string   `json:"ExtensionInfo"`
	}
	if err := c.decode(&req); err != nil {
		return nil, err
	}
	if req.Duration < 0 || req.Timeout < 0 {
		return nil, errcode.Invalid("Duration", "and Timeout must not be negative")
	}
	b, results, err := h.o.Rooms.CreateBattle(ctx, c.actor(), room.CreateBattleParams{FromRoomID: req.FromRoomId, ToRoomIDs: req.ToRoomIdList,
		Duration: time.Duration(req.Duration) * time.Millisecond, Timeout: time.Duration(req.Timeout) * time.Millisecond,
		NeedResponse: req.NeedResponse, ExtensionInfo: req.ExtensionInfo})
	if err != nil {
		return nil, err
	}
	type result struct {
		RoomId        string `json:"RoomId"`
		ResultCode    int    `json:"ResultCode"`
		ResultMessage string `json:"ResultMessage"`
	}
	out := struct {
		BattleId string   `json:"BattleId"`
		Result   []result `json:"Result"`
	}{BattleId: b.ID, Result: make([]result, len(results))}
	for i, r := range results {
		out.Result[i] = result{RoomId: r.RoomID, ResultCode: r.Code, ResultMessage: r.Message}
	}
	return out, nil
}

// Operations of set_battle_score (its OpType).
const (
	scoreAdd       = 1
	scoreOverwrite = 2
)

func (h *Handler) setBattleScore(ctx context.Context, c *call) (any, error) {
	var req struct {
		BattleId  string `json:"BattleId"`
		OpType    int    `json:"OpType"`
		ScoreList []struct {
			RoomId string `json:"RoomId"`
			Score  int64  `json:"Score"`
		} `json:"ScoreList"`
	}
	if err := c.decode(&req); err != nil {
		return nil, err
	}
	if req.OpType != scoreAdd && req.OpType != scoreOverwrite {
		return nil, errcode.Invalid("OpType", "must be %d (add) or %d (overwrite)", scoreAdd, scoreOverwrite)
	}
	scores := make([]room.BattleScore, len(req.ScoreList))
	for i, s := range req.ScoreList {
		scores[i] = room.BattleScore{RoomID: s.RoomId, Score: s.Score}
	}
	if _, err := h.o.Rooms.SetBattleScores(ctx, c.actor(), req.BattleId, req.OpType == scoreAdd, scores); err != nil {
		return nil, err
	}
	type result struct {
		RoomId     string `json:"RoomId"`
		ResultCode int    `json:"ResultCode"`
	}
	out := struct {
		Result []result `json:"Result"`
	}{make([]result, len(scores))}
	for i, s := range scores {
		out.Result[i] = result{RoomId: s.RoomID}
	}
	return out, nil
}

// battleRoomInfo is FromRoomInfo and an entry of ToRoomList in get_battle_info.
type battleRoomInfo struct {
	RoomId        string `json:"RoomId"`
	Score         int64  `json:"Score"`
	Owner_Account string `json:"Owner_Account"`
}

func (h *Handler) getBattleInfo(ctx context.Context, c *call) (any, error) {
	var req struct {
		BattleId string `json:"BattleId"`
		RoomId   string `json:"RoomId"`
	}
	if err := c.decode(&req); err != nil {
		return nil, err
	}
	b, err := h.o.Rooms.GetBattle(ctx, c.app.ID, req.BattleId, req.RoomId)
	if err != nil {
		return nil, err
	}
	info := func(r room.BattleRoom) battleRoomInfo {
		return battleRoomInfo{RoomId: r.RoomID, Score: r.Score, Owner_Account: r.Owner}
	}
	out := struct {
		BattleId     string           `json:"BattleId"`
		Duration     int64            `json:"Duration"`
		StartTime    int64            `json:"StartTime"`
		EndTime      int64            `json:"EndTime"`
		Status       int              `json:"Status"`
		FromRoomInfo battleRoomInfo   `json:"FromRoomInfo"`
		ToRoomList   []battleRoomInfo `json:"ToRoomList"`
	}{BattleId: b.ID, Duration: b.Duration.Milliseconds(), Status: int(b.Status), FromRoomInfo: info(b.From()), ToRoomList: []battleRoomInfo{}}
	if !b.StartTime.IsZero() {
		out.StartTime = b.StartTime.Unix()
		// A running battle answers when it will end.
		out.EndTime = b.StartTime.Add(b.Duration).Unix()
	}
	if b.Status == store.BattleEnded {
		out.EndTime = b.EndTime.Unix()
	}
	for _, r := range b.Opponents() {
		out.ToRoomList = append(out.ToRoomList, info(r))
	}
	return out, nil
}

// mixStreamReply is the reply of set_mix_stream and resume_mcu_task: the configuration kept
// (Tencent's request fields, defaults filled), when it was set, and the task's restarts.
type mixStreamReply struct {
	RoomId string `json:"RoomId"`
	room.MixStreamConfig
	UpdateTime  int64 `json:"UpdateTime"`
	ResumeCount int64 `json:"ResumeCount"`
	ResumeTime  int64 `json:"ResumeTime"`
}

func mixReply(m room.MixStream) mixStreamReply {
	sec := func(t time.Time) int64 {
		if t.IsZero() {
			return 0
		}
		return t.Unix()
	}
	return mixStreamReply{RoomId: m.RoomID, MixStreamConfig: m.Config, UpdateTime: sec(m.UpdateTime), ResumeCount: m.ResumeCount,
		ResumeTime: sec(m.ResumeTime)}
}

func (h *Handler) setMixStream(ctx context.Context, c *call) (any, error) {
	var req struct {
		RoomId string `json:"RoomId"`
		room.MixStreamConfig
	}
	if err := c.decode(&req); err != nil {
		return nil, err
	}
	m, err := h.o.Rooms.SetMixStream(ctx, c.actor(), req.RoomId, req.MixStreamConfig)
	if err != nil {
		return nil, err
	}
	return mixReply(m), nil
}

func (h *Handler) resumeMCUTask(ctx context.Context, c *call) (any, error) {
	var req struct {
		RoomId string `json:"RoomId"`
	}
	if err := c.decode(&req); err != nil {
		return nil, err
	}
	m, err := h.o.Rooms.ResumeMixTask(ctx, c.actor(), req.RoomId)
	if err != nil {
		return nil, err
	}
	return mixReply(m), nil
}

// reportRecordingStatus is roomd's own roomd_recording/report_status: an operator reports a
// status change of a room's cloud recording, and roomd sends
// Live.CallbackAfterCloudRecordingChanged with it.
func (h *Handler) reportRecordingStatus(ctx context.Context, c *call) (any, error) {
	var req struct {
		RoomId       string          `json:"RoomId"`
		EventGroupId int             `json:"EventGroupId"`
		EventType    int             `json:"EventType"`
		UserId       string          `json:"UserId"`
		TaskId       string          `json:"TaskId"`
		EventMsTs    int64           `json:"EventMsTs"`
		Payload      json.RawMessage `json:"Payload"`
	}
	if err := c.decode(&req); err != nil {
		return nil, err
	}
	if req.EventMsTs < 0 {
		return nil, errcode.Invalid("EventMsTs", "must not be negative")
	}
	var at time.Time
	if req.EventMsTs > 0 {
		at = time.UnixMilli(req.EventMsTs)
	}
	return nil, h.o.Rooms.ReportRecording(ctx, c.actor(), room.RecordingReport{RoomID: req.RoomId, EventGroupID: req.EventGroupId,
		EventType: req.EventType, UserID: req.UserId, TaskID: req.TaskId, EventTime: at, Payload: req.Payload})
}
