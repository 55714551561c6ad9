package room

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/roomd/roomd/internal/errcode"
	"github.com/roomd/roomd/internal/store"
)

// Mix stream (cloud MCU). roomd carries no media, so it mixes nothing: set_mix_stream and
// resume_mcu_task keep a room's mix configuration and answer it, so an App backend that
// drives them gets the answers Tencent gives and can read back what it set.

// Mix stream limits and defaults where Tencent's pages are silent (docs/decisions.md).
const (
	MixLayoutGrid      = 0    // the built-in nine-grid layout (default)
	MixLayoutCustom    = 1000 // LayoutInfo gives the layout
	MaxMixLayouts      = 16
	MaxMixVideoSide    = 4096
	DefaultMixWidth    = 720
	DefaultMixHeight   = 1280
	MaxMixZOrder       = 15
	MaxMixStreamType   = 1 // 0 camera, 1 screen
	maxMixAccountBytes = 32
)

// ErrMixNotEnabled: the room was not created with IsUnlimitedRoomEnabled, which the mix
// stream needs (100006).
var ErrMixNotEnabled = errcode.New(errcode.NoPermission, "the room's mix stream needs IsUnlimitedRoomEnabled")

// MixVideoEncode is the mixed stream's resolution.
type MixVideoEncode struct {
	Width  int `json:"Width"`
	Height int `json:"Height"`
}

// MixLayout places one host's stream on the mixed picture.
type MixLayout struct {
	LocationX      int    `json:"LocationX"`
	LocationY      int    `json:"LocationY"`
	ImageWidth     int    `json:"ImageWidth"`
	ImageHeight    int    `json:"ImageHeight"`
	RoomId         string `json:"RoomId"`
	Member_Account string `json:"Member_Account"`
	StreamType     int    `json:"StreamType"`
	ZOrder         int    `json:"ZOrder"`
}

// MixLayoutInfo is the custom layout of LayoutMode 1000.
type MixLayoutInfo struct {
	LayoutList    []MixLayout `json:"LayoutList"`
	MaxUserLayout *MixLayout  `json:"MaxUserLayout,omitempty"`
}

// MixStreamConfig is a room's mix configuration, with Tencent's field names.
type MixStreamConfig struct {
	LayoutMode  int            `json:"LayoutMode"`
	VideoEncode MixVideoEncode `json:"VideoEncode"`
	LayoutInfo  *MixLayoutInfo `json:"LayoutInfo,omitempty"`
}

// MixStream is a room's mix configuration as kept: when it was set, and how often and when
// its task was last resumed.
type MixStream struct {
	RoomID      string
	Config      MixStreamConfig
	UpdateTime  time.Time
	ResumeCount int64
	ResumeTime  time.Time
}

// defaultMixConfig is the configuration of a room nobody set one for.
func defaultMixConfig() MixStreamConfig {
	return MixStreamConfig{LayoutMode: MixLayoutGrid, VideoEncode: MixVideoEncode{Width: DefaultMixWidth, Height: DefaultMixHeight}}
}

func (l MixLayout) validate(field, roomID string) (MixLayout, error) {
	switch {
	case l.Member_Account == "":
		return l, errcode.Invalid(field+".Member_Account", "is required")
	case len(l.Member_Account) > maxMixAccountBytes:
		return l, errcode.Invalid(field+".Member_Account", "is longer than %d bytes", maxMixAccountBytes)
	case l.ImageWidth <= 0 || l.ImageHeight <= 0 || l.ImageWidth > MaxMixVideoSide || l.ImageHeight > MaxMixVideoSide:
		return l, errcode.Invalid(field, "ImageWidth and ImageHeight must be 1 to %d", MaxMixVideoSide)
	case l.LocationX < 0 || l.LocationY < 0 || l.LocationX > MaxMixVideoSide || l.LocationY > MaxMixVideoSide:
		return l, errcode.Invalid(field, "LocationX and LocationY must be 0 to %d", MaxMixVideoSide)
	case l.StreamType < 0 || l.StreamType > MaxMixStreamType:
		return l, errcode.Invalid(field+".StreamType", "must be 0 (camera) or 1 (screen)")
	case l.ZOrder < 0 || l.ZOrder > MaxMixZOrder:
		return l, errcode.Invalid(field+".ZOrder", "must be 0 to %d", MaxMixZOrder)
	}
	if l.RoomId == "" {
		l.RoomId = roomID
	} else if err := validateRoomIDField(field+".RoomId", l.RoomId); err != nil {
		return l, err
	}
	return l, nil
}

