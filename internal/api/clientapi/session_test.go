package clientapi_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/roomd/roomd/internal/api/clientapi"
	"github.com/roomd/roomd/internal/golden"
)

// sessionGolden holds every frame of the scripted session of TestGoldenSession: what each
// connection sent (">") and received ("<"), step by step. docs/client-protocol.md quotes
// its examples from it (TestProtocolDocExamplesAreGolden).
const sessionGolden = "testdata/session.golden"

// step is one request of the scripted session: user calls method with params; the other
// connections receive others[user] frames (pushes) because of it. The caller reads until
// its response, so the pushes it gets itself come with it.
type step struct {
	note   string
	user   string
	method string
	params string
	others map[string]int
}

// session is the scripted session: three users in one room, every method of the client API
// and every push it makes, and the errors a TUILiveKit client meets most.
var session = []step{
	{"alice creates a room; she is its owner", "alice", "createRoom", `{"roomId":"live-1","roomName":"Friday night","coverUrl":"https://example.com/cover.png","notice":"Welcome"}`, nil},
	{"creating it again answers 100010 (it exists and is hers)", "alice", "createRoom", `{"roomId":"live-1"}`, nil},
	{"alice enters her room", "alice", "enterRoom", `{"roomId":"live-1"}`, nil},
	{"bob enters: alice is told", "bob", "enterRoom", `{"roomId":"live-1"}`, map[string]int{"alice": 1}},
	{"carol enters: alice and bob are told", "carol", "enterRoom", `{"roomId":"live-1"}`, map[string]int{"alice": 1, "bob": 1}},
	{"bob reads the room", "bob", "fetchRoomInfo", `{"roomId":"live-1"}`, nil},
	{"alice lists the members", "alice", "getUserList", `{"roomId":"live-1"}`, nil},
	{"bob, a member, may not set metadata: 100006", "bob", "setRoomMetadataByAdmin", `{"roomId":"live-1","metadata":{"topic":"jazz"}}`, nil},
	{"alice sets metadata: every member is told", "alice", "setRoomMetadataByAdmin", `{"roomId":"live-1","metadata":{"topic":"music","seats":"8"}}`, map[string]int{"bob": 1, "carol": 1}},
	{"bob reads a key", "bob", "getRoomMetadata", `{"roomId":"live-1","keys":["topic"]}`, nil},
	{"alice deletes a key: every member is told", "alice", "deleteRoomMetadataByAdmin", `{"roomId":"live-1","keys":["seats"]}`, map[string]int{"bob": 1, "carol": 1}},
	{"alice makes bob an admin", "alice", "changeUserRole", `{"roomId":"live-1","userId":"bob","role":"administrator"}`, map[string]int{"bob": 1, "carol": 1}},
	{"bob, an admin, renames the room", "bob", "updateRoomNameByAdmin", `{"roomId":"live-1","roomName":"Saturday night"}`, map[string]int{"alice": 1, "carol": 1}},
	{"bob updates more of the room's information", "bob", "updateRoomInfoByAdmin", `{"roomId":"live-1","notice":"Be kind","category":[1,2]}`, map[string]int{"alice": 1, "carol": 1}},
	{"bob mutes carol for 10 minutes", "bob", "disableSendingMessageByAdmin", `{"roomId":"live-1","userId":"carol","isDisable":true,"duration":600}`, map[string]int{"alice": 1, "carol": 1}},
	{"carol, muted, cannot send: 10017", "carol", "sendTextMessage", `{"roomId":"live-1","text":"hi"}`, nil},
	{"bob lifts carol's mute", "bob", "disableSendingMessageByAdmin", `{"roomId":"live-1","userId":"carol","isDisable":false}`, map[string]int{"alice": 1, "carol": 1}},
	{"alice disables the room's chat", "alice", "disableSendingMessageForAllUser", `{"roomId":"live-1","isDisable":true}`, map[string]int{"bob": 2, "carol": 2}},
	{"carol, neither owner nor admin, cannot send: 10017", "carol", "sendTextMessage", `{"roomId":"live-1","text":"hi"}`, nil},
	{"alice enables the chat again", "alice", "disableSendingMessageForAllUser", `{"roomId":"live-1","isDisable":false}`, map[string]int{"bob": 2, "carol": 2}},
	{"bob sends a text message: the others receive it", "bob", "sendTextMessage", `{"roomId":"live-1","text":"hello"}`, map[string]int{"alice": 1, "carol": 1}},
	{"alice sends a custom message: the others receive it", "alice", "sendCustomMessage", `{"roomId":"live-1","businessId":"gift","data":"{\"giftId\":\"rose\",\"count\":3}"}`, map[string]int{"bob": 1, "carol": 1}},
	{"carol, a member, may not kick: 100006", "carol", "kickRemoteUserOutOfRoom", `{"roomId":"live-1","userId":"bob"}`, nil},
	{"bob, an admin, kicks carol", "bob", "kickRemoteUserOutOfRoom", `{"roomId":"live-1","userId":"carol"}`, map[string]int{"alice": 1, "carol": 1}},
	{"carol is no longer in the room on this connection: 100005", "carol", "sendTextMessage", `{"roomId":"live-1","text":"hi"}`, nil},
	{"alice transfers the room to bob", "alice", "changeUserRole", `{"roomId":"live-1","userId":"bob","role":"roomOwner"}`, map[string]int{"bob": 2}},
	{"an unknown role: 100002", "alice", "changeUserRole", `{"roomId":"live-1","userId":"bob","role":"boss"}`, nil},
	{"alice leaves", "alice", "exitRoom", `{"roomId":"live-1"}`, map[string]int{"bob": 1}},
	{"and comes back", "alice", "enterRoom", `{"roomId":"live-1"}`, map[string]int{"bob": 1}},
	{"alice is no longer the owner and may not dissolve the room: 100006", "alice", "destroyRoom", `{"roomId":"live-1"}`, nil},
	{"bob, the owner, dissolves it", "bob", "destroyRoom", `{"roomId":"live-1"}`, map[string]int{"alice": 1}},
	{"the room is gone: 100004", "alice", "fetchRoomInfo", `{"roomId":"live-1"}`, nil},
	{"bob is in no room any more: 100005", "bob", "exitRoom", `{"roomId":"live-1"}`, nil},
	{"carol's last frame", "carol", "fetchRoomInfo", `{"roomId":"live-1"}`, nil},
	{"alice opens a second room, for gifts", "alice", "createRoom", `{"roomId":"live-2"}`, nil},
	{"alice enters it", "alice", "enterRoom", `{"roomId":"live-2"}`, nil},
	{"bob enters: alice is told", "bob", "enterRoom", `{"roomId":"live-2"}`, map[string]int{"alice": 1}},
	{"carol enters: alice and bob are told", "carol", "enterRoom", `{"roomId":"live-2"}`, map[string]int{"alice": 1, "bob": 1}},
	{"bob lists the app's gifts", "bob", "getGiftList", `{"roomId":"live-2","language":"zh-Hans"}`, nil},
	{"carol sends 3 roses to the owner: everyone is told, carol too", "carol", "sendGift", `{"roomId":"live-2","giftId":"rose","count":3}`, map[string]int{"alice": 2, "bob": 2}},
	{"a gift the app does not have: 102002", "carol", "sendGift", `{"roomId":"live-2","giftId":"tulip"}`, nil},
	{"bob likes the room twice: everyone is told", "bob", "sendLike", `{"roomId":"live-2","count":2}`, map[string]int{"alice": 1, "carol": 1}},
	{"alice reads the room's gift totals", "alice", "getGiftCountByAnchor", `{"roomId":"live-2"}`, nil},
	{"alice reads the room's likes (her last frame)", "alice", "getLikesCount", `{"roomId":"live-2"}`, nil},
	{"bob's last frame", "bob", "getLikesCount", `{"roomId":"live-2"}`, nil},
	{"carol's last frame, again", "carol", "getLikesCount", `{"roomId":"live-2"}`, nil},
	{"carol follows alice and bob (dave is no account: 30003)", "carol", "followUser", `{"userIDList":["alice","bob","dave"]}`, nil},
	{"alice follows carol back", "alice", "followUser", `{"userIDList":["carol"]}`, nil},
	{"carol checks how she and alice, bob relate", "carol", "checkFollowType", `{"userIDList":["alice","bob"]}`, nil},
	{"carol lists whom she follows", "carol", "getMyFollowingList", `{}`, nil},
	{"alice lists her followers", "alice", "getMyFollowersList", `{}`, nil},
	{"carol lists her mutual followers", "carol", "getMutualFollowersList", `{}`, nil},
	{"carol unfollows bob", "carol", "unfollowUser", `{"userIDList":["bob"]}`, nil},
	{"alice creates a room with seats, where taking one needs an application", "alice", "createRoom", `{"roomId":"stage","isSeatEnabled":true,"takeSeatMode":"ApplyToTake","maxSeatCount":3}`, nil},
	{"alice enters it", "alice", "enterRoom", `{"roomId":"stage"}`, nil},
	{"bob enters it", "bob", "enterRoom", `{"roomId":"stage"}`, map[string]int{"alice": 1}},
	{"carol enters it", "carol", "enterRoom", `{"roomId":"stage"}`, map[string]int{"alice": 1, "bob": 1}},
	{"alice, the owner, takes seat 0 without applying", "alice", "takeSeat", `{"roomId":"stage","seatIndex":0}`, map[string]int{"bob": 1, "carol": 1}},
	{"bob reads the seats", "bob", "getSeatList", `{"roomId":"stage"}`, nil},
	{"bob applies for any free seat, waiting up to 60 s: alice is asked", "bob", "takeSeat", `{"roomId":"stage","seatIndex":-1,"timeout":60}`, map[string]int{"alice": 1}},
	{"alice lists the applications", "alice", "getSeatApplicationList", `{"roomId":"stage"}`, nil},
	{"alice agrees: bob is told and sits down", "alice", "responseRemoteRequest", `{"roomId":"stage","requestId":"1748779200000-bob","agree":true}`, map[string]int{"bob": 2, "carol": 1}},
	{"carol applies for seat 2", "carol", "takeSeat", `{"roomId":"stage","seatIndex":2}`, map[string]int{"alice": 1}},
	{"carol withdraws her application: alice is told", "carol", "cancelRequest", `{"roomId":"stage","requestId":"1748779200000-carol"}`, map[string]int{"alice": 1}},
	{"carol applies again", "carol", "takeSeat", `{"roomId":"stage","seatIndex":2}`, map[string]int{"alice": 1}},
	{"alice refuses: carol is told", "alice", "responseRemoteRequest", `{"roomId":"stage","requestId":"1748779200000-carol","agree":false}`, map[string]int{"carol": 1}},
	{"bob moves to seat 2", "bob", "moveToSeat", `{"roomId":"stage","targetSeatIndex":2}`, map[string]int{"alice": 1, "carol": 1}},
	{"alice locks seat 1", "alice", "lockSeatByAdmin", `{"roomId":"stage","seatIndex":1,"lockParams":{"lockSeat":true,"lockVideo":false,"lockAudio":false}}`, map[string]int{"bob": 1, "carol": 1}},
	{"a locked seat refuses users: 100200", "alice", "takeUserOnSeatByAdmin", `{"roomId":"stage","seatIndex":1,"userId":"carol"}`, nil},
	{"alice unlocks seat 1", "alice", "lockSeatByAdmin", `{"roomId":"stage","seatIndex":1,"lockParams":{"lockSeat":false}}`, map[string]int{"bob": 1, "carol": 1}},
	{"alice takes carol on seat 1", "alice", "takeUserOnSeatByAdmin", `{"roomId":"stage","seatIndex":1,"userId":"carol"}`, map[string]int{"bob": 1, "carol": 1}},
	{"alice kicks bob off his seat", "alice", "kickUserOffSeatByAdmin", `{"roomId":"stage","seatIndex":2,"userId":"bob"}`, map[string]int{"bob": 2, "carol": 1}},
	{"carol leaves her seat", "carol", "leaveSeat", `{"roomId":"stage"}`, map[string]int{"alice": 1, "bob": 1}},
	{"bob, on no seat, moves: 100002", "bob", "moveToSeat", `{"roomId":"stage","targetSeatIndex":1}`, nil},
	{"alice reads the seats (her last frame)", "alice", "getSeatList", `{"roomId":"stage"}`, nil},
	{"carol reads the seats (her last frame)", "carol", "getSeatList", `{"roomId":"stage"}`, nil},
	{"alice opens another room", "alice", "createRoom", `{"roomId":"live-3"}`, nil},
	{"alice enters it", "alice", "enterRoom", `{"roomId":"live-3"}`, nil},
	{"bob watches it: alice is told", "bob", "enterRoom", `{"roomId":"live-3"}`, map[string]int{"alice": 1}},
	{"carol opens a room of her own", "carol", "createRoom", `{"roomId":"live-4"}`, nil},
	{"carol enters it", "carol", "enterRoom", `{"roomId":"live-4"}`, nil},
	{"alice asks carol's room to a battle: carol is asked", "alice", "requestBattle", `{"roomId":"live-3","roomIdList":["live-4"],"config":{"duration":300,"needResponse":true,"extensionInfo":"round 1"},"timeout":10}`, map[string]int{"carol": 1}},
	{"carol accepts: alice is told, both rooms see the start", "carol", "acceptBattle", `{"battleId":"vWb4tFxmesBPBbBnNEelh8rTKl+NPe2W1XozZbc4AT0="}`, map[string]int{"alice": 2, "bob": 1}},
	{"carol exits: one room is left and the battle ends", "carol", "exitBattle", `{"battleId":"vWb4tFxmesBPBbBnNEelh8rTKl+NPe2W1XozZbc4AT0="}`, map[string]int{"alice": 2, "bob": 2}},
	{"alice asks again", "alice", "requestBattle", `{"roomId":"live-3","roomIdList":["live-4"],"config":{"duration":300,"needResponse":true}}`, map[string]int{"carol": 1}},
	{"carol rejects: alice is told", "carol", "rejectBattle", `{"battleId":"W9J9k1PH/Ri1uvBZh6an6gZnaKV9zcwmElz8bPdWmzo="}`, map[string]int{"alice": 1}},
	{"that battle is over: 100006", "carol", "acceptBattle", `{"battleId":"W9J9k1PH/Ri1uvBZh6an6gZnaKV9zcwmElz8bPdWmzo="}`, nil},
	{"bob's last battle frame", "bob", "fetchRoomInfo", `{"roomId":"live-3"}`, nil},
	{"alice's last battle frame", "alice", "fetchRoomInfo", `{"roomId":"live-4"}`, nil},
	{"carol's last battle frame", "carol", "fetchRoomInfo", `{"roomId":"live-3"}`, nil},
	{"alice creates an audio salon of 4 seats, seat 0 kept for her", "alice", "createRoom", `{"roomId":"salon","isSeatEnabled":true,"seatTemplate":"AudioSalon","maxSeatCount":4,"keepOwnerOnSeat":true}`, nil},
	{"an unknown seat template: 100002", "alice", "createRoom", `{"roomId":"salon-2","seatTemplate":"Opera"}`, nil},
	{"alice enters the salon: she is seated on seat 0", "alice", "enterRoom", `{"roomId":"salon"}`, nil},
	{"alice reads its seats (her last frame)", "alice", "getSeatList", `{"roomId":"salon"}`, nil},
}

