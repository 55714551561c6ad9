package rest

import (
	"context"

	"github.com/roomd/roomd/internal/errcode"
)

type callbackRequest struct {
	Url                 string   `json:"Url"`
	CallbackCommandList []string `json:"CallbackCommandList"`
}

func (req *callbackRequest) check() error {
	if req.Url == "" {
		return errcode.InvalidBare("Url", "is required")
	}
	return nil
}

func (h *Handler) setCallback(ctx context.Context, c *call) (any, error) {
	var req callbackRequest
	if err := c.decode(&req); err != nil {
		return nil, err
	}
	if err := req.check(); err != nil {
		return nil, err
	}
	return nil, h.o.Callbacks.SetCallback(ctx, c.app.ID, req.Url, req.CallbackCommandList)
}

func (h *Handler) updateCallback(ctx context.Context, c *call) (any, error) {
	var req callbackRequest
	if err := c.decode(&req); err != nil {
		return nil, err
	}
	if err := req.check(); err != nil {
		return nil, err
	}
	return nil, h.o.Callbacks.UpdateCallback(ctx, c.app.ID, req.Url, req.CallbackCommandList)
}

func (h *Handler) getCallback(ctx context.Context, c *call) (any, error) {
	var req struct{}
	if err := c.decode(&req); err != nil {
		return nil, err
	}
	url, cmds, err := h.o.Callbacks.GetCallback(c.app.ID)
	if err != nil {
		return nil, err
	}
	return callbackRequest{Url: url, CallbackCommandList: cmds}, nil
}

func (h *Handler) setCallbackToken(ctx context.Context, c *call) (any, error) {
	var req struct {
		Token         *string `json:"Token"`
		IsTokenEnable *bool   `json:"IsTokenEnable"`
	}
	if err := c.decode(&req); err != nil {
		return nil, err
	}
	return nil, h.o.Callbacks.SetToken(ctx, c.app.ID, req.Token, req.IsTokenEnable)
}

func (h *Handler) deleteCallbackToken(ctx context.Context, c *call) (any, error) {
	var req struct{}
	if err := c.decode(&req); err != nil {
		return nil, err
	}
	return nil, h.o.Callbacks.DeleteToken(ctx, c.app.ID)
}
