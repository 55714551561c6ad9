package clientapi

import (
	"context"
	"encoding/json"
	"fmt"
	"math"

	"github.com/roomd/roomd/internal/api/clientws"
	"github.com/roomd/roomd/internal/errcode"
	"github.com/roomd/roomd/internal/room"
	"github.com/roomd/roomd/internal/store"
	"github.com/roomd/roomd/internal/webhook"
)

// The TUIRole names of the client API (roles in changeUserRole and in pushes).
const (
	roleOwner   = "roomOwner"
	roleAdmin   = "administrator"
	roleGeneral = "generalUser"
)

// method adapts a typed handler: it decodes params into P (unknown fields are ignored, as
// JSON-RPC clients add their own) and runs it with a context that is not cancelled when
// the connection ends, as the REST API runs its handlers: a change the domain has started
// is finished (it is one transaction; its callback is in the outbox with it), and every
// wait of the domain has its own bound (the store's writer answers every call it takes, a
// Before-callback waits at most the app's callback timeout). A context that can end would
// also cost a goroutine per SQL statement and per query (database/sql and the SQLite
// driver watch it), about a tenth of roomd's CPU per owner change.
func method[P any](api *API, fn func(ctx context.Context, s *clientws.Session, p P) (any, error)) clientws.Method {
	return func(ctx context.Context, s *clientws.Session, raw json.RawMessage) (any, error) {
		var p P
		if err := json.Unmarshal(raw, &p); err != nil {
			return nil, errcode.Invalid("params", "do not match the method: %v", err)
		}
		res, err := fn(context.WithoutCancel(ctx), s, p)
		// The pushes of the changes the call committed are enqueued before its response
		// (docs/client-protocol.md, Ordering), also when a large room's are made by the
		// publisher's goroutine.
		api.pub.settle()
		return res, err
	}
}

// roomParams is the params of the methods that name only a room.
type roomParams struct {
	RoomID string `json:"roomId"`
}

// userParams names a user of a room.
type userParams struct {
	RoomID string `json:"roomId"`
	UserID string `json:"userId"`
}

// methods is the dispatch table, by TUIRoomEngine's method names.
func (api *API) methods() map[string]clientws.Method {
	return map[string]clientws.Method{
		"createRoom":                      method(api, api.createRoom),
		"destroyRoom":                     method(api, api.destroyRoom),
		"enterRoom":                       method(api, api.enterRoom),
		"exitRoom":                        method(api, api.exitRoom),
		"fetchRoomInfo":                   method(api, api.fetchRoomInfo),
		"updateRoomNameByAdmin":           method(api, api.updateRoomName),
		"updateRoomInfoByAdmin":           method(api, api.updateRoomInfo),
		"getRoomMetadata":                 method(api, api.getRoomMetadata),
		"setRoomMetadataByAdmin":          method(api, api.setRoomMetadata),
		"deleteRoomMetadataByAdmin":       method(api, api.deleteRoomMetadata),
		"getUserList":                     method(api, api.getUserList),
		"changeUserRole":                  method(api, api.changeUserRole),
		"kickRemoteUserOutOfRoom":         method(api, api.kickUser),
		"disableSendingMessageByAdmin":    method(api, api.disableSendingMessage),
		"disableSendingMessageForAllUser": method(api, api.disableSendingMessageForAll),
		"sendTextMessage":                 method(api, api.sendTextMessage),
		"sendCustomMessage":               method(api, api.sendCustomMessage),
		"getSeatList":                     method(api, api.getSeatList),
		"takeSeat":                        method(api, api.takeSeat),
		"leaveSeat":                       method(api, api.leaveSeat),
		"moveToSeat":                      method(api, api.moveToSeat),
		"takeUserOnSeatByAdmin":           method(api, api.takeUserOnSeat),
		"kickUserOffSeatByAdmin":          method(api, api.kickUserOffSeat),
		"lockSeatByAdmin":                 method(api, api.lockSeat),
		"getSeatApplicationList":          method(api, api.getSeatApplicationList),
		"responseRemoteRequest":           method(api, api.responseRemoteRequest),
		"cancelRequest":                   method(api, api.cancelRequest),
		"getGiftList":                     method(api, api.getGiftList),
		"sendGift":                        method(api, api.sendGift),
		"sendLike":                        method(api, api.sendLike),
		"getGiftCountByAnchor":            method(api, api.getGiftCountByAnchor),
		"getLikesCount":                   method(api, api.getLikesCount),
		"followUser":                      method(api, api.followUser),
		"unfollowUser":                    method(api, api.unfollowUser),
		"checkFollowType":                 method(api, api.checkFollowType),
		"getMyFollowingList":              method(api, api.followList(store.FollowKindFollowing)),
		"getMyFollowersList":              method(api, api.followList(store.FollowKindFollowers)),
		"getMutualFollowersList":          method(api, api.followList(store.FollowKindMutual)),
		"requestBattle":                   method(api, api.requestBattle),
		"acceptBattle":                    method(api, api.answerBattle(true)),
		"rejectBattle":                    method(api, api.answerBattle(false)),
		"exitBattle":                      method(api, api.exitBattle),
	}
}

