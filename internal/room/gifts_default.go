package room

import (
	"context"
	"time"

	"github.com/roomd/roomd/internal/store"
)

// The default gift set that copy_default_gift_config installs: 3 categories of 5 gifts each,
// the shape of Tencent's default set (3 categories / 15 gifts), with names in every
// language of GiftLanguages. Icons and animations are not included (IconUrl and ResourceUrl
// are empty): set them with edit_gift. The set is listed in docs/decisions.md.

type defaultGift struct {
	id, en, hans, hant string
	coins, level       int64
}

type defaultCategory struct {
	id, en, hans, hant, desc string
	gifts                    []defaultGift
}

var defaultGiftSet = []defaultCategory{
	{"popular", "Popular", "热门", "熱門", "Small gifts for everyone", []defaultGift{
		{"rose", "Rose", "玫瑰", "玫瑰", 1, 1},
		{"heart", "Heart", "爱心", "愛心", 5, 1},
		{"lollipop", "Lollipop", "棒棒糖", "棒棒糖", 10, 1},
		{"applause", "Applause", "掌声", "掌聲", 20, 1},
		{"star", "Star", "星星", "星星", 50, 1},
	}},
	{"fun", "Fun", "趣味", "趣味", "Playful gifts", []defaultGift{
		{"balloon", "Balloon", "气球", "氣球", 66, 2},
		{"cake", "Cake", "蛋糕", "蛋糕", 88, 2},
		{"teddy_bear", "Teddy Bear", "泰迪熊", "泰迪熊", 120, 2},
		{"guitar", "Guitar", "吉他", "吉他", 188, 2},
		{"trophy", "Trophy", "奖杯", "獎盃", 288, 2},
	}},
	{"luxury", "Luxury", "豪华", "豪華", "Big gifts with full-screen effects", []defaultGift{
		{"crown", "Crown", "皇冠", "皇冠", 520, 3},
		{"sports_car", "Sports Car", "跑车", "跑車", 1314, 3},
		{"yacht", "Yacht", "游艇", "遊艇", 3344, 3},
		{"rocket", "Rocket", "火箭", "火箭", 5200, 3},
		{"castle", "Castle", "城堡", "城堡", 9999, 3},
	}},
}

// installDefault writes the default set into app in tx; the app has no gift configuration.
func installDefault(ctx context.Context, tx store.Tx, app uint64, now time.Time) error {
	for _, c := range defaultGiftSet {
		if err := tx.GiftCategoryInsert(ctx, store.GiftCategory{App: app, ID: c.id, DefaultName: c.en, DefaultDesc: c.desc, CreatedAt: now}); err != nil {
			return err
		}
		for lang, name := range map[string]string{"en": c.en, "zh-Hans": c.hans, "zh-Hant": c.hant} {
			if err := tx.GiftCategoryLanguagePut(ctx, app, store.GiftLanguage{ID: c.id, Language: lang, Name: name}); err != nil {
				return err
			}
		}
		ids := make([]string, 0, len(c.gifts))
		for _, g := range c.gifts {
			if err := tx.GiftInsert(ctx, store.Gift{App: app, ID: g.id, Coins: g.coins, Level: g.level, DefaultName: g.en, CreatedAt: now}); err != nil {
				return err
			}
			for lang, name := range map[string]string{"en": g.en, "zh-Hans": g.hans, "zh-Hant": g.hant} {
				if err := tx.GiftLanguagePut(ctx, app, store.GiftLanguage{ID: g.id, Language: lang, Name: name}); err != nil {
					return err
				}
			}
			ids = append(ids, g.id)
		}
		if err := tx.GiftCategoryRelationAdd(ctx, app, c.id, ids); err != nil {
			return err
		}
	}
	return nil
}
