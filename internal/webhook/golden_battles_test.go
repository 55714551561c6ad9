package webhook

import (
	"encoding/json"
	"path/filepath"
	"testing"
	"time"

	"github.com/roomd/roomd/internal/golden"
)

// The battle and recording callbacks rendered from Tencent's samples
// (https://www.tencentcloud.com/document/product/647/68259, 68260, 68261 and 78428).
func TestBattleAndRecordingCallbacksGolden(t *testing.T) {
	now := time.Unix(1739954005, 0)
	cfg := &Config{App: 1400000000, URL: "https://www.example.com/callback"}
	cases := []struct {
		name string
		cmd  Command
		body any
	}{
		{"create_battle.golden", AfterCreateBattle, CreateBattle{Operator_Account: "brennanli",
			BattleId: "4siHsNsWN/T3aub9zKraqPbSEGRX2z6gs3LDFi+d/3M=", FromRoomId: "pk-3", ToRoomIdList: []string{"pk-5"},
			Timeout: 30000, Duration: 60000, NeedResponse: false, ExtensionInfo: "extension pk", EventTime: 1739954005000}},
		{"start_battle.golden", AfterStartBattle, StartBattle{BattleId: "4siHsNsWN/T3aub9zKraqI4zZAyPRpXQhdtKv1q4HOs=",
			Duration: 60000, CreateTime: 1739954005, StartTime: 1739954005,
			FromRoomInfo: BattleRoom{RoomId: "pk-3", Owner_Account: "brennan"},
			ToRoomList:   []BattleRoom{{RoomId: "pk-5", Owner_Account: "tandy"}}, EventTime: 1739954005000}},
		{"end_battle.golden", AfterEndBattle, EndBattle{BattleId: "4siHsNsWN/T3aub9zKraqPfGQAimPhdFoe6VWhtz9lY=",
			Duration: 30000, CreateTime: 1739956115, StartTime: 1739956115, EndTime: 1739956145, OpType: BattleEndTimeUp,
			FromRoomInfo: BattleRoomScore{RoomId: "pk-3", Owner_Account: "u1"},
			ToRoomList:   []BattleRoomScore{{RoomId: "pk-5", Owner_Account: "u2"}}, EventTime: 1739956146119}},
		{"cloud_recording_changed.golden", AfterCloudRecordingChanged, CloudRecordingChanged{EventGroupId: RecordingGroupCloud,
			EventType: 305, CallbackTs: 1752580150082, EventInfo: RecordingEventInfo{RoomId: "635055", EventTs: 1752580150,
				EventMsTs: 1752580150081, UserId: "user1", TaskId: "task-1", Payload: json.RawMessage(`{"Status":0}`)}}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			body, err := Render(c.cmd, c.body)
			if err != nil {
				t.Fatal(err)
			}
			d := Delivery{ID: "msg_0123456789ab_42", App: cfg.App, Command: c.cmd, Body: body, ClientIP: "127.0.0.1", Platform: PlatformRESTAPI}
			golden.Check(t, filepath.Join("testdata", c.name), dumpRequest(t, cfg, d, now))
		})
	}
}

// Either spelling of the recording callback's command word switches it on; the request
// carries the word the app configured, Live.'s when it configured both.
func TestRecordingCommandAlias(t *testing.T) {
	for _, c := range []struct {
		list []string
		want Command
	}{
		{[]string{string(AfterCloudRecordingChanged)}, AfterCloudRecordingChanged},
		{[]string{string(AfterCloudRecordingChangedEnAlias)}, AfterCloudRecordingChangedEnAlias},
		{[]string{string(AfterCloudRecordingChangedEnAlias), string(AfterCloudRecordingChanged)}, AfterCloudRecordingChanged},
		{[]string{string(AfterCreateBattle)}, ""},
	} {
		cfg := &Config{URL: "http://h/cb", Commands: c.list}
		got, ok := cfg.Wire(AfterCloudRecordingChanged)
		if got != c.want || ok != (c.want != "") || cfg.Enabled(AfterCloudRecordingChanged) != ok {
			t.Errorf("Wire with %v = %q, %v; want %q", c.list, got, ok, c.want)
		}
	}
	// The alias works one way only: the Follow. word is not itself a command roomd emits.
	cfg := &Config{URL: "http://h/cb", Commands: []string{string(AfterCloudRecordingChanged)}}
	if _, ok := cfg.Wire(AfterCloudRecordingChangedEnAlias); ok {
		t.Error("the Live. word switched on the Follow. word as a command of its own")
	}
	if _, ok := (&Config{Commands: []string{string(AfterCloudRecordingChanged)}}).Wire(AfterCloudRecordingChanged); ok {
		t.Error("sent without a URL")
	}
}
