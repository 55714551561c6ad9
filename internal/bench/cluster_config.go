package bench

import (
	"errors"

	"github.com/roomd/roomd/internal/config"
)

// clusterConfig makes cfg the configuration of node i of a cluster on one database.
//
// This build's configuration has no cluster section yet (it comes with the multi-node
// work, `cluster: {node: ...}`): until then several processes on one database would each
// believe they are alone, so --nodes above 1 is refused.
func clusterConfig(cfg *config.Config, i int) error {
	return errors.New("--nodes: this build's configuration has no cluster section (cluster: {node: ...}); several roomd processes cannot share one database yet")
}
