package room

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"time"

	"github.com/roomd/roomd/internal/errcode"
	"github.com/roomd/roomd/internal/store"
	"github.com/roomd/roomd/internal/webhook"
)

// Gifts (https://www.tencentcloud.com/document/product/647/72845 and the pages after it):
// an app-wide gift configuration — gifts, categories, their names in other languages and
// which gifts each category holds — that App admins manage, and gifts and likes sent in a
// room, which count in the room's statistics and are pushed to its members.
//
// A gift is sent only after the Before-callback Live.CallbackBeforeSendGift allows it, when
// the app switched that on (https://www.tencentcloud.com/document/product/647/72210):
//
//   - ErrorCode 0: the gift is sent.
//   - ErrorCode 102100…102200: refused with that code and the reply's ErrorInfo.
//   - Any other code: refused with 102004.
//   - No valid reply (timeout, HTTP status other than 200, a body that is not a JSON object
//     with an integer ErrorCode): refused with 102004, unless the app also switched on
//     Live.CallbackBeforeCallBackNotBlock, which lets the gift go.
//
// The rules Tencent's pages leave open are in docs/decisions.md ("Gifts").

// Limits of the gift configuration, from the gift pages.
const (
	MaxGifts          = 16 // gifts per app
	MaxGiftCategories = 3  // categories per app
	maxGiftIDBytes    = 20 // GiftId, CategoryId
	maxGiftNameBytes  = 20 // DefaultName, a language's Name or CategoryName
	maxGiftDescBytes  = 20 // a gift's DefaultDesc and a language's Desc
	maxCatDescBytes   = 60 // a category's DefaultDesc and a language's CategoryDesc
	maxGiftURLBytes   = 200
	maxGiftExtBytes   = 100
	maxGiftNumber     = 1<<31 - 1 // Coins, Level
)

// Limits of sending, roomd's (Tencent gives none).
const (
	MaxGiftCount     = 10000 // gifts in one send_gift
	MaxGiftReceivers = 100   // accounts in ReceiverList_Account
	MaxLikeCount     = 1000  // likes in one sendLike
)

// GiftLanguages are the languages a gift or category may be named in.
var GiftLanguages = []string{"en", "zh-Hans", "zh-Hant"}

// Reply codes of Live.CallbackBeforeSendGift that reach the sender as they are.
const (
	giftPassFirst = 102100
	giftPassLast  = 102200
)

var (
	// ErrGiftNotFound: the gift id is not in the app's configuration (102002).
	ErrGiftNotFound = errcode.New(errcode.GiftNotFound, "gift does not exist")
	// ErrGiftRejected: Live.CallbackBeforeSendGift refused the gift or gave no valid reply
	// while Live.CallbackBeforeCallBackNotBlock is off (102004).
	ErrGiftRejected = errcode.New(errcode.GiftRejected, "gift refused by Live.CallbackBeforeSendGift")
	// ErrGiftAdminOnly: the gift configuration is managed by App admins only (100006).
	ErrGiftAdminOnly = errcode.New(errcode.NoPermission, "admin account required")
)

// GiftOptions wire a GiftService.
type GiftOptions struct {
	Store store.Store
	// Rooms publishes the gifts and likes sent (GiftSent, LikeSent).
	Rooms   *Service
	Configs *webhook.Configs
	Before  *webhook.BeforeCaller
	// Now is the clock; time.Now when nil.
	Now    func() time.Time
	Logger *slog.Logger
}

// GiftService manages an app's gift configuration and sends gifts and likes.
type GiftService struct {
	o      GiftOptions
	before *beforeHook
}

// NewGiftService returns the gift service.
func NewGiftService(o GiftOptions) *GiftService {
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	return &GiftService{o: o, before: &beforeHook{store: o.Store, configs: o.Configs, caller: o.Before, logger: o.Logger}}
}

// Gift and GiftLanguage are a gift of the configuration and a localisation, as the store
// keeps them; the doors use these names.
type (
	Gift         = store.Gift
	GiftLanguage = store.GiftLanguage
)

// GiftDef is an add_gift or edit_gift request. For add, ID, Coins and DefaultName are
// required; for edit only ID is, and the fields given (not nil) replace the gift's.
type GiftDef struct {
	ID            string
	IconURL       *string
	ResourceURL   *string
	Coins         *int64
	Level         *int64
	ExtensionInfo *string
	DefaultName   *string
	DefaultDesc   *string
}

