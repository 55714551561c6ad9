package app_test

import (
	"context"
	"encoding/json"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/roomd/roomd/client"
	"github.com/roomd/roomd/internal/app"
)

// Conformance of the battle APIs (live_engine_http_pk), the mix stream APIs and
// roomd_recording/report_status, and the battle life cycle end to end: REST, the client API,
// the timer loop and a restart, with a real callback receiver.

const (
	pk               = "live_engine_http_pk/"
	cmdCreateBattle  = "Live.CallbackAfterCreateBattle"
	cmdStartBattle   = "Live.CallbackAfterStartBattle"
	cmdEndBattle     = "Live.CallbackAfterEndBattle"
	cmdRecording     = "Live.CallbackAfterCloudRecordingChanged"
	cmdRecordingEnUS = "Follow.CallbackAfterCloudRecordingChanged"
)

// startWithBattleCallbacks starts roomd on a manual clock at clockStart with a receiver for
// the battle callbacks and the recording callback; golden files in testdata/battles. Rooms
// a1, b1, c1, d1 are owned by a, b, c, d.
func startWithBattleCallbacks(t *testing.T, cmds []string, opts ...serverOption) *confEnv {
	t.Helper()
	if cmds == nil {
		cmds = []string{cmdCreateBattle, cmdStartBattle, cmdEndBattle, cmdRecording}
	}
	e := startConformance(t, "battles", clockStart, cmds, opts...)
	e.importAccounts("a", "b", "c", "d")
	for _, u := range []string{"a", "b", "c", "d"} {
		e.createRoom(u+"1", u)
	}
	return e
}

var battleIDRe = regexp.MustCompile(`"(BattleId|battleId)":"[A-Za-z0-9+/]{43}="`)

// normalizeBattle replaces random BattleIds by a fixed one.
func normalizeBattle(b []byte) []byte {
	return battleIDRe.ReplaceAll(b, []byte(`"$1":"BATTLE/ID/0000000000000000000000000000000000="`))
}

// battle creates a battle through REST and returns its id.
func (e *confEnv) battle(t *testing.T, body map[string]any) string {
	t.Helper()
	r := response[struct{ BattleId string }](t, mustOK(t, e.call(pk+"create_battle", body)))
	if r.BattleId == "" {
		t.Fatalf("create_battle %v created no battle", body)
	}
	return r.BattleId
}

// battleInfo returns get_battle_info's Response.
func (e *confEnv) battleInfo(t *testing.T, id string) battleInfoReply {
	t.Helper()
	return response[battleInfoReply](t, mustOK(t, e.call(pk+"get_battle_info", map[string]string{"BattleId": id})))
}

type battleRoomReply struct {
	RoomId, Owner_Account string
	Score                 int64
}

type battleInfoReply struct {
	BattleId                     string
	Duration, StartTime, EndTime int64
	Status                       int
	FromRoomInfo                 battleRoomReply
	ToRoomList                   []battleRoomReply
}

// battleSnapshot is the conformance snapshot plus get_battle_info of the battles named.
func (e *confEnv) battleSnapshot(rooms []string, battles []string) string {
	var b strings.Builder
	b.WriteString(e.snapshot(rooms...))
	for _, id := range battles {
		env := e.call(pk+"get_battle_info", map[string]string{"BattleId": id})
		fmt.Fprintf(&b, "battle %s: %d %s\n", id, env.ErrorCode, env.Response)
	}
	return b.String()
}

// runAt runs conformance rows against a path outside live_engine_http_srv; a failing row
// must leave the battle snapshot unchanged. battles is read at each row, so rows may add to
// it.
func (e *confEnv) runAt(t *testing.T, path string, rooms []string, battles *[]string, cases []confCase) {
	t.Helper()
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var before string
			if c.code != 0 {
				before = e.battleSnapshot(rooms, *battles)
			}
			env := e.call(path, c.body)
			if c.code == 0 {
				mustOK(t, env)
			} else {
				mustFail(t, env, c.code)
				if after := e.battleSnapshot(rooms, *battles); after != before {
					t.Errorf("rejected request changed state:\nbefore:\n%s\nafter:\n%s", before, after)
				}
			}
			if c.golden != "" {
				e.golden(t, c.golden, normalizeBattle(normalizeReply(env.Raw)))
			}
			if c.check != nil {
				c.check(t, env)
			}
		})
	}
}

func battleBody(from string, to []string, extra ...any) map[string]any {
	b := map[string]any{"FromRoomId": from, "ToRoomIdList": to, "Duration": 60000}
	for i := 0; i+1 < len(extra); i += 2 {
		b[extra[i].(string)] = extra[i+1]
	}
	return b
}

