// Package roomdclient holds the JavaScript client of roomd's client API for roomd to serve:
// the one copy of roomd-client.js and roomd-client.d.ts in the repository, which is also the
// npm package "roomd-client" of this directory (package.json). roomd serves them at
// /v1/client.js and /v1/client.d.ts (package internal/webclient).
package roomdclient

import _ "embed"

// JS is roomd-client.js, an ES module.
//
//go:embed roomd-client.js
var JS []byte

// Types is roomd-client.d.ts, the module's TypeScript declarations.
//
//go:embed roomd-client.d.ts
var Types []byte
