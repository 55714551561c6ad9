package console_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/roomd/roomd/internal/app"
	"github.com/roomd/roomd/internal/browsertest"
	"github.com/roomd/roomd/internal/config"
	"github.com/roomd/roomd/internal/console"
	"github.com/roomd/roomd/internal/testkit"
)

// The console end to end, in a real headless Chromium (Debian's chromium package) driven
// with chromedp (package browsertest), against a real roomd on 127.0.0.1 with a real
// SQLite file and a real callback receiver. Screenshots of every page go to
// $ROOMD_ARTIFACTS/console when set, else to the test's artifact directory (kept with go
// test -artifacts); a failed step saves one named after it.

const (
	testApp   = 1400000007
	testKey   = "console-secret-key-0123456789abcdef"
	testAdmin = "admin"

	cmdCreate  = "Live.CallbackAfterCreateRoom"
	cmdOwner   = "Live.CallbackAfterChangeOwner"
	cmdDestroy = "Live.CallbackAfterDestroyRoom"
)

// rowOf is a JavaScript expression for the newest callback row of command in room.
func rowOf(command, room string) string {
	return fmt.Sprintf(`[...document.querySelectorAll("#events tbody tr[data-event-id]")].find(tr => tr.cells[3].textContent === %s && tr.cells[2].textContent === %s)`,
		browsertest.JSString(command), browsertest.JSString(room))
}