// CategoryDef is an add_gift_category or edit_gift_category request, with the same rules
// as GiftDef (DefaultName required for add).
type CategoryDef struct {
	ID            string
	ExtensionInfo *string
	DefaultName   *string
	DefaultDesc   *string
}

// LanguageDef is a set_gift_language or set_gift_category_language request: the name and
// description of a gift or category (ID) in one language. Name is required the first time
// a language is set; later calls change only the fields given.
type LanguageDef struct {
	ID       string
	Language string
	Name     *string
	Desc     *string
}

// GiftConfig is an app's whole gift configuration, each list in the order added.
type GiftConfig struct {
	Gifts             []store.Gift
	GiftLanguages     []store.GiftLanguage
	Categories        []store.GiftCategory
	CategoryLanguages []store.GiftLanguage
	Relations         []store.GiftCategoryRelation
}

func requireGiftAdmin(a Actor) error {
	if !a.AppAdmin {
		return fmt.Errorf("%w: %s is not an App admin", ErrGiftAdminOnly, a.Operator)
	}
	return nil
}

func validateID(field, id string) error {
	if id == "" {
		return errcode.Invalid(field, "is required")
	}
	if len(id) > maxGiftIDBytes {
		return errcode.Invalid(field, "is longer than %d bytes", maxGiftIDBytes)
	}
	return nil
}

func checkText(field string, v *string, limit int) error {
	if v != nil && len(*v) > limit {
		return errcode.Invalid(field, "is longer than %d bytes", limit)
	}
	return nil
}

func checkNumber(field string, v *int64) error {
	if v != nil && (*v < 0 || *v > maxGiftNumber) {
		return errcode.Invalid(field, "must be 0 to %d", maxGiftNumber)
	}
	return nil
}

// checkExtension checks an ExtensionInfo: at most 100 bytes of JSON text, or empty.
func checkExtension(v *string) error {
	if v == nil || *v == "" {
		return nil
	}
	if len(*v) > maxGiftExtBytes {
		return errcode.Invalid("ExtensionInfo", "is longer than %d bytes", maxGiftExtBytes)
	}
	if !json.Valid([]byte(*v)) {
		return errcode.Invalid("ExtensionInfo", "must be a string holding JSON")
	}
	return nil
}

func (d GiftDef) validate(add bool) error {
	if err := validateID("GiftId", d.ID); err != nil {
		return err
	}
	if add && d.Coins == nil {
		return errcode.Invalid("Coins", "is required")
	}
	if add && (d.DefaultName == nil || *d.DefaultName == "") {
		return errcode.Invalid("DefaultName", "is required")
	}
	if d.DefaultName != nil && *d.DefaultName == "" {
		return errcode.Invalid("DefaultName", "must not be empty")
	}
	for _, err := range []error{
		checkText("IconUrl", d.IconURL, maxGiftURLBytes), checkText("ResourceUrl", d.ResourceURL, maxGiftURLBytes),
		checkNumber("Coins", d.Coins), checkNumber("Level", d.Level), checkExtension(d.ExtensionInfo),
		checkText("DefaultName", d.DefaultName, maxGiftNameBytes), checkText("DefaultDesc", d.DefaultDesc, maxGiftDescBytes),
	} {
		if err != nil {
			return err
		}
	}
	return nil
}

func (d GiftDef) apply(g *store.Gift) {
	set := func(dst *string, v *string) {
		if v != nil {
			*dst = *v
		}
	}
	set(&g.IconURL, d.IconURL)
	set(&g.ResourceURL, d.ResourceURL)
	set(&g.ExtensionInfo, d.ExtensionInfo)
	set(&g.DefaultName, d.DefaultName)
	set(&g.DefaultDesc, d.DefaultDesc)
	if d.Coins != nil {
		g.Coins = *d.Coins
	}
	if d.Level != nil {
		g.Level = *d.Level
	}
}

func (d CategoryDef) validate(add bool) error {
	if err := validateID("CategoryId", d.ID); err != nil {
		return err
	}
	if add && (d.DefaultName == nil || *d.DefaultName == "") {
		return errcode.Invalid("DefaultName", "is required")
	}
	if d.DefaultName != nil && *d.DefaultName == "" {
		return errcode.Invalid("DefaultName", "must not be empty")
	}
	for _, err := range []error{
		checkExtension(d.ExtensionInfo),
		checkText("DefaultName", d.DefaultName, maxGiftNameBytes), checkText("DefaultDesc", d.DefaultDesc, maxCatDescBytes),
	} {
		if err != nil {
			return err
		}
	}
	return nil
}