// createRoomParams is the params of createRoom: the room's id and any of its attributes,
// with the seat attributes of REST create_room (seatTemplate, maxSeatCount,
// keepOwnerOnSeat, seatLayoutTemplateId) under their camelCase names.
type createRoomParams struct {
	RoomID               string `json:"roomId"`
	RoomName             string `json:"roomName"`
	RoomType             string `json:"roomType"` // "Live" (the default)
	IsSeatEnabled        *bool  `json:"isSeatEnabled"`
	TakeSeatMode         string `json:"takeSeatMode"`
	MaxSeatCount         int    `json:"maxSeatCount"`
	SeatTemplate         string `json:"seatTemplate"`
	KeepOwnerOnSeat      *bool  `json:"keepOwnerOnSeat"`
	SeatLayoutTemplateID int    `json:"seatLayoutTemplateId"`
	IsMessageDisabled    *bool  `json:"isMessageDisabled"`
	IsPublicVisible      *bool  `json:"isPublicVisible"`
	CoverURL             string `json:"coverUrl"`
	CustomInfo           string `json:"customInfo"`
	Notice               string `json:"notice"`
}

func (api *API) createRoom(ctx context.Context, s *clientws.Session, p createRoomParams) (any, error) {
	info := room.Info{RoomType: p.RoomType, RoomName: p.RoomName, TakeSeatMode: p.TakeSeatMode, MaxSeatCount: p.MaxSeatCount,
		SeatTemplate: p.SeatTemplate, SeatLayoutTemplateId: p.SeatLayoutTemplateID, CoverURL: p.CoverURL, CustomInfo: p.CustomInfo,
		Notice: p.Notice}
	if info.RoomType == "" {
		info.RoomType = "Live"
	}
	// The client's defaults are TUIRoomInfo's: no seats and no owner kept on seat 0 unless
	// asked for (REST create_room defaults both to true, the Manager's defaults).
	if p.IsSeatEnabled != nil {
		info.IsSeatEnabled = *p.IsSeatEnabled
	}
	if p.KeepOwnerOnSeat != nil {
		info.KeepOwnerOnSeat = *p.KeepOwnerOnSeat
	}
	if p.IsMessageDisabled != nil {
		info.IsMessageDisabled = *p.IsMessageDisabled
	}
	quota := 0
	if app, ok := api.o.Apps.Get(s.App()); ok {
		quota = app.RoomQuota
	}
	r, err := api.o.Rooms.Create(ctx, api.actor(s), room.CreateParams{ID: p.RoomID, Owner: s.UserID(),
		IsPublicVisible: p.IsPublicVisible, Info: info, RoomQuota: quota})
	if err != nil {
		return nil, err
	}
	return map[string]any{"roomInfo": roomInfo(r)}, nil
}

func (api *API) destroyRoom(ctx context.Context, s *clientws.Session, p roomParams) (any, error) {
	_, err := api.o.Rooms.Destroy(ctx, api.actor(s), p.RoomID)
	return nil, err
}

func (api *API) enterRoom(ctx context.Context, s *clientws.Session, p roomParams) (any, error) {
	r, err := api.o.Rooms.Enter(ctx, api.actor(s), room.ConnID(s.ID()), p.RoomID)
	if err != nil {
		return nil, err
	}
	return map[string]any{"roomInfo": roomInfo(r)}, nil
}

func (api *API) exitRoom(ctx context.Context, s *clientws.Session, p roomParams) (any, error) {
	return nil, api.o.Rooms.Exit(ctx, api.actor(s), room.ConnID(s.ID()), p.RoomID)
}

func (api *API) fetchRoomInfo(ctx context.Context, s *clientws.Session, p roomParams) (any, error) {
	r, err := api.o.Rooms.Get(ctx, s.App(), p.RoomID)
	if err != nil {
		return nil, err
	}
	return map[string]any{"roomInfo": roomInfo(r)}, nil
}

