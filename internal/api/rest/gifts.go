package rest

import (
	"context"
	"time"

	"github.com/roomd/roomd/internal/errcode"
	"github.com/roomd/roomd/internal/room"
	"github.com/roomd/roomd/internal/store"
)

// The gift APIs: the app's gift configuration (1 call per second each, 100012 beyond;
// copy_default_gift_config 1 per 10 s), send_gift and get_gift_count. Field names are
// Tencent's: IconUrl and ResourceUrl (not …URL, which one table of get_gift spells). The
// getters of one gift, category or language answer at the top level of the envelope
// (GiftInfo, GiftCategoryInfo, CategoryInfo); the two language getters also answer
// Response.Language, which Tencent's Manager console reads.

// giftConfig is the route of a gift configuration API: 1 call per second per app, 100012
// beyond; top puts its payload at the top level of the envelope.
func (h *Handler) giftConfig(top bool, fn func(context.Context, *call) (any, error)) *route {
	return &route{h: fn, fam: errcode.Live, topLevel: top, rate: 1, limitCode: errcode.GiftConfigFrequency}
}

// copyDefaultGiftConfig is the route of copy_default_gift_config: 1 call per 10 seconds.
func (h *Handler) copyDefaultGiftConfig() *route {
	return &route{h: h.copyDefaultGifts, fam: errcode.Live, rate: 1, window: 10 * time.Second, limitCode: errcode.GiftConfigFrequency}
}

// giftRequest is the gift object of add_gift and edit_gift.
type giftRequest struct {
	GiftId        string  `json:"GiftId"`
	IconUrl       *string `json:"IconUrl"`
	ResourceUrl   *string `json:"ResourceUrl"`
	Coins         *int64  `json:"Coins"`
	Level         *int64  `json:"Level"`
	ExtensionInfo *string `json:"ExtensionInfo"`
	DefaultName   *string `json:"DefaultName"`
	DefaultDesc   *string `json:"DefaultDesc"`
}

func (r giftRequest) def() room.GiftDef {
	return room.GiftDef{ID: r.GiftId, IconURL: r.IconUrl, ResourceURL: r.ResourceUrl, Coins: r.Coins, Level: r.Level,
		ExtensionInfo: r.ExtensionInfo, DefaultName: r.DefaultName, DefaultDesc: r.DefaultDesc}
}

func (h *Handler) addGift(ctx context.Context, c *call) (any, error) {
	var req giftRequest
	if err := c.decode(&req); err != nil {
		return nil, err
	}
	return nil, h.o.Gifts.AddGift(ctx, c.actor(), req.def())
}

func (h *Handler) editGift(ctx context.Context, c *call) (any, error) {
	var req giftRequest
	if err := c.decode(&req); err != nil {
		return nil, err
	}
	return nil, h.o.Gifts.EditGift(ctx, c.actor(), req.def())
}

type giftIDRequest struct {
	GiftId string `json:"GiftId"`
}

func (h *Handler) delGift(ctx context.Context, c *call) (any, error) {
	var req giftIDRequest
	if err := c.decode(&req); err != nil {
		return nil, err
	}
	return nil, h.o.Gifts.DelGift(ctx, c.actor(), req.GiftId)
}

// giftInfo is get_gift's GiftInfo.
type giftInfo struct {
	GiftId        string `json:"GiftId"`
	IconUrl       string `json:"IconUrl"`
	ResourceUrl   string `json:"ResourceUrl"`
	Coins         int64  `json:"Coins"`
	Level         int64  `json:"Level"`
	ExtensionInfo string `json:"ExtensionInfo"`
	DefaultName   string `json:"DefaultName"`
	DefaultDesc   string `json:"DefaultDesc"`
}

func (h *Handler) getGift(ctx context.Context, c *call) (any, error) {
	var req giftIDRequest
	if err := c.decode(&req); err != nil {
		return nil, err
	}
	g, err := h.o.Gifts.GetGift(ctx, c.actor(), req.GiftId)
	if err != nil {
		return nil, err
	}
	return struct {
		GiftInfo giftInfo `json:"GiftInfo"`
	}{giftInfo{GiftId: g.ID, IconUrl: g.IconURL, ResourceUrl: g.ResourceURL, Coins: g.Coins, Level: g.Level,
		ExtensionInfo: g.ExtensionInfo, DefaultName: g.DefaultName, DefaultDesc: g.DefaultDesc}}, nil
}