func TestConsoleInChromium(t *testing.T) {
	began := time.Now()
	rc := testkit.NewReceiver(t)

	cfg := config.Default()
	cfg.Listen = "127.0.0.1:0"
	cfg.DataDir = t.TempDir()
	off := false
	cfg.Apps = []config.App{{SDKAppID: testApp, SecretKey: testKey, Admins: []string{testAdmin},
		RateLimit: config.RateLimit{Enabled: &off},
		Callback: &config.Callback{URL: rc.URL() + "/callback", Commands: []string{cmdCreate, cmdOwner, cmdDestroy},
			// A breaker that opens soon and probes late, so that the test sees it open; a
			// rate limit, so that the console has one to show.
			Breaker: config.Breaker{Failures: 2, ProbeInterval: time.Minute}, MaxPerSecond: 50}}}
	cfg.Apps[0].ApplyDefaults()
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	srv, err := app.NewServer(context.Background(), cfg, app.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if err := srv.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		srv.Close(ctx)
	})
	rest := testkit.NewClient(t, srv.URL(), testApp, testKey, testAdmin)
	testkit.MustOK(t, rest.Do(t, "im_open_login_svc/multiaccount_import", map[string]any{
		"AccountList": []map[string]string{{"UserID": "anchor1"}, {"UserID": "anchor2"}, {"UserID": "anchor3"}}}))
	createRoom := func(id, owner string) {
		testkit.MustOK(t, rest.Do(t, "live_engine_http_srv/create_room", map[string]any{
			"RoomInfo": map[string]any{"RoomId": id, "RoomType": "Live", "Owner_Account": owner, "RoomName": "room " + id}}))
	}
	createRoom("live-1", "anchor1")
	createRoom("live-2", "anchor1")
	rc.WaitFor(t, "the two create-room callbacks", 10*time.Second, func(g []testkit.Callback) bool { return len(g) >= 2 })

	b := browsertest.New(t, browsertest.Options{Name: "console"})

	// Log in through the form.
	b.Run("open the login page", 15*time.Second,
		chromedp.Navigate(srv.URL()+console.Prefix),
		chromedp.WaitVisible(chromedp.CSS("#login-form")),
	)
	b.Screenshot("login")
	b.CheckNames("login")
	b.Run("log in", 10*time.Second,
		chromedp.SetValue(chromedp.CSS("#login-sdkappid"), fmt.Sprint(testApp)),
		chromedp.SetValue(chromedp.CSS("#login-identifier"), testAdmin),
		chromedp.SetValue(chromedp.CSS("#login-usersig"), rest.Sig),
		chromedp.Click(chromedp.CSS(`#login-form button[type="submit"]`)),
		chromedp.WaitVisible(chromedp.CSS("#page-callbacks")),
	)
	b.WaitJS("the create-room callback in the log", rowOf(cmdCreate, "live-1"), 5*time.Second)

	// An owner change made through REST appears in the log within a second.
	testkit.MustOK(t, rest.Do(t, "live_engine_http_srv/change_room_owner", map[string]any{"RoomId": "live-1", "NewOwner_Account": "anchor2"}))
	took := b.WaitJS("the owner change in the log", rowOf(cmdOwner, "live-1"), 5*time.Second)
	if took > time.Second {
		b.Screenshot("FAILED-owner-change-late")
		t.Fatalf("the owner change appeared in the log after %s, not within a second", took)
	}
	t.Logf("owner change visible in the console %s after the REST reply", took.Round(time.Millisecond))
	b.WaitJS("the owner change delivered", rowOf(cmdOwner, "live-1")+`?.cells[4].textContent === "delivered"`, 5*time.Second)
	b.WaitJS("the chart drawn", `document.querySelector("#chart svg rect.bar-ok")`, 5*time.Second)
	// The delivery state (roomd_delivery/get_app_state): delivering, nothing held back.
	b.WaitJS("the delivery state", `document.querySelector("#state-breaker").textContent === "closed" && `+
		`document.querySelector("#state-paused").textContent === "0" && document.querySelector("#state-rate").textContent === "50/s" && `+
		`document.querySelector("#state-detail").textContent.startsWith("Delivering. 0 consecutive failed attempts (the breaker opens at 2).")`, 5*time.Second)
	b.Screenshot("callbacks")

	// Open it: its exact request and its attempt with the App backend's reply.
	eventID := browsertest.Eval[string](b, "the owner change's id", rowOf(cmdOwner, "live-1")+`.dataset.eventId`)
	b.Run("open the owner change", 10*time.Second,
		chromedp.Click(chromedp.CSS(`#events tr[data-event-id="`+eventID+`"] button`)),
		chromedp.WaitVisible(chromedp.CSS("#event-detail")),
	)
	b.WaitJS("one attempt shown", `document.querySelectorAll("#attempts tbody tr[data-attempt]").length === 1`, 5*time.Second)
	var request, reply, status string
	request = browsertest.Eval[string](b, "the request", `document.querySelector("#event-request").textContent`)
	reply = browsertest.Eval[string](b, "the reply", `document.querySelector("#attempts tbody tr[data-attempt] td:nth-child(5)").textContent`)
	status = browsertest.Eval[string](b, "the status", `document.querySelector("#attempts tbody tr[data-attempt] td:nth-child(3)").textContent`)
	got := rc.All()
	var sent testkit.Callback
	for _, c := range got {
		if c.Command == cmdOwner {
			sent = c
		}
	}
	for _, want := range []string{
		"POST " + rc.URL() + "/callback?SdkAppid=1400000007&CallbackCommand=Live.CallbackAfterChangeOwner&contenttype=json&ClientIP=127.0.0.1&OptPlatform=RESTAPI",
		"Webhook-Id: " + sent.ID,
		"Content-Type: application/json",
		`"CurrentOwner_Account": "anchor2"`,
		`"OriginalOwner_Account": "anchor1"`,
	} {
		if !strings.Contains(request, want) {
			b.Screenshot("FAILED-request")
			t.Fatalf("the request shown lacks %q:\n%s", want, request)
		}
	}
	if status != "200" || !strings.Contains(reply, `"ActionStatus": "OK"`) {
		b.Screenshot("FAILED-attempt")
		t.Fatalf("attempt shown: status %q, reply %q", status, reply)
	}
	b.Screenshot("callback-detail")

	// Resend it: the App backend gets it again with the same webhook-id, and the new
	// attempt shows.
	b.Run("resend", 5*time.Second, chromedp.Click(chromedp.CSS("#event-resend")))
	again := rc.WaitFor(t, "the resent owner change", 10*time.Second, func(g []testkit.Callback) bool {
		n := 0
		for _, c := range g {
			if c.Command == cmdOwner {
				n++
			}
		}
		return n == 2
	})
	if last := again[len(again)-1]; last.ID != sent.ID {
		t.Errorf("resent with webhook-id %q, first sent with %q", last.ID, sent.ID)
	}
	b.WaitJS("the second attempt shown", `document.querySelector('#attempts tbody tr[data-attempt="2"]')`, 5*time.Second)
	b.Screenshot("callback-resent")
	b.CheckNames("callbacks")

	// Apps: switch the owner change off; the next owner change sends nothing.
	b.Run("open the Apps page", 10*time.Second,
		chromedp.Click(chromedp.CSS(`#nav a[data-page="apps"]`)),
		chromedp.WaitVisible(chromedp.CSS(`#cb-groups input[value="`+cmdOwner+`"]`)),
	)
	groups := browsertest.Eval[[]string](b, "the command groups", `[...document.querySelectorAll("#cb-groups legend")].map(l => l.textContent)`)
	if strings.Join(groups, ",") != "Room,User,Seat,Battle,Gift,Message,Follow,Recording" {
		t.Errorf("command groups: %q", groups)
	}
	b.CheckNames("apps")
	for id, want := range map[string]string{
		"setting-breaker": "opens after 2 consecutive failures, probes every 1 min",
		"setting-rate":    "50 attempts per second",
	} {
		if got := browsertest.Eval[string](b, "the delivery settings", `document.querySelector("#`+id+`").textContent`); got != want {
			t.Errorf("Apps page, %s: %q, want %q", id, got, want)
		}
	}
	b.Run("switch the owner change off", 10*time.Second,
		chromedp.Click(chromedp.CSS(`#cb-groups input[value="`+cmdOwner+`"]`)),
		chromedp.Click(chromedp.CSS(`#callback-form button[type="submit"]`)),
	)
	b.WaitJS("the settings saved", `document.querySelector("#notice").textContent === "Callback settings saved."`, 5*time.Second)
	on := browsertest.Eval[bool](b, "the box after reload", `document.querySelector('#cb-groups input[value="`+cmdOwner+`"]').checked`)
	if on {
		t.Fatal("the owner change is still switched on after saving")
	}
	testkit.MustOK(t, rest.Do(t, "live_engine_http_srv/change_room_owner", map[string]any{"RoomId": "live-1", "NewOwner_Account": "anchor3"}))
	// The room's destroy callback (still on) comes after anything the owner change could
	// have sent, as callbacks of one room arrive in commit order.
	testkit.MustOK(t, rest.Do(t, "live_engine_http_srv/destroy_room", map[string]any{"RoomId": "live-1"}))
	after := rc.WaitFor(t, "the destroy callback", 10*time.Second, func(g []testkit.Callback) bool {
		return g[len(g)-1].Command == cmdDestroy
	})
	for _, c := range after[len(again):] {
		if c.Command == cmdOwner {
			t.Fatalf("an owner-change callback arrived after it was switched off: %s", c.Body)
		}
	}

	// Send a test callback and see the App backend's reply.
	b.Run("send a test callback", 10*time.Second,
		chromedp.Click(chromedp.CSS(`#test-form button[type="submit"]`)),
		chromedp.WaitVisible(chromedp.CSS("#test-result")),
	)
	b.WaitJS("the test reply", `document.querySelector("#test-status")?.textContent === "200" && document.querySelector("#test-reply").textContent.includes('"ActionStatus": "OK"')`, 5*time.Second)
	b.Screenshot("apps")

	// Rooms: the list, and one room's owner.
	b.Run("open the Rooms page", 10*time.Second,
		chromedp.Click(chromedp.CSS(`#nav a[data-page="rooms"]`)),
		chromedp.WaitVisible(chromedp.CSS(`#rooms tr[data-room-id="live-2"] button`)),
		chromedp.Click(chromedp.CSS(`#rooms tr[data-room-id="live-2"] button`)),
		chromedp.WaitVisible(chromedp.CSS("#room-owner")),
	)
	b.WaitJS("the room's owner", `document.querySelector("#room-owner").textContent === "anchor1"`, 5*time.Second)
	b.CheckNames("rooms")
	b.Screenshot("rooms")

	// Errors show Tencent's code and text.
	b.Run("open a room that does not exist", 10*time.Second,
		chromedp.SetValue(chromedp.CSS("#room-search-id"), "no-such-room"),
		chromedp.Click(chromedp.CSS(`#room-search button[type="submit"]`)),
	)
	b.WaitJS("the error with its code", `document.querySelector("#error").textContent.startsWith("Error 100004: ")`, 5*time.Second)
	b.Screenshot("error")

	// The link roomd serve prints logs in by itself and leaves no UserSig in the address bar.
	b.Run("log out and follow the printed link", 10*time.Second,
		chromedp.Click(chromedp.CSS("#logout")),
		chromedp.WaitVisible(chromedp.CSS("#login-form")),
		chromedp.Navigate(console.LoginURL(srv.URL(), testApp, testAdmin, rest.Sig)),
		chromedp.WaitVisible(chromedp.CSS("#page-callbacks")),
	)
	hash := browsertest.Eval[string](b, "the address", `location.hash`)
	if hash != "#callbacks" {
		t.Errorf("after the login link the address ends in %q", hash)
	}

	// The App backend goes down: two rooms' callbacks fail, the breaker opens (two
	// consecutive failures in two rooms) and the console shows the app paused.
	rc.SetMode(testkit.ModeFail)
	createRoom("live-3", "anchor1")
	createRoom("live-4", "anchor1")
	b.WaitJS("the breaker open", `document.querySelector("#state-breaker").textContent === "open" && `+
		`document.querySelector("#state-detail").textContent.startsWith("Paused since ")`, 5*time.Second)
	// Once their retry is due, the two rooms wait for the breaker.
	b.WaitJS("the rooms paused", `document.querySelector("#state-paused").textContent === "2"`, 5*time.Second)
	b.Screenshot("callbacks-paused")

	// A phone: the callbacks page at 390 × 844.
	b.Run("phone size", 10*time.Second,
		chromedp.EmulateViewport(390, 844, chromedp.EmulateScale(2), chromedp.EmulateMobile),
		chromedp.Navigate(srv.URL()+console.Prefix+"#callbacks/"+eventID),
		chromedp.WaitVisible(chromedp.CSS("#event-detail")),
	)
	overflow := browsertest.Eval[bool](b, "horizontal overflow", `document.documentElement.scrollWidth > window.innerWidth + 1`)
	b.Screenshot("phone-callbacks")
	if overflow {
		t.Error("the callbacks page is wider than a phone's screen")
	}
	t.Logf("browser suite took %s", time.Since(began).Round(time.Millisecond))
}
