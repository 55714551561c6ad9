package rest

import (
	"context"
	"encoding/json"

	"github.com/roomd/roomd/internal/account"
	"github.com/roomd/roomd/internal/wirejson"
)

// The IM profile APIs the Manager uses for nick and avatar: portrait_get
// (https://www.tencentcloud.com/document/product/1047/34917) and portrait_set
// (https://www.tencentcloud.com/document/product/1047/34916). Like every IM API their
// payload sits at the top level of the envelope.

type profileItem struct {
	Tag   string          `json:"Tag"`
	Value json.RawMessage `json:"Value"`
}

func (h *Handler) portraitGet(ctx context.Context, c *call) (any, error) {
	var req struct {
		To_Account []string `json:"To_Account"`
		TagList    []string `json:"TagList"`
	}
	if err := c.decode(&req); err != nil {
		return nil, err
	}
	res, err := h.o.Accounts.GetProfiles(ctx, c.app.ID, req.To_Account, req.TagList)
	if err != nil {
		return nil, err
	}
	type userItem struct {
		To_Account  string        `json:"To_Account"`
		ProfileItem []profileItem `json:"ProfileItem"`
		ResultCode  int           `json:"ResultCode"`
		ResultInfo  string        `json:"ResultInfo"`
	}
	out := make([]userItem, len(res))
	for i, r := range res {
		items := make([]profileItem, len(r.Items))
		for j, it := range r.Items {
			items[j] = profileItem{Tag: it.Tag, Value: it.Value}
		}
		out[i] = userItem{To_Account: r.UserID, ProfileItem: items, ResultCode: r.Code, ResultInfo: r.Info}
	}
	return struct {
		UserProfileItem []userItem `json:"UserProfileItem"`
	}{out}, nil
}

func (h *Handler) portraitSet(ctx context.Context, c *call) (any, error) {
	var req struct {
		From_Account string        `json:"From_Account"`
		ProfileItem  []profileItem `json:"ProfileItem"`
	}
	if err := c.decode(&req); err != nil {
		return nil, err
	}
	items := make([]account.ProfileItem, len(req.ProfileItem))
	for i, it := range req.ProfileItem {
		items[i] = account.ProfileItem{Tag: it.Tag, Value: it.Value}
	}
	return nil, h.o.Accounts.SetProfile(ctx, c.app.ID, req.From_Account, items)
}

// jsonString is s as a JSON string value.
func jsonString(s string) json.RawMessage {
	b, _ := wirejson.Marshal(s)
	return b
}
