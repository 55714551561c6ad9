package app_test

import (
	"strings"
	"testing"
)

// Conformance of modify_admin and get_admin_list, and of the admin callback.

func TestModifyAdmin(t *testing.T) {
	e := startWithMemberCallbacks(t, "admins")
	e.importAccounts("owner", "a1", "a2")
	e.createRoom("r1", "owner")
	more := e.importN("x", 10)

	e.runCases(t, "modify_admin", []string{"r1"}, []confCase{
		{name: "add", body: `{"RoomId":"r1","Admin_Account":["a1","a2","a1"],"OpType":"add"}`, golden: "modify_admin"},
		{name: "add again changes nothing", body: `{"RoomId":"r1","Admin_Account":["a1"],"OpType":"add"}`},
		{name: "not imported", body: `{"RoomId":"r1","Admin_Account":["a1","ghost"],"OpType":"add"}`, code: 70107},
		{name: "owner", body: `{"RoomId":"r1","Admin_Account":["owner"],"OpType":"add"}`, code: 100002},
		{name: "OpType unknown", body: `{"RoomId":"r1","Admin_Account":["a1"],"OpType":"Add"}`, code: 100002},
		{name: "OpType missing", body: `{"RoomId":"r1","Admin_Account":["a1"]}`, code: 100002},
		{name: "no accounts", body: `{"RoomId":"r1","Admin_Account":[],"OpType":"add"}`, code: 100002},
		{name: "empty account", body: `{"RoomId":"r1","Admin_Account":[""],"OpType":"add"}`, code: 100002},
		{name: "account not a string", body: `{"RoomId":"r1","Admin_Account":[7],"OpType":"add"}`, code: 60015},
		{name: "11 in one call", body: `{"RoomId":"r1","Admin_Account":` + accountsJSON(e.importN("y", 11)) + `,"OpType":"add"}`, code: 100002},
		{name: "unknown room", body: `{"RoomId":"nope","Admin_Account":["a1"],"OpType":"add"}`, code: 100004},
		{name: "up to 10 admins", body: `{"RoomId":"r1","Admin_Account":` + accountsJSON(more[:8]) + `,"OpType":"add"}`},
		{name: "the 11th admin", body: `{"RoomId":"r1","Admin_Account":["` + more[8] + `"],"OpType":"add"}`, code: 100002},
		{name: "delete", body: `{"RoomId":"r1","Admin_Account":["a2","owner","ghost"],"OpType":"delete"}`},
		{name: "delete non-admins changes nothing", body: `{"RoomId":"r1","Admin_Account":["a2"],"OpType":"delete"}`},
		{name: "room for one more", body: `{"RoomId":"r1","Admin_Account":["` + more[8] + `"],"OpType":"add"}`},
	})

	env := mustOK(t, e.call(svc+"get_admin_list", `{"RoomId":"r1"}`))
	got := response[struct{ Admin_Account []string }](t, env).Admin_Account
	want := append([]string{"a1"}, more[:9]...)
	if strings.Join(got, ",") != strings.Join(want, ",") {
		t.Errorf("admins = %v, want %v", got, want)
	}

	// Four callbacks: the first add, the eight, the delete of a2, the last add.
	cbs := e.callbacksOf(t, cmdModifyAdmin, 4)
	e.golden(t, "modify_admin_callbacks", renderCallbacks(cbs))
	if n := len(e.events(cmdModifyAdmin)); n != 4 {
		t.Errorf("%d ModifyAdmin events stored, want 4 (no-op calls send none)", n)
	}
}

func TestGetAdminList(t *testing.T) {
	e := startWithMemberCallbacks(t, "admins")
	e.importAccounts("owner", "a1", "a2")
	e.createRoom("r1", "owner")
	e.createRoom("r2", "owner")
	mustOK(t, e.call(svc+"modify_admin", `{"RoomId":"r1","Admin_Account":["a2","a1"],"OpType":"add"}`))
	e.runCases(t, "get_admin_list", []string{"r1"}, []confCase{
		{name: "in order added", body: `{"RoomId":"r1"}`, golden: "get_admin_list"},
		{name: "none", body: `{"RoomId":"r2"}`, golden: "get_admin_list_empty"},
		{name: "unknown room", body: `{"RoomId":"nope"}`, code: 100004},
		{name: "no RoomId", body: `{}`, code: 100002},
	})
	// A room destroyed and created again starts without admins.
	mustOK(t, e.call(svc+"destroy_room", `{"RoomId":"r1"}`))
	e.createRoom("r1", "owner")
	env := mustOK(t, e.call(svc+"get_admin_list", `{"RoomId":"r1"}`))
	if got := response[struct{ Admin_Account []string }](t, env).Admin_Account; len(got) != 0 {
		t.Errorf("recreated room has admins %v", got)
	}
}