type roomNameParams struct {
	RoomID   string `json:"roomId"`
	RoomName string `json:"roomName"`
}

func (api *API) updateRoomName(ctx context.Context, s *clientws.Session, p roomNameParams) (any, error) {
	if err := api.requireEntered(s, p.RoomID); err != nil {
		return nil, err
	}
	return nil, api.o.Rooms.Update(ctx, api.actor(s), room.UpdateParams{ID: p.RoomID, RoomName: &p.RoomName})
}

// roomInfoParams is the params of updateRoomInfoByAdmin: any of the updatable attributes.
type roomInfoParams struct {
	RoomID            string  `json:"roomId"`
	RoomName          *string `json:"roomName"`
	CoverURL          *string `json:"coverUrl"`
	Notice            *string `json:"notice"`
	CustomInfo        *string `json:"customInfo"`
	IsMessageDisabled *bool   `json:"isMessageDisabled"`
	IsPublicVisible   *bool   `json:"isPublicVisible"`
	TakeSeatMode      *string `json:"takeSeatMode"`
	ActivityStatus    *int    `json:"activityStatus"`
	Category          *[]int  `json:"category"`
	BackgroundURL     *string `json:"backgroundUrl"`
}

func (api *API) updateRoomInfo(ctx context.Context, s *clientws.Session, p roomInfoParams) (any, error) {
	if err := api.requireEntered(s, p.RoomID); err != nil {
		return nil, err
	}
	return nil, api.o.Rooms.Update(ctx, api.actor(s), room.UpdateParams{ID: p.RoomID, RoomName: p.RoomName, CoverURL: p.CoverURL,
		Notice: p.Notice, CustomInfo: p.CustomInfo, IsMessageDisabled: p.IsMessageDisabled, IsPublicVisible: p.IsPublicVisible,
		TakeSeatMode: p.TakeSeatMode, ActivityStatus: p.ActivityStatus, Category: p.Category, BackgroundURL: p.BackgroundURL})
}

type metadataKeysParams struct {
	RoomID string   `json:"roomId"`
	Keys   []string `json:"keys"`
}

func (api *API) getRoomMetadata(ctx context.Context, s *clientws.Session, p metadataKeysParams) (any, error) {
	items, err := api.o.Rooms.GetMetadata(ctx, s.App(), p.RoomID, p.Keys)
	if err != nil {
		return nil, err
	}
	return map[string]any{"metadata": metadataMap(items)}, nil
}

type setMetadataParams struct {
	RoomID   string            `json:"roomId"`
	Metadata map[string]string `json:"metadata"`
}

func (api *API) setRoomMetadata(ctx context.Context, s *clientws.Session, p setMetadataParams) (any, error) {
	if err := api.requireEntered(s, p.RoomID); err != nil {
		return nil, err
	}
	items := make([]room.Metadata, 0, len(p.Metadata))
	for k, v := range p.Metadata {
		items = append(items, room.Metadata{Key: k, Value: v})
	}
	sortMetadata(items)
	return nil, api.o.Rooms.SetMetadata(ctx, api.actor(s), p.RoomID, items)
}

func (api *API) deleteRoomMetadata(ctx context.Context, s *clientws.Session, p metadataKeysParams) (any, error) {
	if err := api.requireEntered(s, p.RoomID); err != nil {
		return nil, err
	}
	return nil, api.o.Rooms.DelMetadata(ctx, api.actor(s), p.RoomID, p.Keys)
}

type userListParams struct {
	RoomID       string `json:"roomId"`
	NextSequence string `json:"nextSequence"`
}

func (api *API) getUserList(ctx context.Context, s *clientws.Session, p userListParams) (any, error) {
	page, err := api.o.Rooms.MemberList(ctx, s.App(), p.RoomID, p.NextSequence)
	if err != nil {
		return nil, err
	}
	r, err := api.o.Rooms.Get(ctx, s.App(), p.RoomID)
	if err != nil {
		return nil, err
	}
	admins, err := api.o.Rooms.AdminList(ctx, s.App(), p.RoomID)
	if err != nil {
		return nil, err
	}
	isAdmin := make(map[string]bool, len(admins))
	for _, a := range admins {
		isAdmin[a] = true
	}
	users := make([]userInfo, 0, len(page.Members))
	for _, m := range page.Members {
		role := roleGeneral
		switch {
		case m == r.Owner:
			role = roleOwner
		case isAdmin[m]:
			role = roleAdmin
		}
		users = append(users, userInfo{UserID: m, UserRole: role})
	}
	return map[string]any{"userInfoList": users, "nextSequence": page.Next, "memberCount": page.MemberCount}, nil
}

