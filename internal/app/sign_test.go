package app_test

import "github.com/roomd/roomd/internal/webhook"

func webhookSign(token string, sec int64) string { return webhook.Sign(token, sec) }