func TestCreateBattle(t *testing.T) {
	e := startWithBattleCallbacks(t, nil)
	e.importAccounts("e", "f", "g", "h", "i", "j")
	for _, u := range []string{"e", "f", "g", "h", "i", "j"} {
		e.createRoom(u+"1", u)
	}
	rooms := []string{"a1", "b1", "c1", "d1"}
	var battles []string
	keep := func(t *testing.T, env envelope) {
		r := response[struct{ BattleId string }](t, env)
		if r.BattleId != "" {
			battles = append(battles, r.BattleId)
		}
	}
	nine := []string{"b1", "c1", "d1", "e1", "f1", "g1", "h1", "i1", "j1"}
	e.runAt(t, pk+"create_battle", rooms, &battles, []confCase{
		{name: "started at once", body: battleBody("a1", []string{"b1"}, "ExtensionInfo", "extension pk"), golden: "create_battle_reply", check: keep},
		{name: "FromRoomId missing", body: map[string]any{"ToRoomIdList": []string{"c1"}, "Duration": 1000}, code: 100002},
		{name: "FromRoomId 49 bytes", body: battleBody(rep("r", 49), []string{"c1"}), code: 100002},
		{name: "ToRoomIdList missing", body: map[string]any{"FromRoomId": "c1", "Duration": 1000}, code: 100002},
		{name: "ToRoomIdList empty", body: battleBody("c1", []string{}), code: 100002},
		{name: "ToRoomIdList of 9 rooms", body: battleBody("a1", nine), code: 100002},
		{name: "ToRoomIdList names FromRoomId", body: battleBody("c1", []string{"d1", "c1"}), code: 100002},
		{name: "ToRoomIdList not an array", body: `{"FromRoomId":"c1","ToRoomIdList":"d1","Duration":1000}`, code: 100002},
		{name: "Duration missing", body: map[string]any{"FromRoomId": "c1", "ToRoomIdList": []string{"d1"}}, code: 100002},
		{name: "Duration negative", body: battleBody("c1", []string{"d1"}, "Duration", -1), code: 100002},
		{name: "Duration over a day", body: battleBody("c1", []string{"d1"}, "Duration", 86400001), code: 100002},
		{name: "Duration not a number", body: battleBody("c1", []string{"d1"}, "Duration", "60000"), code: 100002},
		{name: "Timeout over an hour", body: battleBody("c1", []string{"d1"}, "NeedResponse", true, "Timeout", 3600001), code: 100002},
		{name: "ExtensionInfo over 2048 bytes", body: battleBody("c1", []string{"d1"}, "ExtensionInfo", rep("x", 2049)), code: 100002},
		{name: "FromRoomId does not exist", body: battleBody("nope", []string{"d1"}), code: 100004},
		{name: "an invited room does not exist", body: battleBody("c1", []string{"d1", "nope"}), code: 100004},
		{name: "FromRoomId already in a battle", body: battleBody("a1", []string{"c1"}), code: 100006},
		{name: "invited room already in a battle is left out", body: battleBody("c1", []string{"b1", "d1", "d1"}, "NeedResponse", true, "Timeout", 30000),
			golden: "create_battle_partial_reply", check: keep},
		{name: "every invited room busy: no battle", body: battleBody("e1", []string{"a1", "b1"}), check: func(t *testing.T, env envelope) {
			r := response[struct {
				BattleId string
				Result   []struct{ ResultCode int }
			}](t, env)
			if r.BattleId != "" || len(r.Result) != 2 || r.Result[0].ResultCode != 3 || r.Result[1].ResultCode != 3 {
				t.Errorf("Response %s", env.Response)
			}
		}},
		{name: "body not JSON", body: `{"FromRoomId":`, code: 60003},
	})
	if len(battles) != 2 {
		t.Fatalf("battles %v", battles)
	}
	// An invited room still asked (d1 in the second battle) is not busy: a third battle may
	// invite it.
	battles = append(battles, e.battle(t, battleBody("e1", []string{"d1"}, "NeedResponse", true)))
	if len(e.events(cmdCreateBattle)) != 3 || len(e.events(cmdStartBattle)) != 1 {
		t.Errorf("%d create, %d start callbacks stored", len(e.events(cmdCreateBattle)), len(e.events(cmdStartBattle)))
	}
	cbs := []callbackRequest{e.callbackWith(t, cmdCreateBattle, `"FromRoomId":"a1"`), e.callbackWith(t, cmdCreateBattle, `"FromRoomId":"c1"`)}
	e.golden(t, "create_battle_callbacks", normalizeBattle(renderCallbacks(cbs)))
	e.golden(t, "start_battle_callback", normalizeBattle(renderCallbacks(e.callbacksOf(t, cmdStartBattle, 1))))
	e.golden(t, "get_battle_info_requested", normalizeBattle(normalizeReply(e.call(pk+"get_battle_info", map[string]string{"BattleId": battles[1]}).Raw)))
}

