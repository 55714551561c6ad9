package storetest

import (
	"errors"
	"slices"
	"testing"

	"github.com/roomd/roomd/internal/store"
)

// Conformance of the gift configuration and the gift tallies (store/gifts.go).

func normGift(g store.Gift) store.Gift {
	g.CreatedAt = utc(g.CreatedAt)
	return g
}

func testGifts(t *testing.T, h *Harness) {
	s := twoRooms(t, h)
	c := ctx(t)
	rose := store.Gift{App: app, ID: "rose", IconURL: "https://x/i.png", ResourceURL: "https://x/r.svga", Coins: 10, Level: 1,
		ExtensionInfo: `{"k":"v"}`, DefaultName: "Rose", DefaultDesc: "a rose", CreatedAt: at(1)}
	car := store.Gift{App: app, ID: "car", Coins: 1000, DefaultName: "Car", CreatedAt: at(2)}
	mustTx(t, s, func(tx store.Tx) error {
		if err := tx.GiftInsert(c, rose); err != nil {
			return err
		}
		if err := tx.GiftInsert(c, car); err != nil {
			return err
		}
		// Another app's gift with the same id is another gift.
		return tx.GiftInsert(c, store.Gift{App: other, ID: "rose", Coins: 1, DefaultName: "R", CreatedAt: at(3)})
	})
	if err := s.Tx(c, func(tx store.Tx) error { return tx.GiftInsert(c, rose) }); !errors.Is(err, store.ErrConflict) {
		t.Errorf("GiftInsert of a taken id = %v, want ErrConflict", err)
	}
	got, err := s.GiftGet(c, app, "rose")
	if err != nil {
		t.Fatalf("GiftGet: %v", err)
	}
	equal(t, "GiftGet", got, rose, normGift)
	if _, err := s.GiftGet(c, app, "nope"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("GiftGet of a missing gift = %v, want ErrNotFound", err)
	}
	list, err := s.GiftList(c, app)
	if err != nil || len(list) != 2 || list[0].ID != "rose" || list[1].ID != "car" {
		t.Errorf("GiftList = %v, %v; want rose, car in the order added", list, err)
	}
	// An update keeps the place and the creation time.
	changed := rose
	changed.Coins, changed.DefaultName, changed.CreatedAt = 20, "Red rose", at(9)
	mustTx(t, s, func(tx store.Tx) error { return tx.GiftUpdate(c, changed) })
	got, _ = s.GiftGet(c, app, "rose")
	changed.CreatedAt = at(1)
	equal(t, "GiftGet after GiftUpdate", got, changed, normGift)
	if err := s.Tx(c, func(tx store.Tx) error { return tx.GiftUpdate(c, store.Gift{App: app, ID: "nope"}) }); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("GiftUpdate of a missing gift = %v, want ErrNotFound", err)
	}

	// Languages: put replaces, listed by gift order then language.
	mustTx(t, s, func(tx store.Tx) error {
		for _, l := range []store.GiftLanguage{{ID: "car", Language: "en", Name: "Car"}, {ID: "rose", Language: "zh-Hans", Name: "玫瑰"},
			{ID: "rose", Language: "en", Name: "Rose", Desc: "d"}, {ID: "rose", Language: "en", Name: "Rose!", Desc: "d2"}} {
			if err := tx.GiftLanguagePut(c, app, l); err != nil {
				return err
			}
		}
		return nil
	})
	langs, err := s.GiftLanguageList(c, app, "")
	want := []store.GiftLanguage{{ID: "rose", Language: "en", Name: "Rose!", Desc: "d2"}, {ID: "rose", Language: "zh-Hans", Name: "玫瑰"},
		{ID: "car", Language: "en", Name: "Car"}}
	if err != nil || !slices.Equal(langs, want) {
		t.Errorf("GiftLanguageList = %v, %v; want %v", langs, err, want)
	}
	if langs, _ := s.GiftLanguageList(c, app, "car"); !slices.Equal(langs, want[2:]) {
		t.Errorf("GiftLanguageList(car) = %v", langs)
	}

	// Categories, their languages and relations.
	hot := store.GiftCategory{App: app, ID: "hot", DefaultName: "Hot", DefaultDesc: "popular", ExtensionInfo: "{}", CreatedAt: at(4)}
	mustTx(t, s, func(tx store.Tx) error {
		if err := tx.GiftCategoryInsert(c, hot); err != nil {
			return err
		}
		if err := tx.GiftCategoryInsert(c, store.GiftCategory{App: app, ID: "lux", DefaultName: "Luxury", CreatedAt: at(5)}); err != nil {
			return err
		}
		if err := tx.GiftCategoryLanguagePut(c, app, store.GiftLanguage{ID: "hot", Language: "en", Name: "Hot", Desc: "x"}); err != nil {
			return err
		}
		if err := tx.GiftCategoryRelationAdd(c, app, "lux", []string{"car", "rose"}); err != nil {
			return err
		}
		return tx.GiftCategoryRelationAdd(c, app, "hot", []string{"rose", "rose"})
	})
	if err := s.Tx(c, func(tx store.Tx) error { return tx.GiftCategoryInsert(c, hot) }); !errors.Is(err, store.ErrConflict) {
		t.Errorf("GiftCategoryInsert of a taken id = %v, want ErrConflict", err)
	}
	cat, err := s.GiftCategoryGet(c, app, "hot")
	if err != nil || cat.DefaultDesc != "popular" || cat.ExtensionInfo != "{}" || !sameTime(cat.CreatedAt, at(4)) {
		t.Errorf("GiftCategoryGet = %+v, %v", cat, err)
	}
	if _, err := s.GiftCategoryGet(c, app, "nope"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("GiftCategoryGet of a missing category = %v", err)
	}
	hot.DefaultName = "Trending"
	mustTx(t, s, func(tx store.Tx) error { return tx.GiftCategoryUpdate(c, hot) })
	cats, _ := s.GiftCategoryList(c, app)
	if len(cats) != 2 || cats[0].DefaultName != "Trending" || cats[1].ID != "lux" {
		t.Errorf("GiftCategoryList = %+v", cats)
	}
	rels, _ := s.GiftCategoryRelationList(c, app)
	wantRels := []store.GiftCategoryRelation{{CategoryID: "hot", GiftID: "rose"}, {CategoryID: "lux", GiftID: "car"}, {CategoryID: "lux", GiftID: "rose"}}
	if !slices.Equal(rels, wantRels) {
		t.Errorf("GiftCategoryRelationList = %v, want %v", rels, wantRels)
	}
	// Deleting a gift takes its languages and relations with it.
	var existed bool
	mustTx(t, s, func(tx store.Tx) error {
		var err error
		existed, err = tx.GiftDelete(c, app, "rose")
		return err
	})
	if !existed {
		t.Error("GiftDelete reported a missing gift")
	}
	rels, _ = s.GiftCategoryRelationList(c, app)
	if !slices.Equal(rels, wantRels[1:2]) {
		t.Errorf("relations after deleting rose: %v", rels)
	}
	if langs, _ := s.GiftLanguageList(c, app, ""); len(langs) != 1 || langs[0].ID != "car" {
		t.Errorf("languages after deleting rose: %v", langs)
	}
	mustTx(t, s, func(tx store.Tx) error {
		var err error
		existed, err = tx.GiftDelete(c, app, "rose")
		return err
	})
	if existed {
		t.Error("GiftDelete of a deleted gift reported it existed")
	}
	// Another app's gift is untouched.
	if _, err := s.GiftGet(c, other, "rose"); err != nil {
		t.Errorf("other app's rose: %v", err)
	}
	mustTx(t, s, func(tx store.Tx) error {
		if ok, err := tx.GiftLanguageDelete(c, app, "car", "en"); err != nil || !ok {
			return errors.New("GiftLanguageDelete did not find car/en")
		}
		if err := tx.GiftCategoryRelationDelete(c, app, "lux", []string{"car", "nope"}); err != nil {
			return err
		}
		if ok, err := tx.GiftCategoryLanguageDelete(c, app, "hot", "en"); err != nil || !ok {
			return errors.New("GiftCategoryLanguageDelete did not find hot/en")
		}
		ok, err := tx.GiftCategoryDelete(c, app, "lux")
		if err != nil || !ok {
			return errors.New("GiftCategoryDelete did not find lux")
		}
		return nil
	})
	if rels, _ := s.GiftCategoryRelationList(c, app); len(rels) != 0 {
		t.Errorf("relations left: %v", rels)
	}
	if l, _ := s.GiftCategoryLanguageList(c, app, ""); len(l) != 0 {
		t.Errorf("category languages left: %v", l)
	}

	// Tallies: per receiver, distinct senders, the room's sequence; gone with the room.
	record := func(room, sender string, count, coins int64, receivers ...string) store.GiftRecordResult {
		t.Helper()
		var res store.GiftRecordResult
		mustTx(t, s, func(tx store.Tx) error {
			var err error
			res, err = tx.GiftRecord(c, store.GiftRecordParams{App: app, RoomID: room, Sender: sender, Receivers: receivers, Count: count, Coins: coins})
			return err
		})
		return res
	}
	if r := record("r1", "u1", 2, 10, "anchor"); r.Seq != 1 || !r.NewSender {
		t.Errorf("first gift: %+v", r)
	}
	if r := record("r1", "u1", 1, 5, "anchor", "guest"); r.Seq != 2 || r.NewSender {
		t.Errorf("second gift of u1: %+v", r)
	}
	if r := record("r1", "u2", 3, 1, "anchor"); r.Seq != 3 || !r.NewSender {
		t.Errorf("first gift of u2: %+v", r)
	}
	if r := record("r2", "u1", 1, 1, "anchor"); r.Seq != 1 || !r.NewSender {
		t.Errorf("u1 in another room: %+v", r)
	}
	tally, err := s.GiftTallyGet(c, app, "r1", "anchor")
	if err != nil || tally != (store.GiftTally{Seq: 3, Count: 6, Coins: 28, Senders: 2}) {
		t.Errorf("tally of anchor = %+v, %v", tally, err)
	}
	if tally, _ := s.GiftTallyGet(c, app, "r1", "guest"); tally != (store.GiftTally{Seq: 3, Count: 1, Coins: 5, Senders: 1}) {
		t.Errorf("tally of guest = %+v", tally)
	}
	if tally, _ := s.GiftTallyGet(c, app, "r1", "nobody"); tally != (store.GiftTally{Seq: 3}) {
		t.Errorf("tally of nobody = %+v", tally)
	}
	mustTx(t, s, func(tx store.Tx) error { return tx.RoomDelete(c, app, "r1") })
	if tally, _ := s.GiftTallyGet(c, app, "r1", "anchor"); tally != (store.GiftTally{}) {
		t.Errorf("tally of a deleted room = %+v", tally)
	}
	if tally, _ := s.GiftTallyGet(c, app, "r2", "anchor"); tally.Seq != 1 {
		t.Errorf("tally of r2 = %+v", tally)
	}
}
