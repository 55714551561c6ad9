package app

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/roomd/roomd/client"
	"github.com/roomd/roomd/internal/auth/usersig"
)

const clientUsage = `Usage: roomd client --user U [--room R] [--url URL] [--sdkappid N] [--key KEY | --data DIR] [--platform P]

Connects to roomd's client API as user U and runs the operations typed on standard input,
one a line: a method name, then optional JSON params, for example

  enterRoom {"roomId":"r1"}
  changeUserRole {"roomId":"r1","userId":"bob","role":"roomOwner"}

Every answer and every pushed notification is printed as it arrives, one line each:

  < result {"roomId":"r1"}        the result of the last operation
  < error 100006 message          its error: Tencent code and text
  * onUserRoleChanged {...}       a notification pushed by the server

Empty lines and lines starting with # are skipped. End of input closes the connection.
The UserSig is signed with --key, or for the development app with the key that
"roomd serve" keeps in --data.

Flags:
`

// runClient runs "roomd client": a terminal client of the client API. It returns nil at the
// end of stdin or when ctx ends, and an error when the connection fails or the server
// closes it.
func runClient(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("roomd client", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {}
	user := fs.String("user", "", "UserID to connect as (required)")
	room := fs.String("room", "", "room to enter on connect (enterRoom)")
	endpoint := fs.String("url", "ws://127.0.0.1:8080/v1/client", "client API endpoint")
	app := fs.Uint64("sdkappid", DevSDKAppID, "SDKAppID")
	data := fs.String("data", "./roomd-data", "data directory holding the development key")
	key := fs.String("key", "", "the app's secret key (default: the development key in --data)")
	platform := fs.String("platform", "Unknown", "declared platform: Web, Android, iOS, Windows, Mac, iPad or Unknown")
	printUsage := func(w io.Writer) {
		fmt.Fprint(w, clientUsage)
		fs.SetOutput(w)
		fs.PrintDefaults()
		fs.SetOutput(stderr)
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			printUsage(stdout)
			return nil
		}
		printUsage(stderr)
		return fmt.Errorf("%w: %v", ErrUsage, err)
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("%w: unexpected argument %q", ErrUsage, fs.Arg(0))
	}
	if *user == "" {
		return fmt.Errorf("%w: --user is required", ErrUsage)
	}
	k, err := appKey(*app, *key, *data)
	if err != nil {
		return err
	}
	sig, err := usersig.Sign(*app, k, *user, 24*3600, time.Now())
	if err != nil {
		return err
	}
	dctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	conn, err := client.Dial(dctx, *endpoint, client.Options{SDKAppID: *app, UserID: *user, UserSig: sig, Platform: *platform})
	cancel()
	if err != nil {
		return err
	}
	fmt.Fprintf(stderr, "connected to %s as %s; type: method {json params}\n", *endpoint, *user)

	out := &lineWriter{w: stdout}
	pushes := make(chan struct{})
	go func() { // print notifications as they arrive
		defer close(pushes)
		for n := range conn.Notifications() {
			out.printf("* %s %s\n", n.Method, compactJSON(n.Params))
		}
	}()
	defer func() { // every notification received before the close is printed
		conn.Close()
		<-pushes
	}()

	call := func(method string, params json.RawMessage) {
		cctx, cancel := context.WithTimeout(ctx, 30*time.Second)
		defer cancel()
		var result json.RawMessage
		err := conn.Call(cctx, method, params, &result)
		var ce *client.Error
		switch {
		case err == nil:
			out.printf("< result %s\n", compactJSON(result))
		case errors.As(err, &ce):
			out.printf("< error %d %s\n", ce.Code, ce.Message)
		default:
			out.printf("! %v\n", err)
		}
	}
	if *room != "" {
		params, _ := json.Marshal(map[string]string{"roomId": *room})
		call("enterRoom", params)
	}

	lines := make(chan string)
	go func() {
		defer close(lines)
		sc := bufio.NewScanner(stdin)
		sc.Buffer(make([]byte, 64<<10), 1<<20)
		for sc.Scan() {
			select {
			case lines <- sc.Text():
			case <-conn.Done():
				return
			}
		}
	}()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-conn.Done():
			return fmt.Errorf("connection closed: %w", conn.Err())
		case line, ok := <-lines:
			if !ok {
				return nil
			}
			method, params, err := parseClientLine(line)
			if err != nil {
				out.printf("! %v\n", err)
				continue
			}
			if method != "" {
				call(method, params)
			}
		}
	}
}

// parseClientLine splits a line of "roomd client" input into a method and its params: an
// empty method for a blank line or a # comment, {} when no params follow the name.
func parseClientLine(line string) (string, json.RawMessage, error) {
	line = strings.TrimSpace(line)
	if line == "" || strings.HasPrefix(line, "#") {
		return "", nil, nil
	}
	method, rest, _ := strings.Cut(line, " ")
	rest = strings.TrimSpace(rest)
	if rest == "" {
		return method, json.RawMessage(`{}`), nil
	}
	var obj map[string]json.RawMessage
	if err := json.Unmarshal([]byte(rest), &obj); err != nil || obj == nil {
		return "", nil, fmt.Errorf("params of %s must be a JSON object: %s", method, rest)
	}
	return method, json.RawMessage(rest), nil
}

// appKey returns the secret key to sign UserSigs of app with: key when given, else the
// development app's key kept in dataDir (only the development app has one there).
func appKey(app uint64, key, dataDir string) (string, error) {
	if key != "" {
		return key, nil
	}
	if app != DevSDKAppID {
		return "", fmt.Errorf("%w: --key is required for SDKAppID %d", ErrUsage, app)
	}
	return readDevKey(dataDir)
}

// readDevKey reads the development app's secret key kept in dataDir by "roomd serve".
func readDevKey(dataDir string) (string, error) {
	b, err := os.ReadFile(filepath.Join(dataDir, devKeyFileName))
	if err != nil {
		return "", fmt.Errorf("no --key given and the development key could not be read (start `roomd serve` once first): %w", err)
	}
	k := strings.TrimSpace(string(b))
	if k == "" {
		return "", fmt.Errorf("the development key file in %s is empty", dataDir)
	}
	return k, nil
}

func compactJSON(raw json.RawMessage) string {
	var buf bytes.Buffer
	if err := json.Compact(&buf, raw); err != nil {
		return string(raw)
	}
	return buf.String()
}

// lineWriter serializes whole lines from several goroutines.
type lineWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (l *lineWriter) printf(format string, args ...any) {
	l.mu.Lock()
	defer l.mu.Unlock()
	fmt.Fprintf(l.w, format, args...)
}