func TestSetBattleScore(t *testing.T) {
	e := startWithBattleCallbacks(t, nil)
	running := e.battle(t, battleBody("a1", []string{"b1"}))
	requested := e.battle(t, battleBody("c1", []string{"d1"}, "NeedResponse", true))
	battles := []string{running, requested}
	rooms := []string{"a1", "b1"}
	scores := func(op int, pairs ...any) map[string]any {
		var list []map[string]any
		for i := 0; i+1 < len(pairs); i += 2 {
			list = append(list, map[string]any{"RoomId": pairs[i], "Score": pairs[i+1]})
		}
		return map[string]any{"BattleId": running, "OpType": op, "ScoreList": list}
	}
	want := func(a, b int64) func(t *testing.T, env envelope) {
		return func(t *testing.T, env envelope) {
			info := e.battleInfo(t, running)
			if info.FromRoomInfo.Score != a || len(info.ToRoomList) != 1 || info.ToRoomList[0].Score != b {
				t.Errorf("scores %d and %+v, want %d and %d", info.FromRoomInfo.Score, info.ToRoomList, a, b)
			}
		}
	}
	e.runAt(t, pk+"set_battle_score", rooms, &battles, []confCase{
		{name: "overwrite", body: scores(2, "a1", 10, "b1", 20), golden: "set_battle_score_reply", check: want(10, 20)},
		{name: "add", body: scores(1, "b1", 5), check: want(10, 25)},
		{name: "overwrite to the limit", body: scores(2, "a1", 2147483647), check: want(2147483647, 25)},
		{name: "add past the limit", body: scores(1, "a1", 1), code: 100002},
		{name: "score negative", body: scores(2, "a1", -1), code: 100002},
		{name: "score too large", body: scores(2, "a1", 2147483648), code: 100002},
		{name: "OpType missing", body: scores(0, "a1", 1), code: 100002},
		{name: "OpType 3", body: scores(3, "a1", 1), code: 100002},
		{name: "ScoreList empty", body: map[string]any{"BattleId": running, "OpType": 1, "ScoreList": []any{}}, code: 100002},
		{name: "room twice", body: scores(1, "b1", 1, "b1", 1), code: 100002},
		{name: "room not in the battle", body: scores(1, "b1", 1, "c1", 1), code: 100002},
		{name: "BattleId missing", body: map[string]any{"OpType": 1, "ScoreList": []any{map[string]any{"RoomId": "a1", "Score": 1}}}, code: 100002},
		{name: "BattleId unknown", body: map[string]any{"BattleId": "nope", "OpType": 1, "ScoreList": []any{map[string]any{"RoomId": "a1", "Score": 1}}}, code: 100002},
		{name: "battle not started", body: map[string]any{"BattleId": requested, "OpType": 1, "ScoreList": []any{map[string]any{"RoomId": "c1", "Score": 1}}}, code: 100006},
		{name: "Score not a number", body: `{"BattleId":"x","OpType":1,"ScoreList":[{"RoomId":"a1","Score":"1"}]}`, code: 100002},
	})
	// The battle's time is up: the timer loop ends it with the scores, and scores are refused.
	e.clk.Advance(time.Minute)
	end := e.callbackWith(t, cmdEndBattle, `"FromRoomInfo":{"RoomId":"a1"`)
	e.golden(t, "end_battle_callback", normalizeBattle(renderCallbacks([]callbackRequest{end})))
	mustFail(t, e.call(pk+"set_battle_score", scores(1, "a1", 1)), 100006)
	e.golden(t, "get_battle_info_ended", normalizeBattle(normalizeReply(e.call(pk+"get_battle_info", map[string]string{"BattleId": running}).Raw)))
}

func TestGetBattleInfo(t *testing.T) {
	e := startWithBattleCallbacks(t, nil)
	id := e.battle(t, battleBody("a1", []string{"b1"}))
	var battles []string
	e.runAt(t, pk+"get_battle_info", nil, &battles, []confCase{
		{name: "running", body: map[string]string{"BattleId": id}, golden: "get_battle_info_running", check: func(t *testing.T, env envelope) {
			r := response[battleInfoReply](t, env)
			if r.Status != 2 || r.StartTime != startUnix || r.EndTime != startUnix+60 || r.Duration != 60000 {
				t.Errorf("%+v", r)
			}
		}},
		{name: "by RoomId (older form)", body: map[string]string{"RoomId": "b1"}, check: func(t *testing.T, env envelope) {
			if r := response[battleInfoReply](t, env); r.BattleId != id {
				t.Errorf("%+v", r)
			}
		}},
		{name: "RoomId in no battle", body: map[string]string{"RoomId": "c1"}, code: 100002},
		{name: "BattleId missing", body: `{}`, code: 100002},
		{name: "BattleId unknown", body: map[string]string{"BattleId": "nope"}, code: 100002},
		{name: "BattleId not a string", body: `{"BattleId":1}`, code: 100002},
	})
}

