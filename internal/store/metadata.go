package store

import "context"

// MetadataReader holds the read queries of a room's metadata.
type MetadataReader interface {
	// MetadataList returns a room's metadata in the order the keys were first set; with keys
	// given, only those that exist (in the same order).
	MetadataList(ctx context.Context, app uint64, roomID string, keys []string) ([]Metadata, error)
}

// MetadataWriter holds the writes of a room's metadata.
type MetadataWriter interface {
	// MetadataPut inserts or updates keys of a room's metadata; new keys go after the
	// existing ones.
	MetadataPut(ctx context.Context, app uint64, roomID string, items []Metadata) error
	// MetadataDelete deletes the named keys of a room's metadata and returns how many
	// existed.
	MetadataDelete(ctx context.Context, app uint64, roomID string, keys []string) (int, error)
}

// Metadata is one key/value pair of a room's metadata.
type Metadata struct {
	Key   string
	Value string
}
