package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/roomd/roomd/internal/store"
)

// The queries of the gift configuration and the gift tallies of rooms (store.GiftReader,
// store.GiftWriter). Schema: migrations/0006_gifts.sql.

const giftColumns = `gift_id, icon_url, resource_url, coins, level, extension_info, default_name, default_desc, created_at`

func scanGift(app uint64) func(scanner) (store.Gift, error) {
	return func(r scanner) (g store.Gift, err error) {
		var created int64
		err = r.Scan(&g.ID, &g.IconURL, &g.ResourceURL, &g.Coins, &g.Level, &g.ExtensionInfo, &g.DefaultName, &g.DefaultDesc, &created)
		g.App, g.CreatedAt = app, fromMS(created)
		return g, err
	}
}

const categoryColumns = `category_id, extension_info, default_name, default_desc, created_at`

func scanCategory(app uint64) func(scanner) (store.GiftCategory, error) {
	return func(r scanner) (c store.GiftCategory, err error) {
		var created int64
		err = r.Scan(&c.ID, &c.ExtensionInfo, &c.DefaultName, &c.DefaultDesc, &created)
		c.App, c.CreatedAt = app, fromMS(created)
		return c, err
	}
}

func scanLanguage(r scanner) (l store.GiftLanguage, err error) {
	err = r.Scan(&l.ID, &l.Language, &l.Name, &l.Desc)
	return l, err
}

func (r Reader) GiftGet(ctx context.Context, app uint64, giftID string) (store.Gift, error) {
	return queryOne(ctx, r.q, "get gift "+giftID, scanGift(app),
		`SELECT `+giftColumns+` FROM gifts WHERE sdkappid = ? AND gift_id = ?`, int64(app), giftID)
}

func (r Reader) GiftList(ctx context.Context, app uint64) ([]store.Gift, error) {
	return queryList(ctx, r.q, "list gifts", scanGift(app),
		`SELECT `+giftColumns+` FROM gifts WHERE sdkappid = ? ORDER BY seq`, int64(app))
}

func (r Reader) GiftLanguageList(ctx context.Context, app uint64, giftID string) ([]store.GiftLanguage, error) {
	return queryList(ctx, r.q, "list gift languages", scanLanguage,
		`SELECT l.gift_id, l.language, l.name, l.descr FROM gift_languages l
		JOIN gifts g ON g.sdkappid = l.sdkappid AND g.gift_id = l.gift_id
		WHERE l.sdkappid = ? AND (? = '' OR l.gift_id = ?) ORDER BY g.seq, l.language`, int64(app), giftID, giftID)
}

func (r Reader) GiftCategoryGet(ctx context.Context, app uint64, categoryID string) (store.GiftCategory, error) {
	return queryOne(ctx, r.q, "get gift category "+categoryID, scanCategory(app),
		`SELECT `+categoryColumns+` FROM gift_categories WHERE sdkappid = ? AND category_id = ?`, int64(app), categoryID)
}

func (r Reader) GiftCategoryList(ctx context.Context, app uint64) ([]store.GiftCategory, error) {
	return queryList(ctx, r.q, "list gift categories", scanCategory(app),
		`SELECT `+categoryColumns+` FROM gift_categories WHERE sdkappid = ? ORDER BY seq`, int64(app))
}

func (r Reader) GiftCategoryLanguageList(ctx context.Context, app uint64, categoryID string) ([]store.GiftLanguage, error) {
	return queryList(ctx, r.q, "list gift category languages", scanLanguage,
		`SELECT l.category_id, l.language, l.name, l.descr FROM gift_category_languages l
		JOIN gift_categories c ON c.sdkappid = l.sdkappid AND c.category_id = l.category_id
		WHERE l.sdkappid = ? AND (? = '' OR l.category_id = ?) ORDER BY c.seq, l.language`, int64(app), categoryID, categoryID)
}

func (r Reader) GiftCategoryRelationList(ctx context.Context, app uint64) ([]store.GiftCategoryRelation, error) {
	return queryList(ctx, r.q, "list gift category relations", func(s scanner) (rel store.GiftCategoryRelation, err error) {
		err = s.Scan(&rel.CategoryID, &rel.GiftID)
		return rel, err
	}, `SELECT r.category_id, r.gift_id FROM gift_category_gifts r
		JOIN gift_categories c ON c.sdkappid = r.sdkappid AND c.category_id = r.category_id
		WHERE r.sdkappid = ? ORDER BY c.seq, r.seq`, int64(app))
}

func (r Reader) GiftTallyGet(ctx context.Context, app uint64, roomID, receiver string) (store.GiftTally, error) {
	var t store.GiftTally
	err := r.q.QueryRow(ctx, `SELECT
		COALESCE((SELECT last_seq FROM room_gift_seq WHERE sdkappid = ? AND room_id = ?), 0),
		CAST(COALESCE(SUM(count), 0) AS BIGINT), CAST(COALESCE(SUM(coins), 0) AS BIGINT), COUNT(*)
		FROM room_gift_tallies WHERE sdkappid = ? AND room_id = ? AND receiver = ?`,
		int64(app), roomID, int64(app), roomID, receiver).Scan(&t.Seq, &t.Count, &t.Coins, &t.Senders)
	if err != nil {
		return store.GiftTally{}, fmt.Errorf("get gift tally of %s in room %s: %w", receiver, roomID, err)
	}
	return t, nil
}

