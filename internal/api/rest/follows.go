package rest

import (
	"context"

	"github.com/roomd/roomd/internal/account"
	"github.com/roomd/roomd/internal/room"
)

// The follow APIs that Live shares with Chat: follow_add
// (https://www.tencentcloud.com/document/product/1047/70345), follow_delete, follow_check
// (https://www.tencentcloud.com/document/product/1047/70349) and follow_get
// (https://www.tencentcloud.com/document/product/1047/70347). IM APIs: the payload sits at
// the top level; 30001 for a bad request, 30003 for a From_Account that is not imported.

// followResultItem is one To_Account of follow_add, follow_delete and follow_check.
type followResultItem struct {
	To_Account string `json:"To_Account"`
	ResultCode int    `json:"ResultCode"`
	ResultInfo string `json:"ResultInfo"`
}

func followResults(res []room.FollowResult) any {
	out := make([]followResultItem, len(res))
	for i, r := range res {
		out[i] = followResultItem{To_Account: r.UserID, ResultCode: r.Code, ResultInfo: r.Info}
	}
	return struct {
		ResultItem []followResultItem `json:"ResultItem"`
	}{out}
}

func (h *Handler) followAdd(ctx context.Context, c *call) (any, error) {
	var req struct {
		From_Account string `json:"From_Account"`
		FollowItem   []struct {
			To_Account string `json:"To_Account"`
		} `json:"FollowItem"`
	}
	if err := c.decode(&req); err != nil {
		return nil, err
	}
	to := make([]string, len(req.FollowItem))
	for i, it := range req.FollowItem {
		to[i] = it.To_Account
	}
	res, err := h.o.Rooms.FollowAdd(ctx, c.actor(), req.From_Account, to)
	if err != nil {
		return nil, err
	}
	return followResults(res), nil
}

// followAccountsRequest is the body of follow_delete and follow_check.
type followAccountsRequest struct {
	From_Account string   `json:"From_Account"`
	To_Account   []string `json:"To_Account"`
}

func (h *Handler) followDelete(ctx context.Context, c *call) (any, error) {
	var req followAccountsRequest
	if err := c.decode(&req); err != nil {
		return nil, err
	}
	res, err := h.o.Rooms.FollowDelete(ctx, c.actor(), req.From_Account, req.To_Account)
	if err != nil {
		return nil, err
	}
	return followResults(res), nil
}

func (h *Handler) followCheck(ctx context.Context, c *call) (any, error) {
	var req followAccountsRequest
	if err := c.decode(&req); err != nil {
		return nil, err
	}
	res, err := h.o.Rooms.FollowCheck(ctx, c.actor(), req.From_Account, req.To_Account)
	if err != nil {
		return nil, err
	}
	type item struct {
		To_Account string `json:"To_Account"`
		ResultCode int    `json:"ResultCode"`
		ResultInfo string `json:"ResultInfo"`
		FollowType int    `json:"FollowType"`
	}
	out := make([]item, len(res))
	for i, r := range res {
		out[i] = item{To_Account: r.UserID, ResultCode: r.Code, ResultInfo: r.Info, FollowType: r.FollowType}
	}
	return struct {
		ResultItem []item `json:"ResultItem"`
	}{out}, nil
}

func (h *Handler) followGet(ctx context.Context, c *call) (any, error) {
	var req struct {
		From_Account string `json:"From_Account"`
		FollowType   int    `json:"FollowType"`
		StartCursor  string `json:"StartCursor"`
		WantNum      int    `json:"WantNum"`
	}
	if err := c.decode(&req); err != nil {
		return nil, err
	}
	page, err := h.o.Rooms.FollowGet(ctx, c.actor(), req.From_Account, req.FollowType, req.StartCursor, req.WantNum)
	if err != nil {
		return nil, err
	}
	type item struct {
		To_Account  string        `json:"To_Account"`
		FollowTime  int64         `json:"FollowTime"`
		ProfileItem []profileItem `json:"ProfileItem"`
	}
	out := make([]item, len(page.Users))
	for i, u := range page.Users {
		out[i] = item{To_Account: u.UserID, FollowTime: u.Since.Unix(), ProfileItem: []profileItem{
			{Tag: account.TagNick, Value: jsonString(u.Nick)},
			{Tag: account.TagImage, Value: jsonString(u.FaceURL)},
		}}
	}
	return struct {
		FollowItem []item `json:"FollowItem"`
		NextCursor string `json:"NextCursor"`
	}{out, page.Next}, nil
}
