package clientapi

import (
	"context"
	"encoding/json"

	"github.com/roomd/roomd/internal/api/clientws"
	"github.com/roomd/roomd/internal/room"
)

// Gifts and likes, named after TUIRoomEngine's gift extension (TUILiveGiftManager): the
// methods getGiftList, sendGift, sendLike, getGiftCountByAnchor and getLikesCount, and
// the pushes of its observer (TUILiveGiftObserver) onReceiveGiftMessage,
// onGiftCountChanged and onReceiveLikesMessage.

// giftWire is a gift as the client API shows it (TUIGiftInfo's names).
type giftWire struct {
	GiftID        string          `json:"giftId"`
	Name          string          `json:"name"`
	Desc          string          `json:"desc"`
	IconURL       string          `json:"iconUrl"`
	ResourceURL   string          `json:"resourceUrl"`
	Level         int64           `json:"level"`
	Coins         int64           `json:"coins"`
	ExtensionInfo json.RawMessage `json:"extensionInfo"`
}

// categoryWire is a gift category (TUIGiftCategory's names) with its gifts.
type categoryWire struct {
	CategoryID    string          `json:"categoryId"`
	Name          string          `json:"name"`
	Desc          string          `json:"desc"`
	ExtensionInfo json.RawMessage `json:"extensionInfo"`
	GiftList      []giftWire      `json:"giftList"`
}

// extensionObject returns an ExtensionInfo as the object TUIGiftInfo.extensionInfo is: the
// JSON object it holds, or {} when it holds none.
func extensionObject(s string) json.RawMessage {
	var m map[string]json.RawMessage
	if s == "" || json.Unmarshal([]byte(s), &m) != nil || m == nil {
		return json.RawMessage(`{}`)
	}
	return json.RawMessage(s)
}

// localise returns the name and description in lang when the configuration has them,
// otherwise the defaults; an empty localised description keeps the default.
func localise(ls []room.GiftLanguage, id, lang, name, desc string) (string, string) {
	for _, l := range ls {
		if l.ID == id && l.Language == lang {
			if l.Desc != "" {
				desc = l.Desc
			}
			return l.Name, desc
		}
	}
	return name, desc
}

func giftOf(g room.Gift, ls []room.GiftLanguage, lang string) giftWire {
	name, desc := localise(ls, g.ID, lang, g.DefaultName, g.DefaultDesc)
	return giftWire{GiftID: g.ID, Name: name, Desc: desc, IconURL: g.IconURL, ResourceURL: g.ResourceURL, Level: g.Level,
		Coins: g.Coins, ExtensionInfo: extensionObject(g.ExtensionInfo)}
}

type giftListParams struct {
	RoomID string `json:"roomId"`
	// Language, when set ("en", "zh-Hans", "zh-Hant"), picks the names and descriptions.
	Language string `json:"language"`
}

// getGiftList answers the app's gift configuration as TUILiveGiftManager.getGiftList does:
// the categories in the order added, each with its gifts; gifts in no category follow in
// one more category whose categoryId is "".
func (api *API) getGiftList(ctx context.Context, s *clientws.Session, p giftListParams) (any, error) {
	if _, err := api.o.Rooms.Get(ctx, s.App(), p.RoomID); err != nil {
		return nil, err
	}
	cfg, err := api.o.Gifts.Config(ctx, s.App())
	if err != nil {
		return nil, err
	}
	gifts := make(map[string]room.Gift, len(cfg.Gifts))
	for _, g := range cfg.Gifts {
		gifts[g.ID] = g
	}
	placed := map[string]bool{}
	list := make([]categoryWire, 0, len(cfg.Categories)+1)
	for _, c := range cfg.Categories {
		name, desc := localise(cfg.CategoryLanguages, c.ID, p.Language, c.DefaultName, c.DefaultDesc)
		cw := categoryWire{CategoryID: c.ID, Name: name, Desc: desc, ExtensionInfo: extensionObject(c.ExtensionInfo), GiftList: []giftWire{}}
		for _, r := range cfg.Relations {
			if r.CategoryID == c.ID {
				cw.GiftList = append(cw.GiftList, giftOf(gifts[r.GiftID], cfg.GiftLanguages, p.Language))
				placed[r.GiftID] = true
			}
		}
		list = append(list, cw)
	}
	rest := categoryWire{ExtensionInfo: json.RawMessage(`{}`), GiftList: []giftWire{}}
	for _, g := range cfg.Gifts {
		if !placed[g.ID] {
			rest.GiftList = append(rest.GiftList, giftOf(g, cfg.GiftLanguages, p.Language))
		}
	}
	if len(rest.GiftList) > 0 {
		list = append(list, rest)
	}
	return map[string]any{"giftCategoryList": list}, nil
}

