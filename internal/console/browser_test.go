package console_test

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/roomd/roomd/internal/app"
	"github.com/roomd/roomd/internal/config"
	"github.com/roomd/roomd/internal/console"
	"github.com/roomd/roomd/internal/testkit"
)

// The console end to end, in a real headless Chromium (Debian's chromium package) driven
// with chromedp, against a real roomd on 127.0.0.1 with a real SQLite file and a real
// callback receiver. Screenshots of every page go to $ROOMD_ARTIFACTS/console when set,
// else to the test's artifact directory (kept with go test -artifacts); a failed step saves
// one named after it.

const (
	testApp   = 1400000007
	testKey   = "console-secret-key-0123456789abcdef"
	testAdmin = "admin"

	cmdCreate  = "Live.CallbackAfterCreateRoom"
	cmdOwner   = "Live.CallbackAfterChangeOwner"
	cmdDestroy = "Live.CallbackAfterDestroyRoom"
)

// chromium returns the browser to drive: $ROOMD_CHROMIUM, else the first of Debian's and
// the usual names on PATH. Without one the test fails under CI and is skipped otherwise.
func chromium(t *testing.T) string {
	t.Helper()
	if p := os.Getenv("ROOMD_CHROMIUM"); p != "" {
		return p
	}
	for _, name := range []string{"/usr/bin/chromium", "chromium", "chromium-browser", "google-chrome", "google-chrome-stable"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	if os.Getenv("CI") != "" {
		t.Fatal("no Chromium found (CI is set, so this fails instead of skipping): apt-get install chromium, or set ROOMD_CHROMIUM")
	}
	t.Skip("no Chromium found: apt-get install chromium (or set ROOMD_CHROMIUM) to run the browser tests")
	return ""
}

func artifactDir(t *testing.T) string {
	t.Helper()
	dir := t.ArtifactDir()
	if d := os.Getenv("ROOMD_ARTIFACTS"); d != "" {
		dir = filepath.Join(d, "console")
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// browser is one headless Chromium tab on the console.
type browser struct {
	t         *testing.T
	ctx       context.Context
	artifacts string
}

func newBrowser(t *testing.T) *browser {
	t.Helper()
	exe := chromium(t)
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(exe),
		chromedp.NoSandbox, // CI runs as root, where Chromium's sandbox cannot start
		chromedp.Headless,
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.Flag("disable-gpu", true),
		chromedp.WindowSize(1280, 900),
	)
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancel := chromedp.NewContext(actx)
	t.Cleanup(func() { cancel(); cancelAlloc() })
	// The first call starts the browser, which lives as long as that call's context: no
	// deadline on it.
	if err := chromedp.Do(ctx); err != nil {
		t.Fatalf("start Chromium (%s): %v", exe, err)
	}
	b := &browser{t: t, ctx: ctx, artifacts: artifactDir(t)}
	t.Logf("screenshots in %s", b.artifacts)
	return b
}

// run runs actions with a deadline; on failure it saves a screenshot named after what and
// fails the test.
func (b *browser) run(what string, timeout time.Duration, actions ...chromedp.Action[chromedp.Void]) {
	b.t.Helper()
	if testing.Verbose() {
		defer func(start time.Time) { b.t.Logf("%-40s %s", what, time.Since(start).Round(time.Millisecond)) }(time.Now())
	}
	ctx, cancel := context.WithTimeout(b.ctx, timeout)
	defer cancel()
	if err := chromedp.Do(ctx, actions...); err != nil {
		b.fail(what, err)
	}
}

func (b *browser) fail(what string, err error) {
	b.t.Helper()
	b.screenshot("FAILED-" + what)
	ctx, cancel := context.WithTimeout(b.ctx, 2*time.Second)
	defer cancel()
	errText, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`document.querySelector("#error").textContent`))
	b.t.Fatalf("%s: %v (page error box: %q)", what, err, errText)
}

// screenshot saves the whole page as name.png.
func (b *browser) screenshot(name string) {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, 10*time.Second)
	defer cancel()
	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100)) // quality 100: PNG
	if err != nil {
		b.t.Logf("screenshot %s: %v", name, err)
		return
	}
	path := filepath.Join(b.artifacts, name+".png")
	if err := os.WriteFile(path, png, 0o644); err != nil {
		b.t.Logf("screenshot %s: %v", name, err)
	}
}

// eval evaluates a JavaScript expression.
func eval[T any](b *browser, what, expr string) T {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, 5*time.Second)
	defer cancel()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[T](expr))
	if err != nil {
		b.fail(what, err)
	}
	return v
}