func (d CategoryDef) apply(c *store.GiftCategory) {
	if d.ExtensionInfo != nil {
		c.ExtensionInfo = *d.ExtensionInfo
	}
	if d.DefaultName != nil {
		c.DefaultName = *d.DefaultName
	}
	if d.DefaultDesc != nil {
		c.DefaultDesc = *d.DefaultDesc
	}
}

// validateLanguage checks a Language value: one of GiftLanguages.
func validateLanguage(lang string) error {
	if lang == "" {
		return errcode.Invalid("Language", "is required")
	}
	if !slices.Contains(GiftLanguages, lang) {
		return errcode.Invalid("Language", "must be one of %q, not %q", GiftLanguages, lang)
	}
	return nil
}

// validate checks a language request; idField names its id (GiftId or CategoryId),
// nameField and descField its text fields, descLimit the description's limit.
func (d LanguageDef) validate(idField, nameField, descField string, descLimit int) error {
	if err := validateID(idField, d.ID); err != nil {
		return err
	}
	if err := validateLanguage(d.Language); err != nil {
		return err
	}
	if d.Name != nil && *d.Name == "" {
		return errcode.Invalid(nameField, "must not be empty")
	}
	if err := checkText(nameField, d.Name, maxGiftNameBytes); err != nil {
		return err
	}
	return checkText(descField, d.Desc, descLimit)
}

// AddGift adds a gift to the app's configuration: at most MaxGifts, ids unique (100002).
func (s *GiftService) AddGift(ctx context.Context, a Actor, d GiftDef) error {
	if err := d.validate(true); err != nil {
		return err
	}
	if err := requireGiftAdmin(a); err != nil {
		return err
	}
	g := store.Gift{App: a.App, ID: d.ID, CreatedAt: s.o.Now()}
	d.apply(&g)
	return s.o.Store.Tx(ctx, func(tx store.Tx) error {
		gifts, err := tx.GiftList(ctx, a.App)
		if err != nil {
			return err
		}
		if slices.ContainsFunc(gifts, func(x store.Gift) bool { return x.ID == d.ID }) {
			return errcode.Invalid("GiftId", "%q already exists; change it with edit_gift", d.ID)
		}
		if len(gifts) >= MaxGifts {
			return errcode.Invalid("", "the app already has %d gifts, the most it may have", MaxGifts)
		}
		return tx.GiftInsert(ctx, g)
	})
}

// EditGift changes the fields d gives of an existing gift (102002 when there is none).
func (s *GiftService) EditGift(ctx context.Context, a Actor, d GiftDef) error {
	if err := d.validate(false); err != nil {
		return err
	}
	if err := requireGiftAdmin(a); err != nil {
		return err
	}
	return s.o.Store.Tx(ctx, func(tx store.Tx) error {
		g, err := requireGift(ctx, tx, a.App, d.ID)
		if err != nil {
			return err
		}
		d.apply(&g)
		return tx.GiftUpdate(ctx, g)
	})
}

// DelGift deletes a gift with its languages and its places in categories. Deleting a gift
// that does not exist succeeds.
func (s *GiftService) DelGift(ctx context.Context, a Actor, id string) error {
	if err := validateID("GiftId", id); err != nil {
		return err
	}
	if err := requireGiftAdmin(a); err != nil {
		return err
	}
	return s.o.Store.Tx(ctx, func(tx store.Tx) error {
		_, err := tx.GiftDelete(ctx, a.App, id)
		return err
	})
}

func requireGift(ctx context.Context, r store.Reader, app uint64, id string) (store.Gift, error) {
	g, err := r.GiftGet(ctx, app, id)
	if errors.Is(err, store.ErrNotFound) {
		return g, fmt.Errorf("%w: %s", ErrGiftNotFound, id)
	}
	return g, err
}

func requireCategory(ctx context.Context, r store.Reader, app uint64, id string) (store.GiftCategory, error) {
	c, err := r.GiftCategoryGet(ctx, app, id)
	if errors.Is(err, store.ErrNotFound) {
		return c, errcode.Invalid("CategoryId", "%q does not exist", id)
	}
	return c, err
}

// GetGift returns one gift (102002 when there is none).
func (s *GiftService) GetGift(ctx context.Context, a Actor, id string) (store.Gift, error) {
	if err := validateID("GiftId", id); err != nil {
		return store.Gift{}, err
	}
	if err := requireGiftAdmin(a); err != nil {
		return store.Gift{}, err
	}
	return requireGift(ctx, s.o.Store, a.App, id)
}

