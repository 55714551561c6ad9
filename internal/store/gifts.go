package store

import (
	"context"
	"time"
)

// GiftReader holds the read queries of an app's gift configuration (gifts, categories,
// their localisations and which gifts each category holds) and of the gift tallies of
// rooms. The configuration is app-wide, not per room.
type GiftReader interface {
	// GiftGet returns one gift. ErrNotFound when the app has no such gift.
	GiftGet(ctx context.Context, app uint64, giftID string) (Gift, error)
	// GiftList returns every gift of the app in the order they were added.
	GiftList(ctx context.Context, app uint64) ([]Gift, error)
	// GiftLanguageList returns the localisations of the app's gifts, by gift (in the order
	// the gifts were added) and then by language; with giftID set, only that gift's.
	GiftLanguageList(ctx context.Context, app uint64, giftID string) ([]GiftLanguage, error)
	// GiftCategoryGet returns one category. ErrNotFound when the app has no such category.
	GiftCategoryGet(ctx context.Context, app uint64, categoryID string) (GiftCategory, error)
	// GiftCategoryList returns every category of the app in the order they were added.
	GiftCategoryList(ctx context.Context, app uint64) ([]GiftCategory, error)
	// GiftCategoryLanguageList returns the localisations of the app's categories, by
	// category (in the order they were added) and then by language; with categoryID set,
	// only that category's.
	GiftCategoryLanguageList(ctx context.Context, app uint64, categoryID string) ([]GiftLanguage, error)
	// GiftCategoryRelationList returns which gifts each category holds, by category (in the
	// order the categories were added) and then in the order the gifts were attached.
	GiftCategoryRelationList(ctx context.Context, app uint64) ([]GiftCategoryRelation, error)
	// GiftTallyGet returns what a user received in a room: the gifts, their coins and how
	// many distinct users sent them, with the room's gift sequence. All zero when nothing
	// was received (or the room does not exist).
	GiftTallyGet(ctx context.Context, app uint64, roomID, receiver string) (GiftTally, error)
}

// GiftWriter holds the writes of an app's gift configuration and of the gift tallies.
type GiftWriter interface {
	// GiftInsert adds a gift after the existing ones. ErrConflict when its id is taken.
	GiftInsert(ctx context.Context, g Gift) error
	// GiftUpdate replaces a gift's attributes (CreatedAt and its place stay). ErrNotFound
	// when the app has no such gift.
	GiftUpdate(ctx context.Context, g Gift) error
	// GiftDelete deletes a gift with its localisations and its places in categories, and
	// reports whether it existed.
	GiftDelete(ctx context.Context, app uint64, giftID string) (bool, error)
	// GiftLanguagePut inserts or replaces the localisation of a gift in one language. The
	// caller checks that the gift exists.
	GiftLanguagePut(ctx context.Context, app uint64, l GiftLanguage) error
	// GiftLanguageDelete deletes a gift's localisation in one language and reports whether
	// it existed.
	GiftLanguageDelete(ctx context.Context, app uint64, giftID, language string) (bool, error)

	// GiftCategoryInsert adds a category after the existing ones. ErrConflict when its id
	// is taken.
	GiftCategoryInsert(ctx context.Context, c GiftCategory) error
	// GiftCategoryUpdate replaces a category's attributes. ErrNotFound when the app has no
	// such category.
	GiftCategoryUpdate(ctx context.Context, c GiftCategory) error
	// GiftCategoryDelete deletes a category with its localisations and its gift list (not
	// the gifts), and reports whether it existed.
	GiftCategoryDelete(ctx context.Context, app uint64, categoryID string) (bool, error)
	// GiftCategoryLanguagePut inserts or replaces the localisation of a category in one
	// language (GiftLanguage.ID is the category id). The caller checks that it exists.
	GiftCategoryLanguagePut(ctx context.Context, app uint64, l GiftLanguage) error
	// GiftCategoryLanguageDelete deletes a category's localisation in one language and
	// reports whether it existed.
	GiftCategoryLanguageDelete(ctx context.Context, app uint64, categoryID, language string) (bool, error)
	// GiftCategoryRelationAdd attaches gifts to a category, after the ones it holds; gifts
	// it already holds keep their place. The caller checks that both exist.
	GiftCategoryRelationAdd(ctx context.Context, app uint64, categoryID string, giftIDs []string) error
	// GiftCategoryRelationDelete detaches gifts from a category; gifts it does not hold are
	// ignored.
	GiftCategoryRelationDelete(ctx context.Context, app uint64, categoryID string, giftIDs []string) error

	// GiftRecord counts a gift sent in a room: Count gifts worth Coins each, to every
	// receiver, in the receivers' tallies, and advances the room's gift sequence. It
	// returns the new sequence and whether the sender had never sent a gift in the room
	// before. The room's statistics counters are the caller's (RoomStatsIncr). The tallies
	// go with the room when it is deleted.
	GiftRecord(ctx context.Context, p GiftRecordParams) (GiftRecordResult, error)
}

// Gift is one gift of an app's configuration (add_gift). ExtensionInfo is JSON text.
type Gift struct {
	App           uint64
	ID            string
	IconURL       string
	ResourceURL   string
	Coins         int64
	Level         int64
	ExtensionInfo string
	DefaultName   string
	DefaultDesc   string
	CreatedAt     time.Time
}

// GiftCategory is one gift category of an app's configuration (add_gift_category).
type GiftCategory struct {
	App           uint64
	ID            string
	ExtensionInfo string
	DefaultName   string
	DefaultDesc   string
	CreatedAt     time.Time
}

// GiftLanguage is the localised name and description of a gift or a category (ID) in one
// language ("en", "zh-Hans", "zh-Hant").
type GiftLanguage struct {
	ID       string
	Language string
	Name     string
	Desc     string
}

// GiftCategoryRelation says that a category holds a gift.
type GiftCategoryRelation struct {
	CategoryID string
	GiftID     string
}

// GiftRecordParams is one gift sent in a room.
type GiftRecordParams struct {
	App       uint64
	RoomID    string
	Sender    string
	Receivers []string
	Count     int64
	Coins     int64 // the value of one gift
}

// GiftRecordResult is what GiftRecord reports.
type GiftRecordResult struct {
	// Seq is the room's gift sequence after this gift: 1 for the room's first.
	Seq int64
	// NewSender is true when the sender had sent no gift in the room before.
	NewSender bool
}

// GiftTally is what one user received in one room (get_gift_count).
type GiftTally struct {
	// Seq is the room's gift sequence: how many gifts were sent in the room.
	Seq     int64
	Count   int64
	Coins   int64
	Senders int64
}