type giftLanguageItem struct {
	Language string `json:"Language"`
	Name     string `json:"Name"`
	Desc     string `json:"Desc"`
}

type giftListItem struct {
	GiftId        string             `json:"GiftId"`
	Name          string             `json:"Name"`
	Desc          string             `json:"Desc"`
	IconUrl       string             `json:"IconUrl"`
	Coins         int64              `json:"Coins"`
	ResourceUrl   string             `json:"ResourceUrl"`
	Level         int64              `json:"Level"`
	ExtensionInfo string             `json:"ExtensionInfo"`
	CreateTime    int64              `json:"CreateTime"`
	LanguageList  []giftLanguageItem `json:"LanguageList"`
}

type categoryLanguageItem struct {
	Language     string `json:"Language"`
	CategoryName string `json:"CategoryName"`
	CategoryDesc string `json:"CategoryDesc"`
}

type categoryListItem struct {
	CategoryId    string                 `json:"CategoryId"`
	CategoryName  string                 `json:"CategoryName"`
	CategoryDesc  string                 `json:"CategoryDesc"`
	ExtensionInfo string                 `json:"ExtensionInfo"`
	GiftIdList    []string               `json:"GiftIdList"`
	LanguageList  []categoryLanguageItem `json:"LanguageList"`
}

// getGiftInfoList answers the whole configuration, in the shape Tencent's Manager console
// parses: gifts (Name and Desc are the defaults) and categories, each with its languages.
func (h *Handler) getGiftInfoList(ctx context.Context, c *call) (any, error) {
	var req struct{}
	if err := c.decode(&req); err != nil {
		return nil, err
	}
	if !c.actor().AppAdmin {
		return nil, room.ErrGiftAdminOnly
	}
	cfg, err := h.o.Gifts.Config(ctx, c.app.ID)
	if err != nil {
		return nil, err
	}
	langs := map[string][]giftLanguageItem{}
	for _, l := range cfg.GiftLanguages {
		langs[l.ID] = append(langs[l.ID], giftLanguageItem{Language: l.Language, Name: l.Name, Desc: l.Desc})
	}
	gifts := make([]giftListItem, 0, len(cfg.Gifts))
	for _, g := range cfg.Gifts {
		ls := langs[g.ID]
		if ls == nil {
			ls = []giftLanguageItem{}
		}
		gifts = append(gifts, giftListItem{GiftId: g.ID, Name: g.DefaultName, Desc: g.DefaultDesc, IconUrl: g.IconURL, Coins: g.Coins,
			ResourceUrl: g.ResourceURL, Level: g.Level, ExtensionInfo: g.ExtensionInfo, CreateTime: g.CreatedAt.Unix(), LanguageList: ls})
	}
	members := map[string][]string{}
	for _, r := range cfg.Relations {
		members[r.CategoryID] = append(members[r.CategoryID], r.GiftID)
	}
	catLangs := map[string][]categoryLanguageItem{}
	for _, l := range cfg.CategoryLanguages {
		catLangs[l.ID] = append(catLangs[l.ID], categoryLanguageItem{Language: l.Language, CategoryName: l.Name, CategoryDesc: l.Desc})
	}
	cats := make([]categoryListItem, 0, len(cfg.Categories))
	for _, k := range cfg.Categories {
		ids, ls := members[k.ID], catLangs[k.ID]
		if ids == nil {
			ids = []string{}
		}
		if ls == nil {
			ls = []categoryLanguageItem{}
		}
		cats = append(cats, categoryListItem{CategoryId: k.ID, CategoryName: k.DefaultName, CategoryDesc: k.DefaultDesc,
			ExtensionInfo: k.ExtensionInfo, GiftIdList: ids, LanguageList: ls})
	}
	return struct {
		GiftList     []giftListItem     `json:"GiftList"`
		CategoryList []categoryListItem `json:"CategoryList"`
		TotalCount   int                `json:"TotalCount"`
	}{gifts, cats, len(gifts)}, nil
}

type giftLanguageRequest struct {
	GiftId   string  `json:"GiftId"`
	Language string  `json:"Language"`
	Name     *string `json:"Name"`
	Desc     *string `json:"Desc"`
}

