package app

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/roomd/roomd/internal/api/clientws"
	"github.com/roomd/roomd/internal/auth/usersig"
	"github.com/roomd/roomd/internal/errcode"
)

// clientTestServer serves the client API with a two-method table and checks UserSigs
// against key, as roomd does.
func clientTestServer(t *testing.T, key string) string {
	t.Helper()
	var srv *clientws.Server
	srv = clientws.New(clientws.Config{
		Authenticate: func(_ context.Context, app, user, sig string) (clientws.Identity, error) {
			id, _ := strconv.ParseUint(app, 10, 64)
			if _, err := usersig.Verify(sig, id, key, user, time.Now()); err != nil {
				return clientws.Identity{}, errcode.New(errcode.SigMismatch, err.Error())
			}
			return clientws.Identity{App: id, UserID: user}, nil
		},
		Methods: map[string]clientws.Method{
			"enterRoom": func(_ context.Context, s *clientws.Session, p json.RawMessage) (any, error) {
				var r struct{ RoomID string }
				json.Unmarshal(p, &r)
				return map[string]string{"roomId": r.RoomID, "platform": s.Platform()}, srv.Hub().Subscribe(s, r.RoomID)
			},
			"changeUserRole": func(_ context.Context, s *clientws.Session, p json.RawMessage) (any, error) {
				var r struct{ RoomID, UserID, Role string }
				json.Unmarshal(p, &r)
				if r.UserID == "nobody" {
					return nil, errcode.New(errcode.NoPermission, "no permission")
				}
				srv.Hub().PublishRoom(s.App(), r.RoomID, "onUserRoleChanged", map[string]string{"roomId": r.RoomID, "userId": r.UserID, "role": r.Role})
				return nil, nil
			},
		},
	})
	hs := httptest.NewServer(srv)
	t.Cleanup(func() {
		srv.Shutdown(context.Background())
		hs.Close()
	})
	return "ws" + strings.TrimPrefix(hs.URL, "http") + clientws.Path
}

func TestRunClient(t *testing.T) {
	data := t.TempDir()
	const key = "0123456789abcdef"
	if err := os.WriteFile(filepath.Join(data, devKeyFileName), []byte(key+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	url := clientTestServer(t, key)
	stdin := strings.NewReader(strings.Join([]string{
		"# a comment",
		"",
		`changeUserRole {"roomId":"r1","userId":"bob","role":"roomOwner"}`,
		`changeUserRole {"roomId":"r1","userId":"nobody","role":"roomOwner"}`,
		`changeUserRole ["not","an","object"]`,
		"noSuchMethod",
	}, "\n"))
	var stdout, stderr bytes.Buffer
	err := runClient(context.Background(), []string{"--user", "alice", "--room", "r1", "--url", url, "--data", data, "--platform", "ios"},
		stdin, &stdout, &stderr)
	if err != nil {
		t.Fatalf("runClient: %v\n%s", err, stderr.String())
	}
	got := strings.Split(strings.TrimSpace(stdout.String()), "\n")
	want := []string{
		`< result {"platform":"iOS","roomId":"r1"}`,
		`< result {}`,
		`* onUserRoleChanged {"role":"roomOwner","roomId":"r1","userId":"bob"}`,
		`< error 100006 no permission`,
		`! params of changeUserRole must be a JSON object: ["not","an","object"]`,
		`< error -32601 method not found: noSuchMethod`,
	}
	for _, w := range want {
		if !slices.Contains(got, w) {
			t.Errorf("output lacks %q; got:\n%s", w, stdout.String())
		}
	}
	if len(got) != len(want) {
		t.Errorf("got %d lines, want %d:\n%s", len(got), len(want), stdout.String())
	}
}

func TestRunClientUsage(t *testing.T) {
	var stdout, stderr bytes.Buffer
	if err := runClient(context.Background(), []string{"-h"}, strings.NewReader(""), &stdout, &stderr); err != nil {
		t.Fatalf("-h: %v", err)
	}
	if !strings.Contains(stdout.String(), "Usage: roomd client") || !strings.Contains(stdout.String(), "-user") {
		t.Errorf("-h printed:\n%s", stdout.String())
	}
	if err := runClient(context.Background(), nil, strings.NewReader(""), &stdout, &stderr); !errors.Is(err, ErrUsage) {
		t.Errorf("no --user: %v", err)
	}
	err := runClient(context.Background(), []string{"--user", "u", "--data", t.TempDir()}, strings.NewReader(""), &stdout, &stderr)
	if err == nil || !strings.Contains(err.Error(), "development key") {
		t.Errorf("no key: %v", err)
	}
	// A refused connection is reported with its code.
	url := clientTestServer(t, "the-real-key")
	err = runClient(context.Background(), []string{"--user", "u", "--key", "a-wrong-key", "--url", url}, strings.NewReader(""), &stdout, &stderr)
	if err == nil || !strings.Contains(err.Error(), "70009") {
		t.Errorf("wrong key: %v", err)
	}
}
