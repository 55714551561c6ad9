package webclient_test

import (
	"context"
	"encoding/json"
	"net/url"
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

// Two pages with the JavaScript client transfer a room's ownership and both see it: the
// demo page end to end in a real headless Chromium (package browsertest), two tabs (alice
// and bob) against a real roomd running the development app, with a real callback receiver
// as the App backend. Screenshots go to $ROOMD_ARTIFACTS/demo when set.
func TestDemoOwnershipTransferInChromium(t *testing.T) {
	began := time.Now()
	const (
		room     = "demo-room"
		cmdOwner = "Live.CallbackAfterChangeOwner"
	)
	rc := testkit.NewReceiver(t)
	cfg := config.Default()
	cfg.Listen = "127.0.0.1:0"
	cfg.DataDir = t.TempDir()
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
	if srv.DevKey == "" {
		t.Fatal("roomd does not run the development app")
	}
	// The App backend: the development app's callback URL, set through REST as a developer
	// would (or on the console's Apps page).
	rest := testkit.NewClient(t, srv.URL(), app.DevSDKAppID, srv.DevKey, app.DevAdmin)
	testkit.MustOK(t, rest.Do(t, "live_config/set_callback", map[string]any{"Url": rc.URL() + "/callback", "CallbackCommandList": []string{cmdOwner}}))

	alice := browsertest.New(t, browsertest.Options{Name: "demo", Width: 1000, Height: 900}).Named("alice-")
	bob := alice.Tab("bob-")
	demo := func(user string) string {
		return srv.URL() + "/demo?" + url.Values{"user": {user}, "room": {room}, "join": {"1"}}.Encode()
	}
	summary := func(text string) string {
		return `document.querySelector("#room-summary").textContent === ` + browsertest.JSString(text)
	}
	// roleOf is the role the members list shows for user.
	roleOf := func(user, role string) string {
		return `[...document.querySelectorAll("#members li")].some(li => li.querySelector(".grow").textContent.startsWith(` +
			browsertest.JSString(user) + `) && li.querySelector(".role").textContent === ` + browsertest.JSString(role) + `)`
	}

	// Both enter the room: alice creates it and owns it; bob's arrival shows in her list.
	alice.Run("join", 15*time.Second, chromedp.Navigate(demo("alice")), chromedp.WaitVisible(chromedp.CSS("#room-panel")))
	alice.WaitJS("alice owns the new room", summary("Owner: alice (you)."), 5*time.Second)
	bob.Run("join", 15*time.Second, chromedp.Navigate(demo("bob")), chromedp.WaitVisible(chromedp.CSS("#room-panel")))
	bob.WaitJS("bob sees alice as the owner", summary("Owner: alice."), 5*time.Second)
	makeBob := `#members button[aria-label="Make bob the owner"]`
	alice.WaitJS("bob in alice's list, with the button to hand him the room", `document.querySelector(`+browsertest.JSString(makeBob)+`)`, 5*time.Second)
	if n := browsertest.Eval[int](bob, "bob's transfer buttons", `document.querySelectorAll("#members button").length`); n != 0 {
		t.Errorf("bob, not the owner, sees %d transfer buttons", n)
	}
	alice.CheckNames("room")
	alice.Screenshot("joined")
	bob.Screenshot("joined")

	// The demo links to the console's callback log.
	href := browsertest.Eval[string](alice, "the console link", `document.querySelector("#console-link").href`)
	if want := srv.URL() + console.Prefix + "#callbacks"; href != want {
		t.Errorf("the demo links to %q, want the console's callback log %q", href, want)
	}

	// alice hands the room to bob through the page; both pages show it (onUserRoleChanged).
	alice.Run("make bob the owner", 5*time.Second, chromedp.Click(chromedp.CSS(makeBob)))
	for _, p := range []struct {
		page  *browsertest.Page
		owner string
	}{{alice, "Owner: bob."}, {bob, "Owner: bob (you)."}} {
		p.page.WaitJS("the new owner shown", summary(p.owner)+" && "+roleOf("bob", "the owner")+" && "+roleOf("alice", "a member"), 5*time.Second)
		p.page.WaitJS("the role change noted", `[...document.querySelectorAll("#messages li em")].some(e => e.textContent === "bob is now the owner.")`, 5*time.Second)
		pushes := browsertest.Eval[string](p.page, "the pushes", `document.querySelector("#log").textContent`)
		for _, want := range []string{
			`onUserRoleChanged {"roomId":"demo-room","userId":"bob","userRole":"roomOwner"}`,
			`onUserRoleChanged {"roomId":"demo-room","userId":"alice","userRole":"generalUser"}`,
		} {
			if !strings.Contains(pushes, want) {
				p.page.Screenshot("FAILED-pushes")
				t.Fatalf("pushes received lack %s:\n%s", want, pushes)
			}
		}
	}
	// Now bob may hand it back, and alice may not.
	bob.WaitJS("bob's button to hand the room back", `document.querySelector('#members button[aria-label="Make alice the owner"]')`, 5*time.Second)
	if n := browsertest.Eval[int](alice, "alice's transfer buttons", `document.querySelectorAll("#members button").length`); n != 0 {
		t.Errorf("alice, no longer the owner, sees %d transfer buttons", n)
	}
	alice.Screenshot("transferred")
	bob.Screenshot("transferred")

	// The App backend got the owner change, made from a web page.
	got := rc.WaitFor(t, "the owner-change callback", 10*time.Second, func(g []testkit.Callback) bool { return len(g) >= 1 })
	if len(got) != 1 || got[0].Command != cmdOwner {
		t.Fatalf("callbacks: %+v", got)
	}
	if p := got[0].Query.Get("OptPlatform"); p != "Web" {
		t.Errorf("OptPlatform=%q, want Web (the page's client platform)", p)
	}
	var body struct {
		CallbackCommand, RoomId, Operator_Account, CurrentOwner_Account, OriginalOwner_Account string
	}
	if err := json.Unmarshal(got[0].Body, &body); err != nil {
		t.Fatal(err)
	}
	if body.CallbackCommand != cmdOwner || body.RoomId != room || body.CurrentOwner_Account != "bob" || body.OriginalOwner_Account != "alice" {
		t.Errorf("callback body: %s", got[0].Body)
	}
	t.Logf("browser part took %s", time.Since(began).Round(time.Millisecond))
}
