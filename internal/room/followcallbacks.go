package room

import "github.com/roomd/roomd/internal/webhook"

// followCallback returns the After-callback of a follow event, in the style of callback
// (callbacks.go): Follow.CallbackAfterFollowAdd with FollowList for follows,
// Follow.CallbackAfterFollowDelete with a plain To_Account array for unfollows. EventTime is
// the event's Time. Neither body has an Operator_Account.
func followCallback(e FollowsChanged) (webhook.Command, any) {
	if e.Added {
		list := make([]webhook.FollowAccount, len(e.Users))
		for i, u := range e.Users {
			list[i] = webhook.FollowAccount{To_Account: u}
		}
		return webhook.AfterFollowAdd, webhook.FollowAdd{From_Account: e.From, FollowList: list, EventTime: e.Time.UnixMilli()}
	}
	return webhook.AfterFollowDelete, webhook.FollowDelete{From_Account: e.From, To_Account: e.Users, EventTime: e.Time.UnixMilli()}
}