// Config returns the app's whole gift configuration. Anyone may read it (the client's
// getGiftList shows it to every user).
func (s *GiftService) Config(ctx context.Context, app uint64) (GiftConfig, error) {
	var c GiftConfig
	var err error
	if c.Gifts, err = s.o.Store.GiftList(ctx, app); err != nil {
		return c, err
	}
	if c.GiftLanguages, err = s.o.Store.GiftLanguageList(ctx, app, ""); err != nil {
		return c, err
	}
	if c.Categories, err = s.o.Store.GiftCategoryList(ctx, app); err != nil {
		return c, err
	}
	if c.CategoryLanguages, err = s.o.Store.GiftCategoryLanguageList(ctx, app, ""); err != nil {
		return c, err
	}
	c.Relations, err = s.o.Store.GiftCategoryRelationList(ctx, app)
	return c, err
}

// putLanguage merges d into the current localisation cur (found tells whether there is
// one): Name is required the first time.
func putLanguage(cur store.GiftLanguage, found bool, d LanguageDef, nameField string) (store.GiftLanguage, error) {
	if !found {
		if d.Name == nil {
			return cur, errcode.Invalid(nameField, "is required the first time a language is set")
		}
		cur = store.GiftLanguage{ID: d.ID, Language: d.Language}
	}
	if d.Name != nil {
		cur.Name = *d.Name
	}
	if d.Desc != nil {
		cur.Desc = *d.Desc
	}
	return cur, nil
}

func findLanguage(ls []store.GiftLanguage, lang string) (store.GiftLanguage, bool) {
	for _, l := range ls {
		if l.Language == lang {
			return l, true
		}
	}
	return store.GiftLanguage{}, false
}

// SetGiftLanguage sets a gift's name and description in one language (102002 when the
// gift does not exist).
func (s *GiftService) SetGiftLanguage(ctx context.Context, a Actor, d LanguageDef) error {
	return s.setLanguage(ctx, a, giftLocalisation, d)
}

// GetGiftLanguage returns a gift's name and description in one language; both are empty
// when the language was never set (102002 when the gift does not exist).
func (s *GiftService) GetGiftLanguage(ctx context.Context, a Actor, id, lang string) (store.GiftLanguage, error) {
	return s.getLanguage(ctx, a, giftLocalisation, id, lang)
}

// DelGiftLanguage deletes a gift's localisation in one language; deleting one that does not
// exist succeeds.
func (s *GiftService) DelGiftLanguage(ctx context.Context, a Actor, id, lang string) error {
	return s.delLanguage(ctx, a, giftLocalisation, id, lang)
}

// localisation is what differs between the localisations of gifts and of categories: the
// request's field names, the description limit, the existence check and the store methods.
// One set of functions below serves both.
type localisation struct {
	idField, nameField, descField string
	maxDescBytes                  int
	require                       func(ctx context.Context, r store.Reader, app uint64, id string) error
	list                          func(ctx context.Context, r store.Reader, app uint64, id string) ([]store.GiftLanguage, error)
	put                           func(ctx context.Context, tx store.Tx, app uint64, l store.GiftLanguage) error
	del                           func(ctx context.Context, tx store.Tx, app uint64, id, lang string) (bool, error)
}

var giftLocalisation = localisation{
	idField: "GiftId", nameField: "Name", descField: "Desc", maxDescBytes: maxGiftDescBytes,
	require: func(ctx context.Context, r store.Reader, app uint64, id string) error {
		_, err := requireGift(ctx, r, app, id)
		return err
	},
	list: func(ctx context.Context, r store.Reader, app uint64, id string) ([]store.GiftLanguage, error) {
		return r.GiftLanguageList(ctx, app, id)
	},
	put: func(ctx context.Context, tx store.Tx, app uint64, l store.GiftLanguage) error {
		return tx.GiftLanguagePut(ctx, app, l)
	},
	del: func(ctx context.Context, tx store.Tx, app uint64, id, lang string) (bool, error) {
		return tx.GiftLanguageDelete(ctx, app, id, lang)
	},
}

var categoryLocalisation = localisation{
	idField: "CategoryId", nameField: "CategoryName", descField: "CategoryDesc", maxDescBytes: maxCatDescBytes,
	require: func(ctx context.Context, r store.Reader, app uint64, id string) error {
		_, err := requireCategory(ctx, r, app, id)
		return err
	},
	list: func(ctx context.Context, r store.Reader, app uint64, id string) ([]store.GiftLanguage, error) {
		return r.GiftCategoryLanguageList(ctx, app, id)
	},
	put: func(ctx context.Context, tx store.Tx, app uint64, l store.GiftLanguage) error {
		return tx.GiftCategoryLanguagePut(ctx, app, l)
	},
	del: func(ctx context.Context, tx store.Tx, app uint64, id, lang string) (bool, error) {
		return tx.GiftCategoryLanguageDelete(ctx, app, id, lang)
	},
}

