package rest

import (
	"context"

	"github.com/roomd/roomd/internal/room"
)

// metadataItem is one {"Key", "Value"} pair of the metadata APIs.
type metadataItem struct {
	Key   string `json:"Key"`
	Value string `json:"Value"`
}

func (h *Handler) setRoomMetadata(ctx context.Context, c *call) (any, error) {
	var req struct {
		RoomId   string         `json:"RoomId"`
		Metadata []metadataItem `json:"Metadata"`
	}
	if err := c.decode(&req); err != nil {
		return nil, err
	}
	items := make([]room.Metadata, len(req.Metadata))
	for i, m := range req.Metadata {
		items[i] = room.Metadata{Key: m.Key, Value: m.Value}
	}
	return nil, h.o.Rooms.SetMetadata(ctx, c.actor(), req.RoomId, items)
}

func (h *Handler) getRoomMetadata(ctx context.Context, c *call) (any, error) {
	var req struct {
		RoomId string   `json:"RoomId"`
		Keys   []string `json:"Keys"`
	}
	if err := c.decode(&req); err != nil {
		return nil, err
	}
	ms, err := h.o.Rooms.GetMetadata(ctx, c.app.ID, req.RoomId, req.Keys)
	if err != nil {
		return nil, err
	}
	out := struct {
		Metadata []metadataItem `json:"Metadata"`
	}{make([]metadataItem, len(ms))}
	for i, m := range ms {
		out.Metadata[i] = metadataItem{Key: m.Key, Value: m.Value}
	}
	return out, nil
}

func (h *Handler) delRoomMetadata(ctx context.Context, c *call) (any, error) {
	var req struct {
		RoomId string   `json:"RoomId"`
		Keys   []string `json:"Keys"`
	}
	if err := c.decode(&req); err != nil {
		return nil, err
	}
	return nil, h.o.Rooms.DelMetadata(ctx, c.actor(), req.RoomId, req.Keys)
}
