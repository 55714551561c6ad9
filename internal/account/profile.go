package account

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/roomd/roomd/internal/errcode"
	"github.com/roomd/roomd/internal/store"
	"github.com/roomd/roomd/internal/wirejson"
)

// The profile APIs that TUILiveKit shares with Chat: portrait_get
// (https://www.tencentcloud.com/document/product/1047/34917) and portrait_set
// (https://www.tencentcloud.com/document/product/1047/34916). An account's nick and avatar
// (Tag_Profile_IM_Nick, Tag_Profile_IM_Image) are the Nick and FaceUrl of account_import;
// the other standard fields and custom fields (Tag_Profile_Custom_*) are kept as they are
// set.

// The standard profile tags roomd keeps.
const (
	TagNick            = "Tag_Profile_IM_Nick"
	TagImage           = "Tag_Profile_IM_Image"
	TagGender          = "Tag_Profile_IM_Gender"
	TagBirthDay        = "Tag_Profile_IM_BirthDay"
	TagLocation        = "Tag_Profile_IM_Location"
	TagSelfSignature   = "Tag_Profile_IM_SelfSignature"
	TagAllowType       = "Tag_Profile_IM_AllowType"
	TagLanguage        = "Tag_Profile_IM_Language"
	TagMsgSettings     = "Tag_Profile_IM_MsgSettings"
	TagAdminForbidType = "Tag_Profile_IM_AdminForbidType"
	TagLevel           = "Tag_Profile_IM_Level"
	TagRole            = "Tag_Profile_IM_Role"

	// CustomTagPrefix starts the tag of a custom profile field; the name after it is 1 to
	// MaxCustomTagName bytes.
	CustomTagPrefix  = "Tag_Profile_Custom_"
	MaxCustomTagName = 8
)

// Limits of the profile APIs: at most MaxProfileUsers accounts per portrait_get, and every
// string value at most MaxProfileBytes bytes (40601).
const MaxProfileUsers = 100

// Profile errors.
var (
	// ErrProfileAccountNotFound: portrait_set names an account that was not imported (40003).
	ErrProfileAccountNotFound = errcode.New(errcode.ProfileAccountNotFound, "the account is not imported")
)

// tagRule is how a standard tag's value is checked, and its value when it was never set.
type tagRule struct {
	number bool     // an unsigned 32-bit integer; otherwise a string
	enum   []string // the allowed strings, when restricted
	unset  string   // the JSON value of a field never set
}

var standardTags = map[string]tagRule{
	TagNick:            {unset: `""`},
	TagImage:           {unset: `""`},
	TagGender:          {enum: []string{"Gender_Type_Unknown", "Gender_Type_Female", "Gender_Type_Male"}, unset: `"Gender_Type_Unknown"`},
	TagBirthDay:        {number: true, unset: `0`},
	TagLocation:        {unset: `""`},
	TagSelfSignature:   {unset: `""`},
	TagAllowType:       {enum: []string{"AllowType_Type_NeedConfirm", "AllowType_Type_AllowAny", "AllowType_Type_DenyAny"}, unset: `"AllowType_Type_NeedConfirm"`},
	TagLanguage:        {number: true, unset: `0`},
	TagMsgSettings:     {number: true, unset: `0`},
	TagAdminForbidType: {enum: []string{"AdminForbid_Type_None", "AdminForbid_Type_SendOut"}, unset: `"AdminForbid_Type_None"`},
	TagLevel:           {number: true, unset: `0`},
	TagRole:            {number: true, unset: `0`},
}

// rule returns the rule of tag: a standard tag's, a string for a well-formed custom tag.
func rule(tag string) (tagRule, bool) {
	if r, ok := standardTags[tag]; ok {
		return r, true
	}
	name, ok := strings.CutPrefix(tag, CustomTagPrefix)
	if !ok || name == "" || len(name) > MaxCustomTagName {
		return tagRule{}, false
	}
	return tagRule{unset: `""`}, true
}

// ProfileItem is one profile field: its tag and its JSON value (a string or a number).
type ProfileItem struct {
	Tag   string
	Value json.RawMessage
}

// UserProfile is one account's answer of portrait_get: Code 0 with its Items, or
// ResultNotImported (40003) with none.
type UserProfile struct {
	UserID string
	Code   int
	Info   string
	Items  []ProfileItem
}