// waitJS polls a JavaScript expression until it is true or timeout passes and returns how
// long it took.
func (b *browser) waitJS(what, expr string, timeout time.Duration) time.Duration {
	b.t.Helper()
	start := time.Now()
	deadline := start.Add(timeout)
	for {
		ctx, cancel := context.WithTimeout(b.ctx, 2*time.Second)
		ok, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`!!(`+expr+`)`))
		cancel()
		if err == nil && ok {
			return time.Since(start)
		}
		if time.Now().After(deadline) {
			if err == nil {
				err = fmt.Errorf("still false after %s: %s", timeout, expr)
			}
			b.fail(what, err)
		}
		time.Sleep(25 * time.Millisecond)
	}
}

func jsString(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}

// rowOf is a JavaScript expression for the newest callback row of command in room.
func rowOf(command, room string) string {
	return fmt.Sprintf(`[...document.querySelectorAll("#events tbody tr[data-event-id]")].find(tr => tr.cells[3].textContent === %s && tr.cells[2].textContent === %s)`,
		jsString(command), jsString(room))
}

// unnamedControls lists the visible and hidden controls of the page without an accessible
// name (a label, aria-label, aria-labelledby, title or, for buttons, their text).
const unnamedControls = `[...document.querySelectorAll("button, input, select, textarea, a[href]")].filter(e => {
	if (e.type === "hidden") return false;
	if ((e.getAttribute("aria-label") || "").trim() || e.getAttribute("aria-labelledby") || (e.title || "").trim()) return false;
	if (e.labels && e.labels.length && [...e.labels].some(l => l.textContent.trim())) return false;
	if ((e.tagName === "BUTTON" || e.tagName === "A") && e.textContent.trim()) return false;
	return true;
}).map(e => e.outerHTML.slice(0, 120))`