func (h *Handler) setGiftLanguage(ctx context.Context, c *call) (any, error) {
	var req giftLanguageRequest
	if err := c.decode(&req); err != nil {
		return nil, err
	}
	return nil, h.o.Gifts.SetGiftLanguage(ctx, c.actor(), room.LanguageDef{ID: req.GiftId, Language: req.Language, Name: req.Name, Desc: req.Desc})
}

func (h *Handler) getGiftLanguage(ctx context.Context, c *call) (any, error) {
	var req giftLanguageRequest
	if err := c.decode(&req); err != nil {
		return nil, err
	}
	l, err := h.o.Gifts.GetGiftLanguage(ctx, c.actor(), req.GiftId, req.Language)
	if err != nil {
		return nil, err
	}
	type nameDesc struct {
		Name string `json:"Name"`
		Desc string `json:"Desc"`
	}
	return struct {
		GiftInfo nameDesc `json:"GiftInfo"`
		Response struct {
			Language giftLanguageItem `json:"Language"`
		} `json:"Response"`
	}{GiftInfo: nameDesc{l.Name, l.Desc}, Response: struct {
		Language giftLanguageItem `json:"Language"`
	}{giftLanguageItem{Language: l.Language, Name: l.Name, Desc: l.Desc}}}, nil
}

func (h *Handler) delGiftLanguage(ctx context.Context, c *call) (any, error) {
	var req giftLanguageRequest
	if err := c.decode(&req); err != nil {
		return nil, err
	}
	return nil, h.o.Gifts.DelGiftLanguage(ctx, c.actor(), req.GiftId, req.Language)
}

type categoryRequest struct {
	CategoryId    string  `json:"CategoryId"`
	ExtensionInfo *string `json:"ExtensionInfo"`
	DefaultName   *string `json:"DefaultName"`
	DefaultDesc   *string `json:"DefaultDesc"`
}

func (r categoryRequest) def() room.CategoryDef {
	return room.CategoryDef{ID: r.CategoryId, ExtensionInfo: r.ExtensionInfo, DefaultName: r.DefaultName, DefaultDesc: r.DefaultDesc}
}

func (h *Handler) addGiftCategory(ctx context.Context, c *call) (any, error) {
	var req categoryRequest
	if err := c.decode(&req); err != nil {
		return nil, err
	}
	return nil, h.o.Gifts.AddCategory(ctx, c.actor(), req.def())
}

func (h *Handler) editGiftCategory(ctx context.Context, c *call) (any, error) {
	var req categoryRequest
	if err := c.decode(&req); err != nil {
		return nil, err
	}
	return nil, h.o.Gifts.EditCategory(ctx, c.actor(), req.def())
}

func (h *Handler) delGiftCategory(ctx context.Context, c *call) (any, error) {
	var req categoryRequest
	if err := c.decode(&req); err != nil {
		return nil, err
	}
	return nil, h.o.Gifts.DelCategory(ctx, c.actor(), req.CategoryId)
}

func (h *Handler) getGiftCategory(ctx context.Context, c *call) (any, error) {
	var req categoryRequest
	if err := c.decode(&req); err != nil {
		return nil, err
	}
	k, err := h.o.Gifts.GetCategory(ctx, c.actor(), req.CategoryId)
	if err != nil {
		return nil, err
	}
	type categoryInfo struct {
		CategoryId    string `json:"CategoryId"`
		ExtensionInfo string `json:"ExtensionInfo"`
		DefaultName   string `json:"DefaultName"`
		DefaultDesc   string `json:"DefaultDesc"`
	}
	return struct {
		GiftCategoryInfo categoryInfo `json:"GiftCategoryInfo"`
	}{categoryInfo{k.ID, k.ExtensionInfo, k.DefaultName, k.DefaultDesc}}, nil
}

type categoryLanguageRequest struct {
	CategoryId   string  `json:"CategoryId"`
	Language     string  `json:"Language"`
	CategoryName *string `json:"CategoryName"`
	CategoryDesc *string `json:"CategoryDesc"`
}

func (h *Handler) setGiftCategoryLanguage(ctx context.Context, c *call) (any, error) {
	var req categoryLanguageRequest
	if err := c.decode(&req); err != nil {
		return nil, err
	}
	return nil, h.o.Gifts.SetCategoryLanguage(ctx, c.actor(), room.LanguageDef{ID: req.CategoryId, Language: req.Language,
		Name: req.CategoryName, Desc: req.CategoryDesc})
}

