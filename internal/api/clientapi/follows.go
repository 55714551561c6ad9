package clientapi

import (
	"context"

	"github.com/roomd/roomd/internal/api/clientws"
	"github.com/roomd/roomd/internal/room"
	"github.com/roomd/roomd/internal/store"
)

// The follow methods, named as Chat's V2TIMFriendshipManager (which TUILiveKit uses for its
// follow button): followUser, unfollowUser, checkFollowType, getMyFollowingList,
// getMyFollowersList and getMutualFollowersList. The connected user is always the
// follower (From_Account); the rules and codes are follow_add's and its siblings'.

type userIDListParams struct {
	UserIDList []string `json:"userIDList"`
}

// followOpResult is V2TIMFollowOperationResult; followTypeResult V2TIMFollowTypeCheckResult.
type followOpResult struct {
	UserID     string `json:"userID"`
	ResultCode int    `json:"resultCode"`
	ResultInfo string `json:"resultInfo"`
}

type followTypeResult struct {
	followOpResult
	FollowType int `json:"followType"`
}

func opResults(res []room.FollowResult) map[string]any {
	out := make([]followOpResult, len(res))
	for i, r := range res {
		out[i] = followOpResult{UserID: r.UserID, ResultCode: r.Code, ResultInfo: r.Info}
	}
	return map[string]any{"resultList": out}
}

func (api *API) followUser(ctx context.Context, s *clientws.Session, p userIDListParams) (any, error) {
	res, err := api.o.Rooms.FollowAdd(ctx, api.actor(s), s.UserID(), p.UserIDList)
	if err != nil {
		return nil, err
	}
	return opResults(res), nil
}

func (api *API) unfollowUser(ctx context.Context, s *clientws.Session, p userIDListParams) (any, error) {
	res, err := api.o.Rooms.FollowDelete(ctx, api.actor(s), s.UserID(), p.UserIDList)
	if err != nil {
		return nil, err
	}
	return opResults(res), nil
}

func (api *API) checkFollowType(ctx context.Context, s *clientws.Session, p userIDListParams) (any, error) {
	res, err := api.o.Rooms.FollowCheck(ctx, api.actor(s), s.UserID(), p.UserIDList)
	if err != nil {
		return nil, err
	}
	out := make([]followTypeResult, len(res))
	for i, r := range res {
		out[i] = followTypeResult{followOpResult{UserID: r.UserID, ResultCode: r.Code, ResultInfo: r.Info}, r.FollowType}
	}
	return map[string]any{"resultList": out}, nil
}

type followListParams struct {
	NextCursor string `json:"nextCursor"`
}

// followUserInfo is one user of a follow list: V2TIMFollowInfo's names plus when the
// relation began.
type followUserInfo struct {
	UserID     string `json:"userID"`
	NickName   string `json:"nickName"`
	FaceURL    string `json:"faceUrl"`
	FollowTime int64  `json:"followTime"`
}

// followList returns a method serving one kind of follow list of the connected user.
func (api *API) followList(kind store.FollowKind) func(context.Context, *clientws.Session, followListParams) (any, error) {
	return func(ctx context.Context, s *clientws.Session, p followListParams) (any, error) {
		page, err := api.o.Rooms.FollowGet(ctx, api.actor(s), s.UserID(), int(kind), p.NextCursor, 0)
		if err != nil {
			return nil, err
		}
		users := make([]followUserInfo, len(page.Users))
		for i, u := range page.Users {
			users[i] = followUserInfo{UserID: u.UserID, NickName: u.Nick, FaceURL: u.FaceURL, FollowTime: u.Since.Unix()}
		}
		return map[string]any{"userInfoList": users, "nextCursor": page.Next}, nil
	}
}
