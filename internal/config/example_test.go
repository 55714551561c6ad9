package config_test

import (
	"fmt"

	"github.com/roomd/roomd/internal/config"
)

// Parse reports every problem of a configuration at once, each with its YAML path.
func ExampleParse() {
	_, err := config.Parse([]byte(`
listen: localhost
store: {driver: postgres}
apps:
  - sdkappid: 1400000000
    secret_key: "…"
    callback:
      url: example.com/callback
      timeout: 90s
      tokn: abc
`))
	fmt.Println(err)
	// Output:
	// invalid configuration (5 problems):
	//   apps[0].callback.tokn: unknown key (line 10); valid keys here: url, commands, token, token_enabled, timeout, signing_secret, previous_signing_secret, previous_signing_secret_until, retry, before_send_msg_on_failure, max_room_hold, breaker, max_per_second, retention
	//   listen: must be host:port such as 127.0.0.1:8080 or :8080, got "localhost"
	//   store.dsn: required when store.driver is postgres
	//   apps[0].callback.url: must start with http:// or https://
	//   apps[0].callback.timeout: must be greater than 0 and at most 1m0s, got 1m30s
}

// EnvVars lists the environment variables for --help and the README.
func ExampleEnvVars() {
	for _, v := range config.EnvVars[:3] {
		fmt.Printf("%-16s %s\n", v.Name, v.Description)
	}
	// Output:
	// ROOMD_CONFIG     path of the YAML configuration file (the --config flag wins over it)
	// ROOMD_LISTEN     address to serve on, as host:port (default 127.0.0.1:8080)
	// ROOMD_DATA_DIR   directory for the SQLite database and the development app's key (default ./roomd-data)
}
