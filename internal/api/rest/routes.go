package rest

import (
	"context"

	"github.com/roomd/roomd/internal/errcode"
)

// route is one REST API: its handler, the code family of its errors, whether its payload
// sits at the top level of the envelope (IM account APIs) instead of under Response, and
// its default frequency limit per second, from the API's page: 200 for most, 100 for
// robots, get_room_stats and the batch account APIs, 20 for the mix stream APIs, 10 for
// get_room_list.
type route struct {
	h        func(ctx context.Context, c *call) (any, error)
	fam      errcode.Family
	topLevel bool
	rate     int
	// limitCode, when set, is the code of the API's own frequency limit (100422 for the mix
	// stream APIs) instead of 60007.
	limitCode int
}

// limited returns the error of a call over the route's frequency limit: err (60007), or the
// same text with the route's own code.
func (rt *route) limited(err error) error {
	if rt.limitCode == 0 {
		return err
	}
	return errcode.New(rt.limitCode, err.Error())
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

		"live_engine_http_srv/set_mix_stream":  mix(20, h.setMixStream),
		"live_engine_http_srv/resume_mcu_task": mix(20, h.resumeMCUTask),

		"live_engine_http_pk/create_battle":    live(200, h.createBattle),
		"live_engine_http_pk/set_battle_score": live(200, h.setBattleScore),
		"live_engine_http_pk/get_battle_info":  live(200, h.getBattleInfo),

		"roomd_recording/report_status": live(200, h.reportRecordingStatus),

		"roomd_delivery/list_events":  live(0, h.listEvents),
		"roomd_delivery/get_event":    live(0, h.getEvent),
		"roomd_delivery/resend_event": live(0, h.resendEvent),
		"roomd_delivery/redrive":      live(0, h.redrive),

		"live_config/set_callback":          live(200, h.setCallback),
		"live_config/update_callback":       live(200, h.updateCallback),
		"live_config/get_callback":          live(200, h.getCallback),
		"live_config/set_callback_token":    live(200, h.setCallbackToken),
		"live_config/delete_callback_token": live(200, h.deleteCallbackToken),
	}
}