// normalize checks c and fills its defaults: the default resolution when VideoEncode is
// absent, the room itself as each layout's RoomId; LayoutInfo is dropped for the built-in
// layout.
func (c *MixStreamConfig) normalize(roomID string) error {
	switch c.LayoutMode {
	case MixLayoutGrid:
		c.LayoutInfo = nil
	case MixLayoutCustom:
		if c.LayoutInfo == nil || len(c.LayoutInfo.LayoutList) == 0 {
			return errcode.Invalid("LayoutInfo.LayoutList", "is required with LayoutMode %d", MixLayoutCustom)
		}
		if len(c.LayoutInfo.LayoutList) > MaxMixLayouts {
			return errcode.Invalid("LayoutInfo.LayoutList", "has more than %d entries", MaxMixLayouts)
		}
		for i, l := range c.LayoutInfo.LayoutList {
			v, err := l.validate(fmt.Sprintf("LayoutInfo.LayoutList[%d]", i), roomID)
			if err != nil {
				return err
			}
			c.LayoutInfo.LayoutList[i] = v
		}
		if m := c.LayoutInfo.MaxUserLayout; m != nil {
			v, err := m.validate("LayoutInfo.MaxUserLayout", roomID)
			if err != nil {
				return err
			}
			c.LayoutInfo.MaxUserLayout = &v
		}
	default:
		return errcode.Invalid("LayoutMode", "must be %d (nine-grid) or %d (custom)", MixLayoutGrid, MixLayoutCustom)
	}
	v := &c.VideoEncode
	if v.Width == 0 && v.Height == 0 {
		v.Width, v.Height = DefaultMixWidth, DefaultMixHeight
	}
	if v.Width <= 0 || v.Height <= 0 || v.Width > MaxMixVideoSide || v.Height > MaxMixVideoSide {
		return errcode.Invalid("VideoEncode", "Width and Height must both be 1 to %d", MaxMixVideoSide)
	}
	return nil
}

// mixRoom checks the room and the actor for a mix stream API and returns the room's current
// mix stream (the default one when none was set).
func (s *Service) mixRoom(ctx context.Context, tx store.Tx, a Actor, roomID string) (MixStream, error) {
	row, err := requireRoom(ctx, tx, a.App, roomID)
	if err != nil {
		return MixStream{}, err
	}
	if err := authorize(ctx, tx, a, row, RoleOwner); err != nil {
		return MixStream{}, err
	}
	r, err := fromRow(row)
	if err != nil {
		return MixStream{}, err
	}
	if !r.IsUnlimitedRoomEnabled {
		return MixStream{}, fmt.Errorf("%w: room %s", ErrMixNotEnabled, roomID)
	}
	m := MixStream{RoomID: roomID, Config: defaultMixConfig()}
	stored, err := tx.MixStreamGet(ctx, a.App, roomID)
	if errors.Is(err, store.ErrNotFound) {
		return m, nil
	}
	if err != nil {
		return MixStream{}, err
	}
	if err := json.Unmarshal(stored.Config, &m.Config); err != nil {
		return MixStream{}, fmt.Errorf("mix stream of room %s: %w", roomID, err)
	}
	m.UpdateTime, m.ResumeCount, m.ResumeTime = stored.UpdatedAt, stored.Resumes, stored.ResumedAt
	return m, nil
}

func (s *Service) putMix(ctx context.Context, tx store.Tx, app uint64, m MixStream) error {
	b, err := json.Marshal(m.Config)
	if err != nil {
		return err
	}
	return tx.MixStreamPut(ctx, store.MixStream{App: app, RoomID: m.RoomID, Config: b, UpdatedAt: m.UpdateTime,
		Resumes: m.ResumeCount, ResumedAt: m.ResumeTime})
}

// SetMixStream keeps cfg as the room's mix configuration (set_mix_stream) and returns it
// with its defaults filled. The room must have IsUnlimitedRoomEnabled (ErrMixNotEnabled).
func (s *Service) SetMixStream(ctx context.Context, a Actor, roomID string, cfg MixStreamConfig) (MixStream, error) {
	if err := ValidateRoomID(roomID); err != nil {
		return MixStream{}, err
	}
	if err := cfg.normalize(roomID); err != nil {
		return MixStream{}, err
	}
	var m MixStream
	err := s.store.Tx(ctx, func(tx store.Tx) error {
		var err error
		if m, err = s.mixRoom(ctx, tx, a, roomID); err != nil {
			return err
		}
		m.Config, m.UpdateTime = cfg, s.now()
		return s.putMix(ctx, tx, a.App, m)
	})
	if err != nil {
		return MixStream{}, err
	}
	return m, nil
}

// ResumeMixTask restarts the room's mix task (resume_mcu_task): it counts the restart and
// returns the configuration the task runs with, the default one when none was set.
func (s *Service) ResumeMixTask(ctx context.Context, a Actor, roomID string) (MixStream, error) {
	if err := ValidateRoomID(roomID); err != nil {
		return MixStream{}, err
	}
	var m MixStream
	err := s.store.Tx(ctx, func(tx store.Tx) error {
		var err error
		if m, err = s.mixRoom(ctx, tx, a, roomID); err != nil {
			return err
		}
		m.ResumeCount++
		m.ResumeTime = s.now()
		return s.putMix(ctx, tx, a.App, m)
	})
	if err != nil {
		return MixStream{}, err
	}
	return m, nil
}
