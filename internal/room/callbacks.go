package room

import (
	"time"

	"github.com/roomd/roomd/internal/webhook"
)

// callback returns the After-callback a room event causes: its command and its request body,
// with ok false for events that cause none (ConnEntered, ConnsLeft, UserKicked, MemberMuted,
// the seat events other than SeatsChanged, and BattleAnswered, BattleScoresChanged,
// BattleRoomExited). It is the one place callback bodies are built; publish hands its result
// to the outbox,
// which sets the body's CallbackCommand from the command (webhook.Render). EventTime is the
// event's Time; Operator_Account is its Operator.
func callback(ev Event) (cmd webhook.Command, body any, ok bool) {
	switch e := ev.(type) {
	case RoomCreated:
		r := e.Room
		return webhook.AfterCreateRoom, webhook.CreateRoom{
			Operator_Account: e.Operator,
			RoomInfo: webhook.CreateRoomInfo{
				RoomId: r.ID, RoomName: r.RoomName, RoomType: r.RoomType, Owner_Account: r.Owner,
				MaxMemberCount: r.MaxMemberCount, IsMessageDisabled: r.IsMessageDisabled, CustomInfo: r.CustomInfo,
				IsSeatEnabled: r.IsSeatEnabled, TakeSeatMode: r.TakeSeatMode, MaxSeatCount: r.MaxSeatCount,
				CreateTime: r.CreateTime.Unix(), IsPublicVisible: r.IsPublicVisible, CoverURL: r.CoverURL, Category: r.Category,
			},
			EventTime: e.Time.UnixMilli(),
		}, true
	case RoomCountThreshold:
		return webhook.AfterCreateRoomReachingThreshold, webhook.RoomThreshold{
			Operator_Account: e.Operator,
			EventTime:        e.Time.UnixMilli(),
			CurRoomCount:     e.Count,
			MaxRoomCount:     e.Quota,
		}, true
	case RoomDismissed:
		r := e.Room
		typ := webhook.DestroyByUser
		if e.BySystem {
			typ = webhook.DestroyBySystem
		}
		return webhook.AfterDestroyRoom, webhook.DestroyRoom{
			Operator_Account: e.Operator,
			RoomId:           e.RoomID,
			EventType:        typ,
			EventTime:        e.Time.UnixMilli(),
			RoomInfo: webhook.DestroyRoomInfo{
				RoomId: r.ID, RoomName: r.RoomName, RoomType: r.RoomType, Owner_Account: r.Owner,
				IsSeatEnabled: r.IsSeatEnabled, TakeSeatMode: r.TakeSeatMode, MaxMemberCount: r.MaxMemberCount,
				MaxSeatCount: r.MaxSeatCount, Category: r.Category, CustomInfo: r.CustomInfo,
				IsMessageDisabled: r.IsMessageDisabled, CoverURL: r.CoverURL, ActivityStatus: r.ActivityStatus,
				IsPublicVisible: r.IsPublicVisible, ViewCount: r.ViewCount, BackgroundURL: r.BackgroundURL,
				IsUnlimitedRoomEnabled: r.IsUnlimitedRoomEnabled, CreateTime: r.CreateTime.Unix(),
			},
			Statistic: e.Statistic.Statistic,
		}, true
	case OwnerChanged:
		return webhook.AfterChangeOwner, webhook.ChangeOwner{
			RoomId:                e.RoomID,
			EventTime:             e.Time.UnixMilli(),
			Operator_Account:      e.Operator,
			CurrentOwner_Account:  e.To,
			OriginalOwner_Account: e.From,
		}, true
	case AdminsChanged:
		op := webhook.AdminDelete
		if e.Added {
			op = webhook.AdminAdd
		}
		return webhook.AfterModifyAdmin, webhook.ModifyAdmin{
			RoomId:           e.RoomID,
			EventTime:        e.Time.UnixMilli(),
			Operator_Account: e.Operator,
			Admin_Account:    e.Users,
			OpType:           op,
		}, true
	case RoomInfoChanged:
		r := e.Room
		return webhook.AfterUpdateRoomInfo, webhook.UpdateRoom{
			Operator_Account: e.Operator,
			RoomInfo: webhook.UpdateRoomInfo{
				RoomId: r.ID, RoomName: r.RoomName, MaxMemberCount: r.MaxMemberCount,
				IsMessageDisabled: r.IsMessageDisabled, CoverURL: r.CoverURL, Category: r.Category,
				ActivityStatus: r.ActivityStatus, IsPublicVisible: r.IsPublicVisible,
				TakeSeatMode: r.TakeSeatMode, CustomInfo: r.CustomInfo,
			},
			EventTime: e.Time.UnixMilli(),
		}, true
	case MetadataChanged:
		if len(e.Set) > 0 {
			items := make([]webhook.MetadataItem, len(e.Set))
			for i, m := range e.Set {
				items[i] = webhook.MetadataItem{Key: m.Key, Value: m.Value}
			}
			return webhook.AfterSetMetadata, webhook.SetMetadata{
				Operator_Account: e.Operator, RoomId: e.RoomID, Metadata: items, EventTime: e.Time.UnixMilli(),
			}, true
		}
		return webhook.AfterDelMetadata, webhook.DelMetadata{
			Operator_Account: e.Operator, RoomId: e.RoomID, Keys: e.Deleted, EventTime: e.Time.UnixMilli(),
		}, true
	case SeatsChanged:
		return webhook.AfterSeatInfoChanged, webhook.SeatInfoChanged{RoomId: e.RoomID, SeatList: SeatInfos(e.Seats), EventTime: e.Time.UnixMilli()}, true
	case MembersOnline:
		return webhook.AfterMemberStateChanged, memberState(e.EventHead, webhook.MemberOnline, e.Cause, e.Users), true
	case MembersOffline:
		return webhook.AfterMemberStateChanged, memberState(e.EventHead, webhook.MemberOffline, e.Cause, e.Users), true
	case MessageSent:
		if e.NoCallback {
			return "", nil, false
		}
		return webhook.AfterSendMsg, webhook.AfterSendMsgBody{
			GroupId: e.RoomID, Type: webhook.GroupTypeLive, From_Account: e.Sender, Operator_Account: e.Operator,
			Random: e.Random, MsgSeq: e.Seq, MsgTime: e.Time.Unix(), MsgId: e.MsgID, MsgBody: e.Body,
			CloudCustomData: e.CloudCustomData, EventTime: e.Time.UnixMilli(),
		}, true
	case BattleCreated:
		b := e.Battle
		to := make([]string, 0, len(b.Rooms)-1)
		for _, r := range b.Invited() {
			to = append(to, r.RoomID)
		}
		return webhook.AfterCreateBattle, webhook.CreateBattle{
			Operator_Account: e.Operator, BattleId: b.ID, FromRoomId: b.From().RoomID, ToRoomIdList: to,
			Timeout: b.Timeout.Milliseconds(), Duration: b.Duration.Milliseconds(), NeedResponse: b.NeedResponse,
			ExtensionInfo: b.ExtensionInfo, EventTime: e.Time.UnixMilli(),
		}, true
	case BattleStarted:
		b := e.Battle
		to := []webhook.BattleRoom{}
		for _, r := range b.Opponents() {
			to = append(to, webhook.BattleRoom{RoomId: r.RoomID, Owner_Account: r.Owner})
		}
		return webhook.AfterStartBattle, webhook.StartBattle{
			BattleId: b.ID, Duration: b.Duration.Milliseconds(), CreateTime: b.CreateTime.Unix(), StartTime: b.StartTime.Unix(),
			FromRoomInfo: webhook.BattleRoom{RoomId: b.From().RoomID, Owner_Account: b.From().Owner}, ToRoomList: to,
			EventTime: e.Time.UnixMilli(),
		}, true
	case BattleEnded:
		b := e.Battle
		score := func(r BattleRoom) webhook.BattleRoomScore {
			return webhook.BattleRoomScore{RoomId: r.RoomID, Score: r.Score, Owner_Account: r.Owner}
		}
		to := []webhook.BattleRoomScore{}
		for _, r := range b.Opponents() {
			to = append(to, score(r))
		}
		return webhook.AfterEndBattle, webhook.EndBattle{
			BattleId: b.ID, Duration: b.Duration.Milliseconds(), CreateTime: b.CreateTime.Unix(), StartTime: unixOrZero(b.StartTime),
			EndTime: b.EndTime.Unix(), OpType: b.EndType, FromRoomInfo: score(b.From()), ToRoomList: to, EventTime: e.Time.UnixMilli(),
		}, true
	case RecordingChanged:
		return webhook.AfterCloudRecordingChanged, webhook.CloudRecordingChanged{
			EventGroupId: e.EventGroupID, EventType: e.EventType, CallbackTs: e.Time.UnixMilli(),
			EventInfo: webhook.RecordingEventInfo{RoomId: e.RoomID, EventTs: e.EventTime.Unix(), EventMsTs: e.EventTime.UnixMilli(),
				UserId: e.UserID, TaskId: e.TaskID, Payload: e.Payload},
		}, true
	}
	return "", nil, false
}

// unixOrZero returns t in Unix seconds, 0 for the zero time (a battle that never started).
func unixOrZero(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.Unix()
}

// memberState is the body of Live.CallbackAfterMemberStateChanged; it has no
// Operator_Account.
func memberState(h EventHead, typ, cause string, users []string) webhook.MemberStateChanged {
	list := make([]webhook.MemberAccount, len(users))
	for i, u := range users {
		list[i] = webhook.MemberAccount{Member_Account: u}
	}
	return webhook.MemberStateChanged{
		RoomId: h.RoomID, EventType: typ, EventCause: cause, MemberList: list, EventTime: h.Time.UnixMilli(),
	}
}