type sendGiftParams struct {
	RoomID string `json:"roomId"`
	GiftID string `json:"giftId"`
	// Count is how many; 1 when absent.
	Count *int64 `json:"count"`
}

// sendGift sends count of a gift from the user to the room's owner (the anchor), through
// Live.CallbackBeforeSendGift: a veto reaches the client with the code it answers.
func (api *API) sendGift(ctx context.Context, s *clientws.Session, p sendGiftParams) (any, error) {
	if err := api.requireEntered(s, p.RoomID); err != nil {
		return nil, err
	}
	r, err := api.o.Rooms.Get(ctx, s.App(), p.RoomID)
	if err != nil {
		return nil, err
	}
	count := int64(1)
	if p.Count != nil {
		count = *p.Count
	}
	return nil, api.o.Gifts.SendGift(ctx, api.actor(s), room.GiftSend{RoomID: p.RoomID, GiftID: p.GiftID, Count: count,
		Sender: s.UserID(), Receivers: []string{r.Owner}})
}

type sendLikeParams struct {
	RoomID string `json:"roomId"`
	// Count is how many likes; 1 when absent.
	Count *int64 `json:"count"`
}

func (api *API) sendLike(ctx context.Context, s *clientws.Session, p sendLikeParams) (any, error) {
	if err := api.requireEntered(s, p.RoomID); err != nil {
		return nil, err
	}
	count := int64(1)
	if p.Count != nil {
		count = *p.Count
	}
	return nil, api.o.Gifts.SendLike(ctx, api.actor(s), p.RoomID, count)
}

func (api *API) getGiftCountByAnchor(ctx context.Context, s *clientws.Session, p roomParams) (any, error) {
	st, err := api.o.Rooms.Stats(ctx, s.App(), p.RoomID)
	if err != nil {
		return nil, err
	}
	return giftCounts(p.RoomID, st), nil
}

func (api *API) getLikesCount(ctx context.Context, s *clientws.Session, p roomParams) (any, error) {
	st, err := api.o.Rooms.Stats(ctx, s.App(), p.RoomID)
	if err != nil {
		return nil, err
	}
	return map[string]any{"totalLikesReceived": st.TotalLikesReceived}, nil
}

func giftCounts(roomID string, st room.Stats) map[string]any {
	return map[string]any{"roomId": roomID, "totalGiftsSent": st.TotalGiftsSent, "totalGiftCoins": st.TotalGiftCoins,
		"totalUniqueGiftSenders": st.TotalUniqueGiftSenders}
}

// observeGift pushes a gift or a like to every connection in the room, the sender's
// included: onReceiveGiftMessage then onGiftCountChanged for a gift, onReceiveLikesMessage
// for likes.
func (api *API) observeGift(ev room.Event) {
	h := ev.Head()
	switch e := ev.(type) {
	case room.GiftSent:
		api.publish(h, "onReceiveGiftMessage", map[string]any{"roomId": h.RoomID, "giftInfo": giftOf(e.Gift, nil, ""),
			"giftCount": e.Count, "sender": userInfo{UserID: e.Sender}, "receivers": e.Receivers})
		api.publish(h, "onGiftCountChanged", giftCounts(h.RoomID, e.Totals))
	case room.LikeSent:
		api.publish(h, "onReceiveLikesMessage", map[string]any{"roomId": h.RoomID, "totalLikesReceived": e.TotalLikesReceived,
			"sender": userInfo{UserID: e.Sender}})
	}
}