func mixBody(room string, mode int, layouts ...map[string]any) map[string]any {
	b := map[string]any{"RoomId": room, "LayoutMode": mode}
	if layouts != nil {
		b["LayoutInfo"] = map[string]any{"LayoutList": layouts}
	}
	return b
}

func layout(user string, w int) map[string]any {
	return map[string]any{"LocationX": 0, "LocationY": 0, "ImageWidth": w, "ImageHeight": 640, "Member_Account": user, "StreamType": 0, "ZOrder": 1}
}

func TestMixStream(t *testing.T) {
	e := startWithBattleCallbacks(t, nil, withRateLimits(nil))
	e.create(map[string]any{"RoomId": "mix", "Owner_Account": "a", "IsUnlimitedRoomEnabled": true})
	var none []string
	mixOf := func(t *testing.T) string {
		return string(mustOK(t, e.call(svc+"resume_mcu_task", map[string]string{"RoomId": "mix"})).Response)
	}
	e.runAt(t, svc+"resume_mcu_task", []string{"mix"}, &none, []confCase{
		{name: "default nine-grid before any set", body: map[string]string{"RoomId": "mix"}, golden: "resume_mcu_task_default_reply"},
		{name: "room without IsUnlimitedRoomEnabled", body: map[string]string{"RoomId": "a1"}, code: 100006},
		{name: "room does not exist", body: map[string]string{"RoomId": "nope"}, code: 100004},
		{name: "RoomId missing", body: `{}`, code: 100002},
	})
	var sixteen []map[string]any
	for i := range 17 {
		sixteen = append(sixteen, layout(fmt.Sprint("u", i), 360))
	}
	e.runAt(t, svc+"set_mix_stream", []string{"mix"}, &none, []confCase{
		{name: "custom layout", body: map[string]any{"RoomId": "mix", "LayoutMode": 1000, "VideoEncode": map[string]int{"Width": 1080, "Height": 1920},
			"LayoutInfo": map[string]any{"LayoutList": []any{layout("a", 1080), map[string]any{"LocationX": 700, "LocationY": 100, "ImageWidth": 300,
				"ImageHeight": 400, "RoomId": "b1", "Member_Account": "b", "StreamType": 1, "ZOrder": 2}}}},
			golden: "set_mix_stream_reply"},
		{name: "nine-grid drops LayoutInfo", body: mixBody("mix", 0, layout("a", 10)), check: func(t *testing.T, env envelope) {
			if strings.Contains(string(env.Response), "LayoutInfo") || !strings.Contains(string(env.Response), `"Width":720,"Height":1280`) {
				t.Errorf("Response %s", env.Response)
			}
		}},
		{name: "LayoutMode 5", body: mixBody("mix", 5), code: 100002},
		{name: "custom without LayoutList", body: mixBody("mix", 1000), code: 100002},
		{name: "17 layouts", body: mixBody("mix", 1000, sixteen...), code: 100002},
		{name: "layout without Member_Account", body: mixBody("mix", 1000, layout("", 10)), code: 100002},
		{name: "layout of width 0", body: mixBody("mix", 1000, layout("a", 0)), code: 100002},
		{name: "ZOrder 16", body: mixBody("mix", 1000, map[string]any{"ImageWidth": 1, "ImageHeight": 1, "Member_Account": "a", "ZOrder": 16}), code: 100002},
		{name: "VideoEncode with one side", body: map[string]any{"RoomId": "mix", "VideoEncode": map[string]int{"Width": 720}}, code: 100002},
		{name: "room without IsUnlimitedRoomEnabled", body: mixBody("a1", 0), code: 100006},
		{name: "room does not exist", body: mixBody("nope", 0), code: 100004},
		{name: "LayoutMode not a number", body: `{"RoomId":"mix","LayoutMode":"0"}`, code: 100002},
	})
	// resume_mcu_task keeps the configuration and counts the restarts.
	if got := mixOf(t); !strings.Contains(got, `"LayoutMode":0`) || !strings.Contains(got, `"ResumeCount":2`) {
		t.Errorf("resume_mcu_task after a set: %s", got)
	}
	// Both APIs answer 100422 past 20 calls a second (their own rate), and change nothing.
	stored := func() string {
		m, err := e.Srv.Store().MixStreamGet(context.Background(), testApp, "mix")
		if err != nil {
			t.Fatal(err)
		}
		return fmt.Sprintf("%s %d %v", m.Config, m.Resumes, m.ResumedAt)
	}
	for _, api := range []string{"resume_mcu_task", "set_mix_stream"} {
		e.clk.Advance(time.Second)
		for range 20 {
			mustFail(t, e.call(svc+api, mixBody("nope", 0)), 100004)
		}
		before := stored()
		env := e.call(svc+api, mixBody("mix", 1000, layout("a", 10)))
		mustFail(t, env, 100422)
		if after := stored(); after != before {
			t.Errorf("a rate-limited %s changed the configuration:\n%s\n%s", api, before, after)
		}
		if api == "resume_mcu_task" {
			e.golden(t, "mix_rate_limited_reply", normalizeReply(env.Raw))
		}
	}
	e.clk.Advance(time.Second)
	// The mix configuration goes with its room.
	mustOK(t, e.call(svc+"destroy_room", `{"RoomId":"mix"}`))
	e.create(map[string]any{"RoomId": "mix", "Owner_Account": "a", "IsUnlimitedRoomEnabled": true})
	if got := mixOf(t); !strings.Contains(got, `"ResumeCount":1`) {
		t.Errorf("a re-created room kept its mix configuration: %s", got)
	}
}

