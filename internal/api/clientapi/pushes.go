package clientapi

import (
	"slices"
	"strings"

	"github.com/roomd/roomd/internal/api/clientws"
	"github.com/roomd/roomd/internal/room"
)

// Observe turns a room event into the pushes (JSON-RPC notifications) of the connections
// in that room. The room service calls it after each commit, in commit order, on the
// committing goroutine: it never blocks. The pushes of a room with fewer than asyncFanout
// connections are made at once; those of a larger room, and every event behind them, by
// the publisher's goroutine, in the same order (fanout.go). Register it with the room
// service's SetObserver.
func (api *API) Observe(ev room.Event) { api.pub.post(ev, api.pushInline, api.push) }

// pushInline reports whether ev's pushes are cheap enough to make on the committing
// goroutine: its room has fewer than asyncFanout connections.
func (api *API) pushInline(ev room.Event) bool {
	h := ev.Head()
	return api.srv.Hub().RoomSize(h.App, h.RoomID) < asyncFanout
}

// push makes the pushes of one room event: it only encodes and enqueues, never blocks.
func (api *API) push(ev room.Event) {
	h := ev.Head()
	hub := api.srv.Hub()
	switch e := ev.(type) {
	case room.ConnEntered:
		if s := api.session(e.Conn); s != nil {
			hub.Subscribe(s, h.RoomID) // a session that ended meanwhile is cleaned up by OnClose
		}
	case room.ConnsLeft:
		for _, c := range e.Conns {
			if s := api.session(c); s != nil {
				hub.Unsubscribe(s, h.RoomID)
			}
		}
	case room.MembersOnline:
		for _, u := range e.Users {
			api.publishPresence(h, e.Audience, u, "onRemoteUserEnterRoom", map[string]any{"roomId": h.RoomID, "userInfo": userInfo{UserID: u}})
		}
	case room.MembersOffline:
		for _, u := range e.Users {
			api.publishPresence(h, e.Audience, u, "onRemoteUserLeaveRoom", map[string]any{"roomId": h.RoomID, "userInfo": userInfo{UserID: u}})
		}
	case room.UserKicked:
		for _, s := range hub.RoomSessions(h.App, h.RoomID) {
			if s.UserID() == e.UserID {
				s.Notify("onKickedOutOfRoom", map[string]any{"roomId": h.RoomID, "reason": "kickedByAdmin", "message": e.Reason})
			}
		}
	case room.RoomDismissed:
		reason := "byOwner"
		if e.BySystem {
			reason = "byServer"
		}
		api.publish(h, "onRoomDismissed", map[string]any{"roomId": h.RoomID, "reason": reason})
		for _, s := range hub.RoomSessions(h.App, h.RoomID) {
			hub.Unsubscribe(s, h.RoomID)
		}
	case room.OwnerChanged:
		api.publish(h, "onUserRoleChanged", roleChanged{RoomID: h.RoomID, UserID: e.To, UserRole: roleOwner})
		api.publish(h, "onUserRoleChanged", roleChanged{RoomID: h.RoomID, UserID: e.From, UserRole: roleGeneral})
	case room.AdminsChanged:
		role := roleGeneral
		if e.Added {
			role = roleAdmin
		}
		for _, u := range e.Users {
			api.publish(h, "onUserRoleChanged", roleChanged{RoomID: h.RoomID, UserID: u, UserRole: role})
		}
	case room.RoomInfoChanged:
		if e.Unchanged {
			break // REST wrote values the room already had: nothing to tell
		}
		api.publish(h, "onRoomInfoChanged", map[string]any{"roomId": h.RoomID, "roomInfo": roomInfo(e.Room)})
		if e.MessageDisabledChanged {
			api.publish(h, "onSendMessageForAllUserDisableChanged", struct {
				RoomID    string `json:"roomId"`
				IsDisable bool   `json:"isDisable"`
			}{h.RoomID, e.Room.IsMessageDisabled})
		}
	case room.MetadataChanged:
		p := map[string]any{"roomId": h.RoomID}
		if len(e.Set) > 0 {
			p["metadata"] = metadataMap(e.Set)
		}
		if len(e.Deleted) > 0 {
			p["deletedKeys"] = e.Deleted
		}
		api.publish(h, "onRoomMetadataChanged", p)
	case room.MemberMuted:
		api.publish(h, "onSendMessageForUserDisableChanged", map[string]any{"roomId": h.RoomID, "userId": e.UserID, "isDisable": e.Muted})
	case room.SeatsChanged, room.SeatKicked, room.SeatRequested, room.SeatRequestEnded:
		api.observeSeats(ev)
	case room.GiftSent, room.LikeSent:
		api.observeGift(ev) // gifts.go
	case room.MessageSent:
		if e.Silent {
			return // no element the client API shows: history and callbacks only
		}
		msg := map[string]any{"messageSeq": e.Seq, "userId": e.Sender, "timestamp": h.Time.Unix()}
		method := "onReceiveTextMessage"
		if e.Custom {
			method = "onReceiveCustomMessage"
			msg["businessId"], msg["data"] = e.BusinessID, e.Data
		} else {
			msg["text"] = e.Text
		}
		api.publishExcept(h, e.Sender, method, map[string]any{"roomId": h.RoomID, "message": msg})
	default:
		api.observeBattle(ev) // battles.go
	}
}