func (b *browser) checkNames(where string) {
	b.t.Helper()
	unnamed := eval[[]string](b, "find unnamed controls", unnamedControls)
	if len(unnamed) > 0 {
		b.screenshot("FAILED-names-" + where)
		b.t.Fatalf("%s: controls without an accessible name: %q", where, unnamed)
	}
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
		Callback:  &config.Callback{URL: rc.URL() + "/callback", Commands: []string{cmdCreate, cmdOwner, cmdDestroy}}}}
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

	b := newBrowser(t)

	// Log in through the form.
	b.run("open the login page", 15*time.Second,
		chromedp.Navigate(srv.URL()+console.Prefix),
		chromedp.WaitVisible(chromedp.CSS("#login-form")),
	)
	b.screenshot("login")
	b.checkNames("login")
	b.run("log in", 10*time.Second,
		chromedp.SetValue(chromedp.CSS("#login-sdkappid"), fmt.Sprint(testApp)),
		chromedp.SetValue(chromedp.CSS("#login-identifier"), testAdmin),
		chromedp.SetValue(chromedp.CSS("#login-usersig"), rest.Sig),
		chromedp.Click(chromedp.CSS(`#login-form button[type="submit"]`)),
		chromedp.WaitVisible(chromedp.CSS("#page-callbacks")),
	)
	b.waitJS("the create-room callback in the log", rowOf(cmdCreate, "live-1"), 5*time.Second)

	// An owner change made through REST appears in the log within a second.
	testkit.MustOK(t, rest.Do(t, "live_engine_http_srv/change_room_owner", map[string]any{"RoomId": "live-1", "NewOwner_Account": "anchor2"}))
	took := b.waitJS("the owner change in the log", rowOf(cmdOwner, "live-1"), 5*time.Second)
	if took > time.Second {
		b.screenshot("FAILED-owner-change-late")
		t.Fatalf("the owner change appeared in the log after %s, not within a second", took)
	}
	t.Logf("owner change visible in the console %s after the REST reply", took.Round(time.Millisecond))
	b.waitJS("the owner change delivered", rowOf(cmdOwner, "live-1")+`?.cells[4].textContent === "delivered"`, 5*time.Second)
	b.waitJS("the chart drawn", `document.querySelector("#chart svg rect.bar-ok")`, 5*time.Second)
	b.screenshot("callbacks")

	// Open it: its exact request and its attempt with the App backend's reply.
	eventID := eval[string](b, "the owner change's id", rowOf(cmdOwner, "live-1")+`.dataset.eventId`)
	b.run("open the owner change", 10*time.Second,
		chromedp.Click(chromedp.CSS(`#events tr[data-event-id="`+eventID+`"] button`)),
		chromedp.WaitVisible(chromedp.CSS("#event-detail")),
	)
	b.waitJS("one attempt shown", `document.querySelectorAll("#attempts tbody tr[data-attempt]").length === 1`, 5*time.Second)
	var request, reply, status string
	request = eval[string](b, "the request", `document.querySelector("#event-request").textContent`)
	reply = eval[string](b, "the reply", `document.querySelector("#attempts tbody tr[data-attempt] td:nth-child(5)").textContent`)
	status = eval[string](b, "the status", `document.querySelector("#attempts tbody tr[data-attempt] td:nth-child(3)").textContent`)
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
			b.screenshot("FAILED-request")
			t.Fatalf("the request shown lacks %q:\n%s", want, request)
		}
	}
	if status != "200" || !strings.Contains(reply, `"ActionStatus": "OK"`) {
		b.screenshot("FAILED-attempt")
		t.Fatalf("attempt shown: status %q, reply %q", status, reply)
	}
	b.screenshot("callback-detail")

	// Resend it: the App backend gets it again with the same webhook-id, and the new
	// attempt shows.
	b.run("resend", 5*time.Second, chromedp.Click(chromedp.CSS("#event-resend")))
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
	b.waitJS("the second attempt shown", `document.querySelector('#attempts tbody tr[data-attempt="2"]')`, 5*time.Second)
	b.screenshot("callback-resent")
	b.checkNames("callbacks")

	// Apps: switch the owner change off; the next owner change sends nothing.
	b.run("open the Apps page", 10*time.Second,
		chromedp.Click(chromedp.CSS(`#nav a[data-page="apps"]`)),
		chromedp.WaitVisible(chromedp.CSS(`#cb-groups input[value="`+cmdOwner+`"]`)),
	)
	groups := eval[[]string](b, "the command groups", `[...document.querySelectorAll("#cb-groups legend")].map(l => l.textContent)`)
	if strings.Join(groups, ",") != "Room,User,Seat,Battle,Gift,Message,Follow,Recording" {
		t.Errorf("command groups: %q", groups)
	}
	b.checkNames("apps")
	b.run("switch the owner change off", 10*time.Second,
		chromedp.Click(chromedp.CSS(`#cb-groups input[value="`+cmdOwner+`"]`)),
		chromedp.Click(chromedp.CSS(`#callback-form button[type="submit"]`)),
	)
	b.waitJS("the settings saved", `document.querySelector("#notice").textContent === "Callback settings saved."`, 5*time.Second)
	on := eval[bool](b, "the box after reload", `document.querySelector('#cb-groups input[value="`+cmdOwner+`"]').checked`)
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
	b.run("send a test callback", 10*time.Second,
		chromedp.Click(chromedp.CSS(`#test-form button[type="submit"]`)),
		chromedp.WaitVisible(chromedp.CSS("#test-result")),
	)
	b.waitJS("the test reply", `document.querySelector("#test-status")?.textContent === "200" && document.querySelector("#test-reply").textContent.includes('"ActionStatus": "OK"')`, 5*time.Second)
	b.screenshot("apps")

	// Rooms: the list, and one room's owner.
	b.run("open the Rooms page", 10*time.Second,
		chromedp.Click(chromedp.CSS(`#nav a[data-page="rooms"]`)),
		chromedp.WaitVisible(chromedp.CSS(`#rooms tr[data-room-id="live-2"] button`)),
		chromedp.Click(chromedp.CSS(`#rooms tr[data-room-id="live-2"] button`)),
		chromedp.WaitVisible(chromedp.CSS("#room-owner")),
	)
	b.waitJS("the room's owner", `document.querySelector("#room-owner").textContent === "anchor1"`, 5*time.Second)
	b.checkNames("rooms")
	b.screenshot("rooms")

	// Errors show Tencent's code and text.
	b.run("open a room that does not exist", 10*time.Second,
		chromedp.SetValue(chromedp.CSS("#room-search-id"), "no-such-room"),
		chromedp.Click(chromedp.CSS(`#room-search button[type="submit"]`)),
	)
	b.waitJS("the error with its code", `document.querySelector("#error").textContent.startsWith("Error 100004: ")`, 5*time.Second)
	b.screenshot("error")

	// The link roomd serve prints logs in by itself and leaves no UserSig in the address bar.
	b.run("log out and follow the printed link", 10*time.Second,
		chromedp.Click(chromedp.CSS("#logout")),
		chromedp.WaitVisible(chromedp.CSS("#login-form")),
		chromedp.Navigate(console.LoginURL(srv.URL(), testApp, testAdmin, rest.Sig)),
		chromedp.WaitVisible(chromedp.CSS("#page-callbacks")),
	)
	hash := eval[string](b, "the address", `location.hash`)
	if hash != "#callbacks" {
		t.Errorf("after the login link the address ends in %q", hash)
	}

	// A phone: the callbacks page at 390 × 844.
	b.run("phone size", 10*time.Second,
		chromedp.EmulateViewport(390, 844, chromedp.EmulateScale(2), chromedp.EmulateMobile),
		chromedp.Navigate(srv.URL()+console.Prefix+"#callbacks/"+eventID),
		chromedp.WaitVisible(chromedp.CSS("#event-detail")),
	)
	overflow := eval[bool](b, "horizontal overflow", `document.documentElement.scrollWidth > window.innerWidth + 1`)
	b.screenshot("phone-callbacks")
	if overflow {
		t.Error("the callbacks page is wider than a phone's screen")
	}
	t.Logf("browser suite took %s", time.Since(began).Round(time.Millisecond))
}