func TestReportRecordingStatus(t *testing.T) {
	e := startWithBattleCallbacks(t, nil)
	var none []string
	e.runAt(t, "roomd_recording/report_status", []string{"a1"}, &none, []confCase{
		{name: "upload finished", body: map[string]any{"RoomId": "a1", "EventType": 305, "UserId": "a", "TaskId": "task-1",
			"EventMsTs": startUnix*1000 - 1, "Payload": map[string]any{"Status": 0}}, golden: "report_status_reply"},
		{name: "room gone: still reported", body: map[string]any{"RoomId": "gone", "EventType": 302, "EventGroupId": 8}},
		{name: "RoomId missing", body: map[string]any{"EventType": 301}, code: 100002},
		{name: "EventType missing", body: map[string]any{"RoomId": "a1"}, code: 100002},
		{name: "EventType 400", body: map[string]any{"RoomId": "a1", "EventType": 400}, code: 100002},
		{name: "EventGroupId 4", body: map[string]any{"RoomId": "a1", "EventType": 301, "EventGroupId": 4}, code: 100002},
		{name: "Payload not an object", body: map[string]any{"RoomId": "a1", "EventType": 301, "Payload": []int{1}}, code: 100002},
		{name: "Payload too large", body: map[string]any{"RoomId": "a1", "EventType": 301, "Payload": map[string]string{"x": rep("x", 4096)}}, code: 100002},
		{name: "TaskId too long", body: map[string]any{"RoomId": "a1", "EventType": 301, "TaskId": rep("t", 257)}, code: 100002},
		{name: "EventMsTs negative", body: map[string]any{"RoomId": "a1", "EventType": 301, "EventMsTs": -1}, code: 100002},
	})
	// Rooms are delivered independently: the callbacks are picked by room.
	cbs := []callbackRequest{e.callbackWith(t, cmdRecording, `"RoomId":"a1"`), e.callbackWith(t, cmdRecording, `"RoomId":"gone"`)}
	e.golden(t, "recording_changed_callbacks", renderCallbacks(cbs))
}

// An app that switched on the English page's spelling gets the callback under that word.
func TestRecordingCallbackUnderFollowSpelling(t *testing.T) {
	e := startWithBattleCallbacks(t, []string{cmdRecordingEnUS})
	mustOK(t, e.call("roomd_recording/report_status", map[string]any{"RoomId": "a1", "EventType": 301}))
	cb := e.callbacksOf(t, cmdRecordingEnUS, 1)[0]
	if cb.Query.Get("CallbackCommand") != cmdRecordingEnUS || !strings.Contains(string(cb.Body), `"EventType":301`) {
		t.Errorf("callback %s %s", cb.Query, cb.Body)
	}
	if n := len(e.events(cmdRecording)); n != 0 {
		t.Errorf("%d events stored under the Live. word", n)
	}
}

// bodyOf decodes a callback body.
func bodyOf(t *testing.T, cb callbackRequest) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(cb.Body, &m); err != nil {
		t.Fatal(err)
	}
	return m
}