func (s *GiftService) setLanguage(ctx context.Context, a Actor, k localisation, d LanguageDef) error {
	if err := d.validate(k.idField, k.nameField, k.descField, k.maxDescBytes); err != nil {
		return err
	}
	if err := requireGiftAdmin(a); err != nil {
		return err
	}
	return s.o.Store.Tx(ctx, func(tx store.Tx) error {
		if err := k.require(ctx, tx, a.App, d.ID); err != nil {
			return err
		}
		ls, err := k.list(ctx, tx, a.App, d.ID)
		if err != nil {
			return err
		}
		cur, found := findLanguage(ls, d.Language)
		l, err := putLanguage(cur, found, d, k.nameField)
		if err != nil {
			return err
		}
		return k.put(ctx, tx, a.App, l)
	})
}

func (s *GiftService) getLanguage(ctx context.Context, a Actor, k localisation, id, lang string) (store.GiftLanguage, error) {
	if err := validateID(k.idField, id); err != nil {
		return store.GiftLanguage{}, err
	}
	if err := validateLanguage(lang); err != nil {
		return store.GiftLanguage{}, err
	}
	if err := requireGiftAdmin(a); err != nil {
		return store.GiftLanguage{}, err
	}
	if err := k.require(ctx, s.o.Store, a.App, id); err != nil {
		return store.GiftLanguage{}, err
	}
	ls, err := k.list(ctx, s.o.Store, a.App, id)
	if err != nil {
		return store.GiftLanguage{}, err
	}
	l, _ := findLanguage(ls, lang)
	l.ID, l.Language = id, lang
	return l, nil
}

func (s *GiftService) delLanguage(ctx context.Context, a Actor, k localisation, id, lang string) error {
	if err := validateID(k.idField, id); err != nil {
		return err
	}
	if err := validateLanguage(lang); err != nil {
		return err
	}
	if err := requireGiftAdmin(a); err != nil {
		return err
	}
	return s.o.Store.Tx(ctx, func(tx store.Tx) error {
		_, err := k.del(ctx, tx, a.App, id, lang)
		return err
	})
}

// AddCategory adds a gift category: at most MaxGiftCategories, ids unique (100002).
func (s *GiftService) AddCategory(ctx context.Context, a Actor, d CategoryDef) error {
	if err := d.validate(true); err != nil {
		return err
	}
	if err := requireGiftAdmin(a); err != nil {
		return err
	}
	c := store.GiftCategory{App: a.App, ID: d.ID, CreatedAt: s.o.Now()}
	d.apply(&c)
	return s.o.Store.Tx(ctx, func(tx store.Tx) error {
		cats, err := tx.GiftCategoryList(ctx, a.App)
		if err != nil {
			return err
		}
		if slices.ContainsFunc(cats, func(x store.GiftCategory) bool { return x.ID == d.ID }) {
			return errcode.Invalid("CategoryId", "%q already exists; change it with edit_gift_category", d.ID)
		}
		if len(cats) >= MaxGiftCategories {
			return errcode.Invalid("", "the app already has %d gift categories, the most it may have", MaxGiftCategories)
		}
		return tx.GiftCategoryInsert(ctx, c)
	})
}

// EditCategory changes the fields d gives of an existing category (100002 when there is
// none).
func (s *GiftService) EditCategory(ctx context.Context, a Actor, d CategoryDef) error {
	if err := d.validate(false); err != nil {
		return err
	}
	if err := requireGiftAdmin(a); err != nil {
		return err
	}
	return s.o.Store.Tx(ctx, func(tx store.Tx) error {
		c, err := requireCategory(ctx, tx, a.App, d.ID)
		if err != nil {
			return err
		}
		d.apply(&c)
		return tx.GiftCategoryUpdate(ctx, c)
	})
}

// DelCategory deletes a category with its languages and its gift list (the gifts stay).
// Deleting one that does not exist succeeds.
func (s *GiftService) DelCategory(ctx context.Context, a Actor, id string) error {
	if err := validateID("CategoryId", id); err != nil {
		return err
	}
	if err := requireGiftAdmin(a); err != nil {
		return err
	}
	return s.o.Store.Tx(ctx, func(tx store.Tx) error {
		_, err := tx.GiftCategoryDelete(ctx, a.App, id)
		return err
	})
}