func (t *Tx) GiftInsert(ctx context.Context, g store.Gift) error {
	_, err := t.execGuarded(ctx, `INSERT INTO gifts (sdkappid, `+giftColumns+`, seq)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, (SELECT COALESCE(MAX(seq), 0) + 1 FROM gifts WHERE sdkappid = ?))`,
		int64(g.App), g.ID, g.IconURL, g.ResourceURL, g.Coins, g.Level, g.ExtensionInfo, g.DefaultName, g.DefaultDesc, ms(g.CreatedAt), int64(g.App))
	if t.isUniqueViolation(err) {
		return store.ErrConflict
	}
	if err != nil {
		return fmt.Errorf("insert gift %s: %w", g.ID, err)
	}
	return nil
}

func (t *Tx) GiftUpdate(ctx context.Context, g store.Gift) error {
	res, err := t.q.Exec(ctx, `UPDATE gifts SET icon_url = ?, resource_url = ?, coins = ?, level = ?, extension_info = ?,
		default_name = ?, default_desc = ? WHERE sdkappid = ? AND gift_id = ?`,
		g.IconURL, g.ResourceURL, g.Coins, g.Level, g.ExtensionInfo, g.DefaultName, g.DefaultDesc, int64(g.App), g.ID)
	return affectedOne(res, err, "update gift "+g.ID)
}

func (t *Tx) GiftDelete(ctx context.Context, app uint64, giftID string) (bool, error) {
	res, err := t.q.Exec(ctx, `DELETE FROM gifts WHERE sdkappid = ? AND gift_id = ?`, int64(app), giftID)
	if err != nil {
		return false, fmt.Errorf("delete gift %s: %w", giftID, err)
	}
	n, _ := res.RowsAffected()
	for _, q := range []string{
		`DELETE FROM gift_languages WHERE sdkappid = ? AND gift_id = ?`,
		`DELETE FROM gift_category_gifts WHERE sdkappid = ? AND gift_id = ?`,
	} {
		if _, err := t.q.Exec(ctx, q, int64(app), giftID); err != nil {
			return false, fmt.Errorf("delete gift %s: %w", giftID, err)
		}
	}
	return n > 0, nil
}

func (t *Tx) GiftLanguagePut(ctx context.Context, app uint64, l store.GiftLanguage) error {
	_, err := t.q.Exec(ctx, `INSERT INTO gift_languages (sdkappid, gift_id, language, name, descr) VALUES (?, ?, ?, ?, ?)
		ON CONFLICT (sdkappid, gift_id, language) DO UPDATE SET name = excluded.name, descr = excluded.descr`,
		int64(app), l.ID, l.Language, l.Name, l.Desc)
	if err != nil {
		return fmt.Errorf("put language %s of gift %s: %w", l.Language, l.ID, err)
	}
	return nil
}

func (t *Tx) GiftLanguageDelete(ctx context.Context, app uint64, giftID, language string) (bool, error) {
	res, err := t.q.Exec(ctx, `DELETE FROM gift_languages WHERE sdkappid = ? AND gift_id = ? AND language = ?`, int64(app), giftID, language)
	if err != nil {
		return false, fmt.Errorf("delete language %s of gift %s: %w", language, giftID, err)
	}
	n, _ := res.RowsAffected()
	return n > 0, nil
}

func (t *Tx) GiftCategoryInsert(ctx context.Context, c store.GiftCategory) error {
	_, err := t.execGuarded(ctx, `INSERT INTO gift_categories (sdkappid, `+categoryColumns+`, seq)
		VALUES (?, ?, ?, ?, ?, ?, (SELECT COALESCE(MAX(seq), 0) + 1 FROM gift_categories WHERE sdkappid = ?))`,
		int64(c.App), c.ID, c.ExtensionInfo, c.DefaultName, c.DefaultDesc, ms(c.CreatedAt), int64(c.App))
	if t.isUniqueViolation(err) {
		return store.ErrConflict
	}
	if err != nil {
		return fmt.Errorf("insert gift category %s: %w", c.ID, err)
	}
	return nil
}

func (t *Tx) GiftCategoryUpdate(ctx context.Context, c store.GiftCategory) error {
	res, err := t.q.Exec(ctx, `UPDATE gift_categories SET extension_info = ?, default_name = ?, default_desc = ?
		WHERE sdkappid = ? AND category_id = ?`, c.ExtensionInfo, c.DefaultName, c.DefaultDesc, int64(c.App), c.ID)
	return affectedOne(res, err, "update gift category "+c.ID)
}

