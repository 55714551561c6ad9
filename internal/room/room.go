package room

import (
	"context"
	"encoding/json"
	"fmt"
	"time"
	"unicode/utf8"

	"github.com/roomd/roomd/internal/errcode"
	"github.com/roomd/roomd/internal/store"
)

// Field limits of create_room (https://www.tencentcloud.com/document/product/647/63401):
// RoomId at most 48 bytes, RoomName 100 bytes, CoverURL 200 bytes, at most 3 Category tags;
// Notice (at most 100 bytes) is update_room_info's
// (https://www.tencentcloud.com/document/product/647/63403).
const (
	MaxRoomIDBytes   = 48
	MaxRoomNameBytes = 100
	MaxCoverURLBytes = 200
	MaxNoticeBytes   = 100
	MaxCategories    = 3
)

// Take-seat modes.
const (
	FreeToTake  = "FreeToTake"
	ApplyToTake = "ApplyToTake"
)

// DefaultSeatTemplate is used when a create request names none (the Manager's default).
const DefaultSeatTemplate = "VideoDynamicGrid9Seats"

// seatTemplates maps each known SeatTemplate to its default seat count.
var seatTemplates = map[string]int{
	"VideoDynamicGrid9Seats":  9,
	"VideoDynamicFloat7Seats": 7,
	"VideoFixedGrid9Seats":    9,
	"VideoFixedFloat7Seats":   7,
	"VideoLandscape4Seats":    4,
	"VideoLandscape4Seat":     4, // the Manager's spelling
	"AudioSalon":              10,
	"Karaoke":                 10,
}

// Info is a room's attributes other than its id, owner, creation time, view count and
// visibility. It is stored as JSON, with Tencent's field names.
type Info struct {
	RoomType               string `json:"RoomType"`
	RoomName               string `json:"RoomName"`
	CoverURL               string `json:"CoverURL"`
	Category               []int  `json:"Category"`
	ActivityStatus         int    `json:"ActivityStatus"`
	IsMessageDisabled      bool   `json:"IsMessageDisabled"`
	TakeSeatMode           string `json:"TakeSeatMode"`
	MaxSeatCount           int    `json:"MaxSeatCount"`
	MaxMemberCount         int    `json:"MaxMemberCount"`
	IsSeatEnabled          bool   `json:"IsSeatEnabled"`
	IsUnlimitedRoomEnabled bool   `json:"IsUnlimitedRoomEnabled"`
	SeatLayoutTemplateId   int    `json:"SeatLayoutTemplateId"`
	SeatTemplate           string `json:"SeatTemplate"`
	KeepOwnerOnSeat        bool   `json:"KeepOwnerOnSeat"`
	Notice                 string `json:"Notice"`
	CustomInfo             string `json:"CustomInfo"`
	BackgroundURL          string `json:"BackgroundURL"`
}

// Room is a live room.
type Room struct {
	App             uint64
	ID              string
	Owner           string
	CreateTime      time.Time
	ViewCount       int64
	IsPublicVisible bool
	Info
	// MemberCount is how many members the room has now (people and robots) and OnlineCount
	// how many of them are people connected through the client API. They are filled by Get
	// and List only.
	MemberCount, OnlineCount int
	// OwnerName and OwnerAvatarURL are the owner's nick and avatar (its profile's
	// Tag_Profile_IM_Nick and Tag_Profile_IM_Image), filled by Get and List only.
	OwnerName, OwnerAvatarURL string
}

// withCounts returns r with its MemberCount and OnlineCount read from the store, and its
// owner's profile (withOwner).
func withCounts(ctx context.Context, st store.Reader, r Room) (Room, error) {
	var err error
	if r.MemberCount, r.OnlineCount, err = st.MemberCounts(ctx, r.App, r.ID); err != nil {
		return Room{}, err
	}
	return withOwner(ctx, st, r)
}

func fromRow(r store.Room) (Room, error) {
	out := Room{App: r.App, ID: r.RoomID, Owner: r.Owner, CreateTime: r.CreatedAt, ViewCount: r.ViewCount, IsPublicVisible: r.PublicVisible}
	if err := json.Unmarshal(r.Info, &out.Info); err != nil {
		return Room{}, fmt.Errorf("decode room %s: %w", r.RoomID, err)
	}
	if out.Category == nil {
		out.Category = []int{}
	}
	return out, nil
}

func (r Room) row() (store.Room, error) {
	info, err := json.Marshal(r.Info)
	if err != nil {
		return store.Room{}, err
	}
	return store.Room{App: r.App, RoomID: r.ID, Owner: r.Owner, CreatedAt: r.CreateTime, ViewCount: r.ViewCount, PublicVisible: r.IsPublicVisible, Info: info}, nil
}

// ValidateRoomID checks a RoomId: 1..48 bytes of valid UTF-8.
func ValidateRoomID(id string) error {
	switch {
	case id == "":
		return errcode.Invalid("RoomId", "is required")
	case len(id) > MaxRoomIDBytes:
		return errcode.Invalid("RoomId", "is longer than %d bytes", MaxRoomIDBytes)
	case !utf8.ValidString(id):
		return errcode.Invalid("RoomId", "is not valid UTF-8")
	}
	return nil
}

func maxBytes(field, v string, n int) error {
	if len(v) > n {
		return errcode.Invalid(field, "is longer than %d bytes", n)
	}
	if !utf8.ValidString(v) {
		return errcode.Invalid(field, "is not valid UTF-8")
	}
	return nil
}

// validate checks every attribute rule of create_room's page (the limits above, RoomType
// "Live", the known TakeSeatMode and SeatTemplate values).
func (in *Info) validate() error {
	if in.RoomType != "Live" {
		return errcode.Invalid("RoomType", "must be \"Live\"")
	}
	if err := maxBytes("RoomName", in.RoomName, MaxRoomNameBytes); err != nil {
		return err
	}
	if err := maxBytes("CoverURL", in.CoverURL, MaxCoverURLBytes); err != nil {
		return err
	}
	if err := maxBytes("Notice", in.Notice, MaxNoticeBytes); err != nil {
		return err
	}
	if len(in.Category) > MaxCategories {
		return errcode.Invalid("Category", "has more than %d entries", MaxCategories)
	}
	if in.TakeSeatMode != FreeToTake && in.TakeSeatMode != ApplyToTake {
		return errcode.Invalid("TakeSeatMode", "must be FreeToTake or ApplyToTake")
	}
	if _, ok := seatTemplates[in.SeatTemplate]; !ok {
		return errcode.Invalid("", "unknown SeatTemplate %q", in.SeatTemplate)
	}
	if in.MaxSeatCount < 0 {
		return errcode.Invalid("MaxSeatCount", "is negative")
	}
	if in.MaxMemberCount < 0 {
		return errcode.Invalid("MaxMemberCount", "is negative")
	}
	return nil
}