// sessionUsers are the connections of the session, with their declared platforms.
var sessionUsers = []struct{ user, platform string }{{"alice", "iOS"}, {"bob", "Android"}, {"carol", "Web"}}

// reader collects the frames a connection receives (reading also answers the server's pings).
type reader struct {
	conn   *websocket.Conn
	frames chan []byte
}

func newReader(c *websocket.Conn) *reader {
	r := &reader{conn: c, frames: make(chan []byte, 64)}
	go func() {
		defer close(r.frames)
		for {
			_, data, err := c.Read(context.Background())
			if err != nil {
				return
			}
			r.frames <- data
		}
	}()
	return r
}

func (r *reader) next(t *testing.T, who string) []byte {
	t.Helper()
	select {
	case f, ok := <-r.frames:
		if !ok {
			t.Fatalf("%s: the connection ended", who)
		}
		return f
	case <-time.After(10 * time.Second):
		t.Fatalf("%s: no frame within 10 s", who)
	}
	return nil
}

// TestGoldenSession runs the scripted session against a real server and pins every frame
// in testdata/session.golden (ROOMD_UPDATE_GOLDEN=1 rewrites it). Each connection's last
// step is a request whose response proves it received nothing more.
func TestGoldenSession(t *testing.T) { goldenSession(t) }