// publishPresence tells the room that user entered or left: every other member while the
// room has at most Options.PresencePushLimit members, only its owner and admins in a
// larger room (a live audience of thousands would otherwise cost N pushes per entry, N²
// to fill the room). Members of a large room read memberCount from fetchRoomInfo.
func (api *API) publishPresence(h room.EventHead, aud room.Audience, user, method string, params any) {
	if aud.MemberCount <= api.o.PresencePushLimit {
		api.publishExcept(h, user, method, params)
		return
	}
	hub := api.srv.Hub()
	for _, m := range aud.Managers {
		if m == user {
			continue
		}
		for _, s := range hub.UserSessions(h.App, m) {
			if hub.InRoom(s, h.RoomID) {
				s.Notify(method, params)
			}
		}
	}
}

func (api *API) publish(h room.EventHead, method string, params any) {
	if _, err := api.srv.Hub().PublishRoom(h.App, h.RoomID, method, params); err != nil {
		api.log.Error("client_push_failed", "method", method, "room", h.RoomID, "err", err)
	}
}

func (api *API) publishExcept(h room.EventHead, user, method string, params any) {
	if _, err := api.srv.Hub().PublishRoomExcept(h.App, h.RoomID, user, method, params); err != nil {
		api.log.Error("client_push_failed", "method", method, "room", h.RoomID, "err", err)
	}
}

// roleChanged is the params of onUserRoleChanged. A struct encodes faster than a map; its
// members are in the order a map's would be encoded in (sorted), as the golden session pins.
type roleChanged struct {
	RoomID   string `json:"roomId"`
	UserID   string `json:"userId"`
	UserRole string `json:"userRole"`
}

// AppendJSON encodes r as encoding/json does, without reflection (clientws.JSONAppender):
// every owner change pushes two of them.
func (r roleChanged) AppendJSON(b []byte) []byte {
	b = append(b, `{"roomId":`...)
	b = clientws.AppendJSONString(b, r.RoomID)
	b = append(b, `,"userId":`...)
	b = clientws.AppendJSONString(b, r.UserID)
	b = append(b, `,"userRole":`...)
	b = clientws.AppendJSONString(b, r.UserRole)
	return append(b, '}')
}

// userInfo is a user as pushes and getUserList show it (TUIUserInfo's names).
type userInfo struct {
	UserID   string `json:"userId"`
	UserRole string `json:"userRole,omitempty"`
}

// roomInfoWire is a room as the client API shows it (TUIRoomInfo's names, camelCase).
type roomInfoWire struct {
	RoomID            string `json:"roomId"`
	RoomName          string `json:"roomName"`
	RoomType          string `json:"roomType"`
	OwnerID           string `json:"ownerId"`
	CreateTime        int64  `json:"createTime"` // Unix seconds
	IsSeatEnabled     bool   `json:"isSeatEnabled"`
	TakeSeatMode      string `json:"takeSeatMode"`
	MaxSeatCount      int    `json:"maxSeatCount"`
	MaxMemberCount    int    `json:"maxMemberCount"`
	IsMessageDisabled bool   `json:"isMessageDisabled"`
	IsPublicVisible   bool   `json:"isPublicVisible"`
	CoverURL          string `json:"coverUrl"`
	BackgroundURL     string `json:"backgroundUrl"`
	Notice            string `json:"notice"`
	CustomInfo        string `json:"customInfo"`
	Category          []int  `json:"category"`
	ActivityStatus    int    `json:"activityStatus"`
	ViewCount         int64  `json:"viewCount"`
	MemberCount       int    `json:"memberCount"`
	OnlineCount       int    `json:"onlineCount"`
	OwnerName         string `json:"ownerName"`
	OwnerAvatarURL    string `json:"ownerAvatarUrl"`
}

func roomInfo(r room.Room) roomInfoWire {
	cat := r.Category
	if cat == nil {
		cat = []int{}
	}
	return roomInfoWire{RoomID: r.ID, RoomName: r.RoomName, RoomType: r.RoomType, OwnerID: r.Owner, CreateTime: r.CreateTime.Unix(),
		IsSeatEnabled: r.IsSeatEnabled, TakeSeatMode: r.TakeSeatMode, MaxSeatCount: r.MaxSeatCount, MaxMemberCount: r.MaxMemberCount,
		IsMessageDisabled: r.IsMessageDisabled, IsPublicVisible: r.IsPublicVisible, CoverURL: r.CoverURL, BackgroundURL: r.BackgroundURL,
		Notice: r.Notice, CustomInfo: r.CustomInfo, Category: cat, ActivityStatus: r.ActivityStatus, ViewCount: r.ViewCount,
		MemberCount: r.MemberCount, OnlineCount: r.OnlineCount, OwnerName: r.OwnerName, OwnerAvatarURL: r.OwnerAvatarURL}
}

func metadataMap(items []room.Metadata) map[string]string {
	m := make(map[string]string, len(items))
	for _, it := range items {
		m[it.Key] = it.Value
	}
	return m
}

// sortMetadata orders items by key, so a map from JSON is applied in a stable order.
func sortMetadata(items []room.Metadata) {
	slices.SortFunc(items, func(a, b room.Metadata) int { return strings.Compare(a.Key, b.Key) })
}