// GetProfiles returns the fields tags of each account of users, in the order asked; a
// field never set has its default value ("" for strings, 0 for numbers, the first value of
// an enumeration). 1 to MaxProfileUsers accounts and at least one tag, each a standard tag
// or a custom one (Tag_Profile_Custom_<name>), else 40001.
func (s *Service) GetProfiles(ctx context.Context, app uint64, users, tags []string) ([]UserProfile, error) {
	switch {
	case len(users) == 0:
		return nil, errcode.Invalid("To_Account", "is empty")
	case len(users) > MaxProfileUsers:
		return nil, errcode.Invalid("To_Account", "has %d accounts, at most %d per call", len(users), MaxProfileUsers)
	case len(tags) == 0:
		return nil, errcode.Invalid("TagList", "is empty")
	}
	for _, t := range tags {
		if _, ok := rule(t); !ok {
			return nil, errcode.Invalid("TagList", "names the unknown profile field %q", t)
		}
	}
	out := make([]UserProfile, len(users))
	for i, u := range users {
		out[i] = UserProfile{UserID: u}
		acc, err := s.store.AccountGet(ctx, app, u)
		if errors.Is(err, store.ErrNotFound) {
			out[i].Code, out[i].Info = errcode.ProfileAccountNotFound, "account "+strconv.Quote(u)+" is not imported"
			out[i].Items = []ProfileItem{}
			continue
		}
		if err != nil {
			return nil, err
		}
		stored, err := s.store.ProfileTagList(ctx, app, u)
		if err != nil {
			return nil, err
		}
		out[i].Items = make([]ProfileItem, len(tags))
		for j, t := range tags {
			out[i].Items[j] = ProfileItem{Tag: t, Value: fieldValue(acc, stored, t)}
		}
	}
	return out, nil
}

// fieldValue is the JSON value of tag for an account with its stored fields.
func fieldValue(acc store.Account, stored []store.ProfileTag, tag string) json.RawMessage {
	switch tag {
	case TagNick:
		return jsonString(acc.Nick)
	case TagImage:
		return jsonString(acc.FaceURL)
	}
	for _, p := range stored {
		if p.Tag == tag {
			return p.Value
		}
	}
	r, _ := rule(tag)
	return json.RawMessage(r.unset)
}

func jsonString(s string) json.RawMessage {
	b, _ := wirejson.Marshal(s)
	return b
}

// SetProfile sets profile fields of an imported account (40003 otherwise): the nick and
// avatar on the account itself, the others as they are. Every item is checked before
// anything is stored, so a refused request changes nothing: an unknown tag or a value of
// the wrong type or outside its enumeration is 40001, a string longer than
// MaxProfileBytes bytes 40601. A tag given twice takes its last value.
func (s *Service) SetProfile(ctx context.Context, app uint64, user string, items []ProfileItem) error {
	if user == "" {
		return errcode.Invalid("From_Account", "is required")
	}
	if len(items) == 0 {
		return errcode.Invalid("ProfileItem", "is empty")
	}
	upd := store.AccountProfileUpdate{App: app, UserID: user}
	var tags []store.ProfileTag
	for i, it := range items {
		v, err := checkValue(fmt.Sprintf("ProfileItem[%d]", i), it)
		if err != nil {
			return err
		}
		switch it.Tag {
		case TagNick:
			upd.Nick = &v.str
		case TagImage:
			upd.FaceURL = &v.str
		default:
			tags = slices.DeleteFunc(tags, func(p store.ProfileTag) bool { return p.Tag == it.Tag })
			tags = append(tags, store.ProfileTag{Tag: it.Tag, Value: v.raw})
		}
	}
	return s.store.Tx(ctx, func(tx store.Tx) error {
		if _, err := tx.AccountGet(ctx, app, user); errors.Is(err, store.ErrNotFound) {
			return fmt.Errorf("%w: %s", ErrProfileAccountNotFound, user)
		} else if err != nil {
			return err
		}
		if upd.Nick != nil || upd.FaceURL != nil {
			if err := tx.AccountProfileUpdate(ctx, upd); err != nil {
				return err
			}
		}
		if len(tags) == 0 {
			return nil
		}
		return tx.ProfileTagSet(ctx, app, user, tags)
	})
}

// checkedValue is a profile value that passed its tag's rule: compacted JSON, and the
// string for a string field.
type checkedValue struct {
	raw json.RawMessage
	str string
}

func checkValue(field string, it ProfileItem) (checkedValue, error) {
	r, ok := rule(it.Tag)
	if !ok {
		return checkedValue{}, errcode.Invalid(field+".Tag", "%q is not a known profile field", it.Tag)
	}
	if r.number {
		n, err := strconv.ParseUint(string(it.Value), 10, 32)
		if err != nil {
			return checkedValue{}, errcode.Invalid(field+".Value", "of %s must be an integer from 0 to 4294967295", it.Tag)
		}
		return checkedValue{raw: json.RawMessage(strconv.FormatUint(n, 10))}, nil
	}
	var str string
	if err := json.Unmarshal(it.Value, &str); err != nil {
		return checkedValue{}, errcode.Invalid(field+".Value", "of %s must be a string", it.Tag)
	}
	if len(str) > MaxProfileBytes {
		return checkedValue{}, fmt.Errorf("%w: %s", ErrProfileTooLong, it.Tag)
	}
	if r.enum != nil && !slices.Contains(r.enum, str) {
		return checkedValue{}, errcode.Invalid(field+".Value", "of %s must be one of %s", it.Tag, strings.Join(r.enum, ", "))
	}
	return checkedValue{raw: jsonString(str), str: str}, nil
}
