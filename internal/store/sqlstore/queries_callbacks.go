package sqlstore

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/roomd/roomd/internal/store"
)

// The queries of callback configurations (store.CallbackConfigReader,
// store.CallbackConfigWriter). Schema: migrations/0001_init.sql.

func (r Reader) CallbackConfigGet(ctx context.Context, app uint64) (store.CallbackConfig, error) {
	return queryOne(ctx, r.q, "get callback config", scanCallbackConfig,
		`SELECT sdkappid, url, commands, token, token_enabled, updated_at FROM callback_configs WHERE sdkappid = ?`, int64(app))
}

func scanCallbackConfig(sc scanner) (store.CallbackConfig, error) {
	var (
		c        store.CallbackConfig
		app      int64
		commands string
		enabled  int64
		updated  int64
	)
	if err := sc.Scan(&app, &c.URL, &commands, &c.Token, &enabled, &updated); err != nil {
		return c, err
	}
	c.App = uint64(app)
	c.TokenEnabled = enabled != 0
	c.UpdatedAt = fromMS(updated)
	if err := json.Unmarshal([]byte(commands), &c.Commands); err != nil {
		return c, fmt.Errorf("decode command list: %w", err)
	}
	return c, nil
}

func (r Reader) CallbackConfigList(ctx context.Context) ([]store.CallbackConfig, error) {
	return queryList(ctx, r.q, "list callback configs", scanCallbackConfig,
		`SELECT sdkappid, url, commands, token, token_enabled, updated_at FROM callback_configs ORDER BY sdkappid`)
}

func (t *Tx) CallbackConfigPut(ctx context.Context, c store.CallbackConfig) error {
	cmds := c.Commands
	if cmds == nil {
		cmds = []string{}
	}
	b, err := json.Marshal(cmds)
	if err != nil {
		return err
	}
	_, err = t.q.Exec(ctx, `INSERT INTO callback_configs (sdkappid, url, commands, token, token_enabled, updated_at) VALUES (?, ?, ?, ?, ?, ?)
		ON CONFLICT (sdkappid) DO UPDATE SET url = excluded.url, commands = excluded.commands, token = excluded.token,
		token_enabled = excluded.token_enabled, updated_at = excluded.updated_at`,
		int64(c.App), c.URL, string(b), c.Token, boolInt(c.TokenEnabled), ms(c.UpdatedAt))
	if err != nil {
		return fmt.Errorf("put callback config: %w", err)
	}
	return nil
}
