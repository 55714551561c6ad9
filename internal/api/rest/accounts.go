package rest

import (
	"context"

	"github.com/roomd/roomd/internal/account"
)

// accountItem is one account to import. An absent (or null) Nick or FaceUrl keeps the
// stored value of an account imported before.
type accountItem struct {
	UserID  string  `json:"UserID"`
	Nick    *string `json:"Nick"`
	FaceUrl *string `json:"FaceUrl"`
}

func (h *Handler) accountImport(ctx context.Context, c *call) (any, error) {
	var req accountItem
	if err := c.decode(&req); err != nil {
		return nil, err
	}
	return nil, h.o.Accounts.Import(ctx, c.app.ID, account.Profile{UserID: req.UserID, Nick: req.Nick, FaceURL: req.FaceUrl})
}

func (h *Handler) multiAccountImport(ctx context.Context, c *call) (any, error) {
	var req struct {
		AccountList []accountItem `json:"AccountList"`
		Accounts    []string      `json:"Accounts"` // legacy form
	}
	if err := c.decode(&req); err != nil {
		return nil, err
	}
	var ps []account.Profile
	for _, a := range req.AccountList {
		ps = append(ps, account.Profile{UserID: a.UserID, Nick: a.Nick, FaceURL: a.FaceUrl})
	}
	for _, id := range req.Accounts {
		ps = append(ps, account.Profile{UserID: id})
	}
	failed, err := h.o.Accounts.ImportMany(ctx, c.app.ID, ps)
	if err != nil {
		return nil, err
	}
	if failed == nil {
		failed = []string{}
	}
	return struct {
		FailAccounts []string `json:"FailAccounts"`
	}{failed}, nil
}

type userIDItem struct {
	UserID string `json:"UserID"`
}

func userIDs(items []userIDItem) []string {
	ids := make([]string, len(items))
	for i, it := range items {
		ids[i] = it.UserID
	}
	return ids
}

func (h *Handler) accountCheck(ctx context.Context, c *call) (any, error) {
	var req struct {
		CheckItem []userIDItem `json:"CheckItem"`
	}
	if err := c.decode(&req); err != nil {
		return nil, err
	}
	res, err := h.o.Accounts.Check(ctx, c.app.ID, userIDs(req.CheckItem))
	if err != nil {
		return nil, err
	}
	type item struct {
		UserID        string `json:"UserID"`
		ResultCode    int    `json:"ResultCode"`
		ResultInfo    string `json:"ResultInfo"`
		AccountStatus string `json:"AccountStatus"`
	}
	out := make([]item, len(res))
	for i, r := range res {
		out[i] = item{UserID: r.UserID, ResultCode: r.Code, ResultInfo: r.Info, AccountStatus: "NotImported"}
		if r.Imported {
			out[i].AccountStatus = "Imported"
		}
	}
	return struct {
		ResultItem []item `json:"ResultItem"`
	}{out}, nil
}

func (h *Handler) accountDelete(ctx context.Context, c *call) (any, error) {
	var req struct {
		DeleteItem []userIDItem `json:"DeleteItem"`
	}
	if err := c.decode(&req); err != nil {
		return nil, err
	}
	res, err := h.o.Accounts.Delete(ctx, c.app.ID, userIDs(req.DeleteItem))
	if err != nil {
		return nil, err
	}
	type item struct {
		ResultCode int    `json:"ResultCode"`
		ResultInfo string `json:"ResultInfo"`
		UserID     string `json:"UserID"`
	}
	out := make([]item, len(res))
	for i, r := range res {
		out[i] = item{ResultCode: r.Code, ResultInfo: r.Info, UserID: r.UserID}
	}
	return struct {
		ResultItem []item `json:"ResultItem"`
	}{out}, nil
}
