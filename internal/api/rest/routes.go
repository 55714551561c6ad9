package rest

import (
	"context"
	"time"

	"github.com/roomd/roomd/internal/errcode"
)

// route is one REST API: its handler, the code family of its errors, whether its payload
// sits at the top level of the envelope (IM account APIs, the gift getters) instead of
// under Response, and its default frequency limit, from the API's page: rate calls per
// second (200 for most, 100 for robots, get_room_stats and the batch account APIs, 10 for
// get_room_list, 20 for the mix stream APIs, 1 for the gift configuration), or per window when window is set (1 per
// 10 s for copy_default_gift_config). limitCode is the code of a call over the limit,
// 60007 unless the API's page names its own (100012 for the gift configuration, 100422 for
// the mix stream APIs).
type route struct {
	h         func(ctx context.Context, c *call) (any, error)
	fam       errcode.Family
	topLevel  bool
	rate      int
	window    time.Duration
	limitCode int
}

// routeTable lists every API roomd serves, keyed by "service/command".
func (h *Handler) routeTable() map[string]*route {
	live := func(rate int, fn func(context.Context, *call) (any, error)) *route {
		return &route{h: fn, fam: errcode.Live, rate: rate}
	}
	mix := func(rate int, fn func(context.Context, *call) (any, error)) *route {
		return &route{h: fn, fam: errcode.Live, rate: rate, limitCode: errcode.MixRateLimited}
	}
	acct := func(rate int, fn func(context.Context, *call) (any, error)) *route {
		return &route{h: fn, fam: errcode.Account, topLevel: true, rate: rate}
	}
	return map[string]*route{
		"im_open_login_svc/account_import":      acct(200, h.accountImport),
		"im_open_login_svc/multiaccount_import": acct(100, h.multiAccountImport),
		"im_open_login_svc/account_check":       acct(100, h.accountCheck),
		"im_open_login_svc/account_delete":      acct(100, h.accountDelete),
		"profile/portrait_get":                  {h: h.portraitGet, fam: errcode.Profile, topLevel: true, rate: 200},
		"profile/portrait_set":                  {h: h.portraitSet, fam: errcode.Profile, topLevel: true, rate: 200},
		"group_open_http_svc/send_group_msg":    {h: h.sendGroupMsg, fam: errcode.Group, topLevel: true, rate: 200},
		"follow/follow_add":                     {h: h.followAdd, fam: errcode.Relation, topLevel: true, rate: 200},
		"follow/follow_delete":                  {h: h.followDelete, fam: errcode.Relation, topLevel: true, rate: 200},
		"follow/follow_check":                   {h: h.followCheck, fam: errcode.Relation, topLevel: true, rate: 200},
		"follow/follow_get":                     {h: h.followGet, fam: errcode.Relation, topLevel: true, rate: 200},

		"live_engine_http_srv/create_room":       live(200, h.createRoom),
		"live_engine_http_srv/get_room_info":     live(200, h.getRoomInfo),
		"live_engine_http_srv/destroy_room":      live(200, h.destroyRoom),
		"live_engine_http_srv/change_room_owner": live(200, h.changeRoomOwner),

		"live_engine_http_srv/get_member_list":        live(200, h.getMemberList),
		"live_engine_http_srv/modify_admin":           live(200, h.modifyAdmin),
		"live_engine_http_srv/get_admin_list":         live(200, h.getAdminList),
		"live_engine_http_srv/mute_member":            live(200, h.muteMember),
		"live_engine_http_srv/get_muted_member_list":  live(200, h.getMutedMemberList),
		"live_engine_http_srv/ban_member":             live(200, h.banMember),
		"live_engine_http_srv/unban_member":           live(200, h.unbanMember),
		"live_engine_http_srv/get_banned_member_list": live(200, h.getBannedMemberList),
		"live_engine_http_srv/send_text_msg":          live(200, h.sendTextMsg),
		"live_engine_http_srv/send_custom_msg":        live(200, h.sendCustomMsg),

		"live_engine_http_srv/update_room_info":   live(200, h.updateRoomInfo),
		"live_engine_http_srv/get_room_list":      live(10, h.getRoomList),
		"live_engine_http_srv/get_room_stats":     live(100, h.getRoomStats),
		"live_engine_http_srv/get_room_statistic": live(100, h.getRoomStats), // the Manager's alias
		"live_engine_http_srv/set_room_metadata":  live(200, h.setRoomMetadata),
		"live_engine_http_srv/get_room_metadata":  live(200, h.getRoomMetadata),
		"live_engine_http_srv/del_room_metadata":  live(200, h.delRoomMetadata),
		"live_engine_http_srv/add_robot":          live(100, h.addRobot),
		"live_engine_http_srv/get_robot":          live(100, h.getRobot),
		"live_engine_http_srv/del_robot":          live(100, h.delRobot),

		"room_engine_http_mic/get_seat_list":      live(200, h.getSeatList),
		"room_engine_http_mic/pick_user_on_seat":  live(200, h.pickUserOnSeat),
		"room_engine_http_mic/kick_user_off_seat": live(200, h.kickUserOffSeat),
		"room_engine_http_mic/lock_seat":          live(200, h.lockSeat),
		"room_engine_http_mic/switch_seat":        live(200, h.switchSeat),
		"room_engine_http_mic/move_user_to_seat":  live(200, h.moveUserToSeat),

		"live_engine_http_srv/add_gift":                    h.giftConfig(false, h.addGift),
		"live_engine_http_srv/edit_gift":                   h.giftConfig(false, h.editGift),
		"live_engine_http_srv/del_gift":                    h.giftConfig(false, h.delGift),
		"live_engine_http_srv/get_gift":                    h.giftConfig(true, h.getGift),
		"live_engine_http_srv/get_gift_info_list":          h.giftConfig(false, h.getGiftInfoList),
		"live_engine_http_srv/set_gift_language":           h.giftConfig(false, h.setGiftLanguage),
		"live_engine_http_srv/get_gift_language":           h.giftConfig(true, h.getGiftLanguage),
		"live_engine_http_srv/del_gift_language":           h.giftConfig(false, h.delGiftLanguage),
		"live_engine_http_srv/add_gift_category":           h.giftConfig(false, h.addGiftCategory),
		"live_engine_http_srv/edit_gift_category":          h.giftConfig(false, h.editGiftCategory),
		"live_engine_http_srv/del_gift_category":           h.giftConfig(false, h.delGiftCategory),
		"live_engine_http_srv/get_gift_category":           h.giftConfig(true, h.getGiftCategory),
		"live_engine_http_srv/set_gift_category_language":  h.giftConfig(false, h.setGiftCategoryLanguage),
		"live_engine_http_srv/get_gift_category_language":  h.giftConfig(true, h.getGiftCategoryLanguage),
		"live_engine_http_srv/del_gift_category_language":  h.giftConfig(false, h.delGiftCategoryLanguage),
		"live_engine_http_srv/add_gift_category_relations": h.giftConfig(false, h.addGiftCategoryRelations),
		"live_engine_http_srv/del_gift_category_relations": h.giftConfig(false, h.delGiftCategoryRelations),
		"live_engine_http_srv/copy_default_gift_config":    h.copyDefaultGiftConfig(),
		"live_engine_http_srv/send_gift":                   live(200, h.sendGift),
		"live_engine_http_srv/get_gift_count":              live(200, h.getGiftCount),
		"live_engine_http_srv/set_mix_stream":              mix(20, h.setMixStream),
		"live_engine_http_srv/resume_mcu_task":             mix(20, h.resumeMCUTask),

		"live_engine_http_pk/create_battle":    live(200, h.createBattle),
		"live_engine_http_pk/set_battle_score": live(200, h.setBattleScore),
		"live_engine_http_pk/get_battle_info":  live(200, h.getBattleInfo),

		"roomd_recording/report_status": live(200, h.reportRecordingStatus),

		"roomd_delivery/list_events":   live(0, h.listEvents),
		"roomd_delivery/get_event":     live(0, h.getEvent),
		"roomd_delivery/resend_event":  live(0, h.resendEvent),
		"roomd_delivery/redrive":       live(0, h.redrive),
		"roomd_delivery/get_app_state": live(0, h.getAppState),
		"roomd_delivery/stats":         live(0, h.deliveryStats),
		"roomd_delivery/get_settings":  live(0, h.deliverySettings),
		"roomd_delivery/test_callback": live(10, h.testCallback),

		"roomd_room/get_recent_msgs": live(200, h.getRecentMsgs),

		"live_config/set_callback":          live(200, h.setCallback),
		"live_config/update_callback":       live(200, h.updateCallback),
		"live_config/get_callback":          live(200, h.getCallback),
		"live_config/set_callback_token":    live(200, h.setCallbackToken),
		"live_config/delete_callback_token": live(200, h.deleteCallbackToken),
	}
}
