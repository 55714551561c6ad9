package clientapi

import (
	"context"
	"time"

	"github.com/roomd/roomd/internal/api/clientws"
	"github.com/roomd/roomd/internal/errcode"
	"github.com/roomd/roomd/internal/room"
	"github.com/roomd/roomd/internal/store"
	"github.com/roomd/roomd/internal/webhook"
)

// Battles from the client, with TUILiveBattleManager's names: requestBattle, acceptBattle,
// rejectBattle and exitBattle; and the pushes of TUILiveBattleObserver: onBattleRequestReceived,
// onBattleRequestAccept, onBattleRequestReject, onBattleRequestTimeout,
// onBattleRequestCancelled, onBattleStarted, onBattleScoreChanged, onUserExitBattle and
// onBattleEnded. A host acts for the room it owns and has entered on this connection.

// battleConfig is TUIBattleConfig: duration in seconds.
type battleConfig struct {
	Duration      int64  `json:"duration"`
	NeedResponse  bool   `json:"needResponse"`
	ExtensionInfo string `json:"extensionInfo"`
}

// battleUser is TUIBattleUser: a room of a battle, its host and its score.
type battleUser struct {
	RoomID string `json:"roomId"`
	UserID string `json:"userId"`
	Score  int64  `json:"score"`
}

// battleInfo is TUIBattleInfo: times in Unix seconds (0 until the battle starts; endTime is
// when a running battle will end).
type battleInfo struct {
	BattleID    string       `json:"battleId"`
	Config      battleConfig `json:"config"`
	StartTime   int64        `json:"startTime"`
	EndTime     int64        `json:"endTime"`
	Inviter     battleUser   `json:"inviter"`
	InviteeList []battleUser `json:"inviteeList"`
}

func toBattleUser(r room.BattleRoom) battleUser {
	return battleUser{RoomID: r.RoomID, UserID: r.Owner, Score: r.Score}
}

func toBattleInfo(b room.Battle) battleInfo {
	info := battleInfo{BattleID: b.ID, Config: battleConfig{Duration: int64(b.Duration / time.Second), NeedResponse: b.NeedResponse,
		ExtensionInfo: b.ExtensionInfo}, Inviter: toBattleUser(b.From()), InviteeList: []battleUser{}}
	if !b.StartTime.IsZero() {
		info.StartTime, info.EndTime = b.StartTime.Unix(), b.StartTime.Add(b.Duration).Unix()
	}
	if b.Status == store.BattleEnded {
		info.EndTime = b.EndTime.Unix()
	}
	for _, r := range b.Opponents() {
		info.InviteeList = append(info.InviteeList, toBattleUser(r))
	}
	return info
}

// requestBattleParams is the params of requestBattle. roomIdList names the invited rooms:
// a battle in roomd is between rooms (TUILiveKit's userIdList names the hosts the caller is
// co-hosting with, a connection roomd does not keep). timeout is in seconds.
type requestBattleParams struct {
	RoomID     string       `json:"roomId"`
	Config     battleConfig `json:"config"`
	RoomIDList []string     `json:"roomIdList"`
	Timeout    int64        `json:"timeout"`
}

func (api *API) requestBattle(ctx context.Context, s *clientws.Session, p requestBattleParams) (any, error) {
	if err := api.requireEntered(s, p.RoomID); err != nil {
		return nil, err
	}
	if p.Config.Duration <= 0 || p.Config.Duration > int64(room.MaxBattleDuration/time.Second) {
		return nil, errcode.Invalid("config.duration", "must be 1 to %d seconds", int64(room.MaxBattleDuration/time.Second))
	}
	if p.Timeout < 0 || p.Timeout > int64(room.MaxBattleTimeout/time.Second) {
		return nil, errcode.Invalid("timeout", "must be 0 to %d seconds", int64(room.MaxBattleTimeout/time.Second))
	}
	b, results, err := api.o.Rooms.CreateBattle(ctx, api.actor(s), room.CreateBattleParams{FromRoomID: p.RoomID, ToRoomIDs: p.RoomIDList,
		Duration: time.Duration(p.Config.Duration) * time.Second, Timeout: time.Duration(p.Timeout) * time.Second,
		NeedResponse: p.Config.NeedResponse, ExtensionInfo: p.Config.ExtensionInfo})
	if err != nil {
		return nil, err
	}
	type result struct {
		RoomID  string `json:"roomId"`
		Code    int    `json:"code"`
		Message string `json:"message"`
	}
	out := map[string]any{"battleId": b.ID}
	list := make([]result, len(results))
	for i, r := range results {
		list[i] = result{RoomID: r.RoomID, Code: r.Code, Message: r.Message}
	}
	out["resultList"] = list
	if b.ID != "" {
		out["battleInfo"] = toBattleInfo(b)
	}
	return out, nil
}

// battleIDParams is the params of acceptBattle, rejectBattle and exitBattle.
type battleIDParams struct {
	BattleID string `json:"battleId"`
}

// battleRoom returns the room of the battle the session's user owns, which this connection
// must have entered.
func (api *API) battleRoom(ctx context.Context, s *clientws.Session, battleID string) (string, error) {
	roomID, err := api.o.Rooms.BattleRoomOf(ctx, s.App(), battleID, s.UserID())
	if err != nil {
		return "", err
	}
	return roomID, api.requireEntered(s, roomID)
}

