package room

import (
	"context"
	"fmt"
	"unicode/utf8"

	"github.com/roomd/roomd/internal/errcode"
	"github.com/roomd/roomd/internal/store"
)

// Limits of room metadata (spec rest-api.md §3.2).
const (
	MaxMetadataKeys       = 10
	MaxMetadataKeyBytes   = 50
	MaxMetadataValueBytes = 2 << 10
	// MaxMetadataTotalBytes bounds the sum of the byte lengths of every key and value of a
	// room (decisions.md: keys count towards the total).
	MaxMetadataTotalBytes = 16 << 10
)

// Metadata is one key/value pair of a room's metadata.
type Metadata = store.Metadata

func validateMetadataKey(k string) error {
	switch {
	case k == "":
		return errcode.Invalid("", "a metadata Key is empty")
	case len(k) > MaxMetadataKeyBytes:
		// The spec gives no code for a long key; 100002 names the broken field rule.
		return errcode.Invalid("", "metadata Key %.20q… is longer than %d bytes", k, MaxMetadataKeyBytes)
	case !utf8.ValidString(k):
		return errcode.Invalid("", "metadata Key is not valid UTF-8")
	}
	return nil
}

// SetMetadata inserts or updates keys of a room's metadata and publishes MetadataChanged
// with the pairs set (Live.CallbackAfterSetMetadata). The owner and room admins (and App
// admins) set metadata. The limits are checked on the room's
// metadata as it would be after the call; a rejected call changes nothing.
func (s *Service) SetMetadata(ctx context.Context, a Actor, id string, items []Metadata) error {
	if err := ValidateRoomID(id); err != nil {
		return err
	}
	if len(items) == 0 {
		return errcode.Invalid("Metadata", "is required")
	}
	seen := make(map[string]bool, len(items))
	for _, m := range items {
		if err := validateMetadataKey(m.Key); err != nil {
			return err
		}
		if seen[m.Key] {
			return errcode.Invalid("", "metadata Key %q appears twice", m.Key)
		}
		seen[m.Key] = true
		if len(m.Value) > MaxMetadataValueBytes {
			return fmt.Errorf("%w: the value of %q is %d bytes, more than %d", ErrMetadataValueTooLarge, m.Key, len(m.Value), MaxMetadataValueBytes)
		}
		if !utf8.ValidString(m.Value) {
			return errcode.Invalid("", "the value of %q is not valid UTF-8", m.Key)
		}
	}
	if len(items) > MaxMetadataKeys {
		return fmt.Errorf("%w: %d keys in one request, at most %d per room", ErrMetadataTooManyKeys, len(items), MaxMetadataKeys)
	}
	return s.store.Tx(ctx, func(tx store.Tx) error {
		row, err := requireRoom(ctx, tx, a.App, id)
		if err != nil {
			return err
		}
		if err := authorize(ctx, tx, a, row, RoleAdmin); err != nil {
			return err
		}
		cur, err := tx.MetadataList(ctx, a.App, id, nil)
		if err != nil {
			return err
		}
		after := make(map[string]string, len(cur)+len(items))
		for _, m := range cur {
			after[m.Key] = m.Value
		}
		for _, m := range items {
			after[m.Key] = m.Value
		}
		if len(after) > MaxMetadataKeys {
			return fmt.Errorf("%w: the room would have %d keys, at most %d", ErrMetadataTooManyKeys, len(after), MaxMetadataKeys)
		}
		total := 0
		for k, v := range after {
			total += len(k) + len(v)
		}
		if total > MaxMetadataTotalBytes {
			return fmt.Errorf("%w: the room's metadata would be %d bytes, at most %d", ErrMetadataTooLarge, total, MaxMetadataTotalBytes)
		}
		if err := tx.MetadataPut(ctx, a.App, id, items); err != nil {
			return err
		}
		set := append([]Metadata(nil), items...)
		return s.publish(ctx, tx, a, MetadataChanged{EventHead: s.head(a, id), Set: set})
	})
}

// GetMetadata returns a room's metadata in the order keys were first set; with keys given,
// only those of them that exist.
func (s *Service) GetMetadata(ctx context.Context, app uint64, id string, keys []string) ([]Metadata, error) {
	if err := ValidateRoomID(id); err != nil {
		return nil, err
	}
	if _, err := requireRoom(ctx, s.store, app, id); err != nil {
		return nil, err
	}
	return s.store.MetadataList(ctx, app, id, keys)
}

// DelMetadata deletes keys of a room's metadata and publishes MetadataChanged with the keys
// that existed (Live.CallbackAfterDelMetadata); the owner and room admins (and App admins)
// delete metadata; keys that do not exist are ignored, and when none existed
// nothing changes and no callback is sent.
func (s *Service) DelMetadata(ctx context.Context, a Actor, id string, keys []string) error {
	if err := ValidateRoomID(id); err != nil {
		return err
	}
	if len(keys) == 0 {
		return errcode.Invalid("Keys", "is required")
	}
	for _, k := range keys {
		if k == "" {
			return errcode.Invalid("", "a metadata key in Keys is empty")
		}
	}
	return s.store.Tx(ctx, func(tx store.Tx) error {
		row, err := requireRoom(ctx, tx, a.App, id)
		if err != nil {
			return err
		}
		if err := authorize(ctx, tx, a, row, RoleAdmin); err != nil {
			return err
		}
		existing, err := tx.MetadataList(ctx, a.App, id, keys)
		if err != nil {
			return err
		}
		if len(existing) == 0 {
			return nil
		}
		// The callback lists the deleted keys in the order the request named them.
		has := make(map[string]bool, len(existing))
		for _, m := range existing {
			has[m.Key] = true
		}
		deleted := make([]string, 0, len(existing))
		for _, k := range keys {
			if has[k] {
				deleted = append(deleted, k)
				delete(has, k)
			}
		}
		if _, err := tx.MetadataDelete(ctx, a.App, id, deleted); err != nil {
			return err
		}
		return s.publish(ctx, tx, a, MetadataChanged{EventHead: s.head(a, id), Deleted: deleted})
	})
}