// GetCategory returns one category (100002 when there is none).
func (s *GiftService) GetCategory(ctx context.Context, a Actor, id string) (store.GiftCategory, error) {
	if err := validateID("CategoryId", id); err != nil {
		return store.GiftCategory{}, err
	}
	if err := requireGiftAdmin(a); err != nil {
		return store.GiftCategory{}, err
	}
	return requireCategory(ctx, s.o.Store, a.App, id)
}

// SetCategoryLanguage sets a category's name and description in one language (100002 when
// the category does not exist).
func (s *GiftService) SetCategoryLanguage(ctx context.Context, a Actor, d LanguageDef) error {
	return s.setLanguage(ctx, a, categoryLocalisation, d)
}

// GetCategoryLanguage returns a category's name and description in one language; both are
// empty when the language was never set (100002 when the category does not exist).
func (s *GiftService) GetCategoryLanguage(ctx context.Context, a Actor, id, lang string) (store.GiftLanguage, error) {
	return s.getLanguage(ctx, a, categoryLocalisation, id, lang)
}

// DelCategoryLanguage deletes a category's localisation in one language; deleting one that
// does not exist succeeds.
func (s *GiftService) DelCategoryLanguage(ctx context.Context, a Actor, id, lang string) error {
	return s.delLanguage(ctx, a, categoryLocalisation, id, lang)
}

// validateGiftIDList checks a GiftIdList: 1 to MaxGifts ids, each a valid GiftId; it
// returns them with duplicates folded, in order.
func validateGiftIDList(ids []string) ([]string, error) {
	if len(ids) == 0 {
		return nil, errcode.Invalid("GiftIdList", "is required")
	}
	var out []string
	for _, id := range ids {
		if err := validateID("GiftIdList", id); err != nil {
			return nil, err
		}
		if !slices.Contains(out, id) {
			out = append(out, id)
		}
	}
	if len(out) > MaxGifts {
		return nil, errcode.Invalid("GiftIdList", "has more than %d gifts", MaxGifts)
	}
	return out, nil
}

// AddRelations attaches gifts to a category (100002 when it does not exist) after the ones
// it holds and returns the ids that are not gifts of the app, which are left out.
func (s *GiftService) AddRelations(ctx context.Context, a Actor, categoryID string, giftIDs []string) ([]string, error) {
	if err := validateID("CategoryId", categoryID); err != nil {
		return nil, err
	}
	ids, err := validateGiftIDList(giftIDs)
	if err != nil {
		return nil, err
	}
	if err := requireGiftAdmin(a); err != nil {
		return nil, err
	}
	invalid := []string{}
	err = s.o.Store.Tx(ctx, func(tx store.Tx) error {
		invalid = invalid[:0]
		if _, err := requireCategory(ctx, tx, a.App, categoryID); err != nil {
			return err
		}
		var valid []string
		for _, id := range ids {
			_, err := tx.GiftGet(ctx, a.App, id)
			switch {
			case errors.Is(err, store.ErrNotFound):
				invalid = append(invalid, id)
			case err != nil:
				return err
			default:
				valid = append(valid, id)
			}
		}
		return tx.GiftCategoryRelationAdd(ctx, a.App, categoryID, valid)
	})
	return invalid, err
}

// DelRelations detaches gifts from a category; gifts it does not hold (and a category that
// does not exist) are ignored.
func (s *GiftService) DelRelations(ctx context.Context, a Actor, categoryID string, giftIDs []string) error {
	if err := validateID("CategoryId", categoryID); err != nil {
		return err
	}
	ids, err := validateGiftIDList(giftIDs)
	if err != nil {
		return err
	}
	if err := requireGiftAdmin(a); err != nil {
		return err
	}
	return s.o.Store.Tx(ctx, func(tx store.Tx) error {
		return tx.GiftCategoryRelationDelete(ctx, a.App, categoryID, ids)
	})
}

// CopyDefault installs the default gift set (gifts_default.go) into an app that has no
// gift and no category yet; an app with any is refused with 100002 and left as it is.
func (s *GiftService) CopyDefault(ctx context.Context, a Actor) error {
	if err := requireGiftAdmin(a); err != nil {
		return err
	}
	now := s.o.Now()
	return s.o.Store.Tx(ctx, func(tx store.Tx) error {
		gifts, err := tx.GiftList(ctx, a.App)
		if err != nil {
			return err
		}
		cats, err := tx.GiftCategoryList(ctx, a.App)
		if err != nil {
			return err
		}
		if len(gifts) > 0 || len(cats) > 0 {
			return errcode.Invalid("", "the app already has a gift configuration (%d gifts, %d categories); "+
				"copy_default_gift_config installs the default set only into an empty one", len(gifts), len(cats))
		}
		return installDefault(ctx, tx, a.App, now)
	})
}