type changeRoleParams struct {
	RoomID string `json:"roomId"`
	UserID string `json:"userId"`
	Role   string `json:"role"`
}

// changeUserRole: with roomOwner it transfers the room to the user (only the owner may, and
// the user must be in the room); with administrator it makes the user a room admin, with
// generalUser it takes the admin role away (the owner's decision).
func (api *API) changeUserRole(ctx context.Context, s *clientws.Session, p changeRoleParams) (any, error) {
	if err := api.requireEntered(s, p.RoomID); err != nil {
		return nil, err
	}
	if p.UserID == "" {
		return nil, errcode.Invalid("userId", "is required")
	}
	a := api.actor(s)
	switch p.Role {
	case roleOwner:
		return nil, api.o.Rooms.ChangeOwner(ctx, a, p.RoomID, p.UserID)
	case roleAdmin:
		return nil, api.o.Rooms.ModifyAdmin(ctx, a, p.RoomID, []string{p.UserID}, webhook.AdminAdd)
	case roleGeneral:
		return nil, api.o.Rooms.ModifyAdmin(ctx, a, p.RoomID, []string{p.UserID}, webhook.AdminDelete)
	}
	return nil, errcode.Invalid("role", "must be %q, %q or %q, not %q", roleOwner, roleAdmin, roleGeneral, p.Role)
}

func (api *API) kickUser(ctx context.Context, s *clientws.Session, p userParams) (any, error) {
	if err := api.requireEntered(s, p.RoomID); err != nil {
		return nil, err
	}
	return nil, api.o.Rooms.Kick(ctx, api.actor(s), p.RoomID, p.UserID)
}

type disableMessageParams struct {
	RoomID    string `json:"roomId"`
	UserID    string `json:"userId"`
	IsDisable bool   `json:"isDisable"`
	// Duration is how long, in seconds, the mute lasts; 0 or absent means until lifted.
	Duration int64 `json:"duration"`
}

func (api *API) disableSendingMessage(ctx context.Context, s *clientws.Session, p disableMessageParams) (any, error) {
	if err := api.requireEntered(s, p.RoomID); err != nil {
		return nil, err
	}
	seconds := int64(0)
	if p.IsDisable {
		seconds = p.Duration
		if seconds <= 0 {
			seconds = math.MaxUint32
		}
	}
	return nil, api.o.Rooms.Mute(ctx, api.actor(s), p.RoomID, []string{p.UserID}, seconds)
}

type disableAllParams struct {
	RoomID    string `json:"roomId"`
	IsDisable bool   `json:"isDisable"`
}

func (api *API) disableSendingMessageForAll(ctx context.Context, s *clientws.Session, p disableAllParams) (any, error) {
	if err := api.requireEntered(s, p.RoomID); err != nil {
		return nil, err
	}
	return nil, api.o.Rooms.Update(ctx, api.actor(s), room.UpdateParams{ID: p.RoomID, IsMessageDisabled: &p.IsDisable})
}

type textMessageParams struct {
	RoomID string `json:"roomId"`
	Text   string `json:"text"`
}

func (api *API) sendTextMessage(ctx context.Context, s *clientws.Session, p textMessageParams) (any, error) {
	if err := api.requireEntered(s, p.RoomID); err != nil {
		return nil, err
	}
	res, err := api.o.Messages.SendText(ctx, api.actor(s), room.TextMessage{RoomID: p.RoomID, Sender: s.UserID(), Text: p.Text})
	if err != nil {
		return nil, err
	}
	return sendResult(res), nil
}

type customMessageParams struct {
	RoomID     string `json:"roomId"`
	BusinessID string `json:"businessId"`
	Data       string `json:"data"`
}

func (api *API) sendCustomMessage(ctx context.Context, s *clientws.Session, p customMessageParams) (any, error) {
	if err := api.requireEntered(s, p.RoomID); err != nil {
		return nil, err
	}
	res, err := api.o.Messages.SendCustom(ctx, api.actor(s), room.CustomMessage{RoomID: p.RoomID, Sender: s.UserID(),
		BusinessID: p.BusinessID, Data: p.Data})
	if err != nil {
		return nil, err
	}
	return sendResult(res), nil
}

func sendResult(r room.SendResult) map[string]any {
	return map[string]any{"messageSeq": r.MsgSeq, "timestamp": r.MsgTime}
}

var _ = fmt.Sprintf