func (h *Handler) getGiftCategoryLanguage(ctx context.Context, c *call) (any, error) {
	var req categoryLanguageRequest
	if err := c.decode(&req); err != nil {
		return nil, err
	}
	l, err := h.o.Gifts.GetCategoryLanguage(ctx, c.actor(), req.CategoryId, req.Language)
	if err != nil {
		return nil, err
	}
	type nameDesc struct {
		CategoryName string `json:"CategoryName"`
		CategoryDesc string `json:"CategoryDesc"`
	}
	return struct {
		CategoryInfo nameDesc `json:"CategoryInfo"`
		Response     struct {
			Language categoryLanguageItem `json:"Language"`
		} `json:"Response"`
	}{CategoryInfo: nameDesc{l.Name, l.Desc}, Response: struct {
		Language categoryLanguageItem `json:"Language"`
	}{categoryLanguageItem{Language: l.Language, CategoryName: l.Name, CategoryDesc: l.Desc}}}, nil
}

func (h *Handler) delGiftCategoryLanguage(ctx context.Context, c *call) (any, error) {
	var req categoryLanguageRequest
	if err := c.decode(&req); err != nil {
		return nil, err
	}
	return nil, h.o.Gifts.DelCategoryLanguage(ctx, c.actor(), req.CategoryId, req.Language)
}

type relationsRequest struct {
	CategoryId string   `json:"CategoryId"`
	GiftIdList []string `json:"GiftIdList"`
}

func (h *Handler) addGiftCategoryRelations(ctx context.Context, c *call) (any, error) {
	var req relationsRequest
	if err := c.decode(&req); err != nil {
		return nil, err
	}
	invalid, err := h.o.Gifts.AddRelations(ctx, c.actor(), req.CategoryId, req.GiftIdList)
	if err != nil {
		return nil, err
	}
	return struct {
		InvalidGiftIdList []string `json:"InvalidGiftIdList"`
	}{invalid}, nil
}

func (h *Handler) delGiftCategoryRelations(ctx context.Context, c *call) (any, error) {
	var req relationsRequest
	if err := c.decode(&req); err != nil {
		return nil, err
	}
	return nil, h.o.Gifts.DelRelations(ctx, c.actor(), req.CategoryId, req.GiftIdList)
}

func (h *Handler) copyDefaultGifts(ctx context.Context, c *call) (any, error) {
	var req struct{}
	if err := c.decode(&req); err != nil {
		return nil, err
	}
	return nil, h.o.Gifts.CopyDefault(ctx, c.actor())
}

type sendGiftRequest struct {
	RoomId               string   `json:"RoomId"`
	GiftId               string   `json:"GiftId"`
	Count                *int64   `json:"Count"`
	From_Account         string   `json:"From_Account"`
	ReceiverList_Account []string `json:"ReceiverList_Account"`
}

// sendGift sends a gift on behalf of From_Account; Count is 1 when absent.
func (h *Handler) sendGift(ctx context.Context, c *call) (any, error) {
	var req sendGiftRequest
	if err := c.decode(&req); err != nil {
		return nil, err
	}
	count := int64(1)
	if req.Count != nil {
		count = *req.Count
	}
	return nil, h.o.Gifts.SendGift(ctx, c.actor(), room.GiftSend{RoomID: req.RoomId, GiftID: req.GiftId, Count: count,
		Sender: req.From_Account, Receivers: req.ReceiverList_Account})
}

// getGiftCount answers what From_Account received in the room (see docs/decisions.md).
func (h *Handler) getGiftCount(ctx context.Context, c *call) (any, error) {
	var req struct {
		RoomId       string `json:"RoomId"`
		From_Account string `json:"From_Account"`
	}
	if err := c.decode(&req); err != nil {
		return nil, err
	}
	t, err := h.o.Gifts.GiftCount(ctx, c.app.ID, req.RoomId, req.From_Account)
	if err != nil {
		return nil, err
	}
	return giftCount(t), nil
}

func giftCount(t store.GiftTally) any {
	return struct {
		Sequence        int64 `json:"Sequence"`
		TotalCount      int64 `json:"TotalCount"`
		TotalCoins      int64 `json:"TotalCoins"`
		GiftSenderCount int64 `json:"GiftSenderCount"`
	}{t.Seq, t.Count, t.Coins, t.Senders}
}