// GiftSend is a gift sent in a room: Count (at least 1) of a gift from Sender to each of
// Receivers.
type GiftSend struct {
	RoomID    string
	GiftID    string
	Count     int64
	Sender    string
	Receivers []string
}

func (g *GiftSend) validate() error {
	if err := ValidateRoomID(g.RoomID); err != nil {
		return err
	}
	if err := validateID("GiftId", g.GiftID); err != nil {
		return err
	}
	if g.Count < 1 || g.Count > MaxGiftCount {
		return errcode.Invalid("Count", "must be 1 to %d", MaxGiftCount)
	}
	if g.Sender == "" {
		return errcode.Invalid("From_Account", "is required")
	}
	if len(g.Receivers) == 0 {
		return errcode.Invalid("ReceiverList_Account", "is required")
	}
	var rs []string
	for _, r := range g.Receivers {
		if r == "" {
			return errcode.Invalid("ReceiverList_Account", "has an empty account")
		}
		if !slices.Contains(rs, r) {
			rs = append(rs, r)
		}
	}
	if len(rs) > MaxGiftReceivers {
		return errcode.Invalid("ReceiverList_Account", "has more than %d accounts", MaxGiftReceivers)
	}
	g.Receivers = rs
	return nil
}

// check refuses a gift the room does not take: no such room (100004), a sender or receiver
// who is not an imported account (70107), a sender banned from the room (100006), a gift that
// is not configured (102002). It returns the gift.
func (s *GiftService) check(ctx context.Context, r store.Reader, app uint64, g *GiftSend) (store.Gift, error) {
	if _, err := requireRoom(ctx, r, app, g.RoomID); err != nil {
		return store.Gift{}, err
	}
	if err := requireAccount(ctx, r, app, "From_Account", g.Sender); err != nil {
		return store.Gift{}, err
	}
	for _, u := range g.Receivers {
		if err := requireAccount(ctx, r, app, "ReceiverList_Account", u); err != nil {
			return store.Gift{}, err
		}
	}
	if err := checkNotBanned(ctx, r, app, g.RoomID, g.Sender, s.o.Now()); err != nil {
		return store.Gift{}, err
	}
	return requireGift(ctx, r, app, g.GiftID)
}

// sendGiftRules are the reply rules of Live.CallbackBeforeSendGift (see the top of this file).
var sendGiftRules = &beforeRules{
	cmd:       webhook.BeforeSendGift,
	passFirst: giftPassFirst, passLast: giftPassLast,
	rejected: func(info string) error { return fmt.Errorf("%w: %s", ErrGiftRejected, info) },
	failOpen: func(cfg *webhook.Config) bool { return cfg.Enabled(webhook.BeforeCallBackNotBlock) },
	noReply: func(_ *webhook.Config, reason error) error {
		return fmt.Errorf("%w: %v; %s is not switched on", ErrGiftRejected, reason, webhook.BeforeCallBackNotBlock)
	},
}

