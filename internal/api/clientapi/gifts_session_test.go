package clientapi_test

import (
	"context"
	"testing"

	"github.com/roomd/roomd/internal/store"
)

// seedGifts gives the session's app a small gift configuration (the client API only reads
// it; App admins manage it through the REST API): a rose and a cake in category "hot", with
// Chinese names for the rose and the category.
func seedGifts(t *testing.T, ts *testServer) {
	t.Helper()
	ctx := context.Background()
	err := ts.srv.Store().Tx(ctx, func(tx store.Tx) error {
		for _, g := range []store.Gift{
			{App: testApp, ID: "rose", IconURL: "https://example.com/rose.png", ResourceURL: "https://example.com/rose.svga", Coins: 10, Level: 1,
				ExtensionInfo: `{"effect":"petals"}`, DefaultName: "Rose", DefaultDesc: "A red rose", CreatedAt: fixedTime},
			{App: testApp, ID: "cake", Coins: 88, Level: 2, DefaultName: "Cake", CreatedAt: fixedTime},
		} {
			if err := tx.GiftInsert(ctx, g); err != nil {
				return err
			}
		}
		if err := tx.GiftLanguagePut(ctx, testApp, store.GiftLanguage{ID: "rose", Language: "zh-Hans", Name: "玫瑰", Desc: "一朵红玫瑰"}); err != nil {
			return err
		}
		if err := tx.GiftCategoryInsert(ctx, store.GiftCategory{App: testApp, ID: "hot", DefaultName: "Hot", CreatedAt: fixedTime}); err != nil {
			return err
		}
		if err := tx.GiftCategoryLanguagePut(ctx, testApp, store.GiftLanguage{ID: "hot", Language: "zh-Hans", Name: "热门"}); err != nil {
			return err
		}
		return tx.GiftCategoryRelationAdd(ctx, testApp, "hot", []string{"rose", "cake"})
	})
	if err != nil {
		t.Fatal(err)
	}
}