// TestGoldenSessionThroughPublisher is TestGoldenSession with every room's pushes made by
// the publisher's goroutine, as a large room's are: the frames, and their order on each
// connection, are the same (a caller's pushes before its response).
func TestGoldenSessionThroughPublisher(t *testing.T) {
	clientapi.PushAllThroughPublisher(t)
	goldenSession(t)
}

func goldenSession(t *testing.T) {
	ts := startServer(t)
	seedGifts(t, ts) // gifts_session_test.go
	readers := map[string]*reader{}
	for _, u := range sessionUsers {
		readers[u.user] = newReader(ts.dial(t, u.user, u.platform))
	}
	ids := map[string]int{}
	var out bytes.Buffer
	out.WriteString("# The scripted session of TestGoldenSession (internal/api/clientapi/session_test.go).\n")
	out.WriteString("# \"user > frame\" is a frame the user's connection sent, \"user < frame\" one it received.\n")
	out.WriteString("# Platforms: alice iOS, bob Android, carol Web. The server's clock stands at 2025-06-01T12:00:00Z.\n")
	for i, s := range session {
		ids[s.user]++
		id := ids[s.user]
		req := fmt.Sprintf(`{"jsonrpc":"2.0","id":%d,"method":%q,"params":%s}`, id, s.method, s.params)
		if !json.Valid([]byte(req)) {
			t.Fatalf("step %d: the request is not JSON: %s", i+1, req)
		}
		fmt.Fprintf(&out, "\n# %d. %s\n%s > %s\n", i+1, s.note, s.user, req)
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		err := readers[s.user].conn.Write(ctx, websocket.MessageText, []byte(req))
		cancel()
		if err != nil {
			t.Fatalf("step %d: write: %v", i+1, err)
		}
		for {
			f := readers[s.user].next(t, s.user)
			fmt.Fprintf(&out, "%s < %s\n", s.user, f)
			var resp struct {
				ID json.RawMessage `json:"id"`
			}
			if json.Unmarshal(f, &resp) == nil && string(resp.ID) == fmt.Sprint(id) {
				break
			}
		}
		for _, u := range sessionUsers {
			for range s.others[u.user] {
				fmt.Fprintf(&out, "%s < %s\n", u.user, readers[u.user].next(t, u.user))
			}
		}
	}
	golden.Check(t, sessionGolden, out.Bytes())
}