// A battle requested through REST that nobody answers times out: the timer loop ends it,
// never started (OpType 2); one created without NeedResponse ends when its time is up.
func TestBattleLifecycleREST(t *testing.T) {
	e := startWithBattleCallbacks(t, nil)
	asked := e.battle(t, battleBody("a1", []string{"b1", "c1"}, "NeedResponse", true, "Timeout", 5000))
	e.clk.Advance(4999 * time.Millisecond)
	if _, err := e.Srv.Rooms.RunDueBattles(context.Background()); err != nil {
		t.Fatal(err)
	}
	if info := e.battleInfo(t, asked); info.Status != 1 {
		t.Fatalf("status %d before the timeout", info.Status)
	}
	e.clk.Advance(time.Millisecond)
	end := e.callbacksOf(t, cmdEndBattle, 1)[0]
	if b := bodyOf(t, end); b["OpType"] != 2.0 || b["StartTime"] != 0.0 || len(b["ToRoomList"].([]any)) != 0 {
		t.Errorf("end of an unanswered battle: %s", end.Body)
	}
	if n := len(e.events(cmdStartBattle)); n != 0 {
		t.Errorf("%d start callbacks for a battle nobody joined", n)
	}
	// Rooms are free again: a battle of a1 and b1 runs for its Duration.
	running := e.battle(t, battleBody("a1", []string{"b1"}, "Duration", 30000))
	mustOK(t, e.call(pk+"set_battle_score", map[string]any{"BattleId": running, "OpType": 1, "ScoreList": []any{map[string]any{"RoomId": "b1", "Score": 7}}}))
	e.clk.Advance(30 * time.Second)
	ends := e.callbacksOf(t, cmdEndBattle, 2)
	if b := bodyOf(t, ends[1]); b["OpType"] != 0.0 || b["EndTime"] != float64(startUnix+35) || !strings.Contains(string(ends[1].Body), `"Score":7`) {
		t.Errorf("end of a battle whose time is up: %s", ends[1].Body)
	}
	if info := e.battleInfo(t, running); info.Status != 3 || info.EndTime != startUnix+35 {
		t.Errorf("get_battle_info after the end: %+v", info)
	}
	// Callbacks of one battle arrive in order: create, start, end.
	var order []string
	for _, cb := range e.rc.Unique() {
		if strings.Contains(string(cb.Body), running) {
			order = append(order, cb.Command)
		}
	}
	if strings.Join(order, " ") != cmdCreateBattle+" "+cmdStartBattle+" "+cmdEndBattle {
		t.Errorf("callbacks of the battle in order %v", order)
	}
}

// A requested battle's timer survives a restart: the new process ends it when its Timeout
// is up, and a running battle's end comes after the restart too.
func TestBattleTimersSurviveRestart(t *testing.T) {
	e := startWithBattleCallbacks(t, nil)
	asked := e.battle(t, battleBody("a1", []string{"b1"}, "NeedResponse", true, "Timeout", 10000))
	running := e.battle(t, battleBody("c1", []string{"d1"}, "Duration", 20000))
	e.callbacksOf(t, cmdStartBattle, 1)
	e.Close()
	clk := &manualClock{t: e.clk.Now().Add(15 * time.Second)}
	ts := startServerIn(t, e.Dir, app.Options{Now: clk.Now}, withCallback(e.rc.URL()+"/cb", cmdCreateBattle, cmdStartBattle, cmdEndBattle))
	e2 := &confEnv{testServer: ts, rc: e.rc, clk: clk, goldenDir: "battles"}
	cb := e2.callbackWith(t, cmdEndBattle, asked)
	if b := bodyOf(t, cb); b["OpType"] != 2.0 || b["EndTime"] != float64(startUnix+15) {
		t.Errorf("end after the restart: %s", cb.Body)
	}
	if info := e2.battleInfo(t, running); info.Status != 2 {
		t.Errorf("the running battle ended early: %+v", info)
	}
	clk.Advance(5 * time.Second)
	cb = e2.callbackWith(t, cmdEndBattle, running)
	if b := bodyOf(t, cb); b["OpType"] != 0.0 || b["EndTime"] != float64(startUnix+20) {
		t.Errorf("end of the running battle after the restart: %s", cb.Body)
	}
}

// host is one connected host for the client tests.
type host struct {
	t *testing.T
	c *client.Conn
}

