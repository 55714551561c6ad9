// Package browsertest drives a real headless Chromium (Debian's chromium package) from Go
// tests with chromedp: the browser tests of the console (internal/console) and of the demo
// page with the JavaScript client (internal/webclient) share it.
//
// Without a Chromium the tests fail under CI (CI set) and are skipped otherwise.
// Screenshots go to $ROOMD_ARTIFACTS/<name> when set (.ci/run sets it), else to the test's
// artifact directory (kept with go test -artifacts); a failed step saves one named after it.
package browsertest

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// Chromium returns the browser to drive: $ROOMD_CHROMIUM, else the first of Debian's and
// the usual names on PATH. Without one the test fails under CI and is skipped otherwise.
func Chromium(t testing.TB) string {
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

// ArtifactDir is where the screenshots of the tests named name go: $ROOMD_ARTIFACTS/name
// when set, else the test's artifact directory.
func ArtifactDir(t *testing.T, name string) string {
	t.Helper()
	dir := t.ArtifactDir()
	if d := os.Getenv("ROOMD_ARTIFACTS"); d != "" {
		dir = filepath.Join(d, name)
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// Options configure a browser.
type Options struct {
	// Name is the artifact subdirectory (e.g. "console").
	Name string
	// ErrorBox is a CSS selector of the page's error box, whose text a failure reports;
	// "#error" when empty.
	ErrorBox string
	// Width and Height are the window's size; 1280 × 900 when zero.
	Width, Height int
}

// Page is one tab of a headless Chromium.
type Page struct {
	t         *testing.T
	ctx       context.Context
	o         Options
	prefix    string
	Artifacts string
}

// New starts a headless Chromium for the test and returns its first tab. The browser stops
// when the test ends.
func New(t *testing.T, o Options) *Page {
	t.Helper()
	if o.ErrorBox == "" {
		o.ErrorBox = "#error"
	}
	if o.Width == 0 {
		o.Width, o.Height = 1280, 900
	}
	exe := Chromium(t)
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(exe),
		chromedp.NoSandbox, // CI runs as root, where Chromium's sandbox cannot start
		chromedp.Headless,
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.Flag("disable-gpu", true),
		chromedp.WindowSize(o.Width, o.Height),
	)
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancel := chromedp.NewContext(actx)
	t.Cleanup(func() { cancel(); cancelAlloc() })
	// The first call starts the browser, which lives as long as that call's context: no
	// deadline on it.
	if err := chromedp.Do(ctx); err != nil {
		t.Fatalf("start Chromium (%s): %v", exe, err)
	}
	p := &Page{t: t, ctx: ctx, o: o, Artifacts: ArtifactDir(t, o.Name)}
	t.Logf("screenshots in %s", p.Artifacts)
	return p
}

// Tab opens another tab of the same browser, in a window of its own (so that it is never
// hidden behind the other). Its screenshots are named with prefix.
func (p *Page) Tab(prefix string) *Page {
	p.t.Helper()
	ctx, cancel := chromedp.NewContext(p.ctx)
	p.t.Cleanup(cancel)
	// As for the browser: the tab lives as long as the first call's context.
	if err := chromedp.Do(ctx, chromedp.EmulateViewport(int64(p.o.Width), int64(p.o.Height))); err != nil {
		p.t.Fatalf("open a tab: %v", err)
	}
	return &Page{t: p.t, ctx: ctx, o: p.o, prefix: prefix, Artifacts: p.Artifacts}
}

// Named returns the same tab with its screenshots named with prefix.
func (p *Page) Named(prefix string) *Page {
	q := *p
	q.prefix = prefix
	return &q
}

// Run runs actions with a deadline; on failure it saves a screenshot named after what and
// fails the test.
func (p *Page) Run(what string, timeout time.Duration, actions ...chromedp.Action[chromedp.Void]) {
	p.t.Helper()
	if testing.Verbose() {
		defer func(start time.Time) { p.t.Logf("%-40s %s", p.prefix+what, time.Since(start).Round(time.Millisecond)) }(time.Now())
	}
	ctx, cancel := context.WithTimeout(p.ctx, timeout)
	defer cancel()
	if err := chromedp.Do(ctx, actions...); err != nil {
		p.Fail(what, err)
	}
}

// Fail saves a screenshot named after what and fails the test with err and the text of the
// page's error box.
func (p *Page) Fail(what string, err error) {
	p.t.Helper()
	p.Screenshot("FAILED-" + what)
	ctx, cancel := context.WithTimeout(p.ctx, 2*time.Second)
	defer cancel()
	errText, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`document.querySelector(`+JSString(p.o.ErrorBox)+`)?.textContent ?? ""`))
	p.t.Fatalf("%s%s: %v (page error box: %q)", p.prefix, what, err, errText)
}

// Screenshot saves the whole page as name.png (with the tab's prefix).
func (p *Page) Screenshot(name string) {
	p.t.Helper()
	ctx, cancel := context.WithTimeout(p.ctx, 10*time.Second)
	defer cancel()
	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100)) // quality 100: PNG
	if err != nil {
		p.t.Logf("screenshot %s: %v", name, err)
		return
	}
	path := filepath.Join(p.Artifacts, p.prefix+name+".png")
	if err := os.WriteFile(path, png, 0o644); err != nil {
		p.t.Logf("screenshot %s: %v", name, err)
	}
}

// Eval evaluates a JavaScript expression in the page.
func Eval[T any](p *Page, what, expr string) T {
	p.t.Helper()
	ctx, cancel := context.WithTimeout(p.ctx, 5*time.Second)
	defer cancel()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[T](expr))
	if err != nil {
		p.Fail(what, err)
	}
	return v
}

// WaitJS polls a JavaScript expression until it is true or timeout passes and returns how
// long it took.
func (p *Page) WaitJS(what, expr string, timeout time.Duration) time.Duration {
	p.t.Helper()
	start := time.Now()
	deadline := start.Add(timeout)
	for {
		ctx, cancel := context.WithTimeout(p.ctx, 2*time.Second)
		ok, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`!!(`+expr+`)`))
		cancel()
		if err == nil && ok {
			return time.Since(start)
		}
		if time.Now().After(deadline) {
			if err == nil {
				err = fmt.Errorf("still false after %s: %s", timeout, expr)
			}
			p.Fail(what, err)
		}
		time.Sleep(25 * time.Millisecond)
	}
}

// JSString quotes s as a JavaScript string literal.
func JSString(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
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

// CheckNames fails the test when a control of the page has no accessible name.
func (p *Page) CheckNames(where string) {
	p.t.Helper()
	unnamed := Eval[[]string](p, "find unnamed controls", unnamedControls)
	if len(unnamed) > 0 {
		p.Screenshot("FAILED-names-" + where)
		p.t.Fatalf("%s%s: controls without an accessible name: %q", p.prefix, where, unnamed)
	}
}