// goldenFrames returns every frame of the golden files the client API's documentation may
// quote: this package's session and the transport's frames (internal/api/clientws/testdata).
func goldenFrames(t *testing.T) map[string]bool {
	t.Helper()
	frames := map[string]bool{}
	b, err := os.ReadFile(sessionGolden)
	if err != nil {
		t.Fatal(err)
	}
	line := regexp.MustCompile(`^[a-z]+ [<>] (.*)$`)
	for l := range strings.Lines(string(b)) {
		if m := line.FindStringSubmatch(strings.TrimSuffix(l, "\n")); m != nil {
			frames[m[1]] = true
		}
	}
	others, err := os.ReadDir("../clientws/testdata")
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range others {
		if strings.HasSuffix(e.Name(), ".golden") {
			b, err := os.ReadFile("../clientws/testdata/" + e.Name())
			if err != nil {
				t.Fatal(err)
			}
			frames[strings.TrimSpace(string(b))] = true
		}
	}
	return frames
}

// docJSONBlocks returns the JSON values of the ```json blocks of a Markdown document (a block
// may hold several), compacted, with the line each block starts on.
func docJSONBlocks(t *testing.T, doc []byte) (values []string, lines []int) {
	t.Helper()
	sc := bufio.NewScanner(bytes.NewReader(doc))
	n, start := 0, 0
	var block *bytes.Buffer
	for sc.Scan() {
		n++
		text := strings.TrimSpace(sc.Text())
		switch {
		case block == nil && text == "```json":
			block, start = &bytes.Buffer{}, n
		case block != nil && text == "```":
			dec := json.NewDecoder(block)
			for {
				var v json.RawMessage
				if err := dec.Decode(&v); err != nil {
					if err.Error() != "EOF" {
						t.Errorf("docs/client-protocol.md:%d: a json block is not JSON: %v", start, err)
					}
					break
				}
				var c bytes.Buffer
				json.Compact(&c, v)
				values, lines = append(values, c.String()), append(lines, start)
			}
			block = nil
		case block != nil:
			block.WriteString(sc.Text() + "\n")
		}
	}
	return values, lines
}