func (api *API) answerBattle(accept bool) func(ctx context.Context, s *clientws.Session, p battleIDParams) (any, error) {
	return func(ctx context.Context, s *clientws.Session, p battleIDParams) (any, error) {
		roomID, err := api.battleRoom(ctx, s, p.BattleID)
		if err != nil {
			return nil, err
		}
		return nil, api.o.Rooms.AnswerBattle(ctx, api.actor(s), p.BattleID, roomID, accept)
	}
}

func (api *API) exitBattle(ctx context.Context, s *clientws.Session, p battleIDParams) (any, error) {
	roomID, err := api.battleRoom(ctx, s, p.BattleID)
	if err != nil {
		return nil, err
	}
	return nil, api.o.Rooms.ExitBattle(ctx, api.actor(s), p.BattleID, roomID)
}

// withRoom returns params with the roomId of the room a push is made in: a connection in
// two rooms of a battle gets the push once for each.
func withRoom(roomID string, params map[string]any) map[string]any {
	out := make(map[string]any, len(params)+1)
	for k, v := range params {
		out[k] = v
	}
	out["roomId"] = roomID
	return out
}

// notifyHost pushes to the connections of a battle room's host that are in that room.
func (api *API) notifyHost(app uint64, r room.BattleRoom, method string, params map[string]any) {
	params = withRoom(r.RoomID, params)
	for _, s := range api.srv.Hub().RoomSessions(app, r.RoomID) {
		if s.UserID() == r.Owner {
			if err := s.Notify(method, params); err != nil {
				api.log.Error("client_push_failed", "method", method, "room", r.RoomID, "err", err)
			}
		}
	}
}

// publishBattle pushes to everyone in the battle's rooms: the inviting room and the
// invited rooms on its other side, each push naming its room.
func (api *API) publishBattle(b room.Battle, method string, params map[string]any) {
	rooms := append([]room.BattleRoom{b.From()}, b.Opponents()...)
	for _, r := range rooms {
		api.publish(room.EventHead{App: b.App, RoomID: r.RoomID}, method, withRoom(r.RoomID, params))
	}
}

// observeBattle makes the pushes of a battle event; it reports whether ev was one.
func (api *API) observeBattle(ev room.Event) bool {
	switch e := ev.(type) {
	case room.BattleCreated:
		if e.Battle.NeedResponse {
			for _, r := range e.Battle.Invited() {
				api.notifyHost(e.App, r, "onBattleRequestReceived", map[string]any{"battleId": e.Battle.ID,
					"battleInfo": toBattleInfo(e.Battle), "inviter": toBattleUser(e.Battle.From()), "invitee": toBattleUser(r)})
			}
		}
	case room.BattleAnswered:
		var invitee room.BattleRoom
		for _, r := range e.Battle.Invited() {
			if r.RoomID == e.RoomID {
				invitee = r
			}
		}
		p := map[string]any{"battleId": e.Battle.ID, "inviter": toBattleUser(e.Battle.From()), "invitee": toBattleUser(invitee)}
		switch e.Answer {
		case store.BattleRoomJoined:
			api.notifyHost(e.App, e.Battle.From(), "onBattleRequestAccept", p)
		case store.BattleRoomRejected:
			api.notifyHost(e.App, e.Battle.From(), "onBattleRequestReject", p)
		case store.BattleRoomTimedOut:
			api.notifyHost(e.App, e.Battle.From(), "onBattleRequestTimeout", p)
			api.notifyHost(e.App, invitee, "onBattleRequestTimeout", p)
		}
	case room.BattleStarted:
		api.publishBattle(e.Battle, "onBattleStarted", map[string]any{"battleInfo": toBattleInfo(e.Battle)})
	case room.BattleScoresChanged:
		users := []battleUser{toBattleUser(e.Battle.From())}
		for _, r := range e.Battle.Opponents() {
			users = append(users, toBattleUser(r))
		}
		api.publishBattle(e.Battle, "onBattleScoreChanged", map[string]any{"battleId": e.Battle.ID, "battleUserList": users})
	case room.BattleRoomExited:
		for _, r := range e.Battle.Rooms {
			if r.RoomID == e.RoomID {
				api.publishBattle(e.Battle, "onUserExitBattle", map[string]any{"battleId": e.Battle.ID, "battleUser": toBattleUser(r)})
			}
		}
	case room.BattleEnded:
		b := e.Battle
		if b.StartTime.IsZero() {
			// It never started: the hosts still asked learn that the request is withdrawn.
			for _, r := range b.Invited() {
				if r.State == store.BattleRoomInvited {
					api.notifyHost(e.App, r, "onBattleRequestCancelled", map[string]any{"battleId": b.ID,
						"inviter": toBattleUser(b.From()), "invitee": toBattleUser(r)})
				}
			}
			return true
		}
		reason := "timeOver"
		if b.EndType != webhook.BattleEndTimeUp {
			reason = "otherExit"
		}
		api.publishBattle(b, "onBattleEnded", map[string]any{"battleInfo": toBattleInfo(b), "reason": reason})
	default:
		return false
	}
	return true
}
