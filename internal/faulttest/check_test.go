package faulttest

import (
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
)

// TestCheckCallbacks makes sure the checker of the fault tests catches each kind of
// violation it claims to, so that a lenient checker cannot make the suite pass vacuously.
func TestCheckCallbacks(t *testing.T) {
	// Room "r" went admin -> o_r_0 -> o_r_1 (reply lost) -> o_r_2; o_r_3 failed.
	newRoom := func() *roomLog {
		l := &roomLog{App: appA, Room: "r", Initial: adminID}
		l.changes = []change{
			{Seq: 0, Owner: l.owner(0), Outcome: outcomeOK},
			{Seq: 1, Owner: l.owner(1), Outcome: outcomeUnknown},
			{Seq: 2, Owner: l.owner(2), Outcome: outcomeOK},
			{Seq: 3, Owner: l.owner(3), Outcome: outcomeFailed, Code: 100001},
		}
		return l
	}
	cb := func(id, orig, cur string) arrival {
		body := fmt.Sprintf(`{"CallbackCommand":"Live.CallbackAfterChangeOwner","RoomId":"r","CurrentOwner_Account":%q,"OriginalOwner_Account":%q}`, cur, orig)
		q := url.Values{"SdkAppid": {fmt.Sprint(appA)}, "CallbackCommand": {"Live.CallbackAfterChangeOwner"}, "contenttype": {"json"}, "OptPlatform": {"RESTAPI"}}
		return arrival{ID: id, Query: q, Body: body, Status: http.StatusOK, Command: "Live.CallbackAfterChangeOwner", Room: "r", Current: cur, Original: orig}
	}
	a0 := cb("msg_1", adminID, "o_r_0")
	a1 := cb("msg_2", "o_r_0", "o_r_1")
	a2 := cb("msg_3", "o_r_1", "o_r_2")
	final := map[string]string{"r": "o_r_2"}

	cases := []struct {
		name  string
		got   []arrival
		final map[string]string
		want  string // a substring of one of the problems; "" for none
		dups  int
	}{
		{"good", []arrival{a0, a1, a2}, final, "", 0},
		{"good with redelivery", []arrival{a0, a1, a1, a2, a2}, final, "", 2},
		{"lost-reply change that never committed", []arrival{a0, cb("msg_3", "o_r_0", "o_r_2")}, final, "", 0},
		{"OK'd change missing", []arrival{a0, a1}, nil, "never arrived", 0},
		{"committed change skipped", []arrival{a1, a2}, final, "OriginalOwner_Account", 0},
		{"out of order", []arrival{a0, a2, a1}, nil, "out of order", 0},
		{"same id, two bodies", []arrival{a0, a1, cb("msg_2", "o_r_0", "o_r_2"), a2}, final, "two bodies", 0},
		{"same body, two ids", []arrival{a0, a1, cb("msg_9", "o_r_0", "o_r_1"), a2}, final, "two webhook-ids", 0},
		{"failed change delivered", []arrival{a0, a1, a2, cb("msg_4", "o_r_2", "o_r_3")}, map[string]string{"r": "o_r_3"}, "failed with 100001", 0},
		{"final owner not announced", []arrival{a0, a1}, final, "final owner", 0},
		{"unknown change", []arrival{a0, a1, a2, cb("msg_5", "o_r_2", "o_r_77")}, nil, "never made", 0},
		{"wrong app", []arrival{func() arrival { a := a0; a.Query = url.Values{"SdkAppid": {"1"}}; return a }(), a1, a2}, final, "not a proper", 0},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			problems, dups := checkCallbacks([]*roomLog{newRoom()}, tc.got, tc.final)
			switch {
			case tc.want == "" && len(problems) > 0:
				t.Errorf("unexpected problems: %v", problems)
			case tc.want != "" && !slices.ContainsFunc(problems, func(p string) bool { return strings.Contains(p, tc.want) }):
				t.Errorf("problems %v, want one containing %q", problems, tc.want)
			}
			if tc.want == "" && dups != tc.dups {
				t.Errorf("dups = %d, want %d", dups, tc.dups)
			}
		})
	}
}