func (t *Tx) GiftCategoryDelete(ctx context.Context, app uint64, categoryID string) (bool, error) {
	res, err := t.q.Exec(ctx, `DELETE FROM gift_categories WHERE sdkappid = ? AND category_id = ?`, int64(app), categoryID)
	if err != nil {
		return false, fmt.Errorf("delete gift category %s: %w", categoryID, err)
	}
	n, _ := res.RowsAffected()
	for _, q := range []string{
		`DELETE FROM gift_category_languages WHERE sdkappid = ? AND category_id = ?`,
		`DELETE FROM gift_category_gifts WHERE sdkappid = ? AND category_id = ?`,
	} {
		if _, err := t.q.Exec(ctx, q, int64(app), categoryID); err != nil {
			return false, fmt.Errorf("delete gift category %s: %w", categoryID, err)
		}
	}
	return n > 0, nil
}

func (t *Tx) GiftCategoryLanguagePut(ctx context.Context, app uint64, l store.GiftLanguage) error {
	_, err := t.q.Exec(ctx, `INSERT INTO gift_category_languages (sdkappid, category_id, language, name, descr) VALUES (?, ?, ?, ?, ?)
		ON CONFLICT (sdkappid, category_id, language) DO UPDATE SET name = excluded.name, descr = excluded.descr`,
		int64(app), l.ID, l.Language, l.Name, l.Desc)
	if err != nil {
		return fmt.Errorf("put language %s of gift category %s: %w", l.Language, l.ID, err)
	}
	return nil
}

func (t *Tx) GiftCategoryLanguageDelete(ctx context.Context, app uint64, categoryID, language string) (bool, error) {
	res, err := t.q.Exec(ctx, `DELETE FROM gift_category_languages WHERE sdkappid = ? AND category_id = ? AND language = ?`,
		int64(app), categoryID, language)
	if err != nil {
		return false, fmt.Errorf("delete language %s of gift category %s: %w", language, categoryID, err)
	}
	n, _ := res.RowsAffected()
	return n > 0, nil
}

func (t *Tx) GiftCategoryRelationAdd(ctx context.Context, app uint64, categoryID string, giftIDs []string) error {
	for _, g := range giftIDs {
		_, err := t.q.Exec(ctx, `INSERT INTO gift_category_gifts (sdkappid, category_id, gift_id, seq)
			VALUES (?, ?, ?, (SELECT COALESCE(MAX(seq), 0) + 1 FROM gift_category_gifts WHERE sdkappid = ? AND category_id = ?))
			ON CONFLICT (sdkappid, category_id, gift_id) DO NOTHING`, int64(app), categoryID, g, int64(app), categoryID)
		if err != nil {
			return fmt.Errorf("attach gift %s to category %s: %w", g, categoryID, err)
		}
	}
	return nil
}

func (t *Tx) GiftCategoryRelationDelete(ctx context.Context, app uint64, categoryID string, giftIDs []string) error {
	for _, g := range giftIDs {
		if _, err := t.q.Exec(ctx, `DELETE FROM gift_category_gifts WHERE sdkappid = ? AND category_id = ? AND gift_id = ?`,
			int64(app), categoryID, g); err != nil {
			return fmt.Errorf("detach gift %s from category %s: %w", g, categoryID, err)
		}
	}
	return nil
}

func (t *Tx) GiftRecord(ctx context.Context, p store.GiftRecordParams) (store.GiftRecordResult, error) {
	var res store.GiftRecordResult
	var one int
	err := t.q.QueryRow(ctx, `SELECT 1 FROM room_gift_tallies WHERE sdkappid = ? AND room_id = ? AND sender = ? LIMIT 1`,
		int64(p.App), p.RoomID, p.Sender).Scan(&one)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		res.NewSender = true
	case err != nil:
		return res, fmt.Errorf("look up gift sender %s in room %s: %w", p.Sender, p.RoomID, err)
	}
	err = t.q.QueryRow(ctx, `INSERT INTO room_gift_seq (sdkappid, room_id, last_seq) VALUES (?, ?, 1)
		ON CONFLICT (sdkappid, room_id) DO UPDATE SET last_seq = room_gift_seq.last_seq + 1 RETURNING last_seq`,
		int64(p.App), p.RoomID).Scan(&res.Seq)
	if err != nil {
		return res, fmt.Errorf("advance gift sequence of room %s: %w", p.RoomID, err)
	}
	for _, r := range p.Receivers {
		_, err := t.q.Exec(ctx, `INSERT INTO room_gift_tallies (sdkappid, room_id, receiver, sender, count, coins) VALUES (?, ?, ?, ?, ?, ?)
			ON CONFLICT (sdkappid, room_id, receiver, sender) DO UPDATE SET count = room_gift_tallies.count + excluded.count, coins = room_gift_tallies.coins + excluded.coins`,
			int64(p.App), p.RoomID, r, p.Sender, p.Count, p.Count*p.Coins)
		if err != nil {
			return res, fmt.Errorf("count gift to %s in room %s: %w", r, p.RoomID, err)
		}
	}
	return res, nil
}