// SendGift sends a gift in a room. An App user sends only as itself (100006). After the
// Before-callback allowed it, one transaction counts it (the receivers' tallies, the room's
// TotalGiftsSent, TotalGiftCoins and TotalUniqueGiftSenders) and publishes GiftSent.
// Count gifts to each of n receivers count as Count×n gifts worth Count×n×Coins.
func (s *GiftService) SendGift(ctx context.Context, a Actor, g GiftSend) error {
	if err := g.validate(); err != nil {
		return err
	}
	if !a.AppAdmin && g.Sender != a.Operator {
		return fmt.Errorf("%w: %s cannot send a gift as %s", ErrNoPermission, a.Operator, g.Sender)
	}
	sent := s.o.Now()
	var gift store.Gift
	before, _, err := s.before.ask(ctx, beforeAsk{
		actor: a, roomID: g.RoomID, rules: sendGiftRules,
		check: func(ctx context.Context) (err error) {
			gift, err = s.check(ctx, s.o.Store, a.App, &g)
			return err
		},
		body: func() any {
			return webhook.BeforeSendGiftBody{Operator_Account: a.Operator, RoomId: g.RoomID, GiftWater: webhook.GiftWater{
				From_Account: g.Sender, To_Account: g.Receivers, Time: sent.Unix(), GiftId: g.GiftID, Count: g.Count, Coins: gift.Coins,
			}}
		},
	})
	if err != nil {
		return err
	}
	err = s.o.Store.Tx(ctx, func(tx store.Tx) error {
		if err := before.recordIn(ctx, tx); err != nil {
			return err
		}
		// (Checked again: the room or the gift may have changed while the App backend was
		// deciding.)
		gift, err := s.check(ctx, tx, a.App, &g)
		if err != nil {
			return err
		}
		rec, err := tx.GiftRecord(ctx, store.GiftRecordParams{App: a.App, RoomID: g.RoomID, Sender: g.Sender,
			Receivers: g.Receivers, Count: g.Count, Coins: gift.Coins})
		if err != nil {
			return err
		}
		n := g.Count * int64(len(g.Receivers))
		incr := map[store.StatField]int64{store.StatGiftsSent: n, store.StatGiftCoins: n * gift.Coins}
		if rec.NewSender {
			incr[store.StatUniqueGiftSenders] = 1
		}
		for _, f := range []store.StatField{store.StatGiftsSent, store.StatGiftCoins, store.StatUniqueGiftSenders} {
			if d := incr[f]; d != 0 {
				if err := tx.RoomStatsIncr(ctx, a.App, g.RoomID, f, d); err != nil {
					return err
				}
			}
		}
		totals, err := tx.RoomStatsGet(ctx, a.App, g.RoomID)
		if err != nil {
			return err
		}
		langs, err := tx.GiftLanguageList(ctx, a.App, gift.ID)
		if err != nil {
			return err
		}
		return s.o.Rooms.publish(ctx, tx, a, GiftSent{EventHead: s.o.Rooms.head(a, g.RoomID), Sender: g.Sender,
			Receivers: g.Receivers, Gift: gift, Languages: langs, Count: g.Count, Seq: rec.Seq, Totals: totals})
	})
	return before.finish(ctx, g.RoomID, err)
}

// GiftCount returns what user received in a room (get_gift_count): 100004 when the room
// does not exist.
func (s *GiftService) GiftCount(ctx context.Context, app uint64, roomID, user string) (store.GiftTally, error) {
	if err := ValidateRoomID(roomID); err != nil {
		return store.GiftTally{}, err
	}
	if user == "" {
		return store.GiftTally{}, errcode.Invalid("From_Account", "is required")
	}
	if _, err := requireRoom(ctx, s.o.Store, app, roomID); err != nil {
		return store.GiftTally{}, err
	}
	return s.o.Store.GiftTallyGet(ctx, app, roomID, user)
}

// SendLike counts count likes (1 to MaxLikeCount) of the actor in a room in the room's
// TotalLikesReceived and publishes LikeSent. A user banned from the room cannot (100006).
func (s *GiftService) SendLike(ctx context.Context, a Actor, roomID string, count int64) error {
	if err := ValidateRoomID(roomID); err != nil {
		return err
	}
	if count < 1 || count > MaxLikeCount {
		return errcode.Invalid("count", "must be 1 to %d", MaxLikeCount)
	}
	return s.o.Store.Tx(ctx, func(tx store.Tx) error {
		if _, err := requireRoom(ctx, tx, a.App, roomID); err != nil {
			return err
		}
		if err := checkNotBanned(ctx, tx, a.App, roomID, a.Operator, s.o.Now()); err != nil {
			return err
		}
		if err := tx.RoomStatsIncr(ctx, a.App, roomID, store.StatLikesReceived, count); err != nil {
			return err
		}
		totals, err := tx.RoomStatsGet(ctx, a.App, roomID)
		if err != nil {
			return err
		}
		return s.o.Rooms.publish(ctx, tx, a, LikeSent{EventHead: s.o.Rooms.head(a, roomID), Sender: a.Operator, Count: count,
			TotalLikesReceived: totals.TotalLikesReceived})
	})
}

// GiftSent: a gift was sent in the room. Gift is the gift as configured when it was sent,
// Languages its localisations; Seq is the room's gift sequence after it and Totals the
// room's counters after it.
type GiftSent struct {
	EventHead
	Sender    string
	Receivers []string
	Gift      store.Gift
	Languages []store.GiftLanguage
	Count     int64
	Seq       int64
	Totals    Stats
}

// LikeSent: a user liked the room Count times; TotalLikesReceived is the room's total after.
type LikeSent struct {
	EventHead
	Sender             string
	Count              int64
	TotalLikesReceived int64
}