func (e *confEnv) host(t *testing.T, user, roomID string) *host {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	url := "ws" + strings.TrimPrefix(e.Base, "http") + "/v1/client"
	c, err := client.Dial(ctx, url, client.Options{SDKAppID: testApp, UserID: user, UserSig: e.userSig(user), Platform: "iOS"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	h := &host{t: t, c: c}
	h.call("enterRoom", map[string]string{"roomId": roomID}, nil)
	return h
}

func (h *host) call(method string, params, result any) {
	h.t.Helper()
	if err := h.try(method, params, result); err != nil {
		h.t.Fatalf("%s: %v", method, err)
	}
}

func (h *host) try(method string, params, result any) error {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	return h.c.Call(ctx, method, params, result)
}

// wait returns the params of the next push of method, skipping others.
func (h *host) wait(method string) map[string]any {
	h.t.Helper()
	deadline := time.After(10 * time.Second)
	for {
		select {
		case n := <-h.c.Notifications():
			if n.Method == method {
				var m map[string]any
				json.Unmarshal(n.Params, &m)
				return m
			}
		case <-deadline:
			h.t.Fatalf("no %s within 10s", method)
		}
	}
}

// The whole life cycle from the client: a host requests, the invited host is asked and
// accepts, both rooms see the start and the scores, one host exits and the battle ends
// (OpType 1); a rejected request ends a battle that never started (OpType 2).
func TestBattleLifecycleClient(t *testing.T) {
	e := startWithBattleCallbacks(t, nil)
	a, b := e.host(t, "a", "a1"), e.host(t, "b", "b1")
	var req struct {
		BattleID   string `json:"battleId"`
		ResultList []struct {
			RoomID string `json:"roomId"`
			Code   int    `json:"code"`
		} `json:"resultList"`
	}
	a.call("requestBattle", map[string]any{"roomId": "a1", "roomIdList": []string{"b1"}, "timeout": 10,
		"config": map[string]any{"duration": 60, "needResponse": true, "extensionInfo": "x"}}, &req)
	if req.BattleID == "" || len(req.ResultList) != 1 || req.ResultList[0].Code != 0 {
		t.Fatalf("requestBattle: %+v", req)
	}
	got := b.wait("onBattleRequestReceived")
	if got["battleId"] != req.BattleID || got["inviter"].(map[string]any)["userId"] != "a" {
		t.Errorf("onBattleRequestReceived %v", got)
	}
	// Only the invited host may answer, and only from its room.
	if err := a.try("acceptBattle", map[string]string{"battleId": req.BattleID}, nil); err == nil {
		t.Error("the inviting host accepted its own request")
	}
	if err := b.try("acceptBattle", map[string]string{"battleId": "nope"}, nil); err == nil || !strings.Contains(err.Error(), "100002") {
		t.Errorf("accept of an unknown battle: %v", err)
	}
	b.call("acceptBattle", map[string]string{"battleId": req.BattleID}, nil)
	a.wait("onBattleRequestAccept")
	for _, h := range []*host{a, b} {
		started := h.wait("onBattleStarted")["battleInfo"].(map[string]any)
		if started["startTime"] != float64(startUnix) || len(started["inviteeList"].([]any)) != 1 {
			t.Errorf("onBattleStarted %v", started)
		}
	}
	// Answering twice is refused and changes nothing.
	if err := b.try("acceptBattle", map[string]string{"battleId": req.BattleID}, nil); err == nil || !strings.Contains(err.Error(), "100006") {
		t.Errorf("second accept: %v", err)
	}
	mustOK(t, e.call(pk+"set_battle_score", map[string]any{"BattleId": req.BattleID, "OpType": 2, "ScoreList": []any{map[string]any{"RoomId": "a1", "Score": 3}}}))
	if users := b.wait("onBattleScoreChanged")["battleUserList"].([]any); users[0].(map[string]any)["score"] != 3.0 {
		t.Errorf("onBattleScoreChanged %v", users)
	}
	e.clk.Advance(10 * time.Second)
	b.call("exitBattle", map[string]string{"battleId": req.BattleID}, nil)
	if u := a.wait("onUserExitBattle")["battleUser"].(map[string]any); u["roomId"] != "b1" {
		t.Errorf("onUserExitBattle %v", u)
	}
	if ended := a.wait("onBattleEnded"); ended["reason"] != "otherExit" {
		t.Errorf("onBattleEnded %v", ended)
	}
	e.golden(t, "client_battle_callbacks", normalizeBattle(renderCallbacks(append(append(e.callbacksOf(t, cmdCreateBattle, 1),
		e.callbacksOf(t, cmdStartBattle, 1)...), e.callbacksOf(t, cmdEndBattle, 1)...))))

	// A rejected request: the inviter is told, the battle ends never started.
	a.call("requestBattle", map[string]any{"roomId": "a1", "roomIdList": []string{"b1"}, "config": map[string]any{"duration": 60, "needResponse": true}}, &req)
	b.wait("onBattleRequestReceived")
	b.call("rejectBattle", map[string]string{"battleId": req.BattleID}, nil)
	a.wait("onBattleRequestReject")
	cb := e.callbackWith(t, cmdEndBattle, req.BattleID)
	if body := bodyOf(t, cb); body["OpType"] != 2.0 || cb.Query.Get("OptPlatform") != "iOS" {
		t.Errorf("end of a rejected battle: %s %s", cb.Query, cb.Body)
	}

	// A request nobody answers times out for both hosts; a withdrawn one is cancelled.
	a.call("requestBattle", map[string]any{"roomId": "a1", "roomIdList": []string{"b1"}, "timeout": 5, "config": map[string]any{"duration": 60, "needResponse": true}}, &req)
	b.wait("onBattleRequestReceived")
	e.clk.Advance(5 * time.Second)
	a.wait("onBattleRequestTimeout")
	b.wait("onBattleRequestTimeout")
	a.call("requestBattle", map[string]any{"roomId": "a1", "roomIdList": []string{"b1"}, "config": map[string]any{"duration": 60, "needResponse": true}}, &req)
	b.wait("onBattleRequestReceived")
	a.call("exitBattle", map[string]string{"battleId": req.BattleID}, nil)
	b.wait("onBattleRequestCancelled")
	if info := e.battleInfo(t, req.BattleID); info.Status != 3 {
		t.Errorf("a cancelled battle: %+v", info)
	}

	// A host requests only from a room it owns and has entered.
	if err := b.try("requestBattle", map[string]any{"roomId": "a1", "roomIdList": []string{"c1"}, "config": map[string]any{"duration": 60}}, nil); err == nil || !strings.Contains(err.Error(), "100005") {
		t.Errorf("request from a room not entered: %v", err)
	}
	if err := a.try("requestBattle", map[string]any{"roomId": "a1", "roomIdList": []string{"c1"}, "config": map[string]any{"duration": 0}}, nil); err == nil || !strings.Contains(err.Error(), "100002") {
		t.Errorf("request without a duration: %v", err)
	}
}

// Destroying a room in a battle ends the battle (here of two rooms) before the room goes:
// through the client, the other host is pushed the exit and the end, and the App backend
// gets Live.CallbackAfterEndBattle with OpType 1 from the destroyer's platform before the
// destroy callback; through REST likewise, from RESTAPI.
func TestBattleEndsWhenRoomDestroyed(t *testing.T) {
	e := startWithBattleCallbacks(t, []string{cmdCreateBattle, cmdStartBattle, cmdEndBattle, cmdDestroy})
	a, b := e.host(t, "a", "a1"), e.host(t, "b", "b1")
	id := e.battle(t, map[string]any{"FromRoomId": "a1", "ToRoomIdList": []string{"b1"}, "Duration": 60000})
	b.wait("onBattleStarted")
	a.call("destroyRoom", map[string]string{"roomId": "a1"}, nil)
	if u := b.wait("onUserExitBattle")["battleUser"].(map[string]any); u["roomId"] != "a1" {
		t.Errorf("onUserExitBattle %v", u)
	}
	if ended := b.wait("onBattleEnded"); ended["reason"] != "otherExit" {
		t.Errorf("onBattleEnded %v", ended)
	}
	cb := e.callbackWith(t, cmdEndBattle, id)
	if body := bodyOf(t, cb); body["OpType"] != 1.0 || cb.Query.Get("OptPlatform") != "iOS" {
		t.Errorf("end of the battle of a destroyed room: %s %s", cb.Query, cb.Body)
	}
	if info := e.battleInfo(t, id); info.Status != 3 {
		t.Errorf("battle of a destroyed room: %+v", info)
	}
	got := e.rc.WaitFor(t, "a1's destroy callback", 10*time.Second, func(g []callbackRequest) bool { return len(callbacksOf(g, cmdDestroy)) == 1 })
	if end, destroy := slices.IndexFunc(got, func(r callbackRequest) bool { return r.Command == cmdEndBattle }),
		slices.IndexFunc(got, func(r callbackRequest) bool { return r.Command == cmdDestroy }); end > destroy {
		t.Errorf("the destroy callback came before the battle's end")
	}

	// Through REST: b1 and c1 battle, c1 is destroyed.
	id = e.battle(t, map[string]any{"FromRoomId": "b1", "ToRoomIdList": []string{"c1"}, "Duration": 60000})
	mustOK(t, e.call("live_engine_http_srv/destroy_room", map[string]string{"RoomId": "c1"}))
	if ended := b.wait("onBattleEnded"); ended["reason"] != "otherExit" {
		t.Errorf("onBattleEnded %v", ended)
	}
	cb = e.callbackWith(t, cmdEndBattle, id)
	if body := bodyOf(t, cb); body["OpType"] != 1.0 || cb.Query.Get("OptPlatform") != "RESTAPI" {
		t.Errorf("end of the battle of a room destroyed through REST: %s %s", cb.Query, cb.Body)
	}
}