// TestProtocolDocExamplesAreGolden keeps docs/client-protocol.md and the golden files from
// drifting apart: every frame in a ```json block of the document is, byte for byte (modulo
// whitespace between tokens), a frame of the golden files; and every method of the method
// table, and every push, is documented under its own heading with an example.
func TestProtocolDocExamplesAreGolden(t *testing.T) {
	doc, err := os.ReadFile("../../../docs/client-protocol.md")
	if err != nil {
		t.Fatal(err)
	}
	frames := goldenFrames(t)
	values, lines := docJSONBlocks(t, doc)
	if len(values) < 20 {
		t.Fatalf("docs/client-protocol.md has only %d json examples", len(values))
	}
	for i, v := range values {
		if !frames[v] {
			t.Errorf("docs/client-protocol.md:%d shows a frame that no golden file holds:\n%s", lines[i], v)
		}
	}
	text := string(doc)
	for _, m := range clientapi.MethodNames() {
		if !strings.Contains(text, "\n### `"+m+"`\n") {
			t.Errorf("docs/client-protocol.md has no section \"### `%s`\"", m)
		}
	}
	for _, p := range pushNames(t) {
		if !strings.Contains(text, "\n### `"+p+"`\n") {
			t.Errorf("docs/client-protocol.md has no section \"### `%s`\"", p)
		}
	}
}

// pushNames returns the names of the notifications pushes.go sends.
func pushNames(t *testing.T) []string {
	t.Helper()
	src, err := os.ReadFile("pushes.go")
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, m := range regexp.MustCompile(`"(on[A-Z][A-Za-z]+)"`).FindAllStringSubmatch(string(src), -1) {
		if !slices.Contains(names, m[1]) {
			names = append(names, m[1])
		}
	}
	slices.Sort(names)
	return names
}

// TestSessionCoversTheAPI checks that the scripted session calls every method and shows
// every push, so that the document can quote an example of each.
func TestSessionCoversTheAPI(t *testing.T) {
	b, err := os.ReadFile(sessionGolden)
	if err != nil {
		t.Fatal(err)
	}
	g := string(b)
	for _, m := range clientapi.MethodNames() {
		if !strings.Contains(g, `"method":"`+m+`","params"`) {
			t.Errorf("the session never calls %s", m)
		}
	}
	for _, p := range pushNames(t) {
		if !strings.Contains(g, `< {"jsonrpc":"2.0","method":"`+p+`"`) {
			t.Errorf("the session never receives %s", p)
		}
	}
}
